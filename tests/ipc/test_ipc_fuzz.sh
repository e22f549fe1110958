#!/bin/sh
# A short libFuzzer run of the Arrow IPC reader (tests/ipc/fuzz_ipc_read.c),
# as tests/cli/test_cli_fuzz.sh does for the profile reader, from a seed
# corpus of files and streams that tally wrote (tests/ipc/ipc_interop) and,
# when node and its npm install are there, that apache-arrow wrote.
# TALLY_FUZZ_SECONDS sets the length (default 20). Skips without clang's
# fuzzer runtime.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/ipc/ipc_common.sh"

# The reader's sources are compiled here, instrumented for libFuzzer's
# coverage and ASan's checks; the rest (pools, buffers, arrays) comes from
# the built libtally.so.
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
[ -f "$B/.libs/libtally.so" ] || { echo "SKIP: libtally.so is not built (--disable-shared?)"; exit 77; }
# A sanitized libtally.so carries gcc's ASan runtime, which cannot share a
# process with clang's; CI's first (plain) pass runs the fuzzer.
if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: libtally.so is built with gcc's sanitizers; the fuzz target needs clang's"
    exit 77
fi
"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$B" -I"$S/include" -I"$S/lib" "$S/tests/ipc/fuzz_ipc_read.c" \
    "$S/lib/ipc/flatbuf_read.c" "$S/lib/ipc/error.c" "$S/lib/ipc/message_read.c" \
    "$S/lib/ipc/schema_read.c" "$S/lib/ipc/batch_read.c" "$S/lib/ipc/reader.c" "$S/lib/ipc/fd_reader.c" \
    -L"$B/.libs" -Wl,-rpath,"$B/.libs" -ltally \
    -o "$WORK/fuzz" 2>"$WORK/cc.err" || {
    tail -3 "$WORK/cc.err"
    echo "SKIP: clang cannot build a libFuzzer target here (libclang-rt-*-dev missing?)"
    exit 77
}

mkdir -p "$WORK/corpus"
for format in stream file; do
    "$IT" write $format "$WORK/corpus/tally.$format" || fail "ipc_interop write $format"
done
if have_arrow_js; then
    for format in stream file; do
        node "$JS/interop.js" write $format "$WORK/corpus/arrow-js.$format" || fail "interop.js write $format"
    done
fi
ls "$WORK/corpus" | sed 's/^/seed: /'

# ASan under libFuzzer: allocator failures are answers (ENOMEM), not aborts.
export ASAN_OPTIONS="allocator_may_return_null=1:${ASAN_OPTIONS-}"
"$WORK/fuzz" -runs=0 -artifact_prefix="$WORK/" "$WORK/corpus" >"$WORK/seed.log" 2>&1 || { tail -30 "$WORK/seed.log"; fail "a seed crashed the reader"; }
"$WORK/fuzz" -max_total_time="${TALLY_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -artifact_prefix="$WORK/" -max_len=65536 -print_final_stats=1 "$WORK/corpus" >"$WORK/fuzz.log" 2>&1 || {
    tail -40 "$WORK/fuzz.log"
    ls "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* 2>/dev/null && od -An -tx1 "$WORK"/crash-* | head -40
    fail "libFuzzer found a crash in the IPC reader"
}
grep -E "stat::number_of_executed_units|cov:" "$WORK/fuzz.log" | tail -2
ok "fuzz: ${TALLY_FUZZ_SECONDS:-20} s without a finding"
