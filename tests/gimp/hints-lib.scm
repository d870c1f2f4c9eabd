; hints-lib.scm - the colour hints cases' helpers (checks.scm, exact.scm),
; after common.scm.  A hints layer is a PNG of t-fixtures (made with ImageMagick: opaque rectangles
; of colour on transparency) loaded as a layer named "hints" below the
; photo (where it lies in the stack does not matter; below, the photo
; stays the top layer that check-dump takes as the source).
(define (t-add-hints file x y)
  (lambda (img drw)
    (let ((l (t-load-layer img (t-path t-fixtures file))))
      (gimp-image-insert-layer img l 0 1)
      (gimp-item-set-name l "hints")
      (gimp-layer-set-offsets l x y)
      l)))
(define (t-add-empty-hints img drw)
  (let ((l (t-new-layer img 128 192 "hints")))
    (gimp-image-insert-layer img l 0 1)
    (gimp-drawable-edit-clear l)
    l))
(define (t-no-hints img drw) -1)
(define (t-self-hints img drw) drw)

(define (t-hints-case name sample prepare proc ws add-hints only)
  (let* ((img (t-load (t-path t-samples sample)))
         (drw (prepare img (t-layer img)))
         (hints (add-hints img drw)))
    (t-dump img (string-append name "-before") "")
    (t-dump img (string-append name "-after")
            (catch "error"
                   (t-colorize-hints proc img drw ws 1.0 "" -1.0 hints only)
                   "ok"))
    (gimp-image-delete img)))

(define (t-dir-hints-case name model in hints)
  (let ((img (t-load (t-path t-samples "castle.png"))))
    (t-dump img (string-append name "-result")
            (catch "error"
                   (plug-in-colorize-dir-hints RUN-NONINTERACTIVE model
                                               (t-path t-out in)
                                               (t-path t-out name) -1.0
                                               (t-path t-out hints))
                   "ok"))
    (gimp-image-delete img)))
(define (t-dump-file path name)
  (catch "missing"
         (let ((img (t-load path)))
           (t-dump img name "")
           (gimp-image-delete img))))
