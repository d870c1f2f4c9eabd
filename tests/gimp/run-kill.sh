#!/bin/sh
# run-kill.sh VERSION PLUGIN WEIGHTS-DIR INPUTS OUT [RUNS [SEED]]
#
# The GIMP half of the SIGKILL test of the folder procedure in
# tests/test_gimp.sh, for one GIMP version (2.10 or 3.0), run where that
# GIMP is (natively, or inside the Debian 13 root).  Makes a throw-away
# profile in OUT/profile with the plug-in and WEIGHTS-DIR/cnn.weights,
# copies the photos of INPUTS to OUT/kill-in, then:
#
#   kill session    one gimp-console runs plug-in-colorize-dir RUNS + 1
#                   times on OUT/kill-in (kill.scm), run i into
#                   OUT/kill-out-<i>; a killer beside it finds each run's
#                   plug-in process (a child of that gimp-console named
#                   colorize, started with -run) and times run 0 whole,
#                   then kills runs 1..RUNS with SIGKILL after a random
#                   delay between 0 and run 0's duration (from SEED, by
#                   default the clock); OUT/killer.log has one line per
#                   run: "i pid delay-ms killed|finished".  Only processes
#                   of that gimp-console are ever killed.
#   GIMP killed     GKILL more sessions (COLORIZE_GIMP_KILL_RUNS, default
#                   8), each one gimp-console running the procedure once,
#                   run RUNS+k into OUT/kill-out-<RUNS+k>: gimp-console
#                   itself gets SIGKILL a random time (a fraction of run
#                   0's duration) after the plug-in starts; every process
#                   that GIMP had started must then end by itself within
#                   30 s (the orphaned plug-in included: it may not go on
#                   writing).  OUT/gkiller.log: "i pid delay-ms
#                   gimp-killed|finished [N-survived]".
#   snapshot        OUT/after-kill/kill-out-<i>: the output folders as the
#                   kills left them (hidden files included)
#   rerun session   again, nothing killed, into the folders that a kill
#                   left a temporary in, and the first one it left with
#                   some outputs missing (OUT/rerun-list): the rerun must
#                   clean them up and complete.
#
# Writes OUT/<session>.log and .rc, kill-result-<i> and rerun-result-<i>
# (the calls' notes), and listings of OUT/kill-in before and after both
# sessions.  OUT must be absolute.  The checks are test_gimp.sh's.
set -u

version=$1 plugin=$2 weights=$3 inputs=$4 out=$5 runs=${6:-12}
gkills=${COLORIZE_GIMP_KILL_RUNS:-8}
seed=${7:-$(date +%s)}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out/profile/plug-ins/colorize/weights" "$out/kill-in" \
         "$out/after-kill"
cp "$plugin" "$out/profile/plug-ins/colorize/colorize"
cp "$weights/cnn.weights" "$out/profile/plug-ins/colorize/weights/"
cp "$inputs"/* "$out/kill-in/"
echo "$seed" > "$out/seed"

export BABL_INHIBIT_CACHE=1
listing () { (cd "$1" && ls -lA --time-style=+%s && md5sum *); }

# The live processes whose parent is $1 (zombies are not alive).
children () {
  for stat in /proc/[0-9]*/stat; do
    read -r pid comm state ppid rest 2> /dev/null < "$stat" || continue
    [ "$ppid" = "$1" ] && [ "$state" != Z ] && echo "$pid"
  done
}
alive () { # alive PID...: those of them still running
  for p in "$@"; do
    read -r pid comm state rest 2> /dev/null < "/proc/$p/stat" &&
      [ "$state" != Z ] && echo "$p"
  done
}

# Whether $2 is still gimp-console $1's colorize child.
is_ours () {
  read -r pid comm state ppid rest 2> /dev/null < "/proc/$2/stat" &&
    [ "$comm" = "(colorize)" ] && [ "$ppid" = "$1" ]
}
# The plug-in processes of gimp-console $1 running a procedure: children
# named colorize whose command line has -run (not GIMP's -query / -init).
plugin_pids () {
  for pid in $(children "$1"); do
    is_ours "$1" "$pid" &&
      tr '\0' ' ' 2> /dev/null < "/proc/$pid/cmdline" | grep -q -- ' -run ' &&
      echo "$pid"
  done
}
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }

# killer GIMP-PID: times run 0, kills runs 1..runs at random moments:
# run i after the i-th of the fractions drawn from the seed, times run
# 0's duration.
killer () {
  gpid=$1 seen="" i=0 span=1000
  fractions=$(awk -v s="$seed" -v n="$runs" \
                'BEGIN { srand (s); for (i = 1; i <= n; i++) print rand () }')
  while [ $i -le "$runs" ] && kill -0 "$gpid" 2> /dev/null; do
    pid=""
    for p in $(plugin_pids "$gpid"); do
      case " $seen " in *" $p "*) ;; *) pid=$p ;; esac
    done
    if [ -z "$pid" ]; then sleep 0.02; continue; fi
    seen="$seen $pid" t0=$(now_ms)
    if [ $i = 0 ]; then
      while is_ours "$gpid" "$pid"; do sleep 0.02; done
      span=$(( $(now_ms) - t0 ))
      echo "0 $pid $span timed"
    else
      ms=$(echo "$fractions" | awk -v i="$i" -v d="$span" \
             'NR == i { printf "%d", $1 * d }')
      while [ $(( $(now_ms) - t0 )) -lt "$ms" ] && is_ours "$gpid" "$pid"; do
        sleep 0.01
      done
      if is_ours "$gpid" "$pid" && kill -KILL "$pid" 2> /dev/null; then
        echo "$i $pid $ms killed"
      else
        echo "$i $pid $ms finished"
      fi
    fi
    i=$((i + 1))
  done
}

