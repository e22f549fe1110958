#!/bin/sh
# Real programs under the shim: the same output as a plain run, byte for
# byte, and a clean exit. What the machine lacks is skipped with a message.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

# same NAME CMD...: plain run, then the shim; stdout and status must agree.
same() {
    name=$1
    shift
    "$@" >"$WORK/$name.plain" 2>"$WORK/$name.plainerr"
    plain=$?
    run "$name" "$@"
    shimmed=$?
    [ "$plain" -eq 0 ] || fail "$name: the plain run failed ($plain)"
    [ "$shimmed" -eq 0 ] || { cat "$WORK/$name.err"; fail "$name: exited $shimmed under the shim"; }
    cmp -s "$WORK/$name.plain" "$WORK/$name.out" || fail "$name: output differs under the shim"
    grep -q "Invalid free\|Mismatched" "$WORK/$name.err" && { cat "$WORK/$name.err"; fail "$name: error reports"; }
    echo "ok: $name: same output ($(wc -c <"$WORK/$name.out") bytes), clean exit"
}

if command -v python3 >/dev/null; then
    cat >"$WORK/alloc.py" <<'PY'
d = {i: str(i) * 3 for i in range(300000)}
l = [[i, str(i)] for i in range(300000)]
print(len(d), len(l), sum(len(v) for v in d.values()))
del d, l
print("dropped")
PY
    same python python3 "$WORK/alloc.py"
else
    echo "SKIP: python3 not installed"
fi

if command -v perl >/dev/null; then
    same perl perl -e 'my %h; $h{$_} = "x" x ($_ % 50) for 1..100000; print scalar(keys %h), "\n"'
else
    echo "SKIP: perl not installed"
fi

if command -v sort >/dev/null && command -v python3 >/dev/null; then
    python3 -c '
import random
r = random.Random(5)
with open("'"$WORK"'/50mb.txt", "w") as f:
    n = 0
    while n < 50 * 1024 * 1024:
        line = "%016x %d\n" % (r.getrandbits(64), r.randint(0, 10**9))
        f.write(line)
        n += len(line)
'
    same sort env LC_ALL=C sort "$WORK/50mb.txt"
else
    echo "SKIP: sort or python3 not installed"
fi

if command -v git >/dev/null; then
    R=$WORK/repo
    mkdir -p "$R" && cd "$R" && git init -q . &&
        for i in 1 2 3 4 5; do
            echo "line $i" >>f.txt && git add f.txt &&
                GIT_AUTHOR_DATE="2020-01-0$i 00:00:00 +0000" GIT_COMMITTER_DATE="2020-01-0$i 00:00:00 +0000" \
                    git -c user.name=t -c user.email=t@t commit -qm "commit $i" || exit 1
        done
    same git git -C "$R" log --stat
    cd "$WORK" || exit 1
else
    echo "SKIP: git not installed"
fi

if command -v gcc >/dev/null; then
    printf '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n' >"$WORK/hello.c"
    same gcc gcc -c "$WORK/hello.c" -o "$WORK/hello.o"
else
    echo "SKIP: gcc not installed"
fi
exit 0
