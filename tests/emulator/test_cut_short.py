#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A burn that ends early says what it left on the disc. Cancelled (Ctrl-C in imapictl) or failed
(a write error) after writing started on a write-once disc, the job's message and imapictl's
output say that the disc holds an incomplete session (of so many blocks, as the drive reports it) and is no longer blank, as
stock xorriso then finds it; the same from a burn to several recorders, in the failed recorder's
row of the table. Cancelled before anything was written (while waiting for a disc that will do),
the message says the disc was not touched, and xorriso still finds it blank. On media written in
place (DVD+RW, BD-RE, an image file), an append cut short says that the disc holds what it did
before and not the new session, and xorriso and isoinfo read the old files back unchanged; a
first burn cut short says that the disc still reads as blank, as xorriso finds it."""

import json
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, JOB, PROPS, Harness, Master, build_path, glib_connection,  # noqa: E402
                       make_image, run_tests, wait_until)
from mediatest import (STDIO0, USERABORT, Disc, burn_ctl, folder, in_processes, job_props,  # noqa: E402
                       with_media, write)

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


def assert_media_says(h, rec, incomplete):
    """imapictl media (text and --json), the recorder's MediaIncompleteSession property, read
    with busctl, and its row in imapictl devices say whether the disc holds an incomplete session
    from a burn cut short."""
    text = h.ctl("media", rec, check=0).stdout
    assert ("holds an incomplete session, from a burn that was cut short" in text) == incomplete, text
    said = json.loads(h.ctl("--json", "media", rec, check=0).stdout)
    assert said["incomplete_session"] is incomplete, said
    # imapictl media has read the disc again (OpenExclusive, QueryMediaInfo, Close): the property is
    # what it found
    got = subprocess.run(["busctl", "--address=" + h.address, "get-property", BUS_NAME,
                          f"/org/imapid/Imapi1/recorders/{rec}", "org.imapid.Imapi1.Recorder",
                          "MediaIncompleteSession"], capture_output=True, text=True, check=True).stdout
    assert got.strip() == ("b true" if incomplete else "b false"), got
    # imapictl devices: the recorder's row ends in what the disc is, and says the same
    rows = [line for line in h.ctl("devices", check=0).stdout.splitlines()[1:] if line.split()[1] == rec]
    assert len(rows) == 1, rows
    assert rows[0].endswith(", incomplete session") == incomplete, rows
    assert re.search(r" (blank|appendable|closed|unsuitable) ", rows[0]), rows


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
        # as stock xorriso finds it: the session's file system larger than its track, unless
        # every block had reached the drive before the cancel (a CD's small image at 1000 kB/s
        # can be written whole by then)
        cut = "larger than track size" in toc(h)
        assert cut or media != "dvd-r", toc(h)
        assert_media_says(h, "sr0", cut)


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
        assert_media_says(h, "sr0", True)


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
        assert_media_says(h, "sr0", False)
        assert_media_says(h, "sr1", True)


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
        assert_media_says(h, "sr0", False)


# Written in place: a DVD+RW and a BD-RE in the emulator, an image file (None).
IN_PLACE = (["--media", "dvd+rw"], ["--media", "bd-re"], None)


def cut_short(h, disc, m, how):
    """Records m to disc and stops it a third of the way through the write: a cancel, or on an
    emulated drive a write error there. Returns the job's HRESULT and message."""
    bus = glib_connection(h)
    options = {} if disc.emulated else {"write_speed_kbps": dbus.Int32(1000)}

    def writing(job):
        # the job's Progress counts laying the image out as its first 2 %, and the write with
        # verification as the next 83 %
        return job_props(bus, job)["Phase"] == "writing" and job_props(bus, job)["Progress"] > 0.3

    def cancel(job):
        wait_until(lambda: writing(job), "the write to get under way", 120)
        bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface=JOB)
    if how == "write-error":
        # 3 MiB into the new session's 6 MiB
        _, _, nwa, _ = disc.toc()
        h.emu("--fault", f"write-error={(nwa or 0) + 1500}")
    hr, _, completed = m.record(options=options, on_job=cancel if how == "cancel" else None)
    if how == "write-error":
        h.emu("--no-faults")
    success, message = completed
    assert not success, (disc.name, message)
    return hr, message


def isoinfo(h, disc, *args):
    """What stock isoinfo says of the disc."""
    if disc.emulated:
        x = h.emu_run("isoinfo", *args, "-i", "/dev/sr0", check=False)
    else:
        x = subprocess.run(["isoinfo", *args, "-i", h.images[0]], capture_output=True, text=True)
    return x.stdout + x.stderr


