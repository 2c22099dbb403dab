# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the service tests: socket activation, unprivileged users, bounded waits.

The private bus with imapid on it is imapitest.Harness, from the integration tests.
"""

import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import imapitest  # noqa: E402,F401
from imapitest import BUS_NAME, ERR, MANAGER, ROOT, SRCDIR, build_path  # noqa: E402,F401

REC = "org.imapid.Imapi1.Recorder"
PROPS = "org.freedesktop.DBus.Properties"
ACTION = "org.imapid.imapi1."


# The integration fixture's, under the names these tests use.
wait_for = imapitest.wait_until
sanitizer_report = imapitest.sanitizer_report


# What imapid must see of the test's environment: systemd-socket-activate passes on only
# LISTEN_FDS, LISTEN_PID and the variables named with -E (as systemd starts a service with a
# clean environment), so everything else is named here.
PASSED_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "IMAPID_LOG_LEVEL")


class SocketActivated:
    """imapid started by systemd-socket-activate on a socket in a fresh directory, the way
    imapid.socket starts it, without a bus (--no-bus). env: variables for imapid, on top of the
    sanitizer options and log level of the test's environment. Use as a context manager."""

    def __init__(self, drives=1, extra_args=(), config=None, no_bus=True, env=None):
        self.tmp = tempfile.mkdtemp(prefix="imapid-p2p-")
        self.socket = os.path.join(self.tmp, "imapid.sock")
        self.address = "unix:path=" + self.socket
        self.images = [os.path.join(self.tmp, f"disc{i}.iso") for i in range(drives)]
        self.stash = os.path.join(self.tmp, "stash")
        os.mkdir(self.stash)
        self.config = os.path.join(self.tmp, "imapid.conf")
        with open(self.config, "w") as f:
            f.write(config or "")
        self.extra_args = list(extra_args)
        self.no_bus = no_bus
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.passed = [k for k in PASSED_ENV if k in self.env] + list(env or {})
        self.log_path = os.path.join(self.tmp, "imapid.log")
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if exc[0] is None and not os.environ.get("IMAPI_KEEP_TMP"):
                subprocess.run(["rm", "-rf", self.tmp])
            else:
                print(f"test files kept in {self.tmp}", file=sys.stderr)
        return False

    def start(self):
        args = ["systemd-socket-activate", "-l", self.socket]
        args += [f"--setenv={k}={self.env[k]}" for k in self.passed]
        args += [build_path("imapid")]
        args += ["--no-bus"] if self.no_bus else []
        args += ["--config=" + self.config, "--no-scan", "--no-default-drive", "--stash-dir=" + self.stash]
        args += ["--drive=stdio:" + p for p in self.images] + self.extra_args
        self.log_file = open(self.log_path, "ab")
        # systemd-socket-activate execs imapid at the first connection: same process.
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT, env=self.env)
        wait_for(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, "the socket")
        if self.proc.poll() is not None:
            raise RuntimeError("systemd-socket-activate failed:\n" + self.log())

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("imapid did not exit on SIGTERM:\n" + self.log())
        rc = self.proc.returncode
        self.proc = None
        self.log_file.close()
        if sanitizer_report(self.log()):
            raise AssertionError("sanitizer report in imapid's log:\n" + self.log())
        if rc != 0:
            raise AssertionError(f"imapid exited with {rc}:\n{self.log()}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def busctl(self, *args, user=None, check=True):
        r = run_as(user, ["busctl", "--address=" + self.address, *args])
        if check and r.returncode != 0:
            raise AssertionError(f"busctl {' '.join(args)} failed ({r.returncode}): {r.stderr}\n{self.log()}")
        return r

    def ctl(self, *args, user=None):
        return run_as(user, [build_path("imapictl"), "--socket=" + self.socket, *args])

    def connect(self):
        """A python-dbus peer-to-peer connection: a client that stays until closed."""
        import dbus
        return dbus.connection.Connection(self.address)

    def recorder_path(self, index=0):
        return f"{ROOT}/recorders/stdio{index}"


class TestUser:
    """An unprivileged user made for one test with useradd, removed afterwards."""

    def __init__(self):
        self.name = f"imapit{os.getpid() % 100000}{int(time.monotonic() * 1000) % 1000}"

    def __enter__(self):
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "--user-group", self.name], check=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        return self

    def __exit__(self, *exc):
        subprocess.run(["userdel", self.name], stderr=subprocess.DEVNULL)
        return False


def run_as(user, args, input=None):
    """Runs a command as user (a TestUser), or as ourselves with user None."""
    if user is not None:
        args = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--"] + args
    return subprocess.run(args, capture_output=True, text=True, input=input, timeout=120)


def python_as(user, code, env=None):
    """Runs Python code as user; returns CompletedProcess. The code prints what it found."""
    e = dict(os.environ)
    e.update(env or {})
    args = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--",
            sys.executable, "-c", code]
    return subprocess.run(args, capture_output=True, text=True, env=e, timeout=120)
