#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recorders over D-Bus from Python's dbus module: IDiscRecorder's rules and their error names."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import ERR, MANAGER, ROOT, BUS_NAME, Harness, expect_dbus_error, run_tests, wait_until  # noqa: E402

import dbus  # noqa: E402

REC = "org.imapid.Imapi1.Recorder"
PROPS = "org.freedesktop.DBus.Properties"
MEDIA_SPECIAL, MEDIA_BLANK, MEDIA_RW, MEDIA_WRITABLE = 6, 0x1, 0x2, 0x4
S_OK, S_PROPERTIESIGNORED = 0, 0x00040200


def recorder(bus, h, index=0):
    return dbus.Interface(bus.get_object(BUS_NAME, h.recorder_path(index)), REC)


def prop(bus, path, name, iface=REC):
    return bus.get_object(BUS_NAME, path).Get(iface, name, dbus_interface=PROPS)


def test_recorders_listed():
    with Harness(drives=2) as h:
        bus = h.dbus()
        mgr = dbus.Interface(bus.get_object(BUS_NAME, MANAGER), "org.imapid.Imapi1.Manager")
        paths = [str(p) for p in mgr.GetRecorders()]
        assert paths == [h.recorder_path(0), h.recorder_path(1)], paths
        objs = dbus.Interface(bus.get_object(BUS_NAME, ROOT),
                              "org.freedesktop.DBus.ObjectManager").GetManagedObjects()
        assert h.recorder_path(1) in objs and REC in objs[h.recorder_path(1)], objs.keys()
        rec = objs[h.recorder_path(0)][REC]
        assert rec["Address"] == h.images[0], rec["Address"]
        assert rec["Vendor"] == "YOYODYNE" and rec["Product"] == "WARP DRIVE", rec
        assert rec["State"] == 0 and rec["ExclusiveOwner"] == ""
        assert rec["MediaStatus"] == "blank" and rec["CurrentProfile"] == 0xFFFF, rec
        r = recorder(bus, h)
        assert tuple(r.GetDisplayNames()) == ("YOYODYNE", "WARP DRIVE", "FX01")
        assert r.GetPath() == h.images[0]
        assert len(r.GetRecorderGUID()) == 16
        assert r.GetRecorderGUID() != recorder(bus, h, 1).GetRecorderGUID()
        assert r.GetBasePnPID() == "YOYODYNEWARP DRIVEFX01"


def test_notopened_before_open_exclusive():
    with Harness() as h:
        r = recorder(h.dbus(), h)
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", r.QueryMediaType)
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", r.QueryMediaInfo)
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", r.Eject, {})
        e = expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", r.Close, {})
        assert e.get_dbus_message().startswith("0x8004020B: "), e.get_dbus_message()


def test_open_query_close():
    with Harness() as h:
        bus = h.dbus()
        r = recorder(bus, h)
        r.OpenExclusive({})
        assert prop(bus, h.recorder_path(), "State") == 1
        assert prop(bus, h.recorder_path(), "ExclusiveOwner").startswith(bus.get_unique_name())
        assert r.GetRecorderState() == 1
        mtype, flags = r.QueryMediaType()
        # an image file can be erased and written over, as a rewritable disc
        assert mtype == MEDIA_SPECIAL and flags == MEDIA_BLANK | MEDIA_RW | MEDIA_WRITABLE, (mtype, flags)
        sessions, last_track, start, nwa, free = r.QueryMediaInfo()
        st = os.statvfs(h.tmp)
        # its first file system goes at block 32, after the head that points readers at it
        assert sessions == 0 and last_track == 0 and nwa == 32
        # a file "disc" has the free space of its file system, in 2048-byte blocks
        expect = st.f_bavail * st.f_frsize // 2048
        assert abs(int(free) - expect) < expect // 100 + 1024, (free, expect)
        expect_dbus_error(ERR + "IMAPI_E_ALREADYOPEN", r.OpenExclusive, {})
        r.Eject({})
        assert r.GetRecorderState() == 1, "Eject keeps the exclusive access"
        r.Close({})
        assert prop(bus, h.recorder_path(), "State") == 0
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", r.QueryMediaType)


def test_second_client_refused_and_disconnect_releases():
    with Harness() as h:
        a, b = h.dbus(), h.dbus()
        recorder(a, h).OpenExclusive({})
        rb = recorder(b, h)
        e = expect_dbus_error(ERR + "IMAPI_E_DEVICE_STILL_IN_USE", rb.OpenExclusive, {})
        assert e.get_dbus_message().startswith("0x80040226: "), e.get_dbus_message()
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", rb.QueryMediaType)
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", rb.Close, {})
        expect_dbus_error(ERR + "IMAPI_E_DEVICE_STILL_IN_USE", rb.SetRecorderProperties, {"WriteSpeed": 4})
        # The holder goes away without Close: imapid releases the recorder.
        a.close()
        wait_until(lambda: prop(b, h.recorder_path(), "State") == 0, "the recorder to be released")
        rb.OpenExclusive({})
        assert rb.QueryMediaType()[0] == MEDIA_SPECIAL
        rb.Close({})


