#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nothing on a disc is lost or misread. On overwriteable media (DVD+RW, BD-RE, DVD-RW in
restricted overwrite) and image files every burn grows the file system, and stock xorriso reads
all of it back; starting over is asked for (replace); what imapid cannot add to is refused before
anything is staged; a burn stopped at any point (cancel, the drive removed, imapid killed) leaves
the old file system whole; a session cut short loses only the files it does not hold; what imapid
says about a medium is what xorriso says."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, ERR, JOB, Harness, Master, expect_dbus_error, glib_connection,  # noqa: E402
                       run_tests, stash_dirs, wait_until)
from mediatest import (S_OK, OVERWRITEABLE, Disc, folder, media_info, assert_status_agrees,  # noqa: E402
                       burn_ctl, in_parallel, with_media, start_burn, jobs, write)

import dbus  # noqa: E402


def test_three_burns_keep_everything():
    in_parallel(three_burns, OVERWRITEABLE)


def three_burns(emulator):
    with with_media(emulator) as h:
        disc = Disc(h, emulator)
        assert_status_agrees(h, disc)
        want = {}
        for i, (name, size) in enumerate((("one", 3 * 1024 * 1024 + 5), ("two", 17), ("three", 700000))):
            src, files = folder(h, name, {"data.bin": os.urandom(size), "sub/note.txt": name.encode()})
            burn_ctl(h, disc, src)
            want.update(files)
            assert_status_agrees(h, disc)
            _, sessions, _, _ = disc.toc()
            assert len(sessions) == i + 1, (disc.name, sessions)
            got = disc.extract(os.path.join(h.tmp, f"out{i}"))
            assert got == want, (disc.name, i, sorted(got), sorted(want))
        # Starting over is asked for: only the last folder is left, an image file holds no
        # more than the new file system.
        src, files = folder(h, "last", {"only.txt": b"alone\n"})
        burn_ctl(h, disc, src, "--replace")
        assert_status_agrees(h, disc)
        assert disc.extract(os.path.join(h.tmp, "out-replaced")) == files, disc.name
        _, sessions, _, _ = disc.toc()
        assert len(sessions) == 1, sessions
        if not disc.emulated:
            start, blocks = sessions[0]
            assert os.path.getsize(h.images[0]) == (start + blocks) * 2048, os.path.getsize(h.images[0])
        assert stash_dirs(h) == []


def test_foreign_and_damaged_refused():
    """A medium imapid cannot add to is refused by name before anything is staged, and not a byte
    of it is written; with replace it is written over."""
    in_parallel(lambda c: refused(*c), [(e, i) for e in (["--media", "dvd+rw"], None) for i in range(2)])


def refused(emulator, case):
    cases = [
        # data that is not ISO 9660 where the volume descriptors would be
        ("foreign", "IMAPI_E_MEDIUM_INVALIDTYPE", lambda h, disc: scribble(h, disc, 16, os.urandom(2048))),
        # an ISO 9660 volume whose root directory lies beyond the end of the medium
        ("damaged", "IMAPI_E_DISCINFO", lambda h, disc: damage_root(h, disc)),
    ]
    what, error, spoil = cases[case]
    with with_media(emulator) as h:
        disc = Disc(h, emulator)
        src, _ = folder(h, "first", {"a.txt": b"first\n"})
        burn_ctl(h, disc, src)
        spoil(h, disc)
        before = disc.content_digest()
        status, *_ = media_info(h, disc)
        assert status == ("closed" if what == "foreign" else "appendable"), (what, status)
        m = Master(h.dbus(), recorder=None)
        e = expect_dbus_error(ERR + error, m.dm.SetActiveDiscRecorder, disc.path, {})
        assert "replace" in e.get_dbus_message(), e.get_dbus_message()
        r = burn_ctl(h, disc, src, check=1)
        assert ": " + ERR + error + ": 0x" in r.stderr and "--replace" in r.stderr, r.stderr
        assert "SetActiveDiscRecorder" in r.stderr, "refused before anything is staged: " + r.stderr
        assert disc.content_digest() == before, (disc.name, what)
        # the open master holds nothing; imapictl's is gone with its stash
        stash = "master-%s.stash" % m.path.rsplit("/", 1)[1]
        assert stash_dirs(h) == [stash] and os.listdir(os.path.join(h.stash, stash)) == [], stash_dirs(h)
        m.dm.Close({})
        src2, files = folder(h, "new", {"b.txt": b"new\n"})
        burn_ctl(h, disc, src2, "--replace")
        assert disc.extract(os.path.join(h.tmp, "out")) == files


