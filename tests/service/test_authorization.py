#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what: the bus policy (dbus/org.imapid.Imapi1.conf on a system-like bus), polkit
per action (python-dbusmock's polkitd template), root only without polkit, and peer-to-peer
clients by uid and the socket's group."""

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svctest import (ACTION, BUS_NAME, ERR, MANAGER, PROPS, REC, SRCDIR, SocketActivated, TestUser,  # noqa: E402
                     build_path, imapitest, python_as, wait_for)

import dbus  # noqa: E402

DENIED = ERR + "E_ACCESSDENIED"

# Debian's system.conf, cut down: deny owning and method calls by default, then the project's
# policy file, as /usr/share/dbus-1/system.d would have it.
SYSTEM_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@SOCKET@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>@POLICY@</include>
</busconfig>
"""

# Runs as the unprivileged user: calls on imapid and tries to own its name; prints JSON.
USER_CLIENT = r"""
import json, os, dbus
bus = dbus.bus.BusConnection(os.environ["IMAPI_BUS_ADDRESS"])
out = {}
def call(key, fn):
    try:
        out[key] = ["ok", str(fn())]
    except dbus.exceptions.DBusException as e:
        out[key] = [e.get_dbus_name(), e.get_dbus_message()]
mgr = dbus.Interface(bus.get_object("org.imapid.Imapi1", "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
call("GetRecorders", lambda: list(mgr.GetRecorders()))
path = "/org/imapid/Imapi1/recorders/stdio0"
rec = dbus.Interface(bus.get_object("org.imapid.Imapi1", path), "org.imapid.Imapi1.Recorder")
call("WriteSpeedBefore", lambda: rec.Get("org.imapid.Imapi1.Recorder", "WriteSpeed",
                                         dbus_interface="org.freedesktop.DBus.Properties"))
call("SetRecorderProperties", lambda: rec.SetRecorderProperties({"WriteSpeed": dbus.Int32(4)}))
call("WriteSpeedAfter", lambda: rec.Get("org.imapid.Imapi1.Recorder", "WriteSpeed",
                                        dbus_interface="org.freedesktop.DBus.Properties"))
call("RequestName", lambda: bus.request_name("org.imapid.Imapi1", dbus.bus.NAME_FLAG_DO_NOT_QUEUE))
print(json.dumps(out))
"""


def recorder(bus, h, index=0):
    return dbus.Interface(bus.get_object(BUS_NAME, h.recorder_path(index)), REC)


def write_speed(bus, h):
    return int(bus.get_object(BUS_NAME, h.recorder_path(0)).Get(REC, "WriteSpeed", dbus_interface=PROPS))


def user_client(h, user):
    os.chmod(h.tmp, 0o755)     # the bus socket lives there
    r = python_as(user, USER_CLIENT, env=h.env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_bus_policy():
    conf = SYSTEM_BUS_CONF.replace("@POLICY@", os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.conf"))
    with TestUser() as user, imapitest.Harness(bus_config=conf) as h:
        # root owns the name (imapid took it at start); the user may call but not own.
        out = user_client(h, user)
        assert out["GetRecorders"][0] == "ok" and h.recorder_path(0) in out["GetRecorders"][1], out
        assert out["RequestName"][0] == "org.freedesktop.DBus.Error.AccessDenied", out
        # No polkit on this bus: the user is refused the action, and nothing changed.
        assert out["SetRecorderProperties"][0] == DENIED, out
        assert ACTION + "set-properties" in out["SetRecorderProperties"][1], out
        assert out["WriteSpeedAfter"] == out["WriteSpeedBefore"], out
        # root is allowed without polkit.
        bus = h.dbus()
        assert recorder(bus, h).SetRecorderProperties({"WriteSpeed": dbus.Int32(4)}) == 0
        assert write_speed(bus, h) == 4


def test_bus_policy_other_names():
    """The policy file opens imapid's name only: the user cannot call another service's name
    that the default policy closes."""
    conf = SYSTEM_BUS_CONF.replace("@POLICY@", os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.conf"))
    conf = conf.replace("</busconfig>", """  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
</busconfig>""")
    with TestUser() as user, imapitest.Harness(bus_config=conf, polkit=[]) as h:
        os.chmod(h.tmp, 0o755)
        r = python_as(user, "import os, dbus\n"
                            "b = dbus.bus.BusConnection(os.environ['IMAPI_BUS_ADDRESS'])\n"
                            "o = b.get_object('org.freedesktop.PolicyKit1', '/org/freedesktop/PolicyKit1/Authority')\n"
                            "try:\n"
                            "    o.SetAllowed(['x'], dbus_interface='org.freedesktop.DBus.Mock')\n"
                            "    print('ok')\n"
                            "except dbus.exceptions.DBusException as e:\n"
                            "    print(e.get_dbus_name())\n", env=h.env)
        assert r.stdout.strip() == "org.freedesktop.DBus.Error.AccessDenied", r.stdout + r.stderr


def test_polkit_denies():
    with imapitest.Harness(polkit=[ACTION + "open-exclusive"]) as h:
        bus = h.dbus()
        rec = recorder(bus, h)
        rec.OpenExclusive({})
        before = write_speed(bus, h)
        e = imapitest.expect_dbus_error(DENIED, rec.SetRecorderProperties, {"WriteSpeed": dbus.Int32(4)})
        assert ACTION + "set-properties" in e.get_dbus_message() and "0x80070005" in e.get_dbus_message(), e
        assert write_speed(bus, h) == before, "a refused SetRecorderProperties changed WriteSpeed"
        media = bus.get_object(BUS_NAME, h.recorder_path(0)).Get(REC, "MediaStatus", dbus_interface=PROPS)
        e = imapitest.expect_dbus_error(DENIED, rec.Eject, {})
        assert ACTION + "eject" in e.get_dbus_message(), e
        assert bus.get_object(BUS_NAME, h.recorder_path(0)).Get(REC, "MediaStatus", dbus_interface=PROPS) == media
        assert rec.GetRecorderState() == 1, "a refused Eject released the recorder"
        # Validation comes before authorization: a bad value is E_INVALIDARG even when denied.
        imapitest.expect_dbus_error(ERR + "E_INVALIDARG", rec.SetRecorderProperties, {"WriteSpeed": dbus.Int32(-7)})
        imapitest.expect_dbus_error(ERR + "E_INVALIDARG", rec.Eject, {"bogus": True})
        # imapictl shows the refusal by its IMAPI name.
        rec.Close({})
        r = h.ctl("properties", "0", "WriteSpeed=4")
        assert r.returncode == 1 and "E_ACCESSDENIED" in r.stderr, r


def test_polkit_allows():
    allowed = [ACTION + "open-exclusive", ACTION + "set-properties", ACTION + "eject"]
    with imapitest.Harness(polkit=allowed) as h:
        bus = h.dbus()
        rec = recorder(bus, h)
        rec.OpenExclusive({})
        assert rec.SetRecorderProperties({"WriteSpeed": dbus.Int32(4)}) == 0
        assert write_speed(bus, h) == 4
        rec.Eject({})
        rec.Eject({"auth.no_user_interaction": True})
        imapitest.expect_dbus_error(ERR + "E_INVALIDARG", rec.Eject, {"auth.no_user_interaction": "yes"})
        # Per action: eject allowed does not allow the other.
        h.polkit_allow([ACTION + "eject"])
        imapitest.expect_dbus_error(DENIED, rec.SetRecorderProperties, {"WriteSpeed": dbus.Int32(8)})
        assert write_speed(bus, h) == 4
        rec.Eject({})


def test_open_exclusive_authorized():
    """Holding a recorder keeps others from it: OpenExclusive is an action of its own."""
    with imapitest.Harness(polkit=[]) as h:
        bus = h.dbus()
        rec = recorder(bus, h)
        e = imapitest.expect_dbus_error(DENIED, rec.OpenExclusive, {})
        assert ACTION + "open-exclusive" in e.get_dbus_message(), e
        obj = bus.get_object(BUS_NAME, h.recorder_path(0))
        assert obj.Get(REC, "ExclusiveOwner", dbus_interface=PROPS) == "" and rec.GetRecorderState() == 0
        imapitest.expect_dbus_error(ERR + "E_INVALIDARG", rec.OpenExclusive, {"bogus": True})
        h.polkit_allow([ACTION + "open-exclusive"])
        rec.OpenExclusive({"auth.no_user_interaction": True})
        assert obj.Get(REC, "ExclusiveOwner", dbus_interface=PROPS) != ""


def test_burn_authorized_at_open():
    """A user who may not burn stages nothing: the burn action is asked for at Open, and the
    answer holds for that disc master's RecordDisc."""
    with imapitest.Harness(polkit=[]) as h:
        bus = h.dbus()
        m = imapitest.Master(bus, open=False)
        e = imapitest.expect_dbus_error(DENIED, m.dm.Open, {})
        assert ACTION + "burn" in e.get_dbus_message(), e
        assert imapitest.stash_dirs(h) == [], "a refused Open made a stash"
        imapitest.expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", m.dm.SetActiveDiscMasterFormat, "joliet", {})
        h.polkit_allow([ACTION + "burn"])
        m.dm.Open({})
        m.dm.SetActiveDiscMasterFormat("joliet", {})
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {})
        src = os.path.join(h.tmp, "a.txt")
        with open(src, "wb") as f:
            f.write(b"authorized once\n")
        m.add([("a.txt", src)])
        # The answer was the disc master's: taking it back from polkit now changes nothing.
        h.polkit_allow([])
        assert "/jobs/" in str(m.dm.RecordDisc(True, False, {}))
        imapitest.wait_until(lambda: str(m.prop("Job")) == "/", "the simulated burn to end")
        # Another disc master asks again.
        other = imapitest.Master(bus, open=False)
        imapitest.expect_dbus_error(DENIED, other.dm.Open, {})


def challenge_polkit(h, log):
    """A mock polkit that answers every check with "allowed after authentication", logging calls
    (and an agent's registration) to log."""
    mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "-l", log, "org.freedesktop.PolicyKit1",
                             "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority"],
                            env=h.env, stdout=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["busctl", "--address=" + h.address, "status", "org.freedesktop.PolicyKit1"],
                                    capture_output=True).returncode == 0, "the mock polkit")
    obj = h.dbus().get_object("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")
    obj.AddMethod("org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})",
                  "ret = (False, True, dbus.Dictionary({}, signature='ss'))", dbus_interface="org.freedesktop.DBus.Mock")
    for name, sig in (("RegisterAuthenticationAgent", "(sa{sv})ss"),
                      ("RegisterAuthenticationAgentWithOptions", "(sa{sv})ssa{sv}"),
                      ("UnregisterAuthenticationAgent", "(sa{sv})s")):
        obj.AddMethod("org.freedesktop.PolicyKit1.Authority", name, sig, "", "",
                      dbus_interface="org.freedesktop.DBus.Mock")
    return mock


