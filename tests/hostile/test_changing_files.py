#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Files that change while AddData copies them: what is staged is what was accounted. A file
that grows is staged up to the size AddData saw, one that shrinks fails the call by name; either
way the stash holds exactly what is accounted, and the disc master burns (verified) what it
staged, or, after a failure, once the entry is added again."""

import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Harness, assert_back, baseline, holds_files_under  # noqa: E402
from hostile import imapitest  # noqa: E402

import dbus  # noqa: E402

ERR = imapitest.ERR
MIB = 1024 * 1024


def stash_bytes(h):
    """The bytes of every staged copy (the stash's files, as a user would du them)."""
    total = 0
    for root, _, files in os.walk(h.stash):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def burned(h, master, name):
    hr, _, completed = master.record()
    assert hr == 0 and completed and completed[0], f"the burn failed: {hr:#x} {completed}\n{h.log()}"
    with tempfile.TemporaryDirectory() as out:
        imapitest.extract(h.images[0], out)
        with open(os.path.join(out, name), "rb") as f:
            return f.read()


def changing(path, stop, grow):
    """Appends to (grow) or truncates (shrink) path in a loop until stop is set."""
    chunk = os.urandom(64 * 1024)
    with open(path, "r+b") as f:
        while not stop.is_set():
            if grow:
                f.seek(0, os.SEEK_END)
                f.write(chunk)
                f.flush()
            else:
                size = os.fstat(f.fileno()).st_size
                f.truncate(max(size - 64 * 1024, 0))
                if size <= 64 * 1024:
                    stop.set()


def test_growing():
    with Harness() as h:
        pid = h.daemon.pid
        base = baseline(pid, h.stash)
        src = tempfile.mkdtemp(dir=h.tmp)
        path = os.path.join(src, "growing.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(32 * MIB))
        bus = imapitest.glib_connection(h)
        master = imapitest.Master(bus)
        stop = threading.Event()
        writer = threading.Thread(target=changing, args=(path, stop, True))
        writer.start()
        try:
            master.add([("growing.bin", path)])
        finally:
            stop.set()
            writer.join()
        imapitest.wait_until(lambda: not holds_files_under(pid, src), "imapid to let go of the source")
        staged = stash_bytes(h)
        with open(path, "rb") as f:
            now = f.read()
        assert 32 * MIB <= staged <= len(now), (staged, len(now))
        data = burned(h, master, "growing.bin")
        # The disc holds what was staged and accounted: a prefix of the file, as long as the
        # copy in the stash was.
        assert len(data) == staged and data == now[:staged], (len(data), staged, len(now))
        master.dm.Close({})
        assert_back(base)


def test_shrinking():
    with Harness() as h:
        pid = h.daemon.pid
        base = baseline(pid, h.stash)
        src = tempfile.mkdtemp(dir=h.tmp)
        path = os.path.join(src, "shrinking.bin")
        stable = os.path.join(src, "stable.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(64 * MIB))
        with open(stable, "wb") as f:
            f.write(os.urandom(3 * MIB))
        bus = imapitest.glib_connection(h)
        master = imapitest.Master(bus)
        outcome = None
        for _ in range(20):
            with open(path, "r+b") as f:
                f.truncate(0)
                f.write(os.urandom(64 * MIB))
            stop = threading.Event()
            writer = threading.Thread(target=changing, args=(path, stop, False))
            writer.start()
            try:
                master.add([("shrinking.bin", path)], overwrite=True)
                outcome = "staged"
            except dbus.exceptions.DBusException as e:
                outcome = e
            finally:
                stop.set()
                writer.join()
            if outcome != "staged":
                break
            # Staged before it shrank: the copy is whole, what was accounted, and burns.
            imapitest.wait_until(lambda: not holds_files_under(pid, src), "imapid to let go of the source")
            staged = stash_bytes(h)
            assert len(burned(h, master, "shrinking.bin")) == staged, staged
        if outcome == "staged":
            raise imapitest.Skip("in 20 rounds the file never shrank during a copy")
        assert outcome.get_dbus_name() == ERR + "IMAPI_E_FILEACCESS", outcome
        assert "'shrinking.bin' shrank" in outcome.get_dbus_message(), outcome
        imapitest.wait_until(lambda: not holds_files_under(pid, src), "imapid to let go of the source")
        # The failed call left nothing; the entry from an earlier round, if any, stays as it was.
        # Replacing the entry with a file that holds still makes the disc master burn.
        master.add([("shrinking.bin", stable)], overwrite=True)
        with open(stable, "rb") as f:
            assert burned(h, master, "shrinking.bin") == f.read()
        master.dm.Close({})
        assert_back(base)


imapitest.run_tests([test_growing, test_shrinking])
