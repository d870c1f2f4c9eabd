; compat-2.10.scm - the few Script-Fu calls that differ between GIMP 2.10
; and 3.0, for tests/gimp/checks.scm (GIMP 2.10 side).
(define (t-load path) (car (gimp-file-load RUN-NONINTERACTIVE path path)))
(define (t-layer img) (vector-ref (cadr (gimp-image-get-layers img)) 0))
; vv is the vividness; 'omit stands for a caller from before the vividness
; argument, which GIMP 2.10 cannot have (Script-Fu checks the arity), so
; it passes the default, -1.
(define (t-vv vv) (if (eq? vv 'omit) -1.0 vv))
; The filters' last two arguments are the colour hints layer (-1 = none)
; and hints-only: GIMP 2.10's Script-Fu wants them too.
(define (t-colorize-hints proc img drw ws st wf vv hints only)
  (proc RUN-NONINTERACTIVE img drw ws st wf (t-vv vv) hints only))
(define (t-colorize proc img drw ws st wf vv)
  (t-colorize-hints proc img drw ws st wf vv -1 FALSE))
(define (t-load-layer img path) (car (gimp-file-load-layer RUN-NONINTERACTIVE img path)))
(define (t-new-layer img w h name)
  (car (gimp-layer-new img w h RGBA-IMAGE name 100 LAYER-MODE-NORMAL)))
(define (t-dir model in out vv)
  (plug-in-colorize-dir RUN-NONINTERACTIVE model in out (t-vv vv)))
(define (t-group img)
  (let ((g (car (gimp-layer-group-new img))))
    (gimp-image-insert-layer img g 0 0)
    g))
(define t-u16 PRECISION-U16-GAMMA)
(define t-float PRECISION-FLOAT-LINEAR)
