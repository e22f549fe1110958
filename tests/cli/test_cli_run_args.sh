#!/bin/sh
# tally run checks every argument before the program runs, as strictly as
# tally report: each bad one is exit 2 and a message with the values it
# takes, and the program never starts. Good values reach the environment
# in the form the shim reads.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

[ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 77; }

# bad MESSAGE OPTION...: `tally run OPTION... -- touch RAN` exits 2 with
# MESSAGE on stderr, and RAN is never made.
bad() {
    msg=$1
    shift
    rm -f "$WORK/ran"
    (cd "$WORK" && "$TALLY" run "$@" -- touch "$WORK/ran") >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc -eq 2 ] || { cat "$WORK/err"; fail "tally run $*: exit $rc, not 2"; }
    [ -e "$WORK/ran" ] && fail "tally run $*: the program ran"
    expect_in "$WORK/err" "$msg"
    [ -s "$WORK/out" ] && fail "tally run $*: wrote to stdout"
    [ -z "$(ls -d "$WORK"/tally.* 2>/dev/null)" ] || fail "tally run $*: left a directory"
}

for v in abc -5 0 257 5x ""; do
    bad "tally run: --depth wants a number of frames from 1 to 256, not '$v'" --depth "$v"
done
SAMPLE="tally run: --sample wants a mean number of bytes from 0 (every allocation) to 1G, with an optional k, M or G suffix"
for v in -1 abc 1T 2G 4kk "" +5; do
    bad "$SAMPLE, not '$v'" --sample "$v"
done
for v in nope jemalloc ""; do
    bad "tally run: --backend wants mimalloc or system, not '$v'" --backend "$v"
done
for v in -1 x 3600001; do
    bad "tally run: --interval wants milliseconds from 0 (no time series) to 3600000, not '$v'" --interval "$v"
done
for v in "" "=x" "a=" "a=fn:" "a" "a=x;" "a=x,,y"; do
    bad "tally run: --pools wants modules, or NAME=PATTERN[,PATTERN...] rules separated by ';'" --pools "$v"
done
for v in KILL SIGSTOP 9 19 0 99 FOO RTMIN+99 RTMAX-99 32 "" -1; do
    bad "tally run: --dump-signal wants a signal the program can catch, by name (HUP, INT, QUIT," --dump-signal "$v"
    grep -q "USR2, .*RTMIN+N, RTMAX-N; SIG is optional) or number, not '$v'" "$WORK/err" ||
        { cat "$WORK/err"; fail "--dump-signal $v: the list of names"; }
    grep -q "KILL\|STOP" "$WORK/err" && [ "$v" != KILL ] && [ "$v" != SIGSTOP ] && fail "--dump-signal lists KILL or STOP"
done
for v in 0 -1 abc 10x "" 0.0001 1e99 1e3 0x10 1..5 . s nan inf 10sec; do
    bad "tally run: --checkpoint wants a duration of at least 1ms, such as 10, 10s, 1.5, 500ms, 2m or 1h (seconds without a unit), not '$v'" --checkpoint "$v"
