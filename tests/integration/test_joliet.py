#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Joliet data discs end to end on image-file recorders: staging through fds, the image, the burn,
read back with stock xorriso and isoinfo, and IDiscMaster's ordering rules by error name."""

import os
import re
import signal
import subprocess
import sys

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (ERR, JOLIET, JOLIET_IID, REDBOOK_IID, IMAGE_IID, Harness, Master, expect_dbus_error,  # noqa: E402
                       extract, glib_connection, make_tree, run_tests, stash_dirs, wait_until)

S_OK, USERABORT = 0, 0x8004020D


def joliet_listing(image):
    """The Joliet tree as xorriso reads it with Rock Ridge switched off."""
    r = subprocess.run(["xorriso", "-read_fs", "norock", "-indev", image, "-find", "/"], check=True,
                       capture_output=True, text=True)
    return set(line.strip().strip("'") for line in r.stdout.splitlines())


def isoinfo_joliet(image):
    """isoinfo's view of the Joliet tree (it prints non-Latin characters as '_')."""
    r = subprocess.run(["isoinfo", "-J", "-f", "-i", image], check=True, capture_output=True, text=True)
    return set(line.strip() for line in r.stdout.splitlines())


def entries_for(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for f in filenames:
            out.append((os.path.normpath(os.path.join(rel, f)), os.path.join(dirpath, f)))
        if not dirnames and not filenames:
            out.append((rel, dirpath))
    return out


def test_burn_tree_read_back():
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        files = make_tree(src)
        bus = glib_connection(h)
        m = Master(bus)
        assert m.dm.GetActiveDiscMasterFormat() == JOLIET_IID
        total = m.prop("TotalDataBlocks", JOLIET)
        assert total > 1000 and m.prop("DataBlockSize", JOLIET) == 2048
        assert m.prop("UsedDataBlocks", JOLIET) == 0
        entries = entries_for(src)
        m.add(entries[:3])
        m.add(entries[3:])
        used = m.prop("UsedDataBlocks", JOLIET)
        assert used * 2048 >= sum(len(d) for d in files.values()), used
        assert m.joliet.SetJolietProperties({"VolumeName": "HOLIDAY_2024"}) == S_OK

        hr, signals, completed = m.record()
        assert hr == S_OK, (hex(hr), signals)
        assert completed == (True, completed[1]), completed
        members = [s[0] for s in signals]
        assert members[0] == "PreparingBurn" and members[-1] == "BurnComplete", members
        blocks = [a for s, a in signals if s == "BlockProgress"]
        assert blocks and blocks[-1][0] == blocks[-1][1] > 0, blocks
        # what the burn wrote reads back with stock tools, byte for byte
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        for name, data in files.items():
            with open(os.path.join(out, name), "rb") as f:
                assert f.read() == data, name
        assert os.path.isdir(os.path.join(out, "empty dir"))
        listing = joliet_listing(h.images[0])
        for name in ["/照片/长城.jpg", "/Ελληνικά/αλφάβητο.txt", "/emoji/🎵 music 🎶.txt", "/empty dir"]:
            assert name in listing, (name, sorted(listing))
        listing = isoinfo_joliet(h.images[0])
        for name in ["/docs/guide/intro.md;1", "/docs/data.bin;1", "/empty.dat;1", "/empty dir"]:
            assert name in listing, (name, sorted(listing))
        pvd = subprocess.run(["isoinfo", "-d", "-i", h.images[0]], capture_output=True, text=True).stdout
        assert "Volume id: HOLIDAY_2024" in pvd, pvd
        # IMAPI clears the staged content after a successful burn; the image file is gone
        assert m.prop("UsedDataBlocks", JOLIET) == 0
        assert os.listdir(os.path.join(h.stash, "master-1.stash")) == [], os.listdir(h.stash)
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


def test_ordering_rules():
    with Harness(drives=1) as h:
        bus = h.dbus()
        m = Master(bus, open=False)
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "w") as f:
            f.write("x")
        for call in (lambda: m.dm.EnumDiscMasterFormats(), lambda: m.dm.GetActiveDiscMasterFormat(),
                     lambda: m.dm.SetActiveDiscMasterFormat("joliet", {}), lambda: m.dm.EnumDiscRecorders(),
                     lambda: m.dm.ClearFormatContent({}), lambda: m.dm.RecordDisc(False, False, {}),
                     lambda: m.add([("f.txt", src)]), lambda: m.joliet.GetJolietProperties()):
            expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", call)
        m.dm.Open({})
        expect_dbus_error(ERR + "IMAPI_E_ALREADYOPEN", m.dm.Open, {})
        assert list(m.dm.EnumDiscMasterFormats()) == [JOLIET_IID, REDBOOK_IID, IMAGE_IID]
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVEFORMAT", m.dm.GetActiveDiscMasterFormat)
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVEFORMAT", m.add, [("f.txt", src)])
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVEFORMAT", m.dm.SetActiveDiscRecorder, h.recorder_path(), {})
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.SetActiveDiscMasterFormat, "udf", {})
        m.dm.SetActiveDiscMasterFormat("{" + JOLIET_IID.upper() + "}", {})
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", m.dm.GetActiveDiscRecorder)
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", m.add, [("f.txt", src)])
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", m.dm.RecordDisc, False, False, {})
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.SetActiveDiscRecorder, "/org/imapid/Imapi1/Manager", {})
        m.dm.SetActiveDiscRecorder(h.recorder_path(), {})
        assert m.dm.GetActiveDiscRecorder() == h.recorder_path()
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.dm.RecordDisc, False, False, {})
        # the other format's interface: WRONGFORMAT
        m.dm.SetActiveDiscMasterFormat(REDBOOK_IID, {})
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.add, [("f.txt", src)])
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.joliet.GetJolietProperties)
        # an image file cannot take audio: the recorder is no longer active
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", m.dm.GetActiveDiscRecorder)
        assert list(m.dm.EnumDiscRecorders()) == []
        # a recorder held through OpenExclusive belongs to IDiscRecorder, not to the master
        m.dm.SetActiveDiscMasterFormat("joliet", {})
        other = h.dbus()
        rec = other.get_object("org.imapid.Imapi1", h.recorder_path())
        rec.OpenExclusive({}, dbus_interface="org.imapid.Imapi1.Recorder")
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", m.dm.SetActiveDiscRecorder, h.recorder_path(), {})
        rec.Close({}, dbus_interface="org.imapid.Imapi1.Recorder")
        m.dm.SetActiveDiscRecorder(h.recorder_path(), {})
        m.add([("f.txt", src)])
        rec.OpenExclusive({}, dbus_interface="org.imapid.Imapi1.Recorder")
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", m.dm.RecordDisc, False, False, {})
        rec.Close({}, dbus_interface="org.imapid.Imapi1.Recorder")
        # another client cannot use this client's master
        other_master = other.get_object("org.imapid.Imapi1", m.path)
        expect_dbus_error(ERR + "E_ACCESSDENIED", other_master.ClearFormatContent, {},
                          dbus_interface="org.imapid.Imapi1.DiscMaster")
        # unknown options are refused
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDisc, False, False, {"turbo": True})
        m.dm.ClearFormatContent({})
        assert m.prop("UsedDataBlocks", JOLIET) == 0
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.dm.RecordDisc, False, False, {})


