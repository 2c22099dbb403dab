#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drive work that no call waits for runs in workers, never on the event loop
that answers the bus: hotplug's first look at a new drive (INQUIRY, GET CONFIGURATION, the disc)
the start of a write (the speed set, the medium's formats read, libburn's checks) or of a format,
and the end of a write or an erase (libburn's outcome, the drive set up again after a failure).
With the emulator slowing such a command by seconds, another client's property read is answered
while the command is still in flight, which the emulator's record of the slow command's start and
end shows; the record also names the thread that waited, never imapid's main thread."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, JOB, MANAGER, PROPS, ROOT, Harness, Master, erase_and_wait,  # noqa: E402
                       glib_connection, make_image, run_tests, wait_until)

import dbus  # noqa: E402

REC = "org.imapid.Imapi1.Recorder"
MGR = "org.imapid.Imapi1.Manager"
SR0, SR1 = ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"
S_OK = 0
INQUIRY = 0x12
READ_FORMAT_CAPACITIES = 0x23
FORMAT_UNIT = 0x04
SET_STREAMING = 0xb6
SET_CD_SPEED = 0xbb
RB = "org.imapid.Imapi1.RedbookDiscMaster"
MEDIA_SPECIAL = 6
BLANK = 0x1


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


def in_flight_poller(h, answers):
    """A GLib timeout's callback: once sr0 is in a slow command, the manager's Recorders is read on
    another connection, and read_while_slow()'s answer appended to answers."""
    props = dbus.Interface(h.dbus().get_object(BUS_NAME, MANAGER), PROPS)

    def poll():
        if len(h.emu_slowed("sr0")) > len(h.emu_slowed("sr0", ended=True)):
            answers.append(read_while_slow(h, props, "sr0"))
        return not answers
    return poll


def failing_end(h, fault, start, when=None):
    """A job whose drive fails (fault), with INQUIRY slow from then on: libburn's outcome sets the
    drive up again, which asks INQUIRY. start(arm) starts the job on a GLib connection and returns
    its hresult once it ended; it calls arm() once the job has the drive (or arm is called before
    the job starts). The manager's Recorders is read while the slow INQUIRY is in flight."""
    from gi.repository import GLib
    answers = []
    poll = in_flight_poller(h, answers)

    def arm():
        h.emu("--fault", fault, "--fault", "slow=2500", "--fault", "slow-op=%02x" % INQUIRY)
        GLib.timeout_add(20, poll)
    hr = start(arm)
    assert answers, "the drive was never slow before the job ended"
    value, in_flight = answers[0]
    assert value == [SR0], value
    assert in_flight, "the answer waited for the slow INQUIRY at the end of the job"
    main_thread_never_waited(h, "sr0")
    h.emu("--no-faults")
    return hr


