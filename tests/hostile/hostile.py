# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the hostile-client tests: imapid under a given fd limit, an attacker that runs as
an unprivileged user in a process of its own, and what must come back to its baseline (fds,
threads, RSS, stash) once the attacker has gone.

The private bus is imapitest.Harness's, the socket svctest.SocketActivated's, the users
svctest.TestUser's.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "service"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import imapitest  # noqa: E402
import svctest  # noqa: E402


def test_users(n):
    """n unprivileged users with distinct names, as svctest.TestUser makes them (a context manager
    that yields the list)."""
    import contextlib

    @contextlib.contextmanager
    def users():
        with contextlib.ExitStack() as stack:
            made = []
            for i in range(n):
                u = svctest.TestUser()
                u.name = u.name[:24] + "x" + str(i)
                made.append(stack.enter_context(u))
            yield made
    return users()


# What the users of these tests may do: stage and burn (the burn action is asked at Open).
ALLOWED = ["org.imapid.imapi1.burn"]


class Harness(imapitest.Harness):
    """imapid on a private bus with python-dbusmock's polkit, which allows ALLOWED to everyone."""

    def __init__(self, **kw):
        kw.setdefault("polkit", ALLOWED)
        super().__init__(**kw)


class LimitedHarness(Harness):
    """imapid on a private bus, started with RLIMIT_NOFILE soft:hard (prlimit)."""

    def __init__(self, nofile=(1024, 2048), **kw):
        super().__init__(**kw)
        self.nofile = nofile

    def daemon_args(self):
        return ["prlimit", f"--nofile={self.nofile[0]}:{self.nofile[1]}", "--"] + super().daemon_args()


def fd_limit(pid):
    """The soft RLIMIT_NOFILE a process runs with."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no 'Max open files' in /proc/%d/limits" % pid)


def usage(pid):
    """What a process holds: open fds, threads, resident KiB."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    return {"fds": fds, "threads": int(status["Threads"][0]), "rss_kib": int(status["VmRSS"][0])}


def rss_back(pid, base, slack_kib=32 * 1024):
    """Whether the process' RSS is back within slack of base. AddressSanitizer keeps freed memory
    in its quarantine (256 MiB) by design, so under it RSS says nothing and is not checked."""
    with open(f"/proc/{pid}/maps") as f:
        if "libasan" in f.read():
            return True
    return usage(pid)["rss_kib"] <= base["rss_kib"] + slack_kib


def fd_targets(pid):
    """What a process' fds are (for messages)."""
    out = []
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{n}"))
        except FileNotFoundError:
            pass
    return sorted(out)


def wait_for_baseline(pid, base, keys=("fds",)):
    """Waits until the process holds what it held at base (usage()), or fails saying what it holds."""
    try:
        imapitest.wait_until(lambda: all(usage(pid)[k] == base[k] for k in keys), "")
    except AssertionError:
        raise AssertionError(f"imapid holds {usage(pid)}, not {base} as before; fds: {fd_targets(pid)}")


def stash_dirs(stash):
    return sorted(d for d in os.listdir(stash) if d.endswith(".stash"))


def baseline(pid, stash):
    """What imapid (pid) holds now, to come back to once an attack is over: usage(), the
    directories in its stash, and the stash files it has open."""
    stash_files = [t for t in fd_targets(pid) if t.startswith(stash.rstrip("/") + "/")]
    return {"pid": pid, "stash": stash, "usage": usage(pid), "stashes": stash_dirs(stash),
            "stash_files": stash_files}


def expected_usage(base):
    """base's usage, less the fds of stash files that imapid has deleted since, as it does with
    the staged content after a burn (a master's pack of small files is open while it has any)."""
    gone = sum(1 for t in base.get("stash_files", []) if not os.path.exists(t))
    return dict(base["usage"], fds=base["usage"]["fds"] - gone)


def assert_back(base):
    """imapid is back at base (baseline()): the same stash directories, fds and threads, and RSS
    within rss_back()'s slack. Waits for work that is still winding down, within a bound."""
    pid, stash = base["pid"], base["stash"]
    assert os.path.exists(f"/proc/{pid}"), "imapid exited"
    imapitest.wait_until(lambda: stash_dirs(stash) == base["stashes"],
                         f"the stash to hold {base['stashes']} again, not {stash_dirs(stash)}")
    wait_for_baseline(pid, expected_usage(base), ("fds", "threads"))
    assert rss_back(pid, base["usage"]), f"RSS {usage(pid)} after, {base['usage']} before"
    print(f"# imapid before {base['usage']}, after {usage(pid)}", flush=True)


def holds_files_under(pid, directory):
    """Whether a process has a file under directory open (a call's fds, still being let go)."""
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{n}").startswith(directory + "/"):
                return True
        except FileNotFoundError:
            pass
    return False


class Attacker:
    """Python code run as an unprivileged user, in a process of its own. It prints one JSON line
    when it has done its work, and holds everything it opened until stop()."""

    def __init__(self, user, code, args=(), env=None):
        self.user, self.code, self.args, self.env = user, code, [str(a) for a in args], env

    def __enter__(self):
        argv = ["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--clear-groups", "--",
                sys.executable, "-c", self.code] + self.args
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=60)
            raise AssertionError("the attacker failed: " + self.proc.stderr.read())
        self.result = json.loads(line)
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=120)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return False


def let_in(h):
    """The bus socket lives in the harness' directory: open it to the test user."""
    os.chmod(h.tmp, 0o755)
    os.chmod(h.stash, 0o700)


def stage_tree(h, bus, data_size):
    """root's disc master, opened, with a tree of files staged (imapitest.make_tree) and imapid
    done with their fds: returns the master and the files by their names on the disc."""
    import tempfile
    master = imapitest.Master(bus)
    src = tempfile.mkdtemp(dir=h.tmp)
    files = imapitest.make_tree(os.path.join(src, "tree"), data_size=data_size)
    master.add([("tree", os.path.join(src, "tree"))] + [
        ("tree/" + n, os.path.join(src, "tree", n)) for n in files])
    # The reply may come a moment before imapid lets go of the call's fds.
    imapitest.wait_until(lambda: not holds_files_under(h.daemon.pid, src), "imapid to close AddData's sources")
    return master, {"tree/" + n: d for n, d in files.items()}


def burn_and_check(h, bus, master, files):
    """Burns master and reads the disc back with xorriso: what the user would check."""
    import tempfile
    hr, _, completed = master.record()
    assert hr == 0 and completed and completed[0], f"the burn failed: {hr:#x} {completed}\n{h.log()}"
    with tempfile.TemporaryDirectory() as out:
        imapitest.extract(h.images[0], out)
        for name, data in files.items():
            with open(os.path.join(out, name), "rb") as f:
                assert f.read() == data, f"{name} reads back wrong"
