#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Disc copy through the drive emulator: ImageDiscMaster.ReadDisc reads the data disc in one
recorder into the stash (a "read" job), RecordDisc burns it to another, and stock xorriso reads
both discs back identical to the image the source was made from; an unreadable block of the
source ends the read with IMAPI_E_DISCINFO naming the block, with nothing left in the stash; a
disc without a file system, a destination too small and a stash too small are refused by name
before any job starts; a cancelled read stages nothing; imapictl copy does the same from the
command line, to two recorders from one read, and on one recorder with a simulated disc swap."""

import os
import re

import dbus
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, IMAGE, JOB, PROPS, ROOT, Harness, Master, build_path,  # noqa: E402
                       expect_dbus_error, glib_connection, make_image, run_tests, stash_files)

SR0, SR1 = ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"
S_OK, DISCINFO = 0, 0x80040219


def read_disc(h, dev, out, blocks):
    """The disc's first blocks, through stock xorriso in another process."""
    h.emu_run("xorriso", "-indev", dev, "-check_media", "what=disc", "min_lba=0", "max_lba=%d" % (blocks - 1),
              "data_to=" + out, "use=indev", "--")
    with open(out, "rb") as f:
        return f.read()


def copy_harness(dest_media="dvd-r"):
    return Harness(emulator=["--drives", "2", "--drive", "1", "--media", dest_media])


def insert_source(h, media="dvd-r", mib=6, fault=None):
    src = make_image(h, mib=mib, hybrid=False, volume="COPY SOURCE")
    options = ["--drive", "0", "--media", media, "--image", src, "--status", "closed"]
    if fault:
        options += ["--fault", fault]
    h.emu(*options)
    return src


def read_job(bus, m, source):
    """ReadDisc, then wait for the job's Completed. Returns (hresult, message, phases seen)."""
    from gi.repository import GLib
    done, phases = {}, []
    loop = GLib.MainLoop()

    def on_completed(success, message, path=None):
        done[str(path)] = str(message)
        GLib.timeout_add(100, loop.quit)

    def on_props(iface, changed, invalidated, path=None):
        if "Phase" in changed:
            phases.append(str(changed["Phase"]))

    r1 = bus.add_signal_receiver(on_completed, dbus_interface=JOB, signal_name="Completed", path_keyword="path")
    r2 = bus.add_signal_receiver(on_props, dbus_interface=PROPS, signal_name="PropertiesChanged",
                                 path_keyword="path")
    job = str(m.image.ReadDisc(source, {}))
    j = bus.get_object(BUS_NAME, job)
    try:
        assert str(j.Get(JOB, "Operation", dbus_interface=PROPS)) == "read"
        phases.append(str(j.Get(JOB, "Phase", dbus_interface=PROPS)))
    except dbus.exceptions.DBusException as e:
        # A read that fails at once may be over already: its object goes right after
        # Completed (docs/job-api.txt), which the wait below still sees.
        assert e.get_dbus_name() == "org.freedesktop.DBus.Error.UnknownObject", e
    hresult = []

    def on_hr(iface, changed, invalidated, path=None):
        if path == job and "HResult" in changed:
            hresult.append(int(changed["HResult"]))

    r3 = bus.add_signal_receiver(on_hr, dbus_interface=PROPS, signal_name="PropertiesChanged", path_keyword="path")
    GLib.timeout_add(300 * 1000, loop.quit)
    loop.run()
    for r in (r1, r2, r3):
        r.remove()
    assert job in done, "the read job did not complete"
    return (hresult[-1] if hresult else None), done[job], phases


def copy_master(h):
    """A bus connection and an Image disc master that burns to sr1."""
    bus = glib_connection(h)
    m = Master(bus, fmt="image", recorder=None)
    m.dm.SetActiveDiscRecorder(SR1, {})
    return bus, m


