; compat-3.0.scm - the few Script-Fu calls that differ between GIMP 2.10
; and 3.0, for tests/gimp/checks.scm (GIMP 3.0 side).
(define (t-load path) (car (gimp-file-load RUN-NONINTERACTIVE path)))
(define (t-layer img) (vector-ref (car (gimp-image-get-layers img)) 0))
(define (t-colorize proc img drw ws st wf)
  (proc RUN-NONINTERACTIVE img (vector drw) ws st wf))
(define (t-group img)
  (let ((g (car (gimp-group-layer-new img "group"))))
    (gimp-image-insert-layer img g 0 0)
    g))
(define t-u16 PRECISION-U16-NON-LINEAR)
(define t-float PRECISION-FLOAT-LINEAR)
