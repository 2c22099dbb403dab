# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the emulator tests of media: a disc (an emulated drive or an image file) with what
stock xorriso and imapid say about it, folders to burn, running cases side by side."""

import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, JOB, PROPS, ROOT, Harness, wait_until)  # noqa: E402

import dbus  # noqa: E402

REC = "org.imapid.Imapi1.Recorder"
MGR = "org.imapid.Imapi1.Manager"
SR0 = ROOT + "/recorders/sr0"
STDIO0 = ROOT + "/recorders/stdio0"
S_OK, USERABORT, DEVICE_NOTPRESENT, MEDIUM_NOTPRESENT, WRONGDISC = 0, 0x8004020D, 0x80040213, 0x8004020F, 0x80040223
EXIT_UNAVAILABLE = 3

# Every kind of medium that is written in place, as the emulator or an image file.
OVERWRITEABLE = (["--media", "dvd+rw"], ["--media", "bd-re"], ["--media", "dvd-rw-ro"], None)


class Disc:
    """One test medium: an emulated drive (emulator options) or an image file (None)."""

    def __init__(self, h, emulator):
        self.h = h
        self.emulated = emulator is not None
        self.path = SR0 if self.emulated else STDIO0
        self.name = emulator[1] if self.emulated else "image file"

    def xorriso(self, *args, check=True):
        if self.emulated:
            return self.h.emu_run("xorriso", *args, check=check)
        args = [a.replace("/dev/sr0", "stdio:" + self.h.images[0]) for a in args]
        return subprocess.run(["xorriso", *args], check=check, capture_output=True, text=True)

    def toc(self):
        """What stock xorriso sees: status, [(start, blocks)], next writable address, writable blocks."""
        out = self.xorriso("-indev", "/dev/sr0", "-toc", check=False).stdout
        status = re.search(r"Media status : (.*)", out)
        sessions = [(int(a), int(b)) for a, b in re.findall(r"ISO session\s*:\s*\d+ ,\s*(\d+) ,\s*(\d+)s", out)]
        nwa = re.search(r"Media nwa\s*:\s*(\d+)s", out)
        writable = re.search(r"Media blocks :.*?(\d+) writable", out)
        return (status.group(1).strip() if status else "", sessions, int(nwa.group(1)) if nwa else None,
                int(writable.group(1)) if writable else None)

    def extract(self, out):
        self.xorriso("-abort_on", "FAILURE", "-indev", "/dev/sr0", "-osirrox", "on", "-extract", "/", out)
        return tree(out)

    def content_digest(self):
        """Every byte the medium holds, to show that nothing was written."""
        d = hashlib.sha256()
        files = ([os.path.join(self.h.emu_state, "sr0", f) for f in sorted(os.listdir(self.h.emu_file("sr0")))
                  if f.startswith("track-")] if self.emulated else [self.h.images[0]])
        for f in files:
            if os.path.exists(f):
                with open(f, "rb") as fh:
                    d.update(fh.read())
        return d.hexdigest()


def tree(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                out[os.path.relpath(os.path.join(dirpath, f), root)] = fh.read()
    return out


def folder(h, name, files):
    """A folder of files to burn: {relative path: bytes}."""
    root = os.path.join(h.tmp, "src-" + name)
    for rel, data in files.items():
        p = os.path.join(root, name, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return os.path.join(root, name), {os.path.join(name, rel): data for rel, data in files.items()}


def media_info(h, disc):
    """(MediaStatus, sessions, start address, next writable, free blocks), as a client gets them."""
    bus = h.dbus()
    r = dbus.Interface(bus.get_object(BUS_NAME, disc.path), REC)
    r.OpenExclusive({})
    try:
        info = tuple(int(x) for x in r.QueryMediaInfo())
        status = str(bus.get_object(BUS_NAME, disc.path).Get(REC, "MediaStatus", dbus_interface=PROPS))
    finally:
        r.Close({})
    return (status,) + (info[0], info[2], info[3], info[4])


def fs_free_blocks(path):
    """The free space of path's file system, in 2048-byte blocks."""
    st = os.statvfs(os.path.dirname(path))
    return st.f_bavail * st.f_frsize // 2048