def test_copy_drive_to_drive():
    with copy_harness() as h:
        src = insert_source(h)
        bus, m = copy_master(h)
        hr, message, phases = read_job(bus, m, SR0)
        assert hr == S_OK, (hex(hr or 0), message)
        assert "reading" in phases, phases
        size = os.path.getsize(src)
        assert int(m.prop("ImageSize", IMAGE)) == size
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        with open(src, "rb") as f:
            want = f.read()
        got = read_disc(h, "/dev/sr1", os.path.join(h.tmp, "copy.bin"), size // 2048)
        assert got == want, (len(got), len(want))
        orig = read_disc(h, "/dev/sr0", os.path.join(h.tmp, "orig.bin"), size // 2048)
        assert orig == want
        toc = h.emu_run("xorriso", "-indev", "/dev/sr1", "-toc").stdout
        assert "COPY SOURCE" in toc, toc
        assert stash_files(h) == []


def test_unreadable_block_named():
    with copy_harness() as h:
        insert_source(h, fault="read-error=1000")
        bus, m = copy_master(h)
        hr, message, _ = read_job(bus, m, SR0)
        assert hr == DISCINFO, (hex(hr or 0), message)
        assert "Block 1000 " in message, message
        assert int(m.prop("ImageSize", IMAGE)) == 0
        assert stash_files(h) == []
        # the recorder is free again, and the master takes another read once the disc is good
        h.emu("--drive", "0", "--no-faults")
        hr, message, _ = read_job(bus, m, SR0)
        assert hr == S_OK, (hex(hr or 0), message)


def test_no_file_system_refused():
    with copy_harness() as h:
        h.emu("--drive", "0", "--media", "dvd-r", "--status", "closed")  # 300 zero blocks
        m = Master(h.dbus(), fmt="image", recorder=None)
        e = expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.image.ReadDisc, SR0, {})
        assert "no ISO 9660 file system" in e.get_dbus_message(), e.get_dbus_message()
        h.emu("--drive", "0", "--media", "dvd-r")  # blank
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.image.ReadDisc, SR0, {})
        expect_dbus_error(ERR + "E_INVALIDARG", m.image.ReadDisc, ROOT + "/recorders/sr9", {})
        assert stash_files(h) == []


def test_destination_too_small():
    with Harness(emulator=["--drives", "2", "--drive", "1", "--media", "dvd-r", "--capacity", "1024"]) as h:
        insert_source(h, mib=4)
        m = Master(h.dbus(), fmt="image", recorder=None)
        m.dm.SetActiveDiscRecorder(SR1, {})
        e = expect_dbus_error(ERR + "IMAPI_E_DISCFULL", m.image.ReadDisc, SR0, {})
        assert "nothing was read" in e.get_dbus_message()
        assert stash_files(h) == []


def test_stash_too_small():
    """The stash's free space is checked before anything is read (a small tmpfs as the stash)."""
    sys.path.insert(0, os.path.join(HERE, "..", "integration"))
    from test_stash_errors import TestFs
    with TestFs("small-tmpfs", "8M") as fs, \
            Harness(emulator=["--drives", "2", "--drive", "1", "--media", "dvd-r"],
                    extra_args=["--stash-dir=" + fs.path]) as h:
        insert_source(h, mib=12)
        m = Master(h.dbus(), fmt="image", recorder=None)
        e = expect_dbus_error(ERR + "IMAPI_E_NOTENOUGHDISKFORSTASH", m.image.ReadDisc, SR0, {})
        assert e.get_dbus_message().startswith("0x8004022A: "), e.get_dbus_message()
        assert os.listdir(os.path.join(fs.path, "master-1.stash")) == []


def cancel_read(bus, m, source):
    """ReadDisc, cancelled at once: the job ends with IMAPI_E_USERABORT."""
    job = str(m.image.ReadDisc(source, {}))
    bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface=JOB)
    from gi.repository import GLib
    loop, got = GLib.MainLoop(), []
    bus.add_signal_receiver(lambda ok, msg, path=None: (got.append(str(msg)), loop.quit()),
                            dbus_interface=JOB, signal_name="Completed", path=job, path_keyword="path")
    GLib.timeout_add(120 * 1000, loop.quit)
    loop.run()
    assert got and got[0].startswith("0x8004020D"), got  # IMAPI_E_USERABORT


def test_cancel_leaves_nothing():
    with Harness(emulator=["--drives", "2", "--drive", "0", "--fault", "slow=20"]) as h:
        insert_source(h, mib=8, fault="slow=20")
        bus, m = copy_master(h)
        cancel_read(bus, m, SR0)
        assert int(m.prop("ImageSize", IMAGE)) == 0
        assert stash_files(h) == []


