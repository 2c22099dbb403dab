#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One pass over the data: a data burn writes the image as libisofs generates it from the staged
files, with no image file in the stash, and verifies against checksums taken on the way. The stash
holds no more than the staged data during the whole burn; a second copy of the same master is the
same disc, byte for byte, without staging again; a cancelled burn is retried from the stash; a
block the drive recorded wrongly is found and named; a staged file that cannot be read is named,
and the master works again once it is replaced."""

import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (JOLIET, Harness, Master, cancel_in_phase, glib_connection, run_tests, same_bytes,  # noqa: E402
                       stash_dirs)
from mediatest import S_OK, USERABORT, Disc, folder, tree, write  # noqa: E402

import dbus  # noqa: E402

FILEACCESS, CANNOT_WRITE_TO_MEDIA = 0x80040218, 0x8004022C


def stash_inodes(h):
    """{path under the stash: (inode, allocated bytes)} of every file there."""
    out = {}
    for top, _, files in os.walk(h.stash):
        for f in files:
            p = os.path.join(top, f)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            out[os.path.relpath(p, h.stash)] = (st.st_ino, st.st_blocks * 512)
    return out


def generated_tree(h, name="tree"):
    """A few hundred files of random sizes in nested folders, and two larger ones."""
    rnd = __import__("random").Random(15)
    files = {}
    for i in range(300):
        files[f"d{i % 7}/sub{i % 3}/f{i:03d}.bin"] = os.urandom(rnd.randint(20_000, 200_000))
    files["large/one.bin"] = os.urandom(6 << 20)
    files["large/two.bin"] = os.urandom(5 << 20)
    return folder(h, name, files)


def add_tree(m, src):
    """Every file of the folder, named as folder() names them (with the folder's name), in batches
    of 16 (the test bus's limit of fds per message)."""
    entries = [(os.path.relpath(os.path.join(top, f), os.path.dirname(src)), os.path.join(top, f))
               for top, _, names in os.walk(src) for f in names]
    for i in range(0, len(entries), 16):
        m.add(entries[i:i + 16])


def test_stash_holds_only_the_staged_data():
    """Sampled through the whole burn, the stash never holds more than 1.1 times the image, and no
    file appears in it that AddData did not stage."""
    with Harness() as h:
        m = Master(glib_connection(h))
        src, files = generated_tree(h)
        add_tree(m, src)
        staged = stash_inodes(h)
        # the staged copies hold the data (small files may share one file of the stash)
        assert sum(b for _, b in staged.values()) >= sum(len(d) for d in files.values()), staged
        peak, new_files, stop = [0], set(), threading.Event()

        def sample():
            while not stop.is_set():
                now = stash_inodes(h)
                peak[0] = max(peak[0], sum(b for _, b in now.values()))
                new_files.update(set(now) - set(staged))
                stop.wait(0.02)
        t = threading.Thread(target=sample)
        t.start()
        try:
            # paced, so that the sampler sees the whole write
            hr, _, completed = m.record(options={"write_speed_kbps": dbus.UInt32(15000)})
        finally:
            stop.set()
            t.join()
        assert hr == S_OK, (hex(hr), completed)
        # the new file system starts at block 32 of the image file (after its head)
        image = os.path.getsize(h.images[0]) - 32 * 2048
        assert image > sum(len(d) for d in files.values()), image
        assert not new_files, sorted(new_files)
        assert peak[0] <= 1.1 * image, (peak[0], image)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == files


def test_second_copy_is_the_same_disc():
    """RecordDisc with keep, then RecordDisc on a second recorder: two identical discs, and nothing
    staged again in between (the stash's files are the same files)."""
    with Harness(drives=2) as h:
        m = Master(glib_connection(h))
        src, files = generated_tree(h)
        add_tree(m, src)
        before = stash_inodes(h)
        hr, _, completed = m.record(options={"keep": True})
        assert hr == S_OK, (hex(hr), completed)
        assert m.prop("UsedDataBlocks", JOLIET) > 0
        assert stash_inodes(h) == before
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[1], {})
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert same_bytes(h.images[0], h.images[1]), "the two copies differ"
        # the second burn was an ordinary one: the stash is empty now
        assert m.prop("UsedDataBlocks", JOLIET) == 0
        out = os.path.join(h.tmp, "out")
        subprocess.run(["xorriso", "-abort_on", "FAILURE", "-indev", h.images[1], "-osirrox", "on",
                        "-extract", "/", out], check=True, capture_output=True)
        assert tree(out) == files


def test_second_copy_with_adapted_names_and_boot_image():
    """The same with what adds nodes of its own to the image: Joliet names adapted for Windows
    (twins of files and folders) and an El Torito boot image with its catalog. The two copies
    are the same disc, and each boots the same image."""
    with Harness(drives=2) as h:
        m = Master(glib_connection(h))
        m.joliet.SetJolietProperties({"StrictJolietNames": False})
        src, files = folder(h, "names", {"what?.txt": b"q\n", "x" * 120 + ".dat": os.urandom(70_000),
                                         "deep:dir/a|b.bin": os.urandom(9000), "Readme": b"1", "README": b"2"})
        add_tree(m, src)
        boot = os.urandom(4 * 2048)
        path = write(h, "boot.img", boot)
        fd = os.open(path, os.O_RDONLY)
        try:
            m.joliet.SetBootImage(dbus.types.UnixFd(fd), {})
        finally:
            os.close(fd)
        m.joliet.SetJolietProperties({"PlaceBootImageOnDisc": True})
        assert len(m.joliet.GetAdaptedNames()) >= 4
        hr, _, completed = m.record(options={"keep": True})
        assert hr == S_OK, (hex(hr), completed)
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[1], {})
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert same_bytes(h.images[0], h.images[1]), "the two copies differ"
        for i, image in enumerate(h.images[:2]):
            out = os.path.join(h.tmp, f"boot{i}")
            subprocess.run(["xorriso", "-abort_on", "FAILURE", "-osirrox", "on", "-indev", image,
                            "-extract_boot_images", out], check=True, capture_output=True)
            got = [os.path.join(out, f) for f in os.listdir(out) if "catalog" not in f]
            assert len(got) == 1, os.listdir(out)
            with open(got[0], "rb") as f:
                assert f.read()[:len(boot)] == boot
            disc = os.path.join(h.tmp, f"out{i}")
            subprocess.run(["xorriso", "-abort_on", "FAILURE", "-indev", image, "-osirrox", "on",
                            "-extract", "/", disc], check=True, capture_output=True)
            assert tree(disc) == files


