#!/bin/sh
# tally run: the shim found next to tally, the options mapped onto TALLY_*,
# the program's exit status (or --error-exitcode's with leaks), the
# summary and the profile's path; then reports and diff on real profiles
# of tests/progs/cli_prog.c, symbolized to its file:line.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

need_shim
PROG=$B/tests/progs/cli_prog
[ -x "$PROG" ] || fail "$PROG not built"
SRC=$S/tests/progs/cli_prog.c

# ---- leaks, summary, exit status
# The leak check (the mark, lib/track/mark.c) classifies the blocks left at
# exit; without it they are only live. Either way the summary names the
# leak's function and file:line; its words follow what the profile says.
"$TALLY" run -o "$WORK/l.prof" -- "$PROG" leaks >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || { cat "$WORK/err"; fail "run leaks exited $rc"; }
classified=$("$TALLY" report --format json --leaks "$WORK/l.prof" | python3 -c 'import json, sys; print(json.load(sys.stdin)["leaks"]["classified"])')
if [ "$classified" = True ]; then
    expect_in "$WORK/err" "tally: definitely lost: 3000 bytes in 3 blocks; indirectly lost: 0 bytes in 0 blocks; possibly lost: 0 bytes in 0 blocks; still reachable: " \
        "3000 bytes in 3 blocks definitely lost in pool malloc"
else
    expect_in "$WORK/err" "tally: no leak check ran, so no block is known to be lost; live: 3000 bytes in 3 blocks" \
        "3000 bytes in 3 blocks live in pool malloc"
fi
expect_in "$WORK/err" "leak_thousand $SRC:$(mark leak_thousand cli_prog.c)" "tally: peak 4." \
    "tally: profile: $WORK/l.prof"
ok "run: summary (classified: $classified) with the leak's function and file:line, and the profile's path"

"$TALLY" run --error-exitcode 23 -o "$WORK/l2.prof" -- "$PROG" leaks 2>/dev/null
rc=$?
if [ "$classified" = True ]; then
    [ $rc -eq 23 ] || fail "--error-exitcode 23 with definitely lost blocks: $rc"
else
    [ $rc -eq 0 ] || fail "--error-exitcode without a leak check: live blocks are no error, got $rc"
fi
# with the check off nothing is known to be lost: no error, whatever is live
"$TALLY" run --leak-check=off --error-exitcode 23 -o "$WORK/off.prof" -- "$PROG" leaks 2>"$WORK/offerr"
[ $? -eq 0 ] || { cat "$WORK/offerr"; fail "--leak-check=off gave --error-exitcode"; }
expect_in "$WORK/offerr" "no leak check ran" "3000 bytes in 3 blocks live in pool malloc"
"$TALLY" run --error-exitcode 23 -o "$WORK/e.prof" -- "$PROG" exit 5 2>/dev/null
[ $? -eq 5 ] || fail "the program's own status, without leaks"
"$TALLY" run -o "$WORK/e0.prof" --error-exitcode 23 -- "$PROG" exit 0 2>"$WORK/err0"
[ $? -eq 0 ] || { cat "$WORK/err0"; fail "no leaks: status 0"; }
printf 'leak:leak_thousand\n' >"$WORK/supp"
"$TALLY" run --suppressions "$WORK/supp" --error-exitcode 23 -o "$WORK/s.prof" -- "$PROG" leaks 2>"$WORK/serr"
[ $? -eq 0 ] || { cat "$WORK/serr"; fail "suppressed leaks still gave --error-exitcode"; }
expect_in "$WORK/serr" "suppressed: 3000 bytes in 3 blocks" "tally: suppressed by leak:leak_thousand: 3000 bytes in 3 blocks"
ok "run: exit status, --error-exitcode, --leak-check=off, --suppressions"

# each block's address with --leak-addresses; only its groups without
for flag in "" --leak-addresses; do
    # shellcheck disable=SC2086
    "$TALLY" run $flag -o "$WORK/a$flag.prof" -- "$PROG" leaks 2>/dev/null || fail "run $flag"
    "$TALLY" report --format json --leaks --no-default-suppressions "$WORK/a$flag.prof" | python3 -c '
import json, sys
L = json.load(sys.stdin)["leaks"]
total = sum(k["count"] for k in L["kinds"].values()) + L["suppressed"]["count"]
if sys.argv[1]:
    b = L["blocks"]
    assert len(b) == total, (len(b), total)
    assert len([x for x in b if x["size"] == 1000]) == 3 and all(x["address"] != "0x0" for x in b), b
