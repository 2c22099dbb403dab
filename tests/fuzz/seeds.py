#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed inputs of the bus fuzzers (fuzz-bus.h's encoding), fuzz-staging and
fuzz-redbook into their corpus folders: one per option or property as clients send it, and the
near misses around each rule; batches of AddData that collide in each way staging.h lists;
audio tracks that fill a CD, hit the 99-track and 4-second rules, and change the gap; and what
a client sends on the peer-to-peer socket (fuzz-p2p): the handshake, then D-Bus messages;
format names (fuzz-format), staged paths to order (fuzz-image-order) and AddData batches of
whole calls (fuzz-add-data).

    seeds.py TESTS_FUZZ_DIR
"""

import os
import struct
import sys

# fuzz-bus-options.c's keys[]; the last index + 1 is "a string of the input's own".
OPTION_KEYS = ["verify", "close", "replace", "iso_level", "write_speed", "write_speed_kbps", "write_mode",
               "auth.no_user_interaction", "format", "Verify", ""]
TYPES = "bynqiuxtdsogv"


def key(keys, name):
    if name in keys:
        return bytes([keys.index(name)])
    return bytes([len(keys)]) + string(name)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def variant(sig, value=None):
    if sig == "as":
        return bytes([len(TYPES)]) + string(value)
    if sig == "ai":
        return bytes([len(TYPES) + 1]) + struct.pack("<qq", *value)
    if sig == "(is)":
        return bytes([len(TYPES) + 2]) + struct.pack("<q", value[0]) + string(value[1])
    t = bytes([TYPES.index(sig)])
    if sig in "sog":
        return t + string(value)
    if sig == "b":
        return t + bytes([1 if value else 0])
    if sig == "d":
        return t + struct.pack("<d", value)
    if sig == "v":
        return t + variant(*value)
    return t + struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF)


def entries(keys, *items):
    return b"".join(key(keys, k) + variant(*v) for k, v in items)


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def option_seeds(folder):
    k = OPTION_KEYS
    record, erase, recorder, none, variants = b"\0", b"\1", b"\2", b"\3", b"\4"
    seeds = {
        "record-empty": record,
        "record-all": record + entries(k, ("verify", ("b", False)), ("close", ("b", True)),
                                       ("replace", ("i", -1)), ("iso_level", ("y", 3)),
                                       ("write_speed", ("u", 8)), ("write_speed_kbps", ("x", 1000000)),
                                       ("write_mode", ("s", "tao")),
                                       ("auth.no_user_interaction", ("b", True))),
        "record-iso-level-4": record + entries(k, ("iso_level", ("i", 4))),
        "record-iso-level-0": record + entries(k, ("iso_level", ("i", 0))),
        "record-speed-over": record + entries(k, ("write_speed", ("i", 1001))),
        "record-kbps-negative": record + entries(k, ("write_speed_kbps", ("x", -1))),
        "record-speed-t-huge": record + entries(k, ("write_speed", ("t", 1 << 63))),
        "record-speed-string": record + entries(k, ("write_speed", ("s", "8"))),
        "record-verify-int-2": record + entries(k, ("verify", ("i", 2))),
        "record-verify-double": record + entries(k, ("verify", ("d", 1.0))),
        "record-mode-dao": record + entries(k, ("write_mode", ("s", "dao"))),
        "record-mode-nested": record + entries(k, ("write_mode", ("v", ("s", "sao")))),
        "record-unknown-key": record + entries(k, ("Verify", ("b", True))),
        "record-empty-key": record + entries(k, ("", ("b", True))),
        "record-format-key": record + entries(k, ("format", ("s", "sequential"))),
        "record-own-key": record + entries(k, ("write-speed", ("i", 4))),
        "record-repeated": record + entries(k, ("iso_level", ("i", 1)), ("iso_level", ("i", 9))),
        "record-array": record + entries(k, ("verify", ("as", "yes"))),
        "record-struct": record + entries(k, ("iso_level", ("(is)", (2, "two")))),
        "erase-sequential": erase + entries(k, ("format", ("s", "sequential"))),
        "erase-overwrite": erase + entries(k, ("format", ("s", "restricted-overwrite")),
                                           ("auth.no_user_interaction", ("q", 0))),
        "erase-format-bad": erase + entries(k, ("format", ("s", "Sequential"))),
        "erase-format-int": erase + entries(k, ("format", ("i", 1))),
        "erase-polkit-string": erase + entries(k, ("auth.no_user_interaction", ("s", "true"))),
        "erase-verify": erase + entries(k, ("verify", ("b", True))),
        "recorder-replace": recorder + entries(k, ("replace", ("b", True))),
        "recorder-replace-minus-one": recorder + entries(k, ("replace", ("n", -1))),
        "recorder-replace-object": recorder + entries(k, ("replace", ("o", "/org/imapid"))),
        "recorder-polkit": recorder + entries(k, ("auth.no_user_interaction", ("b", True))),
        "none-empty": none,
        "none-one": none + entries(k, ("verify", ("b", True))),
        "variants-all": variants + b"".join(
            key(k, name) + variant(*v) for name, v in [
                ("", ("y", 7)), ("x", ("t", 1 << 63)), ("xx", ("s", "text")), ("", ("t", 5)),
                ("x", ("i", -1)), ("x", ("i", 2)), ("xx", ("g", "a{sv}")), ("", ("d", 0.5)),
                ("x", ("b", True)), ("xx", ("v", ("s", "inner"))), ("", ("ai", (1, 2)))]),
    }
    for name, data in seeds.items():
        write(folder, name, data)


def recorder_seeds(folder):
    k = ["WriteSpeed", "AudioGapSize", "EnableBufferUnderrunFree", "MaxWriteSpeed", "BufferUnderrunFreeCapable",
         "auth.no_user_interaction", "writespeed", ""]
    free, caller, other, busy = b"\0", b"\1", b"\2", b"\4"
    seeds = {
        "empty": free,
        "all": free + entries(k, ("WriteSpeed", ("i", 8)), ("AudioGapSize", ("i", 150)),
                              ("EnableBufferUnderrunFree", ("i", -1))),
        "speed-highest": free + entries(k, ("WriteSpeed", ("i", -1))),
        "speed-zero": free + entries(k, ("WriteSpeed", ("u", 0))),
        "speed-over": free + entries(k, ("WriteSpeed", ("i", 1001))),
        "speed-minus-two": free + entries(k, ("WriteSpeed", ("x", -2))),
        "speed-t-huge": free + entries(k, ("WriteSpeed", ("t", 1 << 63))),
        "speed-string": free + entries(k, ("WriteSpeed", ("s", "8"))),
        "gap-max": free + entries(k, ("AudioGapSize", ("q", 225))),
        "gap-over": free + entries(k, ("AudioGapSize", ("q", 226))),
        "gap-negative": free + entries(k, ("AudioGapSize", ("n", -1))),
        "buf-two": free + entries(k, ("EnableBufferUnderrunFree", ("y", 2))),
        "buf-bool": free + entries(k, ("EnableBufferUnderrunFree", ("b", True))),
        "read-only": free + entries(k, ("MaxWriteSpeed", ("i", 48)), ("BufferUnderrunFreeCapable", ("i", -1))),
        "unknown": free + entries(k, ("writespeed", ("i", 4)), ("", ("s", "x"))),
        "polkit": free + entries(k, ("auth.no_user_interaction", ("b", True)), ("WriteSpeed", ("i", 4))),
        "last-wins": free + entries(k, ("WriteSpeed", ("i", 5000)), ("WriteSpeed", ("i", 4))),
        "held-by-caller": caller + entries(k, ("WriteSpeed", ("i", 4))),
        "held-by-other": other + entries(k, ("WriteSpeed", ("i", 4))),
        "busy": busy + entries(k, ("AudioGapSize", ("i", 0))),
        "busy-bad-value": busy + entries(k, ("AudioGapSize", ("i", -5))),
    }
    for name, data in seeds.items():
        write(folder, name, data)


def joliet_seeds(folder):
    k = ["VolumeName", "PlaceBootImageOnDisc", "BootImageManufacturerIDString", "BootImagePlatform",
         "BootImageEmulationType", "BootImage", "volumename", ""]
    seeds = {
        "empty": b"",
        "volume": entries(k, ("VolumeName", ("s", "BACKUP_2026"))),
        "volume-16": entries(k, ("VolumeName", ("s", "abcdefghijklmnop"))),
        "volume-17": entries(k, ("VolumeName", ("s", "abcdefghijklmnopq"))),
        "volume-empty": entries(k, ("VolumeName", ("s", ""))),
        "volume-slash": entries(k, ("VolumeName", ("s", "a/b"))),
        "volume-colon": entries(k, ("VolumeName", ("s", "a:b"))),
        "volume-control": entries(k, ("VolumeName", ("s", "a\tb"))),
        "volume-c1": entries(k, ("VolumeName", ("s", "a\u0085b"))),
        "volume-bidi": entries(k, ("VolumeName", ("s", "a\u202eb"))),
        "volume-chinese": entries(k, ("VolumeName", ("s", "光盘备份"))),
        "volume-astral": entries(k, ("VolumeName", ("s", "disc \U0001F4BF"))),
        "volume-int": entries(k, ("VolumeName", ("i", 7))),
        "volume-last-wins": entries(k, ("VolumeName", ("s", "FIRST")), ("VolumeName", ("s", "SECOND"))),
        "boot-false": entries(k, ("PlaceBootImageOnDisc", ("b", False)), ("BootImagePlatform", ("y", 0)),
                              ("BootImageEmulationType", ("y", 0))),
        "boot-true": entries(k, ("PlaceBootImageOnDisc", ("b", True))),
        "boot-platform": entries(k, ("BootImagePlatform", ("y", 1))),
        "boot-string": entries(k, ("BootImageManufacturerIDString", ("s", "x"))),
        "boot-image": entries(k, ("BootImage", ("s", "/boot.img"))),
        "boot-efi": entries(k, ("PlaceBootImageOnDisc", ("b", True)), ("BootImagePlatform", ("y", 0xEF)),
                            ("BootImageEmulationType", ("y", 0)), ("BootImageManufacturerIDString", ("s", "IMAPID"))),
        "boot-platform-3": entries(k, ("BootImagePlatform", ("y", 3))),
        "boot-platform-int": entries(k, ("BootImagePlatform", ("i", 0xEF))),
        "boot-emulation-hd": entries(k, ("BootImageEmulationType", ("y", 4))),
        "boot-emulation-5": entries(k, ("BootImageEmulationType", ("y", 5))),
        "boot-emulation-negative": entries(k, ("BootImageEmulationType", ("i", -1))),
        "boot-string-24": entries(k, ("BootImageManufacturerIDString", ("s", "x" * 24))),
        "boot-string-25": entries(k, ("BootImageManufacturerIDString", ("s", "x" * 25))),
        "boot-string-control": entries(k, ("BootImageManufacturerIDString", ("s", "a\tb"))),
        "boot-string-utf8": entries(k, ("BootImageManufacturerIDString", ("s", "\u00fc"))),
        "boot-place-int": entries(k, ("PlaceBootImageOnDisc", ("i", 2))),
        "boot-platform-string": entries(k, ("BootImagePlatform", ("s", "0"))),
        "unknown": entries(k, ("volumename", ("s", "x")), ("", ("b", True)), ("Other", ("i", 1))),
    }
    for name, data in seeds.items():
        write(folder, name, data)


# fuzz-staging.c's name components.
PARTS = ["a", "b", "A", "a.txt", "dir", "x y", "\u00fc", "a.", "..", ""]


def staged(path, is_dir=False, size=(1, 11)):
    """One request: a path of PARTS (or raw bytes), a directory or a file of size[0] << size[1]."""
    if isinstance(path, bytes):
        name = bytes([0x80 | len(path)]) + path
    else:
        slash = path.startswith("/")
        parts = path.lstrip("/").split("/")
        name = bytes([(0x40 if slash else 0) | (len(parts) - 1)]) + bytes(PARTS.index(p) for p in parts)
    if is_dir:
        return name + b"\1"
    return name + b"\0" + bytes(size)


def batch(*reqs, overwrite=False, drop=False, ensure=False):
    flags = len(reqs) | (0x20 if overwrite else 0) | (0x40 if drop else 0) | (0x80 if ensure else 0)
    return bytes([flags]) + b"".join(reqs)


def staging_seeds(folder):
    seeds = {
        "files": batch(staged("a"), staged("b"), staged("dir/a.txt")),
        "dirs": batch(staged("dir", True), staged("dir/a", True), staged("dir/a/b")),
        "same-name": batch(staged("a"), staged("a")),
        "same-name-overwrite": batch(staged("a"), staged("a", size=(2, 20)), overwrite=True),
        "again": batch(staged("a")) + batch(staged("/a")),
        "again-overwrite": batch(staged("a")) + batch(staged("a", size=(255, 30)), overwrite=True),
        "under-file": batch(staged("a")) + batch(staged("a/b")),
        "under-file-in-batch": batch(staged("a"), staged("a/b"), overwrite=True),
        "file-over-dir": batch(staged("a", True)) + batch(staged("a"), overwrite=True),
        "file-over-implied-dir": batch(staged("a/b")) + batch(staged("a"), overwrite=True),
        "dir-over-file": batch(staged("a")) + batch(staged("a", True)),
        "dir-twice": batch(staged("a", True), staged("a", True)) + batch(staged("a", True)),
        "dir-over-implied": batch(staged("a/b/dir")) + batch(staged("a/b", True)),
        "case": batch(staged("a"), staged("A"), staged("a."), staged("a.txt")),
        "unicode": batch(staged("\u00fc/x y"), staged("x y/\u00fc")),
        "dropped-index": batch(staged("a"), staged("b")) + batch(staged("a"), drop=True) +
                         batch(staged("b", size=(9, 9)), drop=True, ensure=True, overwrite=True),
        "bad-name": batch(staged("a"), staged("a/../b")) + batch(staged(b"a//b")),
        "dot-dot": batch(staged(".."), staged("a")),
        "raw": batch(staged(b"/dir/file.txt"), staged(b"dir\x01"), staged(b"dir/\xe2\x80\xae")),
        "big": batch(staged("a", size=(255, 39)), staged("b", size=(255, 39)), staged("dir/a", size=(1, 0))),
        "many": batch(*(staged(p + "/" + q) for p in PARTS[:4] for q in PARTS[:4])),
        "empty-batch": batch() + batch(staged("a")),
    }
    for name, data in seeds.items():
        write(folder, name, data)


def disc(total, gap, *ops):
    """fuzz-redbook's input: the disc's free blocks, AudioGapSize, then the operations."""
    return struct.pack("<I", total)[:3] + bytes([gap]) + b"".join(ops)


def create(hint=0):
    return b"\0" + struct.pack("<i", hint)


def add(blocks):
    return b"\1" + struct.pack("<I", blocks)[:3]


CLOSE = b"\2"


def set_gap(gap):
    return b"\3" + bytes([gap])


def redbook_seeds(folder):
    cd = 359849         # an 80-minute CD-R's free blocks
    seeds = {
        "one-track": disc(cd, 150, create(), add(300), CLOSE),
        "too-short": disc(cd, 150, create(), add(299), CLOSE, add(1), CLOSE),
        "close-none": disc(cd, 150, CLOSE),
        "create-twice": disc(cd, 150, create(1000), create()),
        "fill": disc(cd, 150, create(), add(200000), CLOSE, create(), add(0xFFFFFF), CLOSE, create(), add(1)),
        "full-exactly": disc(1000, 100, create(), add(600), CLOSE, create(), add(300), CLOSE, create()),
        "gap-grows": disc(cd, 0, create(), add(cd), CLOSE, set_gap(225), create(), add(10)),
        "gap-shrinks": disc(cd, 225, create(), add(300), CLOSE, set_gap(0), create(), add(cd)),
        "no-room": disc(0, 150, create(), add(1), CLOSE),
        "tiny-disc": disc(301, 2, create(), add(300), CLOSE, create(), add(5)),
        "tracks-99": disc(0xFFFFFF, 0, *([create(), add(300), CLOSE] * 99), create(), add(300)),
        "hint-large": disc(cd, 150, create(0x7FFFFFFF), add(400), CLOSE),
        "room-for-299": disc(1099, 100, create(), add(700), CLOSE, create(), add(1)),
    }
    for name, data in seeds.items():
        write(folder, name, data)


class Marshal:
    """D-Bus' little-endian wire format, for the few types the seeds need."""

    def __init__(self):
        self.b = bytearray()

    def pad(self, n):
        self.b += bytes(-len(self.b) % n)

    def value(self, sig, v):
        if sig in "so":
            e = v.encode()
            self.pad(4)
            self.b += struct.pack("<I", len(e)) + e + b"\0"
        elif sig == "g":
            e = v.encode()
            self.b += bytes([len(e)]) + e + b"\0"
        elif sig == "y":
            self.b += bytes([v])
        elif sig in "ub":
            self.pad(4)
            self.b += struct.pack("<I", int(v))
        elif sig == "a{sv}":
            # v: [(key, signature, value)]
            self.pad(4)
            at = len(self.b)
            self.b += bytes(4)
            self.pad(8)
            start = len(self.b)
            for k, vs, vv in v:
                self.pad(8)
                self.value("s", k)
                self.value("g", vs)
                self.value(vs, vv)
            struct.pack_into("<I", self.b, at, len(self.b) - start)
        else:
            raise ValueError(sig)


