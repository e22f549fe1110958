# real_cc1_gen.py N: a C file of N small, different functions, for cc1 -O2
# in bench/real_bench.sh. No #include: cc1 run by hand has not the
# driver's include paths.
import sys

n = int(sys.argv[1])
for i in range(n):
    print(f"int f{i}(int x) {{ return x * {i} + {i % 7}; }}")
