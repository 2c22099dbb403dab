#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a command against a private bus with imapid on it.

    with-imapid.py [--drives N] [--] COMMAND [ARGS...]

The command sees IMAPI_BUS_ADDRESS and DBUS_SYSTEM_BUS_ADDRESS (the private bus), IMAPI_TMP
(the test directory) and IMAPI_IMAGES (the drives' image files, space-separated). Its exit code
is passed on; imapid must also exit cleanly.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imapitest  # noqa: E402

args = sys.argv[1:]
drives = 1
if args[:1] == ["--drives"]:
    drives = int(args[1])
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]

with imapitest.Harness(drives=drives) as h:
    env = dict(h.env)
    env["IMAPI_TMP"] = h.tmp
    env["IMAPI_IMAGES"] = " ".join(h.images)
    rc = subprocess.run(args, env=env).returncode
    if rc != 0:
        print("imapid log:\n" + h.log(), file=sys.stderr)
sys.exit(rc)
