#!/bin/sh
# examples/ipc_demo's contract: `write FILE N` writes N rows in batches of
# at most 65,536 (id int64 = i, null where i % 7 == 3; name utf8 "n" and i;
# x float64 i * 0.5); `read FILE` maps any IPC file and prints each column's
# name, type, null count and the sum of a numeric column's valid values in
# full digits, then the pool's bytes after the read (the file's size and a
# few control blocks: nothing copied) and after the release (0). The sums
# are computed here independently, with awk's exact integer arithmetic.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/ipc/ipc_common.sh"
DEMO=$B/examples/ipc_demo
[ -x "$DEMO" ] || fail "$DEMO not built"

N=131073 # two full batches and one row
"$DEMO" write "$WORK/d.arrow" $N >"$WORK/write.out" || fail "ipc_demo write"
grep -q "3 batches written .*bytes=0 " "$WORK/write.out" || { cat "$WORK/write.out"; fail "write's books"; }
"$IT" dump "$WORK/d.arrow" | grep '^batch' >"$WORK/batches"
printf 'batch 0: 65536 rows\nbatch 1: 65536 rows\nbatch 2: 1 rows\n' | diff - "$WORK/batches" || fail "batch sizes"

"$DEMO" read "$WORK/d.arrow" >"$WORK/read.out" || fail "ipc_demo read"
cat "$WORK/read.out"
# sums: ids 0..N-1 but those with i % 7 == 3; x: half of all of them
want=$(awk -v n=$N 'BEGIN {
    all = (n - 1) * n / 2; k = int((n - 1 - 3) / 7) + 1; nulls = 3 * k + 7 * (k - 1) * k / 2
    printf "id int64 nulls=%.0f sum=%.0f\nname string nulls=0\n", k, all - nulls
    x = all / 2; printf "x double nulls=0 sum=%s\n", (x == int(x) ? sprintf("%.0f", x) : sprintf("%.1f", x)) }')
echo "$want" >"$WORK/want"
grep -E '^(id|name|x) ' "$WORK/read.out" | diff "$WORK/want" - || fail "columns and sums"
size=$(stat -c %s "$WORK/d.arrow")
after=$(sed -n 's/^pool bytes after the read: \([0-9]*\) .*/\1/p' "$WORK/read.out")
[ -n "$after" ] && [ "$after" -ge "$size" ] && [ "$after" -lt $((size + 65536)) ] ||
    fail "after the read the pool holds $after bytes for a file of $size: a copy?"
grep -qx "pool bytes after the release: 0" "$WORK/read.out" || fail "bytes left after the release"
grep -q "of which the mapping: $size bytes under \"ipc mmap\"" "$WORK/read.out" || fail "the mapping's books"
ok "ipc_demo: write $N rows, read them back in place, sums exact, books back to 0"

# any IPC file: every type, read through the same path
"$IT" write file "$WORK/all.arrow" || fail "ipc_interop write"
"$DEMO" read "$WORK/all.arrow" >"$WORK/all.out" || fail "ipc_demo read of every type"
grep -q "^list list<item: int32> nulls=" "$WORK/all.out" || fail "a list column"
grep -q "^uint64 uint64 nulls=.* sum=" "$WORK/all.out" || fail "a uint64 sum"
grep -q "^float float nulls=.* sum=-*[0-9.]*$" "$WORK/all.out" || fail "a float sum"
grep -q "e[+-]" "$WORK/all.out" && fail "an exponent in a sum"
ok "ipc_demo: reads a file of every type"

"$DEMO" >"$WORK/demo.out" || fail "ipc_demo with no arguments"
grep -q "^read .* through mmap (pid" "$WORK/demo.out" || fail "the second process did not read"
ok "ipc_demo: the whole story, read back in a second process"
"$DEMO" write "$WORK/x" nope 2>/dev/null && fail "a bad N accepted"
"$DEMO" read "$WORK/nothing" 2>"$WORK/err" && fail "a missing file read"
grep -q "ipc_demo: .*nothing" "$WORK/err" || fail "no message for a missing file"
ok "ipc_demo: bad arguments"