def scribble(h, disc, lba, data):
    path = disc.h.emu_file("sr0", "track-01.bin") if disc.emulated else h.images[0]
    with open(path, "r+b") as f:
        f.seek(lba * 2048)
        f.write(data)


def damage_root(h, disc):
    """Points the head's root directory record far beyond the end of what the medium holds."""
    path = disc.h.emu_file("sr0", "track-01.bin") if disc.emulated else h.images[0]
    with open(path, "r+b") as f:
        f.seek(16 * 2048 + 156 + 2)
        far = 0x7000000
        f.write(far.to_bytes(4, "little") + far.to_bytes(4, "big"))


def test_interrupted_append_keeps_old():
    """An append stopped half-way (cancel, the drive removed, imapid killed) leaves the file system
    that was there whole and readable, before and after imapid starts again."""
    # an image file cannot be unplugged
    in_parallel(lambda c: interrupted_append(*c), [(e, how) for e in OVERWRITEABLE
                                                   for how in ("cancel", "removed", "kill") if e or how != "removed"])


def interrupted_append(emulator, how):
    big = os.urandom(6 * 1024 * 1024)
    slow = emulator + ["--write-rate", "1000"] if emulator else None
    with with_media(slow) as h:
        disc = Disc(h, emulator)
        src, first = folder(h, "first", {"a.bin": os.urandom(300000), "b.txt": b"keep me\n"})
        burn_ctl(h, disc, src)
        before = media_info(h, disc)
        m = Master(h.dbus())
        m.add([("big.bin", write(h, "big.bin", big))])
        options = {} if disc.emulated else {"write_speed_kbps": dbus.Int32(1000)}
        job = start_burn(h, m, 0.4, options)
        if how == "cancel":
            dbus.Interface(h.dbus().get_object(BUS_NAME, job), JOB).Cancel({})
        elif how == "removed":
            h.emu("--fault", "removed")
        else:
            h.kill_daemon()
        if how != "kill":
            wait_until(lambda: not jobs(h), "the job to end", timeout=120)
            h.stop_daemon()
        if how == "removed":
            h.emu("--no-faults")
        h.emulator = []     # the same disc: insert no new one when imapid starts again
        h.start_daemon()
        wait_until(lambda: media_info(h, disc)[0] != "", "the recorder", timeout=60)
        assert media_info(h, disc)[:4] == before[:4], (disc.name, how, media_info(h, disc), before)
        assert_status_agrees(h, disc)
        assert disc.extract(os.path.join(h.tmp, "out")) == first, (disc.name, how)


def test_session_cut_short():
    """A DVD-R whose burn was cancelled a third of the way has a track shorter than its file system.
    The next burn leaves out the files the disc does not hold whole, says which, and nothing reads
    back other data than was burned."""
    with Harness(emulator=["--media", "dvd-r", "--write-rate", "2000"]) as h:
        disc = Disc(h, ["--media", "dvd-r"])
        bus = h.dbus()
        m = Master(bus)
        small = os.urandom(100000)
        m.add([("a-first.bin", write(h, "first.bin", small)), ("big.bin", write(h, "big.bin", os.urandom(12 << 20)))])
        job = start_burn(h, m, 0.35, {"verify": False})
        dbus.Interface(bus.get_object(BUS_NAME, job), JOB).Cancel({})
        wait_until(lambda: not jobs(h), "the cancelled job to end", timeout=120)
        m.dm.Close({})
        h.emu("--write-rate", "0")
        x = disc.xorriso("-indev", "/dev/sr0", "-toc", check=False)
        assert "larger than track size" in x.stdout + x.stderr, x.stdout + x.stderr
        gbus = glib_connection(h)
        m2 = Master(gbus)
        m2.add([("new.txt", write(h, "new.txt", b"second session\n"))])
        hr, _, completed = m2.record()
        assert hr == S_OK, (hex(hr), completed)
        assert "big.bin" in completed[1] and "left out" in completed[1], completed
        got = disc.extract(os.path.join(h.tmp, "out"))
        assert got == {"a-first.bin": small, "new.txt": b"second session\n"}, sorted(got)


if __name__ == "__main__":
    run_tests([test_three_burns_keep_everything, test_foreign_and_damaged_refused, test_interrupted_append_keeps_old,
               test_session_cut_short])
