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
if command -v g++ >/dev/null; then
    cat >"$WORK/maps.cc" <<'CC'
#include <map>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> index_words(const std::vector<std::string> &words)
{
    std::map<std::string, std::vector<int>> m;
    for (size_t i = 0; i < words.size(); i++)
        m[words[i]].push_back((int)i);
    return m;
}
CC
    same gxx g++ -O2 -S -o - "$WORK/maps.cc"
else
    echo "SKIP: g++ not installed"
fi

if command -v bash >/dev/null; then
    same bash bash -c 'a=(); for i in $(seq 1 20000); do a+=("item$i"); done
        s=$(printf "%s," "${a[@]}"); echo "${#a[@]} ${#s}"; declare -A h
        for w in ${s//,/ }; do h[${w:0:6}]=$(( ${h[${w:0:6}]:-0} + 1 )); done
        for k in $(printf "%s\n" "${!h[@]}" | sort); do echo "$k ${h[$k]}"; done'
else
    echo "SKIP: bash not installed"
fi

# make -j2: parallel jobs writing files; the output is the files in order.
if command -v make >/dev/null; then
    mkdir -p "$WORK/mk"
    printf 'all: %s\n\t@cat $^\n%%.txt:\n\t@seq 1 $$(( $(subst p,,$*) * 1000 )) | sort -r | head -3 >$@\n' \
        "$(for i in 1 2 3 4 5 6 7 8; do printf 'p%d.txt ' $i; done)" >"$WORK/mk/Makefile"
    same make make -s -j2 -C "$WORK/mk" --no-print-directory
else
    echo "SKIP: make not installed"
fi

if command -v tar >/dev/null; then
    mkdir -p "$WORK/tree/a/b"
    for i in 1 2 3 4 5 6 7 8 9; do seq 1 $((i * 3000)) >"$WORK/tree/a/b/f$i"; done
    same tar tar -C "$WORK" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - tree
else
    echo "SKIP: tar not installed"
fi

if command -v sqlite3 >/dev/null; then
    same sqlite3 sqlite3 :memory: "create table t(k integer primary key, v text);
        with recursive n(i) as (select 1 union all select i + 1 from n where i < 50000)
        insert into t select i, printf('%08d', i * 7919 % 100003) from n;
        create index tv on t(v); select count(*), min(v), max(v) from t;
        select v from t order by v desc limit 3;"
else
    echo "SKIP: sqlite3 not installed"
fi

if command -v node >/dev/null; then
    same node node -e 'const m = new Map(); for (let i = 0; i < 200000; i++) m.set("k" + i, [i, String(i)]);
        let s = 0; for (const [k, v] of m) s += v[1].length; console.log(m.size, s);'
else
    echo "SKIP: node not installed"
fi

if command -v openssl >/dev/null; then
    head -c 5000000 "$WORK/tree/a/b/f9" "$WORK/50mb.txt" 2>/dev/null >"$WORK/blob" || seq 1 400000 >"$WORK/blob"
    same openssl openssl dgst -sha256 -r "$WORK/blob"
else
    echo "SKIP: openssl not installed"
fi
exit 0
