#!/bin/sh
# tally report --format html: one self-contained, interactive page. The page
# must refer to nothing outside itself; then tests/cli/html_check.js clicks
# through it in Debian's chromium (playwright-core from tools/html's npm
# install) and checks its figures against `tally report --format text` of
# the same profile: make_profile's basic profile (its frames are
# make_profile's own functions), and a real C++ program run under the shim
# (tests/progs/leak_cxx containers: std::map, std::vector and std::string
# allocations, so the allocator and libstdc++ frames must fold away).
# Skips when chromium, node or playwright-core is missing.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/p.prof" || fail "make_profile"
"$TALLY" report "$WORK/p.prof" --format html -o "$WORK/p.html" || fail "html exited $?"
# self-contained: scripts and styles inline, nothing to fetch
grep -Eiq '<script[^>]*src|<link|<img|<iframe|@import|url\(' "$WORK/p.html" && fail "the page refers to outside resources"
grep -q '<script type=.application/json. id=tally-data>' "$WORK/p.html" || fail "no data blob"
grep -q 'd3-flame-graph' "$WORK/p.html" || fail "d3-flame-graph is not inlined"
[ "$(grep -c '</script>' "$WORK/p.html")" -eq 4 ] || fail "a </script> inside the data or scripts"
ok "html: self-contained"

command -v node >/dev/null || { echo "SKIP: node is not installed (tools/install-deps installs it)"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium is not installed (tools/install-deps installs it)"; exit 77; }
PLAYWRIGHT=$S/tools/html/node_modules/playwright-core
[ -d "$PLAYWRIGHT" ] || { echo "SKIP: playwright-core is not installed: run tools/install-deps"; exit 77; }
export PLAYWRIGHT

# check PAGE PROFILE FUNC LEAKFUNC OUTER [real]: the page against the text
# report (html_check.js says what each is)
check() {
    "$TALLY" report "$2" --format text --top 100000 >"$WORK/text" || fail "text report of $2"
    timeout 300 node "$S/tests/cli/html_check.js" "$1" "$WORK/text" "$3" "$4" "$5" ${6:-} >"$WORK/check" 2>&1
    rc=$?
    cat "$WORK/check"
    [ $rc -eq 0 ] || fail "the page of $2 in chromium"
}
check "$WORK/p.html" "$WORK/p.prof" peak_leaf leaky_leaf 'top '
ok "html: make_profile's page clicks through and matches the text report"

if [ -n "${TALLY_TEST_SANITIZERS:-}" ] || [ ! -f "$B/.libs/libtally-preload.so" ]; then
    echo "SKIP: the real program's page: the shim cannot be preloaded here"
    exit 0
fi
"$TALLY" run -o "$WORK/cxx.prof" -- "$B/tests/progs/leak_cxx" containers >/dev/null 2>"$WORK/run.err" ||
    { cat "$WORK/run.err"; fail "tally run leak_cxx"; }
"$TALLY" report "$WORK/cxx.prof" --format html -o "$WORK/cxx.html" || fail "html of cxx.prof"
check "$WORK/cxx.html" "$WORK/cxx.prof" 'containers()' 'containers()' 'main ' real
ok "html: a C++ program's page clicks through and matches the text report"
