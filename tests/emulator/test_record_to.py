#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""RecordDiscTo: one staged disc master burned to four emulated recorders with media of four kinds
at once, one job per recorder, each disc read back by stock xorriso; a fault on one recorder ends
its job by name while the other three finish verified; what RecordDiscTo refuses up front."""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, JOB, JOLIET, ROOT, Harness, Master, expect_dbus_error,  # noqa: E402
                       glib_connection, run_tests, wait_until)
from mediatest import S_OK, DEVICE_NOTPRESENT, job_props, jobs, tree, write  # noqa: E402

import dbus  # noqa: E402

MEDIA = ["cd-r", "dvd-r", "dvd+rw", "bd-r"]
SR = [ROOT + f"/recorders/sr{i}" for i in range(len(MEDIA))]
CANNOT_WRITE = 0x8004022C


def four_drives(*extra):
    opts = ["--drives", str(len(MEDIA))]
    for i, media in enumerate(MEDIA):
        opts += ["--drive", str(i), "--media", media]
    return Harness(emulator=opts + list(extra))


def staged(h, m):
    files = {"a.txt": b"alpha\n", "dir/b.bin": os.urandom(3 << 20), "dir/c.txt": b"gamma" * 1000}
    entries = []
    for name, data in files.items():
        entries.append((name, write(h, name.replace("/", "_"), data)))
    m.add(entries)
    return files


def extract(h, i):
    out = os.path.join(h.tmp, f"out{i}")
    shutil.rmtree(out, ignore_errors=True)
    h.emu_run("xorriso", "-abort_on", "FAILURE", "-indev", f"/dev/sr{i}", "-osirrox", "on", "-extract", "/", out)
    return tree(out)


def record_to(m, recorders, options=None, during=None):
    """RecordDiscTo, then wait for every job's Completed. Returns [(hresult, message)] in order."""
    from gi.repository import GLib
    loop = GLib.MainLoop()
    done = {}

    def on_completed(success, message, path=None):
        done[str(path)] = str(message)
        if len(done) == len(recorders):
            loop.quit()

    m.bus.add_signal_receiver(on_completed, dbus_interface=JOB, signal_name="Completed", path_keyword="path")
    jobs = [str(j) for j in m.dm.RecordDiscTo(recorders, False, False, options or {})]
    assert len(jobs) == len(recorders) and len(set(jobs)) == len(jobs), jobs
    if during:
        GLib.idle_add(lambda: during(jobs) and False)
    GLib.timeout_add_seconds(300, loop.quit)
    loop.run()
    assert set(done) == set(jobs), (done, jobs)
    return [(int(done[j][2:10], 16), done[j]) for j in jobs]


def test_one_master_four_media():
    """Four jobs, one per recorder, each its own disc read back identical; the staged content
    goes after all succeeded, and each recorder is free again."""
    with four_drives() as h:
        m = Master(glib_connection(h))  # the active recorder: sr0, the CD-R, the smallest
        files = staged(h, m)
        got = record_to(m, dbus.Array(SR, signature="o"))
        assert all(hr == S_OK for hr, _ in got), got
        for i in range(len(MEDIA)):
            assert extract(h, i) == files, MEDIA[i]
        assert m.prop("UsedDataBlocks", JOLIET) == 0


def test_keep_and_again():
    """With keep the master records again later, to other discs, without staging again."""
    with four_drives() as h:
        m = Master(glib_connection(h))  # the active recorder: sr0, the CD-R, the smallest
        files = staged(h, m)
        got = record_to(m, dbus.Array(SR[:2], signature="o"), {"keep": True})
        assert all(hr == S_OK for hr, _ in got), got
        got = record_to(m, dbus.Array(SR[2:], signature="o"))
        assert all(hr == S_OK for hr, _ in got), got
        for i in range(len(MEDIA)):
            assert extract(h, i) == files, MEDIA[i]


def test_fault_on_one():
    """sr1 is unplugged mid-write, sr2 meets a write error: their jobs say so by name, the other
    two discs are verified and read back; the staging stays for another try."""
    with four_drives("--write-rate", "2000", "--buffer-kib", "256", "--drive", "2", "--fault",
                     "write-error=900") as h:
        m = Master(glib_connection(h))  # the active recorder: sr0, the CD-R, the smallest
        files = staged(h, m)
        bus = h.dbus()

        def during(jobs):
            wait_until(lambda: job_props(bus, jobs[1])["Phase"] == "writing" and
                       job_props(bus, jobs[1])["Progress"] > 0.1, "sr1 to write", timeout=120)
            h.emu("--drive", "1", "--fault", "removed")
        got = record_to(m, dbus.Array(SR, signature="o"), during=during)
        assert got[0][0] == S_OK and got[3][0] == S_OK, got
        assert got[1][0] == DEVICE_NOTPRESENT, got
        assert got[2][0] == CANNOT_WRITE, got
        for i in (0, 3):
            assert extract(h, i) == files, MEDIA[i]
        assert m.prop("UsedDataBlocks", JOLIET) > 0


def test_refused():
    """Listed twice, not a recorder, held by another client, more jobs than MaxJobsPerUser allows
    (root is exempt, so that one is in tests/hostile), none at all: refused, nothing written."""
    with four_drives() as h:
        m = Master(glib_connection(h))  # the active recorder: sr0, the CD-R, the smallest
        staged(h, m)
        arr = lambda paths: dbus.Array(paths, signature="o")  # noqa: E731
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDiscTo, arr([SR[0], SR[0]]), False, False, {})
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDiscTo, arr([SR[0], ROOT + "/recorders/nope"]),
                          False, False, {})
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDiscTo, arr([]), False, False, {})
        other = h.dbus()
        rec = dbus.Interface(other.get_object(BUS_NAME, SR[2]), "org.imapid.Imapi1.Recorder")
        rec.OpenExclusive({})
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_NOTACCESSIBLE", m.dm.RecordDiscTo, arr(SR), False, False, {})
        rec.Close({})
        # no job was made, and every recorder is free for the next call
        assert jobs(h) == [], jobs(h)
        got = record_to(m, arr(SR[:2]))
        assert all(hr == S_OK for hr, _ in got), got

if __name__ == "__main__":
    run_tests([test_one_master_four_media, test_keep_and_again, test_fault_on_one, test_refused])
