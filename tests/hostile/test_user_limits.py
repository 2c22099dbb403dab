#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One user cannot take what others need: client slots (MaxClientsPerUser), stash bytes and
files (MaxStashBytesPerUser, MaxStagedFilesPerUser), and on the socket, connections that make
no call or hold nothing (PeerIdleTimeoutSec, a quarter of the connections per user). Each limit
is refused by name, root's burn goes on, and imapid comes back to its baseline."""

import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import (Attacker, Harness, assert_back, baseline, burn_and_check, fd_targets,  # noqa: E402
                     let_in)
from hostile import imapitest, svctest  # noqa: E402

ERR = imapitest.ERR

# Connections that each create a disc master, until imapid refuses one.
FILL_CLIENTS = r"""
import dbus, json, os, sys
conns, refusal = [], None
while refusal is None and len(conns) < int(sys.argv[1]):
    b = dbus.bus.BusConnection(os.environ["IMAPI_BUS_ADDRESS"])
    conns.append(b)
    mgr = dbus.Interface(b.get_object("org.imapid.Imapi1", "/org/imapid/Imapi1/Manager"),
                         "org.imapid.Imapi1.Manager")
    try:
        mgr.CreateDiscMaster({})
    except dbus.exceptions.DBusException as e:
        refusal = [e.get_dbus_name(), e.get_dbus_message()]
print(json.dumps({"clients": len(conns) - (refusal is not None), "refusal": refusal}), flush=True)
sys.stdin.read()
"""

# Two disc masters of one user, AddData calls on them, then SetImage on a third: prints each
# call's answer.
STAGE = r"""
import dbus, json, os, sys
B = "org.imapid.Imapi1"
bus = dbus.bus.BusConnection(os.environ["IMAPI_BUS_ADDRESS"])
mgr = dbus.Interface(bus.get_object(B, "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
masters = []
for _ in range(2):
    obj = bus.get_object(B, mgr.CreateDiscMaster({}))
    dm = dbus.Interface(obj, "org.imapid.Imapi1.DiscMaster")
    dm.Open({})
    dm.SetActiveDiscMasterFormat("joliet", {})
    dm.SetActiveDiscRecorder(dm.EnumDiscRecorders()[0], {})
    masters.append(dbus.Interface(obj, "org.imapid.Imapi1.JolietDiscMaster"))
out = []
def add(master, entries):
    fds = [os.open(p, os.O_RDONLY) for _, p in entries]
    try:
        masters[master].AddData([(n, dbus.types.UnixFd(fd)) for (n, _), fd in zip(entries, fds)], False, {})
        out.append(["ok"])
    except dbus.exceptions.DBusException as e:
        out.append([e.get_dbus_name(), e.get_dbus_message()])
    finally:
        for fd in fds:
            os.close(fd)
src = sys.argv[1]
add(0, [("a.bin", src + "/2m-a")])
add(0, [("b.bin", src + "/2m-b")])
add(1, [("b.bin", src + "/2m-b")])
add(1, [("s%d" % i, src + "/small") for i in range(6)])
add(1, [("t%d" % i, src + "/small") for i in range(3)])
# a disc image on a third master counts against the same share
obj = bus.get_object(B, mgr.CreateDiscMaster({}))
dm = dbus.Interface(obj, "org.imapid.Imapi1.DiscMaster")
dm.Open({})
dm.SetActiveDiscMasterFormat("image", {})
dm.SetActiveDiscRecorder(dm.EnumDiscRecorders()[0], {})
fd = os.open(src + "/2m-b", os.O_RDONLY)
try:
    dbus.Interface(obj, "org.imapid.Imapi1.ImageDiscMaster").SetImage(dbus.types.UnixFd(fd), {})
    out.append(["ok"])
except dbus.exceptions.DBusException as e:
    out.append([e.get_dbus_name(), e.get_dbus_message()])
finally:
    os.close(fd)
print(json.dumps(out), flush=True)
sys.stdin.read()
"""

# Disc masters on as many recorders, a file staged on each, then RecordDisc on all of them at
# once (sent together, answered as they come): prints the answers.
RECORD_AT_ONCE = r"""
import dbus, dbus.mainloop.glib, json, os, sys
from gi.repository import GLib
B = "org.imapid.Imapi1"
bus = dbus.bus.BusConnection(os.environ["IMAPI_BUS_ADDRESS"], mainloop=dbus.mainloop.glib.DBusGMainLoop())
mgr = dbus.Interface(bus.get_object(B, "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
src, n = sys.argv[1], int(sys.argv[2])
masters = []
for i in range(n):
    obj = bus.get_object(B, mgr.CreateDiscMaster({}))
    dm = dbus.Interface(obj, "org.imapid.Imapi1.DiscMaster")
    dm.Open({})
    dm.SetActiveDiscMasterFormat("joliet", {})
    dm.SetActiveDiscRecorder(dm.EnumDiscRecorders()[i], {})
    fd = os.open(src + "/small", os.O_RDONLY)
    dbus.Interface(obj, "org.imapid.Imapi1.JolietDiscMaster").AddData([("s", dbus.types.UnixFd(fd))], False, {})
    os.close(fd)
    masters.append(dm)
loop, out = GLib.MainLoop(), []
def answered(what):
    out.append(what)
    if len(out) == n:
        loop.quit()
for dm in masters:
    dm.RecordDisc(True, False, {}, reply_handler=lambda job: answered(["ok"]),
                  error_handler=lambda e: answered([e.get_dbus_name(), e.get_dbus_message()]))
loop.run()
print(json.dumps(sorted(out)), flush=True)
sys.stdin.read()
"""

