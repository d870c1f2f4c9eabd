; exact.scm - the GIMP side of the exact comparisons of tests/test_gimp.sh,
; after common.scm and hints-lib.scm, in a session of its own that
; run-gimp.sh starts with BABL_TOLERANCE=0.  babl picks its conversion
; paths by timing the candidates, so two processes (two runs of the
; plug-in, two dumps) may round a few pixels differently, one 8-bit step
; apart; with no tolerance every process takes babl's reference path and
; converts the same pixels to the same values.
;
; An empty hints layer gives exactly the plain result (no hints layer).
(t-hints-case "hints-plain" "castle.png" as-rgb plug-in-colorize-resnet18 64
              t-no-hints FALSE)
(t-hints-case "hints-empty" "castle.png" as-rgb plug-in-colorize-resnet18 64
              t-add-empty-hints FALSE)