def test_interactive_authorization_required():
    """Refused for want of authentication the caller did not allow: the standard error that says
    so, naming the action."""
    with imapitest.Harness() as h:
        mock = challenge_polkit(h, os.path.join(h.tmp, "polkit.log"))
        try:
            r = subprocess.run(["busctl", "--address=" + h.address, "--allow-interactive-authorization=no", "call",
                                BUS_NAME, h.recorder_path(0), REC, "OpenExclusive", "a{sv}", "0"],
                               capture_output=True, text=True)
            assert r.returncode != 0 and "open-exclusive" in r.stderr, r
            bus = h.dbus()
            e = imapitest.expect_dbus_error("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                                            recorder(bus, h).OpenExclusive, {"auth.no_user_interaction": True})
            assert ACTION + "open-exclusive" in e.get_dbus_message(), e
            r = h.ctl("--no-ask-password", "media", check=1)
            assert "InteractiveAuthorizationRequired" in r.stderr and "open-exclusive" in r.stderr, r
        finally:
            mock.terminate()
            mock.wait(timeout=10)


def test_polkit_agent():
    """imapictl on a terminal, as a user, starts pkttyagent for itself (as systemctl does), and
    with --no-ask-password does not."""
    if not os.access("/usr/bin/pkttyagent", os.X_OK):
        raise imapitest.Skip("pkttyagent (polkitd) is not installed")
    with TestUser() as user, imapitest.Harness() as h:
        os.chmod(h.tmp, 0o755)
        log = os.path.join(h.tmp, "polkit.log")
        mock = challenge_polkit(h, log)
        try:
            def on_terminal(*args):
                cmd = " ".join([build_path("imapictl"), "--bus-address=" + h.address] + list(args))
                return subprocess.run(["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups",
                                       "--", "script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                                      env=h.env, timeout=60, stdin=subprocess.DEVNULL)

            def registrations():
                with open(log) as f:
                    return [line for line in f if " RegisterAuthenticationAgent" in line]

            r = on_terminal("--no-ask-password", "devices")
            assert r.returncode == 0 and "stdio0" in r.stdout, r
            assert registrations() == [], registrations()
            r = on_terminal("devices")
            assert r.returncode == 0 and "stdio0" in r.stdout, r
            regs = registrations()
            assert len(regs) == 1 and "unix-process" in regs[0], regs
            # Not on a terminal: no agent.
            r = subprocess.run(["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--",
                                build_path("imapictl"), "--bus-address=" + h.address, "devices"],
                               capture_output=True, text=True, env=h.env, stdin=subprocess.DEVNULL, timeout=60)
            assert r.returncode == 0 and len(registrations()) == 1, (r, registrations())
        finally:
            mock.terminate()
            mock.wait(timeout=10)


def test_polkit_async():
    """While polkit thinks, imapid answers others; the query counts as work for exit on idle."""
    with imapitest.Harness(polkit=[ACTION + "set-properties"], extra_args=["--idle-timeout=1s"]) as h:
        h.polkit_mock().SimulateHang(True)
        result = {}

        def set_props():
            b = h.dbus()
            try:
                result["r"] = int(recorder(b, h).SetRecorderProperties({"WriteSpeed": dbus.Int32(4)}))
            except dbus.exceptions.DBusException as e:
                result["r"] = e.get_dbus_name()

        t = threading.Thread(target=set_props)
        t.start()
        wait_for(lambda: h.polkit_mock().HaveHangingCalls(), "the polkit query")
        bus = h.dbus()
        start = time.monotonic()
        assert len(dbus.Interface(bus.get_object(BUS_NAME, MANAGER), "org.imapid.Imapi1.Manager").GetRecorders()) == 1
        assert time.monotonic() - start < 5, "imapid was blocked by the polkit query"
        bus.close()
        time.sleep(3)   # three idle timeouts with nothing but the query pending
        assert h.daemon.poll() is None, "imapid exited with a polkit query pending:\n" + h.log()
        assert "r" not in result
        h.polkit_mock().ReleaseHangingCalls()
        t.join(timeout=30)
        assert result.get("r") == 0, result
        wait_for(lambda: h.daemon.poll() is not None, "imapid to exit once idle")
        h.stop_daemon()


def test_polkit_query():
    """What imapid asks polkit: the caller's bus name as subject, the action, details for rules,
    and user interaction only when the caller allows it (and did not opt out in its options)."""
    with imapitest.Harness() as h:
        log = os.path.join(h.tmp, "polkit-calls.log")
        mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "-l", log, "org.freedesktop.PolicyKit1",
                                 "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority"],
                                env=h.env, stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: subprocess.run(["busctl", "--address=" + h.address, "status", "org.freedesktop.PolicyKit1"],
                                            capture_output=True).returncode == 0, "the mock polkit")
            h.dbus().get_object("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority").AddMethod(
                "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})",
                "ret = (True, False, dbus.Dictionary({}, signature='ss'))", dbus_interface="org.freedesktop.DBus.Mock")

            def set_props(interactive, *props):
                r = subprocess.run(["busctl", "--address=" + h.address, "--allow-interactive-authorization=" +
                                    interactive, "call", BUS_NAME, h.recorder_path(0), REC, "SetRecorderProperties",
                                    "a{sv}", str(len(props) // 3), *props], capture_output=True, text=True)
                assert r.returncode == 0, r
                return r.stdout.strip()

            assert set_props("yes", "WriteSpeed", "i", "4") == "u 0"
            assert set_props("no", "WriteSpeed", "i", "8") == "u 0"
            # The option is honoured in the trailing a{sv} (here the properties); it is not a property, so it
            # does not count as an ignored one.
            assert set_props("yes", "WriteSpeed", "i", "4", "auth.no_user_interaction", "b", "true") == "u 0"
            with open(log) as f:
                calls = [line for line in f if " CheckAuthorization " in line]
            assert len(calls) == 3, calls
            for c in calls:
                assert "'system-bus-name'" in c and "dbus.String('name'): dbus.String(':1." in c, c
                assert '"org.imapid.imapi1.set-properties"' in c, c
                assert '"imapid.method": "org.imapid.Imapi1.Recorder.SetRecorderProperties"' in c, c
                assert '"imapid.object": "' + h.recorder_path(0) + '"' in c, c
            assert [c.rstrip().split()[-2] for c in calls] == ["1", "0", "0"], calls

            # RecordDisc comes back twice (after polkit's answer, then after the drive is read in a
            # worker) and asks polkit once.
            src = os.path.join(h.tmp, "a.txt")
            with open(src, "wb") as f:
                f.write(b"asked once\n")
            m = imapitest.Master(h.dbus())
            m.add([("a.txt", src)])
            assert "/jobs/" in str(m.dm.RecordDisc(True, False, {}))
            imapitest.wait_until(lambda: str(m.prop("Job")) == "/", "the simulated burn to end")
            with open(log) as f:
                burns = [line for line in f if '"org.imapid.imapi1.burn"' in line]
            assert len(burns) == 1, burns
        finally:
            mock.terminate()
            mock.wait(timeout=10)


def test_no_polkit_user_denied():
    """No polkit on the bus: root may, an unprivileged user may not (with the default test policy)."""
    with TestUser() as user, imapitest.Harness() as h:
        out = user_client(h, user)
        assert out["GetRecorders"][0] == "ok", out
        assert out["SetRecorderProperties"][0] == DENIED, out
        assert "polkit is not available" in out["SetRecorderProperties"][1], out
        assert out["WriteSpeedAfter"] == out["WriteSpeedBefore"], out
        bus = h.dbus()
        assert recorder(bus, h).SetRecorderProperties({"WriteSpeed": dbus.Int32(4)}) == 0


def test_peer_authorization():
    """On the socket: root may do everything; another user (the mode letting them in) may read
    but not act, until the socket's group is theirs."""
    with TestUser() as user, SocketActivated() as s:
        os.chmod(s.tmp, 0o755)
        os.chmod(s.socket, 0o666)
        r = s.busctl("get-property", BUS_NAME, s.recorder_path(0), REC, "WriteSpeed", user=user)
        assert r.stdout.strip().startswith("i "), r
        before = r.stdout
        r = s.ctl("properties", "0", "WriteSpeed=4", user=user)
        assert r.returncode == 1 and "E_ACCESSDENIED" in r.stderr and "socket's group" in r.stderr, r
        assert s.busctl("get-property", BUS_NAME, s.recorder_path(0), REC, "WriteSpeed").stdout == before
        # Members of the socket's group may (the group is taken at connection time).
        os.chown(s.socket, 0, user.gid)
        r = s.ctl("properties", "0", "WriteSpeed=4", user=user)
        assert r.returncode == 0, r
        assert s.busctl("get-property", BUS_NAME, s.recorder_path(0), REC, "WriteSpeed").stdout.strip() == "i 4"
        # root always.
        r = s.ctl("properties", "0", "WriteSpeed=8")
        assert r.returncode == 0, r


def test_peer_sender_refused():
    """A peer cannot pose as a bus client by setting a sender."""
    with SocketActivated() as s:
        # busctl never sets a sender; build one by hand with dbus-python's message API.
        c = s.connect()
        m = dbus.lowlevel.MethodCallMessage(None, MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
        m.set_sender(":1.42")
        try:
            c.send_message_with_reply_and_block(m, 10)
            raise AssertionError("a message with a sender was served")
        except dbus.exceptions.DBusException as e:
            assert e.get_dbus_name() == "org.freedesktop.DBus.Error.AccessDenied", e
        c.close()


tests = [
    test_bus_policy,
    test_bus_policy_other_names,
    test_polkit_denies,
    test_polkit_allows,
    test_open_exclusive_authorized,
    test_burn_authorized_at_open,
    test_interactive_authorization_required,
    test_polkit_agent,
    test_polkit_async,
    test_polkit_query,
    test_no_polkit_user_denied,
    test_peer_authorization,
    test_peer_sender_refused,
]
if len(sys.argv) > 1:
    tests = [t for t in tests if t.__name__ in sys.argv[1:]]
imapitest.run_tests(tests)
