#!/bin/sh
# make installcheck (and so make distcheck): the installed tally, as a user
# finds it. A program built with only `pkg-config --cflags --libs tally`
# links libtally.so (and libtally-jemalloc.so, when built) and runs; one built with `pkg-config --static --libs
# tally` links libtally.a (no libtally.so needed at run time) and runs,
# and, when jemalloc is not built in (its malloc would clash with libc's),
# so does a fully static one. The preload module is its .so alone; the
# docs are under docdir; tally(1) names the real paths; the installed
# tally finds its shim and runs a program.
#
# Usage: test_install.sh SRCDIR LIBDIR BINDIR DOCDIR MANDIR (as installed,
# with DESTDIR in front when there is one).
set -u
SRC=$1 LIBDIR=$2 BINDIR=$3 DOCDIR=$4 MANDIR=$5
CC=${CC:-cc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
ok() {
    echo "ok: $*"
}

PC=$LIBDIR/pkgconfig/tally.pc
[ -f "$PC" ] || fail "no $PC"
# The .pc names the configured prefix; under DESTDIR it is elsewhere.
prefix=$(sed -n 's/^prefix=//p' "$PC")
root=${DESTDIR:-}
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
pc() {
    pkg-config --define-variable=prefix="$root$prefix" "$@" tally
}
pc --exists || fail "pkg-config does not find tally"

# ---- dynamic
$CC -o "$WORK/dyn" "$SRC/tests/install/link_prog.c" $(pc --cflags) $(pc --libs) 2>"$WORK/cc.err" ||
    { cat "$WORK/cc.err"; fail "a dynamic link with pkg-config --libs tally failed"; }
readelf -d "$WORK/dyn" | grep -q 'NEEDED.*libtally\.so' || fail "the dynamic program does not need libtally.so"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$WORK/dyn" || fail "the dynamic program failed"
# The jemalloc backend is a library of its own that nothing calls directly:
# pkg-config's flags must keep it even where the linker drops such ones.
if pc --libs | grep -q tally-jemalloc; then
    readelf -d "$WORK/dyn" | grep -q 'NEEDED.*libtally-jemalloc\.so' ||
        fail "the dynamic program does not need libtally-jemalloc.so: no jemalloc pools"
fi
ok "install: a program linked with pkg-config --cflags --libs tally runs"

# ---- libtally.a, with its private libraries from pkg-config --static: the
# link fails when one is missing (libm's round, liblzma under libunwind)
[ -f "$LIBDIR/libtally.a" ] || fail "no libtally.a installed"
# libtally.a itself; what it needs as the system has it (Debian's
# libunwind.a is not PIC, so a PIE cannot take it).
static_libs=$(pc --static --libs | sed 's/ -ltally / -Wl,-Bstatic -ltally -Wl,-Bdynamic /; s/^-ltally /-Wl,-Bstatic -ltally -Wl,-Bdynamic /; s/ -ltally-jemalloc / -Wl,-Bstatic -ltally-jemalloc -Wl,-Bdynamic /')
case $static_libs in *Bstatic*) ;; *) fail "no -ltally in pkg-config --static --libs tally: $static_libs" ;; esac
# shellcheck disable=SC2086
$CC -o "$WORK/sta" "$SRC/tests/install/link_prog.c" $(pc --cflags) $static_libs 2>"$WORK/cc.err" || { cat "$WORK/cc.err"; fail "a link of libtally.a with pkg-config --static --libs tally failed"; }
readelf -d "$WORK/sta" | grep -q 'NEEDED.*libtally' && fail "the static link still needs libtally.so"
env -u LD_LIBRARY_PATH "$WORK/sta" || fail "the program with libtally.a failed"
ok "install: a program linked with libtally.a by pkg-config --static --libs tally runs ($(pc --static --libs | tr -s ' '))"

if pc --static --libs | grep -q jemalloc; then
    echo "ok: install: no fully static link: jemalloc is built in, and its malloc clashes with libc's (README, Building)"
else
    $CC -static -o "$WORK/full" "$SRC/tests/install/link_prog.c" $(pc --cflags) $(pc --static --libs) \
        2>"$WORK/cc.err" || { cat "$WORK/cc.err"; fail "a fully static link (-static) failed"; }
    "$WORK/full" || fail "the fully static program failed"
    ok "install: a fully static program (-static) runs"
fi

# ---- what is installed, and what is not
[ -f "$LIBDIR/libtally-preload.so" ] || fail "no libtally-preload.so"
[ -f "$LIBDIR/libtally-attach.so" ] || fail "no libtally-attach.so"
for f in libtally-preload.a libtally-preload.la libtally-attach.a libtally-attach.la; do
    [ ! -e "$LIBDIR/$f" ] || fail "$f is installed"
done
for f in FORMAT.md report.schema.json; do
    [ -s "$DOCDIR/$f" ] || fail "no $DOCDIR/$f"
done
ok "install: the preload and attach modules as their .so alone; FORMAT.md and report.schema.json in docdir"

MAN=$MANDIR/man1/tally.1
[ -f "$MAN" ] || fail "no $MAN"
libdir=$(pc --variable=libdir | sed "s|^$root||")
sed -n '/^\.SH FILES/,/^\.SH /p' "$MAN" >"$WORK/files"
grep -qxF ".I $libdir/libtally-preload.so" "$WORK/files" || { cat "$WORK/files"; fail "tally(1) FILES lacks $libdir/libtally-preload.so"; }
if grep -nE '@[a-z]+@|\$\(' "$MAN"; then
    fail "tally(1) as installed has unsubstituted paths"
fi
ok "install: tally(1)'s FILES names $libdir/libtally-preload.so, no placeholder left"

# ---- the installed tally finds its shim and runs a program under it
"$BINDIR/tally" --help >/dev/null || fail "the installed tally --help"
# (under DESTDIR the shim's runpath, the real libdir, does not hold libtally.so yet)
cd "$WORK" && LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" TALLY_PRELOAD= "$BINDIR/tally" run -o "$WORK/t.prof" -- /bin/true 2>"$WORK/run.err" ||
    { cat "$WORK/run.err"; fail "the installed tally run /bin/true"; }
[ -s "$WORK/t.prof" ] || { cat "$WORK/run.err"; fail "the installed tally wrote no profile"; }
ok "install: the installed tally runs a program under its shim"
