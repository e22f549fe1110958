#!/bin/sh
# --help everywhere: tally --help, tally -h, tally help, and for every
# subcommand (read from tools/tally.c's table) tally CMD --help, CMD -h and
# tally help CMD print every option of the command's table (tools/CMD.c),
# each on one line with its help, on standard output, and exit 0. A bad
# command line is exit 2 with the message and the synopsis on stderr only.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

# help_ok NAME ARGS...: exit 0, something on stdout, nothing on stderr
help_ok() {
    name=$1
    shift
    "$TALLY" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ $rc -eq 0 ] || fail "tally $*: exit status $rc"
    [ -s "$WORK/$name.out" ] || fail "tally $*: nothing on stdout"
    [ ! -s "$WORK/$name.err" ] || {
        cat "$WORK/$name.err"
        fail "tally $*: wrote to stderr"
    }
}
# usage_bad NAME ARGS...: exit 2, nothing on stdout, the synopsis on stderr
usage_bad() {
    name=$1
    shift
    "$TALLY" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ $rc -eq 2 ] || fail "tally $*: exit status $rc, not 2"
    [ ! -s "$WORK/$name.out" ] || fail "tally $*: a usage error wrote to stdout"
    expect_in "$WORK/$name.err" "usage: tally"
}

cmds=$(sed -n 's/^ *{"\([a-z]*\)", cmd_[a-z]*,.*/\1/p' "$S/tools/tally.c")
[ -n "$cmds" ] || fail "no commands in tools/tally.c"

for how in --help -h help; do
    help_ok top "$how"
    expect_in "$WORK/top.out" "usage: tally" "--help" "--version"
    for c in $cmds; do
        grep -q "^  $c  " "$WORK/top.out" || { cat "$WORK/top.out"; fail "tally $how does not list $c"; }
    done
done
ok "help: tally --help, -h and help list every command ($(echo $cmds)) on stdout, exit 0"

n=0
for c in $cmds; do
    src=$S/tools/$c.c
    [ -f "$src" ] || fail "no $src for the command $c"
    opts=$(sed -n 's/^ *{"\([a-z-]*\)", \(no\|required\)_argument.*/\1/p' "$src")
    [ -n "$opts" ] || fail "no option table in $src"
    for how in "$c --help" "$c -h" "help $c"; do
        # shellcheck disable=SC2086
        help_ok "$c" $how
        for o in $opts; do
            # one line, with the option and its help after it
            k=$(grep -cE -- "^  (-[a-z], |    )--$o( [^ ]+)? +[^ ]" "$WORK/$c.out")
            [ "$k" -eq 1 ] || {
                cat "$WORK/$c.out"
                fail "tally $how: --$o on $k lines, not 1"
            }
            n=$((n + 1))
        done
    done
    expect_in "$WORK/$c.out" "usage: tally $c"
    # and the table is what the parser takes: each option is known to it
    for o in $opts; do
        "$TALLY" $c --$o >/dev/null 2>"$WORK/unk.err"
        grep -q "unknown option" "$WORK/unk.err" && fail "tally $c --$o: listed but unknown"
    done

    usage_bad bad "$c" --no-such-option
    expect_in "$WORK/bad.err" "tally $c: unknown option '--no-such-option'" "'tally $c --help' lists the options"
    usage_bad bad "$c" -Z
    expect_in "$WORK/bad.err" "tally $c: unknown option '-Z'"
done
[ $n -gt 30 ] || fail "only $n option lines checked"
ok "help: tally CMD --help, -h and tally help CMD print every option of tools/CMD.c, one line each ($n checks)"

usage_bad none
usage_bad unknown frobnicate
expect_in "$WORK/unknown.err" "tally: unknown command 'frobnicate'"
usage_bad unknown --frobnicate
expect_in "$WORK/unknown.err" "tally: unknown option '--frobnicate'"
usage_bad helpbad help frobnicate
expect_in "$WORK/helpbad.err" "tally help: unknown command 'frobnicate'"
usage_bad helptwo help run diff
expect_in "$WORK/helptwo.err" "tally help: one command at a time"
usage_bad noprof report
expect_in "$WORK/noprof.err" "tally report: no profile"
usage_bad oneb diff "$WORK/x"
expect_in "$WORK/oneb.err" "tally diff: wants two profiles"
usage_bad noprog run
expect_in "$WORK/noprog.err" "tally run: no program to run"
usage_bad noval run --depth
expect_in "$WORK/noval.err" "tally run: --depth wants a value"
ok "help: bad command lines are exit 2, the message and synopsis on stderr, nothing on stdout"
