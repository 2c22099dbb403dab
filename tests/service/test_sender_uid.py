#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A new client's uid is asked of the bus without holding imapid up. imapid talks to its bus
through busproxy.py, which holds the bus' answer to imapid's question about a new client B (its
GetConnectionUnixUser, or sd-bus' own GetConnectionCredentials) until the test lets it go.
Meanwhile client A, which imapid knows already, is answered; B is answered once the bus has said
who B is, and as that uid (no polkit on the bus: root may set a recorder's properties, another
user may not). B leaving while the answer is held costs imapid nothing, and B's calls held
meanwhile are bounded."""

import json
import os
import select
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "hostile"))
from svctest import BUS_NAME, ERR, MANAGER, PROPS, REC, TestUser, imapitest, wait_for  # noqa: E402
from busproxy import BusProxy  # noqa: E402
from hostile import holds_files_under  # noqa: E402


DENIED = ERR + "E_ACCESSDENIED"


class ProxiedHarness(imapitest.Harness):
    """imapid on a private bus, connected to it through a BusProxy (self.proxy); clients connect
    to the bus itself. No polkit on the bus."""

    def start_daemon(self, wait=True):
        self.proxy = BusProxy(self.socket, os.path.join(self.tmp, "proxy")).__enter__()
        super().start_daemon(wait)

    def daemon_args(self):
        return [a if a != "--bus-address=" + self.address else "--bus-address=" + self.proxy.address
                for a in super().daemon_args()]

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            self.proxy.__exit__(None, None, None)


# Client B: prints its unique name, waits for a line, then makes its calls on the recorder (argv[1]):
# "set": SetRecorderProperties, whose answer depends on B's uid; "fds": a call carrying two fds
# of files under argv[2] (refused once dispatched: the manager takes no fds); "many": argv[2]
# GetRecorderState calls at once. Prints the answers as a JSON list, in the order they came,
# and holds its connection until stdin closes.
CLIENT_B = r"""
import json, os, sys
from gi.repository import Gio, GLib
bus = Gio.DBusConnection.new_for_address_sync(
    os.environ["IMAPI_BUS_ADDRESS"],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
print(json.dumps(bus.get_unique_name()), flush=True)
sys.stdin.readline()
B, REC = "org.imapid.Imapi1", "org.imapid.Imapi1.Recorder"
answers, calls = [], []
def done(conn, res, _):
    try:
        answers.append(["ok", conn.call_with_unix_fd_list_finish(res)[0].unpack()])
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        Gio.DBusError.strip_remote_error(e)
        answers.append([name, e.message])
what = sys.argv[2]
if what == "set":
    calls.append(("SetRecorderProperties", GLib.Variant("(a{sv})", ({"WriteSpeed": GLib.Variant("i", 4)},)), None))
elif what == "fds":
    fds = Gio.UnixFDList.new()
    for n in ("a", "b"):
        fd = os.open(os.path.join(sys.argv[3], n), os.O_RDONLY | os.O_CREAT, 0o600)
        fds.append(fd)
        os.close(fd)
    calls.append(("GetRecorderState", None, fds))
else:
    calls += [("GetRecorderState", None, None)] * int(sys.argv[3])
for method, args, fds in calls:
    bus.call_with_unix_fd_list(B, sys.argv[1], REC, method, args, None, 0, 120000, fds, None, done, None)
ctx = GLib.MainContext.default()
printed = False
while len(answers) < len(calls):
    ctx.iteration(True)
    if answers and not printed:
        print(json.dumps(answers[:1]), flush=True)
        printed = True
if len(calls) > 1:
    print(json.dumps(answers), flush=True)
sys.stdin.read()
"""


class ClientB:
    def __init__(self, h, what, arg="", user=None):
        argv = [sys.executable, "-c", CLIENT_B, h.recorder_path(0), what, str(arg)]
        if user is not None:
            os.chmod(h.tmp, 0o755)     # the bus socket lives there
            argv = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=h.env)
        self.name = json.loads(self.proc.stdout.readline())

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def answered(self):
        """Whether B has printed answers (without waiting)."""
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def answers(self):
        line = self.proc.stdout.readline()
        assert line, "client B exited without its answers"
        return json.loads(line)

    def leave(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def serve_a(h, bus):
    """Client A's reads and a call, in a thread: returns (thread, answers, event set when done,
    [whether B's lookup was still held then])."""
    answers, done, held = [], threading.Event(), []

    def run():
        rec = bus.get_object(BUS_NAME, h.recorder_path(0), introspect=False)
        mgr = bus.get_object(BUS_NAME, MANAGER, introspect=False)
        answers.append(int(rec.Get(REC, "WriteSpeed", dbus_interface=PROPS, timeout=120)))
        answers.append(str(mgr.Get("org.imapid.Imapi1.Manager", "Version", dbus_interface=PROPS, timeout=120)))
        answers.append([str(p) for p in mgr.GetRecorders(dbus_interface="org.imapid.Imapi1.Manager",
                                                           timeout=120)])
        held.append(bool(h.proxy.held))
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, answers, done, held


def known_client(h):
    """Client A, whose uid imapid has: it has made a call already."""
    bus = h.dbus()
    mgr = bus.get_object(BUS_NAME, MANAGER, introspect=False)
    assert [str(p) for p in mgr.GetRecorders(dbus_interface="org.imapid.Imapi1.Manager")] == [h.recorder_path(0)]
    return bus


def hold_first_call(h, b):
    """B's first call is made; imapid asks the bus who B is, and the proxy holds the answer."""
    h.proxy.hold(b.name)
    b.go()
    wait_for(lambda: h.proxy.held_for(b.name) > 0, f"imapid to ask the bus about {b.name}")


def check_served_while_held(user):
    with ProxiedHarness() as h:
        bus = known_client(h)
        speed = int(bus.get_object(BUS_NAME, h.recorder_path(0)).Get(REC, "WriteSpeed", dbus_interface=PROPS))
        b = ClientB(h, "set", user=user)
        try:
            hold_first_call(h, b)
            t, answers, done, held = serve_a(h, bus)
            # A bound for the failure only: A's answers come at once when imapid does not wait for
            # the bus, and it is below the 25 s after which sd-bus gives up a synchronous call.
            done.wait(20)
            assert not b.answered(), "B was answered before the bus said who B is"
            a_first = done.is_set() and held == [True]
            h.proxy.release(b.name)
            t.join(120)
            assert a_first, (f"A's calls were answered only after the bus' answer about B was let go "
                             f"(answers {answers}): imapid waited for the bus")
            assert answers == [speed, answers[1], [h.recorder_path(0)]], answers
            out = b.answers()
            after = int(bus.get_object(BUS_NAME, h.recorder_path(0)).Get(REC, "WriteSpeed", dbus_interface=PROPS))
            if user is None:
                assert out == [["ok", [0]]], out
                assert after == 4, after
            else:
                assert out[0][0] == DENIED and "polkit is not available" in out[0][1], out
                assert after == speed, after
        finally:
            b.close()


def test_root_served_after_lookup():
    """A new client as root: A is served while the bus' answer about B is held; then B's call is
    made, as root's."""
    check_served_while_held(None)


def test_user_refused_after_lookup():
    """A new client as another user: the same, and B's call is refused as that user's."""
    with TestUser() as user:
        check_served_while_held(user)


def test_sender_leaves_while_held():
    """B sends a call with two fds and leaves before the bus' answer about it comes: imapid lets go
    of the call and its fds, and goes on serving A; the late answer changes nothing."""
    with ProxiedHarness() as h:
        bus = known_client(h)
        files = os.path.join(h.tmp, "b-files")
        os.mkdir(files)
        b = ClientB(h, "fds", files)
        try:
            hold_first_call(h, b)
            wait_for(lambda: holds_files_under(h.daemon.pid, files), "imapid to hold B's call with its fds")
            b.leave()
            wait_for(lambda: not holds_files_under(h.daemon.pid, files),
                     "imapid to let go of the fds of the call of B, which has left")
            t, answers, done, held = serve_a(h, bus)
            assert done.wait(60), "A was not served after B left"
            h.proxy.release(b.name)
            known_client(h)
            assert h.daemon.poll() is None, "imapid exited:\n" + h.log()
        finally:
            b.close()


def test_held_calls_bounded():
    """B makes 20 calls at once while the bus' answer about it is held: 16 wait, the others are
    refused at once; the 16 are answered once the bus has answered."""
    with ProxiedHarness() as h:
        known_client(h)
        b = ClientB(h, "many", 20)
        try:
            hold_first_call(h, b)
            first = b.answers()
            # The refusals come while the answer is held: the first answer B had was one.
            assert first[0][0] == ERR + "E_OUTOFMEMORY", first
            assert "already wait while imapid asks the bus who you are" in first[0][1], first
            h.proxy.release(b.name)
            out = b.answers()
            refused = [a for a in out if a[0] != "ok"]
            assert len(out) == 20 and len(refused) == 4, out
            assert all(a[0] == ERR + "E_OUTOFMEMORY" for a in refused), out
            assert out[:4] == refused, f"the refusals did not come first: {out}"
        finally:
            b.close()


imapitest.run_tests([test_root_served_after_lookup, test_user_refused_after_lookup, test_sender_leaves_while_held,
                     test_held_calls_bounded])
