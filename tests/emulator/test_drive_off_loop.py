#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drive work that no call waits for runs in workers, never on the event loop
that answers the bus: hotplug's first look at a new drive (INQUIRY, GET CONFIGURATION, the disc).
With the emulator slowing such a command by seconds, another client's property read is answered
while the command is still in flight, which the emulator's record of the slow command's start and
end shows; the record also names the thread that waited, never imapid's main thread."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import BUS_NAME, MANAGER, PROPS, ROOT, Harness, run_tests, wait_until  # noqa: E402

import dbus  # noqa: E402

REC = "org.imapid.Imapi1.Recorder"
MGR = "org.imapid.Imapi1.Manager"
SR0, SR1 = ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"
INQUIRY = 0x12
MEDIA_SPECIAL = 6


def recorders(props):
    return [str(p) for p in props.Get(MGR, "Recorders")]


def read_while_slow(h, props, drive):
    """Reads the manager's Recorders once the drive is in a slow command, and tells whether the
    answer came while a command that had begun before the read was still in flight."""
    started = len(h.emu_slowed(drive))
    value = recorders(props)
    ended = len(h.emu_slowed(drive, ended=True))
    return value, ended < started


def main_thread_never_waited(h, drive):
    slowed = h.emu_slowed(drive)
    assert slowed, "the drive was never slow"
    assert not any(main for _, main in slowed), "imapid's main thread waited for the drive: %r" % slowed
    os.unlink(h.emu_file(drive, "slowed.log"))


def test_hotplug_first_look():
    """A drive plugged in that takes seconds over INQUIRY: the bus is answered meanwhile (the new
    recorder is not there yet), the node is looked at once although the look outlasts the next
    check, and the recorder appears with its disc read."""
    with Harness(emulator=["--media", "cd-r"], extra_args=["--log-level=debug"]) as h:
        props = dbus.Interface(h.dbus().get_object(BUS_NAME, MANAGER), PROPS)
        assert recorders(props) == [SR0]
        # the look takes longer than the 2 s between checks
        h.emu("--drives", "2", "--drive", "1", "--media", "dvd+r", "--fault", "slow=2500",
              "--fault", "slow-op=%02x" % INQUIRY)
        wait_until(lambda: h.emu_slowed("sr1"), "the first look at sr1 to reach INQUIRY", timeout=60)
        value, in_flight = read_while_slow(h, props, "sr1")
        assert in_flight, "the answer waited for the slow INQUIRY"
        assert value == [SR0], "the answer waited for the first look: %r" % value
        wait_until(lambda: SR1 in recorders(props), "sr1 to appear", timeout=120)
        assert sorted(recorders(props)) == [SR0, SR1]
        main_thread_never_waited(h, "sr1")
        assert "New drive /dev/sr1 is busy" not in h.log(), "sr1 was looked at twice:\n" + h.log()
        h.emu("--drive", "1", "--no-faults")
        r = dbus.Interface(h.dbus().get_object(BUS_NAME, SR1), REC)
        r.OpenExclusive({})
        assert int(r.QueryMediaType()[0]) == MEDIA_SPECIAL
        r.Close({})


def test_hotplug_stop_while_looking():
    """imapid stopped while a first look is under way exits cleanly (the look is waited for and
    dropped; the sanitizer build checks that nothing is used after it is freed)."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        h.emu("--drives", "2", "--drive", "1", "--media", "dvd+r", "--fault", "slow=1000",
              "--fault", "slow-op=%02x" % INQUIRY)
        wait_until(lambda: h.emu_slowed("sr1"), "the first look at sr1 to reach INQUIRY", timeout=60)
        h.stop_daemon()


if __name__ == "__main__":
    run_tests([test_hotplug_first_look, test_hotplug_stop_while_looking])
