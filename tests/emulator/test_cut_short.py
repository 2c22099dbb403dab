#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A burn that ends early says what it left on the disc. Cancelled (Ctrl-C in imapictl) or failed
(a write error) after writing started on a write-once disc, the job's message and imapictl's
output say that the disc holds an incomplete session (of so many blocks, as the drive reports it) and is no longer blank, as
stock xorriso then finds it; the same from a burn to several recorders, in the failed recorder's
row of the table. Cancelled before anything was written (while waiting for a disc that will do),
the message says the disc was not touched, and xorriso still finds it blank."""

import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, JOB, PROPS, Harness, Master, build_path, glib_connection, run_tests,  # noqa: E402
                       wait_until)
from mediatest import USERABORT, folder, write  # noqa: E402

import dbus  # noqa: E402

EXIT_CANCELLED, EXIT_SOME_FAILED = 5, 6
CANNOT_WRITE = 0x8004022C
INCOMPLETE = re.compile(r"The disc in recorder (sr\d) now holds an incomplete session \(the drive reports "
                        r"(\d+) blocks\) "
                        r"and is no longer blank\.")


def toc(h, i=0):
    x = h.emu_run("xorriso", "-indev", f"/dev/sr{i}", "-toc", check=False)
    return x.stdout + x.stderr


def assert_incomplete(h, message, rec="sr0"):
    """The message names the recorder and the blocks the drive reports; xorriso finds the disc written."""
    found = INCOMPLETE.search(message)
    assert found and found.group(1) == rec, message
    assert int(found.group(2)) > 0, message
    said = toc(h, int(rec[2:]))
    assert "is blank" not in said and "is appendable" in said, said
    # the blocks the message gives are those the drive reports (the burn's session is the first)
    readable = re.search(r"Media blocks : *(\d+) readable", said)
    assert readable and readable.group(1) == found.group(2), (message, said)


def cancel_mid_write(media):
    with Harness(emulator=["--media", media, "--write-rate", "1000", "--buffer-kib", "256"]) as h:
        src, _ = folder(h, "trip", {"notes.txt": b"day one\n", "photos/a.jpg": os.urandom(4 << 20)})
        p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "burn", src], env=h.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        # not a terminal: a line per update; the second one with a share written comes after blocks
        # went out to the drive
        for line in p.stdout:
            seen.append(line)
            if sum(bool(re.match(r"writing +\d", x)) for x in seen) >= 2:
                break
        else:
            raise AssertionError("the burn never wrote: " + "".join(seen) + p.stderr.read())
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=300)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, "".join(seen) + out, err)
        assert "imapictl: burn cancelled: " in err, err
        assert_incomplete(h, err)


def test_cancel_mid_write_dvd_r():
    cancel_mid_write("dvd-r")


def test_cancel_mid_write_cd_r():
    cancel_mid_write("cd-r")


def test_write_error_mid_write():
    """The job's own message (Completed, over D-Bus) for a write error past the first blocks."""
    with Harness(emulator=["--media", "dvd-r", "--fault", "write-error=900"]) as h:
        m = Master(glib_connection(h))
        m.add([("big.bin", write(h, "big.bin", os.urandom(4 << 20)))])
        hr, _, completed = m.record()
        assert hr == CANNOT_WRITE, (hex(hr), completed)
        assert completed and not completed[0], completed
        assert_incomplete(h, completed[1])


def test_write_error_on_one_of_two():
    """Several recorders: the row of the one that failed says what its disc holds; the other's
    disc is verified and its row says nothing of the kind."""
    opts = ["--drives", "2", "--drive", "0", "--media", "dvd-r", "--drive", "1", "--media", "dvd-r",
            "--fault", "write-error=900"]
    with Harness(emulator=opts) as h:
        src, _ = folder(h, "trip", {"photos/a.jpg": os.urandom(4 << 20)})
        r = h.ctl("burn", "--recorder=sr0", "--recorder=sr1", src, check=EXIT_SOME_FAILED, timeout=300)
        rows = [line for line in r.stdout.splitlines() if line.startswith(("sr0 ", "sr1 "))]
        last = {line.split()[0]: line for line in rows}
        assert "verified" in last["sr0"] and "no longer blank" not in last["sr0"], r.stdout
        assert "failed: IMAPI_E_CANNOT_WRITE_TO_MEDIA" in last["sr1"], r.stdout
        assert_incomplete(h, last["sr1"], "sr1")


def test_cancel_before_writing():
    """Waiting for a disc that will do (this blank one is too small): nothing was written."""
    with Harness(emulator=["--media", "dvd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus)
        m.add([("big.bin", write(h, "big.bin", os.urandom(4 << 20)))])
        h.emu("--media", "dvd-r", "--capacity", "1000")

        def cancel(job):
            obj = bus.get_object(BUS_NAME, job)
            wait_until(lambda: str(obj.Get(JOB, "Phase", dbus_interface=PROPS)) == "waiting", "the wait", 60)
            obj.Cancel({}, dbus_interface=JOB)
        hr, _, completed = m.record(options={"wait_for_medium": dbus.UInt32(300)}, on_job=cancel)
        assert hr == USERABORT, (hex(hr), completed)
        assert "The disc in recorder sr0 was not touched." in completed[1], completed
        assert "no longer blank" not in completed[1], completed
        assert "is blank" in toc(h), toc(h)


if __name__ == "__main__":
    run_tests([test_cancel_mid_write_dvd_r, test_cancel_mid_write_cd_r, test_write_error_mid_write,
               test_write_error_on_one_of_two, test_cancel_before_writing])
