#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Image format: a disc image burned as it is to image-file recorders. The format's rules next
to Joliet and Redbook, a hybrid ISO (an MBR and an appended partition) that comes out byte for
byte, each refusal by its IMAPI name with nothing left in the stash, cancelling, and imapictl burn
--image (and the hint of imapictl burn FILE.iso)."""

import os
import signal
import subprocess
import sys

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (ERR, IMAGE, IMAGE_IID, JOLIET_IID, REDBOOK_IID, Harness, Master,  # noqa: E402
                       build_path, cancel_in_phase, expect_dbus_error, glib_connection, make_image, run_tests,
                       same_bytes, stash_dirs, stash_files, wait_until)

S_OK, USERABORT = 0, 0x8004020D
EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 1, 2, 5


def image_master(bus, recorder=0, options=None):
    m = Master(bus, fmt="image", recorder=None)
    m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[recorder], options or {})
    return m


def burn_and_close(h, m, src, options=None):
    """RecordDisc of what m has staged: it succeeds, the recorder's file is the image src, and once
    m is closed its stash is gone."""
    hr, signals, completed = m.record(options=options)
    assert hr == S_OK, (hex(hr), completed)
    assert completed and completed[0], completed
    assert same_bytes(h.images[0], src), "the disc differs from the image"
    m.dm.Close({})
    wait_until(lambda: stash_dirs(h) == [], "the stash to go")
    return signals


def test_format_rules():
    with Harness(drives=1) as h:
        bus = h.dbus()
        m = Master(bus, fmt=None)
        src = make_image(h, mib=1, hybrid=False)
        assert list(m.dm.EnumDiscMasterFormats()) == [JOLIET_IID, REDBOOK_IID, IMAGE_IID]
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVEFORMAT", m.set_image, src)
        m.dm.SetActiveDiscMasterFormat("joliet", {})
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.set_image, src)
        m.dm.SetActiveDiscMasterFormat("{" + IMAGE_IID.upper() + "}", {})
        assert str(m.dm.GetActiveDiscMasterFormat()) == IMAGE_IID
        assert str(m.prop("ActiveFormat")) == IMAGE_IID
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", m.set_image, src)
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.add, [("x", src)])
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.obj.CreateAudioTrack, 0,
                          dbus_interface="org.imapid.Imapi1.RedbookDiscMaster")
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {})
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.dm.RecordDisc, False, False, {})
        # not a regular file: a folder, a pipe
        d = os.open(h.tmp, os.O_RDONLY | os.O_DIRECTORY)
        try:
            expect_dbus_error(ERR + "E_INVALIDARG", m.image.SetImage, dbus.types.UnixFd(d), {})
        finally:
            os.close(d)
        r, w = os.pipe()
        try:
            expect_dbus_error(ERR + "E_INVALIDARG", m.image.SetImage, dbus.types.UnixFd(r), {})
        finally:
            os.close(r)
            os.close(w)
        # no options are defined (an image is never appended to a disc as a session)
        fd = os.open(src, os.O_RDONLY)
        try:
            expect_dbus_error(ERR + "E_INVALIDARG", m.image.SetImage, dbus.types.UnixFd(fd), {"append": True})
        finally:
            os.close(fd)
        m.set_image(src)
        assert int(m.prop("ImageSize", IMAGE)) == os.path.getsize(src)
        assert int(m.prop("UsedDataBlocks", "org.imapid.Imapi1.JolietDiscMaster")) == os.path.getsize(src) // 2048
        # one image per disc
        expect_dbus_error(ERR + "IMAPI_E_FILEEXISTS", m.set_image, src)
        # setting a format clears what was staged
        m.dm.SetActiveDiscMasterFormat("image", {})
        assert int(m.prop("ImageSize", IMAGE)) == 0 and stash_files(h) == []
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {})
        m.set_image(src)
        m.dm.ClearFormatContent({})
        wait_until(lambda: stash_files(h) == [], "the cleared image to be deleted")
        assert int(m.prop("ImageSize", IMAGE)) == 0


def test_hybrid_image_byte_identical():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        src = make_image(h)
        m = image_master(bus)
        m.set_image(src)
        stash = os.path.join(h.stash, stash_dirs(h)[0])
        # the recorder's image file is the image: MBR, ISO 9660 tree, appended partition
        signals = burn_and_close(h, m, src)
        progress = [a for name, a in signals if name == "BlockProgress"]
        assert progress and progress[-1][0] == progress[-1][1] == os.path.getsize(src) // 2048, progress[-3:]
        assert not os.path.exists(stash)


def test_refusals_leave_nothing():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        src = make_image(h, mib=2, hybrid=False)
        m = image_master(bus)
        # not whole 2048-byte blocks
        odd = os.path.join(h.tmp, "odd.iso")
        with open(src, "rb") as f, open(odd, "wb") as g:
            g.write(f.read() + b"\0" * 100)
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.set_image, odd)
        empty = os.path.join(h.tmp, "empty.iso")
        open(empty, "wb").close()
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.set_image, empty)
        assert stash_files(h) == []
        m.dm.Close({})

        # a disc that holds a file system: refused before anything is staged; replace writes over it
        other = make_image(h, name="other.iso", mib=6, hybrid=False)
        with open(other, "rb") as f, open(h.images[0], "wb") as g:
            g.write(f.read())
        m = Master(bus, fmt="image", recorder=None)
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.dm.SetActiveDiscRecorder,
                          m.dm.EnumDiscRecorders()[0], {})
        assert stash_files(h) == []
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {"replace": True})
        m.set_image(src)
        # cut to the image: nothing of the larger old one is left behind it
        burn_and_close(h, m, src)


def test_cancel_keeps_image_for_retry():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        src = make_image(h, mib=16, hybrid=False)
        m = image_master(bus)
        m.set_image(src)
        # 2 MB/s: the 16 MiB take seconds, the cancel comes well before the end
        hr, _, completed = m.record(options={"write_speed_kbps": dbus.UInt32(2000)}, on_job=cancel_in_phase(bus))
        assert hr == USERABORT, (hex(hr), completed)
        # the staged image stays for another RecordDisc, and nothing else is in the stash
        assert len(stash_files(h)) == 1 and int(m.prop("ImageSize", IMAGE)) == os.path.getsize(src)
        burn_and_close(h, m, src, options={"replace": True})


def ctl_popen(h, *args):
    return subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, *args], env=h.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_imapictl_burn_image():
    with Harness(drives=1) as h:
        src = make_image(h, name="distro.iso")
        r = h.ctl("burn", "--image=" + src, check=0)
        assert same_bytes(h.images[0], src)
        assert "IMAPI_E" not in r.stderr, r.stderr
        assert stash_dirs(h) == []

        # misuse, before anything is staged
        r = h.ctl("burn", "--image=" + src, src, check=EXIT_USAGE)
        assert "no other PATH" in r.stderr, r.stderr
        r = h.ctl("burn", "--image=" + h.tmp, check=EXIT_USAGE)
        assert "not a folder" in r.stderr, r.stderr
        h.ctl("burn", "--image=" + src, "--volume-name=X", check=EXIT_USAGE)
        # the disc holds an image now: refused by name; --replace writes over it
        r = h.ctl("burn", "--image=" + src, check=EXIT_FAILED)
        assert "IMAPI_E_MEDIUM_INVALIDTYPE" in r.stderr, r.stderr
        odd = os.path.join(h.tmp, "odd.iso")
        with open(odd, "wb") as f:
            f.write(b"\0" * 4097)
        r = h.ctl("burn", "--replace", "--image=" + odd, check=EXIT_FAILED)
        assert "IMAPI_E_INVALIDIMAGE" in r.stderr, r.stderr
        assert stash_dirs(h) == []


def test_imapictl_iso_as_file_hints():
    with Harness(drives=1) as h:
        src = make_image(h, name="distro.iso", mib=1, hybrid=False)
        r = h.ctl("burn", src, check=0)
        hint = "imapictl burn --image=" + src
        assert hint in r.stderr, r.stderr
        # said first, before staging
        assert hint in r.stderr.splitlines()[0], r.stderr
        out = subprocess.run(["xorriso", "-indev", h.images[0], "-find", "/", "-type", "f"], check=True,
                             capture_output=True, text=True).stdout
        assert "'/distro.iso'" in out, out
        # a file that is no image: no hint
        other = os.path.join(h.tmp, "notes.txt")
        with open(other, "w") as f:
            f.write("notes\n")
        r = h.ctl("burn", other, check=0)
        assert "--image" not in r.stderr, r.stderr


def test_imapictl_interrupted():
    with Harness(drives=1) as h:
        src = make_image(h, mib=16, hybrid=False)
        p = ctl_popen(h, "burn", "--speed-kbps=2000", "--image=" + src)
        bus = h.dbus()
        mgr = dbus.Interface(bus.get_object("org.imapid.Imapi1", "/org/imapid/Imapi1/Manager"),
                             "org.imapid.Imapi1.Manager")
        wait_until(lambda: len(mgr.GetJobs()) > 0, "the burn to start", timeout=60)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, out, err)
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


if __name__ == "__main__":
    run_tests([test_format_rules, test_hybrid_image_byte_identical, test_refusals_leave_nothing,
               test_cancel_keeps_image_for_retry, test_imapictl_burn_image, test_imapictl_iso_as_file_hints,
               test_imapictl_interrupted])
