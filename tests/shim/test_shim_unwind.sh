#!/bin/sh
# tally's own unwinder (lib/track/fast_unwind.c, stack_cache.c) against
# libunwind: with TALLY_UNWIND=check every capture is walked by both, and
# each process says at exit how many captures it compared and how many
# differed. Every one must agree, on a program written to trip a stack
# cache (alloca at the same pc, frames with and without frame pointers,
# signal frames, a second thread) and on real programs.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

UPROG=$B/tests/progs/unwind_prog

# agree NAME MIN: every "unwind check" line of run NAME says 0 differ, and
# the captures compared add up to at least MIN, and libunwind walked at
# most 1% of them (tally's unwinder must be the common path, not a
# fallback; a few signal-handler and start-up captures are libunwind's).
agree() {
    lines=$(grep "unwind check:" "$WORK/$1.err")
    [ -n "$lines" ] || { cat "$WORK/$1.err"; fail "$1: no unwind check line"; }
    echo "$lines" | awk -v name="$1" -v min="$2" '
        { captures += $4; differ += $6; left += $10 }
        END {
            bad = differ != 0 || captures < min || (left > 10 && left * 100 > captures)
            printf "%s: %s: %d captures compared, %d differ, %d left to libunwind\n", bad ? "FAIL" : "ok", name, captures, differ, left
            exit bad
        }' || fail "$1: tally's unwinder and libunwind disagree, or too few captures"
}

run prog env TALLY_UNWIND=check "$UPROG" 20000 || fail "unwind_prog failed under the shim"
"$UPROG" 20000 >"$WORK/prog.plain" || fail "unwind_prog failed"
cmp -s "$WORK/prog.plain" "$WORK/prog.out" || fail "unwind_prog: output differs under the shim"
agree prog 20000

# The default (not check) gives the same stacks: the same sites and bytes.
run fast "$UPROG" 3000 || fail "unwind_prog failed under the shim"
run slow env TALLY_UNWIND=libunwind "$UPROG" 3000 || fail "unwind_prog failed with libunwind"
"$TALLY" report --format folded "$(profile fast)" | sort >"$WORK/fast.folded"
"$TALLY" report --format folded "$(profile slow)" | sort >"$WORK/slow.folded"
[ -s "$WORK/fast.folded" ] || fail "no folded stacks"
cmp -s "$WORK/fast.folded" "$WORK/slow.folded" || {
    diff "$WORK/fast.folded" "$WORK/slow.folded" | head -20
    fail "the default unwinder's stacks differ from libunwind's"
}
echo "ok: default and libunwind profiles agree ($(wc -l <"$WORK/fast.folded") stacks)"

if command -v python3 >/dev/null; then
    printf 'import json\nr=[{"a": i, "b": [str(i)] * 3} for i in range(20000)]\nprint(len(json.loads(json.dumps(r))))\n' >"$WORK/p.py"
    run python env TALLY_UNWIND=check PYTHONMALLOC=malloc python3 "$WORK/p.py" || fail "python3 failed"
    agree python 50000
fi
if command -v perl >/dev/null; then
    run perl env TALLY_UNWIND=check perl -e 'my %h; $h{$_} = [$_, "x" x ($_ % 50)] for 1..50000; print scalar(keys %h), "\n"' ||
        fail "perl failed"
    agree perl 10000
fi
if command -v gcc >/dev/null; then
    printf 'struct s { int a; };\nint f(struct s *p) { return p->a * 3; }\n' >"$WORK/t.c"
    run gcc env TALLY_UNWIND=check gcc -O2 -c "$WORK/t.c" -o "$WORK/t.o" || fail "gcc failed"
    agree gcc 1000
