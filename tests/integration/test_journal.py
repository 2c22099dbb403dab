#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapid's journal entries, as an administrator finds them: a recorder added, a burn and an
erase started and finished, a cancelled and a failed burn, each with its MESSAGE_ID, the job's
fields and the source location of the code that decided it; a refused call logged once; each job's
longest event-loop dispatch at debug level.

imapid runs with its stderr as its "journal stream" in a mount namespace of its own, where a
tmpfs on /run holds the journal socket the test reads (test_log.py does the same for log.c):
no journald, no systemd as PID 1, nothing written to the machine's journal.
"""

import ast
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from imapitest import (ERR, SRCDIR, Harness, Master, Skip, expect_dbus_error, run_tests)  # noqa: E402
from journaltest import message_ids, parse_native  # noqa: E402

import dbus  # noqa: E402


class Collector:
    """Reads the journal socket while imapid logs, as journald would: a datagram socket holds only
    net.unix.max_dgram_qlen entries (10) before the sender blocks."""

    def __init__(self, sock):
        import threading
        self.sock, self.entries, self.done = sock, [], False
        sock.settimeout(0.1)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                self.entries.append(parse_native(self.sock.recv(1 << 20)))
            except socket.timeout:
                if self.done:
                    return

    def stop(self):
        self.done = True
        self.thread.join()
        return self.entries


def inside_namespace():
    """Runs the scenario; prints the entries received as a repr."""
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/run/systemd/journal/socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    collector = Collector(sock)
    with Harness(start=False, extra_args=["--log-level=debug"]) as h:
        open(h.daemon_log, "ab").close()
        st = os.stat(h.daemon_log)
        h.env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        h.start_daemon()
        src = os.path.join(h.tmp, "src")
        os.mkdir(src)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("journal\n")
        h.ctl("burn", src, check=0)
        # a refusal: a name no disc can hold
        m = Master(h.dbus())
        with open(os.path.join(src, "a.txt")) as f:
            expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.joliet.AddData, [("a/../b", dbus.types.UnixFd(f))],
                              False, {})
        m.dm.Close({})
        # an erase of the image file
        h.ctl("erase", "stdio0", check=0)
    print(repr({"entries": collector.stop()}))


def journal():
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, __file__, "--inside"],
                       capture_output=True, text=True, timeout=300, env=os.environ)
    assert r.returncode == 0, r.stdout + r.stderr
    return ast.literal_eval(r.stdout.strip().splitlines()[-1])["entries"]


def by_id(entries, ids, name):
    return [e for e in entries if e.get("MESSAGE_ID") == ids[name]]


def test_events():
    if os.geteuid() != 0 or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        raise Skip("needs root and mount namespaces")
    ids = message_ids(SRCDIR)
    entries = journal()

    added = by_id(entries, ids, "RECORDER_ADDED")
    assert added and added[0]["IMAPI_RECORDER"] == "stdio0" and added[0]["IMAPI_DEVICE"].endswith("disc0.iso"), added
    assert added[0]["CODE_FILE"] == "daemon/core/manager.c", added[0]

    for start, end, operation, where in (("BURN_STARTED", "BURN_FINISHED", "burn", "daemon/core/burn.c"),
                                         ("ERASE_STARTED", "ERASE_FINISHED", "erase", "daemon/core/erase.c")):
        s, e = by_id(entries, ids, start), by_id(entries, ids, end)
        assert len(s) == 1 and len(e) == 1, (start, s, e)
        for x in s + e:
            assert x["IMAPI_OPERATION"] == operation and x["IMAPI_RECORDER"] == "stdio0", x
            assert x["CODE_FILE"] == where and x["CODE_FUNC"] != "job_log_internal", x
        assert e[0]["IMAPI_HRESULT"] == "0x00000000" and e[0]["IMAPI_JOB"] == s[0]["IMAPI_JOB"], e
        assert e[0]["PRIORITY"] == "6", e
        # the worst stall of the event loop while the job existed, for finding what holds up other callers
        job = e[0]["IMAPI_JOB"]
        stall = [x for x in entries if x.get("MESSAGE", "").startswith(f"Job {job} ({operation}): the longest "
                                                                        "event-loop dispatch while it ran took ")]
        assert len(stall) == 1 and stall[0]["PRIORITY"] == "7", stall
        assert float(stall[0]["MESSAGE"].split()[-2]) > 0, stall

    refused = [e for e in entries if "a/../b" in e.get("MESSAGE", "")]
    assert len(refused) == 1 and refused[0]["PRIORITY"] == "7", refused
    assert refused[0]["CODE_FILE"] == "daemon/core/master-joliet.c", refused[0]
    assert "IMAPI_E_BADJOLIETNAME" in refused[0]["MESSAGE"], refused[0]


if __name__ == "__main__":
    if sys.argv[1:] == ["--inside"]:
        inside_namespace()
    else:
        run_tests([test_events])