done
bad "tally run: --top wants a count, not 'x'" --top x
bad "tally run: --error-exitcode wants 0..255, not '256'" --error-exitcode 256
bad "tally run: --leak-check is exit, all or off, not 'sometimes'" --leak-check sometimes
bad "tally run: unknown option '--bogus'" --bogus
bad "tally run: unknown option '-x'" -x
bad "usage: tally run [options] [--] PROGRAM [ARGS]" --bogus
printf 'leak:x\nthis is not a suppression\n' >"$WORK/supp"
bad "tally run: $WORK/supp:2: not a suppression" --suppressions "$WORK/supp"
bad "tally run: cannot open suppressions $WORK/none" --suppressions "$WORK/none"
# -o: a conversion it does not know, conversions in the directory, a
# directory that is not there, a file that is not a regular one
bad "tally run: -o x.%q.prof: '%q' is not a conversion: %p (pid), %e (program name), %n (image number) or %% (a percent sign)" -o x.%q.prof
bad "tally run: -o $WORK/%p/x.prof: %p, %e and %n name files, not directories" -o "$WORK/%p/x.prof"
bad "tally run: -o $WORK/no/x.prof: no directory $WORK/no" -o "$WORK/no/x.prof"
bad "tally run: -o /dev/null: exists and is not a regular file" -o /dev/null
ln -s "$WORK/target" "$WORK/link"
bad "tally run: -o $WORK/link: exists and is not a regular file" -o "$WORK/link"
[ -e "$WORK/target" ] && fail "-o through a symbolic link made its target"
bad "tally run: -o $WORK/no/sub/: cannot make the directory" -o "$WORK/no/sub/"
# no program, or a value missing
"$TALLY" run --depth 5 2>"$WORK/err"
[ $? -eq 2 ] || fail "no program"
expect_in "$WORK/err" "tally run: no program to run"
"$TALLY" run --depth 2>"$WORK/err"
[ $? -eq 2 ] || fail "--depth without a value"
expect_in "$WORK/err" "tally run: --depth wants a value"
ok "run: each bad argument is exit 2 with the values it takes, and nothing runs"

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: the rest runs programs, and a malloc interposer cannot be preloaded under ASan"
    exit 0
fi

# good: what the shim reads
good() {
    want=$1
    shift
    "$TALLY" run -o "$WORK/g.prof" "$@" -- /usr/bin/env >"$WORK/env" 2>"$WORK/err" || { cat "$WORK/err"; fail "tally run $*"; }
    expect_in "$WORK/env" "$want"
}
good TALLY_DUMP_SIGNAL=12 --dump-signal USR2
good TALLY_DUMP_SIGNAL=12 --dump-signal SIGUSR2
good TALLY_DUMP_SIGNAL=12 --dump-signal usr2
good TALLY_DUMP_SIGNAL=12 --dump-signal 12
good TALLY_DUMP_SIGNAL=1 --dump-signal HUP
good TALLY_DUMP_SIGNAL=29 --dump-signal POLL
rtmin=$(python3 -c 'import signal; print(signal.SIGRTMIN)')
good "TALLY_DUMP_SIGNAL=$((rtmin + 3))" --dump-signal RTMIN+3
good "TALLY_DUMP_SIGNAL=$((rtmin + 3))" --dump-signal SIGRTMIN+3
good TALLY_CHECKPOINT=10000ms --checkpoint 10
good TALLY_CHECKPOINT=10000ms --checkpoint 10s
good TALLY_CHECKPOINT=1500ms --checkpoint 1.5
good TALLY_CHECKPOINT=500ms --checkpoint 500ms
good TALLY_CHECKPOINT=120000ms --checkpoint 2m
good TALLY_CHECKPOINT=3600000ms --checkpoint 1h
good TALLY_SAMPLE=0 --sample 0
good TALLY_SAMPLE=65536 --sample 64k
good TALLY_SAMPLE=1048576 --sample 1M
good TALLY_SAMPLE=1073741824 --sample 1G
good TALLY_DEPTH=1 --depth 1
good TALLY_DEPTH=256 --depth 256
good TALLY_INTERVAL=0 --interval 0
good TALLY_BACKEND=mimalloc --backend mimalloc
good TALLY_POOLS=modules --pools modules
good "TALLY_POOLS=a=*x*,fn:f*;b=*y*" --pools 'a=*x*,fn:f*;b=*y*'
# the program's own options stay its own, with or without --
for dashes in "" --; do
    # shellcheck disable=SC2086
    out=$("$TALLY" run -o "$WORK/g.prof" $dashes sh -c 'echo "$@"' sh --depth abc 2>"$WORK/err")
    [ "$out" = "--depth abc" ] || { cat "$WORK/err"; fail "the program's own options were read as tally's ($dashes)"; }
done
ok "run: good values reach the environment as the shim reads them"

"$TALLY" run --help >"$WORK/help" 2>"$WORK/err" || fail "--help exits 0"
expect_in "$WORK/help" "usage: tally run" "--dump-signal SIG" "--checkpoint DURATION" "--top N"
[ -s "$WORK/err" ] && fail "--help wrote to stderr"
ok "run: --help on stdout"