def isoinfo_files(h, disc):
    """The file names in the ISO 9660 tree that stock isoinfo finds on the disc."""
    return sorted(line.strip("/") for line in isoinfo(h, disc, "-f", "-R").splitlines())


def append_cut_short(emulator, how):
    slow = emulator + ["--write-rate", "2000"] if emulator and how == "cancel" else emulator
    with with_media(slow) as h:
        disc = Disc(h, emulator)
        rec = disc.path.rsplit("/", 1)[1]
        src, first = folder(h, "first", {"a.bin": os.urandom(300000), "b.txt": b"keep me\n"})
        burn_ctl(h, disc, src)
        _, sessions, _, _ = disc.toc()
        names = isoinfo_files(h, disc)
        assert "first/b.txt" in names, names
        m = Master(glib_connection(h))
        m.add([("big.bin", write(h, "big.bin", os.urandom(6 << 20)))])
        hr, message = cut_short(h, disc, m, how)
        assert hr == (USERABORT if how == "cancel" else CANNOT_WRITE), (disc.name, hex(hr), message)
        said = f"What the disc in recorder {rec} held before is unchanged; the new session is not on it."
        assert said in message, (disc.name, how, message)
        assert "no longer blank" not in message and "incomplete" not in message, message
        # what the sentence claims: the old session alone, its files as they were burnt
        status, now, _, _ = disc.toc()
        assert "appendable" in status and now == sessions, (disc.name, status, now, sessions)
        assert disc.extract(os.path.join(h.tmp, "out")) == first, disc.name
        assert isoinfo_files(h, disc) == names, (disc.name, isoinfo_files(h, disc), names)
        assert_media_says(h, rec, False)


def test_append_cut_short_in_place():
    """Cancelled on each medium written in place; a write error on the emulated ones."""
    # side by side, each in a process of its own: each waits for its job's signals on a GLib main loop
    in_processes(append_cut_short, [(e, how) for e in IN_PLACE for how in (("cancel", "write-error") if e
                                                                          else ("cancel",))])


def first_burn_cut_short(emulator):
    slow = emulator + ["--write-rate", "2000"] if emulator else None
    with with_media(slow) as h:
        disc = Disc(h, emulator)
        rec = disc.path.rsplit("/", 1)[1]
        m = Master(glib_connection(h))
        m.add([("big.bin", write(h, "big.bin", os.urandom(6 << 20)))])
        hr, message = cut_short(h, disc, m, "cancel")
        assert hr == USERABORT, (disc.name, hex(hr), message)
        assert f"The disc in recorder {rec} still reads as blank." in message, (disc.name, message)
        status, sessions, _, _ = disc.toc()
        assert "blank" in status and sessions == [], (disc.name, status, sessions)
        said = isoinfo(h, disc, "-d")
        assert "NOT in ISO 9660 format" in said, (disc.name, said)


def test_first_burn_cut_short_in_place():
    in_processes(first_burn_cut_short, [(e,) for e in IN_PLACE])


def test_image_cut_short_on_image_file():
    """An image written to an image file and cancelled a third of the way: the message says that
    the file holds part of the image; the file is shorter than the image's file system says, and
    imapictl media and MediaIncompleteSession say that it holds an incomplete session."""
    with Harness() as h:
        disc = Disc(h, None)
        src = make_image(h, mib=8, hybrid=False)
        m = Master(glib_connection(h), fmt="image", recorder=None)
        m.dm.SetActiveDiscRecorder(STDIO0, {})
        m.set_image(src)
        hr, message = cut_short(h, disc, m, "cancel")
        assert hr == USERABORT, (hex(hr), message)
        assert "The disc in recorder stdio0 holds part of the image and is no longer blank." in message, message
        size = re.search(r"Volume size is: (\d+)", isoinfo(h, disc, "-d"))
        assert size and os.path.getsize(h.images[0]) < int(size.group(1)) * 2048, (size, h.images[0])
        assert_media_says(h, "stdio0", True)


if __name__ == "__main__":
    run_tests([test_cancel_mid_write_dvd_r, test_cancel_mid_write_cd_r, test_write_error_mid_write,
               test_write_error_on_one_of_two, test_cancel_before_writing, test_append_cut_short_in_place,
               test_first_burn_cut_short_in_place, test_image_cut_short_on_image_file])
