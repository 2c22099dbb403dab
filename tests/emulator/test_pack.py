#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small files in the stash: where the stash's file system cannot clone, small files share one
data file of the stash, so that many of them take no more than they take in the image. A batch
that fails partway leaves the stash exactly as it was, a replaced small file burns with its new
content, a staged copy cut short behind imapid's back is named, and ClearFormatContent and Close
leave nothing behind."""

import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (ERR, JOLIET, Harness, Master, expect_dbus_error, glib_connection, run_tests,  # noqa: E402
                       same_bytes, stash_dirs, wait_until)
from mediatest import S_OK, Disc, folder, write  # noqa: E402

import dbus  # noqa: E402

FILEACCESS = 0x80040218


def stash_files(h):
    """{path under the stash: (size, allocated bytes, sha256)} of every file there."""
    out = {}
    for top, _, files in os.walk(h.stash):
        for f in files:
            p = os.path.join(top, f)
            st = os.lstat(p)
            with open(p, "rb") as fp:
                digest = hashlib.sha256(fp.read()).hexdigest()
            out[os.path.relpath(p, h.stash)] = (st.st_size, st.st_blocks * 512, digest)
    return out


def small_files(seed, n):
    rnd = __import__("random").Random(seed)
    return {f"d{i % 5}/f{i:04d}.txt": os.urandom(rnd.randint(1, 4096)) for i in range(n)}


def add_folder(m, src):
    entries = [(os.path.relpath(os.path.join(top, f), os.path.dirname(src)), os.path.join(top, f))
               for top, _, names in os.walk(src) for f in sorted(names)]
    for i in range(0, len(entries), 16):
        m.add(entries[i:i + 16])


def add_with_unreadable(m, entries, bad_index, bad_path):
    """AddData of entries with the fd at bad_index open for writing only: it passes every check
    of the call and fails when it is copied."""
    fds, batch = [], []
    try:
        for i, (name, path) in enumerate(entries):
            fd = os.open(bad_path if i == bad_index else path, os.O_WRONLY if i == bad_index else os.O_RDONLY)
            fds.append(fd)
            batch.append((name, dbus.types.UnixFd(fd)))
        return m.joliet.AddData(batch, False, {})
    finally:
        for fd in fds:
            os.close(fd)


def test_small_files_take_what_they_take_in_the_image():
    """600 files of 1 B to 4 KiB: the stash holds no more than 1.1 times the image they make."""
    with Harness() as h:
        m = Master(glib_connection(h))
        src, files = folder(h, "small", small_files(1, 600))
        add_folder(m, src)
        used = sum(b for _, b, _ in stash_files(h).values())
        hr, _, completed = m.record(options={"keep": True})
        assert hr == S_OK, (hex(hr), completed)
        image = os.path.getsize(h.images[0]) - 32 * 2048
        assert used <= 1.1 * image, (used, image)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == files


def test_failed_batch_leaves_the_stash_as_it_was():
    """One unreadable fd among 16 small files fails AddData by name; the stash's files, the used
    blocks and what burns are those of the batches before. A first batch that fails leaves the
    stash empty."""
    with Harness() as h:
        m = Master(glib_connection(h))
        src, first = folder(h, "one", small_files(2, 16))
        bad = write(h, "bad.txt", b"x" * 3000)
        entries = [(p, os.path.join(os.path.dirname(src), p)) for p in first]
        e = expect_dbus_error(ERR + "IMAPI_E_FILEACCESS", add_with_unreadable, m, entries, 5, bad)
        assert entries[5][0] in e.get_dbus_message(), e.get_dbus_message()
        (d,) = stash_dirs(h)
        assert os.listdir(os.path.join(h.stash, d)) == []
        assert m.prop("UsedDataBlocks", JOLIET) == 0

        m.add(entries)
        before, used = stash_files(h), m.prop("UsedDataBlocks", JOLIET)
        src2, second = folder(h, "two", small_files(3, 16))
        entries2 = [(p, os.path.join(os.path.dirname(src2), p)) for p in second]
        e = expect_dbus_error(ERR + "IMAPI_E_FILEACCESS", add_with_unreadable, m, entries2, 11, bad)
        assert entries2[11][0] in e.get_dbus_message(), e.get_dbus_message()
        assert stash_files(h) == before
        assert m.prop("UsedDataBlocks", JOLIET) == used
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == first


def test_replaced_small_file_burns_new_content():
    """A small file replaced with overwrite burns with its new content, twice the same; the old
    bytes are counted until ClearFormatContent, which empties the stash; Close removes it."""
    with Harness(drives=2) as h:
        m = Master(glib_connection(h))
        m.add([("a.txt", write(h, "a1", b"old " * 300)), ("b.txt", write(h, "b", b"bee\n"))])
        m.add([("a.txt", write(h, "a2", b"new content\n"))], overwrite=True)
        hr, _, completed = m.record(options={"keep": True})
        assert hr == S_OK, (hex(hr), completed)
        assert Disc(h, None).extract(os.path.join(h.tmp, "out")) == {"a.txt": b"new content\n",
                                                                     "b.txt": b"bee\n"}
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[1], {})
        hr, _, completed = m.record(options={"keep": True})
        assert hr == S_OK, (hex(hr), completed)
        assert same_bytes(h.images[0], h.images[1]), "the two copies differ"
        m.dm.ClearFormatContent({})
        (d,) = stash_dirs(h)
        assert os.listdir(os.path.join(h.stash, d)) == []
        m.add([("c.txt", write(h, "c", b"sea\n"))])
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


def test_cut_short_staged_data_is_named():
    """The stash's data cut short behind imapid's back fails the burn with FILEACCESS naming a
    file whose bytes are gone."""
    with Harness() as h:
        m = Master(glib_connection(h))
        src, files = folder(h, "cut", {f"f{i}.txt": bytes([65 + i]) * 3000 for i in range(8)})
        add_folder(m, src)
        (d,) = stash_dirs(h)
        big = max(stash_files(h).items(), key=lambda kv: kv[1][0])
        os.truncate(os.path.join(h.stash, big[0]), big[1][0] // 2)
        hr, _, completed = m.record()
        assert hr == FILEACCESS, (hex(hr), completed)
        assert any(f'"{n}"' in completed[1] for n in files), completed


if __name__ == "__main__":
    run_tests([test_small_files_take_what_they_take_in_the_image, test_failed_batch_leaves_the_stash_as_it_was,
               test_replaced_small_file_burns_new_content, test_cut_short_staged_data_is_named])
