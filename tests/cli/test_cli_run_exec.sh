#!/bin/sh
# tally run over what the tracking core writes besides the exit profile
# (issue 11): a profile per exec image (reason exec, numbered by %n), one
# written on a fatal signal, the last checkpoint of a process killed by
# SIGKILL, a dump on the dump signal only when asked for. The summary
# follows the program's execs to its last image; the table has a line per
# image, and says how each ended.
#
# Needs the core's side of issue 11 (exec profiles, %n, fatal-signal
# profiles, TALLY_CHECKPOINT, TALLY_DUMP_SIGNAL opt-in): it fails on a core
# without them.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 77
fi
[ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 drives these tests"; exit 77; }
command -v bash >/dev/null || { echo "SKIP: bash is needed for the wrapper"; exit 77; }
PROG=$B/tests/progs/cli_prog

python3 - "$TALLY" "$WORK" "$PROG" <<'PY' || fail "exec chains, fatal signals, checkpoints, the dump signal"
import glob, json, os, re, signal, subprocess, sys, time
tally, work, prog = sys.argv[1:4]
py = sys.executable

def dfl():
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGUSR2):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])

def meta(path):
    out = subprocess.run([tally, "report", "--format", "json", "--leaks", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["meta"]

def only_entry(cwd):
    entries = os.listdir(cwd)
    assert len(entries) == 1, ("the run left more than its directory", entries)
    return os.path.join(cwd, entries[0])

def start(args, cwd, **kw):
    err = open(os.path.join(cwd, "..", os.path.basename(cwd) + ".err"), "w+")
    p = subprocess.Popen([tally, "run"] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                         preexec_fn=dfl)
    return p, err

def finish(p, err):
    rc = p.wait(120)
    err.seek(0)
    return rc, err.read()

def table_rows(text):
    return [l for l in text.splitlines() if re.match(r"^[* ] *[0-9]+ ", l)]

def fresh(name):
    d = os.path.join(work, name)
    os.mkdir(d)
    return d

# 1. a pyenv-style wrapper: bash that runs more bash, then executes the
# real program. One directory in the current one; the wrapper's image
# leaves a profile written before exec; the summary is the program's.
wrapper = os.path.join(work, "wrapper")
with open(wrapper, "w") as f:
    f.write('#!/bin/bash\nv=$(bash -c "echo 1")\nfor i in 1 2 3; do bash -c "exit 0"; done\n'
            'exec "%s" leaks\n' % prog)
os.chmod(wrapper, 0o755)
cwd = fresh("c1")
p, err = start(["--", wrapper], cwd)
rc, text = finish(p, err)
assert rc == 0, (rc, text)
d = only_entry(cwd)
pid = int(re.match(r"tally\.wrapper\.([0-9]+)\.d$", os.path.basename(d)).group(1))
mine = sorted(glob.glob(os.path.join(d, "*.%d.*.prof" % pid)), key=lambda f: meta(f)["start_ns"])
assert [os.path.basename(f).split(".")[0] for f in mine] == ["bash", "cli_prog"], mine
assert meta(mine[0])["reason"] == 4 and meta(mine[1])["reason"] == 0, [meta(f) for f in mine]
assert len(glob.glob(os.path.join(d, "bash.*.prof"))) >= 5, os.listdir(d)
assert "tally: definitely lost: 3000 bytes in 3 blocks" in text, text
assert "tally: profile: %s/cli_prog.%d." % (os.path.basename(d), pid) in text, text
rows = table_rows(text)
exec_row = [r for r in rows if re.match(r"^ +%d .* exec +/bin/bash .*wrapper$" % pid, r)]
last_row = [r for r in rows if re.match(r"^\* *%d .* exit +.*cli_prog leaks$" % pid, r)]
assert exec_row and last_row and rows.index(exec_row[0]) < rows.index(last_row[0]), rows
print("ok: a wrapper's exec: a profile before it, the summary of the last image, both in the table")

# 2. an exec chain of one executable numbers its images in order
cwd = fresh("c2")
p, err = start(["-o", "chain/", "--", "bash", "-c", 'exec bash -c "exec bash -c true"'], cwd)
rc, text = finish(p, err)
assert rc == 0, (rc, text)
names = sorted(os.listdir(os.path.join(cwd, "chain")))
m = [re.match(r"bash\.([0-9]+)\.([0-9]+)\.prof$", n) for n in names]
assert all(m) and len({x.group(1) for x in m}) == 1, names
assert sorted(int(x.group(2)) for x in m) == [0, 1, 2], names
reasons = [meta(os.path.join(cwd, "chain", "bash.%s.%d.prof" % (m[0].group(1), i)))["reason"]
           for i in range(3)]
assert reasons == [4, 4, 0], reasons
print("ok: bash exec bash exec bash: bash.PID.0, .1, .2, written before exec, exec, at exit")

# 3. kill -TERM of tally: the program gets it, writes its profile, dies of
# it; the summary says so, and tally dies of it too
cwd = fresh("c3")
p, err = start(["--", "sleep", "30"], cwd)
end = time.time() + 60
while True:
    kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
    if kids and open("/proc/%s/cmdline" % kids[0]).read().startswith("sleep"):
        break
    assert time.time() < end and p.poll() is None
    time.sleep(0.05)
time.sleep(0.3)  # past the shim's start
os.kill(p.pid, signal.SIGTERM)
rc, text = finish(p, err)
assert rc == -signal.SIGTERM, (rc, text)
prof = glob.glob(os.path.join(only_entry(cwd), "sleep.*.prof"))
assert len(prof) == 1, prof
m = meta(prof[0])
assert m["reason"] == 5 and m["signal"] == signal.SIGTERM, m
assert re.search(r"tally: sleep \(pid [0-9]+\): written on SIGTERM at [0-9.]+ s; the process was killed by it", text), text
print("ok: SIGTERM through tally: the program's profile written on it, tally ended by it")

# 4. a crash: the profile is written on SIGSEGV, the status is the crash's
cwd = fresh("c4")
p, err = start(["--", "sh", "-c", "ulimit -c 0; kill -SEGV $$"], cwd)
rc, text = finish(p, err)
assert rc == -signal.SIGSEGV, (rc, text)
prof = glob.glob(os.path.join(only_entry(cwd), "*.prof"))
assert len(prof) == 1 and meta(prof[0])["signal"] == signal.SIGSEGV, prof
assert "written on SIGSEGV" in text, text
print("ok: SIGSEGV: a profile, and the program's status through tally")

# 5. SIGKILL after checkpoints: the last checkpoint is the profile
cwd = fresh("c5")
code = ("import os, time\nx = []\nend = time.time() + 1.5\nwhile time.time() < end:\n"
        "    x.append(bytearray(1000))\n    if len(x) > 2000:\n        x.clear()\n"
        "os.kill(os.getpid(), 9)\n")
p, err = start(["--checkpoint", "200ms", "--", py, "-c", code], cwd)
rc, text = finish(p, err)
assert rc == -signal.SIGKILL, (rc, text)
prof = glob.glob(os.path.join(only_entry(cwd), "*.prof"))
assert len(prof) == 1, prof
m = meta(prof[0])
assert m["reason"] == 3 and m["duration_ns"] > 200 * 10**6, m
assert re.search(r"checkpoint at [0-9.]+ s; the process did not exit", text), text
print("ok: SIGKILL after checkpoints: the last checkpoint is the program's profile")

# 6. the dump signal only when asked for: with --dump-signal USR2, kill
# -USR2 of tally asks the program for a profile and it goes on; without,
# SIGUSR2 is the program's (its default action ends it)
code = ("import os, sys, time\nopen(sys.argv[1], 'w').close()\nend = time.time() + 30\n"
        "while time.time() < end and not os.path.exists(sys.argv[2]):\n    time.sleep(0.02)\n")
cwd = fresh("c6")
ready, go = os.path.join(work, "ready6"), os.path.join(work, "go6")
p, err = start(["-o", "d/", "--dump-signal", "USR2", "--", py, "-c", code, ready, go], cwd)
end = time.time() + 60
while not os.path.exists(ready):
    assert time.time() < end and p.poll() is None
    time.sleep(0.02)
os.kill(p.pid, signal.SIGUSR2)
dumped = None
while dumped is None:
    assert time.time() < end and p.poll() is None, "no dump"
    for f in glob.glob(os.path.join(cwd, "d", "*.prof")):
        try:
            if meta(f)["reason"] == 2:
                dumped = f
        except subprocess.CalledProcessError:
            pass
    time.sleep(0.05)
open(go, "w").close()
rc, text = finish(p, err)
assert rc == 0, (rc, text)
cwd = fresh("c7")
ready = os.path.join(work, "ready7")
end = time.time() + 60
p, err = start(["--", py, "-c", code, ready, os.path.join(work, "never")], cwd)
while not os.path.exists(ready):
    assert time.time() < end and p.poll() is None
    time.sleep(0.02)
os.kill(p.pid, signal.SIGUSR2)
rc, text = finish(p, err)
assert rc == -signal.SIGUSR2, (rc, text)
print("ok: --dump-signal USR2 dumps and the program goes on; without it SIGUSR2 ends the program")
PY
ok "run: exec images, fatal signals, checkpoints and the dump signal"