# One disc master, RecordDiscTo on all n recorders, then on n - 1: prints both answers.
RECORD_TO = r"""
import dbus, json, os, sys
B = "org.imapid.Imapi1"
bus = dbus.bus.BusConnection(os.environ["IMAPI_BUS_ADDRESS"])
mgr = dbus.Interface(bus.get_object(B, "/org/imapid/Imapi1/Manager"), "org.imapid.Imapi1.Manager")
src, n = sys.argv[1], int(sys.argv[2])
obj = bus.get_object(B, mgr.CreateDiscMaster({}))
dm = dbus.Interface(obj, "org.imapid.Imapi1.DiscMaster")
dm.Open({})
dm.SetActiveDiscMasterFormat("joliet", {})
recs = dm.EnumDiscRecorders()
dm.SetActiveDiscRecorder(recs[0], {})
fd = os.open(src + "/small", os.O_RDONLY)
dbus.Interface(obj, "org.imapid.Imapi1.JolietDiscMaster").AddData([("s", dbus.types.UnixFd(fd))], False, {})
os.close(fd)
out = []
for k in (n, n - 1):
    try:
        out.append(["ok", len(dm.RecordDiscTo(recs[:k], True, False, {}))])
    except dbus.exceptions.DBusException as e:
        out.append([e.get_dbus_name(), e.get_dbus_message()])
print(json.dumps(out), flush=True)
sys.stdin.read()
"""


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)


def root_burns(h):
    """root stages and burns a small tree on a private bus: the user's share left it room."""
    bus = imapitest.glib_connection(h)
    master = imapitest.Master(bus)
    src = tempfile.mkdtemp(dir=h.tmp)
    files = imapitest.make_tree(os.path.join(src, "tree"), data_size=3 * 1024 * 1024)
    master.add([("tree", os.path.join(src, "tree"))] + [
        ("tree/" + n, os.path.join(src, "tree", n)) for n in files])
    burn_and_check(h, bus, master, {"tree/" + n: d for n, d in files.items()})
    master.dm.Close({})
    bus.close()


def test_client_slots():
    with svctest.TestUser() as user, Harness() as h:
        let_in(h)
        base = baseline(h.daemon.pid, h.stash)
        with Attacker(user, FILL_CLIENTS, [200], env=h.env) as a:
            out = a.result
            assert out["refusal"] and out["refusal"][0] == ERR + "E_OUTOFMEMORY", out
            assert "MaxClientsPerUser" in out["refusal"][1], out
            # A quarter of MaxClients=256.
            assert out["clients"] == 64, out
            root_burns(h)
            a.stop()
        assert_back(base)


def start_configured(h, config):
    """Starts imapid with config as its imapid.conf, open to the test user; returns its baseline
    and a folder for the user's files."""
    config_path = os.path.join(h.tmp, "imapid.conf")
    with open(config_path, "w") as f:
        f.write(config)
    h.extra_args.append("--config=" + config_path)
    h.start_daemon()
    let_in(h)
    src = tempfile.mkdtemp(dir=h.tmp)
    os.chmod(src, 0o755)
    return baseline(h.daemon.pid, h.stash), src


def test_stash_share():
    with svctest.TestUser() as user, Harness(start=False) as h:
        base, src = start_configured(h, "[Daemon]\nMaxStashBytesPerUser=3M\nMaxStagedFilesPerUser=8\n")
        write(os.path.join(src, "2m-a"), os.urandom(2 * 1024 * 1024))
        write(os.path.join(src, "2m-b"), os.urandom(2 * 1024 * 1024))
        write(os.path.join(src, "small"), b"x")
        with Attacker(user, STAGE, [src], env=h.env) as a:
            first, second, other_master, six, three, image = a.result
            assert first == ["ok"], a.result
            # 2 MiB more would pass 3 MiB, on the same disc master or another of the user's,
            # staged as files or as a disc image.
            for refused in (second, other_master, image):
                assert refused[0] == ERR + "IMAPI_E_NOTENOUGHDISKFORSTASH", a.result
                assert "MaxStashBytesPerUser" in refused[1], a.result
            # One file staged; six more make seven, three more would make ten.
            assert six == ["ok"], a.result
            assert three[0] == ERR + "E_OUTOFMEMORY" and "MaxStagedFilesPerUser=8" in three[1], a.result
            # The refused calls left nothing: the stash holds the seven staged files (2 MiB and
            # six of 1 byte, which may share a file of the stash), and no refused 2 MiB.
            held = sum(os.lstat(os.path.join(top, f)).st_size for top, _, files in os.walk(h.stash)
                       for f in files)
            assert 2 * 1024 * 1024 + 6 <= held < 4 * 1024 * 1024, f"{held} bytes in the stash"
            # root is its own user: its 3 MiB fit.
            root_burns(h)
            a.stop()
        assert_back(base)


