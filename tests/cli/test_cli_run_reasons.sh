#!/bin/sh
# Why a profile was written, in words: META's reason (docs/FORMAT.md) in
# tally report's header and JSON, and in the "ended" column of tally run's
# table. The profiles are make_profile's, their reason set to each value.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is needed to set a profile's reason"; exit 77; }
"$MP" basic "$WORK/basic.prof" || fail "make_profile basic"
"$MP" live "$WORK/live.prof" || fail "make_profile live"

# with_reason IN OUT REASON: IN with META's reason set to REASON and the
# checksum made good again.
with_reason() {
    python3 - "$@" <<'PY' || fail "with_reason $*"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, meta, end = 16, None, None
while off + 16 <= len(data):
    tag, count, length = struct.unpack_from("<IIQ", data, off)
    if tag == 0xFFFFFFFF:
        end = off
        break
    if tag == 1:
        meta = off + 16
    off += 16 + length
assert meta is not None and end is not None
struct.pack_into("<I", data, meta + 4, int(sys.argv[3], 0))
h = 0xcbf29ce484222325
for b in data[:end]:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
struct.pack_into("<Q", data, end + 16, h)
open(sys.argv[2], "wb").write(data)
PY
}

SIGTERM=15 SIGSEGV=11
# reason: the header's words (make_profile's profiles are 2 s long)
check() {
    reason=$1 words=$2 signal=$3
    with_reason "$WORK/basic.prof" "$WORK/r.prof" "$reason"
    "$TALLY" report "$WORK/r.prof" --leaks >"$WORK/r.txt" || fail "report of reason $reason"
    line=$(sed -n 2p "$WORK/r.txt")
    case $line in
    "program: "*" (pid "*"): $words") ;;
    *) fail "reason $reason: '$line', not ': $words'" ;;
    esac
    "$TALLY" report "$WORK/r.prof" --format json >"$WORK/r.json" || fail "json of reason $reason"
    python3 - "$WORK/r.json" "$S/docs/report.schema.json" "$reason" "$signal" <<'PY' || fail "json of reason $reason"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["meta"]
want = int(sys.argv[3], 0)
assert m["reason"] == want & 0xff, m
assert m["signal"] == (int(sys.argv[4]) if sys.argv[4] != "-" else None), m
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[2])))
except ImportError:
    pass
PY
}
check 0 "written at exit after 2.0 s" -
check 1 "written by tally_track_dump at 2.0 s" -
check 2 "written on the dump signal at 2.0 s" -
check 3 "checkpoint at 2.0 s; the process did not exit" -
check 4 "written before exec at 2.0 s" -
check $((5 | SIGTERM << 8)) "written on SIGTERM at 2.0 s; the process was killed by it" $SIGTERM
check $((5 | SIGSEGV << 8)) "written on SIGSEGV at 2.0 s; the process was killed by it" $SIGSEGV
check 9 "written for an unknown reason (9) at 2.0 s" -
ok "report: each reason in words, and meta.reason and meta.signal in json"

# tally run's table: a program that leaves profiles of each kind under
# made-up pids, where the run's pattern puts them
[ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 0; }
if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 0
fi
mkdir "$WORK/t"
with_reason "$WORK/basic.prof" "$WORK/t1" 3
with_reason "$WORK/basic.prof" "$WORK/t2" $((5 | SIGTERM << 8))
with_reason "$WORK/basic.prof" "$WORK/t3" 4
with_reason "$WORK/basic.prof" "$WORK/t4" 1
with_reason "$WORK/basic.prof" "$WORK/t5" 2
printf 'not a profile' >"$WORK/t7"
T=$WORK/t
"$TALLY" run -o "$T/%p.prof" -- sh -c \
    "cp $WORK/t1 $T/90001.prof; cp $WORK/t2 $T/90002.prof; cp $WORK/t3 $T/90003.prof;
     cp $WORK/t4 $T/90004.prof; cp $WORK/t5 $T/90005.prof; cp $WORK/live.prof $T/90006.prof;
     cp $WORK/t7 $T/90007.prof" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "tally run"; }
sed -n '/profiles of/,$p' "$WORK/err" >"$WORK/table"
row() {
    grep -E "$1" "$WORK/table" >/dev/null || { cat "$WORK/table"; fail "no row '$1'"; }
}
row "^ +pid +peak +definite +indirect +possible +reachable +live +ended +command$"
row "^ +90001 +[0-9.]+ [KM]iB +200 B +64 B +32 B +100 B +0 B +checkpoint +make_profile basic$"
row "^ +90002 .* SIGTERM +make_profile basic$"
row "^ +90003 .* exec +make_profile basic$"
row "^ +90004 .* dump +make_profile basic$"
row "^ +90005 .* dump signal +make_profile basic$"
row "^ +90006 +[0-9.]+ [KM]iB +- +- +- +- +[0-9]+ B +exit +make_profile basic$"
row "^ +90007 +cannot be read: $T/90007.prof$"
row "^\* *[0-9]+ .* exit +sh -c cp "
row "^tally: [0-9]+ profiles of [0-9]+ processes in $T/%p.prof:$"
expect_in "$WORK/err" "tally: $T/90007.prof: "
ok "run: the table says how each profile's image ended, '-' where no leak check ran"
