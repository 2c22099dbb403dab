# SPDX-License-Identifier: LGPL-2.1-or-later
"""How much disk imapid's stash takes during a burn, sampled, and the file systems it is
measured on: the scratch directory's own, and a loop-mounted btrfs with reflinks.

On a file system of its own (the loop-mounted one, which nothing else writes to) the stash's
use is the file system's used space above what it was before the burn, less the recorder's
image file, which is written there too: statvfs() is cheap and counts shared extents once,
which a walk of the files cannot. On the scratch directory's file system, which other programs
may write to, the stash directory is walked instead and its files' allocated blocks summed.
"""

import os
import shutil
import subprocess
import threading
import time

from benchlib import tree_disk_usage


def used_bytes(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def allocated(path):
    try:
        return os.lstat(path).st_blocks * 512
    except OSError:
        return 0


class StashSampler:
    """Samples the stash's disk use every interval seconds until stopped; peak is the largest."""

    def __init__(self, stash, disc, own_fs, interval):
        self.stash, self.disc, self.own_fs, self.interval = stash, disc, own_fs, interval
        self.base = used_bytes(stash) if own_fs else 0
        self.samples = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        if self.own_fs:
            return max(0, used_bytes(self.stash) - self.base - allocated(self.disc))
        return tree_disk_usage(self.stash)

    def _run(self):
        while not self.stop_flag:
            self.samples.append((time.monotonic(), self.sample()))
            time.sleep(self.interval)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_flag = True
        self.thread.join()
        return max((b for _, b in self.samples), default=0)


class LoopFs:
    """A btrfs made in a sparse file of the scratch directory and loop-mounted there: a file
    system with reflinks, for the runs that need one. Needs root, losetup and mkfs.btrfs."""

    def __init__(self, scratch, size_bytes):
        self.image = os.path.join(scratch, "reflink-fs.img")
        self.mnt = os.path.join(scratch, "reflink-fs")
        self.size = size_bytes
        self.mounted = False

    @staticmethod
    def unavailable():
        """Why it cannot be made here, or None."""
        if os.geteuid() != 0:
            return "needs root (mount)"
        for tool in ("mkfs.btrfs", "mount", "umount"):
            if not shutil.which(tool):
                return f"needs {tool} (btrfs-progs, util-linux)"
        return None

    def setup(self):
        with open(self.image, "wb") as f:
            f.truncate(self.size)
        subprocess.run(["mkfs.btrfs", "-q", "-f", self.image], check=True, capture_output=True)
        os.makedirs(self.mnt)
        subprocess.run(["mount", "-o", "loop", self.image, self.mnt], check=True, capture_output=True)
        self.mounted = True
        return self.mnt

    def teardown(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], capture_output=True)
            self.mounted = False
        for p in (self.image,):
            if os.path.exists(p):
                os.unlink(p)
        if os.path.isdir(self.mnt):
            os.rmdir(self.mnt)
