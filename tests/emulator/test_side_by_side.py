#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Independent burns side by side: two clients burn on two emulated recorders at once, a fault is
injected on one or both (a removal, a write error, a loss of streaming), and each job gets only its
own error. libburn's message queue is one for the whole process, so what a failed write on one
recorder queued must not explain another's."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import BUS_NAME, ROOT, Harness, Master, glib_connection, run_tests, wait_until  # noqa: E402
from mediatest import S_OK, DEVICE_NOTPRESENT, job_props, write  # noqa: E402

CANNOT_WRITE = 0x8004022C
LOSS_OF_STREAMING = 0x80040227
SR = [ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"]
# 2 MiB at 1000 kB/s: two seconds of writing, time enough to see both under way.
SIZE = 2 << 20


def two_masters(h, size=SIZE):
    """Two clients, each with a master on a recorder of its own and a file staged."""
    masters = []
    for i in range(2):
        m = Master(glib_connection(h), recorder=None)
        m.dm.SetActiveDiscRecorder(SR[i], {})
        m.add([(f"data{i}.bin", write(h, f"data{i}.bin", os.urandom(size)))])
        masters.append(m)
    return masters


def run_both(h, masters, during=None):
    """Both RecordDisc at once; during() once both write. Returns {recorder: (hresult, message)}."""
    from gi.repository import GLib
    loop = GLib.MainLoop()
    done = {}
    bus = h.dbus()
    jobs = {}

    def on_completed(i):
        def f(success, message):
            done[i] = str(message)
            if len(done) == 2:
                loop.quit()
        return f

    for i, m in enumerate(masters):
        jobs[i] = str(m.dm.RecordDisc(False, False, {}))
        m.bus.add_signal_receiver(on_completed(i), path=jobs[i], dbus_interface="org.imapid.Imapi1.Job",
                                  signal_name="Completed")
    if during:
        wait_until(lambda: all(job_props(bus, j)["Phase"] == "writing" and job_props(bus, j)["Progress"] > 0.1
                               for j in jobs.values()), "both writes to get under way", timeout=120)
        during()
    GLib.timeout_add_seconds(300, loop.quit)
    loop.run()
    assert len(done) == 2, done
    return {i: (int(done[i][2:10], 16), done[i]) for i in done}


def test_fault_on_one_of_two():
    """sr1 is unplugged in the middle of its write: its job says so, sr0's burn is not touched."""
    with Harness(emulator=["--drives", "2", "--media", "dvd-r", "--write-rate", "1000", "--buffer-kib", "256"]) as h:
        masters = two_masters(h)
        got = run_both(h, masters, during=lambda: h.emu("--drive", "1", "--fault", "removed"))
        assert got[0][0] == S_OK, got
        assert got[1][0] == DEVICE_NOTPRESENT, got


def test_different_faults_on_both():
    """sr0 is unplugged, then sr1 meets a write error: each job is its own failure, not the worse
    of the two (the removal's messages come first and rank higher)."""
    # A write error at 1.5 MiB of sr1's 2 MiB, after sr0 is gone.
    with Harness(emulator=["--drives", "2", "--media", "dvd-r", "--write-rate", "1000", "--buffer-kib", "256",
                           "--drive", "1", "--fault", "write-error=800"]) as h:
        masters = two_masters(h)
        got = run_both(h, masters, during=lambda: h.emu("--drive", "0", "--fault", "removed"))
        assert got[0][0] == DEVICE_NOTPRESENT, got
        assert got[1][0] == CANNOT_WRITE, got
        assert "removed" not in got[1][1] and "stopped answering" not in got[1][1], got


def test_loss_of_streaming_and_write_error():
    """sr0 meets a loss of streaming (3/0C/09) while sr1 writes on, then sr1 a write error
    (3/0C/00) further on: the loss of streaming, which outranks a write error, is sr0's alone (sr1
    wrote past the block whose WRITE failed on sr0), and sr1's job says what its own drive said."""
    # six seconds of writing at 1000 kB/s; sr1 starts a moment after sr0 and ends later
    with Harness(emulator=["--drives", "2", "--media", "dvd-r", "--write-rate", "1000", "--buffer-kib", "256",
                           "--drive", "0", "--fault", "loss-of-streaming=1500",
                           "--drive", "1", "--fault", "write-error=2500"]) as h:
        masters = two_masters(h, 3 * SIZE)
        got = run_both(h, masters)
        assert got[0][0] == LOSS_OF_STREAMING, got
        assert got[1][0] == CANNOT_WRITE, got
        assert "[3 0C 00]" in got[1][1] and "0C 09" not in got[1][1], got
        assert "[3 0C 09]" in got[0][1] and "0C 00" not in got[0][1], got


if __name__ == "__main__":
    run_tests([test_fault_on_one_of_two, test_different_faults_on_both, test_loss_of_streaming_and_write_error])