# gkiller GIMP-PID I FRACTION: once gimp-console's plug-in process runs,
# waits FRACTION x run 0's duration, then kills gimp-console itself with
# SIGKILL and waits up to 30 s for every process it had started to end.
gkiller () {
  gpid=$1 i=$2 f=$3 pid=""
  span=$(awk '$4 == "timed" { print $3 }' "$out/killer.log")
  ms=$(awk -v f="$f" -v d="${span:-1000}" 'BEGIN { printf "%d", f * d }')
  while [ -z "$pid" ] && kill -0 "$gpid" 2> /dev/null; do
    pid=$(plugin_pids "$gpid" | head -n 1)
    [ -n "$pid" ] || sleep 0.02
  done
  [ -n "$pid" ] || { echo "$i - $ms finished"; return; }
  t0=$(now_ms)
  while [ $(( $(now_ms) - t0 )) -lt "$ms" ] && is_ours "$gpid" "$pid"; do
    sleep 0.01
  done
  kids=$(children "$gpid")
  if is_ours "$gpid" "$pid" && kill -KILL "$gpid" 2> /dev/null; then
    n=0
    # shellcheck disable=SC2086
    while [ -n "$(alive $kids)" ] && [ $n -lt 1500 ]; do
      sleep 0.02
      n=$((n + 1))
    done
    # shellcheck disable=SC2086
    left=$(alive $kids | wc -l)
    if [ "$left" = 0 ]; then
      echo "$i $pid $ms gimp-killed"
    else
      echo "$i $pid $ms gimp-killed $left-survived"
      # shellcheck disable=SC2086
      kill -KILL $(alive $kids) 2> /dev/null
    fi
  else
    echo "$i $pid $ms finished"
  fi
}

session () { # session NAME PREFIX RUN-NUMBERS [FRACTION: gkill sessions]
  script="$(cat "$here/compat-$version.scm")
(define t-out \"$out\")
(define t-in \"$out/kill-in\")
(define t-runs '($3))
(define t-prefix \"$2\")
$(cat "$here/kill.scm")"
  start=$(date +%s)
  case $version in
    2.10)
      GIMP2_DIRECTORY="$out/profile" gimp-console-2.10 -i -d -f \
        -b "$script" -b '(gimp-quit 0)' > "$out/$1.log" 2>&1 & ;;
    3.0)
      GIMP3_DIRECTORY="$out/profile" gimp-console-3.0 -i -d -f \
        --batch-interpreter=plug-in-script-fu-eval -b "$script" --quit \
        > "$out/$1.log" 2>&1 & ;;
    *) echo "run-kill.sh: unknown GIMP version $version" >&2; exit 2 ;;
  esac
  gpid=$!
  # A watchdog (its sleep's PID in OUT/NAME.dog): no session may hang
  # the test.
  ( sleep "${GIMP_TEST_TIMEOUT:-300}" & echo $! > "$out/$1.dog"; wait $!
    [ -e "$out/$1.done" ] || kill -TERM "$gpid" 2> /dev/null ) 2> /dev/null &
  [ "$1" = kill-session ] && killer "$gpid" > "$out/killer.log"
  case $1 in gkill-*) gkiller "$gpid" "$3" "$4" >> "$out/gkiller.log" ;; esac
  wait "$gpid"
  echo $? > "$out/$1.rc"
  : > "$out/$1.done"
  kill "$(cat "$out/$1.dog")" 2> /dev/null
  wait
  echo "GIMP $version $1: $(( $(date +%s) - start )) s" > "$out/$1.time"
}

# The folders to rerun: those holding a temporary, and the first with
# fewer outputs than inputs.
rerun_list () {
  n_in=$(ls "$out/kill-in" | wc -l) partial=""
  i=1
  while [ $i -le $((runs + gkills)) ]; do
    d=$out/kill-out-$i
    if [ -n "$(ls -A "$d" 2> /dev/null | grep '^\.')" ]; then
      echo $i
    elif [ -z "$partial" ] && [ "$(ls "$d" 2> /dev/null | wc -l)" -lt "$n_in" ]; then
      partial=$i
    fi
    i=$((i + 1))
  done
  [ -n "$partial" ] && echo "$partial"
}

listing "$out/kill-in" > "$out/kill-in.before"
session kill-session kill "$(seq -s ' ' 0 "$runs")"
: > "$out/gkiller.log"
k=1
for f in $(awk -v s="$seed" -v n="$gkills" \
             'BEGIN { srand (s + 1); for (i = 1; i <= n; i++) print rand () }'); do
  session "gkill-session-$k" gkill "$((runs + k))" "$f"
  k=$((k + 1))
done
cp -a "$out"/kill-out-* "$out/after-kill/" 2> /dev/null
listing "$out/kill-in" > "$out/kill-in.after-kill"
rerun_list | sort -n | uniq | tr '\n' ' ' > "$out/rerun-list"
session rerun-session rerun "$(cat "$out/rerun-list")"
listing "$out/kill-in" > "$out/kill-in.after"
exit 0
