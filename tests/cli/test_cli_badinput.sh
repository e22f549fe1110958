#!/bin/sh
# Bad input: a missing, empty, truncated, corrupt or wrong-version profile
# gives one clear line on stderr and exit status 2, never a signal, from
# every command that reads profiles.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/good.prof" || fail "make_profile"
size=$(wc -c <"$WORK/good.prof")

# expect_bad NAME FILE MESSAGE
expect_bad() {
    for cmd in "report" "report --format json" "diff $WORK/good.prof"; do
        # shellcheck disable=SC2086
        "$TALLY" $cmd "$2" >/dev/null 2>"$WORK/err"
        rc=$?
        [ "$rc" -eq 2 ] || { cat "$WORK/err"; fail "$1: tally $cmd exited $rc, not 2"; }
        [ "$(wc -l <"$WORK/err")" -eq 1 ] || { cat "$WORK/err"; fail "$1: not one line on stderr"; }
        grep -qF -- "$3" "$WORK/err" || { cat "$WORK/err"; fail "$1: message is not '$3'"; }
    done
    ok "$1: $(cat "$WORK/err")"
}

expect_bad missing "$WORK/nope.prof" "cannot open: No such file or directory"
: >"$WORK/empty.prof"
expect_bad empty "$WORK/empty.prof" "not a tally profile"
expect_bad directory "$WORK" "not a regular file"
printf 'hello, world, this is no profile\n' >"$WORK/text.prof"
expect_bad "not a profile" "$WORK/text.prof" "not a tally profile"
head -c 12 "$WORK/good.prof" >"$WORK/short.prof"
expect_bad "shorter than the header" "$WORK/short.prof" "not a tally profile"
for cut in 16 40 $((size / 2)) $((size - 1)) $((size - 9)); do
    head -c "$cut" "$WORK/good.prof" >"$WORK/trunc.prof"
    expect_bad "truncated at $cut" "$WORK/trunc.prof" "truncated profile"
done
# one flipped byte in the middle
cp "$WORK/good.prof" "$WORK/flip.prof"
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$WORK/flip.prof" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$WORK/flip.prof" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_bad "one byte flipped" "$WORK/flip.prof" "corrupt profile: checksum mismatch"

# broken in ways a checksum does not catch (make_profile writes a valid one)
"$MP" badversion "$WORK/v4.prof"
expect_bad "version 4" "$WORK/v4.prof" "unsupported profile version 4 (this tally reads versions 1 to 3)"
for kind in badref:"refers to stack 77" unknownpool:"refers to pool 9" dupsec:"duplicate STACKS" \
    badcount:"RECORDS count" longstr:"longer than 65536" deepstack:"node 257 is 257 frames deep" \
    badnode:"names a parent that is not before it" badframe:"node 1 refers to frame 1000" \
    badstacknode:"stack 1 refers to node 1000, which is not in the file" \
    trailing:"after the end section" zerostack:"a stack has id 0" \
    badkind:"LEAKS group 5 has an unknown kind 9" \
    kindunclassified:"has kind 1, but the profile is not classified" \
    badblocks:"LEAK_BLOCKS do not add up to LEAKS group 0" \
    blockref:"LEAK_BLOCKS refers to group 99, which is not in the file" \
    badnames:"NAMES refers to a string that is not there: 3" \
    badnamesframe:"NAMES names a frame that is not there or not in order: frame 5000"; do
    "$MP" "${kind%%:*}" "$WORK/bad.prof"
    expect_bad "${kind%%:*}" "$WORK/bad.prof" "corrupt profile: "
    grep -qF -- "${kind#*:}" "$WORK/err" || { cat "$WORK/err"; fail "${kind%%:*}: says no '${kind#*:}'"; }
done

# usage errors are status 2 as well
"$TALLY" report >/dev/null 2>&1; [ $? -eq 2 ] || fail "report without a file"
"$TALLY" report "$WORK/good.prof" --format nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown format"
"$TALLY" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command"
ok "usage errors exit 2"
