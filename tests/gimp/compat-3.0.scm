; compat-3.0.scm - the few Script-Fu calls that differ between GIMP 2.10
; and 3.0, for tests/gimp/checks.scm (GIMP 3.0 side).
(define (t-load path) (car (gimp-file-load RUN-NONINTERACTIVE path)))
(define (t-layer img) (vector-ref (car (gimp-image-get-layers img)) 0))
; vv is the vividness; 'omit leaves the argument out, as a caller from
; before it does (GIMP 3.0 then passes its default, -1).
; The filters' last two arguments are the colour hints layer (-1 = none)
; and hints-only; callers from before them leave them out ('omit leaves
; out the vividness too).
(define (t-colorize-hints proc img drw ws st wf vv hints only)
  (proc RUN-NONINTERACTIVE img (vector drw) ws st wf vv hints only))
(define (t-colorize proc img drw ws st wf vv)
  (if (eq? vv 'omit)
      (proc RUN-NONINTERACTIVE img (vector drw) ws st wf)
      (t-colorize-hints proc img drw ws st wf vv -1 FALSE)))
(define (t-load-layer img path) (car (gimp-file-load-layer RUN-NONINTERACTIVE img path)))
(define (t-new-layer img w h name)
  (car (gimp-layer-new img name w h RGBA-IMAGE 100 LAYER-MODE-NORMAL)))
(define (t-dir model in out vv)
  (if (eq? vv 'omit)
      (plug-in-colorize-dir RUN-NONINTERACTIVE model in out)
      (plug-in-colorize-dir RUN-NONINTERACTIVE model in out vv)))
(define (t-group img)
  (let ((g (car (gimp-group-layer-new img "group"))))
    (gimp-image-insert-layer img g 0 0)
    g))
(define t-u16 PRECISION-U16-NON-LINEAR)
(define t-float PRECISION-FLOAT-LINEAR)