def test_jobs_at_once():
    """RecordDisc on three recorders at once by a user allowed one job: one job starts, the
    others are refused by name, though each was checked while the others read their drives."""
    with svctest.TestUser() as user, Harness(drives=3, start=False) as h:
        base, src = start_configured(h, "[Daemon]\nMaxJobsPerUser=1\n")
        write(os.path.join(src, "small"), b"x" * 4096)
        with Attacker(user, RECORD_AT_ONCE, [src, 3], env=h.env) as a:
            refused = [r for r in a.result if r != ["ok"]]
            assert len(refused) == 2, a.result
            for r in refused:
                assert r[0] == ERR + "E_OUTOFMEMORY" and "MaxJobsPerUser" in r[1], a.result
            a.stop()
        assert_back(base)


def test_jobs_of_record_disc_to():
    """RecordDiscTo asks for one job per recorder: three recorders for a user allowed two jobs
    are refused by name before any disc is read; two start two jobs."""
    with svctest.TestUser() as user, Harness(drives=3, start=False) as h:
        base, src = start_configured(h, "[Daemon]\nMaxJobsPerUser=2\n")
        write(os.path.join(src, "small"), b"x" * 4096)
        with Attacker(user, RECORD_TO, [src, 3], env=h.env) as a:
            three, two = a.result
            assert three[0] == ERR + "E_OUTOFMEMORY" and "MaxJobsPerUser is 2" in three[1], a.result
            assert two == ["ok", 2], a.result
            a.stop()
        assert_back(base)


def test_idle_peers():
    """Connections that never call, or call and then hold nothing, are closed; one user gets a
    quarter of the connections; root gets in all along."""
    config = "[Daemon]\nPeerIdleTimeoutSec=5s\n"
    with svctest.TestUser() as user, svctest.SocketActivated(config=config) as s:
        os.chmod(s.tmp, 0o755)
        os.chmod(s.socket, 0o666)
        s.busctl("call", svctest.BUS_NAME, svctest.MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
        pid = s.proc.pid
        # The baseline: the listening socket only, once busctl's connection (which started
        # imapid) is gone.
        imapitest.wait_until(lambda: sum(t.startswith("socket:") for t in fd_targets(pid)) == 1,
                             "busctl's connection to go")
        base = baseline(pid, s.stash)
        code = r"""
import json, socket, sys, time, dbus
path = sys.argv[1]
# One that calls once and then holds nothing.
talker = dbus.connection.Connection("unix:path=" + path)
dbus.Interface(talker.get_object(None, "/org/imapid/Imapi1/Manager"),
               "org.imapid.Imapi1.Manager").GetRecorders()
silent = []
for _ in range(80):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    silent.append(c)
print(json.dumps({"silent": len(silent)}), flush=True)
sys.stdin.readline()
closed = 0
for c in silent:
    c.settimeout(10)
    try:
        closed += c.recv(1) == b""
    except OSError:
        closed += 1
try:
    dbus.Interface(talker.get_object(None, "/org/imapid/Imapi1/Manager"),
                   "org.imapid.Imapi1.Manager").GetRecorders()
    talker_state = "served"
except dbus.exceptions.DBusException as e:
    talker_state = e.get_dbus_name()
print(json.dumps({"closed": closed, "talker": talker_state}), flush=True)
sys.stdin.read()
"""
        with Attacker(user, code, [s.socket], env=s.env) as a:
            # root is served while the user's connections are open.
            s.busctl("call", svctest.BUS_NAME, svctest.MANAGER, "org.imapid.Imapi1.Manager", "GetRecorders")
            served = re.search(r"it has a quarter of the (\d+) connections", s.log())
            assert served, s.log()
            # The silent ones in the user's share go after the first-call timeout (0.5 s), the
            # talker after 5 s.
            share = int(served.group(1)) // 4
            imapitest.wait_until(lambda: s.log().count("it made no call in time") >= share - 1,
                                 "silent peers to go")
            imapitest.wait_until(lambda: "idle, holding nothing" in s.log(), "the idle peer to go",
                                 timeout=60)
            a.proc.stdin.write("\n")
            a.proc.stdin.flush()
            out = __import__("json").loads(a.proc.stdout.readline())
            assert out["closed"] == 80, out
            assert out["talker"] != "served", out
            a.stop()
        assert s.running(), s.log()
        assert_back(base)


imapitest.run_tests([test_client_slots, test_stash_share, test_jobs_at_once, test_jobs_of_record_disc_to, test_idle_peers])