def dbus_call(serial, path, interface, member, sig="", *args, destination="org.imapid.Imapi1"):
    body = Marshal()
    types = []
    rest = sig
    while rest:
        t = "a{sv}" if rest.startswith("a{sv}") else rest[0]
        types.append(t)
        rest = rest[len(t):]
    for t, a in zip(types, args):
        body.value(t, a)
    fields = [(1, "o", path), (3, "s", member), (6, "s", destination)]
    if interface:
        fields.append((2, "s", interface))
    if sig:
        fields.append((8, "g", sig))
    h = Marshal()
    h.b += b"l" + bytes([1, 0, 1]) + struct.pack("<II", len(body.b), serial)
    h.b += bytes(4)
    start = len(h.b)
    for code, fs, fv in fields:
        h.pad(8)
        h.value("y", code)
        h.value("g", fs)
        h.value(fs, fv)
    struct.pack_into("<I", h.b, 12, len(h.b) - start)
    h.pad(8)
    return bytes(h.b) + bytes(body.b)


AUTH = b"\0AUTH EXTERNAL %s\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n" % str(os.getuid()).encode().hex().encode()
DRIVER = ("/org/freedesktop/DBus", "org.freedesktop.DBus")
MANAGER = ("/org/imapid/Imapi1/Manager", "org.imapid.Imapi1.Manager")
MASTER1 = "/org/imapid/Imapi1/masters/1"