def test_add_data_errors():
    with Harness() as h:
        bus = glib_connection(h)
        m = Master(bus)
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "w") as f:
            f.write("first")
        src2 = os.path.join(h.tmp, "g.txt")
        with open(src2, "w") as f:
            f.write("second")
        bad = ["x" * 65, "a/../b", "./a", "a//b", "what?.txt", "a:b", "back\\slash", "star*", "semi;colon",
               "/".join(["d"] * 9), "tab\there", "", "/".join(["abcdefghij" * 5] * 5),
               # C1 controls, bidirectional overrides and isolates, noncharacters (which sd-bus
               # itself refuses to read, past the bus)
               "del\x7f", "c1\x85", "photo\u202egpj.exe", "iso\u2066late", "non\ufffe", "non\uffff",
               "non\U0010ffff", "non\ufdd0"]
        for name in bad:
            e = expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.add, [(name, src)])
            assert e.get_dbus_message().startswith("0x8004021D: "), e.get_dbus_message()
        # the longest good names are fine: 64 characters, 8 levels
        m.add([("y" * 64, src), ("/".join(["d"] * 7) + "/leaf", src)])
        # a batch with one bad name stages nothing of the batch
        before = m.prop("UsedDataBlocks", JOLIET)
        expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.add, [("good.txt", src), ("bad*", src)])
        assert m.prop("UsedDataBlocks", JOLIET) == before
        # FILEEXISTS without overwrite, also within one batch, and for a file used as a folder
        m.add([("same.txt", src)])
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.add, [("same.txt", src2)])
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.add, [("dup", src), ("dup", src2)])
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.add, [("same.txt/inner", src)])
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.add, [("d", src)])
        # with overwrite the last one wins
        m.add([("same.txt", src2)], overwrite=True)
        # not a regular file
        null = os.open("/dev/null", os.O_RDONLY)
        e = expect_dbus_error(ERR + "E_INVALIDARG", m.joliet.AddData, [("null", dbus.types.UnixFd(null))], False, {})
        os.close(null)
        assert "neither a regular file nor a directory" in e.get_dbus_message()
        hr, _, _ = m.record()
        assert hr == S_OK, hex(hr)
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        with open(os.path.join(out, "same.txt")) as f:
            assert f.read() == "second"


