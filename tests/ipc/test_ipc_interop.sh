#!/bin/sh
# Arrow IPC against a real implementation, apache-arrow from npm (pinned by
# tests/ipc/js/package-lock.json), both ways: what tally writes, apache-arrow
# reads with the same types, nulls and values; what apache-arrow writes,
# tally reads the same. Files and streams; every type tally has, nulls,
# slices with offsets, an empty batch and several batches, schema metadata
# and a non-nullable field. Both sides print the bytes as the same text
# (tests/ipc/ipc_interop.c, tests/ipc/js/interop.js), compared line for line.
# Skips when node or the npm install is missing.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/ipc/ipc_common.sh"

have_arrow_js || { echo "SKIP: node or apache-arrow missing: run tools/install-deps"; exit 77; }

# same FILE: tally's and apache-arrow's reading of FILE agree
same() {
    "$IT" dump "$1" >"$WORK/c.txt" || fail "tally cannot read $1"
    node "$JS/interop.js" dump "$1" >"$WORK/js.txt" || fail "apache-arrow cannot read $1"
    diff "$WORK/c.txt" "$WORK/js.txt" >"$WORK/diff" || {
        cut -c 1-200 "$WORK/diff" | head -20
        fail "tally and apache-arrow read $1 differently"
    }
}

# expect FILE LINE...: each line (a prefix) is in tally's reading, so the
# comparison above cannot pass on two empty readings
expect() {
    f=$1
    shift
    for l in "$@"; do
        grep -qF -- "$l" "$WORK/c.txt" || fail "$f: no '$l'"
    done
}

# the fields both sides write: every type, as tally names it
FIELDS="bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float double string binary"
expect_fields() {
    for t in $FIELDS; do
        expect "$1" "field $t: $t"
    done
    expect "$1" "field list: list<item: int32>" "field struct: struct<a: int64, b: string>"
}

for format in stream file; do
    "$IT" write $format "$WORK/tally.$format" || fail "tally write $format"
    same "$WORK/tally.$format"
    expect_fields "tally.$format"
    expect "tally.$format" "meta origin=tally" "batch 0: 100 rows" "batch 1: 0 rows" "batch 2: 101 rows" "batch 3: 20 rows" \
        "batch 4: 37 rows"
    grep -q " null " "$WORK/c.txt" || fail "no nulls in tally.$format"
    ok "interop: apache-arrow reads tally's $format as tally does"

    node "$JS/interop.js" write $format "$WORK/js.$format" || fail "apache-arrow write $format"
    same "$WORK/js.$format"
    expect_fields "js.$format"
    expect "js.$format" "field strict: int32 not null" "meta origin=apache-arrow" "batch 1: 0 rows" \
        "batch 2: 101 rows" "batch 4: 37 rows"
    ok "interop: tally reads apache-arrow's $format as apache-arrow does"
done
