#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives and media that misbehave or cannot do what is asked: a drive that vanishes, a tray forced
open or a disc swapped mid-write end the job by name and imapid carries on; imapictl does not wait
for an imapid that is gone; erase works on every rewritable medium and is refused on write-once
ones; a test write where the medium cannot take one fails at once."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, JOB, PROPS, ROOT, Harness, Master, build_path,  # noqa: E402
                       expect_dbus_error, glib_connection, run_tests, wait_until)
from mediatest import (REC, MGR, SR0, S_OK, DEVICE_NOTPRESENT, MEDIUM_NOTPRESENT, WRONGDISC,  # noqa: E402
                       EXIT_UNAVAILABLE, Disc, tree, folder, media_info, burn_ctl, in_parallel, in_processes,
                       with_media, job_props, start_burn, jobs, write)

import dbus  # noqa: E402


def test_drive_gone_mid_write():
    """The drive going away in the middle of a write is the job's DEVICE_NOTPRESENT, the tray forced
    open MEDIUM_NOTPRESENT, another disc WRONGDISC; imapid answers the next call, and uses the
    drive again once it is back."""
    # side by side, each in a process of its own: each watches its job from a GLib main loop
    in_processes(drive_gone, [("dvd+rw", ["--fault", "removed"], DEVICE_NOTPRESENT),
                              ("cd-r", ["--fault", "removed"], DEVICE_NOTPRESENT),
                              ("bd-r", ["--fault", "removed"], DEVICE_NOTPRESENT),
                              ("dvd-r", ["--fault", "tray-open"], MEDIUM_NOTPRESENT),
                              ("dvd-r", ["--media", "dvd-r"], WRONGDISC)])


def drive_gone(media, fault, want):
    from gi.repository import GLib
    with Harness(emulator=["--media", media, "--write-rate", "1000"]) as h:
        m = Master(glib_connection(h))
        m.add([("big.bin", write(h, "big.bin", os.urandom(4 << 20)))])
        bus = h.dbus()

        def during(job):
            def poll():
                p = job_props(bus, job)
                if p["Phase"] == "writing" and p["Progress"] > 0.02 + 0.83 * 0.6:
                    h.emu(*fault)
                    return False
                return True
            GLib.timeout_add(50, poll)
        hr, _, completed = m.record(on_job=during)
        assert hr == want, (media, fault, hex(hr), completed)
        assert completed and completed[1].startswith("0x%08X" % want), completed
        mgr = dbus.Interface(bus.get_object(BUS_NAME, ROOT + "/Manager"), MGR)
        if fault[-1] == "removed":
            # the daemon carries on: it answers, and the recorder is gone from the tree
            wait_until(lambda: SR0 not in [str(p) for p in mgr.GetRecorders()], "the recorder to be gone")
        h.emu("--no-faults", "--write-rate", "0", *([] if media != "cd-r" else ["--media", "cd-r"]))
        wait_until(lambda: SR0 in [str(p) for p in mgr.GetRecorders()], "the recorder to come back")
        if media == "cd-r":
            m.dm.Close({})
            m2 = Master(glib_connection(h))
            m2.add([("again.txt", write(h, "again.txt", b"again\n"))])
            hr, _, completed = m2.record()
            assert hr == S_OK, (hex(hr), completed)
            assert Disc(h, ["--media", "cd-r"]).extract(os.path.join(h.tmp, "out")) == {"again.txt": b"again\n"}


def test_imapictl_exits_when_imapid_goes():
    """imapictl burn ends at once, with exit status 3, when imapid dies or the bus goes away."""
    for what in ("imapid", "bus"):
        with Harness(emulator=["--media", "dvd+rw", "--write-rate", "1000"]) as h:
            src, _ = folder(h, "big", {"big.bin": os.urandom(8 << 20)})
            p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "burn", src], env=h.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_until(lambda: jobs(h) and job_props(h.dbus(), str(jobs(h)[0]))["Phase"] == "writing",
                       "the burn to write", timeout=120)
            if what == "imapid":
                h.kill_daemon()
            else:
                h.bus_proc.kill()
                h.bus_proc.wait()
                h.bus_proc = None
            out, err = p.communicate(timeout=15)
            assert p.returncode == EXIT_UNAVAILABLE, (what, p.returncode, out, err)
            assert "outcome is unknown" in out + err, out + err
            if what == "bus":
                h.kill_daemon()


