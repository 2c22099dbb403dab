#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A file of 5 GiB (sparse, so the test costs little disk) burned with ISO level 3, chosen by
imapid because the file needs it, and read back with stock xorriso."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import JOLIET, Harness, Master, glib_connection, run_tests  # noqa: E402

SIZE = 5 * 1024 ** 3 + 12345


def test_five_gib_sparse_file():
    with Harness() as h:
        big = os.path.join(h.tmp, "big.img")
        with open(big, "wb") as f:
            f.truncate(SIZE)
            # some data at the start, in the middle and at the end, so a misplaced extent shows
            for offset in (0, 4 * 1024 ** 3 - 7, SIZE - 4096):
                f.seek(offset)
                f.write(os.urandom(4096))
        small = os.path.join(h.tmp, "note.txt")
        with open(small, "w") as f:
            f.write("next to a big file\n")

        bus = glib_connection(h)
        m = Master(bus)
        m.add([("images/big.img", big), ("note.txt", small)])
        assert m.prop("UsedDataBlocks", JOLIET) * 2048 >= SIZE
        hr, signals, completed = m.record()
        assert hr == 0, (hex(hr), completed)

        out = os.path.join(h.tmp, "out")
        os.mkdir(out)
        subprocess.run(["xorriso", "-abort_on", "FAILURE", "-indev", h.images[0], "-osirrox", "on:sparse=1m",
                        "-extract", "/", out], check=True, capture_output=True)
        got = os.path.join(out, "images", "big.img")
        assert os.path.getsize(got) == SIZE, os.path.getsize(got)
        subprocess.run(["cmp", big, got], check=True)
        with open(os.path.join(out, "note.txt")) as f:
            assert f.read() == "next to a big file\n"
        # ISO 9660 level 3: the file is stored in several extents
        listing = subprocess.run(["isoinfo", "-l", "-i", h.images[0]], capture_output=True, text=True).stdout
        assert listing.count("BIG.IMG") >= 2, listing


if __name__ == "__main__":
    run_tests([test_five_gib_sparse_file])
