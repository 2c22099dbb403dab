#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The IMAPI stash errors through D-Bus, each provoked by its real Linux condition on a file
system made for the test (tests/data/make-test-fs.py; needs root and loop devices)."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import ERR, SRCDIR, Harness, Master, expect_dbus_error, run_tests, stash_dirs  # noqa: E402

MAKE_FS = os.path.join(SRCDIR, "tests", "data", "make-test-fs.py")


class TestFs:
    """A mounted test file system; the path make-test-fs.py prints is .path."""

    def __init__(self, kind, size=None):
        self.dir = tempfile.mkdtemp(prefix="imapid-fs-")
        args = [MAKE_FS, "setup", kind, self.dir] + ([size] if size else [])
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            self.close()
            raise AssertionError(f"make-test-fs.py {kind} failed: {r.stderr}")
        self.path = r.stdout.strip()

    def close(self):
        subprocess.run([MAKE_FS, "teardown", self.dir], capture_output=True)
        subprocess.run(["rm", "-rf", self.dir])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def test_notenoughdiskforstash():
    with TestFs("small-tmpfs", "8M") as fs, Harness(extra_args=["--stash-dir=" + fs.path]) as h:
        big = os.path.join(h.tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(20 * 1024 * 1024))
        m = Master(h.dbus())
        e = expect_dbus_error(ERR + "IMAPI_E_NOTENOUGHDISKFORSTASH", m.add, [("big.bin", big)])
        assert e.get_dbus_message().startswith("0x8004022A: "), e.get_dbus_message()
        assert "MiB" in e.get_dbus_message(), e.get_dbus_message()
        # checked before writing: nothing was copied
        assert os.listdir(os.path.join(fs.path, "master-1.stash")) == []


def test_compressedstash():
    with TestFs("btrfs-compressed") as fs, Harness(extra_args=["--stash-dir=" + fs.path]) as h:
        m = Master(h.dbus(), open=False)
        e = expect_dbus_error(ERR + "IMAPI_E_COMPRESSEDSTASH", m.dm.Open, {})
        assert fs.path in e.get_dbus_message(), e.get_dbus_message()
        assert os.listdir(fs.path) == []


def test_encryptedstash():
    with TestFs("ext4-encrypted") as fs, Harness(extra_args=["--stash-dir=" + fs.path]) as h:
        m = Master(h.dbus(), open=False)
        expect_dbus_error(ERR + "IMAPI_E_ENCRYPTEDSTASH", m.dm.Open, {})


def test_fileaccess():
    with TestFs("btrfs-ioerror") as fs, Harness() as h:
        m = Master(h.dbus())
        e = expect_dbus_error(ERR + "IMAPI_E_FILEACCESS", m.add, [("bad.bin", fs.path)])
        assert e.get_dbus_message().startswith("0x80040218: "), e.get_dbus_message()
        assert os.listdir(os.path.join(h.stash, "master-1.stash")) == []


def test_stashinuse():
    """Two daemons sharing one stash directory meet on its lock."""
    with Harness() as a, Harness(extra_args=["--stash-dir=" + a.stash]) as b:
        ma = Master(a.dbus())
        assert stash_dirs(a) == ["master-1.stash"]
        mb = Master(b.dbus(), open=False)
        e = expect_dbus_error(ERR + "IMAPI_E_STASHINUSE", mb.dm.Open, {})
        assert e.get_dbus_message().startswith("0x80040225: "), e.get_dbus_message()
        ma.dm.Close({})
        mb.dm.Open({})


if __name__ == "__main__":
    run_tests([test_notenoughdiskforstash, test_compressedstash, test_encryptedstash, test_fileaccess,
               test_stashinuse])
