#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""common/log.c as a service sees it: lines on stderr, or native journal entries that name the
caller's file, line and function, with MESSAGE_ID, ERRNO and the event fields.

The journal is a datagram socket at /run/systemd/journal/socket. The test runs log-emit in a
mount namespace of its own with a tmpfs on /run and its own socket there, so it needs neither
journald nor systemd as PID 1, and never writes to the machine's journal.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from imapitest import Skip, run_tests  # noqa: E402
from journaltest import message_ids, parse_native  # noqa: E402

EMIT = os.environ.get("LOG_EMIT") or sys.exit("LOG_EMIT is not set; run through 'meson test'")
SRCDIR = os.environ.get("IMAPI_SRCDIR") or sys.exit("IMAPI_SRCDIR is not set; run through 'meson test'")
SOURCE = "tests/unit/log-emit.c"


def where():
    """{tag: (line, function)} as log-emit printed them."""
    r = subprocess.run([EMIT, "debug"], capture_output=True, text=True, check=True)
    return {tag: (int(line), func) for tag, line, func in (l.split() for l in r.stdout.splitlines())}


def inside_namespace(level):
    """Runs log-emit with stderr as its 'journal stream'; prints the entries received, one repr per line."""
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/run/systemd/journal/socket")
    with tempfile.TemporaryFile() as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        subprocess.run([EMIT] + ([level] if level else []), stdout=subprocess.DEVNULL, stderr=err, env=env,
                       check=True)
        err.seek(0)
        leftover = err.read().decode()
    sock.setblocking(False)
    entries = []
    while True:
        try:
            entries.append(parse_native(sock.recv(65536)))
        except BlockingIOError:
            break
    print(repr({"entries": entries, "stderr": leftover}))


def journal(level=None):
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, __file__, "--inside",
                        level or ""], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import ast
    return ast.literal_eval(r.stdout.strip())


def can_unshare():
    return os.geteuid() == 0 and subprocess.run(["unshare", "--mount", "true"],
                                                capture_output=True).returncode == 0


def test_stderr_lines():
    r = subprocess.run([EMIT], capture_output=True, text=True, check=True, env=dict(os.environ, JOURNAL_STREAM=""))
    lines = r.stderr.splitlines()
    assert "log-emit: plain message 1" in lines, lines
    assert "log-emit: with errno: No such file or directory" in lines, lines
    assert "log-emit: Recorder sr0 gone." in lines and "log-emit: Job 7 failed." in lines, lines
    assert not [l for l in lines if "debug message" in l], lines
    # at debug level, each line names the source file (relative to the tree) and line
    at = where()
    r = subprocess.run([EMIT, "debug"], capture_output=True, text=True, check=True)
    line, _ = at["debug"]
    assert f"log-emit[{SOURCE}:{line}]: a debug message" in r.stderr.splitlines(), r.stderr


def test_journal_fields():
    if not can_unshare():
        raise Skip("needs root and mount namespaces")
    at = where()
    got = journal()
    entries, leftover = got["entries"], got["stderr"]
    assert leftover == "", "with the journal reachable nothing goes to stderr: " + leftover
    by_message = {e["MESSAGE"]: e for e in entries}
    # info is the default level: the debug message is not sent
    assert sorted(by_message) == sorted(["plain message 1", "with errno: No such file or directory",
                                         "Recorder sr0 gone.", "an event without an id", "Job 7 failed.",
                                         "wrapped for the caller"]), sorted(by_message)
    tags = {"info": "plain message 1", "errno": "with errno: No such file or directory",
            "event": "Recorder sr0 gone.", "legacy": "an event without an id", "job": "Job 7 failed.",
            "wrapped": "wrapped for the caller"}
    for tag, message in tags.items():
        e = by_message[message]
        line, func = at[tag]
        # the caller's location, not log.c's
        assert (e["CODE_FILE"], e["CODE_LINE"], e["CODE_FUNC"]) == (SOURCE, str(line), func), (tag, e)
        assert e["SYSLOG_IDENTIFIER"] == "log-emit", e
    assert by_message["plain message 1"]["PRIORITY"] == "6" and "MESSAGE_ID" not in by_message["plain message 1"]
    e = by_message["with errno: No such file or directory"]
    assert e["PRIORITY"] == "4" and e["ERRNO"] == "2", e

    ids = message_ids(SRCDIR)
    e = by_message["Recorder sr0 gone."]
    assert e["MESSAGE_ID"] == ids["RECORDER_REMOVED"] and e["PRIORITY"] == "5", e
    assert e["IMAPI_RECORDER"] == "sr0" and e["IMAPI_DEVICE"] == "/dev/sr0", e
    assert "MESSAGE_ID" not in by_message["an event without an id"]
    e = by_message["Job 7 failed."]
    assert e["MESSAGE_ID"] == ids["BURN_FAILED"], e
    assert (e["IMAPI_JOB"], e["IMAPI_OPERATION"], e["IMAPI_RECORDER"]) == ("7", "burn", "sr0"), e
    assert (e["IMAPI_HRESULT"], e["IMAPI_HRESULT_NAME"]) == ("0x80040227", "IMAPI_E_LOSS_OF_STREAMING"), e
    e = by_message["wrapped for the caller"]
    assert e["MESSAGE_ID"] == ids["RECORDER_ADDED"] and e["IMAPI_TEST"] == "wrapped", e

    got = journal("debug")
    debug = [e for e in got["entries"] if e["MESSAGE"] == "a debug message"]
    assert len(debug) == 1 and debug[0]["PRIORITY"] == "7" and debug[0]["CODE_LINE"] == str(at["debug"][0]), debug


def test_message_ids_in_catalog():
    """Every id is unique and explained in the catalog, and the catalog explains nothing else."""
    ids = message_ids(SRCDIR)
    assert len(ids) >= 9 and len(set(ids.values())) == len(ids), ids
    for v in ids.values():
        assert re.fullmatch(r"[0-9a-f]{32}", v), v
    with open(os.path.join(SRCDIR, "catalog", "imapid.catalog")) as f:
        entries = re.findall(r"(?m)^-- ([0-9a-f]{32})$", f.read())
    assert sorted(entries) == sorted(ids.values()), (sorted(entries), ids)


def main():
    if sys.argv[1:2] == ["--inside"]:
        inside_namespace(sys.argv[2] if len(sys.argv) > 2 else None)
        return
    run_tests([test_stderr_lines, test_message_ids_in_catalog, test_journal_fields])


main()
