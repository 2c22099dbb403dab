#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fds of messages that never end, on the peer-to-peer socket: an unprivileged user that holds a
disc master (so that no idle timeout applies) starts a message and sends SCM_MAX_FD fds at a time
with it, and another starts one with 16 fds and never finishes it. Both are closed with a line in
the log, imapid's fds stay where they were, root's burn over the socket finishes, and imapid is
back at its baseline."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Attacker, assert_back, baseline, burn_and_check, stage_tree, usage  # noqa: E402
from hostile import imapitest, svctest  # noqa: E402

# A raw D-Bus client: authenticates, creates a disc master with a complete call, then begins a
# GetRecorders call that declares a long body and sends one byte of it at a time, each with
# argv[2] copies of one fd, argv[1] times (or until imapid closes the connection). Prints what
# happened.
PARTIAL = r"""
import array, json, os, socket, struct, sys
def field(code, sig, value):
    f = bytes([code, 1]) + sig.encode() + b"\0"
    return f + b"\0" * ((-len(f)) % 4) + value
def string(v):
    v = v.encode()
    return struct.pack("<I", len(v)) + v + b"\0"
def call(serial, member, body, body_len, n_fds):
    fields = b""
    for f in [field(1, "o", string("/org/imapid/Imapi1/Manager")), field(2, "s", string("org.imapid.Imapi1.Manager")),
              field(3, "s", string(member))] + ([field(8, "g", b"\x05a{sv}\0")] if body else []) + \
             ([field(9, "u", struct.pack("<I", n_fds))] if n_fds else []):
        fields += b"\0" * ((-len(fields)) % 8) + f
    head = b"l\x01\x00\x01" + struct.pack("<III", body_len, serial, len(fields)) + fields
    return head + b"\0" * ((-len(head)) % 8) + body
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[3])
c.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n")
c.sendall(call(1, "CreateDiscMaster", b"\0" * 8, 8, 0))
got = b""
while b"/org/imapid/Imapi1/masters/" not in got:
    got += c.recv(4096)
c.sendall(call(2, "GetRecorders", b"", 1 << 20, 1))
fd = os.open("/dev/null", os.O_RDONLY)
sent = 0
try:
    for _ in range(int(sys.argv[1])):
        c.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * int(sys.argv[2])))])
        sent += 1
except OSError:
    pass
print(json.dumps({"sent": sent}), flush=True)
c.settimeout(120)
try:
    while c.recv(4096):
        pass
    closed = True
except ConnectionResetError:    # closed with what it sent still unread
    closed = True
except OSError:
    closed = False
print(json.dumps({"closed": closed}), flush=True)
sys.stdin.read()
"""


class Peer:
    """What burn_and_check() needs of a harness, for the socket."""

    def __init__(self, s):
        self.address, self.images, self.tmp, self.daemon, self.log = s.address, s.images, s.tmp, s.proc, s.log


def closed(a):
    out = __import__("json").loads(a.proc.stdout.readline())
    return out["closed"]


def test_partial_messages():
    with svctest.TestUser() as user, svctest.SocketActivated() as s:
        os.chmod(s.tmp, 0o755)
        os.chmod(s.socket, 0o666)
        h = Peer(s)
        bus = imapitest.glib_connection(h)
        master, files = stage_tree(h, bus, 512 * 1024)
        pid = s.proc.pid
        base = baseline(pid, s.stash)

        # SCM_MAX_FD fds at a time: closed at the first, which the gate does not take.
        with Attacker(user, PARTIAL, [64, 253, s.socket], env=s.env) as a:
            during = usage(pid)
            assert closed(a), s.log()
            assert "a message of it carried more than 16 file descriptors" in s.log(), s.log()
            print(f"# {a.result['sent']} sendmsg() of 253 fds; imapid before {base['usage']}, during {during}",
                  flush=True)
            assert during["fds"] < base["usage"]["fds"] + 253, during

        # Up to 16, then nothing: closed when the message stays unfinished, although the peer
        # holds a disc master.
        with Attacker(user, PARTIAL, [1, 16, s.socket], env=s.env) as a:
            during = usage(pid)
            burn_and_check(h, bus, master, files)
            assert closed(a), s.log()
            assert "left a message unfinished" in s.log(), s.log()
            print(f"# 16 fds of a message never finished; imapid during {during}", flush=True)
        assert s.running(), s.log()
        assert_back(base)
        master.dm.Close({})


imapitest.run_tests([test_partial_messages])
