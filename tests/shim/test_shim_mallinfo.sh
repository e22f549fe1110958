#!/bin/sh
# mallinfo2 and mallinfo answer from the allocator that serves the program:
# 10 MB of live blocks raise uordblks by at least that, and freeing them
# lowers it again (tests/progs/align_prog.cc mallinfo). Without the shim's
# answer, glibc's would describe its own arena, which mimalloc leaves empty.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"
ALIGN=$B/tests/progs/align_prog

"$ALIGN" mallinfo >"$WORK/plain.out" 2>&1 || { cat "$WORK/plain.out"; fail "mallinfo without tally"; }
for setting in TALLY_BACKEND=mimalloc TALLY_BACKEND=system TALLY_SAMPLE=65536; do
    name=$(echo "$setting" | tr = _)
    run "$name" env "$setting" "$ALIGN" mallinfo || {
        cat "$WORK/$name.out"
        fail "mallinfo under the shim with $setting"
    }
    echo "ok: $setting: $(head -n 1 "$WORK/$name.out")"
done
exit 0