else:
    assert "blocks" not in L and len(L["groups"]) < total, L
' "$flag" || fail "leak addresses ($flag)"
done
ok "run: --leak-addresses keeps each block's address, without it only the groups"

"$TALLY" run -- /nonexistent/prog 2>"$WORK/nerr"
[ $? -eq 127 ] || fail "a missing program: 127"
ok "run: a missing program gives 127"

# ---- where a run's profiles go
# Without -o: one directory in the current one, tally.PROG.PID.d, and
# nothing else there; inside, PROG.PID.N.prof.
mkdir "$WORK/cwd"
(cd "$WORK/cwd" && "$TALLY" run -- "$PROG" exit 0 2>"$WORK/derr") || { cat "$WORK/derr"; fail "default output"; }
set -- "$WORK"/cwd/*
[ $# -eq 1 ] || { ls -la "$WORK/cwd"; fail "the run left $# entries in the current directory"; }
dir=$(basename "$1")
case $dir in tally.cli_prog.[0-9]*.d) ;; *) fail "the run's directory is $dir" ;; esac
pid=${dir#tally.cli_prog.}
pid=${pid%.d}
set -- "$WORK/cwd/$dir/cli_prog.$pid".*.prof
[ $# -eq 1 ] && [ -f "$1" ] || { ls -la "$WORK/cwd/$dir"; fail "not one cli_prog.$pid.N.prof in $dir"; }
expect_in "$WORK/derr" "tally: profile: $dir/cli_prog.$pid."
grep -q "profiles of" "$WORK/derr" && fail "a table for a run of one process"
ok "run: default output: $dir/cli_prog.$pid.N.prof, nothing else in the current directory"

# A program that forks and executes: a shell wrapper running the leaky
# cli_prog and another shell (in another directory), then executing
# cli_prog for good. Every profile goes into the run's directory; the
# summary is of the process tally started (its pid, its last image:
# cli_prog exit 3), then a line per profile.
cat >"$WORK/wrap.sh" <<EOF
#!/bin/sh
"$PROG" leaks
(cd / && sh -c 'exit 0')
exec "$PROG" exit 3
EOF
chmod +x "$WORK/wrap.sh"
mkdir "$WORK/cwd2"
(cd "$WORK/cwd2" && exec "$TALLY" run -- ../wrap.sh >/dev/null 2>"$WORK/werr")
rc=$?
[ $rc -eq 3 ] || { cat "$WORK/werr"; fail "the wrapper's status through tally run: $rc, not 3"; }
set -- "$WORK"/cwd2/*
[ $# -eq 1 ] || { ls -la "$WORK/cwd2"; fail "the wrapper left $# entries in the current directory"; }
wdir=$1
wpid=$(basename "$wdir" | sed -n 's/^tally\.wrap\.sh\.\([0-9]*\)\.d$/\1/p')
[ -n "$wpid" ] || fail "the wrapper's directory is $(basename "$wdir")"
ls "$wdir"/cli_prog.*.prof "$wdir"/*sh.*.prof >/dev/null 2>&1 || { ls -la "$wdir"; fail "no cli_prog or sh profile in the run's directory"; }
expect_in "$WORK/werr" "tally: definitely lost: 0 bytes in 0 blocks" "profiles of" \
    "tally: profile: $(basename "$wdir")/cli_prog.$wpid." \
    "tally: * marks the summary's profile"
# the table: a header, the leaky child (3000 bytes definitely lost), the
# program's own line marked, with its pid and command
sed -n '/profiles of/,/marks the summary/p' "$WORK/werr" >"$WORK/table"
expect_in "$WORK/table" "pid      peak  definite  indirect  possible reachable"
grep -E '^ +[0-9]+ +[0-9.]+ [KM]iB +2\.9 KiB +0 B +0 B +[0-9.]+ [KMi]*B .* exit +[^ ]*cli_prog leaks$' "$WORK/table" >/dev/null ||
    { cat "$WORK/table"; fail "no line for the leaky child"; }
grep -E "^\* *$wpid .* exit +[^ ]*cli_prog exit 3\$" "$WORK/table" >/dev/null ||
    { cat "$WORK/table"; fail "the program's line is not marked, or not its last image"; }
grep -q "^ *[0-9]* .*sh -c exit 0\$" "$WORK/table" || { cat "$WORK/table"; fail "no line for the inner shell"; }
ok "run: a wrapper's run in one directory, its status, the summary of its last image, a line per process"

# Following the execs: of the program's images, the summary is the last
# one's (tracking started last), whatever the numbers %n gave them (each
# executable's name counts from 0). Here the shell plants an earlier
# image's profile under its own pid, numbered 7, then executes cli_prog.
"$MP" live "$WORK/image0.prof" || fail "make_profile live"
mkdir "$WORK/execd"
"$TALLY" run -o "$WORK/execd/" -- sh -c 'cp "$0" "$1/fake.$$.7.prof"; exec "$2" exit 0' \
    "$WORK/image0.prof" "$WORK/execd" "$PROG" >/dev/null 2>"$WORK/xerr"
[ $? -eq 0 ] || { cat "$WORK/xerr"; fail "the planted image"; }
xpid=$(ls "$WORK/execd" | sed -n 's/^fake\.\([0-9]*\)\.7\.prof$/\1/p')
[ -n "$xpid" ] || { ls -la "$WORK/execd"; fail "no planted profile"; }
expect_in "$WORK/xerr" "tally: profile: $WORK/execd/cli_prog.$xpid."
sed -n '/profiles of/,/marks the summary/p' "$WORK/xerr" >"$WORK/xtable"
first=$(grep -nE "^ +$xpid .* exit +make_profile basic\$" "$WORK/xtable" | cut -d: -f1)
last=$(grep -nE "^\* *$xpid .* exit +[^ ]*cli_prog exit 0\$" "$WORK/xtable" | cut -d: -f1)
[ -n "$first" ] && [ -n "$last" ] && [ "$first" -lt "$last" ] || { cat "$WORK/xtable"; fail "the images' lines"; }
ok "run: the summary follows the program's execs to its last image"

# -o FILE: the program's profile ends at FILE; the others in FILE.d
"$TALLY" run -o "$WORK/w.prof" -- "$WORK/wrap.sh" >/dev/null 2>"$WORK/oerr"
[ $? -eq 3 ] || { cat "$WORK/oerr"; fail "-o FILE: status"; }
[ -f "$WORK/w.prof" ] && [ -d "$WORK/w.prof.d" ] || { ls -la "$WORK"; fail "-o FILE: no FILE and FILE.d"; }
"$TALLY" report --format json "$WORK/w.prof" | python3 -c '
import json, sys
m = json.load(sys.stdin)["meta"]
assert m["cmdline"].endswith("cli_prog exit 3"), m' || fail "-o FILE: FILE is not the program's profile"
ls "$WORK"/w.prof.d/cli_prog.*.prof >/dev/null 2>&1 || fail "-o FILE: the child's profile is not in FILE.d"
expect_in "$WORK/oerr" "tally: profile: $WORK/w.prof " "(the program's in $WORK/w.prof)"
# with one process, no FILE.d is left
"$TALLY" run -o "$WORK/one.prof" -- "$PROG" exit 0 2>/dev/null || fail "-o FILE, one process"
[ -f "$WORK/one.prof" ] && [ ! -e "$WORK/one.prof.d" ] || { ls -la "$WORK"; fail "-o FILE of one process left FILE.d"; }
# -o DIR/: the run's directory is DIR
"$TALLY" run -o "$WORK/d1/" -- "$WORK/wrap.sh" >/dev/null 2>"$WORK/d1err"
[ $? -eq 3 ] || { cat "$WORK/d1err"; fail "-o DIR/: status"; }
ls "$WORK"/d1/cli_prog.*.prof "$WORK"/d1/*sh.*.prof >/dev/null 2>&1 || { ls -la "$WORK/d1"; fail "-o DIR/: not in DIR"; }
# -o PATTERN: every process writes it, as TALLY_OUTPUT says
mkdir "$WORK/pat"
"$TALLY" run -o "$WORK/pat/x.%p.prof" -- "$WORK/wrap.sh" >/dev/null 2>"$WORK/perr"
[ $? -eq 3 ] || { cat "$WORK/perr"; fail "-o PATTERN: status"; }
[ "$(ls "$WORK/pat" | wc -l)" -ge 3 ] || { ls -la "$WORK/pat"; fail "-o PATTERN: one file per process"; }
expect_in "$WORK/perr" "tally: profile: $WORK/pat/x." "profiles of"
ok "run: -o FILE (FILE.d for the others), -o DIR/, -o PATTERN"

# --top: the summary's lists, and the hint that says so. make_profile's
# profile has 2 lost groups; the shell that wrote it is killed before it
# writes its own over it.
for top in 1 5; do
    "$TALLY" run -o "$WORK/top$top.%p.prof" --top $top -- sh -c '"$0" basic "$1.$$.prof"; kill -KILL $$' \
        "$MP" "$WORK/top$top" >/dev/null 2>"$WORK/toperr"
    [ $? -eq 137 ] || { cat "$WORK/toperr"; fail "--top $top: status"; }
    expect_in "$WORK/toperr" "200 bytes in 2 blocks definitely lost"
    if [ $top = 1 ]; then
        expect_in "$WORK/toperr" "  ... 1 more (--top N shows more)"
        grep -q "64 bytes in 1 block indirectly lost" "$WORK/toperr" && fail "--top 1 showed 2 groups"
    else
        expect_in "$WORK/toperr" "64 bytes in 1 block indirectly lost"
        grep -q "more (--top N" "$WORK/toperr" && fail "--top 5 cut the list"
    fi
done
ok "run: --top N cuts the summary's lists, as its hint says"

# options map onto the environment
"$TALLY" run -o "$WORK/env.prof" --backend system --depth 7 --sample 4k --pools 'mine=*cli_prog*' \
    --interval 5 --no-follow-exec --leak-check all --leak-addresses --dump-signal usr1 \
    --checkpoint 1.5 --mmap -- /usr/bin/env >"$WORK/env" 2>/dev/null || fail "run env"
expect_in "$WORK/env" "TALLY_BACKEND=system" "TALLY_DEPTH=7" "TALLY_SAMPLE=4096" "TALLY_MMAP=1" \
    "TALLY_POOLS=mine=*cli_prog*" "TALLY_INTERVAL=5" "TALLY_FOLLOW_EXEC=0" \
    "TALLY_OUTPUT=$WORK/env.prof.d/%e.%p.%n.prof" "TALLY_LEAK_CHECK=all" "TALLY_LEAK_ADDRESSES=1" \
    "TALLY_DUMP_SIGNAL=10" "TALLY_CHECKPOINT=1500ms" "TALLY_REPORT=none"
# no dump signal and no checkpoint unless asked for; TALLY_REPORT=none even if set
TALLY_REPORT=full "$TALLY" run -o "$WORK/env2.prof" --leak-check=off -- /usr/bin/env >"$WORK/env2" 2>/dev/null || fail "run env off"
expect_in "$WORK/env2" "TALLY_LEAK_CHECK=off" "TALLY_REPORT=none"
grep -q "TALLY_DUMP_SIGNAL\|TALLY_CHECKPOINT" "$WORK/env2" && fail "a dump signal or checkpoints unasked"
grep -q "TALLY_MMAP" "$WORK/env2" && fail "mappings tracked unasked"
ok "run: options become TALLY_* variables"

# ---- the report of a real profile
"$TALLY" report "$WORK/l.prof" >"$WORK/rep" || fail "report of a real profile"
expect_in "$WORK/rep" "3000 bytes in 3 blocks" \
    "leak_thousand $SRC:$(mark leak_thousand cli_prog.c)" "make_peak $SRC:$(mark make_peak cli_prog.c)"
peak_line=$(grep -A1 "^PEAK" "$WORK/rep" | tail -1)
case $peak_line in
*"4194304 bytes"*"pool malloc"*) ;;
*) cat "$WORK/rep"; fail "the peak's first stack is not make_peak's 4 MiB: $peak_line" ;;
esac
ok "report: real profile: leak at leak_thousand, peak held by make_peak"

# ---- diff between two tally_track_dump snapshots
"$TALLY" run -o "$WORK/final.prof" -- "$PROG" snap "$WORK/a.prof" "$WORK/b.prof" 2>"$WORK/snerr" ||
    { cat "$WORK/snerr"; fail "snap"; }
"$TALLY" diff "$WORK/a.prof" "$WORK/b.prof" >"$WORK/diff" || fail "diff of snapshots"
expect_in "$WORK/diff" "+12345 bytes (+1 blocks) in pool malloc" "grow_big $SRC:$(mark grow_big cli_prog.c)" \
    "+7000 bytes (+7 blocks) in pool malloc" "grow_small $SRC:$(mark grow_small cli_prog.c)"
first=$(grep -m1 "bytes (+" "$WORK/diff")
case $first in *"+12345 bytes"*) ;; *) cat "$WORK/diff"; fail "largest growth is not first" ;; esac
ok "diff: exactly the bytes added between two tally_track_dump snapshots"