fi
# cc1's stacks, named through the stack cache's turns and the stack
# table, are the stacks libunwind walks, stack for stack and byte for byte.
# Check mode takes the default path (tally's unwinder, its caches, the
# turns) and only adds libunwind's walk beside it, so its heap is laid out
# as libunwind's own run's is; with address randomization off, cc1 then
# allocates the same blocks in both runs.
CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
if [ -x "$CC1" ] && setarch -R true 2>/dev/null; then
    i=0
    while [ $i -lt 150 ]; do
        echo "int f$i(int x) { return x * $i + $((i % 7)); }"
        i=$((i + 1))
    done >"$WORK/gen.c"
    run cc1check setarch -R env TALLY_UNWIND=check "$CC1" -quiet -O2 "$WORK/gen.c" -o "$WORK/gen1.s" ||
        fail "cc1 failed in check mode"
    agree cc1check 100000
    run cc1lu setarch -R env TALLY_UNWIND=libunwind "$CC1" -quiet -O2 "$WORK/gen.c" -o "$WORK/gen2.s" ||
        fail "cc1 failed with libunwind"
    "$TALLY" report --format folded "$(profile cc1check)" | sort >"$WORK/cc1check.folded"
    "$TALLY" report --format folded "$(profile cc1lu)" | sort >"$WORK/cc1lu.folded"
    [ "$(wc -l <"$WORK/cc1lu.folded")" -gt 1000 ] || fail "cc1: too few stacks"
    cmp -s "$WORK/cc1check.folded" "$WORK/cc1lu.folded" || {
        diff "$WORK/cc1check.folded" "$WORK/cc1lu.folded" | cut -c1-300 | head -20
        fail "cc1: the stack cache named other stacks than libunwind walked"
    }
    echo "ok: cc1: $(wc -l <"$WORK/cc1lu.folded") stacks, the same as libunwind's"
else
    echo "skip: no cc1, or address randomization cannot be turned off"
fi

seq 50000 | sort -R >"$WORK/lines"
run sort env TALLY_UNWIND=check sort "$WORK/lines" || fail "sort failed"
agree sort 1

# The loader's first frame, which calls the libraries' constructors
# (_dl_start_user: no unwind table, RBP cleared), ends a walk as it ends
# libunwind's. ls's libselinux allocates from its constructor: those
# stacks are tally's unwinder's too, and agree, with none left to libunwind
# (which then never starts: test_shim_host.sh).
if ldd "$(command -v ls)" 2>/dev/null | grep -q libselinux; then
    run ls env TALLY_UNWIND=check ls -l / || fail "ls failed"
    agree ls 10
    grep -q ", 0 left to it," "$WORK/ls.err" || {
        grep "unwind check" "$WORK/ls.err"
        fail "ls: a constructor's stack was left to libunwind"
    }
    echo "ok: ls: its constructors' stacks end at the loader's first frame, none left to libunwind"
else
    echo "skip: ls has no libselinux, whose constructor allocates"
fi
# libunwind missing (an object by its soname that is no library): the
# program runs as it would, tally says so once, at the first walk that
# needs libunwind, and those stacks have no frames; a program whose stacks
# are all tally's unwinder's never says it.
SONAME=$(sed -n 's/^#define TALLY_LIBUNWIND_SONAME "\(.*\)"$/\1/p' "$B/config.h")
[ -n "$SONAME" ] || fail "config.h names no libunwind soname"
mkdir -p "$WORK/nolu" "$WORK/listed"
echo "not a library" >"$WORK/nolu/$SONAME"
# A directory of the test's own, which nothing else changes between the
# runs (/ holds /tmp, whose time other tests' files move).
for f in a b c; do echo "$f" >"$WORK/listed/$f"; done
ls -l "$WORK/listed" >"$WORK/ls.plain" 2>&1 || fail "ls failed"
run nolu_default env LD_LIBRARY_PATH="$WORK/nolu" ls -l "$WORK/listed" || fail "ls failed without libunwind"
cmp -s "$WORK/ls.plain" "$WORK/nolu_default.out" || fail "ls: output changed without libunwind"
grep -q "could not be loaded" "$WORK/nolu_default.err" && fail "ls: told of libunwind, which no walk needed"
run nolu_forced env LD_LIBRARY_PATH="$WORK/nolu" TALLY_UNWIND=libunwind ls -l "$WORK/listed" ||
    fail "ls failed without libunwind, TALLY_UNWIND=libunwind"
cmp -s "$WORK/ls.plain" "$WORK/nolu_forced.out" || fail "ls: output changed without libunwind"
[ "$(grep -c "$SONAME could not be loaded" "$WORK/nolu_forced.err")" -eq 1 ] || {
    cat "$WORK/nolu_forced.err"
    fail "ls: libunwind's absence not said exactly once"
}
"$TALLY" report --format folded "$(profile nolu_forced)" >"$WORK/nolu.folded" ||
    fail "the profile without libunwind cannot be read"
[ -s "$WORK/nolu.folded" ] || fail "the profile without libunwind has no stacks"
# Each such stack is the one frame of tally's that asked for it
# (unwind.c's tt_capture), never a guess at the program's.
grep -q "__libc_start" "$WORK/nolu.folded" && fail "a stack was walked with no unwinder"
echo "ok: without libunwind, ls runs as it would, told once"

echo "PASS"
