#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Image format through the drive emulator: a hybrid ISO burned to DVD-R, BD-R, DVD+RW and
BD-RE reads back from the disc with stock xorriso byte for byte; a disc too small is DISCFULL
before anything is copied; a disc that is not blank is refused by name; a write stopped by a
cancel or a loss of streaming ends as a data disc's does, with the image kept for another try and
nothing else in the stash. (tests/emulator/image-large.py runs the same through imapictl with a
1 GiB image, by hand.)"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, IMAGE, PROPS, ROOT, Harness, Master, cancel_in_phase,  # noqa: E402
                       expect_dbus_error, glib_connection, make_image, run_tests, stash_dirs, stash_files,
                       wait_until)

import dbus  # noqa: E402

SR0 = ROOT + "/recorders/sr0"
S_OK, USERABORT, LOSS_OF_STREAMING = 0, 0x8004020D, 0x80040227


def read_disc(h, out, blocks):
    """The disc's first blocks, through stock xorriso in another process. (Overwriteable media have
    no table of contents that would say where the image ends, so the range is given.)"""
    h.emu_run("xorriso", "-indev", "/dev/sr0", "-check_media", "what=disc", "min_lba=0",
              "max_lba=%d" % (blocks - 1), "data_to=" + out, "use=indev", "--")
    with open(out, "rb") as f:
        return f.read()


def image_master(bus, options=None):
    m = Master(bus, fmt="image", recorder=None)
    m.dm.SetActiveDiscRecorder(SR0, options or {})
    return m


def burn_and_compare(media):
    with Harness(emulator=["--media", media]) as h:
        src = make_image(h, mib=20)
        m = image_master(glib_connection(h))
        m.set_image(src)
        hr, _, completed = m.record()
        assert hr == S_OK, (media, hex(hr), completed)
        with open(src, "rb") as f:
            want = f.read()
        got = read_disc(h, os.path.join(h.tmp, "back.bin"), len(want) // 2048)
        assert got == want, (media, len(got), len(want))
        toc = h.emu_run("xorriso", "-indev", "/dev/sr0", "-toc").stdout
        assert "IMAGE TEST" in toc, toc
        if media in ("dvd-r", "bd-r"):
            # a whole disc: closed, nothing can be appended that its file system would show
            assert "is closed" in toc, toc
        assert stash_files(h) == []


def test_burn_read_back_identical():
    # one after the other: each waits in a GLib main loop, and threads would share its context
    for media in ("dvd-r", "bd-r", "dvd+rw", "bd-re"):
        burn_and_compare(media)


def test_disc_full_before_copy():
    with Harness(emulator=["--media", "dvd-r", "--capacity", "1024"]) as h:
        src = make_image(h, mib=3, hybrid=False)
        m = image_master(h.dbus())
        e = expect_dbus_error(ERR + "IMAPI_E_DISCFULL", m.set_image, src)
        assert "nothing was copied" in e.get_dbus_message(), e.get_dbus_message()
        assert stash_files(h) == [] and int(m.prop("ImageSize", IMAGE)) == 0


def test_not_blank_refused():
    for opts, code in ((["--media", "cd-r", "--status", "appendable"], "IMAPI_E_MEDIUM_INVALIDTYPE"),
                       (["--media", "dvd-r", "--status", "closed"], "IMAPI_E_DISCFULL")):
        with Harness(emulator=opts) as h:
            bus = h.dbus()
            m = Master(bus, fmt="image", recorder=None)
            e = expect_dbus_error(ERR + code, m.dm.SetActiveDiscRecorder, SR0, {})
            assert "blank" in e.get_dbus_message() or "closed" in e.get_dbus_message(), e.get_dbus_message()
            # a write-once disc cannot be written over, replace or not
            expect_dbus_error(ERR + code, m.dm.SetActiveDiscRecorder, SR0, {"replace": True})
            assert stash_files(h) == []


def test_cancel_and_loss_of_streaming():
    cases = [(["--media", "dvd-r", "--write-rate", "4000"], USERABORT),
             (["--media", "dvd-r", "--no-burnfree", "--fault", "loss-of-streaming=3000"], LOSS_OF_STREAMING)]
    for opts, want in cases:
        with Harness(emulator=opts) as h:
            bus = glib_connection(h)
            src = make_image(h, mib=12, hybrid=False)
            m = image_master(bus)
            m.set_image(src)
            hr, _, completed = m.record(on_job=cancel_in_phase(bus) if want == USERABORT else None)
            assert hr == want, (opts, hex(hr), completed)
            assert completed and not completed[0], completed
            # the recorder is free again, the image stays staged, nothing else is in the stash
            assert int(bus.get_object(BUS_NAME, SR0).Get("org.imapid.Imapi1.Recorder", "State",
                                                         dbus_interface=PROPS)) == 0
            assert len(stash_files(h)) == 1 and int(m.prop("ImageSize", IMAGE)) == os.path.getsize(src)
            m.dm.Close({})
            wait_until(lambda: stash_dirs(h) == [], "the stash to go")


if __name__ == "__main__":
    run_tests([test_burn_read_back_identical, test_disc_full_before_copy, test_not_blank_refused,
               test_cancel_and_loss_of_streaming])
