#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The logind inhibitor (daemon/bus/inhibitor.c), through test-inhibit, against python-dbusmock's logind
template on a private bus, and on a bus without logind."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svctest import imapitest, sanitizer_report, wait_for  # noqa: E402

TEST_INHIBIT = os.environ.get("TEST_INHIBIT") or sys.exit("TEST_INHIBIT is not set; run through 'meson test'")


def run_helper(h, *args):
    r = subprocess.run([TEST_INHIBIT, *args], env=h.env, capture_output=True, text=True, timeout=120)
    for line in (r.stdout + r.stderr).splitlines():
        print("# " + line)
    assert not sanitizer_report(r.stdout + r.stderr)
    assert r.returncode == 0 and "not ok" not in r.stdout, r.stdout + r.stderr
    return r


def test_with_logind():
    with imapitest.Harness(start=False) as h:
        log = open(os.path.join(h.tmp, "logind.log"), "ab")
        mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template", "logind"],
                                env=h.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: subprocess.run(["busctl", "--address=" + h.address, "status", "org.freedesktop.login1"],
                                            capture_output=True).returncode == 0, "the mock logind")
            run_helper(h, "--with-logind")
        finally:
            mock.terminate()
            mock.wait(timeout=10)
            log.close()


def test_without_logind():
    with imapitest.Harness(start=False) as h:
        start = time.monotonic()
        run_helper(h)
        # No logind must not mean waiting for a timeout.
        assert time.monotonic() - start < 20


imapitest.run_tests([
    test_with_logind,
    test_without_logind,
])
