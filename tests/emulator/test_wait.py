#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""RecordDisc with wait_for_medium through the drive emulator: on an empty recorder the job goes
into Phase "waiting" and says in Status what it waits for, and a blank disc inserted later is
burned and read back identical by stock xorriso; a closed disc keeps it waiting and says why until
a blank one comes; a cancel while it waits ends it with IMAPI_E_USERABORT and leaves the recorder
free and the stash as it was; the timeout ends it with IMAPI_E_MEDIUM_NOTPRESENT; with
RecordDiscTo each recorder waits on its own while the others write; the option's range is
checked."""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, JOB, JOLIET, PROPS, ROOT, Harness, Master,  # noqa: E402
                       expect_dbus_error, glib_connection, run_tests, stash_files, wait_until)
from mediatest import S_OK, USERABORT, MEDIUM_NOTPRESENT, tree, write
from mediatest import jobs as manager_jobs  # noqa: E402

import dbus  # noqa: E402

SR0, SR1 = ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"


def staged(h, m):
    files = {"a.txt": b"alpha\n", "dir/b.bin": os.urandom(2 << 20)}
    m.add([(name, write(h, name.replace("/", "_"), data)) for name, data in files.items()])
    return files


def extract(h, i=0):
    out = os.path.join(h.tmp, f"out{i}")
    shutil.rmtree(out, ignore_errors=True)
    h.emu_run("xorriso", "-abort_on", "FAILURE", "-indev", f"/dev/sr{i}", "-osirrox", "on", "-extract", "/", out)
    return tree(out)


def job_get(bus, job, name):
    return bus.get_object(BUS_NAME, job).Get(JOB, name, dbus_interface=PROPS)


def until_waiting(bus, job, says):
    """Waits until the job is in Phase "waiting" with a Status that contains says; returns it."""
    seen = []

    def check():
        phase, status = str(job_get(bus, job, "Phase")), str(job_get(bus, job, "Status"))
        seen.append((phase, status))
        return phase == "waiting" and says in status
    wait_until(check, "the job to wait (%s)" % seen[-1:], timeout=60)
    return seen[-1][1]


def empty_drive(h, m, drive="0"):
    """The active recorder read with a blank disc (SetActiveDiscRecorder), then emptied."""
    h.emu("--drive", drive, "--media", "none")


def test_waits_for_blank_disc():
    with Harness(emulator=["--media", "dvd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus)
        files = staged(h, m)
        empty_drive(h, m)
        statuses = []

        def insert(job):
            statuses.append(until_waiting(bus, job, "Insert a blank or appendable disc into sr0."))
            assert "There is no disc in recorder sr0" in statuses[0], statuses
            assert int(job_get(bus, job, "HResult")) == 0
            h.emu("--drive", "0", "--media", "dvd-r")
        hr, signals, completed = m.record(options={"wait_for_medium": dbus.UInt32(120)}, on_job=insert)
        assert hr == S_OK, (hex(hr), completed)
        assert statuses, "the job never waited"
        assert extract(h) == files
        assert m.prop("UsedDataBlocks", JOLIET) == 0
        assert stash_files(h) == []


def test_full_disc_then_blank():
    """A closed disc is not usable: the job says why and keeps waiting until a blank one is in."""
    with Harness(emulator=["--media", "dvd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus)
        files = staged(h, m)
        h.emu("--drive", "0", "--media", "dvd-r", "--status", "closed")

        def swap(job):
            status = until_waiting(bus, job, "is closed and takes no more data")
            assert "Insert a blank or appendable disc into sr0." in status, status
            h.emu("--drive", "0", "--media", "dvd-r")
        hr, _, completed = m.record(options={"wait_for_medium": dbus.UInt32(120)}, on_job=swap)
        assert hr == S_OK, (hex(hr), completed)
        assert extract(h) == files


def test_cancel_while_waiting():
    with Harness(emulator=["--media", "dvd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus)
        files = staged(h, m)
        before = stash_files(h)
        empty_drive(h, m)

        def cancel(job):
            until_waiting(bus, job, "into sr0")
            bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface=JOB)
        hr, _, completed = m.record(options={"wait_for_medium": dbus.UInt32(300)}, on_job=cancel)
        assert hr == USERABORT, (hex(hr), completed)
        assert "waiting" in completed[1], completed
        # the staged content stays for another try, and nothing else is left in the stash
        assert stash_files(h) == before, (stash_files(h), before)
        # the recorder is free: another program can use the drive, and the same master burns
        h.emu("--drive", "0", "--media", "dvd-r")
        h.emu_run("xorriso", "-outdev", "/dev/sr0", "-toc")
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert extract(h) == files


def test_timeout():
    with Harness(emulator=["--media", "dvd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus)
        staged(h, m)
        empty_drive(h, m)
        hr, _, completed = m.record(options={"wait_for_medium": dbus.UInt32(3)})
        assert hr == MEDIUM_NOTPRESENT, (hex(hr), completed)
        assert "within 3 s" in completed[1], completed
        # without the option an empty drive fails at once, as before
        e = expect_dbus_error(ERR + "IMAPI_E_MEDIUM_NOTPRESENT", m.dm.RecordDisc, False, False, {})
        assert "no disc" in e.get_dbus_message(), e.get_dbus_message()
        for bad in (dbus.UInt32(3601), dbus.Int32(-1), "5"):
            expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDisc, False, False, {"wait_for_medium": bad})


def test_record_to_each_waits_on_its_own():
    """RecordDiscTo: the recorder with a blank disc writes at once while the empty one waits."""
    with Harness(emulator=["--drives", "2", "--drive", "0", "--media", "dvd-r", "--drive", "1",
                           "--media", "none"]) as h:
        from gi.repository import GLib
        bus = glib_connection(h)
        m = Master(bus)
        files = staged(h, m)
        loop, done = GLib.MainLoop(), {}

        def on_completed(success, message, path=None):
            done[str(path)] = str(message)
            if len(done) == 2:
                loop.quit()
        bus.add_signal_receiver(on_completed, dbus_interface=JOB, signal_name="Completed", path_keyword="path")
        jobs = [str(j) for j in m.dm.RecordDiscTo(dbus.Array([SR0, SR1], signature="o"), False, False,
                                                  {"wait_for_medium": dbus.UInt32(120)})]

        def during():
            until_waiting(bus, jobs[1], "into sr1")
            # sr0's burn ends while sr1 still waits
            wait_until(lambda: jobs[0] not in manager_jobs(h), "the first burn to end", timeout=120)
            assert str(job_get(bus, jobs[1], "Phase")) == "waiting"
            h.emu("--drive", "1", "--media", "dvd+rw")
            return False
        GLib.idle_add(during)
        GLib.timeout_add_seconds(300, loop.quit)
        loop.run()
        assert set(done) == set(jobs), done
        assert all(done[j].startswith("0x00000000") for j in jobs), done
        assert extract(h, 0) == files
        assert extract(h, 1) == files
        assert stash_files(h) == []


if __name__ == "__main__":
    run_tests([test_waits_for_blank_disc, test_full_disc_then_blank, test_cancel_while_waiting, test_timeout,
               test_record_to_each_waits_on_its_own])