def test_discfull_keeps_nothing():
    """An image-file recorder on a small file system: its free space is the disc's."""
    with Harness(drives=0, start=False) as h:
        small = os.path.join(h.tmp, "small")
        os.mkdir(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", small], check=True)
        try:
            h.images = [os.path.join(small, "disc.iso")]
            h.start_daemon()
            bus = h.dbus()
            m = Master(bus)
            total = m.prop("TotalDataBlocks", JOLIET)
            assert 0 < total <= 1024, total
            big = os.path.join(h.tmp, "big.bin")
            with open(big, "wb") as f:
                f.write(os.urandom(3 * 1024 * 1024))
            fine = os.path.join(h.tmp, "fine.bin")
            with open(fine, "wb") as f:
                f.write(b"ok")
            e = expect_dbus_error(ERR + "IMAPI_E_DISCFULL", m.add, [("fine.bin", fine), ("big.bin", big)])
            msg = e.get_dbus_message()
            assert msg.startswith("0x8004021C: ") and re.search(r"needs [0-9.]+ [KMG]iB, [0-9.]+ [KMG]iB free", msg), msg
            assert m.prop("UsedDataBlocks", JOLIET) == 0
            assert os.listdir(os.path.join(h.stash, "master-1.stash")) == []
            m.add([("fine.bin", fine)])
            assert os.listdir(os.path.join(h.stash, "master-1.stash")) != []  # the staged data is there
            # ClearFormatContent answers once the staged files are gone from the stash
            m.dm.ClearFormatContent({})
            assert m.prop("UsedDataBlocks", JOLIET) == 0
            assert os.listdir(os.path.join(h.stash, "master-1.stash")) == []
            m.add([("fine.bin", fine)])
            m.dm.SetActiveDiscMasterFormat("joliet", {})
            assert os.listdir(os.path.join(h.stash, "master-1.stash")) == []
            h.stop_daemon()
        finally:
            subprocess.run(["umount", small])


def test_cancel_mid_write():
    with Harness() as h:
        big = os.path.join(h.tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(24 * 1024 * 1024))
        bus = glib_connection(h)
        m = Master(bus)
        m.add([("big.bin", big)])
        seen = {}

        def cancel_when_writing(job):
            from gi.repository import GLib
            obj = bus.get_object("org.imapid.Imapi1", job)

            def poll():
                try:
                    phase = obj.Get("org.imapid.Imapi1.Job", "Phase", dbus_interface="org.freedesktop.DBus.Properties")
                    progress = obj.Get("org.imapid.Imapi1.Job", "Progress",
                                       dbus_interface="org.freedesktop.DBus.Properties")
                except Exception:
                    return False
                if phase == "writing" and progress > 0.2:
                    seen["phase"] = str(phase)
                    obj.Cancel({}, dbus_interface="org.imapid.Imapi1.Job")
                    return False
                return True
            GLib.timeout_add(50, poll)

        # 4 MB/s: the 24 MiB write takes seconds, long enough to cancel in the middle
        hr, signals, completed = m.record(options={"write_speed_kbps": 4000}, on_job=cancel_when_writing)
        assert seen.get("phase") == "writing", seen
        assert hr == USERABORT, hex(hr)
        assert completed and completed[0] is False and completed[1].startswith("0x8004020D"), completed
        # the drive is free, the image file is gone, the staged data is still there for another try
        assert bus.get_object("org.imapid.Imapi1", h.recorder_path()).Get(
            "org.imapid.Imapi1.Recorder", "State", dbus_interface="org.freedesktop.DBus.Properties") == 0
        assert not os.path.exists(os.path.join(h.stash, "master-1.stash", "image.iso"))
        assert m.prop("UsedDataBlocks", JOLIET) > 0
        # and its names are still known: the same one again is refused, a new one is added
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.add, [("big.bin", big)])
        note = os.path.join(h.tmp, "note.txt")
        with open(note, "w") as f:
            f.write("second try\n")
        m.add([("note.txt", note)])
        hr, _, _ = m.record()
        assert hr == S_OK, hex(hr)


