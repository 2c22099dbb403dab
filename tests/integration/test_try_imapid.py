#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tools/try-imapid, the README's first command: it burns a sample folder to an image file, reads
it back with xorriso, says so, and leaves nothing behind in its temporary directory."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import SRCDIR, build_path, run_tests  # noqa: E402

TRY = os.path.join(SRCDIR, "tools", "try-imapid")


def run_try(*args):
    tmp = tempfile.mkdtemp(prefix="try-imapid-test-")
    env = {k: v for k, v in os.environ.items() if k not in ("IMAPI_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS")}
    # the build under test, as it is (try-imapid builds build/ of the tree otherwise)
    env.update(TMPDIR=tmp, IMAPI_BUILDDIR=os.path.dirname(os.path.dirname(build_path("imapid"))))
    try:
        r = subprocess.run([TRY, *args], env=env, capture_output=True, text=True, timeout=300)
        left = os.listdir(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return r, left


def test_demonstration():
    r, left = run_try()
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for step in ("$ imapictl devices", "$ imapictl burn --volume-name=TRY_IMAPID ", "Done: burn finished.",
                 "$ imapictl media", "Status:         appendable", "$ xorriso -indev ",
                 "Volume Id    : TRY_IMAPID", "'/sample/Ελληνικά/αλφάβητο.txt'",
                 "The image holds the sample folder exactly"):
        assert step in out, (step, out)
    assert left == [], f"left behind in its temporary directory: {left}"


def test_command_mode():
    r, left = run_try("imapictl", "--json", "devices")
    assert r.returncode == 0, r.stdout + r.stderr
    devices = json.loads(r.stdout)
    assert [d["id"] for d in devices] == ["stdio0"] and devices[0]["address"].endswith("/disc.iso"), devices
    assert left == [], left
    r, left = run_try("sh", "-c", "exit 7")
    assert r.returncode == 7 and left == [], (r.returncode, left)


run_tests([test_demonstration, test_command_mode])
