#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The service files as systemd, dbus-daemon and polkit read them. Where meson installs them is
tests/install/test_install.py."""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svctest import ACTION, SRCDIR, build_path, imapitest  # noqa: E402

BUILDDIR = os.environ.get("IMAPI_BUILDDIR") or sys.exit("IMAPI_BUILDDIR is not set; run through 'meson test'")
# systemd-analyze security's overall exposure: 0 is locked down, 10 is fully exposed; "OK" is
# below 5 and above 2 ("GOOD"). A device-owning daemon should stay within "OK".
EXPOSURE_BOUND = 4.0


def unit_dir():
    """The built units, with ExecStart= pointing at the built imapid so that verify finds it."""
    d = tempfile.mkdtemp(prefix="imapid-units-")
    for name in ("imapid.service", "imapid.socket"):
        with open(os.path.join(BUILDDIR, "systemd", name)) as f:
            text = f.read()
        if name == "imapid.service":
            text, n = re.subn(r"(?m)^ExecStart=\S+/imapid\b", "ExecStart=" + build_path("imapid"), text)
            assert n == 1, text
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return d


def test_units_verify():
    d = unit_dir()
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(d, "imapid.service"),
                        os.path.join(d, "imapid.socket")], capture_output=True, text=True, cwd=d, timeout=120)
    output = (r.stdout + r.stderr).strip()
    for line in output.splitlines():
        print("# " + line)
    assert r.returncode == 0, output
    assert "imapid" not in output, "systemd-analyze verify has something to say about the units:\n" + output
    subprocess.run(["rm", "-rf", d])


def test_units_content():
    with open(os.path.join(BUILDDIR, "systemd", "imapid.service")) as f:
        service = f.read()
    for line in ("Type=notify", "BusName=org.imapid.Imapi1", "DevicePolicy=closed", "DeviceAllow=block-sr rw", "DeviceAllow=char-sg rw",
                 "CacheDirectory=imapid", "StateDirectory=imapid", "ProtectSystem=strict", "ProtectHome=yes",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_NETLINK",
                 "SystemCallFilter=@system-service", "IPAddressDeny=any", "UMask=0077"):
        assert re.search(r"(?m)^" + re.escape(line) + "$", service), line
    m = re.search(r"(?m)^ExecStart=(\S+) (.*)$", service)
    assert m and m.group(1).endswith("/libexec/imapid") and "--idle-timeout=60s" in m.group(2), service
    assert re.search(r"(?m)^WatchdogSec=\S+", service)
    # Started by the bus (SystemdService=imapid.service) or the socket: nothing to enable, and no
    # alias that the activation file would not use.
    assert not re.search(r"(?m)^(\[Install\]|Alias=)", service), service
    with open(os.path.join(BUILDDIR, "systemd", "imapid.socket")) as f:
        socket = f.read()
    assert re.search(r"(?m)^ListenStream=/run/imapid/imapid.sock$", socket), socket
    assert re.search(r"(?m)^WantedBy=sockets.target$", socket), socket


def test_security_exposure():
    d = unit_dir()
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                        os.path.join(d, "imapid.service")], capture_output=True, text=True, cwd=d, timeout=120)
    out = r.stdout + r.stderr
    m = re.search(r"Overall exposure level for imapid.service: ([0-9.]+) (\S+)", out)
    assert m, out
    print(f"# systemd-analyze security: overall exposure {m.group(1)} {m.group(2)}")
    assert float(m.group(1)) <= EXPOSURE_BOUND, out
    subprocess.run(["rm", "-rf", d])


def test_dbus_service_file():
    with open(os.path.join(BUILDDIR, "dbus", "org.imapid.Imapi1.service")) as f:
        lines = dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line and not line.startswith("#"))
    assert lines["Name"] == "org.imapid.Imapi1"
    assert lines["Exec"].split()[0].endswith("/libexec/imapid"), lines
    assert lines["User"] == "root"
    assert lines["SystemdService"] == "imapid.service"


def test_bus_policy_file():
    root = ET.parse(os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.conf")).getroot()
    owners = [(p.attrib, a.attrib) for p in root.iter("policy") for a in p if a.tag == "allow" and "own" in a.attrib]
    assert owners == [({"user": "root"}, {"own": "org.imapid.Imapi1"})], owners
    default = [p for p in root.iter("policy") if p.attrib == {"context": "default"}]
    assert default and any(a.attrib == {"send_destination": "org.imapid.Imapi1"} for a in default[0]), default


def test_polkit_policy_file():
    root = ET.parse(os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.policy")).getroot()
    actions = {a.get("id"): {d.tag: d.text for d in a.find("defaults")} for a in root.iter("action")}
    with open(os.path.join(SRCDIR, "daemon", "bus", "polkit.h")) as f:
        in_code = set(re.findall(r'"(org\.imapid\.imapi1\.[a-z-]+)"', f.read()))
    assert set(actions) == in_code, (set(actions), in_code)
    for verb in ("burn", "erase", "eject", "set-properties"):
        assert actions[ACTION + verb] == {"allow_any": "auth_admin", "allow_inactive": "auth_admin",
                                          "allow_active": "yes"}, actions[ACTION + verb]
    assert set(actions[ACTION + "manage-other-clients"].values()) == {"auth_admin"}
    for a in root.iter("action"):
        assert a.find("description").text and a.find("message").text


imapitest.run_tests([
    test_units_verify,
    test_units_content,
    test_security_exposure,
    test_dbus_service_file,
    test_bus_policy_file,
    test_polkit_policy_file,
])
