# shim_alloc.py: a pure-Python allocation-heavy workload for bench/shim_bench.sh.
class Node:
    __slots__ = ("key", "value", "children")

    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.children = []


total = 0
for rnd in range(6):
    d = {}
    for i in range(150000):
        n = Node(i, str(i) * 2)
        n.children.append((i, i + 1))
        d[i] = n
    lst = [v.value + "x" for v in d.values()]
    total += len(lst) + sum(len(s) for s in lst[:1000])
    del d, lst
print(total)
