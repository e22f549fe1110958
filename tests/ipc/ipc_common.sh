# ipc_common.sh: sourced by tests/ipc/test_ipc_*.sh.
#
# IT is tests/ipc/ipc_interop (write and dump IPC files), JS the directory
# of apache-arrow's npm install (tests/ipc/js, installed by tools/install-deps).
set -u
B=${abs_top_builddir:-$(pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
IT=$B/tests/ipc/ipc_interop
JS=$S/tests/ipc/js
[ -x "$IT" ] || { echo "FAIL: $IT not built"; exit 99; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-ipc.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

ok() {
    echo "ok: $*"
}

# have_arrow_js: node and apache-arrow are there.
have_arrow_js() {
    command -v node >/dev/null && [ -d "$JS/node_modules/apache-arrow" ]
}
