#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Talks SG_IO to an emulated /dev/sr0 the way a program does, through libc's
ioctl(), and checks the transport: status, sense, resid, unit attentions when
the disc is swapped under a running program, ENODEV after removal.

    sgio-check.py STATE_DIR RUN_WRAPPER     (run under the emulator)
"""
import ctypes
import errno
import fcntl
import os
import stat
import subprocess
import sys

SG_IO = 0x2285
SG_DXFER_NONE, SG_DXFER_TO_DEV, SG_DXFER_FROM_DEV = -1, -2, -3


class SgIoHdr(ctypes.Structure):
    _fields_ = [
        ("interface_id", ctypes.c_int), ("dxfer_direction", ctypes.c_int),
        ("cmd_len", ctypes.c_ubyte), ("mx_sb_len", ctypes.c_ubyte),
        ("iovec_count", ctypes.c_ushort), ("dxfer_len", ctypes.c_uint),
        ("dxferp", ctypes.c_void_p), ("cmdp", ctypes.c_void_p), ("sbp", ctypes.c_void_p),
        ("timeout", ctypes.c_uint), ("flags", ctypes.c_uint), ("pack_id", ctypes.c_int),
        ("usr_ptr", ctypes.c_void_p), ("status", ctypes.c_ubyte), ("masked_status", ctypes.c_ubyte),
        ("msg_status", ctypes.c_ubyte), ("sb_len_wr", ctypes.c_ubyte),
        ("host_status", ctypes.c_ushort), ("driver_status", ctypes.c_ushort),
        ("resid", ctypes.c_int), ("duration", ctypes.c_uint), ("info", ctypes.c_uint),
    ]


def sgio(fd, cdb, alloc=0):
    cdb_buf = (ctypes.c_ubyte * len(cdb))(*cdb)
    data = (ctypes.c_ubyte * max(alloc, 1))()
    sense = (ctypes.c_ubyte * 32)()
    h = SgIoHdr(interface_id=ord("S"),
                dxfer_direction=SG_DXFER_FROM_DEV if alloc else SG_DXFER_NONE,
                cmd_len=len(cdb), mx_sb_len=32, dxfer_len=alloc,
                dxferp=ctypes.addressof(data), cmdp=ctypes.addressof(cdb_buf),
                sbp=ctypes.addressof(sense), timeout=30000)
    buf = bytearray(bytes(h))
    fcntl.ioctl(fd, SG_IO, buf, True)
    h = SgIoHdr.from_buffer_copy(bytes(buf))
    key = (sense[2] & 0xf, sense[12], sense[13]) if h.sb_len_wr else None
    return h, key, bytes(data)[:alloc]


failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAILED: ") + what)
    if not cond:
        failures += 1


state, run = sys.argv[1], sys.argv[2]
fd = os.open("/dev/sr0", os.O_RDWR | os.O_EXCL | os.O_NONBLOCK)

h, key, _ = sgio(fd, [0x00, 0, 0, 0, 0, 0])
check(h.status == 0 and h.sb_len_wr == 0 and h.driver_status == 0 and h.info == 0, "TUR: GOOD, no sense")

h, key, data = sgio(fd, [0x12, 0, 0, 0, 36, 0], 36)
check(h.status == 0 and data[0] == 5 and h.resid == 0, "INQUIRY 36 bytes, resid 0")

h, key, data = sgio(fd, [0x51, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0], 256)
check(h.status == 0 and h.resid == 256 - 34, "READ DISC INFORMATION: 34 bytes, resid %d" % h.resid)

h, key, _ = sgio(fd, [0xe7, 0, 0, 0, 0, 0, 0, 0, 0, 0])
check(h.status == 2 and h.masked_status == 1 and key == (5, 0x20, 0) and h.sb_len_wr == 18
      and h.driver_status == 0x08 and h.info & 1, "unknown opcode: CHECK CONDITION, 5/20/00, DRIVER_SENSE")

# Another process puts a different disc in: the running program gets one UNIT ATTENTION.
subprocess.run([run, "--state", state, "--media", "dvd+rw"], check=True)
h, key, _ = sgio(fd, [0x00, 0, 0, 0, 0, 0])
check(key == (6, 0x28, 0), "after the disc swap: UNIT ATTENTION 6/28/00")
h, key, _ = sgio(fd, [0x00, 0, 0, 0, 0, 0])
check(h.status == 0, "... once")
h, key, data = sgio(fd, [0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0], 8)
check(h.status == 0 and data[6:8] == b"\x00\x1a", "GET CONFIGURATION: now DVD+RW")

with open(os.path.join(state, "sr0", "faults"), "w") as f:
    f.write("medium-changed\n")
h, key, _ = sgio(fd, [0x00, 0, 0, 0, 0, 0])
check(key == (6, 0x28, 0), "medium-changed fault: UNIT ATTENTION")

with open(os.path.join(state, "sr0", "faults"), "w") as f:
    f.write("tray-open\n")
h, key, _ = sgio(fd, [0x00, 0, 0, 0, 0, 0])
check(key == (2, 0x3a, 2), "tray-open fault: 2/3A/02")
check(fcntl.ioctl(fd, 0x5326, 0) == 2, "CDROM_DRIVE_STATUS: CDS_TRAY_OPEN")

# Drives added to and taken from the state while the program runs: hot-plug.
try:
    os.stat("/dev/sr1")
    check(False, "no /dev/sr1 with one drive")
except FileNotFoundError:
    check(True, "no /dev/sr1 with one drive")
subprocess.run([run, "--state", state, "--drives", "2"], check=True)
check(stat.S_ISBLK(os.stat("/dev/sr1").st_mode), "/dev/sr1 appears when a drive is added")
fd1 = os.open("/dev/sr1", os.O_RDWR | os.O_EXCL | os.O_NONBLOCK)
h, key, data = sgio(fd1, [0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0], 8)
check(h.status == 0 and data[6:8] == b"\x00\x09", "the new drive holds a blank CD-R")
subprocess.run([run, "--state", state, "--drives", "1"], check=True)
try:
    sgio(fd1, [0x00, 0, 0, 0, 0, 0])
    check(False, "SG_IO on an unplugged drive fails")
except OSError as e:
    check(e.errno == errno.ENODEV, "SG_IO on an unplugged drive: ENODEV")
os.close(fd1)
check(not os.path.exists("/dev/sr1"), "/dev/sr1 is gone again")

with open(os.path.join(state, "sr0", "faults"), "w") as f:
    f.write("removed\n")
try:
    sgio(fd, [0x00, 0, 0, 0, 0, 0])
    check(False, "SG_IO on a removed drive fails")
except OSError as e:
    check(e.errno == errno.ENODEV, "SG_IO on a removed drive: ENODEV")
try:
    os.stat("/dev/sr0")
    check(False, "a removed drive's node is gone")
except FileNotFoundError:
    check(True, "a removed drive's node is gone")
os.close(fd)
sys.exit(1 if failures else 0)