def assert_status_agrees(h, disc):
    """imapid's QueryMediaInfo and MediaStatus say what stock xorriso says of the same medium."""
    before = None if disc.emulated else fs_free_blocks(h.images[0])
    status, sessions, start, nwa, free = media_info(h, disc)
    between = None if disc.emulated else fs_free_blocks(h.images[0])
    x_status, x_sessions, x_nwa, x_writable = disc.toc()
    after = None if disc.emulated else fs_free_blocks(h.images[0])
    where = (f"{disc.name}: imapid {status, sessions, start, nwa, free}, "
             f"xorriso {x_status, x_sessions, x_nwa, x_writable}")
    assert ("blank" in x_status) == (status == "blank"), where
    assert ("appendable" in x_status) == (status == "appendable"), where
    assert sessions == len(x_sessions), where
    if x_sessions:
        assert start == x_sessions[-1][0], where
    if x_nwa is not None:
        assert nwa == x_nwa, where
    # An image file's free space is its file system's, which moves meanwhile (the other tests
    # of the suite write beside it): as much as it was seen to move, and 1 MiB.
    slack = 0 if disc.emulated else 512 + max(before, between, after) - min(before, between, after)
    assert x_writable is not None and abs(free - x_writable) <= slack, where


def burn_ctl(h, disc, src, *options, check=0):
    r = h.ctl("burn", "--recorder=" + disc.path, *options, src, check=check, timeout=300)
    return r


def in_parallel(fn, cases):
    """fn(case) for every case, a few at a time: each has a harness of its own, and most of the
    time goes to libburn's waits for the drive."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for f in [pool.submit(fn, c) for c in cases]:
            f.result()


# Runs one case in a process of its own: the test file (imported, not run), the function, its
# arguments as JSON.
ONE_CASE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("cases", sys.argv[1])
cases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cases)
getattr(cases, sys.argv[2])(*json.loads(sys.argv[3]))
"""


def in_processes(fn, cases):
    """fn(*case) for every case, side by side, each in a process of its own: for a fn that waits
    for its job's signals on the GLib main loop, which a process has one of (in_parallel's threads
    would share it). fn is a function at the top of its test file; the arguments go as JSON. A
    case that fails raises, with its output."""
    path = os.path.abspath(sys.modules[fn.__module__].__file__)

    def one(case):
        r = subprocess.run([sys.executable, "-c", ONE_CASE, path, fn.__name__, json.dumps(case)],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError(f"{fn.__name__}{tuple(case)} failed:\n{r.stdout}{r.stderr}")
    in_parallel(one, cases)


def with_media(emulator, **kw):
    if emulator is None:
        return Harness(**kw)
    return Harness(emulator=emulator, **kw)


def job_props(bus, job):
    return bus.get_object(BUS_NAME, job).GetAll(JOB, dbus_interface=PROPS)


def start_burn(h, m, written, options=None):
    """RecordDisc, then wait until that share of the image is written. Returns the job path."""
    job = str(m.dm.RecordDisc(False, False, options or {}))
    bus = h.dbus()
    # The job's Progress counts laying the image out as its first 2 %, and with verification the
    # write as the next 83 %.
    share = 0.83 if options is None or options.get("verify", True) else 0.98
    wait_until(lambda: job_props(bus, job)["Phase"] == "writing" and
               job_props(bus, job)["Progress"] > 0.02 + share * written, "the write to get under way", timeout=120)
    return job


def jobs(h):
    return list(dbus.Interface(h.dbus().get_object(BUS_NAME, ROOT + "/Manager"), MGR).GetJobs())


def write(h, name, data):
    p = os.path.join(h.tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p