def test_burn_end():
    """The end of a failed write sets the drive up again in a worker; the recorder burns a new disc
    well afterwards."""
    with Harness(emulator=["--media", "cd-r", "--write-rate", "2000"], extra_args=["--log-level=debug"]) as h:
        bus = glib_connection(h)
        src = os.path.join(h.tmp, "a.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(8 << 20))
        m = Master(bus)
        m.add([("a.bin", src)])

        def burn(arm):
            def on_job(job):
                j = bus.get_object(BUS_NAME, job)
                wait_until(lambda: str(j.Get(JOB, "Phase", dbus_interface=PROPS)) == "writing",
                           "the job to write", timeout=120)
                arm()
            return m.record(options={"verify": False}, on_job=on_job)[0]
        # the drive's buffer (2 MiB) is full well before block 3500
        hr = failing_end(h, "write-error=3500", burn)
        assert hr != S_OK, hex(hr)
        h.emu("--media", "cd-r")
        hr, _, completed = m.record(options={"verify": False})
        assert hr == S_OK, (hex(hr), completed, h.log())


def test_erase_end():
    """The end of a failed blank sets the drive up again in a worker; the next blank works."""
    with Harness(emulator=["--media", "cd-rw", "--status", "appendable"]) as h:
        bus = glib_connection(h)
        r = dbus.Interface(bus.get_object(BUS_NAME, SR0), REC)
        r.OpenExclusive({})
        hr = failing_end(h, "write-protect", lambda arm: arm() or erase_and_wait(bus, r, SR0, full=True))
        assert hr != S_OK, hex(hr)
        assert erase_and_wait(bus, r, SR0, full=True) == S_OK
        assert int(r.QueryMediaType()[1]) & BLANK
        r.Close({})


def slow_job(h, op, run, what):
    """run() with the operation code op slow from the start: it runs a job to its end and returns
    (hresult, what to show on failure); the job succeeds, no command of it is waited for on
    imapid's main thread, and the manager's Recorders, read on another connection while op is in
    flight, is answered before op ends. what: "write", for messages."""
    from gi.repository import GLib
    answers = []
    poll = in_flight_poller(h, answers)
    h.emu("--fault", "slow=2500", "--fault", "slow-op=%02x" % op)
    source = GLib.timeout_add(20, poll)
    hr, detail = run()
    if not answers:
        GLib.source_remove(source)
    assert hr == S_OK, (hex(hr), detail, h.log())
    slowed = h.emu_slowed("sr0")
    assert any(o == op for o, _ in slowed), "the %s never sent %02x: %r" % (what, op, slowed)
    assert not any(main for _, main in slowed), "imapid's main thread waited for the drive: %r" % slowed
    assert answers, "no command was slow while the job ran"
    value, in_flight = answers[0]
    assert value == [SR0], value
    assert in_flight, "the answer waited for the slow %02x at the start of the %s" % (op, what)
    main_thread_never_waited(h, "sr0")
    h.emu("--no-faults")


def slow_start(h, bus, m, op, options=None):
    """RecordDisc on m with the operation code op slow from the start (slow_job())."""
    def record():
        hr, _, completed = m.record(options=options or {"verify": False})
        return hr, completed
    slow_job(h, op, record, "write")


def test_write_start_image():
    """An image burn, which prepares nothing, sets the CD's write speed (SET CD SPEED) in a
    worker."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus, fmt="image")
        m.set_image(make_image(h, mib=2, hybrid=False))
        slow_start(h, bus, m, SET_CD_SPEED, {"verify": True})


def test_write_start_audio():
    """An audio burn sets the CD's write speed in a worker."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = glib_connection(h)
        slow_start(h, bus, audio_master(bus), SET_CD_SPEED)


def test_write_start_data():
    """A data burn on a DVD+RW sets the speed (SET STREAMING) and lets libburn read the medium's
    formats (READ FORMAT CAPACITIES, which its choice of a write mode and burn_disc_write()'s own
    checks send) in a worker."""
    for op in (SET_STREAMING, READ_FORMAT_CAPACITIES):
        with Harness(emulator=["--media", "dvd+rw"]) as h:
            bus = glib_connection(h)
            m = Master(bus)
            src = os.path.join(h.tmp, "a.bin")
            with open(src, "wb") as f:
                f.write(os.urandom(1 << 20))
            m.add([("a.bin", src)])
            slow_start(h, bus, m, op)


def test_format_start():
    """A format (the Erase of a DVD+RW never formatted) starts in a worker, as a write does;
    libburn's thread sends FORMAT UNIT. The main thread never waits for it, another client's read
    is answered while it is in flight, and the disc is blank afterwards. (READ FORMAT CAPACITIES,
    which libburn's thread sends too, is not slowed here: every disc read of the test sends it,
    and 2.5 s each made the case 29 s longer.)"""
    for op in (FORMAT_UNIT,):
        with Harness(emulator=["--media", "dvd+rw"]) as h:
            bus = glib_connection(h)
            r = dbus.Interface(bus.get_object(BUS_NAME, SR0), REC)
            r.OpenExclusive({})
            slow_job(h, op, lambda: (erase_and_wait(bus, r, SR0), None), "format")
            assert int(r.QueryMediaType()[1]) & BLANK
            r.Close({})


def test_format_stop():
    """imapid stopped while a format is under way waits for it, as an erase cannot be cancelled,
    and exits cleanly once it has ended (the sanitizer build checks that nothing is used after it
    is freed)."""
    with Harness(emulator=["--media", "dvd+rw"]) as h:
        r = dbus.Interface(h.dbus().get_object(BUS_NAME, SR0), REC)
        r.OpenExclusive({})
        h.emu("--fault", "slow=2500", "--fault", "slow-op=%02x" % FORMAT_UNIT)
        r.Erase(False, {})
        wait_until(lambda: h.emu_slowed("sr0"), "the format to reach FORMAT UNIT", timeout=60)
        h.stop_daemon()
        assert "format of recorder sr0 finished" in h.log(), h.log()


def audio_master(bus):
    m = Master(bus, fmt="redbook")
    rb = dbus.Interface(m.obj, RB)
    rb.CreateAudioTrack(300)
    rb.AddAudioTrackBlocks(dbus.ByteArray(os.urandom(300 * 2352)))
    rb.CloseAudioTrack()
    return m


def test_write_start_cancel():
    """A Cancel while the write's start waits for the drive ends the job as cancelled, with the
    tracks still staged; the next burn works."""
    from gi.repository import GLib
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = glib_connection(h)
        m = audio_master(bus)
        h.emu("--fault", "slow=2500", "--fault", "slow-op=%02x" % SET_CD_SPEED)
        cancelled = []

        def on_job(job):
            def poll():
                if len(h.emu_slowed("sr0")) > len(h.emu_slowed("sr0", ended=True)):
                    bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface=JOB)
                    cancelled.append(len(h.emu_slowed("sr0", ended=True)))
                return not cancelled
            GLib.timeout_add(20, poll)
        hr, _, completed = m.record(on_job=on_job)
        assert cancelled == [0], "the Cancel was not answered while SET CD SPEED was in flight: %r" % cancelled
        assert hr == 0x8004020D, (hex(hr), completed)      # IMAPI_E_USERABORT
        assert completed and not completed[0], completed
        assert int(m.obj.Get(RB, "TotalAudioTracks", dbus_interface=PROPS)) == 1
        main_thread_never_waited(h, "sr0")
        h.emu("--no-faults")
        h.emu("--media", "cd-r")
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed, h.log())


def test_write_start_stop():
    """imapid stopped while a write's start waits for the drive exits cleanly (the sanitizer build
    checks that nothing is used after it is freed)."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        m = audio_master(h.dbus())
        h.emu("--fault", "slow=2500", "--fault", "slow-op=%02x" % SET_CD_SPEED)
        m.dm.RecordDisc(False, False, {})
        wait_until(lambda: h.emu_slowed("sr0"), "the write's start to reach SET CD SPEED", timeout=60)
        h.stop_daemon()


if __name__ == "__main__":
    run_tests([test_hotplug_first_look, test_hotplug_stop_while_looking, test_burn_end, test_erase_end,
               test_write_start_image, test_write_start_audio, test_write_start_data, test_write_start_cancel,
               test_write_start_stop, test_format_start, test_format_stop])
