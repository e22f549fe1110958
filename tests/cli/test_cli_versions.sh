#!/bin/sh
# Profile versions: a version 3 profile (the stack tree, varint records) and
# a version 2 one (frame arrays, fixed-size records) of the same program
# give the same report in every format, so the reader's tree is the same
# whichever it came from; and the tree is what makes version 3 small: a
# profile of 65,536 stacks that share their callers is a tenth of its
# version 2 size. Version 4 adds each record's temporary bytes: a version 3
# profile reads with none, and the big profiles (no temporaries) are the
# same in versions 4 and 2.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

# ---- the same content, two versions: the same reports
# make_profile writes its own return addresses; with ASLR off two runs of it
# have the same ones, so the two files hold the same stacks.
command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null || {
    echo "SKIP: setarch -R (ASLR off) is needed to write two profiles with the same addresses"
    exit 77
}
same_addresses() { setarch "$(uname -m)" -R "$@"; }
# normalise what differs by design: the file's name, the writer's pid, the version
norm() { sed -e "s|$WORK/v[23][^ \"]*|FILE|g" -e 's/pid [0-9]*/pid N/' -e 's/"pid": [0-9]*/"pid": N/' \
    -e 's/"version": [0-9]/"version": V/' "$1"; }
for kind in v3:v2 big:big-v2; do
    k3=${kind%%:*}
    k2=${kind#*:}
    if [ "$k3" = big ]; then
        same_addresses "$MP" big 4096 "$WORK/v3.prof" && same_addresses "$MP" big-v2 4096 "$WORK/v2.prof"
    else
        same_addresses "$MP" "$k3" "$WORK/v3.prof" && same_addresses "$MP" "$k2" "$WORK/v2.prof"
    fi || fail "make_profile $kind"
    want=3
    [ "$k3" = big ] && want=4
    [ "$(od -An -tu4 -j8 -N4 "$WORK/v3.prof" | tr -d ' ')" = $want ] || fail "$k3 is not version $want"
    [ "$(od -An -tu4 -j8 -N4 "$WORK/v2.prof" | tr -d ' ')" = 2 ] || fail "$k2 is not version 2"
    for fmt in text json folded massif html; do
        for v in 2 3; do
            "$TALLY" report "$WORK/v$v.prof" --format "$fmt" -o "$WORK/r$v.$fmt" || fail "$fmt of version $v"
            norm "$WORK/r$v.$fmt" >"$WORK/n$v.$fmt"
        done
        cmp -s "$WORK/n2.$fmt" "$WORK/n3.$fmt" || {
            diff "$WORK/n2.$fmt" "$WORK/n3.$fmt" | head -20
            fail "$kind: the $fmt reports of versions 2 and 3 differ"
        }
    done
    # pprof is gzip with a timestamp-free header: its protobuf must be the same
    for v in 2 3; do
        "$TALLY" report "$WORK/v$v.prof" --format pprof -o "$WORK/r$v.pb.gz" || fail "pprof of version $v"
    done
    cmp -s "$WORK/r2.pb.gz" "$WORK/r3.pb.gz" || fail "$kind: the pprof reports of versions 2 and 3 differ"
    "$TALLY" diff "$WORK/v2.prof" "$WORK/v3.prof" >"$WORK/d.txt" || fail "diff of versions 2 and 3"
    expect_in "$WORK/d.txt" "0 grew, 0 shrank"
    ok "$kind: versions 2 and 3 give the same text, json, folded, massif, html and pprof, and no diff"
done

# ---- version 4's temporary bytes, and a version 3 profile without them
"$MP" basic "$WORK/b4.prof" && "$MP" v3 "$WORK/b3.prof" || fail "make_profile basic, v3"
for v in 3 4; do
    "$TALLY" report "$WORK/b$v.prof" --format json -o "$WORK/b$v.json" || fail "json of version $v"
done
python3 - "$WORK/b3.json" "$WORK/b4.json" <<'PY' || fail "temporary bytes by version"
import json, sys
r3, r4 = (json.load(open(f)) for f in sys.argv[1:])
assert (r3["meta"]["version"], r4["meta"]["version"]) == (3, 4)
t3 = {t["total_bytes"]: t for t in r3["top"]}
t4 = {t["total_bytes"]: t for t in r4["top"]}
assert t3[5000000]["temporary_count"] == t4[5000000]["temporary_count"] == 9000
assert t3[5000000]["temporary_bytes"] == 0, t3[5000000]
assert t4[5000000]["temporary_bytes"] == 4500000, t4[5000000]
PY
ok "version 4 records carry temporary bytes; version 3's read as 0"

# ---- the tree's size: 65,536 stacks of 16 frames, the inner 5 varying
"$MP" big 65536 "$WORK/b3.prof" && "$MP" big-v2 65536 "$WORK/b2.prof" || fail "make_profile big"
s3=$(wc -c <"$WORK/b3.prof")
s2=$(wc -c <"$WORK/b2.prof")
[ $((s3 * 10)) -le "$s2" ] || fail "version 3 is $s3 bytes, more than a tenth of version 2's $s2"
ok "65536 stacks: $s3 bytes in version 3, $s2 in version 2"
