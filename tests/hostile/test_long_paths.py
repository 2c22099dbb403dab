#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls on object paths of up to 64 KiB, on the bus and on the peer-to-peer socket: sd-bus would
look such a path up prefix by prefix, most of a second of imapid's loop for one call. Each is
answered UnknownObject with the path's size, from a user with no rights at all, and imapid
comes back to its baseline. (A path of 64 KiB or more sd-bus drops as invalid before imapid
sees the call; docs/errors.txt says so.)"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Attacker, Harness, assert_back, baseline, let_in  # noqa: E402
from hostile import imapitest, svctest  # noqa: E402

# Calls on long paths; prints the answers' names and whether each named the size.
LONG_PATHS = r"""
import collections, dbus, json, sys
address, peer = sys.argv[1], sys.argv[2] == "peer"
c = dbus.connection.Connection(address) if peer else dbus.bus.BusConnection(address)
answers = collections.Counter()
for n in [1025, 4096, 60000] * 20:
    base = "/org/imapid/Imapi1/masters"
    k = (n - len(base)) // 2
    path = base + "/x" * k + "x" * (n - len(base) - 2 * k)
    try:
        c.call_blocking(None if peer else "org.imapid.Imapi1", path, "org.imapid.Imapi1.DiscMaster", "Open",
                        "a{sv}", [{}], timeout=30)
        answers["answered"] += 1
    except dbus.exceptions.DBusException as e:
        answers[e.get_dbus_name() + (" naming the size" if "%d bytes" % len(path) in e.get_dbus_message() else "")] += 1
print(json.dumps(answers), flush=True)
sys.stdin.read()
"""

NAMED = "org.freedesktop.DBus.Error.UnknownObject naming the size"


def test_bus():
    with svctest.TestUser() as user, Harness() as h:
        let_in(h)
        base = baseline(h.daemon.pid, h.stash)
        with Attacker(user, LONG_PATHS, [h.address, "bus"], env=h.env) as a:
            assert a.result == {NAMED: 60}, a.result
            a.stop()
        bus = imapitest.glib_connection(h)
        assert len(imapitest.Master(bus).dm.EnumDiscRecorders()) == 1
        bus.close()
        assert_back(base)


def test_peer():
    with svctest.TestUser() as user, svctest.SocketActivated() as s:
        os.chmod(s.tmp, 0o755)
        os.chmod(s.socket, 0o666)
        s.busctl("call", svctest.BUS_NAME, svctest.MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
        pid = s.proc.pid
        imapitest.wait_until(lambda: len(os.listdir(f"/proc/{pid}/fd")) > 0, "imapid")
        with Attacker(user, LONG_PATHS, ["unix:path=" + s.socket, "peer"], env=s.env) as a:
            assert a.result == {NAMED: 60}, a.result
            a.stop()
        assert s.running(), s.log()
        base = baseline(pid, s.stash)
        s.busctl("call", svctest.BUS_NAME, svctest.MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
        assert_back(base)


imapitest.run_tests([test_bus, test_peer])
