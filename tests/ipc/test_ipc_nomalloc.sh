#!/bin/sh
# lib/ipc allocates only through the caller's pool: none of its objects
# calls the C library's allocators (or anything that allocates behind the
# caller's back: strdup, asprintf, stdio streams), and only mapping.c maps
# memory. With the Check tests' books (the pool back to its exact start, the
# default pool grown by nothing but what the caller's pool passed it), this
# is the "every byte through the caller's pool" rule of issue 15.
B=${abs_top_builddir:-$(pwd)}
command -v nm >/dev/null || { echo "SKIP: nm is not installed"; exit 77; }
set -- "$B"/lib/ipc/.libs/*.o
[ -f "$1" ] || set -- "$B"/lib/ipc/*.o
[ -f "$1" ] || { echo "FAIL: no lib/ipc objects under $B"; exit 99; }
bad=0
for o in "$@"; do
    calls=$(nm -u "$o" | awk '{print $2}')
    for f in malloc calloc realloc reallocarray free strdup strndup posix_memalign aligned_alloc \
        memalign valloc asprintf vasprintf open_memstream fmemopen fopen fdopen tmpfile; do
        if echo "$calls" | grep -qx "$f"; then
            echo "FAIL: $(basename "$o") calls $f"
            bad=1
        fi
    done
    case "$o" in
    *mapping.o) ;;
    *) echo "$calls" | grep -qx mmap && { echo "FAIL: $(basename "$o") maps memory"; bad=1; } ;;
    esac
done
[ $bad -eq 0 ] || exit 1
echo "ok: lib/ipc ($# objects) calls no allocator but its pool's"