def test_retry_after_cancel():
    """A burn cancelled while writing leaves the staged files as they were; RecordDisc again writes
    the whole tree from them."""
    with Harness() as h:
        m = Master(glib_connection(h))
        src, files = folder(h, "src", {"big.bin": os.urandom(24 << 20), "small.txt": b"small\n"})
        add_tree(m, src)
        before = stash_inodes(h)
        hr, _, _ = m.record(options={"write_speed_kbps": dbus.UInt32(4000)},
                            on_job=cancel_in_phase(h.dbus(), "writing"))
        assert hr == USERABORT, hex(hr)
        assert stash_inodes(h) == before
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == files


def test_verification_names_a_corrupted_block():
    """A drive that records one block wrongly and reports success: the verification fails the job
    with CANNOT_WRITE_TO_MEDIA and names that block."""
    bad = 1000
    with Harness(emulator=["--media", "dvd-r", "--fault", f"corrupt={bad}"]) as h:
        m = Master(glib_connection(h))
        m.add([("data.bin", write(h, "data.bin", os.urandom(8 << 20)))])
        hr, _, completed = m.record()
        assert hr == CANNOT_WRITE_TO_MEDIA, (hex(hr), completed)
        assert f"block {bad} " in completed[1], completed
        # without the fault the same master burns and verifies
        h.emu("--no-faults", "--media", "dvd-r")
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)


def test_unreadable_staged_file_is_named():
    """A staged copy that cannot be read (cut short behind imapid's back) fails the burn with
    FILEACCESS naming the file in the image; replaced with AddData, the same master burns."""
    with Harness() as h:
        m = Master(glib_connection(h))
        data = os.urandom(3 << 20)
        m.add([("keep.txt", write(h, "keep.txt", b"keep\n")), ("docs/bad.bin", write(h, "bad.bin", data))])
        (d,) = stash_dirs(h)
        copies = [os.path.join(h.stash, d, f) for f in os.listdir(os.path.join(h.stash, d))
                  if os.path.getsize(os.path.join(h.stash, d, f)) == len(data)]
        assert len(copies) == 1, copies
        os.truncate(copies[0], len(data) // 2)
        hr, _, completed = m.record()
        assert hr == FILEACCESS, (hex(hr), completed)
        assert '"docs/bad.bin"' in completed[1], completed
        m.add([("docs/bad.bin", write(h, "good.bin", b"good\n"))], overwrite=True)
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == {"keep.txt": b"keep\n",
                                                                     "docs/bad.bin": b"good\n"}


if __name__ == "__main__":
    run_tests([test_stash_holds_only_the_staged_data, test_second_copy_is_the_same_disc,
               test_second_copy_with_adapted_names_and_boot_image, test_retry_after_cancel,
               test_verification_names_a_corrupted_block, test_unreadable_staged_file_is_named])
