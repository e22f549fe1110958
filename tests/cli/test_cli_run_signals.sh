#!/bin/sh
# tally run and signals. SIGTERM, SIGINT and SIGHUP sent to tally reach
# the program once, tally keeps waiting and still reports; a signal the
# program's process group got already (the terminal's ^C, the program's own
# `kill 0`) is not sent again; one ignored when tally started stays
# ignored. tally ends as the program did: its exit status, or killed by
# the same signal (what timeout(1) does).
#
# sigcount.py (below) counts the signals it gets: it writes a ready file
# once its handlers are in place, waits for a first signal, gives a second
# one half a second to come, and exits with the count.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 77
fi
[ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 drives these tests"; exit 77; }
PROG=$B/tests/progs/cli_prog

cat >"$WORK/sigcount.py" <<'PY'
import os, signal, sys, time
got = []
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(s, lambda n, f: got.append(n))
ready, mode, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
open(ready + ".tmp", "w").close()
os.rename(ready + ".tmp", ready)
if mode != "wait":
    os.kill(0, getattr(signal, mode))  # the whole process group: tally too
end = time.time() + wait
while time.time() < end and not got:
    time.sleep(0.01)
time.sleep(0.5)  # a second one would come now
sys.stderr.write("sigcount: %s\n" % " ".join(signal.Signals(s).name for s in got))
sys.exit(len(got))
PY

# The driver: each case starts tally run, signals it as a user, a
# terminal or the program would, and checks what the program got and how
# tally ended. The interpreter itself runs the program, not a pyenv-style
# wrapper: one process, quick to start.
python3 - "$TALLY" "$WORK" "$PROG" <<'PY' || fail "the signal cases"
import os, pty, signal, subprocess, sys, time
tally, work, prog = sys.argv[1:4]
py = sys.executable
n = 0

def dfl():
    # as a terminal's foreground job: nothing ignored, nothing blocked
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])

def ready_file():
    global n
    n += 1
    return os.path.join(work, "ready.%d" % n)

def wait_for(path, proc=None):
    end = time.time() + 60
    while not os.path.exists(path):
        assert time.time() < end, "the program never got ready: " + path
        assert proc is None or proc.poll() is None, "tally ended early"
        time.sleep(0.02)

def children(pid):
    try:
        return [int(c) for c in open("/proc/%d/task/%d/children" % (pid, pid)).read().split()]
    except OSError:
        return []

def run(args, **kw):
    err = open(os.path.join(work, "err.%d" % (n + 1)), "w+")
    p = subprocess.Popen([tally, "run", "-o", os.path.join(work, "p%d.prof" % (n + 1))] + args,
                         stdout=subprocess.DEVNULL, stderr=err, preexec_fn=kw.get("pre", dfl),
                         start_new_session=kw.get("session", False))
    return p, err

def output(err):
    err.seek(0)
    return err.read()

def counted(text):
    # a terminal echoes "^C" in front of the line
    return [l.split("sigcount: ", 1)[1].split() for l in text.splitlines() if "sigcount: " in l][0]

# 1. kill -TERM / -INT / -HUP of tally's pid: the program gets it once
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    r = ready_file()
    p, err = run([py, os.path.join(work, "sigcount.py"), r, "wait", "30"])
    wait_for(r, p)
    os.kill(p.pid, sig)
    rc = p.wait(60)
    out = output(err)
    assert counted(out) == [sig.name], (sig, out)
    assert rc == 1, (sig, rc, out)  # the program's status: one signal
    assert "tally: profile: " in out, out
    print("ok: kill -%s of tally: the program got it once, tally reported and exited 1" % sig.name[3:])

# 2. the terminal's ^C goes to the whole foreground group: not sent again
r = ready_file()
pid, fd = pty.fork()
if pid == 0:
    dfl()
    os.execv(tally, [tally, "run", "-o", os.path.join(work, "pty.prof"), py,
                     os.path.join(work, "sigcount.py"), r, "wait", "30"])
buf = b""
end = time.time() + 60
while not os.path.exists(r):
    assert time.time() < end, "not ready under the terminal"
    time.sleep(0.02)
os.write(fd, b"\x03")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
_, st = os.waitpid(pid, 0)
text = buf.decode(errors="replace").replace("\r", "")
assert counted(text) == ["SIGINT"], text
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 1, (st, text)
print("ok: the terminal's ^C: the program got SIGINT once (the group did), tally exited 1")

# 3. the program signals its own group (kill 0): tally got it too, and
# does not send it again
for sig in ("SIGTERM", "SIGHUP"):
    r = ready_file()
    p, err = run([py, os.path.join(work, "sigcount.py"), r, sig, "30"], session=True)
    rc = p.wait(60)
    out = output(err)
    assert counted(out) == [sig], out
    assert rc == 1, (rc, out)
    print("ok: the program's kill(0, %s): it got it once" % sig)

# 4. a group-wide kill from outside: tally cannot tell it from a kill of
# its own pid, so the program may get it twice (tally(1) says so); tally
# still waits, reports and mirrors the program's status
r = ready_file()
p, err = run([py, os.path.join(work, "sigcount.py"), r, "wait", "30"], session=True)
wait_for(r, p)
os.killpg(p.pid, signal.SIGTERM)
rc = p.wait(60)
out = output(err)
got = counted(out)
assert got in (["SIGTERM"], ["SIGTERM", "SIGTERM"]), out
assert rc == len(got) and "tally: profile: " in out, (rc, out)
print("ok: kill -TERM of the group from outside: the program got it %d time(s), tally reported" % len(got))

# 5. ignored when tally started (a background job's SIGINT): ignored in
# the program too, and tally goes on
def ign():
    dfl()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
r = ready_file()
p, err = run([py, os.path.join(work, "sigcount.py"), r, "wait", "1.5"], pre=ign)
wait_for(r, p)
os.kill(p.pid, signal.SIGINT)
rc = p.wait(60)
out = output(err)
assert counted(out) == [] and rc == 0, (rc, out)
print("ok: SIGINT ignored on entry stays ignored: neither tally nor the program ends")

# 6. a program killed by a signal: tally still reports, then dies of the
# same signal, as timeout(1) does (the shell sees 128 + N)
for sig in (signal.SIGTERM, signal.SIGSEGV, signal.SIGKILL):
    p, err = run(["sh", "-c", "ulimit -c 0; kill -%d $$" % sig])
    rc = p.wait(60)
    out = output(err)
    assert rc == -sig, (sig, rc, out)
    assert "tally run: sh was killed by %s" % sig.name in out, out
    print("ok: the program killed by %s: so is tally" % sig.name)

# 7. kill -TERM of tally while a default-disposition program runs, with
# a child that wrote its profile: the program dies of it, tally waits,
# prints the table and dies of SIGTERM too
p, err = run(["sh", "-c", '"%s" exit 0; exec sleep 30' % prog])
end = time.time() + 60
while True:
    kids = children(p.pid)
    if kids and open("/proc/%d/cmdline" % kids[0]).read().startswith("sleep"):
        break
    assert time.time() < end and p.poll() is None, "sleep never started"
    time.sleep(0.02)
os.kill(p.pid, signal.SIGTERM)
rc = p.wait(60)
out = output(err)
assert rc == -signal.SIGTERM, (rc, out)
assert "tally run: sh was killed by SIGTERM" in out, out
assert "profiles of" in out or "profile of" in out, out
assert "cli_prog exit 0" in out, out
print("ok: kill -TERM of tally: the program ended by it, the table printed, tally ended by it too")
PY
ok "run: signals"
