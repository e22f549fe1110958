# workloads.sh: the benchmark programs and inputs that shim_bench.sh and
# ab.sh share. Source it with W (a scratch directory) and HERE (bench/) set:
# it compiles churn, larson, bignum, live and liveheavy into $W, writes $W/sort.txt
# (2M random lines, 50 MB) and sets PY to the python interpreter itself
# (not a wrapper script such as pyenv's, which a tool would follow instead).
cc -O2 -o "$W/churn" "$HERE/shim_churn.c" -lpthread
cc -O2 -o "$W/larson" "$HERE/shim_larson.c" -lpthread
cc -O2 -o "$W/bignum" "$HERE/shim_bignum.c"
cc -O2 -o "$W/live" "$HERE/shim_live.c"
cc -O2 -o "$W/liveheavy" "$HERE/shim_liveheavy.c"
PY=$(python3 -c 'import sys; print(sys.executable)')
"$PY" -c '
import random
r = random.Random(7)
with open("'"$W"'/sort.txt", "w") as f:
    for i in range(2000000):
        f.write("%016x %d\n" % (r.getrandbits(64), r.randint(0, 10**9)))
'
