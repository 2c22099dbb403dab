#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls held while polkit answers keep the fds they carry: two unprivileged users each send
calls with 16 fds while polkit does not answer. Each is held to its share of the descriptors
imapid keeps for calls in progress and then refused by name, imapid stays within its budget,
root's burn finishes meanwhile, and once polkit answers and the users go, imapid is back at its
baseline."""

import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import (Attacker, LimitedHarness, assert_back, baseline, burn_and_check,  # noqa: E402
                     let_in, stage_tree, test_users, usage)
from hostile import imapitest  # noqa: E402

ERR = imapitest.ERR

# DiscMaster.Open calls on disc masters of its own that each carry 16 fds no argument refers to
# (a message may), until imapid refuses one; a property read after each call shows whether imapid
# answered it at once. Prints how many were left waiting for polkit and the refusal.
HOLD_FDS = r"""
import json, os, sys
from gi.repository import Gio, GLib
B, DM = "org.imapid.Imapi1", "org.imapid.Imapi1.DiscMaster"
def connect():
    bus = Gio.DBusConnection.new_for_address_sync(
        os.environ["IMAPI_BUS_ADDRESS"],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    path = bus.call_sync(B, "/org/imapid/Imapi1/Manager", "org.imapid.Imapi1.Manager", "CreateDiscMaster",
                         GLib.Variant("(a{sv})", ({},)), None, 0, -1, None).unpack()[0]
    return bus, path
fds = Gio.UnixFDList.new()
for _ in range(16):
    fd = os.open("/dev/null", os.O_RDONLY)
    fds.append(fd)
    os.close(fd)
errors, sent, conns = [], 0, []
def done(conn, res, _):
    try:
        conn.call_with_unix_fd_list_finish(res)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        Gio.DBusError.strip_remote_error(e)
        errors.append([name, e.message])
ctx = GLib.MainContext.default()
# A few calls per connection, as the bus bounds the replies one connection may wait for.
while not errors and sent < int(sys.argv[1]):
    if sent % 4 == 0:
        conns.append(connect())
    bus, path = conns[-1]
    bus.call_with_unix_fd_list(B, path, DM, "Open", GLib.Variant("(a{sv})", ({},)), None, 0, -1, fds, None,
                               done, None)
    sent += 1
    bus.call_sync(B, path, "org.freedesktop.DBus.Properties", "Get", GLib.Variant("(ss)", (DM, "Opened")),
                  None, 0, -1, None)
    while ctx.pending():
        ctx.iteration(False)
print(json.dumps({"connections": len(conns), "waiting": sent - len(errors),
                  "refusal": errors[0] if errors else None}), flush=True)
sys.stdin.read()
"""


def test_polkit_held_fds():
    with test_users(2) as users, LimitedHarness(nofile=(2048, 2048)) as h:
        let_in(h)
        pid = h.daemon.pid

        # root opens (polkit answers) and stages before polkit stops answering; the burn needs
        # no other answer.
        bus = imapitest.glib_connection(h)
        master, files = stage_tree(h, bus, 512 * 1024)
        base = baseline(pid, h.stash)
        h.polkit_mock().SimulateHangActions(["org.imapid.imapi1.burn"], signature="as")

        with contextlib.ExitStack() as stack:
            results = [stack.enter_context(Attacker(u, HOLD_FDS, [2000], env=h.env)).result for u in users]
            during = usage(pid)
            print(f"# {results}; imapid before {base['usage']}, during {during}", flush=True)
            for out in results:
                assert out["refusal"] and out["refusal"][0] == ERR + "E_OUTOFMEMORY", results
                assert "waiting for authorization" in out["refusal"][1], results
            # Each user got the same share, and some calls did wait.
            assert results[0]["waiting"] == results[1]["waiting"] > 0, results
            held = sum(r["waiting"] for r in results) * 16
            assert during["fds"] >= base["usage"]["fds"] + held, (during, held)
            assert during["fds"] <= 2048 - 253, f"imapid kept no room for the next message: {during}"
            assert h.daemon.poll() is None, "imapid exited:\n" + h.log()
            burn_and_check(h, bus, master, files)
            h.polkit_mock().ReleaseHangingCalls()

        assert_back(base)
        master.dm.Close({})
        imapitest.wait_until(lambda: imapitest.stash_dirs(h) == [], "root's stash to go")


imapitest.run_tests([test_polkit_held_fds])