def p2p_seeds(folder):
    hello = dbus_call(1, *DRIVER, "Hello")
    create = dbus_call(2, *MANAGER, "CreateDiscMaster", "a{sv}", [])
    seeds = {
        "auth-only": AUTH,
        "auth-anonymous": b"\0AUTH ANONYMOUS\r\nBEGIN\r\n",
        "auth-wrong-uid": b"\0AUTH EXTERNAL 3939393939\r\nBEGIN\r\n",
        "auth-no-nul": b"AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n",
        "hello": AUTH + hello,
        "driver": AUTH + hello + dbus_call(2, *DRIVER, "GetNameOwner", "s", "org.imapid.Imapi1") +
        dbus_call(3, *DRIVER, "NameHasOwner", "s", "org.example.Nobody") + dbus_call(4, *DRIVER, "ListNames") +
        dbus_call(5, *DRIVER, "GetId") + dbus_call(6, *DRIVER, "AddMatch", "s", "type='signal'"),
        "create-master": AUTH + hello + create,
        "master-open": AUTH + hello + create +
        dbus_call(3, MASTER1, "org.imapid.Imapi1.DiscMaster", "Open", "a{sv}", []) +
        dbus_call(4, MASTER1, "org.imapid.Imapi1.DiscMaster", "EnumDiscMasterFormats") +
        dbus_call(5, MASTER1, "org.imapid.Imapi1.DiscMaster", "SetActiveDiscMasterFormat", "sa{sv}",
                  "org.imapid.Imapi1.JolietDiscMaster", []) +
        dbus_call(6, MASTER1, "org.imapid.Imapi1.JolietDiscMaster", "GetJolietProperties"),
        "get-recorders": AUTH + hello + dbus_call(2, *MANAGER, "GetRecorders") + dbus_call(3, *MANAGER, "GetJobs"),
        "introspect": AUTH + hello + dbus_call(2, "/org/imapid/Imapi1", "org.freedesktop.DBus.Introspectable",
                                               "Introspect"),
        "properties": AUTH + hello + dbus_call(2, *MANAGER[:1], "org.freedesktop.DBus.Properties", "GetAll", "s",
                                               "org.imapid.Imapi1.Manager"),
        "no-hello": AUTH + create,
    }
    for name, data in seeds.items():
        write(folder, name, data)


