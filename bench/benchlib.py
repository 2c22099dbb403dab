# SPDX-License-Identifier: LGPL-2.1-or-later
"""What bench/run and bench/starve share: generated trees, imapid on a private bus, and running
commands."""

import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
MIB = 1 << 20
GIB = 1 << 30


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def run(cmd, **kw):
    """Runs a command, raising BenchError with its output when it fails."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    if p.returncode != 0:
        out = p.stdout.decode(errors="replace")[-3000:]
        raise BenchError(f"{' '.join(map(shlex.quote, cmd))} failed ({p.returncode}):\n{out}")
    return p.stdout.decode(errors="replace")


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------------------------
# the trees

class TreeGen:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def file(self, path, size):
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, MIB)
                f.write(self.rng.randbytes(n))
                left -= n

    def mixed(self, root, total):
        """A few large files (half the bytes), many medium ones (64 KiB-2 MiB, 40%) and many
        small ones (1-32 KiB, 10%), 40 entries to a folder, two levels deep."""
        os.makedirs(root)
        sizes = []
        large = total // 2
        for part in (0.4, 0.3, 0.2, 0.1):
            sizes.append(("large", int(large * part)))
        left = total * 4 // 10
        while left > 0:
            s = min(left, self.rng.randint(64 << 10, 2 * MIB))
            sizes.append(("medium", s))
            left -= s
        left = total - sum(s for _, s in sizes)
        while left > 0:
            s = min(left, self.rng.randint(1 << 10, 32 << 10))
            sizes.append(("small", s))
            left -= s
        self.rng.shuffle(sizes)
        files = 0
        for i, (kind, size) in enumerate(sizes):
            d = os.path.join(root, f"d{i // 1600:02d}", f"e{(i // 40) % 40:02d}")
            os.makedirs(d, exist_ok=True)
            self.file(os.path.join(d, f"{kind}{i:05d}.bin"), size)
            files += 1
        return files, sum(s for _, s in sizes)

    def small(self, root, count):
        """COUNT files of 256 B-4 KiB, 100 to a folder, folders 100 to a parent folder."""
        os.makedirs(root)
        total = 0
        for i in range(count):
            d = os.path.join(root, f"p{i // 10000:03d}", f"q{(i // 100) % 100:02d}")
            if i % 100 == 0:
                os.makedirs(d, exist_ok=True)
            size = self.rng.randint(256, 4096)
            with open(os.path.join(d, f"f{i:06d}.dat"), "wb") as f:
                f.write(self.rng.randbytes(size))
            total += size
        return count, total

    def sparse(self, root, total):
        """Files of at most 1 GiB adding up to TOTAL bytes, each with 1 MiB of random data at
        both ends and a hole between."""
        os.makedirs(root)
        n = 0
        while total > 0:
            size = min(total, GIB)
            path = os.path.join(root, f"sparse{n}.img")
            with open(path, "wb") as f:
                head = min(size, MIB)
                f.write(self.rng.randbytes(head))
                if size > 2 * MIB:
                    f.seek(size - MIB)
                    f.write(self.rng.randbytes(MIB))
                f.truncate(size)
            total -= size
            n += 1
        return n


def tree_disk_usage(root):
    """The allocated bytes of the files under root (directories not counted). A file or folder
    that goes while it is walked (a stash being emptied) counts as nothing."""
    total = 0
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        pass
        except OSError:
            pass
    return total


# ---------------------------------------------------------------------------------------------
# imapid on a private bus

class Daemon:
    """A private dbus-daemon with imapid on it. The recorder is an image file in the scratch
    directory, or with emulator (the wrapper command of tests/mmcemu: run, --lib, --state) the
    emulated drives that imapid's hardware scan finds."""

    def __init__(self, build, scratch, log_level, suffix="", emulator=None):
        self.build = build
        self.emulator = emulator
        self.scratch = scratch
        self.socket = os.path.join(scratch, "bus" + suffix)
        self.address = "unix:path=" + self.socket
        self.stash = os.path.join(scratch, "stash" + suffix)
        self.disc = os.path.join(scratch, "disc.iso")
        self.log_path = os.path.join(scratch, f"imapid{suffix}.log")
        self.suffix = suffix
        self.log_level = log_level
        self.bus = None
        self.proc = None
        self.reference = None
        self.log_thread = None
        self.t0 = time.monotonic()

    def start(self):
        os.makedirs(self.stash)
        with open(os.path.join(SRC, "tests", "data", "bus.conf.in")) as f:
            conf = f.read().replace("@SOCKET@", self.socket)
        conf_path = os.path.join(self.scratch, f"bus{self.suffix}.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        self.bus = subprocess.Popen(["dbus-daemon", "--nofork", "--config-file=" + conf_path, "--print-address=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not self.bus.stdout.readline():
            raise BenchError("dbus-daemon did not start")
        args = [os.path.join(self.build, "daemon", "imapid"), "--bus-address=" + self.address,
                "--stash-dir=" + self.stash, "--no-default-drive", "--config=/dev/null",
                "--log-level=" + self.log_level]
        if self.emulator:
            args = self.emulator + ["--"] + args
        else:
            args += ["--no-scan", "--drive=stdio:" + self.disc]
        self.log_file = open(self.log_path, "w")
        self.log_lock = threading.Lock()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log_thread = threading.Thread(target=self._log, daemon=True)
        self.log_thread.start()
        deadline = time.monotonic() + 30
        while subprocess.run(["busctl", "--address=" + self.address, "status", "org.imapid.Imapi1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"imapid did not start; see its log:\n{self.tail()}")
            time.sleep(0.05)
        # The reference service, on the same bus for the whole of imapid's life (bench/latency.py).
        self.reference = subprocess.Popen([os.path.join(self.build, "bench", "ref-service"),
                                           "--address=" + self.address], stderr=subprocess.PIPE)
        if self.reference.stderr.readline().strip() != b"ready":
            raise BenchError("bench/ref-service did not start")

    def _log(self):
        # Each line stamped on arrival (seconds since the daemon started, monotonic clock).
        for line in self.proc.stderr:
            self._write(f"{time.monotonic() - self.t0:10.4f} {line.decode(errors='replace')}")

    def _write(self, text):
        with self.log_lock:
            self.log_file.write(text)
            self.log_file.flush()

    def mark(self, text):
        """A line of text in the log; returns where it begins there, for reading on from it."""
        with self.log_lock:
            at = self.log_file.tell()
            self.log_file.write(f"{time.monotonic() - self.t0:10.4f} ---- {text} (monotonic {time.monotonic():.4f})\n")
            self.log_file.flush()
        return at

    def tail(self, n=40):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def status(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def cpu_times(self):
        """The daemon's (user, system) CPU seconds so far, all its threads."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def io(self):
        out = {}
        try:
            with open(f"/proc/{self.proc.pid}/io") as f:
                for line in f:
                    k, v = line.split(":")
                    out[k] = int(v)
        except OSError:
            pass
        return out

    def reset_peak(self):
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def stop(self):
        if self.reference and self.reference.poll() is None:
            self.reference.terminate()
            self.reference.wait(timeout=10)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_thread:
            self.log_thread.join(timeout=5)
            self.log_file.close()
        if self.bus and self.bus.poll() is None:
            self.bus.terminate()
            self.bus.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# the benchmark
