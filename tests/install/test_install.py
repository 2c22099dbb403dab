#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""meson install into a DESTDIR: every file where the program that reads it looks.

The directories are worked out here on their own, from the pkg-config variables of dbus-1,
polkit-gobject-1, systemd and bash-completion (or the meson option that overrides each), and
every installed file must be in the list below: nothing missing, nothing stray. Then the
installed files are used: the installed imapid takes its name on a bus whose policy is only the
system bus's default plus the installed policy file (the failure of issue 17 when the policy
lands where dbus-daemon does not look), a program builds against the installed headers through
imapi.pc, journalctl reads the catalog and systemd-sysusers the sysusers.d snippet.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILDDIR = os.environ.get("IMAPI_BUILDDIR") or sys.exit("IMAPI_BUILDDIR is not set; run through 'meson test'")
sys.path.insert(0, os.path.join(os.environ.get("IMAPI_SRCDIR", ""), "tests", "integration"))
from imapitest import run_tests  # noqa: E402

BUS_NAME = "org.imapid.Imapi1"


def options():
    r = subprocess.run(["meson", "introspect", BUILDDIR, "--buildoptions"], capture_output=True, text=True,
                       check=True)
    return {o["name"]: o["value"] for o in json.loads(r.stdout)}


def pkg_var(module, var):
    r = subprocess.run(["pkg-config", "--variable=" + var, module], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


class Layout:
    """Where each kind of file belongs, as the build's options and the pkg-config files say."""

    def __init__(self):
        o = options()
        self.o = o
        self.prefix = o["prefix"]

        def under(opt):
            return os.path.join(self.prefix, o[opt])

        self.bindir, self.libexecdir = under("bindir"), under("libexecdir")
        self.datadir, self.includedir, self.mandir = under("datadir"), under("includedir"), under("mandir")

        def pick(option, module, var, fallback):
            return o[option] or pkg_var(module, var) or fallback

        self.dbuspolicydir = pick("dbuspolicydir", "dbus-1", "datadir", self.datadir)
        if not o["dbuspolicydir"]:
            self.dbuspolicydir = os.path.join(self.dbuspolicydir, "dbus-1", "system.d")
        self.dbusservicedir = pick("dbussystemservicedir", "dbus-1", "system_bus_services_dir",
                                   os.path.join(self.datadir, "dbus-1", "system-services"))
        self.polkitdir = pick("polkitactiondir", "polkit-gobject-1", "policydir",
                              os.path.join(self.datadir, "polkit-1", "actions"))
        self.unitdir = pick("systemdsystemunitdir", "systemd", "systemdsystemunitdir",
                            os.path.join(self.prefix, "lib", "systemd", "system"))
        self.sysusersdir = pick("sysusersdir", "systemd", "sysusersdir", os.path.join(self.prefix, "lib", "sysusers.d"))
        self.catalogdir = pick("catalogdir", "systemd", "catalogdir",
                               os.path.join(self.prefix, "lib", "systemd", "catalog"))
        self.bashdir = pick("bashcompletiondir", "bash-completion", "completionsdir",
                            os.path.join(self.datadir, "bash-completion", "completions"))
        self.zshdir = o["zshcompletiondir"] or os.path.join(self.datadir, "zsh", "site-functions")
        self.docdir = o["docdir"] or os.path.join(self.datadir, "doc", "imapid")

    def expected(self):
        docs = ["README.md", "design.md", "writing-a-client.md", "errors.txt", "manager-api.txt",
                "recorder-api.txt", "discmaster-api.txt", "joliet-api.txt", "redbook-api.txt", "image-api.txt",
                "job-api.txt"]
        files = [
            (self.libexecdir, "imapid"),
            (self.bindir, "imapictl"),
            (self.dbuspolicydir, "org.imapid.Imapi1.conf"),
            (self.dbusservicedir, "org.imapid.Imapi1.service"),
            (self.polkitdir, "org.imapid.Imapi1.policy"),
            (self.unitdir, "imapid.service"),
            (self.unitdir, "imapid.socket"),
            (self.sysusersdir, "imapid.conf"),
            (self.catalogdir, "imapid.catalog"),
            (os.path.join(self.datadir, "dbus-1", "interfaces"), "org.imapid.Imapi1.xml"),
            # headers only: the .pc file is arch-independent, in datadir
            (os.path.join(self.includedir, "imapi"), "imapi.h"),
            (os.path.join(self.includedir, "imapi"), "imapierror.h"),
            (os.path.join(self.datadir, "pkgconfig"), "imapi.pc"),
            (os.path.join(self.mandir, "man1"), "imapictl.1"),
            (os.path.join(self.mandir, "man5"), "imapid.conf.5"),
            (os.path.join(self.mandir, "man8"), "imapid.8"),
            (os.path.join(self.docdir, "examples"), "imapid.conf"),
            (os.path.join(self.docdir, "examples"), "burn-folder.py"),
            (os.path.join(self.docdir, "examples"), "burn-folder.c"),
            (os.path.join(self.docdir, "examples"), "org.imapid.Imapi1.xml"),
            (self.libexecdir, "imapid-burn-files"),
            (os.path.join(self.datadir, "applications"), "org.imapid.BurnToDisc.desktop"),
            (os.path.join(self.datadir, "nemo", "actions"), "imapid-burn.nemo_action"),
            (os.path.join(self.datadir, "kio", "servicemenus"), "imapid-burn.desktop"),
        ] + [(self.docdir, d) for d in docs]
        if self.bashdir != "no":
            files.append((self.bashdir, "imapictl"))
        if self.zshdir != "no":
            files.append((self.zshdir, "_imapictl"))
        return {os.path.join(d, f) for d, f in files}


def install(dest):
    r = subprocess.run(["meson", "install", "-C", BUILDDIR, "--destdir", dest, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def installed(dest):
    out = set()
    for base, _, names in os.walk(dest):
        for n in names:
            out.add("/" + os.path.relpath(os.path.join(base, n), dest))
    return out


class Destdir:
    """One install for all tests, removed at the end."""
    path = None

    @classmethod
    def get(cls):
        if cls.path is None:
            cls.path = tempfile.mkdtemp(prefix="imapid-destdir-")
            install(cls.path)
        return cls.path


def read(dest, path):
    with open(dest + path) as f:
        return f.read()


def test_every_file_in_its_place():
    layout, dest = Layout(), Destdir.get()
    want, got = layout.expected(), installed(dest)
    missing, stray = sorted(want - got), sorted(got - want)
    assert not missing and not stray, f"missing: {missing}\nnot expected: {stray}"
    # what points at other installed files points at where they are
    imapid = os.path.join(layout.libexecdir, "imapid")
    assert f"\nExecStart={imapid} " in read(dest, os.path.join(layout.unitdir, "imapid.service"))
    assert f"\nExec={imapid} " in read(dest, os.path.join(layout.dbusservicedir, "org.imapid.Imapi1.service"))
    helper = os.path.join(layout.libexecdir, "imapid-burn-files")
    for f in (os.path.join(layout.datadir, "applications", "org.imapid.BurnToDisc.desktop"),
              os.path.join(layout.datadir, "nemo", "actions", "imapid-burn.nemo_action"),
              os.path.join(layout.datadir, "kio", "servicemenus", "imapid-burn.desktop")):
        assert f"\nExec={helper} %F\n" in read(dest, f), f
    assert os.path.join(layout.bindir, "imapictl") in read(dest, helper)
    assert os.access(dest + helper, os.X_OK)
    # the man pages name the directories they were installed with
    page = read(dest, os.path.join(layout.mandir, "man8", "imapid.8"))
    assert layout.polkitdir.replace("-", "\\-") in page and layout.docdir.replace("-", "\\-") in page, page[:200]


def test_bus_policy_lets_imapid_own_its_name():
    """The policy file is where the system bus reads policies: with it, imapid takes its name."""
    layout, dest = Layout(), Destdir.get()
    tmp = tempfile.mkdtemp(prefix="imapid-sysbus-")
    try:
        # the installed policy takes effect: the name is taken
        log = run_installed_imapid(dest, layout, tmp, include_policy=True)
        assert "ready on" in log, log
        assert "warning" not in log.lower() and "ignoring" not in log, "the example configuration: " + log
        # and it is what makes the difference (the bus's default denies owning any name)
        log = run_installed_imapid(dest, layout, tmp, include_policy=False)
        assert "Permission denied" in log or "AccessDenied" in log, log
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The default policy of dbus-daemon's system.conf: nobody may own a name unless a policy file
# says so, and method calls need an allow rule.
SYSTEM_LIKE_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  {include}
</busconfig>
"""


def system_bus_policy_dirs():
    """Where the system's dbus-daemon reads policy files: the <includedir>s of its system.conf."""
    import xml.etree.ElementTree as ET
    base = os.path.join(pkg_var("dbus-1", "datadir") or "/usr/share", "dbus-1")
    try:
        root = ET.parse(os.path.join(base, "system.conf")).getroot()
    except (OSError, ET.ParseError):
        return [os.path.join(base, "system.d"), "/etc/dbus-1/system.d"]
    return [os.path.join(base, d.text) for d in root.iter("includedir")]


def run_installed_imapid(dest, layout, tmp, include_policy):
    """Starts the installed imapid, with the installed example configuration, on a bus like the
    system bus; returns its log once it has taken its name or exited."""
    socket = os.path.join(tmp, "bus")
    conf = os.path.join(tmp, "bus.conf")
    include = "".join(f"<includedir>{dest}{d}</includedir>" for d in system_bus_policy_dirs()) if include_policy else ""
    with open(conf, "w") as f:
        f.write(SYSTEM_LIKE_BUS.format(socket=socket, include=include))
    bus = subprocess.Popen(["dbus-daemon", "--nofork", "--config-file=" + conf, "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        assert bus.stdout.readline(), "dbus-daemon did not start"
        address = "unix:path=" + socket
        stash = os.path.join(tmp, "stash")
        os.makedirs(stash, exist_ok=True)
        log_path = os.path.join(tmp, "imapid.log")
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen([dest + os.path.join(layout.libexecdir, "imapid"), "--bus-address=" + address,
                                       "--config=" + dest + os.path.join(layout.docdir, "examples", "imapid.conf"),
                                       "--no-scan", "--drive=stdio:" + os.path.join(tmp, "disc.iso"),
                                       "--stash-dir=" + stash], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and daemon.poll() is None:
            if subprocess.run(["busctl", "--address=" + address, "status", BUS_NAME], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.05)
        with open(log_path, errors="replace") as f:
            return f.read()
    finally:
        if daemon and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=30)
        bus.terminate()
        bus.wait(timeout=10)


def test_headers_through_pkg_config():
    layout, dest = Layout(), Destdir.get()
    env = dict(os.environ, PKG_CONFIG_PATH=dest + os.path.join(layout.datadir, "pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=dest)
    cflags = subprocess.run(["pkg-config", "--cflags", "imapi"], env=env, capture_output=True, text=True, check=True)
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "client.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include <imapi/imapi.h>\n#include <imapi/imapierror.h>\n'
                    'int main(void) { printf("%s %x\\n", IMAPI_BUS_NAME, (unsigned) IMAPI_E_DISCFULL); return 0; }\n')
        r = subprocess.run(["cc", *cflags.stdout.split(), "-o", os.path.join(d, "client"), src], capture_output=True,
                           text=True)
        assert r.returncode == 0, cflags.stdout + r.stderr
        out = subprocess.run([os.path.join(d, "client")], capture_output=True, text=True, check=True).stdout
        assert out == "org.imapid.Imapi1 8004021c\n", out


def test_catalog_and_sysusers():
    layout, dest = Layout(), Destdir.get()
    with tempfile.TemporaryDirectory() as root:
        # journalctl --root reads <root>/usr/lib/systemd/catalog, which is systemd's catalogdir
        os.makedirs(os.path.join(root, "usr/lib/systemd/catalog"))
        shutil.copy(dest + os.path.join(layout.catalogdir, "imapid.catalog"), os.path.join(root, "usr/lib/systemd/catalog"))
        subprocess.run(["journalctl", "--root=" + root, "--update-catalog"], check=True, capture_output=True)
        listed = subprocess.run(["journalctl", "--root=" + root, "--list-catalog"], check=True, capture_output=True,
                                text=True).stdout
        assert listed.count(" imapid: ") == 9, listed
        assert "7f17768a89b94c6dabebc704eaec4d03 imapid: A burn was started" in listed, listed
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "etc"))
        r = subprocess.run(["systemd-sysusers", "--root=" + root, "--dry-run",
                            dest + os.path.join(layout.sysusersdir, "imapid.conf")], capture_output=True, text=True)
        assert r.returncode == 0 and "Creating group 'cdrom'" in r.stdout + r.stderr, r.stdout + r.stderr


tests = [test_every_file_in_its_place, test_bus_policy_lets_imapid_own_its_name, test_headers_through_pkg_config,
         test_catalog_and_sysusers]
try:
    run_tests(tests)
finally:
    if Destdir.path:
        shutil.rmtree(Destdir.path, ignore_errors=True)
