; common.scm - helpers of the GIMP-side test scripts (checks.scm,
; exact.scm), for GIMP 2.10 and 3.0, after compat-<version>.scm; the shell
; defines t-out first.
(define (t-path dir name) (string-append dir "/" name))
(define (t-dump img name note)
  (test-colorize-dump RUN-NONINTERACTIVE img (t-path t-out name) note))

; Preparations of a case's image: (prepare img drw) returns the drawable.
(define (as-rgb img drw) (gimp-image-convert-rgb img) drw)
(define (as-is img drw) drw)