def test_properties_ignored_and_validated():
    with Harness() as h:
        bus = h.dbus()
        r = recorder(bus, h)
        p = r.GetRecorderProperties()
        assert set(p.keys()) == {"WriteSpeed", "MaxWriteSpeed", "AudioGapSize", "BufferUnderrunFreeCapable",
                                 "EnableBufferUnderrunFree"}, p.keys()
        assert p["AudioGapSize"] == 150 and p["EnableBufferUnderrunFree"] == -1
        assert r.SetRecorderProperties({"AudioGapSize": dbus.Int32(75)}) == S_OK
        assert r.GetRecorderProperties()["AudioGapSize"] == 75
        # read-only and unknown names: a success code, nothing else changes
        hr = r.SetRecorderProperties({"MaxWriteSpeed": dbus.Int32(99), "ClearlyNeverHeardOfBefore": "x",
                                      "AudioGapSize": dbus.Int32(150)})
        assert hr == S_PROPERTIESIGNORED, hex(hr)
        p = r.GetRecorderProperties()
        assert p["MaxWriteSpeed"] == 0 and p["AudioGapSize"] == 150, p
        # invalid values: E_INVALIDARG, and the valid part of the same call is not applied
        expect_dbus_error(ERR + "E_INVALIDARG", r.SetRecorderProperties,
                          {"AudioGapSize": dbus.Int32(10), "WriteSpeed": dbus.Int32(-7)})
        expect_dbus_error(ERR + "E_INVALIDARG", r.SetRecorderProperties, {"AudioGapSize": dbus.Int32(226)})
        expect_dbus_error(ERR + "E_INVALIDARG", r.SetRecorderProperties, {"EnableBufferUnderrunFree": "on"})
        # polkit's option is no property, but a wrong type is named all the same
        for bad in ("yes", dbus.UInt64(2 ** 63)):
            e = expect_dbus_error(ERR + "E_INVALIDARG", r.SetRecorderProperties,
                                  {"AudioGapSize": dbus.Int32(10), "auth.no_user_interaction": bad})
            assert "auth.no_user_interaction takes a boolean" in e.get_dbus_message(), e.get_dbus_message()
        assert r.GetRecorderProperties()["AudioGapSize"] == 150
        # unknown options are refused, not ignored
        expect_dbus_error(ERR + "E_INVALIDARG", r.OpenExclusive, {"bogus": dbus.Int32(1)})
        assert prop(bus, h.recorder_path(), "State") == 0


def test_imapictl():
    with Harness(drives=2) as h:
        out = h.ctl("--json", "devices", check=0).stdout
        devs = json.loads(out)
        assert [d["id"] for d in devs] == ["stdio0", "stdio1"], devs
        assert devs[1]["address"] == h.images[1] and devs[0]["vendor"] == "YOYODYNE"
        table = h.ctl("devices", check=0).stdout
        assert "stdio1" in table and h.images[1] in table, table
        media = json.loads(h.ctl("--json", "media", "stdio:" + h.images[1], check=0).stdout)
        assert media["recorder"] == "stdio1" and media["media_type"] == MEDIA_SPECIAL, media
        assert media["media_flags"] == MEDIA_BLANK | MEDIA_RW | MEDIA_WRITABLE and media["free_blocks"] > 0, media
        assert "Media type:     6 (MEDIA_SPECIAL)" in h.ctl("media", "1", check=0).stdout
        # naming recorders that do not exist
        r = h.ctl("media", "7", check=4)
        assert "no recorder 7" in r.stderr, r.stderr
        h.ctl("media", "nonesuch", check=4)
        # an IMAPI error: another client holds the recorder
        holder = h.dbus()
        recorder(holder, h).OpenExclusive({})
        r = h.ctl("media", "0", check=1)
        assert "OpenExclusive: org.imapid.Imapi1.Error.IMAPI_E_DEVICE_STILL_IN_USE: 0x80040226: " in r.stderr, r.stderr
        r = h.ctl("properties", "0", "AudioGapSize=1", check=1)
        assert "org.imapid.Imapi1.Error.IMAPI_E_DEVICE_STILL_IN_USE: 0x80040226: " in r.stderr, r.stderr
        holder.close()
        wait_until(lambda: json.loads(h.ctl("--json", "devices").stdout)[0]["state"] == "idle", "release")
        r = h.ctl("properties", "1", "AudioGapSize=100", "Bogus=1", check=0)
        assert "IMAPI_S_PROPERTIESIGNORED" in r.stderr and "AudioGapSize              100" not in r.stdout
        assert "AudioGapSize               100" in r.stdout, r.stdout
        # --json keys are snake_case, as in devices: the IMAPI names WriteSpeed, AudioGapSize ...
        props = json.loads(h.ctl("--json", "properties", "1", check=0).stdout)
        assert props["audio_gap_size"] == 100 and props["write_speed"] == devs[1]["write_speed"], props
        assert {"max_write_speed", "enable_buffer_underrun_free", "buffer_underrun_free_capable"} <= set(props), props
        r = h.ctl("properties", "1", "AudioGapSize=abc", check=2)
        h.ctl("frobnicate", check=2)
        assert h.ctl("--help", check=0).stdout.startswith("Usage: imapictl")


def test_imapictl_without_daemon():
    with Harness(start=False) as h:
        r = h.ctl("devices", check=3)
        assert "not running" in r.stderr, r.stderr


if __name__ == "__main__":
    run_tests([test_recorders_listed, test_notopened_before_open_exclusive, test_open_query_close,
               test_second_client_refused_and_disconnect_releases, test_properties_ignored_and_validated,
               test_imapictl, test_imapictl_without_daemon])
