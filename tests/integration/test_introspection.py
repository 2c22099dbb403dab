#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The live objects match dbus/org.imapid.Imapi1.xml, the API's source of truth, member for member,
annotations included."""

import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import BUS_NAME, JOB, MANAGER, SRCDIR, Harness, Master, run_tests  # noqa: E402

import dbus  # noqa: E402

XML = os.path.join(SRCDIR, "dbus", "org.imapid.Imapi1.xml")


def annotations(element):
    return tuple(sorted((a.get("name"), a.get("value")) for a in element.findall("annotation")))


def members(iface):
    """{(kind, name): signature, direction and annotations} of an <interface> element. Annotations
    count: EmitsChangedSignal tells generated code and clients whether to expect PropertiesChanged."""
    out = {("interface", iface.get("name")): annotations(iface)}
    for m in iface:
        if m.tag == "method":
            args = tuple((a.get("type"), a.get("direction", "in"), a.get("name")) for a in m.findall("arg"))
            out[("method", m.get("name"))] = (args, annotations(m))
        elif m.tag == "signal":
            args = tuple((a.get("type"), a.get("name")) for a in m.findall("arg"))
            out[("signal", m.get("name"))] = (args, annotations(m))
        elif m.tag == "property":
            out[("property", m.get("name"))] = (m.get("type"), m.get("access"), annotations(m))
    return out


def spec():
    return {i.get("name"): members(i) for i in ET.parse(XML).getroot().findall("interface")}


def live(bus, path):
    xml = bus.get_object(BUS_NAME, path).Introspect(dbus_interface="org.freedesktop.DBus.Introspectable")
    return {i.get("name"): members(i) for i in ET.fromstring(xml).findall("interface")
            if i.get("name").startswith("org.imapid.")}


def compare(want, got, where):
    for key in sorted(set(want) | set(got)):
        assert key in got, f"{where}: {key} is in the XML but not served"
        assert key in want, f"{where}: {key} is served but not in the XML"
        assert want[key] == got[key], f"{where}: {key}: XML {want[key]} != served {got[key]}"


def test_served_interfaces_match_xml():
    with Harness() as h:
        bus = h.dbus()
        s = spec()
        seen = set()
        m = Master(bus)
        data = os.path.join(h.tmp, "data.bin")
        with open(data, "wb") as f:
            f.write(os.urandom(4 * 1024 * 1024))
        m.add([("data.bin", data)])
        # a slow burn, so that its job can be looked at
        job = str(m.dm.RecordDisc(False, False, {"write_speed_kbps": dbus.UInt32(500)}))
        for path in (MANAGER, h.recorder_path(0), m.path, job):
            for name, got in live(bus, path).items():
                assert name in s, f"{path} serves {name}, which the XML does not describe"
                compare(s[name], got, f"{path} {name}")
                seen.add(name)
        bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface=JOB)
        # every interface the XML describes is served
        assert set(s) == seen, (set(s), seen)


def test_const_properties_are_marked():
    """The XML says which properties never change, and that is what the daemon says too (above); here
    the other half: a property marked const is one whose value a client may cache."""
    root = ET.parse(XML).getroot()
    const = sorted(f"{i.get('name')}.{p.get('name')}" for i in root.findall("interface") for p in i.findall("property")
                   if ("org.freedesktop.DBus.Property.EmitsChangedSignal", "const") in annotations(p))
    assert "org.imapid.Imapi1.Recorder.Id" in const and "org.imapid.Imapi1.Job.Operation" in const, const
    assert not [c for c in const if c.endswith((".State", ".Phase", ".Progress", ".MediaStatus"))], const


def test_xml_is_valid_introspection():
    root = ET.parse(XML).getroot()
    assert root.tag == "node"
    for i in root.findall("interface"):
        assert i.get("name").startswith("org.imapid.Imapi1."), i.get("name")
        for m in i:
            if m.tag == "annotation":
                continue
            assert m.get("name") and m.get("name")[0].isupper(), m.get("name")
            for a in m.findall("arg"):
                assert a.get("name") and a.get("type"), (m.get("name"), a.attrib)


if __name__ == "__main__":
    run_tests([test_served_interfaces_match_xml, test_const_properties_are_marked, test_xml_is_valid_introspection])