def test_client_vanishes_mid_staging():
    with Harness() as h:
        big = os.path.join(h.tmp, "big.bin")
        with open(big, "wb") as f:
            f.truncate(0)
            for _ in range(64):
                f.write(os.urandom(1024 * 1024))
        # a separate process stages a large file and is killed while AddData copies
        code = f"""
import sys, os, dbus
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from imapitest import Master
bus = dbus.bus.BusConnection({h.address!r})
m = Master(bus)
print(m.path, flush=True)
fd = os.open({big!r}, os.O_RDONLY)
m.joliet.AddData([("big%d.bin" % i, dbus.types.UnixFd(fd)) for i in range(8)], False, {{}}, timeout=600)
"""
        p = subprocess.Popen(["/usr/bin/python3", "-c", code], stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        wait_until(lambda: any(os.listdir(os.path.join(h.stash, d)) for d in stash_dirs(h)), "copying to start")
        p.kill()
        p.wait()
        wait_until(lambda: stash_dirs(h) == [], "the stash of the vanished client to be removed")
        bus = h.dbus()
        mgr = bus.get_object("org.imapid.Imapi1", "/org/imapid/Imapi1")
        objs = mgr.GetManagedObjects(dbus_interface="org.freedesktop.DBus.ObjectManager")
        assert not [p for p in objs if "/masters/" in p], list(objs)


def test_two_masters_choose_recorder_at_once():
    """Choosing a recorder only reads its disc and lets go: two disc masters choosing it at the
    same moment both succeed, the second after the first's read."""
    from gi.repository import GLib
    with Harness() as h:
        a, b = Master(glib_connection(h), recorder=None), Master(glib_connection(h), recorder=None)
        path = a.dm.EnumDiscRecorders()[0]
        for n in range(10):
            results = []
            loop = GLib.MainLoop()

            def done(who, error=None):
                results.append((who, error))
                if len(results) == 2:
                    loop.quit()
            for who, m in (("a", a), ("b", b)):
                m.dm.SetActiveDiscRecorder(path, {}, reply_handler=lambda who=who: done(who),
                                           error_handler=lambda e, who=who: done(who, e.get_dbus_name()))
            GLib.timeout_add(60000, loop.quit)
            loop.run()
            assert sorted(results) == [("a", None), ("b", None)], (n, results)


def test_second_master_same_recorder():
    with Harness() as h:
        big = os.path.join(h.tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(8 * 1024 * 1024))
        a_bus, b_bus = glib_connection(h), glib_connection(h)
        a, b = Master(a_bus), Master(b_bus)
        a.add([("a.bin", big)])
        b.add([("b.bin", big)])
        outcome = {}

        def second_tries(job):
            from gi.repository import GLib

            def attempt():
                try:
                    b.dm.RecordDisc(False, False, {})
                    outcome["b"] = "started"
                except Exception as e:
                    outcome["b"] = e.get_dbus_name()
                return False
            GLib.timeout_add(100, attempt)

        hr, _, _ = a.record(options={"write_speed_kbps": 8000}, on_job=second_tries)
        assert hr == S_OK, hex(hr)
        assert outcome.get("b") == ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", outcome
        # B chose the recorder when its disc was blank: it must look again, and then adds a session
        # to what A burned instead of writing over it
        expect_dbus_error(ERR + "IMAPI_E_WRONGDISC", b.dm.RecordDisc, False, False, {})
        b.dm.SetActiveDiscRecorder(b.dm.EnumDiscRecorders()[0], {})
        hr, _, _ = b.record()
        assert hr == S_OK, hex(hr)
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        assert sorted(os.listdir(out)) == ["a.bin", "b.bin"], os.listdir(out)


def test_crash_leaves_no_stale_stash():
    with Harness() as h:
        bus = h.dbus()
        m = Master(bus)
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "w") as f:
            f.write("staged before the crash")
        m.add([("f.txt", src)])
        assert stash_dirs(h) == ["master-1.stash"]
        h.kill_daemon()
        assert stash_dirs(h) == ["master-1.stash"], "a crash leaves its stash behind"
        h.start_daemon()
        assert stash_dirs(h) == [], stash_dirs(h)
        assert "Removed 1 stale stash" in h.log(), h.log()


