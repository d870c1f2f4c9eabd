; compat-2.10.scm - the few Script-Fu calls that differ between GIMP 2.10
; and 3.0, for tests/gimp/checks.scm (GIMP 2.10 side).
(define (t-load path) (car (gimp-file-load RUN-NONINTERACTIVE path path)))
(define (t-layer img) (vector-ref (cadr (gimp-image-get-layers img)) 0))
(define (t-colorize proc img drw ws st wf)
  (proc RUN-NONINTERACTIVE img drw ws st wf))
(define (t-group img)
  (let ((g (car (gimp-layer-group-new img))))
    (gimp-image-insert-layer img g 0 0)
    g))
(define t-u16 PRECISION-U16-GAMMA)
(define t-float PRECISION-FLOAT-LINEAR)
