; checks.scm - the GIMP side of tests/test_gimp.sh, for GIMP 2.10 and 3.0
; (after compat-<version>.scm).  Each case loads a sample, prepares it,
; dumps the image (test-colorize-dump), runs a colorize procedure under
; `catch`, and dumps it again with a note "ok" or "error"; the checks on
; the dumps are made by check-dump afterwards.  Most cases use the
; smallest working size (64) to keep the test quick; "rgb" and "indexed"
; use the default (0).  Every call passes the vividness (the last
; argument) but "rgb" and the first folder call, which leave it out as
; callers from before it do (GIMP 3.0; GIMP 2.10 cannot, and passes -1).
; The shell defines t-samples, t-out, t-bad-weights, t-class-weights (a
; colour-class ResNet18, tests/gimp/class-weights.c), t-fixtures (the
; colour hints PNGs) and t-dir-outputs, and loads common.scm and
; hints-lib.scm, before this file.

(define (t-case name sample prepare proc ws wf vv)
  (let* ((img (t-load (t-path t-samples sample)))
         (drw (prepare img (t-layer img))))
    (t-dump img (string-append name "-before") "")
    (t-dump img (string-append name "-after")
            (catch "error" (t-colorize proc img drw ws 1.0 wf vv) "ok"))
    (gimp-image-delete img)))


