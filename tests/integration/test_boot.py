#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bootable data discs (El Torito) on image-file recorders: the Joliet boot properties and
SetBootImage, a no-emulation, a floppy-emulation and a hard-disk-emulation disc read back by stock
xorriso (its El Torito report, the boot image at the catalog's LBA, the catalog's ID string), the
boot image hidden from the trees, IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC on a disc that holds a
session with nothing written, every bad value refused by name, and imapictl burn --boot-image."""

import hashlib
import os
import struct
import subprocess
import sys

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (ERR, Harness, Master, expect_dbus_error, extract, glib_connection,  # noqa: E402
                       run_tests, stash_dirs, stash_files, wait_until)

S_OK = 0
EXIT_FAILED, EXIT_USAGE = 1, 2
NONBLANK = ERR + "IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC"
INVALIDARG = ERR + "E_INVALIDARG"


def write_file(h, name, data):
    path = os.path.join(h.tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def sha(data):
    return hashlib.sha256(data).hexdigest()


def set_boot_image(m, path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return m.joliet.SetBootImage(dbus.types.UnixFd(fd), {})
    finally:
        os.close(fd)


def el_torito(image):
    """xorriso's El Torito report of image: the catalog's LBA, and the first boot image's platform,
    emulation, load size (512-byte sectors) and LBA."""
    r = subprocess.run(["xorriso", "-indev", image, "-report_el_torito", "plain"], capture_output=True,
                       text=True, check=True)
    out = r.stdout + r.stderr
    catalog = [line for line in out.splitlines() if line.startswith("El Torito catalog  :")]
    boot = [line for line in out.splitlines() if line.startswith("El Torito boot img :")]
    assert len(catalog) == 1 and len(boot) == 1, out
    f = boot[0].split(":", 1)[1].split()
    # N Pltf B Emul Ld_seg Hdpt Ldsiz LBA
    return {"catalog_lba": int(catalog[0].split(":", 1)[1].split()[0]), "platform": f[1], "bootable": f[2],
            "emulation": f[3], "load_size": int(f[6]), "lba": int(f[7]), "report": out}


def read_at(image, lba, size):
    with open(image, "rb") as f:
        f.seek(lba * 2048)
        return f.read(size)


def extracted_boot_image(h, image):
    """The boot image as stock xorriso extracts it from the disc (padded to what it loads)."""
    out = os.path.join(h.tmp, "boot-extract")
    subprocess.run(["rm", "-rf", out], check=True)
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", image, "-extract_boot_images", out],
                   capture_output=True, check=True)
    names = sorted(n for n in os.listdir(out) if n.startswith("eltorito_img"))
    assert len(names) == 1, os.listdir(out)
    with open(os.path.join(out, names[0]), "rb") as f:
        return f.read()


def tree_of(h, image):
    """Every file of the Rock Ridge tree, name -> bytes, extracted by stock xorriso."""
    out = os.path.join(h.tmp, "tree-extract")
    subprocess.run(["rm", "-rf", out], check=True)
    extract(image, out)
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = f.read()
    return files


def joliet_names(image):
    r = subprocess.run(["xorriso", "-rockridge", "off", "-joliet", "on", "-indev", image, "-find", "/"],
                       capture_output=True, text=True, check=True)
    return sorted(line.strip("'") for line in r.stdout.split())


def hard_disk_image(sectors=2048):
    """A disk image with an MBR holding one partition (type 0x83) from sector 1 to its end."""
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\2\0", 0x83, b"\xfe\xff\xff", 1, sectors - 1)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr) + os.urandom((sectors - 1) * 512)


def burn(m):
    hr, signals, completed = m.record()
    assert hr == S_OK and completed and completed[0], (hex(hr), completed)


def test_no_emulation_disc():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        m = Master(bus)
        boot = os.urandom(5000)
        src = write_file(h, "efi.img", boot)
        readme = write_file(h, "readme.txt", b"a bootable disc\n")
        m.add([("readme.txt", readme)])
        used = int(m.prop("UsedDataBlocks", "org.imapid.Imapi1.JolietDiscMaster"))
        props = {"PlaceBootImageOnDisc": True, "BootImagePlatform": dbus.Byte(0xEF),
                 "BootImageEmulationType": dbus.Byte(0), "BootImageManufacturerIDString": "IMAPID TEST DISC"}
        assert int(m.joliet.SetJolietProperties(props)) == S_OK
        set_boot_image(m, src)
        got = m.joliet.GetJolietProperties()
        assert bool(got["PlaceBootImageOnDisc"]) and int(got["BootImagePlatform"]) == 0xEF, got
        assert int(got["BootImageEmulationType"]) == 0 and str(got["BootImageManufacturerIDString"]) == \
            "IMAPID TEST DISC" and int(got["BootImageSize"]) == len(boot), got
        # staged data: the copy is in the stash, and counted in the disc's blocks
        assert int(m.prop("UsedDataBlocks", "org.imapid.Imapi1.JolietDiscMaster")) == used + 3
        assert len(stash_files(h)) == 2, stash_files(h)
        burn(m)

        et = el_torito(h.images[0])
        assert (et["platform"], et["bootable"], et["emulation"]) == ("UEFI", "y", "none"), et["report"]
        assert et["load_size"] == (len(boot) + 511) // 512, et["report"]
        assert sha(read_at(h.images[0], et["lba"], len(boot))) == sha(boot)
        extracted = extracted_boot_image(h, h.images[0])
        assert sha(extracted[:len(boot)]) == sha(boot) and not any(extracted[len(boot):])
        # the validation entry's ID string (El Torito 2.1: bytes 4..27 of the catalog)
        catalog = read_at(h.images[0], et["catalog_lba"], 64)
        assert catalog[0] == 1 and catalog[1] == 0xEF and catalog[4:28] == b"IMAPID TEST DISC".ljust(24, b"\0")
        # neither the boot image nor the catalog is a file of the disc's trees
        assert tree_of(h, h.images[0]) == {"readme.txt": b"a bootable disc\n"}
        assert joliet_names(h.images[0]) == ["/", "/readme.txt"], joliet_names(h.images[0])
        # a burn clears what was staged, the boot image with it
        got = m.joliet.GetJolietProperties()
        assert not bool(got["PlaceBootImageOnDisc"]) and int(got["BootImageSize"]) == 0, got
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


def test_floppy_emulation_disc_with_imapictl():
    with Harness(drives=1) as h:
        floppy = os.urandom(1440 * 1024)
        src = write_file(h, "floppy.img", floppy)
        tree = os.path.join(h.tmp, "tree")
        os.makedirs(os.path.join(tree, "boot.img"))        # the names libisofs' hidden nodes would take
        with open(os.path.join(tree, "boot.img", "x"), "wb") as f:
            f.write(b"x")
        with open(os.path.join(tree, "boot.catalog"), "wb") as f:
            f.write(b"mine\n")
        h.ctl("burn", "--boot-image", src, "--boot-emulation", "floppy", os.path.join(tree, "boot.img"),
              os.path.join(tree, "boot.catalog"), check=0)
        et = el_torito(h.images[0])
        assert (et["platform"], et["emulation"], et["load_size"]) == ("BIOS", "fd1.4", 1), et["report"]
        assert sha(read_at(h.images[0], et["lba"], len(floppy))) == sha(floppy)
        assert sha(extracted_boot_image(h, h.images[0])) == sha(floppy)
        assert tree_of(h, h.images[0]) == {"boot.img/x": b"x", "boot.catalog": b"mine\n"}
        assert stash_dirs(h) == []


def test_hard_disk_emulation_disc():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        disk = hard_disk_image()
        src = write_file(h, "hd.img", disk)
        h.ctl("burn", "--boot-image", src, "--boot-emulation", "hd", "--boot-platform", "x86",
              write_file(h, "a.txt", b"a\n"), check=0)
        et = el_torito(h.images[0])
        assert (et["platform"], et["emulation"]) == ("BIOS", "hd"), et["report"]
        assert sha(read_at(h.images[0], et["lba"], len(disk))) == sha(disk)

        # without an MBR of one partition libisofs refuses it: the job fails by name before the
        # disc is written, and leaves the stash clean
        os.unlink(h.images[0])
        m = Master(bus)
        m.add([("a.txt", src)])
        m.joliet.SetJolietProperties({"PlaceBootImageOnDisc": True, "BootImageEmulationType": dbus.Byte(4)})
        set_boot_image(m, write_file(h, "nombr.img", os.urandom(64 * 1024)))
        hr, signals, completed = m.record()
        assert hr == 0x80070057 and completed and not completed[0], (hex(hr), completed)
        assert "MBR" in completed[1], completed
        assert not os.path.exists(h.images[0]) or not any(open(h.images[0], "rb").read())
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


def test_nonblank_disc_refused():
    with Harness(drives=1) as h:
        bus = glib_connection(h)
        first = write_file(h, "first.txt", b"first session\n")
        h.ctl("burn", first, check=0)
        with open(h.images[0], "rb") as f:
            before = f.read()
        boot = write_file(h, "boot.bin", os.urandom(2048))

        # SetActiveDiscRecorder found a session: PlaceBootImageOnDisc is refused at once
        m = Master(bus)
        expect_dbus_error(NONBLANK, m.joliet.SetJolietProperties, {"PlaceBootImageOnDisc": True})
        assert not bool(m.joliet.GetJolietProperties()["PlaceBootImageOnDisc"])
        m.dm.Close({})

        # set before the recorder: SetActiveDiscRecorder refuses the disc; then SetBootImage
        m = Master(bus, recorder=None)
        m.joliet.SetJolietProperties({"PlaceBootImageOnDisc": True})
        set_boot_image(m, boot)
        expect_dbus_error(NONBLANK, m.dm.SetActiveDiscRecorder, m.dm.EnumDiscRecorders()[0], {})
        # replace writes a new file system, which may boot
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {"replace": True})
        m.dm.Close({})

        # imapictl: refused before anything is staged, the disc as it was
        r = h.ctl("burn", "--boot-image", boot, write_file(h, "second.txt", b"2\n"), check=EXIT_FAILED)
        assert "IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC" in r.stderr or "not blank" in r.stderr, r.stderr
        with open(h.images[0], "rb") as f:
            assert f.read() == before
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")
        # with --replace the disc becomes bootable
        h.ctl("burn", "--replace", "--boot-image", boot, first, check=0)
        assert el_torito(h.images[0])["emulation"] == "none"


def test_bad_values_refused():
    with Harness(drives=1) as h:
        bus = h.dbus()
        m = Master(bus)
        j = m.joliet
        for props in ({"BootImagePlatform": dbus.Byte(3)}, {"BootImagePlatform": dbus.Int32(-1)},
                      {"BootImageEmulationType": dbus.Byte(5)}, {"BootImageEmulationType": "1"},
                      {"BootImageManufacturerIDString": "x" * 25}, {"BootImageManufacturerIDString": "caf\u00e9"},
                      {"BootImageManufacturerIDString": "a\tb"}, {"PlaceBootImageOnDisc": "yes"},
                      {"BootImage": "/boot.img"}, {"VolumeName": "OK", "BootImagePlatform": dbus.Byte(9)}):
            expect_dbus_error(INVALIDARG, j.SetJolietProperties, props)
        got = j.GetJolietProperties()
        assert str(got["VolumeName"]) != "OK" and int(got["BootImagePlatform"]) == 0, got
        assert int(j.SetJolietProperties({"BootImageManufacturerIDString": "x" * 24})) == S_OK

        # the fd: a folder, a pipe, write-only, empty, larger than El Torito loads
        d = os.open(h.tmp, os.O_RDONLY | os.O_DIRECTORY)
        r, w = os.pipe()
        try:
            for fd in (d, r):
                expect_dbus_error(INVALIDARG, j.SetBootImage, dbus.types.UnixFd(fd), {})
        finally:
            for fd in (d, r, w):
                os.close(fd)
        wo = os.open(write_file(h, "wo.img", b"x" * 512), os.O_WRONLY)
        try:
            expect_dbus_error(INVALIDARG, j.SetBootImage, dbus.types.UnixFd(wo), {})
        finally:
            os.close(wo)
        expect_dbus_error(INVALIDARG, set_boot_image, m, write_file(h, "empty.img", b""))
        big = os.path.join(h.tmp, "big.img")
        with open(big, "wb") as f:
            f.truncate(65535 * 512 + 1)
        expect_dbus_error(INVALIDARG, set_boot_image, m, big)
        fd = os.open(write_file(h, "ok.img", b"x" * 512), os.O_RDONLY)
        try:
            expect_dbus_error(INVALIDARG, j.SetBootImage, dbus.types.UnixFd(fd), {"option": True})
        finally:
            os.close(fd)
        assert stash_files(h) == []

        # floppy emulation needs the floppy's size, whichever comes first
        set_boot_image(m, write_file(h, "small.img", os.urandom(4096)))
        expect_dbus_error(INVALIDARG, j.SetJolietProperties, {"BootImageEmulationType": dbus.Byte(2)})
        # all or nothing: a refused boot property leaves StrictJolietNames as it was
        strict = bool(j.GetJolietProperties()["StrictJolietNames"])
        expect_dbus_error(INVALIDARG, j.SetJolietProperties,
                          {"StrictJolietNames": not strict, "BootImageEmulationType": dbus.Byte(2)})
        assert bool(j.GetJolietProperties()["StrictJolietNames"]) == strict
        floppy = write_file(h, "f12.img", os.urandom(1200 * 1024))
        j.SetJolietProperties({"BootImageEmulationType": dbus.Byte(0)})
        set_boot_image(m, floppy)
        j.SetJolietProperties({"BootImageEmulationType": dbus.Byte(1)})
        expect_dbus_error(INVALIDARG, set_boot_image, m, write_file(h, "f14.img", os.urandom(1440 * 1024)))
        assert int(j.GetJolietProperties()["BootImageSize"]) == 1200 * 1024
        assert len(stash_files(h)) == 1, stash_files(h)         # the replaced image is gone

        # ClearFormatContent clears the boot image and its settings
        j.SetJolietProperties({"PlaceBootImageOnDisc": True})
        m.dm.ClearFormatContent({})
        got = j.GetJolietProperties()
        assert not bool(got["PlaceBootImageOnDisc"]) and int(got["BootImageSize"]) == 0, got
        assert int(got["BootImageEmulationType"]) == 0 and str(got["BootImageManufacturerIDString"]) == "", got
        wait_until(lambda: stash_files(h) == [], "the boot image to leave the stash")

        # PlaceBootImageOnDisc without an image: RecordDisc refuses, nothing is written
        m.add([("a.txt", floppy)])
        j.SetJolietProperties({"PlaceBootImageOnDisc": True})
        expect_dbus_error(INVALIDARG, m.dm.RecordDisc, False, False, {})
        assert not os.path.exists(h.images[0])

        # another format: the Joliet interface answers WRONGFORMAT
        m.dm.SetActiveDiscMasterFormat("image", {})
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", set_boot_image, m, floppy)
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", j.SetJolietProperties, {"PlaceBootImageOnDisc": True})
        m.dm.Close({})

        # imapictl's own checks, before imapid is asked
        h.ctl("burn", "--boot-image", floppy, "--boot-emulation", "floppy", "--image", floppy, check=EXIT_USAGE)
        r = h.ctl("burn", "--boot-image", big, "--boot-emulation", "floppy", floppy, check=EXIT_USAGE)
        assert "1200, 1440 or 2880 KiB" in r.stderr, r.stderr
        h.ctl("burn", "--boot-emulation", "cdrom", floppy, check=EXIT_USAGE)
        h.ctl("burn", "--boot-platform", "arm", "--boot-image", floppy, floppy, check=EXIT_USAGE)
        h.ctl("burn", "--boot-platform", "efi", floppy, check=EXIT_USAGE)
        h.ctl("burn", "--boot-image", h.tmp, floppy, check=EXIT_USAGE)
        r = h.ctl("burn", "--boot-image", big, floppy, check=EXIT_FAILED)
        assert "E_INVALIDARG" in r.stderr or "65535" in r.stderr, r.stderr
        assert not os.path.exists(h.images[0])
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


if __name__ == "__main__":
    run_tests([test_no_emulation_disc, test_floppy_emulation_disc_with_imapictl, test_hard_disk_emulation_disc,
               test_nonblank_disc_refused, test_bad_values_refused])
