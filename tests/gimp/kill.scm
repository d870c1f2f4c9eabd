; kill.scm - the GIMP side of the SIGKILL test of the folder procedure
; (tests/gimp/run-kill.sh), for GIMP 2.10 and 3.0 (after
; compat-<version>.scm).  The shell defines t-out, t-in, t-runs (a list
; of run numbers) and t-prefix first: run i colorizes t-in into
; t-out/kill-out-<i> and writes its note ("ok" or GIMP's error) to
; t-out/<t-prefix>-result-<i>.  In the kill session (runs 0..N) the
; shell's killer watches each run's plug-in process and kills it with
; SIGKILL at a random moment (run 0 it leaves alone, to time a whole
; run); in the rerun session (some of those runs again, into the folders
; their kills left) nothing is killed.
(define (t-path dir name) (string-append dir "/" name))
(define (t-write name text)
  (let ((port (open-output-file name)))
    (display text port)
    (close-output-port port)))
(define (t-run i)
  (let ((n (number->string i)))
    (t-write (t-path t-out (string-append t-prefix "-result-" n))
             (catch "error"
                    (t-dir "cnn" t-in (t-path t-out (string-append "kill-out-" n))
                           -1.0)
                    "ok"))))
(for-each t-run t-runs)
