#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bootable discs through the drive emulator, with imapictl burn --boot-image: a CD-R and a DVD+RW
made bootable, their El Torito record and catalog read back from the drive by stock xorriso and the
boot image it extracts equal to the source; and IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC for a CD-R
that holds a session and a DVD+RW that holds a file system, with nothing written to either."""

import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mediatest import Disc, burn_ctl, folder, in_parallel, with_media, write  # noqa: E402
from imapitest import run_tests, stash_dirs  # noqa: E402

EXIT_FAILED = 1


def report(disc):
    out = disc.xorriso("-indev", "/dev/sr0", "-report_el_torito", "plain").stdout
    m = re.search(r"El Torito boot img :\s+1\s+(\S+)\s+(\S)\s+(\S+)\s+\S+\s+\S+\s+(\d+)\s+(\d+)", out)
    assert m, out
    return m.group(1), m.group(2), m.group(3), int(m.group(4)), int(m.group(5))


def extracted(h, disc):
    out = os.path.join(h.tmp, "boot-out")
    disc.xorriso("-osirrox", "on", "-indev", "/dev/sr0", "-extract_boot_images", out)
    names = [n for n in os.listdir(out) if n.startswith("eltorito_img")]
    assert len(names) == 1, os.listdir(out)
    with open(os.path.join(out, names[0]), "rb") as f:
        return f.read()


def bootable(media):
    with with_media(["--media", media]) as h:
        disc = Disc(h, ["--media", media])
        boot = os.urandom(8 * 1024 + 100)
        src = write(h, "boot.bin", boot)
        tree, files = folder(h, "data", {"a.txt": b"on a bootable disc\n"})
        burn_ctl(h, disc, tree, "--boot-image", src, "--boot-platform", "x86")
        platform, flag, emulation, load_size, _ = report(disc)
        assert (platform, flag, emulation, load_size) == ("BIOS", "y", "none", (len(boot) + 511) // 512), \
            (media, platform, flag, emulation, load_size)
        got = extracted(h, disc)
        assert hashlib.sha256(got[:len(boot)]).digest() == hashlib.sha256(boot).digest(), media
        assert disc.extract(os.path.join(h.tmp, "tree-out")) == files, media
        assert stash_dirs(h) == []


def test_bootable_cd_r_and_dvd_plus_rw():
    in_parallel(bootable, ["cd-r", "dvd+rw"])


def nonblank(media):
    with with_media(["--media", media]) as h:
        disc = Disc(h, ["--media", media])
        tree, _ = folder(h, "first", {"a.txt": b"first session\n"})
        burn_ctl(h, disc, tree)
        before = disc.toc(), disc.content_digest()
        src = write(h, "boot.bin", os.urandom(2048))
        second, _ = folder(h, "second", {"b.txt": b"second\n"})
        r = burn_ctl(h, disc, second, "--boot-image", src, check=EXIT_FAILED)
        assert "IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC" in r.stderr or "not blank" in r.stderr, (media, r.stderr)
        assert (disc.toc(), disc.content_digest()) == before, media
        assert stash_dirs(h) == []


def test_nonblank_refused():
    in_parallel(nonblank, ["cd-r", "dvd+rw"])


if __name__ == "__main__":
    run_tests([test_bootable_cd_r_and_dvd_plus_rw, test_nonblank_refused])
