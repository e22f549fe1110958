#!/bin/sh
# Where glibc fails, tally fails too: every entry point of the malloc family
# and of operator new, asked for 1<<30, 1<<40, 1<<46 and PTRDIFF_MAX+1 bytes
# (and such alignments), answers under the shim as it does without it: the
# same NULL and errno, posix_memalign's ENOMEM with *memptr untouched, the
# same bad_alloc. tests/progs/align_prog.cc prints one line per call; the
# plain run's lines are the expected ones.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"
ALIGN=$B/tests/progs/align_prog

"$ALIGN" huge >"$WORK/plain.out" 2>&1 || { cat "$WORK/plain.out"; fail "align_prog huge failed without tally"; }
# The comparison means something only if glibc does fail here. It always
# refuses more than PTRDIFF_MAX; 64 TiB, unless the kernel overcommits
# without limit (vm.overcommit_memory=1).
grep -q "^malloc(PTRDIFF_MAX+1): NULL ENOMEM$" "$WORK/plain.out" || fail "glibc gave PTRDIFF_MAX+1 bytes"
if [ "$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)" != 1 ]; then
    grep -q "^malloc(1<<46): NULL ENOMEM$" "$WORK/plain.out" || fail "glibc gave 64 TiB"
    grep -q "^operator new(1<<46): bad_alloc$" "$WORK/plain.out" || fail "operator new gave 64 TiB"
fi

for b in mimalloc system; do
    run "huge_$b" env TALLY_BACKEND=$b "$ALIGN" huge || { cat "$WORK/huge_$b.err"; fail "align_prog huge under $b"; }
    diff "$WORK/plain.out" "$WORK/huge_$b.out" >"$WORK/huge_$b.diff" || {
        cat "$WORK/huge_$b.diff"
        fail "under the shim with TALLY_BACKEND=$b, huge requests are answered unlike glibc's"
    }
    # Nothing was left live, and no failed call was booked.
    expect_leaks "huge_$b" 0 0
    echo "ok: $(wc -l <"$WORK/plain.out") huge requests answered as glibc does, under $b"
done
exit 0
