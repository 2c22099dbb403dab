#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapid with emulated recorders (tests/mmcemu): what it reports for each medium and state, burns
to CD-R, DVD+RW and BD-R read back through the emulator with stock xorriso, a second session on an
appendable disc, erasing a CD-RW, and each drive-side failure as the IMAPI error a client gets."""

import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, JOLIET, MANAGER, PROPS, ROOT, Harness, Master, erase_and_wait,  # noqa: E402
                       expect_dbus_error, glib_connection, run_tests, stash_dirs, wait_until)

import dbus  # noqa: E402

REC = "org.imapid.Imapi1.Recorder"
SR0 = ROOT + "/recorders/sr0"
S_OK = 0
MEDIA_CDDA_CDROM, MEDIA_CD_ROM_XA, MEDIA_SPECIAL = 1, 2, 6
BLANK, RW, WRITABLE, UNUSABLE = 0x1, 0x2, 0x4, 0x8


def recorder(bus, path=SR0):
    return dbus.Interface(bus.get_object(BUS_NAME, path), REC)


def query(bus):
    r = recorder(bus)
    r.OpenExclusive({})
    try:
        t = tuple(int(x) for x in r.QueryMediaType())
        try:
            info = tuple(int(x) for x in r.QueryMediaInfo())
        except dbus.exceptions.DBusException as e:
            info = e.get_dbus_name()
        return t, info
    finally:
        r.Close({})


def write_files(root, files):
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return [(name, os.path.join(root, name)) for name in files]


def read_back(h, out):
    """Everything on the emulated disc, through stock xorriso in another process."""
    h.emu_run("xorriso", "-abort_on", "FAILURE", "-indev", "/dev/sr0", "-osirrox", "on", "-extract", "/", out)


def toc(h):
    return h.emu_run("xorriso", "-indev", "/dev/sr0", "-toc").stdout


def burn(h, files, fmt_opts=None, **record):
    bus = glib_connection(h)
    m = Master(bus)
    m.add(write_files(os.path.join(h.tmp, "src%d" % len(os.listdir(h.tmp))), files))
    return m.record(**record)


def test_media_reported():
    cases = [
        (["--media", "cd-r"], (MEDIA_CDDA_CDROM, BLANK | WRITABLE), "CD-R"),
        (["--media", "cd-rw"], (MEDIA_CDDA_CDROM, BLANK | RW | WRITABLE), "CD-RW"),
        (["--media", "cd-r", "--status", "appendable"], (MEDIA_CD_ROM_XA, WRITABLE), "CD-R"),
        (["--media", "cd-r", "--status", "closed"], (MEDIA_CDDA_CDROM, 0), "CD-R"),
        (["--media", "cd-rom"], (MEDIA_CDDA_CDROM, 0), "CD-ROM"),
        (["--media", "dvd+rw"], (MEDIA_SPECIAL, None), "DVD+RW"),
        (["--media", "bd-r"], (MEDIA_SPECIAL, BLANK | WRITABLE), "BD-R"),
        (["--media", "none"], (0, 0), ""),
    ]
    for opts, (mtype, flags), profile in cases:
        with Harness(emulator=opts + ["--vendor", "ACME", "--product", "BURNER 9000"]) as h:
            bus = h.dbus()
            props = bus.get_object(BUS_NAME, SR0).GetAll(REC, dbus_interface="org.freedesktop.DBus.Properties")
            assert props["Vendor"] == "ACME" and props["Product"] == "BURNER 9000", props
            assert props["Device"] == "/dev/sr0"
            names = [str(n) for _, n in props["SupportedProfiles"]]
            assert "CD-R" in names and "BD-R sequential recording" in names, names
            (t, f), info = query(bus)
            assert t == mtype, (opts, t, f)
            if flags is not None:
                assert f == flags, (opts, hex(f))
            if mtype == 0:
                assert info == ERR + "IMAPI_E_MEDIUM_NOTPRESENT", info
            else:
                assert props["CurrentProfileName"].startswith(profile), (opts, props["CurrentProfileName"])
                sessions, last_track, start, nwa, free = info
                if f & BLANK:
                    assert sessions == 0 and free > 0, info
                if opts[-1] == "appendable":
                    assert sessions == 1 and last_track == 1 and nwa > 0, info


def test_burn_cd_r_dvd_rw_bd_r():
    for media in ("cd-r", "dvd+rw", "bd-r"):
        with Harness(emulator=["--media", media]) as h:
            files = {"a/one.txt": b"one\n" * 1000, "b.bin": os.urandom(2 * 1024 * 1024 + 5), "empty": b""}
            hr, signals, completed = burn(h, files)
            assert hr == S_OK, (media, hex(hr), completed)
            out = os.path.join(h.tmp, "out")
            read_back(h, out)
            for name, data in files.items():
                with open(os.path.join(out, name), "rb") as f:
                    assert f.read() == data, (media, name)
            assert "is written" in toc(h), toc(h)
            assert stash_dirs(h) in ([], ["master-1.stash"])


def test_second_session():
    with Harness(emulator=["--media", "cd-r"]) as h:
        hr, _, _ = burn(h, {"first.txt": b"session one\n"})
        assert hr == S_OK, hex(hr)
        (t, f), info = query(h.dbus())
        assert t == MEDIA_CD_ROM_XA and f == WRITABLE, (t, f)
        # a new master on the appendable disc goes multi-session on its own
        hr, _, _ = burn(h, {"second.txt": b"session two\n"})
        assert hr == S_OK, hex(hr)
        t = toc(h)
        assert t.count("ISO session") == 2 or t.count("Session") >= 2, t
        out = os.path.join(h.tmp, "out")
        read_back(h, out)
        assert open(os.path.join(out, "first.txt"), "rb").read() == b"session one\n"
        assert open(os.path.join(out, "second.txt"), "rb").read() == b"session two\n"


def test_erase_cd_rw():
    with Harness(emulator=["--media", "cd-rw"]) as h:
        hr, _, _ = burn(h, {"x.txt": b"to be erased\n"})
        assert hr == S_OK, hex(hr)
        bus = glib_connection(h)
        r = recorder(bus)
        r.OpenExclusive({})
        done = {}
        from gi.repository import GLib
        loop = GLib.MainLoop()

        def on_erase(hr):
            done["hr"] = int(hr)
            loop.quit()
        rx = bus.add_signal_receiver(on_erase, path=SR0, dbus_interface=REC, signal_name="EraseComplete")
        job = r.Erase(False, {})
        assert "/jobs/" in job, job
        # the drive is the erase's until it ends (imapid looks at it every 500 ms at the soonest)
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", r.Eject, {})
        GLib.timeout_add(120000, loop.quit)
        loop.run()
        rx.remove()
        assert done.get("hr") == S_OK, done
        r.Close({})
        (t, f), info = query(bus)
        assert f & BLANK and f & RW, (t, hex(f))
        assert info[0] == 0, info


def test_drive_errors():
    data = {"d.bin": os.urandom(4 * 1024 * 1024)}
    # no medium: the master cannot take the recorder
    with Harness(emulator=["--media", "none"]) as h:
        m = Master(h.dbus(), recorder=None)
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_NOTPRESENT", m.dm.SetActiveDiscRecorder, SR0, {})
    # a pressed CD-ROM cannot be written
    with Harness(emulator=["--media", "cd-rom"]) as h:
        m = Master(h.dbus(), recorder=None)
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.dm.SetActiveDiscRecorder, SR0, {})
    # another process holds the drive
    with Harness(emulator=["--media", "cd-r"]) as h:
        h.emu("--fault", "busy")
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_STILL_IN_USE", recorder(h.dbus()).OpenExclusive, {})
    # the drive is unplugged
    with Harness(emulator=["--media", "cd-r"]) as h:
        h.emu("--fault", "removed")
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTPRESENT", recorder(h.dbus()).OpenExclusive, {})
    # write protection, loss of streaming, a write error: the burn fails with the IMAPI code
    for fault, code in (("write-protect", "IMAPI_E_CANNOT_WRITE_TO_MEDIA"),
                        ("loss-of-streaming=1000", "IMAPI_E_LOSS_OF_STREAMING"),
                        ("write-error=800", "IMAPI_E_CANNOT_WRITE_TO_MEDIA")):
        with Harness(emulator=["--media", "cd-r", "--fault", fault]) as h:
            hr, _, completed = burn(h, data)
            want = {"IMAPI_E_CANNOT_WRITE_TO_MEDIA": 0x8004022C, "IMAPI_E_LOSS_OF_STREAMING": 0x80040227}[code]
            assert hr == want, (fault, hex(hr), completed)
            assert completed and not completed[0] and completed[1].startswith("0x%08X" % want), completed
            props = h.dbus().get_object(BUS_NAME, SR0).GetAll(REC, dbus_interface="org.freedesktop.DBus.Properties")
            assert props["State"] == 0, props["State"]
    # erasing needs a rewritable disc
    with Harness(emulator=["--media", "cd-r"]) as h:
        r = recorder(h.dbus())
        r.OpenExclusive({})
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", r.Erase, False, {})
    # a disc too small for the data
    with Harness(emulator=["--media", "cd-r", "--capacity", "1000"]) as h:
        m = Master(h.dbus())
        assert m.prop("TotalDataBlocks", JOLIET) <= 1000
        e = expect_dbus_error(ERR + "IMAPI_E_DISCFULL", m.add, write_files(h.tmp, data))
        assert re.search(r"needs [0-9.]+ [KMG]iB, [0-9.]+ [KMG]iB free", e.get_dbus_message()), e.get_dbus_message()


def iso_image(path, files):
    """An ISO 9660 image of files, made with stock xorriso."""
    src = path + ".d"
    write_files(src, files)
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", path, src], check=True,
                   capture_output=True)
    return path


def test_wrong_disc():
    with Harness(emulator=[], start=False) as h:
        # a CD-R with a session holding a file system
        h.emulator = ["--media", "cd-r", "--image", iso_image(os.path.join(h.tmp, "first.iso"), {"old.txt": b"old\n"})]
        h.start_daemon()
        bus = h.dbus()
        m = Master(bus)
        m.add(write_files(h.tmp, {"n.txt": b"new\n"}))
        # the multi-session disc is swapped for another before the burn
        h.emu("--media", "cd-r")
        expect_dbus_error(ERR + "IMAPI_E_WRONGDISC", m.dm.RecordDisc, False, False, {})


def stall_during_write(h, bus, seconds):
    """on_job callback: stops imapid (and with it the data flow to the drive) for a while once the
    write is under way, as a stalled stash disk would; the emulated drive keeps writing."""
    import signal
    import time
    from gi.repository import GLib

    def make(job):
        obj = bus.get_object(BUS_NAME, job)

        def poll():
            try:
                props = obj.GetAll("org.imapid.Imapi1.Job", dbus_interface="org.freedesktop.DBus.Properties")
            except dbus.exceptions.DBusException:
                return False
            if props["Phase"] == "writing" and props["Progress"] > 0.3:
                os.kill(h.daemon.pid, signal.SIGSTOP)
                time.sleep(seconds)
                os.kill(h.daemon.pid, signal.SIGCONT)
                return False
            return True
        GLib.timeout_add(20, poll)
    return make


def test_buffer_underrun():
    """A drive buffer that really drains while the host stalls: BURN-Free saves the burn; without it
    the drive reports loss of streaming (3/0C/09) and the client gets IMAPI_E_LOSS_OF_STREAMING."""
    data = {"big.bin": os.urandom(24 * 1024 * 1024)}
    emu = ["--media", "cd-r", "--write-rate", "7056", "--buffer-kib", "1024"]
    for burnfree, want in ((-1, S_OK), (0, 0x80040227)):
        with Harness(emulator=emu) as h:
            bus = glib_connection(h)
            r = recorder(bus)
            assert r.GetRecorderProperties()["BufferUnderrunFreeCapable"] == -1
            r.SetRecorderProperties({"EnableBufferUnderrunFree": dbus.Int32(burnfree)})
            m = Master(bus)
            m.add(write_files(h.tmp, data))
            hr, _, completed = m.record(on_job=stall_during_write(h, bus, 2.0))
            assert hr == want, (burnfree, hex(hr), completed)


def test_drive_buffer_reported():
    """Job.DriveBufferFill is the drive's own account: every value imapictl shows while writing is
    a fill that the emulated drive reported to a READ BUFFER CAPACITY (its record), and the drive
    was seen fed, its buffer at least half full."""
    emu = ["--media", "dvd-r", "--write-rate", "11080", "--buffer-kib", "2048", "--buffer-record"]
    with Harness(emulator=emu, extra_args=["--log-level=debug"]) as h:
        write_files(h.tmp, {"big.bin": os.urandom(32 * 1024 * 1024)})
        r = h.ctl("--json", "burn", "--no-verify", os.path.join(h.tmp, "big.bin"), check=0)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        shown = [e["drive_buffer_fill"] for e in events
                 if e.get("event") == "progress" and e.get("drive_buffer_fill") is not None]
        assert all(e["phase"] in ("writing", "closing") for e in events
                   if e.get("event") == "progress" and e.get("drive_buffer_fill") is not None), events
        with open(h.emu_file("sr0", "buffer.log")) as f:
            record = [line.split() for line in f]
        reported = [float(fill) / float(cap) for _, fill, cap, state in record if state == "R"]
        assert reported, "libburn never asked the drive for its buffer"
        assert shown, r.stdout
        for v in shown:
            assert any(abs(v - x) < 1e-5 for x in reported), (v, sorted(set(round(x, 4) for x in reported)))
        assert max(shown) >= 0.5, shown
        assert "the drive's buffer was at least" in h.log(), h.log()


def test_hotplug():
    """Drives that appear and disappear: ObjectManager signals, PnPActivity, DEVICE_NOTPRESENT."""
    import time
    from gi.repository import GLib
    with Harness(emulator=["--drives", "2", "--media", "cd-r", "--drive", "1", "--fault", "removed"]) as h:
        bus = glib_connection(h)
        root = dbus.Interface(bus.get_object(BUS_NAME, ROOT), "org.freedesktop.DBus.ObjectManager")
        events = []
        bus.add_signal_receiver(lambda path, ifaces: events.append(("added", str(path))), path=ROOT,
                                dbus_interface="org.freedesktop.DBus.ObjectManager", signal_name="InterfacesAdded")
        bus.add_signal_receiver(lambda path, ifaces: events.append(("removed", str(path))), path=ROOT,
                                dbus_interface="org.freedesktop.DBus.ObjectManager",
                                signal_name="InterfacesRemoved")
        m = Master(bus)
        bus.add_signal_receiver(lambda: events.append(("pnp", m.path)), path=m.path,
                                dbus_interface="org.imapid.Imapi1.DiscMaster", signal_name="PnPActivity")
        sr1 = ROOT + "/recorders/sr1"

        def pump_until(cond, what, timeout=30):
            ctx = GLib.MainContext.default()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                while ctx.pending():
                    ctx.iteration(False)
                if cond():
                    return
                time.sleep(0.05)
            raise AssertionError("timed out waiting for " + what + f"; events: {events}")

        # sr1 is unplugged when imapid starts, and plugged in later
        assert sr1 not in root.GetManagedObjects()
        h.emu("--drive", "1", "--media", "dvd+r", "--no-faults")
        pump_until(lambda: ("added", sr1) in events and ("pnp", m.path) in events, "sr1 to appear")
        assert sr1 in root.GetManagedObjects()
        assert sr1 in [str(p) for p in m.dm.EnumDiscRecorders()]
        h.emu("--drive", "1", "--fault", "removed")
        pump_until(lambda: ("removed", sr1) in events, "sr1 to disappear")
        assert sr1 not in root.GetManagedObjects()
        assert sr1 not in [str(p) for p in m.dm.EnumDiscRecorders()]
        # a client that kept the path gets IMAPI's answer for a removed device
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTPRESENT", recorder(bus, sr1).OpenExclusive, {})
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTPRESENT", m.dm.SetActiveDiscRecorder, sr1, {})
        h.emu("--drive", "1", "--no-faults")
        pump_until(lambda: events.count(("added", sr1)) == 2, "sr1 to come back")
        assert sr1 in root.GetManagedObjects()
        # a third drive that did not exist at all when imapid started
        sr2 = ROOT + "/recorders/sr2"
        h.emu("--drives", "3", "--drive", "2", "--media", "bd-r")
        pump_until(lambda: ("added", sr2) in events, "sr2 to appear")
        assert sr2 in [str(p) for p in m.dm.EnumDiscRecorders()]
        r = recorder(bus, sr1)
        r.OpenExclusive({})
        assert int(r.QueryMediaType()[0]) == MEDIA_SPECIAL
        r.Close({})


def test_slow_drive():
    """A drive that takes seconds to answer (as while it spins up) holds up neither the bus nor
    other clients: imapid grabs and reads it in a worker, and the call that asked for it gets its
    answer when that is done."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        h.emu("--fault", "slow=50")
        a, b = h.dbus(), h.dbus()
        props = dbus.Interface(b.get_object(BUS_NAME, SR0), PROPS)
        done = {}

        def call(key, method, *args):
            try:
                method(*args)
                done[key] = "ok"
            except dbus.exceptions.DBusException as e:
                done[key] = e.get_dbus_name()

        def while_reading(key, method, *args):
            t = threading.Thread(target=call, args=(key, method) + args)
            t.start()
            time.sleep(0.3)     # the call reaches imapid; reading the slow drive takes seconds
            # imapid answers others meanwhile, and refuses the drive to them at once
            assert int(props.Get(REC, "State")) == 0
            expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", recorder(b).OpenExclusive, {})
            assert key not in done, done
            t.join(120)
            assert done.get(key) == "ok", done

        while_reading("open", recorder(a).OpenExclusive, {})
        assert int(props.Get(REC, "State")) == 1
        assert int(recorder(a).QueryMediaType()[1]) & BLANK
        recorder(a).Close({})
        m = Master(a, recorder=None)
        while_reading("set", m.dm.SetActiveDiscRecorder, SR0, {})
        assert str(m.dm.GetActiveDiscRecorder()) == SR0
        h.emu("--no-faults")
        src = os.path.join(h.tmp, "slow.txt")
        with open(src, "wb") as f:
            f.write(b"spun up\n")
        m.add([("slow.txt", src)])
        h.emu("--fault", "slow=20")
        job = {}
        while_reading("burn", lambda: job.setdefault("path", m.dm.RecordDisc(False, False, {"verify": False})))
        h.emu("--no-faults")
        assert "/jobs/" in str(job["path"]), job
        wait_until(lambda: str(m.prop("Job")) == "/", "the burn to end", timeout=120)
        assert m.prop("UsedDataBlocks", JOLIET) == 0, "a successful burn clears the staged data"