(t-case "rgb" "castle.png" as-rgb plug-in-colorize-resnet18 0 "" 'omit)
(t-case "gray" "portrait.png" as-is plug-in-colorize-cnn 64 "" -1.0)
(t-case "alpha" "church.png"
        (lambda (img drw)
          (gimp-layer-add-alpha drw)
          (gimp-image-select-ellipse img CHANNEL-OP-REPLACE 10 10 90 70)
          (gimp-drawable-edit-clear drw)
          (gimp-selection-none img)
          drw)
        plug-in-colorize-resnet18 64 "" -1.0)
(t-case "offsets" "hills.png"
        (lambda (img drw)
          (gimp-image-convert-rgb img)
          (gimp-image-resize img 260 180 25 15)
          drw)
        plug-in-colorize-cnn 128 "" -1.0)
(t-case "selection" "landscape.png"
        (lambda (img drw)
          (gimp-image-convert-rgb img)
          (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 20 30 90 50)
          drw)
        plug-in-colorize-resnet18 64 "" -1.0)
(t-case "feather" "castle.png"
        (lambda (img drw)
          (gimp-image-convert-rgb img)
          (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 30 40 60 80)
          (gimp-selection-feather img 16)
          drw)
        plug-in-colorize-cnn 64 "" -1.0)
(t-case "u16" "church.png"
        (lambda (img drw)
          (gimp-image-convert-rgb img)
          (gimp-image-convert-precision img t-u16)
          drw)
        plug-in-colorize-resnet18 64 "" -1.0)
(t-case "float" "hills.png"
        (lambda (img drw)
          (gimp-image-convert-precision img t-float)
          drw)
        plug-in-colorize-cnn 64 "" -1.0)
(t-case "indexed" "portrait.png"
        (lambda (img drw)
          (gimp-image-convert-rgb img)
          (gimp-image-convert-indexed img CONVERT-DITHER-NONE
                                      CONVERT-PALETTE-GENERATE 32 FALSE
                                      FALSE "")
          drw)
        plug-in-colorize-resnet18 0 "" -1.0)
(t-case "group" "landscape.png"
        (lambda (img drw)
          (let ((g (t-group img)))
            (gimp-image-reorder-item img drw g 0)
            g))
        plug-in-colorize-cnn 0 "" -1.0)
(t-case "badweights" "landscape.png" as-is plug-in-colorize-cnn 0
        t-bad-weights -1.0)

; The folder procedure: good images and a corrupt file.
(let ((img (t-load (t-path t-samples "castle.png"))))
  (t-dump img "dir-result"
          (catch "error"
                 (t-dir "cnn" (t-path t-out "dir-in") (t-path t-out "dir-out")
                        'omit)
                 "ok"))
  (gimp-image-delete img))
(for-each
  (lambda (name)
    (let ((img (t-load (t-path (t-path t-out "dir-out") name))))
      (t-dump img (string-append "dirout-" name) "")
      (gimp-image-delete img)))
  t-dir-outputs)
;
; Vividness.  The colour-class model at vividness 0, 1 and the default (-1):
; more chroma at 1 than at 0; a regression CNN (a,b head) at 0 and 1: the
; same pixels; out-of-range values refused (GIMP 3.0 itself refuses 1.5,
; outside the argument's -1..1; the plug-in refuses -0.5).
(t-case "vivid-0" "castle.png" as-is plug-in-colorize-resnet18 64
        t-class-weights 0.0)
(t-case "vivid-1" "castle.png" as-is plug-in-colorize-resnet18 64
        t-class-weights 1.0)
(t-case "vivid-default" "castle.png" as-is plug-in-colorize-resnet18 64
        t-class-weights -1.0)
(t-case "regression-0" "hills.png" as-is plug-in-colorize-cnn 64
        t-regression-weights 0.0)
(t-case "regression-1" "hills.png" as-is plug-in-colorize-cnn 64
        t-regression-weights 1.0)
(t-case "vivid-bad-low" "hills.png" as-is plug-in-colorize-cnn 64 "" -0.5)
(t-case "vivid-bad-high" "hills.png" as-is plug-in-colorize-resnet18 64
        t-class-weights 1.5)

; The folder procedure with the colour-class model, on OUT/vdir-in (one
; image): at vividness 0 into OUT/vdir-0, at 1 into OUT/vdir-1; -0.5 is
; refused before anything is written (no OUT/vdir-bad).
(for-each
  (lambda (case)
    (let ((img (t-load (t-path t-samples "castle.png"))))
      (t-dump img (string-append (car case) "-result")
              (catch "error"
                     (t-dir t-class-weights (t-path t-out "vdir-in")
                            (t-path t-out (car case)) (cadr case))
                     "ok"))
      (gimp-image-delete img)))
  '(("vdir-0" 0.0) ("vdir-1" 1.0) ("vdir-bad" -0.5)))
(for-each
  (lambda (name)
    (catch "missing"
           (let ((img (t-load (t-path (t-path t-out name) "hills.png"))))
             (t-dump img (string-append name "-hills") "")
             (gimp-image-delete img))))
  '("vdir-0" "vdir-1"))
;
; Colour hints (the filters' hints and hints-only arguments; the helpers
; are in hints-lib.scm).
(t-hints-case "hints" "castle.png" as-rgb plug-in-colorize-resnet18 64
              (t-add-hints "hints-castle.png" 0 0) FALSE)
; (An empty hints layer against none: exact.scm.)
(t-hints-case "hints-only" "castle.png" as-rgb plug-in-colorize-cnn 64
              (t-add-hints "hints-castle.png" 0 0) TRUE)
; The photo at 25,15 in a float image, the hints layer (120 x 100) at
; -10,70: only the overlap counts (one stroke straddles the photo's left
; edge, one lies below it).
(t-hints-case "hints-offset" "hills.png"
              (lambda (img drw)
                (gimp-image-convert-rgb img)
                (gimp-image-resize img 260 180 25 15)
                (gimp-image-convert-precision img t-float)
                drw)
              plug-in-colorize-cnn 128 (t-add-hints "hints-hills.png" -10 70)
              FALSE)
(t-hints-case "hints-self" "castle.png" as-rgb plug-in-colorize-cnn 64
              t-self-hints FALSE)
(t-hints-case "hints-only-none" "castle.png" as-rgb plug-in-colorize-cnn 64
              t-no-hints TRUE)

; The folder procedure with hints (plug-in-colorize-dir-hints): OUT/hdir-in
; holds castle, church and hills; OUT/hdir-hints a good castle.png, a
; hills.png of the wrong size and nothing for church.  Then the model
; "hints-only" on OUT/hodir-in (castle only), and plug-in-colorize-dir
; refusing "hints-only" (it has no hints folder).
(t-dir-hints-case "hdir" "cnn" "hdir-in" "hdir-hints")
(t-dir-hints-case "hodir" "hints-only" "hodir-in" "hdir-hints")
(t-dump-file (t-path t-out "hdir/castle.png") "hdir-castle")
(t-dump-file (t-path t-out "hdir/church.png") "hdir-church")
(t-dump-file (t-path t-out "hodir/castle.png") "hodir-castle")
(t-dump-file (t-path t-out "hdir-hints/castle.png") "hdir-hints-castle")
(let ((img (t-load (t-path t-samples "castle.png"))))
  (t-dump img "dir-hints-only-result"
          (catch "error"
                 (t-dir "hints-only" (t-path t-out "hodir-in")
                        (t-path t-out "dir-hints-only") -1.0)
                 "ok"))
  (gimp-image-delete img))

; Outputs keep their input's kind (format, alpha or not, bit depth, JPEG
; quality, ICC profile): OUT/kinds-in, made by tests/test_gimp.sh with
; ImageMagick, into OUT/kinds-out; test_gimp.sh reads them with identify.
(let ((img (t-load (t-path t-samples "castle.png"))))
  (t-dump img "kinds-result"
          (catch "error"
                 (t-dir "cnn" (t-path t-out "kinds-in")
                        (t-path t-out "kinds-out") -1.0)
                 "ok"))
  (gimp-image-delete img))