JOLIET_IID = "e3bc42ce-4e5c-11d3-9144-00104ba11c5e"
REDBOOK_IID = "e3bc42cd-4e5c-11d3-9144-00104ba11c5e"
IMAGE_IID = "6d1a3a5e-2f0b-4c47-9c8e-1b2f8e5a0d13"


def format_seeds(folder):
    seeds = {
        "joliet": "joliet", "redbook-upper": "REDBOOK", "image": "Image", "iid": JOLIET_IID,
        "iid-braces": "{%s}" % REDBOOK_IID.upper(), "iid-image": IMAGE_IID, "brace-open": "{" + JOLIET_IID,
        "brace-only-close": JOLIET_IID + "}", "name-braced": "{joliet}", "nul-guid": "{00000000-0000-0000-0000-000000000000}",
        "prefix": "jolie", "suffix": "joliets", "empty": "", "space": " joliet", "turkish-i": "\u0130mage",
    }
    for name, text in seeds.items():
        write(folder, name, text.encode())


def paths(*names):
    return b"".join(string(n) for n in names)


def image_order_seeds(folder):
    seeds = {
        "tree": paths("docs", "docs/a.txt", "b.txt", "docs/sub", "docs/sub/c"),
        "slash-and-space": paths("a/b", "a b", "a", "a-b", "a.b", "a0"),
        "leading-slash": paths("/a", "a", "/b", "b"),
        "same-path": paths("x", "y", "x", "x"),
        "utf8": paths("\u00e9t\u00e9", "ete", "\u65e5\u672c", "Z", "z"),
        "reverse": paths(*["f%03d" % i for i in range(40, 0, -1)]),
    }
    for name, data in seeds.items():
        write(folder, name, data)