def test_erase_every_rewritable_medium():
    """Erase on each medium that can start over makes it blank for imapid and for xorriso; write-once
    media are refused with MEDIUM_INVALIDTYPE."""
    cases = [(["--media", "cd-rw"], False), (["--media", "cd-rw"], True), (["--media", "dvd-rw"], False),
             (["--media", "dvd+rw"], False), (["--media", "dvd+rw"], True), (["--media", "bd-re"], False),
             (["--media", "bd-re"], True), (["--media", "dvd-rw-ro"], False), (["--media", "dvd-rw-ro"], True),
             (None, False)]
    in_parallel(lambda c: erase_one(*c), cases)
    in_parallel(lambda f: f(), [erase_unformatted, erase_dvd_rw_modes, erase_refused])


def erase_one(emulator, full):
    with with_media(emulator) as h:
        disc = Disc(h, emulator)
        src, files = folder(h, "x", {"x.txt": b"to be erased\n"})
        burn_ctl(h, disc, src)
        assert media_info(h, disc)[0] == "appendable"
        h.ctl("erase", *(["--full"] if full else []), disc.path, check=0, timeout=300)
        assert media_info(h, disc)[0] == "blank", (disc.name, full)
        assert "blank" in disc.toc()[0], (disc.name, full, disc.toc())
        # blank for imapid too: a new file system, without what was there
        src2, files2 = folder(h, "y", {"y.txt": b"after the erase\n"})
        burn_ctl(h, disc, src2)
        assert disc.extract(os.path.join(h.tmp, "out")) == files2, disc.name


def erase_unformatted():
    """A BD-RE that was never formatted: refused with a hint, formatted by erase."""
    with Harness(emulator=["--media", "bd-re", "--unformatted"]) as h:
        disc = Disc(h, ["--media", "bd-re"])
        m = Master(h.dbus(), recorder=None)
        e = expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.dm.SetActiveDiscRecorder, SR0, {})
        assert "not formatted" in e.get_dbus_message(), e.get_dbus_message()
        h.ctl("erase", "sr0", check=0, timeout=300)
        src, files = folder(h, "y", {"y.txt": b"on a formatted BD-RE\n"})
        burn_ctl(h, disc, src)
        assert disc.extract(os.path.join(h.tmp, "out")) == files


def erase_dvd_rw_modes():
    """A DVD-RW into restricted overwrite and back."""
    with Harness(emulator=["--media", "dvd-rw"]) as h:
        h.ctl("erase", "--format=restricted-overwrite", "sr0", check=0, timeout=300)
        prof = h.dbus().get_object(BUS_NAME, SR0).Get(REC, "CurrentProfile", dbus_interface=PROPS)
        assert int(prof) == 0x13, hex(int(prof))
        h.ctl("erase", "--format=sequential", "sr0", check=0, timeout=300)
        prof = h.dbus().get_object(BUS_NAME, SR0).Get(REC, "CurrentProfile", dbus_interface=PROPS)
        assert int(prof) == 0x14, hex(int(prof))


def erase_refused():
    for media in ("cd-r", "dvd+r", "bd-r"):
        with Harness(emulator=["--media", media]) as h:
            r = h.ctl("erase", "sr0", check=1)
            assert "org.imapid.Imapi1.Error.IMAPI_E_MEDIUM_INVALIDTYPE: 0x80040210: " in r.stderr, r.stderr
            assert "write-once" in r.stderr, r.stderr


def test_simulation_refused_up_front():
    """A test write on media that cannot take one fails at RecordDisc, before any image is built."""
    for media in ("dvd+r", "dvd+rw", "bd-r", "bd-re"):
        with Harness(emulator=["--media", media]) as h:
            m = Master(h.dbus())
            m.add([("a.txt", write(h, "a.txt", b"a\n"))])
            e = expect_dbus_error(ERR + "IMAPI_E_DEVICE_INVALIDTYPE", m.dm.RecordDisc, True, False, {})
            assert "simulate" in e.get_dbus_message(), e.get_dbus_message()
            assert not jobs(h)
            assert not os.path.exists(os.path.join(h.stash, "master-1.stash", "image.iso"))
    # and where it can, it writes nothing
    with Harness(emulator=["--media", "dvd-r"]) as h:
        m = Master(glib_connection(h))
        m.add([("a.txt", write(h, "a.txt", b"a\n"))])
        hr, _, _ = m.record(simulate=True)
        assert hr == S_OK, hex(hr)
        assert media_info(h, Disc(h, ["--media", "dvd-r"]))[0] == "blank"


if __name__ == "__main__":
    run_tests([test_drive_gone_mid_write, test_imapictl_exits_when_imapid_goes, test_erase_every_rewritable_medium,
               test_simulation_refused_up_front])
