#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Open makes its stash off the event loop. strace, attached to the running imapid, holds every
mkdirat(2) it makes for seconds after the call (the stash directory exists then, and Open's
worker is still in the call): another client's property read is answered meanwhile, before Open's
reply; a second Open, a call that needs an open master, Close, the client going away and SIGTERM
during that time each get what docs/discmaster-api.txt says, and no stash is left behind."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (BUS_NAME, ERR, MANAGER, PROPS, Harness, Master, Skip, glib_connection,  # noqa: E402
                       run_tests, stash_dirs, wait_until)

import dbus  # noqa: E402
from gi.repository import GLib  # noqa: E402

HOLD_USEC = 3000000


class HeldMkdir:
    """strace attached to imapid's threads, holding each mkdirat(2) for HOLD_USEC once it is made;
    with hold_rmdir, each rmdir(2) too, before it is made (at exit, so that strace can let go
    before LeakSanitizer looks: it cannot work in a traced process)."""

    def __init__(self, h, hold_rmdir=False):
        self.h = h
        self.log = os.path.join(h.tmp, "strace.log")
        self.hold_rmdir = hold_rmdir

    def __enter__(self):
        args = ["strace", "-f", "-p", str(self.h.daemon.pid), "-o", "/dev/null",
                "-e", "trace=mkdirat" + (",rmdir" if self.hold_rmdir else ""),
                "-e", f"inject=mkdirat:delay_exit={HOLD_USEC}"]
        if self.hold_rmdir:
            args += ["-e", f"inject=rmdir:delay_enter={HOLD_USEC}"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))

        def attached():
            return "attached" in self.text() or self.proc.poll() is not None
        wait_until(attached, "strace to attach to imapid")
        if "attached" not in self.text():
            self.proc.wait()
            raise Skip("strace cannot attach to imapid here (ptrace refused): " + self.text().strip())
        return self

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)
        return False


def stash_of(m):
    return "master-%s.stash" % m.path.rsplit("/", 1)[1]


def pump():
    """Dispatches what has arrived on the GLib connections, without waiting."""
    ctx = GLib.MainContext.default()
    for _ in range(100):
        if not ctx.iteration(False):
            break


def run_until(cond, what, timeout=60):
    loop = GLib.MainLoop()

    def check():
        if cond():
            loop.quit()
            return False
        return True
    GLib.timeout_add(20, check)
    GLib.timeout_add(timeout * 1000, loop.quit)
    loop.run()
    assert cond(), "timed out waiting for " + what


def wait_held(h, m):
    """Until Open's mkdirat has made the stash directory (and is held in the call); the GLib
    loop runs meanwhile, to send the call."""
    run_until(lambda: stash_of(m) in stash_dirs(h), "Open to reach mkdirat")


def held_open(h, m, replies):
    """Calls Open, its replies to go to replies, and returns once it is held in mkdirat."""
    m.dm.Open({}, reply_handler=lambda: replies.append("Open"),
              error_handler=lambda e: replies.append("Open: " + e.get_dbus_name()))
    wait_held(h, m)


def test_read_answered_while_open_held():
    """Without a worker the read waits for the held mkdirat, and Open's reply comes first."""
    with Harness() as h:
        other = dbus.Interface(h.dbus().get_object(BUS_NAME, MANAGER), PROPS)
        m, replies = Master(glib_connection(h), open=False), []
        with HeldMkdir(h):
            held_open(h, m, replies)
            recorders = other.Get("org.imapid.Imapi1.Manager", "Recorders")
            # What imapid sent before the read's reply has reached this process by now.
            pump()
            assert replies == [], "Open was answered before another client's read: %r" % replies
            assert [str(r) for r in recorders] == [h.recorder_path()]
            run_until(lambda: replies, "Open's reply")
        assert replies == ["Open"], replies
        assert m.prop("Opened")
        assert stash_dirs(h) == [stash_of(m)]


def test_calls_while_open_held():
    """A second Open is ALREADYOPEN, a call that needs an open master NOTOPENED; Close is
    answered after Open (NOTOPENED), with the stash that was being made removed."""
    with Harness() as h:
        m, replies = Master(glib_connection(h), open=False), []
        with HeldMkdir(h):
            held_open(h, m, replies)
            for name, args, error in (("Open", ({},), "IMAPI_E_ALREADYOPEN"),
                                      ("SetActiveDiscMasterFormat", ("joliet", {}), "IMAPI_E_NOTOPENED")):
                try:
                    getattr(m.dm, name)(*args)
                    raise AssertionError(f"{name} succeeded while Open ran")
                except dbus.exceptions.DBusException as e:
                    assert e.get_dbus_name() == ERR + error, (name, e.get_dbus_name(), e.get_dbus_message())
            assert not m.prop("Opened")

            def closed():
                replies.append("Close")
                replies.append(stash_dirs(h))
            m.dm.Close({}, reply_handler=closed,
                       error_handler=lambda e: replies.append("Close: " + e.get_dbus_name()))
            run_until(lambda: len(replies) >= 2, "the replies to Open and Close")
        assert replies == ["Open: " + ERR + "IMAPI_E_NOTOPENED", "Close", []], replies
        assert stash_dirs(h) == []
        # the name is free again
        m2 = Master(h.dbus(), fmt=None)
        assert stash_dirs(h) == [stash_of(m2)]


CLIENT = """
import dbus, sys
bus = dbus.bus.BusConnection(sys.argv[1])
mgr = dbus.Interface(bus.get_object("org.imapid.Imapi1", "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
path = mgr.CreateDiscMaster({})
print(path, flush=True)
dbus.Interface(bus.get_object("org.imapid.Imapi1", path), "org.imapid.Imapi1.DiscMaster").Open({})
"""


def test_client_killed_while_open_held():
    """The stash made for a client that is gone is removed, and nothing is counted for it."""
    with Harness() as h:
        with HeldMkdir(h):
            client = subprocess.Popen(["/usr/bin/python3", "-c", CLIENT, h.address], stdout=subprocess.PIPE,
                                      text=True)
            path = client.stdout.readline().strip()
            assert path.startswith("/org/imapid/Imapi1/masters/"), path
            name = "master-%s.stash" % path.rsplit("/", 1)[1]
            wait_until(lambda: name in stash_dirs(h), "Open to reach mkdirat", timeout=60)
            client.kill()
            client.wait()
            client.stdout.close()
            wait_until(lambda: stash_dirs(h) == [], "the stash of the client that left to be removed",
                       timeout=60)
        # the master is gone, and another opens as usual
        objects = dbus.Interface(h.dbus().get_object(BUS_NAME, "/org/imapid/Imapi1"),
                                 "org.freedesktop.DBus.ObjectManager").GetManagedObjects()
        assert path not in objects, path
        m = Master(h.dbus(), fmt=None)
        assert stash_dirs(h) == [stash_of(m)]


def test_sigterm_while_open_held():
    """imapid stops once the held Open is over: it fails with USERABORT, its stash is removed."""
    with Harness() as h:
        m, replies = Master(glib_connection(h), open=False), []
        with HeldMkdir(h, hold_rmdir=True):
            held_open(h, m, replies)
            h.daemon.send_signal(signal.SIGTERM)
            run_until(lambda: replies, "Open's reply")
        h.daemon.wait(timeout=60)
        assert replies == ["Open: " + ERR + "IMAPI_E_USERABORT"], replies
        assert stash_dirs(h) == []
        h.stop_daemon()


if __name__ == "__main__":
    run_tests([test_read_answered_while_open_held, test_calls_while_open_held, test_client_killed_while_open_held,
               test_sigterm_while_open_held])