def slow_burn_started(h, size=24):
    """A master with a large file whose burn runs slowly; returns (bus, master, job path)."""
    big = os.path.join(h.tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(size * 1024 * 1024))
    bus = h.dbus()
    m = Master(bus)
    m.add([("big.bin", big)])
    job = str(m.dm.RecordDisc(False, False, {"write_speed_kbps": dbus.UInt32(2000)}))
    obj = bus.get_object("org.imapid.Imapi1", job)
    wait_until(lambda: obj.Get("org.imapid.Imapi1.Job", "Phase", dbus_interface="org.freedesktop.DBus.Properties")
               == "writing", "the write to start")
    return bus, m, job


def test_sigterm_mid_burn():
    """Stopping the service cancels the burn, cleans up and exits well."""
    with Harness() as h:
        slow_burn_started(h)
        h.daemon.send_signal(signal.SIGTERM)
        assert h.daemon.wait(timeout=60) == 0, h.log()
        assert "cancelling 1 running job" in h.log(), h.log()
        assert stash_dirs(h) == [], stash_dirs(h)
        h.stop_daemon()


def test_bus_gone_mid_burn():
    """The bus going away ends imapid, which stops libburn's write before tearing down, and says
    that it failed: an exit systemd should see as one."""
    with Harness() as h:
        slow_burn_started(h)
        h.stop_bus()
        assert h.daemon.wait(timeout=60) == 1, h.log()
        assert "Lost the connection to the bus, exiting." in h.log(), h.log()
        assert stash_dirs(h) == [], stash_dirs(h)
        h.stop_daemon(expect_clean=False)


if __name__ == "__main__":
    run_tests([test_burn_tree_read_back, test_ordering_rules, test_add_data_errors, test_discfull_keeps_nothing,
               test_cancel_mid_write, test_client_vanishes_mid_staging, test_two_masters_choose_recorder_at_once,
               test_second_master_same_recorder,
               test_crash_leaves_no_stale_stash, test_sigterm_mid_burn, test_bus_gone_mid_burn])
