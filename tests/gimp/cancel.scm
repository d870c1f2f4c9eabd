; cancel.scm - the GIMP side of the cancel and GIF checks of
; tests/test_gimp.sh, for GIMP 2.10 and 3.0 (after compat-<version>.scm).
; The shell defines t-samples, t-out, t-cancel-file, t-gif-name and
; t-base-type (gimp-image-base-type or gimp-image-get-base-type) before
; this file, and runs GIMP with $COLORIZE_TEST_CANCEL_FILE = t-cancel-file.
;
; Cancel cases: the image is prepared and dumped (NAME-before), marked
; clean, then t-cancel-file gets a progress fraction and the filter runs:
; at its first progress report >= that fraction the plug-in kills itself
; with SIGKILL, as GIMP kills a plug-in whose progress the user cancels.
; The image is then dumped again with the call's note (NAME-after), and
; NAME.dirty says whether the image is still clean: no undo step was
; pushed.  check-dump error compares the two dumps.
;
; Then a run with the hook past the last report must complete
; (past-last), the folder procedure is killed in its first file
; (cancel-dir-result), and runs on a folder holding a GIF: gif-result
; holds the call's note, gif-base the output's base type as GIMP loads
; it, and the dump gifout the output converted to RGB.
(define (t-path dir name) (string-append dir "/" name))
(define (t-dump img name note)
  (test-colorize-dump RUN-NONINTERACTIVE img (t-path t-out name) note))
(define (t-write name text)
  (let ((port (open-output-file name)))
    (display text port)
    (close-output-port port)))
(define (t-cancel-at text) (t-write t-cancel-file text))
(define (t-true? v) (or (eq? v #t) (and (number? v) (= v 1))))

(define (t-cancel-case name sample prepare proc ws at)
  (let* ((img (t-load (t-path t-samples sample)))
         (drw (prepare img (t-layer img))))
    (t-dump img (string-append name "-before") "")
    (gimp-image-clean-all img)
    (t-cancel-at at)
    (let ((note (catch "error" (t-colorize proc img drw ws 1.0 "" -1.0) "ok")))
      (t-cancel-at "")
      (t-write (t-path t-out (string-append name ".dirty"))
               (if (t-true? (car (gimp-image-is-dirty img))) "dirty" "clean"))
      (t-dump img (string-append name "-after") note))
    (gimp-image-delete img)))

(define (as-rgb img drw) (gimp-image-convert-rgb img) drw)
(define (as-is img drw) drw)

; At the first report (0), in the middle of the network (0.5), and at the
; last report (0.85, just before the point of no return); a grayscale and
; an indexed image need an RGB conversion, the selection a mask.
(t-cancel-case "cancel-first" "portrait.png" as-is plug-in-colorize-cnn 64 "0")
(t-cancel-case "cancel-middle" "landscape.png"
               (lambda (img drw)
                 (gimp-image-convert-rgb img)
                 (gimp-image-select-rectangle img CHANNEL-OP-REPLACE
                                              20 30 90 50)
                 drw)
               plug-in-colorize-resnet18 64 "0.5")
(t-cancel-case "cancel-last" "portrait.png" as-is plug-in-colorize-cnn 0
               "0.8")
(t-cancel-case "cancel-indexed" "church.png"
               (lambda (img drw)
                 (gimp-image-convert-rgb img)
                 (gimp-image-convert-indexed img CONVERT-DITHER-NONE
                                             CONVERT-PALETTE-GENERATE 32
                                             FALSE FALSE "")
                 drw)
               plug-in-colorize-resnet18 64 "0.8")

; Past the last report: nothing may report progress once the image is
; being changed (it would make the write cancellable), so with the hook
; at 0.86 the run completes, and works after the killed runs.
(let* ((img (t-load (t-path t-samples "portrait.png")))
       (drw (t-layer img)))
  (t-dump img "past-last-before" "")
  (t-cancel-at "0.86")
  (let ((note (catch "error"
                     (t-colorize plug-in-colorize-cnn img drw 64 1.0 "" -1.0)
                     "ok")))
    (t-cancel-at "")
    (t-dump img "past-last-after" note))
  (gimp-image-delete img))

; The folder procedure killed in its first file's network.
(t-cancel-at "0.5")
(t-write (t-path t-out "cancel-dir-result")
         (catch "error"
                (t-dir "cnn" (t-path t-out "cancel-dir-in")
                       (t-path t-out "cancel-dir-out") -1.0)
                "ok"))
(t-cancel-at "")

; The folder procedure on a GIF.
(t-write (t-path t-out "gif-result")
         (catch "error"
                (t-dir "cnn" (t-path t-out "gif-in") (t-path t-out "gif-out")
                       -1.0)
                "ok"))
(let ((img (t-load (t-path (t-path t-out "gif-out") t-gif-name))))
  (t-write (t-path t-out "gif-base")
           (number->string (car (t-base-type img))))
  (gimp-image-convert-rgb img)
  (t-dump img "gifout" "")
  (gimp-image-delete img))
