# real_python.py: building 200k dicts and a JSON round trip, for
# bench/real_bench.sh (run with PYTHONMALLOC=malloc, as leak hunters do).
import json

rows = []
for i in range(200000):
    rows.append({"id": i, "name": "n%d" % i, "tags": [i % 7, i % 11], "x": i * 0.5})
text = json.dumps(rows)
back = json.loads(text)
print(len(back), len(text))