def assert_copied(h, dev, src):
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        want = f.read()
    got = read_disc(h, dev, os.path.join(h.tmp, "back.bin"), size // 2048)
    assert got == want, (dev, len(got), len(want))


def test_imapictl_copy_to_two():
    with Harness(emulator=["--drives", "3", "--drive", "1", "--media", "dvd-r", "--drive", "2",
                           "--media", "dvd+rw"]) as h:
        src = insert_source(h)
        r = h.ctl("copy", "--from=sr0", "--to=sr1", "--to=sr2", check=0)
        # the read is introduced and ended by name, even when it ends before imapictl got the
        # job's properties (a small disc is read in a moment)
        assert re.search(r"^Job \S+: read\b", r.stdout, re.M), r.stdout
        assert "Done: read finished." in r.stdout and "verifying" in r.stdout, r.stdout
        # both burned at once (RecordDiscTo): a line per recorder, then the table
        assert any(line.startswith("sr1  writing") for line in r.stdout.splitlines()), r.stdout
        assert any(line.startswith("sr2  writing") for line in r.stdout.splitlines()), r.stdout
        table = r.stdout[r.stdout.index("RECORDER  MEDIUM"):].splitlines()[1:]
        assert [(line.split()[0], line.split()[-1]) for line in table] == [("sr1", "verified"),
                                                                         ("sr2", "verified")], r.stdout
        assert_copied(h, "/dev/sr1", src)
        assert_copied(h, "/dev/sr2", src)
        assert stash_files(h) == []
        # a repeated --from is refused, not dropped; so is a --to named twice
        assert h.ctl("copy", "--from=sr0", "--from=sr1", "--to=sr2").returncode == 2
        assert h.ctl("copy", "--from=sr0", "--to=sr1", "--to=sr1").returncode == 2
        assert h.ctl("copy", "--from=sr0").returncode == 2


def test_imapictl_copy_unreadable():
    with copy_harness() as h:
        insert_source(h, fault="read-error=700")
        r = h.ctl("copy", "--from=sr0", "--to=sr1", check=1)
        assert "Block 700 " in r.stdout + r.stderr, (r.stdout, r.stderr)
        assert stash_files(h) == []
        toc = h.emu_run("xorriso", "-indev", "/dev/sr1", "-toc", check=False)
        assert "is blank" in toc.stdout + toc.stderr, toc.stdout  # nothing was burned


def copy_until_swap(h):
    """imapictl copy from sr0 to sr0, its output read up to the line where the job asks for a blank
    disc (the trigger for the swap). Returns (the running imapictl, the lines seen)."""
    p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "copy", "--from=sr0", "--to=sr0"],
                         env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stdout:
        seen.append(line)
        if "Insert a blank " in line:
            return p, seen
    raise AssertionError("imapictl never asked for a blank disc: %s%s\nimapid log:\n%s"
                         % ("".join(seen), p.communicate(timeout=60)[1], h.log()))


def test_imapictl_copy_one_recorder():
    """Read, then swap the disc: the job waits for a blank disc (RecordDiscTo's wait_for_medium),
    imapictl shows what its Status says, and the job burns once one is in."""
    with Harness(emulator=["--media", "dvd-r"]) as h:
        src = insert_source(h)
        p, seen = copy_until_swap(h)
        assert "Insert a blank disc into sr0." in seen[-1], seen[-1]
        # the job's own words: imapictl opened the tray (OpenExclusive, Eject, Close), so the
        # source disc is out and none is in yet
        assert "There is no disc in recorder sr0" in seen[-1], seen[-1]
        h.emu("--drive", "0", "--media", "dvd-r")  # the swap: a blank disc in the same drive
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, (p.returncode, "".join(seen) + out, err)
        assert "verifying" in out, out
        assert_copied(h, "/dev/sr0", src)
        assert stash_files(h) == []


if __name__ == "__main__":
    run_tests([test_copy_drive_to_drive, test_unreadable_block_named, test_no_file_system_refused,
               test_destination_too_small, test_stash_too_small, test_cancel_leaves_nothing,
               test_imapictl_copy_to_two, test_imapictl_copy_unreadable,
               test_imapictl_copy_one_recorder])
