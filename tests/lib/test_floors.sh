#!/bin/sh
# The floors of docs/ARCHITECTURE.md, checked on the built objects: no call
# from a lower floor of lib/ into a higher one, no file-level cycle inside
# lib/track, libtally never calls into the shim, the tally command links
# neither libtally nor the shim, and neither libtally.so nor the shim links
# libdw (dlopen'ed at exit) or libunwind (dlopen'ed, privately, at start). A call is an undefined symbol of one object that
# another object defines.
B=${abs_top_builddir:-$(pwd)}
command -v nm >/dev/null && command -v python3 >/dev/null || exit 77
python3 - "$B" <<'PY'
import collections, glob, os, subprocess, sys

b = sys.argv[1]
floor = {"base": 0, "backend": 1, "profile": 1, "symbolize": 1, "track": 2, "pool": 3, "buffer": 4,
         "array": 5, "ipc": 6, "shim": 7}
objs = glob.glob(os.path.join(b, "lib", "*", ".libs", "*.o")) + \
       glob.glob(os.path.join(b, "shim", ".libs", "*.o"))
if not objs:
    print("test_floors: no objects under", b)
    sys.exit(1)

def unit(path):  # lib/track/.libs/libtally_la-entry.o -> track/entry
    d = os.path.basename(os.path.dirname(os.path.dirname(path)))
    if d not in floor:
        d = "shim"
    return d + "/" + os.path.basename(path).split("-", 1)[-1][:-2]

defs, uses = {}, collections.defaultdict(set)
for o in objs:
    u = unit(o)
    for line in subprocess.run(["nm", o], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        # The shim's other exports are libc's names (malloc, dlopen): a call
        # to those is a call to libc that the shim happens to interpose.
        if len(f) == 3 and f[1] in "TDBRVWC" and (not u.startswith("shim/")
                                                  or f[2].startswith("shim_")):
            defs.setdefault(f[2], u)
        elif len(f) == 2 and f[0] == "U":
            uses[u].add(f[1])
calls = collections.defaultdict(set)
for u, syms in uses.items():
    for s in syms:
        if s in defs and defs[s] != u:
            calls[u].add(defs[s])

bad = 0
for u in sorted(calls):
    for v in sorted(calls[u]):
        if floor[u.split("/")[0]] < floor[v.split("/")[0]]:
            print("upward call: %s -> %s" % (u, v))
            bad += 1

# Tarjan's strongly connected components over lib/track's files.
track = {u: {v for v in calls[u] if v.startswith("track/")} for u in calls if u.startswith("track/")}
index, low, stack, on, n = {}, {}, [], set(), [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in track.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            print("cycle in lib/track:", " <-> ".join(sorted(comp)))
            n.append(1)
for v in track:
    if v not in index:
        visit(v)
bad += len(n) - 1

tally = os.path.join(b, "tools", ".libs", "tally")
if not os.path.exists(tally):
    tally = os.path.join(b, "tools", "tally")
dyn = subprocess.run(["readelf", "-d", tally], capture_output=True, text=True).stdout
for lib in ("libtally.so", "libtally-preload"):
    if lib in dyn:
        print("tools/tally links", lib)
        bad += 1
# libtally loads libdw only when a summary needs names (lib/symbolize/dw_dlopen.c):
# a tracked program must not load it at start-up. libunwind is dlopen'ed
# privately (lib/track/libunwind_load.c): linked, its names (and liblzma's)
# would join the program's scope.
for obj in ("libtally.so", "libtally-preload.so"):
    dyn = subprocess.run(["readelf", "-d", os.path.join(b, ".libs", obj)],
                         capture_output=True, text=True).stdout
    for lib in ("libdw", "libelf", "libstdc++", "libunwind", "liblzma"):
        if "[" + lib in dyn:
            print(obj, "links", lib)
            bad += 1
print("test_floors: %d objects, %d calls between files, %d problems"
      % (len(objs), sum(len(v) for v in calls.values()), bad))
sys.exit(1 if bad else 0)
PY