# fuzz-add-data.c's tree_names[] and fd kinds.
TREE = ["docs", "a.txt", "b.txt", "sub", "A.TXT", "a.txt.", "a", "b", "x/y", "..", ".", "",
        "\u00e9t\u00e9", "a b", "name;1", "\ufffe", "con"]
FD_EMPTY, FD_SMALL, FD_BLOCKS, FD_SPARSE, FD_DIR, FD_NULL, FD_PIPE, FD_OTHER = range(8)


def add_entry(fd, *components):
    out = bytes([len(components) - 1])
    for c in components:
        out += bytes([TREE.index(c)]) if c in TREE else bytes([len(TREE)]) + string(c)
    return bytes([fd]) + out


def add_call(*entries, overwrite=False):
    return bytes([(len(entries) << 1) | overwrite]) + b"".join(entries)


def add_data_seeds(folder):
    seeds = {
        "tree": add_call(add_entry(FD_DIR, "docs"), add_entry(FD_SMALL, "docs", "a.txt"),
                         add_entry(FD_BLOCKS, "b.txt"), add_entry(FD_EMPTY, "docs", "sub", "a")),
        "again": add_call(add_entry(FD_SMALL, "a.txt")) + add_call(add_entry(FD_BLOCKS, "a.txt")) +
        add_call(add_entry(FD_BLOCKS, "a.txt"), overwrite=True),
        "file-then-dir": add_call(add_entry(FD_SMALL, "a")) + add_call(add_entry(FD_SMALL, "a", "b")) +
        add_call(add_entry(FD_DIR, "a"), overwrite=True),
        "case": add_call(add_entry(FD_SMALL, "a.txt"), add_entry(FD_SMALL, "A.TXT")),
        "same-in-batch": add_call(add_entry(FD_SMALL, "b"), add_entry(FD_BLOCKS, "b")),
        "bad-names": add_call(add_entry(FD_SMALL, "..")) + add_call(add_entry(FD_SMALL, "")) +
        add_call(add_entry(FD_SMALL, "\ufffe")) + add_call(add_entry(FD_SMALL, "x/y", ".")),
        "bad-fds": add_call(add_entry(FD_NULL, "n")) + add_call(add_entry(FD_PIPE, "p")) +
        add_call(add_entry(FD_OTHER, "w")) + add_call(add_entry(FD_OTHER, "s", "t")),
        "sparse-twice": add_call(add_entry(FD_SPARSE, "big"), add_entry(FD_SPARSE, "sub", "big")),
        "long-name": add_call(add_entry(FD_SMALL, "x" * 200)),
        "empty-batch": add_call() + add_call(overwrite=True),
    }
    for name, data in seeds.items():
        write(folder, name, data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    option_seeds(os.path.join(root, "corpus-bus-options"))
    recorder_seeds(os.path.join(root, "corpus-recorder-properties"))
    joliet_seeds(os.path.join(root, "corpus-joliet-properties"))
    staging_seeds(os.path.join(root, "corpus-staging"))
    redbook_seeds(os.path.join(root, "corpus-redbook"))
    p2p_seeds(os.path.join(root, "corpus-p2p"))
    format_seeds(os.path.join(root, "corpus-format"))
    image_order_seeds(os.path.join(root, "corpus-image-order"))
    add_data_seeds(os.path.join(root, "corpus-add-data"))


if __name__ == "__main__":
    main()
