# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reading what imapid sends to the journal: the MESSAGE_IDs of common/message-id.h, and the
datagrams of the journal's native protocol, for the tests that stand in for journald."""

import os
import re
import struct


def message_ids(srcdir):
    """{NAME: 32 hex digits} from common/message-id.h."""
    with open(os.path.join(srcdir, "common", "message-id.h")) as f:
        text = f.read()
    out = {}
    for name, args in re.findall(r"#define IMAPI_MESSAGE_(\w+) SD_ID128_MAKE\(([0-9a-f,]+)\)", text):
        out[name] = args.replace(",", "")
    return out


def parse_native(data):
    """The fields of one datagram of the journal's native protocol (systemd's JOURNAL_NATIVE_PROTOCOL)."""
    fields = {}
    while data:
        nl = data.index(b"\n")
        head = data[:nl]
        if b"=" in head:
            key, value = head.split(b"=", 1)
            data = data[nl + 1:]
        else:
            key = head
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            data = data[nl + 9 + size + 1:]
        fields.setdefault(key.decode(), []).append(value.decode())
    return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
