#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapid started on demand: D-Bus activation from the project's service file, socket activation
with peer-to-peer clients (busctl, imapictl, python-dbus), and exit on idle on both."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svctest import (BUS_NAME, ERR, MANAGER, PROPS, REC, SRCDIR, SocketActivated, build_path,  # noqa: E402
                     imapitest, sanitizer_report, wait_for)

import dbus  # noqa: E402

ACTIVATION_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@SOCKET@</listen>
  <auth>EXTERNAL</auth>
  <servicedir>@SERVICEDIR@</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def activation_service_file(h, extra_args):
    """The project's org.imapid.Imapi1.service with Exec= pointing at the built imapid."""
    with open(os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.service.in")) as f:
        text = f.read()
    assert "SystemdService=imapid.service" in text and "User=root" in text, text
    exec_line = " ".join([build_path("imapid"), "--bus-address=" + h.address] + h.daemon_args()[2:] + extra_args)
    # dbus-daemon discards the output of what it starts: keep it, for the sanitizers' reports.
    exec_line = f"/bin/sh -c 'exec {exec_line} >>{h.daemon_log} 2>&1'"
    text, n = re.subn(r"(?m)^Exec=.*$", "Exec=" + exec_line, text)
    assert n == 1
    return text


def owner_pid(bus, name):
    driver = dbus.Interface(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"), "org.freedesktop.DBus")
    return int(driver.GetConnectionUnixProcessID(name))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by dbus-daemon has exited too.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def check_activated_log(h):
    log = h.log()
    assert "ready on" in log and not sanitizer_report(log), log


def bus_activated(extra_args):
    """A private bus whose service directory holds the project's service file; imapid not started."""
    h = imapitest.Harness(start=False, bus_config=None)
    servicedir = os.path.join(h.tmp, "system-services")
    os.mkdir(servicedir)
    h.bus_config = ACTIVATION_BUS_CONF.replace("@SERVICEDIR@", servicedir)
    with open(os.path.join(servicedir, "org.imapid.Imapi1.service"), "w") as f:
        f.write(activation_service_file(h, extra_args))
    return h


def test_bus_activation():
    h = bus_activated(["--log-level=debug"])
    with h:
        bus = h.dbus()
        driver = dbus.Interface(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"),
                                "org.freedesktop.DBus")
        assert BUS_NAME in driver.ListActivatableNames()
        assert not driver.NameHasOwner(BUS_NAME), "imapid runs before anyone asked for it"
        # The first call starts it.
        r = subprocess.run(["busctl", "--address=" + h.address, "--auto-start=yes", "call", BUS_NAME, MANAGER,
                            "org.imapid.Imapi1.Manager", "GetRecorders"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        assert h.recorder_path(0) in r.stdout, r.stdout
        pid = owner_pid(bus, BUS_NAME)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[0].decode() == build_path("imapid")
        os.kill(pid, 15)
        wait_for(lambda: not pid_alive(pid), "the activated imapid to exit on SIGTERM")
        wait_for(lambda: not driver.NameHasOwner(BUS_NAME), "the name to be released")
        bus.close()
        check_activated_log(h)


def test_bus_activation_exit_on_idle():
    """Activated with an idle timeout, imapid gives its name back and exits; the next call starts
    it again."""
    h = bus_activated(["--idle-timeout=1s"])
    with h:
        bus = h.dbus()
        driver = dbus.Interface(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"),
                                "org.freedesktop.DBus")
        mgr = dbus.Interface(bus.get_object(BUS_NAME, MANAGER), "org.imapid.Imapi1.Manager")
        assert len(mgr.GetRecorders()) == 1
        pid = owner_pid(bus, BUS_NAME)
        wait_for(lambda: not pid_alive(pid), "imapid to exit when idle")
        assert not driver.NameHasOwner(BUS_NAME)
        # Activated again on demand.
        mgr = dbus.Interface(bus.get_object(BUS_NAME, MANAGER), "org.imapid.Imapi1.Manager")
        assert len(mgr.GetRecorders()) == 1
        pid2 = owner_pid(bus, BUS_NAME)
        assert pid2 != pid
        wait_for(lambda: not pid_alive(pid2), "the second imapid to exit when idle")
        bus.close()
        check_activated_log(h)
        assert h.log().count("Idle for 1 s, exiting.") == 2, h.log()


def test_exit_on_idle_waits_for_clients():
    """On the bus: no exit while a client holds a recorder; exit once it lets go."""
    with imapitest.Harness(extra_args=["--idle-timeout=1s"]) as h:
        holder = h.dbus()
        rec = dbus.Interface(holder.get_object(BUS_NAME, h.recorder_path(0)), REC)
        rec.OpenExclusive({})
        # Three idle timeouts with a recorder held: still there.
        time.sleep(3)
        assert h.daemon.poll() is None, "imapid exited while a client held a recorder:\n" + h.log()
        assert rec.GetRecorderState() == 1
        holder.close()
        wait_for(lambda: h.daemon.poll() is not None, "imapid to exit once idle")
        assert "Idle for 1 s, exiting." in h.log(), h.log()
        assert subprocess.run(["busctl", "--address=" + h.address, "status", BUS_NAME],
                              capture_output=True).returncode != 0, "the name is still owned"
        h.stop_daemon()


def test_no_idle_exit_by_default():
    with imapitest.Harness() as h:
        time.sleep(2)
        assert h.daemon.poll() is None


def test_no_bus_needs_sockets():
    with imapitest.Harness(start=False) as h:
        r = subprocess.run([build_path("imapid"), "--no-bus", "--config=/dev/null", "--no-scan",
                            "--no-default-drive"], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "--no-bus needs" in r.stdout + r.stderr, r


def test_socket_activation_clients():
    with SocketActivated() as s:
        # busctl with the bus-like driver imapid offers on peer connections (Hello, names).
        r = s.busctl("call", BUS_NAME, MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
        assert s.recorder_path(0) in r.stdout, r.stdout
        r = s.busctl("get-property", BUS_NAME, s.recorder_path(0), REC, "Id")
        assert r.stdout.strip() == 's "stdio0"', r.stdout
        r = s.busctl("tree", BUS_NAME)
        assert s.recorder_path(0) in r.stdout, r.stdout
        r = s.busctl("--json=short", "introspect", BUS_NAME, s.recorder_path(0))
        assert "OpenExclusive" in r.stdout
        # imapictl, by --socket and by a unix:path= address.
        r = s.ctl("devices")
        assert r.returncode == 0 and "stdio0" in r.stdout, r
        r = subprocess.run([build_path("imapictl"), "--bus-address=" + s.address, "--json", "devices"],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "stdio0" in r.stdout, r
        r = s.ctl("properties", "0", "WriteSpeed=4")
        assert r.returncode == 0, r
        # python-dbus on a plain peer connection (no Hello).
        c = s.connect()
        rec = dbus.Interface(c.get_object(None, s.recorder_path(0)), REC)
        assert rec.GetRecorderState() == 0
        c.close()


def test_socket_two_clients():
    with SocketActivated() as s:
        holder = s.connect()
        rec = dbus.Interface(holder.get_object(None, s.recorder_path(0)), REC)
        rec.OpenExclusive({})
        owner = holder.get_object(None, s.recorder_path(0)).Get(REC, "ExclusiveOwner", dbus_interface=PROPS)
        assert "peer" in owner, owner

        other = s.connect()
        rec2 = dbus.Interface(other.get_object(None, s.recorder_path(0)), REC)
        imapitest.expect_dbus_error(ERR + "IMAPI_E_DEVICE_STILL_IN_USE", rec2.OpenExclusive, {})
        r = s.busctl("call", BUS_NAME, s.recorder_path(0), REC, "OpenExclusive", "a{sv}", "0", check=False)
        assert r.returncode != 0 and "0x80040226" in r.stderr, r  # IMAPI_E_DEVICE_STILL_IN_USE
        r = s.ctl("properties", "0", "WriteSpeed=4")
        assert r.returncode == 1 and "IMAPI_E_DEVICE_STILL_IN_USE" in r.stderr, r

        # The holder goes away: its connection closing releases the recorder.
        holder.close()
        wait_for(lambda: other.get_object(None, s.recorder_path(0)).Get(REC, "ExclusiveOwner",
                                                                        dbus_interface=PROPS) == "",
                 "the recorder to be released")
        rec2.OpenExclusive({})
        assert rec2.GetRecorderState() == 1
        other.close()


def test_socket_peer_limit():
    """MaxClients caps concurrent peer connections; one over the cap is closed at once."""
    with SocketActivated(config="[Daemon]\nMaxClients=2\n") as s:
        a, b = s.connect(), s.connect()
        for c in (a, b):
            dbus.Interface(c.get_object(None, MANAGER), "org.imapid.Imapi1.Manager").GetRecorders()
        r = s.busctl("call", BUS_NAME, MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders", check=False)
        assert r.returncode != 0, "a third peer was served"
        assert "Too many peer-to-peer connections" in s.log(), s.log()
        a.close()
        wait_for(lambda: s.busctl("call", BUS_NAME, MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders",
                                  check=False).returncode == 0, "room for another peer")
        b.close()


def test_socket_exit_on_idle():
    with SocketActivated(extra_args=["--idle-timeout=1s"]) as s:
        c = s.connect()
        dbus.Interface(c.get_object(None, MANAGER), "org.imapid.Imapi1.Manager").GetRecorders()
        # An open connection is a client: no exit while it stays.
        time.sleep(3)
        assert s.running(), "imapid exited with a peer connected:\n" + s.log()
        c.close()
        wait_for(lambda: not s.running(), "imapid to exit once idle")
        assert "Idle for 1 s, exiting." in s.log(), s.log()
        s.stop()


def test_socket_and_bus():
    """Socket-activated with a bus around: the same objects on both, one set of rules."""
    with imapitest.Harness(start=False) as h, SocketActivated(extra_args=["--bus-address=" + h.address],
                                                              no_bus=False) as s:
        holder = s.connect()
        rec = dbus.Interface(holder.get_object(None, s.recorder_path(0)), REC)
        rec.OpenExclusive({})       # the first connection also starts imapid
        h.wait_for_name()
        bus = h.dbus()
        path = s.recorder_path(0)
        assert "peer" in bus.get_object(BUS_NAME, path).Get(REC, "ExclusiveOwner", dbus_interface=PROPS)
        imapitest.expect_dbus_error(ERR + "IMAPI_E_DEVICE_STILL_IN_USE",
                                    dbus.Interface(bus.get_object(BUS_NAME, path), REC).OpenExclusive, {})
        holder.close()
        wait_for(lambda: bus.get_object(BUS_NAME, path).Get(REC, "ExclusiveOwner", dbus_interface=PROPS) == "",
                 "the peer's recorder to be released")
        dbus.Interface(bus.get_object(BUS_NAME, path), REC).OpenExclusive({})
        bus.close()
        s.stop()


def test_socket_without_system_bus():
    """Socket-activated, no --no-bus, and no system bus to be found: the socket is served."""
    with SocketActivated(no_bus=False, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"}) as s:
        r = s.ctl("devices")
        assert r.returncode == 0 and "stdio0" in r.stdout, (r, s.log())
        assert "No system bus" in s.log(), s.log()


tests = [
    test_bus_activation,
    test_bus_activation_exit_on_idle,
    test_exit_on_idle_waits_for_clients,
    test_no_idle_exit_by_default,
    test_no_bus_needs_sockets,
    test_socket_activation_clients,
    test_socket_two_clients,
    test_socket_peer_limit,
    test_socket_exit_on_idle,
    test_socket_and_bus,
    test_socket_without_system_bus,
]
if len(sys.argv) > 1:
    tests = [t for t in tests if t.__name__ in sys.argv[1:]]
imapitest.run_tests(tests)
