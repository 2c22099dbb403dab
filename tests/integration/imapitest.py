# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test fixture: a private dbus-daemon and a real imapid on it, torn down after the test.

Used by the Python tests directly, and by shell tests through with-imapid.py. Everything lives
in a fresh temporary directory, so tests can run in parallel.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUS_NAME = "org.imapid.Imapi1"
ROOT = "/org/imapid/Imapi1"
MANAGER = ROOT + "/Manager"
ERR = "org.imapid.Imapi1.Error."

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("IMAPI_SRCDIR", os.path.dirname(os.path.dirname(HERE)))


def build_path(name):
    """Paths of built programs, given by meson through the environment."""
    env = {"imapid": "IMAPID", "imapictl": "IMAPICTL"}[name]
    path = os.environ.get(env)
    if not path:
        sys.exit(f"{env} is not set; run the tests through 'meson test'")
    return path


def sanitizer_report(text):
    """Whether a log holds an AddressSanitizer, LeakSanitizer or UBSan report."""
    return "ERROR: AddressSanitizer" in text or "runtime error:" in text or "ERROR: LeakSanitizer" in text


class Harness:
    """A private bus with imapid on it. Use as a context manager."""

    def __init__(self, drives=1, extra_args=(), scan=False, start=True, env=None, bus_config=None, polkit=None,
                 emulator=None):
        """bus_config: the text of the bus configuration instead of tests/data/bus.conf.in ("@SOCKET@"
        stands for the socket path). polkit: None for no polkit on the bus, else a list of the
        actions python-dbusmock's polkitd template allows (see polkit_allow). emulator: options for
        tests/mmcemu/run (e.g. ["--media", "cd-r"]); imapid then finds emulated /dev/srN recorders with its
        hardware scan instead of image files."""
        self.tmp = tempfile.mkdtemp(prefix="imapid-test-")
        self.socket = os.path.join(self.tmp, "bus")
        self.address = "unix:path=" + self.socket
        self.stash = os.path.join(self.tmp, "stash")
        os.mkdir(self.stash)
        self.emulator = list(emulator) if emulator is not None else None
        self.emu_state = os.path.join(self.tmp, "emu")
        if self.emulator is not None:
            drives, scan = 0, True
        self.images = [os.path.join(self.tmp, f"disc{i}.iso") for i in range(drives)]
        self.extra_args = list(extra_args)
        self.scan = scan
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        self.env["IMAPI_BUS_ADDRESS"] = self.address
        self.bus_proc = None
        self.daemon = None
        self.daemon_log = os.path.join(self.tmp, "imapid.log")
        self._start = start
        self.bus_config = bus_config
        self.polkit = polkit
        self.polkit_proc = None

    # fixture lifetime

    def __enter__(self):
        self.start_bus()
        if self.polkit is not None:
            self.start_polkit()
        if self._start:
            self.start_daemon()
        return self

    def __exit__(self, *exc):
        try:
            self.stop_daemon()
            if exc[0] is None:
                self.check_fd_record()
        finally:
            self.stop_polkit()
            self.stop_bus()
            if exc[0] is None and not os.environ.get("IMAPI_KEEP_TMP"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            else:
                print(f"test files kept in {self.tmp}", file=sys.stderr)
        return False

    def start_bus(self):
        conf = os.path.join(self.tmp, "bus.conf")
        text = self.bus_config
        if text is None:
            with open(os.path.join(SRCDIR, "tests", "data", "bus.conf.in")) as f:
                text = f.read()
        text = text.replace("@SOCKET@", self.socket)
        with open(conf, "w") as f:
            f.write(text)
        self.bus_proc = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--config-file=" + conf, "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # The first line is printed once the bus listens.
        line = self.bus_proc.stdout.readline()
        if not line:
            raise RuntimeError("dbus-daemon did not start")

    def stop_bus(self):
        if self.bus_proc:
            self.bus_proc.terminate()
            self.bus_proc.wait(timeout=10)
            self.bus_proc = None

    def start_polkit(self):
        """A mock polkit authority (python-dbusmock's polkitd template) on the bus."""
        self.polkit_log = open(os.path.join(self.tmp, "polkitd.log"), "ab")
        self.polkit_proc = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template", "polkitd"],
                                            env=self.env, stdout=self.polkit_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while subprocess.run(["busctl", "--address=" + self.address, "status", "org.freedesktop.PolicyKit1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if self.polkit_proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock polkitd did not start")
            time.sleep(0.05)
        self.polkit_allow(self.polkit)

    def polkit_allow(self, actions):
        """Makes the mock polkit allow exactly these action ids."""
        self.polkit_mock().SetAllowed(list(actions), signature="as")

    def polkit_mock(self):
        """The mock polkit's control interface (SetAllowed, SetDelay, SimulateHang, ...)."""
        import dbus
        obj = self.dbus().get_object("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")
        return dbus.Interface(obj, "org.freedesktop.DBus.Mock")

    def stop_polkit(self):
        if self.polkit_proc:
            self.polkit_proc.terminate()
            self.polkit_proc.wait(timeout=10)
            self.polkit_proc = None
            self.polkit_log.close()

    def daemon_args(self):
        args = [build_path("imapid"), "--bus-address=" + self.address, "--stash-dir=" + self.stash,
                "--no-default-drive", "--config=/dev/null"]
        if not self.scan:
            args.append("--no-scan")
        args += ["--drive=stdio:" + p for p in self.images]
        if self.emulator is not None:
            args = self.emu_prefix() + self.emulator + ["--"] + args
        return args + self.extra_args

    # the drive emulator

    def emu_prefix(self):
        run, lib = os.environ.get("MMCEMU_RUN"), os.environ.get("MMCEMU_LIB")
        if not run or not lib:
            sys.exit("MMCEMU_RUN/MMCEMU_LIB are not set; run the tests through 'meson test'")
        return [run, "--lib", lib, "--state", self.emu_state]

    def emu(self, *options, check=True):
        """Changes the emulated drives between commands (insert a disc, set faults)."""
        return subprocess.run(self.emu_prefix() + list(options), check=check, capture_output=True, text=True)

    def emu_run(self, *command, check=True):
        """Runs a command (cdrskin, xorriso) against the emulated drives."""
        return subprocess.run(self.emu_prefix() + ["--"] + list(command), check=check, capture_output=True,
                              text=True)

    def emu_file(self, *parts):
        return os.path.join(self.emu_state, *parts)

    def emu_slowed(self, drive="sr0", ended=False):
        """The commands that imapid's threads waited for under the slow fault, as the emulator
        recorded them when the wait began (or, with ended, when it was over): [(operation code,
        on imapid's main thread)]."""
        try:
            with open(self.emu_file(drive, "slowed.log")) as f:
                lines = [line.split() for line in f]
        except FileNotFoundError:
            return []
        pid = self.daemon.pid
        return [(int(w[0], 16), int(w[2]) == pid) for w in lines
                if int(w[1]) == pid and (w[3:] == ["end"]) == ended]

    def check_fd_record(self):
        """The emulator's record of imapid's fd mistakes (MMCEMU_FDCHECK in tests/mmcemu/README.md):
        a stray close() that hit a drive's or another thread's file is a test failure, with the
        backtraces that say whose it was."""
        try:
            with open(self.emu_file("fdcheck.log"), errors="replace") as f:
                record = f.read()
        except FileNotFoundError:
            return
        assert not record, "imapid closed a file descriptor that was not its own:\n" + record

    def start_daemon(self, wait=True):
        self.log_file = open(self.daemon_log, "ab")
        env = self.env
        if self.emulator is not None:
            env = dict(env, MMCEMU_FDCHECK=self.emu_file("fdcheck.log"))
        self.daemon = subprocess.Popen(self.daemon_args(), env=env, stdout=self.log_file,
                                       stderr=subprocess.STDOUT)
        if wait:
            self.wait_for_name()

    def wait_for_name(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon and self.daemon.poll() is not None:
                raise RuntimeError(f"imapid exited with {self.daemon.returncode}:\n{self.log()}")
            r = subprocess.run(["busctl", "--address=" + self.address, "status", BUS_NAME],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("imapid did not take its bus name:\n" + self.log())

    def stop_daemon(self, expect_clean=True):
        """SIGTERM, and check that imapid exited well and its sanitizers found nothing."""
        if not self.daemon:
            return
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
                raise AssertionError("imapid did not exit on SIGTERM:\n" + self.log())
        rc = self.daemon.returncode
        self.daemon = None
        self.log_file.close()
        log = self.log()
        if sanitizer_report(log):
            raise AssertionError("sanitizer report in imapid's log:\n" + log)
        if expect_clean and rc != 0:
            raise AssertionError(f"imapid exited with {rc}:\n{log}")

    def kill_daemon(self):
        """SIGKILL, as a crash would."""
        self.daemon.kill()
        self.daemon.wait()
        self.daemon = None
        self.log_file.close()

    def log(self):
        try:
            with open(self.daemon_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # clients

    def dbus(self):
        """A new python-dbus connection to the private bus (a separate client)."""
        import dbus
        return dbus.bus.BusConnection(self.address)

    def ctl(self, *args, check=None, input=None, timeout=120):
        """Runs imapictl; returns CompletedProcess with text output."""
        r = subprocess.run([build_path("imapictl"), "--bus-address=" + self.address, *args],
                           env=self.env, capture_output=True, text=True, input=input, timeout=timeout)
        if check is not None and r.returncode != check:
            raise AssertionError(f"imapictl {' '.join(args)} exited {r.returncode}, expected {check}:\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}\nimapid log:\n{self.log()}")
        return r

    def recorder_path(self, index=0):
        return f"{ROOT}/recorders/stdio{index}"


class TestFailure(AssertionError):
    pass


def expect_dbus_error(name, fn, *args, **kwargs):
    """Calls fn and checks that it raises a D-Bus error with exactly this name."""
    import dbus
    try:
        fn(*args, **kwargs)
    except dbus.exceptions.DBusException as e:
        if e.get_dbus_name() != name:
            raise TestFailure(f"expected {name}, got {e.get_dbus_name()}: {e.get_dbus_message()}")
        return e
    raise TestFailure(f"expected {name}, but the call succeeded")


class Skip(Exception):
    """Raised by a test that cannot run here (TAP's SKIP, which meson counts as skipped)."""


def run_tests(tests):
    """A tiny TAP runner: each test is a function; prints ok/not ok, exits non-zero on failure.
    Names on the command line run only those tests; each test's running time is printed as a TAP
    comment (meson keeps it in meson-logs/testlog.json), to see where a long file's time goes."""
    import traceback
    names = sys.argv[1:]
    unknown = set(names) - {t.__name__ for t in tests}
    if unknown:
        sys.exit("no such test: " + " ".join(sorted(unknown)))
    if names:
        tests = [t for t in tests if t.__name__ in names]
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    for n, t in enumerate(tests, 1):
        began = time.monotonic()
        try:
            t()
            print(f"ok {n} - {t.__name__}", flush=True)
        except Skip as e:
            print(f"ok {n} - {t.__name__} # SKIP {e}", flush=True)
        except Exception:
            failed += 1
            print(f"not ok {n} - {t.__name__}", flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
        print(f"# {t.__name__}: {time.monotonic() - began:.1f} s", flush=True)
    sys.exit(1 if failed else 0)


# Disc masters and jobs

DM = "org.imapid.Imapi1.DiscMaster"
JOLIET = "org.imapid.Imapi1.JolietDiscMaster"
JOB = "org.imapid.Imapi1.Job"
PROPS = "org.freedesktop.DBus.Properties"
JOLIET_IID = "e3bc42ce-4e5c-11d3-9144-00104ba11c5e"
REDBOOK_IID = "e3bc42cd-4e5c-11d3-9144-00104ba11c5e"
IMAGE = "org.imapid.Imapi1.ImageDiscMaster"
IMAGE_IID = "6d1a3a5e-2f0b-4c47-9c8e-1b2f8e5a0d13"


def glib_connection(h):
    """A connection that can receive signals (GLib main loop)."""
    import dbus
    import dbus.mainloop.glib
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    return dbus.bus.BusConnection(h.address)


class Master:
    """A disc master of one client, with the usual IMAPI calls as methods."""

    def __init__(self, bus, open=True, fmt="joliet", recorder=0):
        import dbus
        self.bus = bus
        mgr = dbus.Interface(bus.get_object(BUS_NAME, MANAGER), "org.imapid.Imapi1.Manager")
        self.path = str(mgr.CreateDiscMaster({}))
        self.obj = bus.get_object(BUS_NAME, self.path)
        self.dm = dbus.Interface(self.obj, DM)
        self.joliet = dbus.Interface(self.obj, JOLIET)
        self.image = dbus.Interface(self.obj, IMAGE)
        if open:
            self.dm.Open({})
            if fmt:
                self.dm.SetActiveDiscMasterFormat(fmt, {})
                if recorder is not None:
                    self.dm.SetActiveDiscRecorder(self.dm.EnumDiscRecorders()[recorder], {})

    def prop(self, name, iface=DM):
        return self.obj.Get(iface, name, dbus_interface=PROPS)

    def add(self, entries, overwrite=False, **kw):
        """entries: [(name in image, local path)]; the fds are opened here and closed after."""
        import dbus
        fds = []
        try:
            batch = []
            for name, path in entries:
                fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0))
                fds.append(fd)
                batch.append((name, dbus.types.UnixFd(fd)))
            return self.joliet.AddData(batch, overwrite, {}, **kw)
        finally:
            for fd in fds:
                os.close(fd)

    def set_image(self, path, **kw):
        """SetImage with an fd of the file at path, opened here and closed after."""
        import dbus
        fd = os.open(path, os.O_RDONLY)
        try:
            return self.image.SetImage(dbus.types.UnixFd(fd), {}, **kw)
        finally:
            os.close(fd)

    def record(self, simulate=False, eject=False, options=None, on_job=None, timeout=600):
        """RecordDisc, then wait for BurnComplete. Returns (hresult, signals, completed_args).
        on_job(job_path) is called once while the job runs, from the main loop."""
        from gi.repository import GLib
        signals = []
        completed = {}
        loop = GLib.MainLoop()

        def on_master(*args, **kw):
            signals.append((kw["member"], tuple(int(a) for a in args)))
            if kw["member"] == "BurnComplete":
                GLib.timeout_add(200, loop.quit)  # let the job's Completed arrive too

        def on_completed(success, message, path=None):
            completed[str(path)] = (bool(success), str(message))

        r1 = self.bus.add_signal_receiver(on_master, path=self.path, dbus_interface=DM, member_keyword="member")
        r2 = self.bus.add_signal_receiver(on_completed, dbus_interface=JOB, signal_name="Completed",
                                          path_keyword="path")
        job = str(self.dm.RecordDisc(simulate, eject, options or {}))
        if on_job:
            GLib.idle_add(lambda: on_job(job) and False)
        GLib.timeout_add(timeout * 1000, loop.quit)
        loop.run()
        r1.remove()
        r2.remove()
        hr = [a[0] for m, a in signals if m == "BurnComplete"]
        assert hr, f"no BurnComplete within {timeout} s; signals: {signals}"
        return hr[0], signals, completed.get(job)


def erase_and_wait(bus, recorder, path, full=False):
    """Erase on a held recorder (on a GLib connection); the hresult of its EraseComplete."""
    from gi.repository import GLib
    loop, done = GLib.MainLoop(), {}

    def on_erase(hr):
        done["hr"] = int(hr)
        loop.quit()
    rx = bus.add_signal_receiver(on_erase, path=path, dbus_interface="org.imapid.Imapi1.Recorder",
                                 signal_name="EraseComplete")
    assert "/jobs/" in recorder.Erase(full, {}, timeout=300)
    GLib.timeout_add(300000, loop.quit)
    loop.run()
    rx.remove()
    assert "hr" in done, "no EraseComplete"
    return done["hr"]


def wait_until(cond, what, timeout=30):
    """A bounded wait for asynchronous daemon work; not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def cancel_in_phase(bus, phase="writing"):
    """An on_job for Master.record: cancels the job once it is in that phase."""
    def on_job(job):
        j = bus.get_object(BUS_NAME, job)
        wait_until(lambda: str(j.Get(JOB, "Phase", dbus_interface=PROPS)) == phase, "the job to be " + phase,
                   timeout=120)
        j.Cancel({}, dbus_interface=JOB)
    return on_job


def stash_dirs(h):
    return sorted(d for d in os.listdir(h.stash) if d.endswith(".stash"))


# Content to burn and read back

def make_tree(root, empty_dir="empty dir", data_size=3 * 1024 * 1024 + 17):
    """Nested folders, an empty file, an empty folder, Chinese, Greek and emoji names. Returns
    {name in the tree: bytes}."""
    files = {
        "readme.txt": b"hello, disc\n",
        "empty.dat": b"",
        "docs/guide/intro.md": b"# intro\n" * 100,
        "docs/data.bin": os.urandom(data_size),
        "照片/长城.jpg": os.urandom(70000),
        "Ελληνικά/αλφάβητο.txt": "Αα Ββ Γγ\n".encode(),
        "emoji/🎵 music 🎶.txt": "♪\n".encode(),
    }
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(root, empty_dir))
    return files


def make_image(h, name="disc.img", mib=24, hybrid=True, volume="IMAGE TEST"):
    """An ISO 9660 image made by stock xorriso from random files; hybrid: with an MBR partition
    table and an appended EFI-type partition, as the images of Linux distributions have."""
    src = os.path.join(h.tmp, "src-" + name)
    os.makedirs(src)
    with open(os.path.join(src, "data.bin"), "wb") as f:
        f.write(os.urandom(mib * 1024 * 1024))
    with open(os.path.join(src, "readme.txt"), "w") as f:
        f.write("inside the image\n")
    args = ["xorriso", "-as", "mkisofs", "-R", "-J", "-V", volume]
    if hybrid:
        part = os.path.join(h.tmp, "part-" + name)
        with open(part, "wb") as f:
            f.write(os.urandom(1024 * 1024))
        args += ["-append_partition", "2", "0xef", part]
    path = os.path.join(h.tmp, name)
    subprocess.run(args + ["-o", path, src], check=True, capture_output=True)
    with open(path, "rb") as f:
        mbr = f.read(512)
    # what makes it hybrid: a partition table in the system area, one partition past the ISO tree
    assert not hybrid or (mbr[510:] == b"\x55\xaa" and mbr[446 + 16 + 4] == 0xef), mbr[446:].hex()
    return path


def same_bytes(a, b):
    return subprocess.run(["cmp", a, b], capture_output=True).returncode == 0


def stash_files(h):
    """Every file in every stash directory."""
    out = []
    for d in stash_dirs(h):
        out += [os.path.join(d, f) for f in os.listdir(os.path.join(h.stash, d))]
    return out


def extract(image, out):
    """Everything in an image, extracted with stock xorriso."""
    subprocess.run(["xorriso", "-abort_on", "FAILURE", "-indev", image, "-osirrox", "on", "-extract", "/", out],
                   check=True, capture_output=True)
