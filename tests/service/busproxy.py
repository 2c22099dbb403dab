# SPDX-License-Identifier: LGPL-2.1-or-later
"""A bus proxy for one daemon: it listens on a socket of its own, and relays each connection made
there to the real bus, both ways, as it came: the authentication lines, then each message with the
fds that came with it (SCM_RIGHTS). It reads the messages' headers, and holds the bus' replies to
the daemon's calls of org.freedesktop.DBus.GetConnectionUnixUser and GetConnectionCredentials
about the names the test asks it to (hold()), until the test releases them (release()); every
other message goes on meanwhile.

Each direction is read message by message, as sd-bus and dbus-daemon read: a message's fds come
with its first bytes, so the fds read with a message are exactly its own.
"""

import os
import socket
import struct
import threading

LOOKUPS = ("GetConnectionUnixUser", "GetConnectionCredentials")
DRIVER = "org.freedesktop.DBus"

METHOD_CALL, METHOD_RETURN, ERROR = 1, 2, 3
FIELD_MEMBER, FIELD_REPLY_SERIAL, FIELD_DESTINATION = 3, 5, 6


def _align(n, a):
    return (n + a - 1) // a * a


def header(data):
    """(type, serial, {field code: value}) of a whole message."""
    e = "<" if data[0:1] == b"l" else ">"
    kind = data[1]
    _, serial, fields_len = struct.unpack_from(e + "III", data, 4)
    fields, pos, end = {}, 16, 16 + fields_len
    while pos < end:
        pos = _align(pos, 8)
        code, sig_len = data[pos], data[pos + 1]
        sig = data[pos + 2:pos + 2 + sig_len].decode()
        pos += 2 + sig_len + 1
        if sig in ("s", "o"):
            pos = _align(pos, 4)
            (n,) = struct.unpack_from(e + "I", data, pos)
            fields[code] = data[pos + 4:pos + 4 + n].decode()
            pos += 4 + n + 1
        elif sig == "g":
            n = data[pos]
            fields[code] = data[pos + 1:pos + 1 + n].decode()
            pos += 1 + n + 1
        elif sig == "u":
            pos = _align(pos, 4)
            (fields[code],) = struct.unpack_from(e + "I", data, pos)
            pos += 4
        else:
            raise ValueError(f"unexpected header field signature {sig!r}")
    return kind, serial, fields


def first_string(data):
    """The first argument of a message whose body begins with a string."""
    e = "<" if data[0:1] == b"l" else ">"
    (fields_len,) = struct.unpack_from(e + "I", data, 12)
    pos = _align(16 + fields_len, 8)
    (n,) = struct.unpack_from(e + "I", data, pos)
    return data[pos + 4:pos + 4 + n].decode()


class _Stream:
    """One direction of a connection: reads a line or a message at a time, with its fds."""

    def __init__(self, sock):
        self.sock = sock

    def _recv(self, n):
        data, fds = b"", []
        while len(data) < n:
            chunk, more, _, _ = socket.recv_fds(self.sock, n - len(data), 253)
            if not chunk:
                for fd in fds + more:
                    os.close(fd)
                raise EOFError
            data += chunk
            fds += more
        return data, fds

    def line(self):
        data, fds = b"", []
        while not data.endswith(b"\r\n"):
            chunk, more = self._recv(1)
            data += chunk
            fds += more
        return data, fds

    def message(self):
        head, fds = self._recv(16)
        e = "<" if head[0:1] == b"l" else ">"
        body_len, _, fields_len = struct.unpack_from(e + "III", head, 4)
        rest, more = self._recv(_align(16 + fields_len, 8) - 16 + body_len)
        return head + rest, fds + more


def _send(sock, data, fds):
    try:
        n = socket.send_fds(sock, [data], fds) if fds else sock.send(data)
        sock.sendall(data[n:])
    finally:
        for fd in fds:
            os.close(fd)


class BusProxy:
    """Use as a context manager; address is what the daemon connects to."""

    def __init__(self, bus_socket, path):
        self.bus_socket, self.path = bus_socket, path
        self.address = "unix:path=" + path
        self.cond = threading.Condition()
        self.names = set()              # whose lookups are held
        self.calls = {}                 # serial of a lookup in flight -> the name asked about
        self.held = []                  # [(name, data)] replies held, in the order they came
        self.seen = []                  # every name looked up, in order

    def __enter__(self):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.listener.close()
        return False

    # what the test controls

    def hold(self, name):
        """Holds the bus' answers about name from now on."""
        with self.cond:
            self.names.add(name)

    def held_for(self, name):
        with self.cond:
            return sum(1 for n, _ in self.held if n == name)

    def release(self, name):
        """Sends the answers about name held so far, and holds no more."""
        with self.cond:
            self.names.discard(name)
            out = [d for n, d in self.held if n == name]
            self.held = [(n, d) for n, d in self.held if n != name]
            for data in out:
                _send(self.daemon_sock, data, [])

    # the relay

    def _accept(self):
        while True:
            try:
                daemon, _ = self.listener.accept()
            except OSError:
                return
            bus = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            bus.connect(self.bus_socket)
            self.daemon_sock = daemon
            threading.Thread(target=self._to_bus, args=(daemon, bus), daemon=True).start()
            threading.Thread(target=self._to_daemon, args=(bus, daemon), daemon=True).start()

    def _to_bus(self, daemon, bus):
        src = _Stream(daemon)
        try:
            # The authentication: a NUL byte, then lines up to BEGIN.
            data, fds = src._recv(1)
            _send(bus, data, fds)
            while True:
                data, fds = src.line()
                _send(bus, data, fds)
                if data == b"BEGIN\r\n":
                    break
            while True:
                data, fds = src.message()
                kind, serial, fields = header(data)
                if (kind == METHOD_CALL and fields.get(FIELD_DESTINATION) == DRIVER
                        and fields.get(FIELD_MEMBER) in LOOKUPS):
                    name = first_string(data)
                    with self.cond:
                        self.calls[serial] = name
                        self.seen.append(name)
                _send(bus, data, fds)
        except (EOFError, OSError):
            pass
        finally:
            bus.close()

    def _to_daemon(self, bus, daemon):
        src = _Stream(bus)
        try:
            # The bus' authentication lines (OK, AGREE_UNIX_FD), then messages.
            while True:
                head, fds = src._recv(1)
                if head in (b"l", b"B"):
                    break
                data, more = src.line()
                with self.cond:
                    _send(daemon, head + data, fds + more)
            rest, more = src._recv(15)
            first = head + rest
            fds += more
            e = "<" if first[0:1] == b"l" else ">"
            body_len, _, fields_len = struct.unpack_from(e + "III", first, 4)
            tail, more = src._recv(_align(16 + fields_len, 8) - 16 + body_len)
            data, fds = first + tail, fds + more
            while True:
                kind, serial, fields = header(data)
                with self.cond:
                    name = self.calls.pop(fields.get(FIELD_REPLY_SERIAL), None) \
                        if kind in (METHOD_RETURN, ERROR) else None
                    if name is not None and name in self.names and not fds:
                        self.held.append((name, data))
                        self.cond.notify_all()
                    else:
                        _send(daemon, data, fds)
                data, fds = src.message()
        except (EOFError, OSError):
            pass
        finally:
            daemon.close()
