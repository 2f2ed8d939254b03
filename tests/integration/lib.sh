# SPDX-License-Identifier: BSD-3-Clause
# The helpers integration tests share, sourced (`. "$(dirname "$0")/lib.sh"`)
# after the test sets $name (its name in messages) and $BUILD. Defines
# functions only; a test calls what it needs:
#   fail MSG...            "$name: MSG" on stderr, exit 1
#   need_kvm               exit 77 (skip) without a usable /dev/kvm
#   need_bins B...         exit 77 without $BUILD/B (each)
#   make_dir               a temp dir $dir; on exit the processes in $pids
#                          are killed (-9) and $dir removed
#   ctl ARGS...            $BUILD/minivmm-ctl
#   wait_for FILE RE SECS  until FILE (CRs dropped) has a line matching RE;
#                          1 after SECS seconds
#   gone PID SECS          until process PID has ended; 1 after SECS seconds
#   wait_lines FILE RE [N [ERR]]  until FILE (CRs dropped) has N (default
#                          1) lines matching RE, up to 60 s, while process
#                          $vm (when set) lives; else print FILE (and ERR)
#                          and fail
#   has FILE [OPT] RE      FILE (CRs dropped) has a line matching RE (grep
#                          -q, with OPT, e.g. -x for a whole line)
#   ticks FILE             the tick numbers of the counter test's lines
#   next_tick SRC LAST FIRST  (migration) FIRST continues the source's
#                          output SRC whose last whole tick is LAST
#   resumes OUT SAVED [WHO]  (snapshot) the restored guest's output OUT
#                          starts at tick SAVED + 1 ($first), or finishes
#                          the line of tick SAVED + 1 the pause cut and
#                          goes on at SAVED + 2; else fail naming WHO
#   continues SRC DST [WHO]  (migration) DST's counter goes on from SRC's
#                          last tick ($last, $first); else fail naming WHO
fail() { echo "$name: $*" >&2; exit 1; }
need_kvm() {
    [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
        { echo "$name: no usable /dev/kvm" >&2; exit 77; }
}
need_bins() {
    for b in "$@"; do
        [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
    done
}
make_dir() {
    dir=$(mktemp -d) || exit 1
    pids=
    trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
}
ctl() { "$BUILD/minivmm-ctl" "$@"; }
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d '\r' 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
gone() {        # PID SECONDS
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt $(($2 * 20)) ] && return 1
        sleep 0.05
    done
}
wait_lines() {  # FILE REGEX [COUNT [ERR]]
    i=0
    until [ "$(tr -d '\r' <"$1" | grep -c -- "$2")" -ge "${3:-1}" ]; do
        i=$((i + 1))
        if [ "$i" -gt 600 ]; then
            why="no '$2' in $1"
        elif [ -n "${vm:-}" ] && ! kill -0 "$vm" 2>/dev/null; then
            why="minivmm exited before '$2'"
        else
            sleep 0.1
            continue
        fi
        tr -d '\r' <"$1" >&2
        [ -z "${4:-}" ] || cat "$4" >&2
        fail "$why"
    done
}
has() {         # FILE [grep options] REGEX
    hf=$1; shift
    tr -d '\r' <"$hf" | grep -q "$@"
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }
# The destination's first whole tick line is the next tick, or the one
# after when the source stopped in the middle of printing it (its output
# then ends in a partial line, finished at the destination: neither file
# holds it whole).
next_tick() {
    [ "$3" = $(($2 + 1)) ] && return 0
    [ "$3" = $(($2 + 2)) ] && [ -n "$(tail -c 1 "$1" | tr -d '\n')" ]
}
continues() {   # SRC_OUT DST_OUT [WHO]
    last=$(ticks "$1" | tail -n 1)
    first=$(ticks "$2" | head -n 1)
    next_tick "$1" "$last" "$first" ||
        fail "${3:-destination} starts at tick '$first', want $((last + 1))"
}
resumes() {     # OUT SAVED [WHO]
    first=$(ticks "$1" | head -n 1)
    [ "$first" = $(($2 + 1)) ] && return 0
    # Paused in the middle of printing tick SAVED + 1 (the source's output
    # ends in a partial line): the restored guest first finishes that line,
    # so OUT starts with its tail, not a counter line, and the first whole
    # tick line is SAVED + 2.
    rhead=$(tr -d '\r' <"$1" | head -n 1)
    if [ "$first" = $(($2 + 2)) ] && [ -n "$rhead" ]; then
        case $rhead in counter:*) ;; *) return 0 ;; esac
    fi
    fail "${3:+$3: }restored guest starts at tick '$first', want $(($2 + 1))"
}