def test_slow_query():
    """The holder's QueryMediaInfo, QueryMediaType and Eject on a drive that takes seconds over
    every command (a disc spinning up) hold up nobody: other objects answer meanwhile, a second
    query shares the running one's answer, a holder that leaves mid-query frees the drive for the
    next client once the read is done, and an OpenExclusive right after a Close waits for the
    drive's release."""
    from gi.repository import GLib
    with Harness(emulator=["--media", "cd-r", "--status", "appendable"]) as h:
        a, b = glib_connection(h), h.dbus()
        ra, rb = recorder(a), recorder(b)
        ra.OpenExclusive({})
        fast = (tuple(int(x) for x in ra.QueryMediaType()), tuple(int(x) for x in ra.QueryMediaInfo()))
        manager_props = dbus.Interface(b.get_object(BUS_NAME, MANAGER), PROPS)
        done = []

        def start(key, method):
            method(reply_handler=lambda *v: done.append((key, tuple(int(x) for x in v))),
                   error_handler=lambda e: done.append((key, e.get_dbus_name())), timeout=300)

        def pump():
            ctx = GLib.MainContext.default()
            while ctx.pending():
                ctx.iteration(False)

        def pump_until(cond, what):
            wait_until(lambda: pump() or cond(), what, timeout=300)

        h.emu("--fault", "slow=3000")
        start("info", ra.QueryMediaInfo)
        start("type", ra.QueryMediaType)            # comes while the first runs: shares its answer
        # the same connection's next call, so both queries are under way by now
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", ra.Eject, {})
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", rb.QueryMediaType)
        # another object's property, and the recorder's own, while the drive is being read
        assert SR0 in [str(p) for p in manager_props.Get("org.imapid.Imapi1.Manager", "Recorders")]
        assert int(dbus.Interface(b.get_object(BUS_NAME, SR0), PROPS).Get(REC, "State")) == 1
        pump()
        assert done == [], "the queries answered after the calls that came later: %r" % done
        h.emu("--no-faults")
        pump_until(lambda: len(done) == 2, "both queries to answer")
        assert done == [("info", fast[1]), ("type", fast[0])], (done, fast)

        # the holder leaves while its query runs; the drive is let go when the read is done
        h.emu("--fault", "slow=3000")
        start("left", ra.QueryMediaType)
        ra.GetRecorderState()                       # the query is under way
        a.close()
        h.emu("--no-faults")

        def opened():
            try:
                rb.OpenExclusive({})
                return True
            except dbus.exceptions.DBusException as e:
                if e.get_dbus_name() not in (ERR + "IMAPI_E_DEVICE_STILL_IN_USE",
                                             ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE"):
                    raise
                return False
        wait_until(opened, "the next client to open the recorder", timeout=120)
        assert tuple(int(x) for x in rb.QueryMediaInfo()) == fast[1]
        # Close answers at once and lets the drive go in a worker; the next OpenExclusive waits
        # for that instead of failing
        h.emu("--fault", "slow=200")
        rb.Close({})
        rc = recorder(h.dbus())
        rc.OpenExclusive({}, timeout=300)
        assert int(dbus.Interface(b.get_object(BUS_NAME, SR0), PROPS).Get(REC, "State")) == 1
        h.emu("--no-faults")
        rc.Eject({})
        assert int(rc.QueryMediaType()[0]) == 0, "an ejected tray shows no disc"
        rc.Close({})

def main_thread_waited(h):
    """The emulator's record of what imapid waited for under the slow fault: that the drive was
    slow at all, and that imapid's main thread, which answers the bus, never waited."""
    slowed = h.emu_slowed()
    assert slowed, "the drive was never slow"
    assert not any(main for _, main in slowed), "the main thread waited for the drive: %r" % slowed
    os.unlink(h.emu_file("sr0", "slowed.log"))


def test_slow_reread():
    """A drive that takes seconds over READ TRACK INFORMATION (as a real one re-reading the disc
    it has just written, or is about to blank) holds up nothing: imapid's main thread, which
    answers the bus, never waits for it, as the disc is read in workers, before the verification,
    after it and at an erase's start. Another client's calls are answered meanwhile, and both
    jobs end well."""
    from gi.repository import GLib
    with Harness(emulator=["--media", "cd-rw"]) as h:
        bus = glib_connection(h)
        props = dbus.Interface(h.dbus().get_object(BUS_NAME, MANAGER), PROPS)
        m = Master(bus)
        m.add(write_files(os.path.join(h.tmp, "src"), {"a.bin": os.urandom(300 * 1024)}))
        answered = []

        def while_slow(job):
            def poll():
                if h.emu_slowed():
                    answered.append(len(props.Get("org.imapid.Imapi1.Manager", "Recorders")))
                return not answered
            GLib.timeout_add(20, poll)
        h.emu("--fault", "slow=400", "--fault", "slow-op=52")
        hr, _, completed = m.record(options={"verify": True}, on_job=while_slow)
        assert hr == S_OK, (hex(hr), completed, h.log())
        assert answered == [1], answered
        main_thread_waited(h)

        r = recorder(bus)
        r.OpenExclusive({}, timeout=300)
        main_thread_waited(h)
        assert erase_and_wait(bus, r, SR0) == S_OK
        main_thread_waited(h)
        h.emu("--no-faults")
        assert int(r.QueryMediaType()[1]) & BLANK
        r.Close({})


if __name__ == "__main__":
    run_tests([test_media_reported, test_burn_cd_r_dvd_rw_bd_r, test_second_session, test_erase_cd_rw,
               test_drive_errors, test_wrong_disc, test_buffer_underrun, test_drive_buffer_reported,
               test_hotplug, test_slow_drive, test_slow_query, test_slow_reread])
