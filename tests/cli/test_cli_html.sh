#!/bin/sh
# tally report --format html: one self-contained file (nothing fetched),
# rendered by headless Chromium; the DOM it builds must hold the stacked
# area chart (a layer per pool), the pools, peak and leak tables and the
# flame graph. Skips when chromium is not installed.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/p.prof" || fail "make_profile"
"$TALLY" report "$WORK/p.prof" --format html -o "$WORK/r.html" || fail "html exited $?"
# self-contained: no scripts, stylesheets, images or links to fetch
grep -Eiq '<script|<link|<img|src=|href=|@import|url\(' "$WORK/r.html" && fail "the page refers to outside resources"
ok "html: self-contained"

command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
mkdir -p "$WORK/profile"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$WORK/profile" \
    --dump-dom "file://$WORK/r.html" >"$WORK/dom.html" 2>"$WORK/chromium.err" || {
    tail -5 "$WORK/chromium.err"
    fail "chromium could not render the page"
}
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read the DOM"; exit 77; }
python3 - "$WORK/dom.html" <<'PY' || fail "the rendered DOM"
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.areas, self.stack, self.rows, self.text = {}, [], [], {}, {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = tag
        if tag == "path" and a.get("class") == "area":
            self.areas.append(a.get("data-pool"))
        if tag in ("table", "svg") and "id" in a:
            self.stack.append(a["id"])
        if tag == "tr" and self.stack:
            self.rows[self.stack[-1]] = self.rows.get(self.stack[-1], 0) + 1
    def handle_endtag(self, tag):
        if tag in ("table", "svg") and self.stack:
            self.stack.pop()
    def handle_data(self, d):
        if self.stack:
            self.text[self.stack[-1]] = self.text.get(self.stack[-1], "") + d

p = P()
p.feed(open(sys.argv[1]).read())
for i, tag in (("chart", "svg"), ("flame", "svg"), ("pools", "table"), ("peak", "table"), ("leaks", "table"),
               ("possible", "table"), ("suppressed", "table"), ("leak-kinds", "p"), ("rules", "ul")):
    assert p.ids.get(i) == tag, "no <%s id=%s> in the DOM" % (tag, i)
assert p.areas == ["malloc", "arena"], p.areas
assert p.rows["pools"] == 3 and "arena" in p.text["pools"] and "1000000" in p.text["pools"]
assert p.rows["peak"] == 6 and "peak_leaf" in p.text["peak"]
assert p.rows["leaks"] == 3 and "leaky_leaf" in p.text["leaks"] and "200" in p.text["leaks"]
assert "definitely lost" in p.text["leaks"] and "indirectly lost" in p.text["leaks"], p.text["leaks"]
assert "possibly lost" in p.text["possible"] and "reachable" not in p.ids
assert "still reachable" in p.text["suppressed"] and "_IO_file_doallocate" in p.text["suppressed"]
assert "peak_leaf" in p.text["flame"] and "pool arena" in p.text["flame"]
print("ok: chromium renders the chart (2 pool layers), the pools, peak and leak tables by kind and the flame graph")
PY
