#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""By hand, not in the suite (minutes and several GiB of scratch space): the Image format's
tests of tests/emulator/test_image.py and tests/integration/test_image.py with a large generated
image (default 1 GiB) through imapictl, as a user runs it.

    tests/emulator/image-large.py [--build DIR] [--mib N]

  * burned with 'imapictl burn --image' to an emulated DVD-R and BD-R and to an image file, each
    read back (stock xorriso through the emulator; cmp for the file) and compared with cmp;
  * cancelled with Ctrl-C while it writes: exit status 5, IMAPI_E_USERABORT;
  * a disc too small: IMAPI_E_DISCFULL; a disc that is not blank: IMAPI_E_MEDIUM_INVALIDTYPE;
    an image one byte too long: IMAPI_E_INVALIDIMAGE;

and after each the stash is empty. Prints one line per case with its time; exit status 0 when
every case held.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def setup_env(build):
    os.environ.setdefault("IMAPID", os.path.join(build, "daemon", "imapid"))
    os.environ.setdefault("IMAPICTL", os.path.join(build, "client", "imapictl"))
    os.environ.setdefault("MMCEMU_LIB", os.path.join(build, "tests", "mmcemu", "libmmcemu.so"))
    os.environ.setdefault("MMCEMU_RUN", os.path.join(SRC, "tests", "mmcemu", "run"))


def generate(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib // 16):
            f.write(os.urandom(16 << 20))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--mib", type=int, default=1024)
    a = ap.parse_args()
    setup_env(os.path.abspath(a.build))
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    from imapitest import Harness, build_path, stash_dirs, wait_until

    failures = []

    def case(name, emulator, fn):
        t = time.monotonic()
        with (Harness(emulator=emulator) if emulator is not None else Harness(drives=1)) as h:
            image = os.path.join(h.tmp, "big.iso")
            generate(image, a.mib)
            try:
                fn(h, image)
                wait_until(lambda: stash_dirs(h) == [], "the stash to go")
                verdict = "ok"
            except AssertionError as e:
                verdict = "FAILED: %s" % e
                failures.append(name)
        print("%-34s %6.1f s  %s" % (name, time.monotonic() - t, verdict), flush=True)

    def same(a_path, b_path):
        assert subprocess.run(["cmp", a_path, b_path]).returncode == 0, "differs"

    def burn_emulated(h, image):
        h.ctl("burn", "--image=" + image, check=0, timeout=3600)
        back = os.path.join(h.tmp, "back.bin")
        h.emu_run("xorriso", "-indev", "/dev/sr0", "-check_media", "what=disc", "min_lba=0",
                  "max_lba=%d" % (os.path.getsize(image) // 2048 - 1), "data_to=" + back, "use=indev", "--")
        same(image, back)

    def burn_file(h, image):
        h.ctl("burn", "--image=" + image, check=0, timeout=3600)
        same(image, h.images[0])

    def cancelled(h, image):
        p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "burn", "--image=" + image],
                             env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: os.path.exists(h.emu_file("sr0", "track-01.bin")), "the write to start", timeout=600)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=600)
        assert p.returncode == 5 and "IMAPI_E_USERABORT" in err + out, (p.returncode, err[-300:])

    def refused(code, *extra):
        def run(h, image):
            if "odd" in extra:
                with open(image, "ab") as f:
                    f.write(b"\0")
            r = h.ctl("burn", "--image=" + image, check=1, timeout=3600)
            assert code in r.stderr, r.stderr[-300:]
        return run

    blocks = a.mib * 512
    case("dvd-r: burned, read back, cmp", ["--media", "dvd-r"], burn_emulated)
    case("bd-r: burned, read back, cmp", ["--media", "bd-r"], burn_emulated)
    case("image file: burned, cmp", None, burn_file)
    case("dvd-r: Ctrl-C while writing", ["--media", "dvd-r", "--write-rate", "20000"], cancelled)
    case("dvd-r too small: DISCFULL", ["--media", "dvd-r", "--capacity", str(blocks // 2)],
         refused("IMAPI_E_DISCFULL"))
    case("cd-r appendable: not blank", ["--media", "cd-r", "--status", "appendable"],
         refused("IMAPI_E_MEDIUM_INVALIDTYPE"))
    case("one byte too long: INVALIDIMAGE", ["--media", "bd-r"], refused("IMAPI_E_INVALIDIMAGE", "odd"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
