#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fd exhaustion attack: unprivileged users open as many disc masters as imapid lets them
and send calls carrying 16 fds; imapid must refuse by name, stay up, finish root's burn, and
come back to its baseline once the attacker is gone. And an imapid that cannot go on (its bus
went away, too few fds to start) says why and exits with a failure."""

import contextlib
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import (Attacker, LimitedHarness, assert_back, baseline, burn_and_check, fd_limit,  # noqa: E402
                     let_in, stage_tree, test_users, usage)
from hostile import imapitest, svctest  # noqa: E402

ERR = imapitest.ERR

# As many connections and disc masters as imapid allows, then a call with 16 fds on each
# connection. Prints what it got.
FILL_MASTERS = r"""
import dbus, json, os, sys
B, DM = "org.imapid.Imapi1", "org.imapid.Imapi1.DiscMaster"
addr = os.environ["IMAPI_BUS_ADDRESS"]
conns, masters, refusal = [], [], None
while refusal is None and len(conns) < int(sys.argv[1]):
    b = dbus.bus.BusConnection(addr)
    conns.append(b)
    mgr = dbus.Interface(b.get_object(B, "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
    for _ in range(8):
        try:
            p = mgr.CreateDiscMaster({})
            dbus.Interface(b.get_object(B, p), DM).Open({})
            masters.append((b, p))
        except dbus.exceptions.DBusException as e:
            refusal = [e.get_dbus_name(), e.get_dbus_message()]
            break
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(16)]
answers = {}
for b, p in masters[::8]:
    j = dbus.Interface(b.get_object(B, p), "org.imapid.Imapi1.JolietDiscMaster")
    try:
        j.AddData([("f%d" % i, dbus.types.UnixFd(fd)) for i, fd in enumerate(fds)], False, {})
        answers["ok"] = answers.get("ok", 0) + 1
    except dbus.exceptions.DBusException as e:
        answers[e.get_dbus_name()] = answers.get(e.get_dbus_name(), 0) + 1
print(json.dumps({"connections": len(conns), "masters": len(masters), "refusal": refusal,
                  "answers": answers}), flush=True)
sys.stdin.read()
"""


def test_fd_exhaustion():
    """Five users together take every disc master there is: each is held to its share, the last
    to what the fds allow, and imapid stays up."""
    with test_users(5) as users, LimitedHarness(nofile=(1024, 2048)) as h:
        let_in(h)
        pid = h.daemon.pid
        assert fd_limit(pid) == 2048, "imapid did not raise its soft fd limit to the hard limit"

        # root stages a disc before the attack and burns it during.
        bus = imapitest.glib_connection(h)
        master, files = stage_tree(h, bus, 1024 * 1024)
        base = baseline(pid, h.stash)

        with contextlib.ExitStack() as stack:
            results = [stack.enter_context(Attacker(u, FILL_MASTERS, [300], env=h.env)).result for u in users]
            for out in results:
                assert out["refusal"] and out["refusal"][0] == ERR + "E_OUTOFMEMORY", out
                # Every call with 16 fds got an answer (a named refusal: /dev/null is no file).
                calls = (out["masters"] + 7) // 8
                assert out["answers"] == ({ERR + "E_INVALIDARG": calls} if calls else {}), results
            # Each user is held to a quarter of what the fds allow (2048 fds, three per master);
            # root's master and the first four users' take them all, the fifth gets none.
            share = results[0]["masters"]
            per_user = [r for r in results if "MaxDiscMastersPerUser" in r["refusal"][1]]
            of_all = [r for r in results if "MaxDiscMasters," in r["refusal"][1]]
            assert len(per_user) == 3 and len(of_all) == 2, results
            assert all(r["masters"] == share for r in results[:4]) and results[4]["masters"] == 0, results
            assert "file descriptor" in of_all[0]["refusal"][1], of_all
            total = 1 + sum(r["masters"] for r in results)
            assert total < 2048 // 3, results
            assert h.daemon.poll() is None, "imapid exited under the attack:\n" + h.log()
            during = usage(pid)
            print(f"# {sum(r['connections'] for r in results)} connections of 5 users, {total} disc masters; "
                  f"imapid before {base['usage']}, during {during}", flush=True)
            assert during["fds"] <= 2048 - 253, f"imapid kept no room for the next message: {during}"
            # The attackers hold every master there is: root's burn goes on regardless.
            burn_and_check(h, bus, master, files)

        assert_back(base)
        master.dm.Close({})
        imapitest.wait_until(lambda: imapitest.stash_dirs(h) == [], "root's stash to go")


def test_bus_lost():
    """The bus goes away under imapid: a failure, not a clean exit."""
    with LimitedHarness() as h:
        h.bus_proc.send_signal(signal.SIGKILL)
        h.bus_proc.wait()
        h.bus_proc = None
        rc = h.daemon.wait(timeout=60)
        h.daemon = None
        h.log_file.close()
        assert rc != 0, "imapid exited with status 0 after losing its bus"
        assert "Lost the connection to the bus" in h.log(), h.log()
        assert "imapid exiting." not in h.log(), h.log()
        assert not imapitest.sanitizer_report(h.log()), h.log()


def test_too_few_fds():
    """With too few fds to serve anyone, imapid does not start and says what it needs."""
    with LimitedHarness(nofile=(256, 256), start=False) as h:
        h.start_daemon(wait=False)
        rc = h.daemon.wait(timeout=60)
        h.daemon = None
        h.log_file.close()
        assert rc != 0 and "needs at least" in h.log() and "LimitNOFILE" in h.log(), (rc, h.log())


imapitest.run_tests([test_fd_exhaustion, test_bus_lost, test_too_few_fds])
