#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Red Book audio CDs through the drive emulator (tests/mmcemu): tracks staged over D-Bus burned
disc-at-once and track-at-once to an emulated blank CD-R, compared sector for sector with what was
staged, at the places the gaps put them; stock cdrskin reads the table of contents; every staging
and medium error by its D-Bus name; a vanished client leaves no stash; imapictl burn --audio with a
WAV and a FLAC file."""

import array
import ctypes
import ctypes.util
import math
import os
import re
import socket
import subprocess
import sys
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, DM, ERR, JOLIET, PROPS, ROOT, Harness, Master, expect_dbus_error,  # noqa: E402
                       glib_connection, run_tests, stash_dirs, wait_until)

import dbus  # noqa: E402

RB = "org.imapid.Imapi1.RedbookDiscMaster"
REC = "org.imapid.Imapi1.Recorder"
SR0 = ROOT + "/recorders/sr0"
BLOCK = 2352
S_OK = 0


def tone(freq, blocks, amplitude=12000):
    """blocks of 44.1 kHz 16-bit stereo little-endian PCM: a sine on the left, its octave on the right."""
    frames = blocks * 588
    a = array.array("h", [0]) * (2 * frames)
    for i in range(frames):
        a[2 * i] = int(amplitude * math.sin(2 * math.pi * freq * i / 44100))
        a[2 * i + 1] = int(amplitude * math.sin(4 * math.pi * freq * i / 44100))
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def redbook(m):
    return dbus.Interface(m.obj, RB)


def rb_prop(m, name):
    return int(m.obj.Get(RB, name, dbus_interface=PROPS))


def set_gap(bus, gap):
    rec = dbus.Interface(bus.get_object(BUS_NAME, SR0), REC)
    assert int(rec.SetRecorderProperties({"AudioGapSize": dbus.Int32(gap)})) == S_OK


def stage(m, tracks, from_fd=False):
    rb = redbook(m)
    for pcm in tracks:
        rb.CreateAudioTrack(len(pcm) // BLOCK)
        if from_fd:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                os.write(w, pcm)
                os._exit(0)
            os.close(w)
            try:
                rb.AddAudioTrackBlocksFromFd(dbus.types.UnixFd(r), {})
            finally:
                os.close(r)
                os.waitpid(pid, 0)
        else:
            half = (len(pcm) // BLOCK // 2) * BLOCK
            rb.AddAudioTrackBlocks(dbus.ByteArray(pcm[:half]))
            rb.AddAudioTrackBlocks(dbus.ByteArray(pcm[half:]))
        rb.CloseAudioTrack()


def medium_tracks(h):
    """(number, start LBA, blocks, block size, control) of each track in the emulator's medium file."""
    out = []
    with open(h.emu_file("sr0", "medium")) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "track":
                out.append((int(w[1]), int(w[3]), int(w[4]), int(w[5]), int(w[6])))
    return out


def check_disc(h, tracks, gap):
    """The emulator holds each staged track as written, in order, with the gap between them."""
    layout = medium_tracks(h)
    assert len(layout) == len(tracks), layout
    lba = 0
    for i, pcm in enumerate(tracks):
        number, start, blocks, bsize, control = layout[i]
        assert (number, bsize, control) == (i + 1, BLOCK, 0), layout[i]
        assert start == lba, (i + 1, start, lba, layout)
        with open(h.emu_file("sr0", "track-%02d.bin" % (i + 1)), "rb") as f:
            data = f.read()
        assert data[:len(pcm)] == pcm, "track %d differs from what was staged" % (i + 1)
        # whatever follows a track's audio up to the next track is the gap's silence
        assert data[len(pcm):] == bytes(len(data) - len(pcm)), "track %d: no silence after the audio" % (i + 1)
        if i + 1 < len(tracks):
            assert blocks == len(pcm) // BLOCK + gap, (i + 1, blocks, gap)
        lba = start + len(pcm) // BLOCK + gap
    return layout


def cdrskin_toc(h, tracks, gap):
    """Stock cdrskin, in another process, lists the audio tracks (control 0) where the gaps put them,
    and the lead-out after the last one: each track's length."""
    out = h.emu_run("cdrskin", "-toc", "dev=/dev/sr0").stdout
    # "track:   2 lba:       395 (     1580) 00:07:20 adr: 1 control: 0 mode: 0", "track:lout lba: ..."
    lines = [re.match(r"track:\s*(\S+)\s+lba:\s*(-?\d+).*control:\s*(\d+)", ln) for ln in out.splitlines()
             if ln.startswith("track:")]
    assert lines and all(lines), out
    starts = [int(m.group(2)) for m in lines]
    assert [m.group(1) for m in lines] == [str(i + 1) for i in range(len(tracks))] + ["lout"], out
    assert all(m.group(3) == "0" for m in lines[:-1]), out
    expected = [0]
    for pcm in tracks:
        expected.append(expected[-1] + len(pcm) // BLOCK + gap)
    expected[-1] -= gap
    assert starts == expected, (starts, expected, out)
    assert "closed CD-R" in out, out


def burn_tracks(tao, gap, from_fd=False, verify=True):
    tracks = [tone(440, 320), tone(660, 411), tone(990, 300)]
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = glib_connection(h)
        set_gap(bus, gap)
        m = Master(bus, fmt="redbook")
        stage(m, tracks, from_fd=from_fd)
        assert rb_prop(m, "TotalAudioTracks") == 3
        assert rb_prop(m, "UsedAudioBlocks") == 320 + 411 + 300
        options = {"verify": verify}
        if tao:
            options["write_mode"] = "tao"
        phases, jobs = [], []

        def watch(job):
            jobs.append(str(m.prop("Job")) == job)
            phases.append(str(bus.get_object(BUS_NAME, job).Get("org.imapid.Imapi1.Job", "Phase",
                                                                  dbus_interface=PROPS)))

            def on_changed(iface, changed, invalidated):
                if "Phase" in changed:
                    phases.append(str(changed["Phase"]))
            bus.add_signal_receiver(on_changed, path=job, dbus_interface=PROPS, signal_name="PropertiesChanged")
        hr, signals, completed = m.record(options=options, on_job=watch)
        assert hr == S_OK, (hex(hr), completed, h.log())
        assert completed and completed[0], completed
        names = [s for s, _ in signals]
        progress = [a for s, a in signals if s == "TrackProgress"]
        assert progress[0] == (0, 3) and progress[-1] == (3, 3), progress
        assert [a for a in progress] == sorted(progress), progress
        assert "BlockProgress" in names and "ClosingDisc" in names and names[-1] == "BurnComplete", names
        assert "PreparingBurn" in names, names
        assert jobs == [True], "the master's Job property names the running burn"
        assert str(m.prop("Job")) == "/"
        assert "writing" in phases and "closing" in phases, phases
        if verify:
            assert "verifying" in phases, phases
        else:
            assert "verifying" not in phases, phases
        check_disc(h, tracks, gap)
        cdrskin_toc(h, tracks, gap)
        # IMAPI clears the stash after a successful burn
        assert rb_prop(m, "TotalAudioTracks") == 0
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


def test_sao_three_tracks():
    burn_tracks(tao=False, gap=150)


def test_tao_three_tracks():
    burn_tracks(tao=True, gap=75)


def test_sao_gapless_from_fd():
    burn_tracks(tao=False, gap=0, from_fd=True)


def test_tao_max_gap_no_verify():
    burn_tracks(tao=True, gap=225, verify=False)


def test_cancel_and_simulate():
    """A cancelled audio burn ends with USERABORT and a simulated one writes nothing; both leave the
    tracks staged for the real burn."""
    tracks = [tone(440, 300), os.urandom(2000 * BLOCK)]
    with Harness(emulator=["--media", "cd-r", "--write-rate", "300", "--buffer-kib", "256"]) as h:
        bus = glib_connection(h)
        m = Master(bus, fmt="redbook")
        stage(m, tracks)

        def cancel(job):
            bus.get_object(BUS_NAME, job).Cancel({}, dbus_interface="org.imapid.Imapi1.Job")
        hr, signals, completed = m.record(on_job=cancel)
        assert hr == 0x8004020D, (hex(hr), completed)      # IMAPI_E_USERABORT
        assert completed and not completed[0], completed
        assert rb_prop(m, "TotalAudioTracks") == 2
        h.emu("--media", "cd-r", "--write-rate", "0")
        hr, signals, completed = m.record(simulate=True)
        assert hr == S_OK, (hex(hr), completed, h.log())
        assert medium_tracks(h) == [], medium_tracks(h)
        assert rb_prop(m, "TotalAudioTracks") == 2
        hr, signals, completed = m.record()
        assert hr == S_OK, (hex(hr), completed, h.log())
        check_disc(h, tracks, 150)


def test_staging_errors():
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = h.dbus()
        m = Master(bus, open=False)
        rb = redbook(m)
        expect_dbus_error(ERR + "IMAPI_E_NOTOPENED", rb.CreateAudioTrack, 0)
        m.dm.Open({})
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVEFORMAT", rb.CreateAudioTrack, 0)
        m.dm.SetActiveDiscMasterFormat("joliet", {})
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", rb.CreateAudioTrack, 0)
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", rb.AddAudioTrackBlocks, dbus.ByteArray(bytes(BLOCK)))
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", rb.CloseAudioTrack)
        m.dm.SetActiveDiscMasterFormat("redbook", {})
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", m.joliet.AddData, [], False, {})
        expect_dbus_error(ERR + "IMAPI_E_NOACTIVERECORDER", rb.CreateAudioTrack, 0)
        assert rb_prop(m, "TotalAudioBlocks") == 0
        m.dm.SetActiveDiscRecorder(m.dm.EnumDiscRecorders()[0], {})
        total = rb_prop(m, "TotalAudioBlocks")
        assert total > 300000, total
        assert rb_prop(m, "AudioBlockSize") == BLOCK
        expect_dbus_error(ERR + "IMAPI_E_INVALIDIMAGE", m.dm.RecordDisc, False, False, {})
        expect_dbus_error(ERR + "IMAPI_E_TRACKNOTOPEN", rb.AddAudioTrackBlocks, dbus.ByteArray(bytes(BLOCK)))
        expect_dbus_error(ERR + "IMAPI_E_TRACKNOTOPEN", rb.CloseAudioTrack)
        expect_dbus_error(ERR + "E_INVALIDARG", rb.CreateAudioTrack, -1)
        rb.CreateAudioTrack(0)
        expect_dbus_error(ERR + "IMAPI_E_TRACKOPEN", rb.CreateAudioTrack, 0)
        assert rb_prop(m, "TotalAudioTracks") == 1
        assert rb_prop(m, "AvailableAudioTrackBlocks") == total
        # not whole blocks: refused, nothing added, from bytes and from an fd
        expect_dbus_error(ERR + "E_INVALIDARG", rb.AddAudioTrackBlocks, dbus.ByteArray(bytes(BLOCK + 1)))
        path = os.path.join(h.tmp, "odd.pcm")
        with open(path, "wb") as f:
            f.write(bytes(3 * BLOCK - 4))
        with open(path, "rb") as f:
            expect_dbus_error(ERR + "E_INVALIDARG", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(f.fileno()), {})
        r, w = os.pipe()
        os.write(w, bytes(2 * BLOCK + 100))
        os.close(w)
        expect_dbus_error(ERR + "E_INVALIDARG", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(r), {})
        os.close(r)
        with open(path, "rb") as f:
            expect_dbus_error(ERR + "E_INVALIDARG", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(f.fileno()),
                              {"bogus": True})
        # a socket is not a pipe, even with whole blocks in it
        a, b = socket.socketpair()
        a.sendall(bytes(2 * BLOCK))
        a.close()
        e = expect_dbus_error(ERR + "E_INVALIDARG", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(b.fileno()), {})
        assert "a socket" in e.get_dbus_message(), e
        b.close()
        assert rb_prop(m, "UsedAudioBlocks") == 0
        # 299 blocks: too short, and the track stays open for more
        rb.AddAudioTrackBlocks(dbus.ByteArray(bytes(299 * BLOCK)))
        expect_dbus_error(ERR + "IMAPI_E_TRACK_NOT_BIG_ENOUGH", rb.CloseAudioTrack)
        expect_dbus_error(ERR + "IMAPI_E_TRACKOPEN", m.dm.RecordDisc, False, False, {})
        assert rb_prop(m, "UsedAudioBlocks") == 299
        rb.AddAudioTrackBlocks(dbus.ByteArray(bytes(BLOCK)))
        rb.CloseAudioTrack()
        assert rb_prop(m, "UsedAudioBlocks") == 300
        # the next track would bring a gap of the recorder's AudioGapSize with it
        assert rb_prop(m, "AvailableAudioTrackBlocks") == total - 300 - 150
        rb.CreateAudioTrack(1000)
        assert rb_prop(m, "AvailableAudioTrackBlocks") == total - 300 - 150
        expect_dbus_error(ERR + "E_INVALIDARG", m.dm.RecordDisc, False, False, {"write_mode": "raw"})
        # ClearFormatContent drops the tracks and their stash files
        m.dm.ClearFormatContent({})
        assert rb_prop(m, "TotalAudioTracks") == 0 and rb_prop(m, "UsedAudioBlocks") == 0
        stash = os.path.join(h.stash, stash_dirs(h)[0])
        assert os.listdir(stash) == [], os.listdir(stash)
        # another client may not touch this master
        other = dbus.Interface(h.dbus().get_object(BUS_NAME, m.path), RB)
        expect_dbus_error(ERR + "E_ACCESSDENIED", other.CreateAudioTrack, 0)


def test_99_tracks():
    with Harness(emulator=["--media", "cd-r"]) as h:
        m = Master(h.dbus(), fmt="redbook")
        rb = redbook(m)
        silence = dbus.ByteArray(bytes(300 * BLOCK))
        for _ in range(99):
            rb.CreateAudioTrack(300)
            rb.AddAudioTrackBlocks(silence)
            rb.CloseAudioTrack()
        assert rb_prop(m, "TotalAudioTracks") == 99
        assert rb_prop(m, "AvailableAudioTrackBlocks") == 0
        e = expect_dbus_error(ERR + "E_OUTOFMEMORY", rb.CreateAudioTrack, 0)
        assert "99" in e.get_dbus_message(), e.get_dbus_message()


def test_disc_full_keeps_what_fits():
    with Harness(emulator=["--media", "cd-r", "--capacity", "1400"]) as h:
        bus = glib_connection(h)
        m = Master(bus, fmt="redbook")
        rb = redbook(m)
        total = rb_prop(m, "TotalAudioBlocks")
        assert 1000 < total <= 1400, total
        first = tone(500, 600)
        rb.CreateAudioTrack(600)
        rb.AddAudioTrackBlocks(dbus.ByteArray(first))
        rb.CloseAudioTrack()
        fits = total - 600 - 150
        second = tone(700, fits + 50)
        rb.CreateAudioTrack(0)
        rb.AddAudioTrackBlocks(dbus.ByteArray(second[:100 * BLOCK]))
        # more than fits: the blocks that fit are kept (unlike AddData)
        expect_dbus_error(ERR + "IMAPI_E_DISCFULL", rb.AddAudioTrackBlocks, dbus.ByteArray(second[100 * BLOCK:]))
        assert rb_prop(m, "UsedAudioBlocks") == 600 + fits, (rb_prop(m, "UsedAudioBlocks"), fits)
        assert rb_prop(m, "AvailableAudioTrackBlocks") == 0
        # and from a pipe: nothing more fits now
        r, w = os.pipe()
        os.write(w, bytes(BLOCK))
        os.close(w)
        expect_dbus_error(ERR + "IMAPI_E_DISCFULL", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(r), {})
        os.close(r)
        rb.CloseAudioTrack()
        expect_dbus_error(ERR + "IMAPI_E_DISCFULL", rb.CreateAudioTrack, 0)
        # a longer gap, set after staging, no longer fits at RecordDisc
        set_gap(bus, 151)
        expect_dbus_error(ERR + "IMAPI_E_DISCFULL", m.dm.RecordDisc, False, False, {})
        set_gap(bus, 150)
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed, h.log())
        check_disc(h, [first, second[:fits * BLOCK]], 150)


def test_disc_full_from_fd():
    with Harness(emulator=["--media", "cd-r", "--capacity", "1000"]) as h:
        m = Master(h.dbus(), fmt="redbook")
        rb = redbook(m)
        total = rb_prop(m, "TotalAudioBlocks")
        pcm = os.urandom((total + 20) * BLOCK)
        path = os.path.join(h.tmp, "long.pcm")
        with open(path, "wb") as f:
            f.write(pcm)
        rb.CreateAudioTrack(0)
        with open(path, "rb") as f:
            expect_dbus_error(ERR + "IMAPI_E_DISCFULL", rb.AddAudioTrackBlocksFromFd, dbus.types.UnixFd(f.fileno()),
                              {})
        assert rb_prop(m, "UsedAudioBlocks") == total
        rb.CloseAudioTrack()
        stash = os.path.join(h.stash, stash_dirs(h)[0])
        with open(os.path.join(stash, os.listdir(stash)[0]), "rb") as f:
            assert f.read() == pcm[:total * BLOCK]


def test_medium_errors():
    # a DVD, an appendable CD-R and a closed CD-R cannot take audio
    for opts, error in ((["--media", "dvd+r"], "IMAPI_E_MEDIUM_INVALIDTYPE"),
                        (["--media", "dvd-rw"], "IMAPI_E_MEDIUM_INVALIDTYPE"),
                        (["--media", "cd-r", "--status", "appendable"], "IMAPI_E_MEDIUM_INVALIDTYPE"),
                        (["--media", "cd-r", "--status", "closed"], "IMAPI_E_DISCFULL")):
        with Harness(emulator=opts) as h:
            m = Master(h.dbus(), fmt="redbook", recorder=None)
            rec = m.dm.EnumDiscRecorders()[0]
            expect_dbus_error(ERR + error, m.dm.SetActiveDiscRecorder, rec, {})
    with Harness(emulator=["--media", "cd-r"]) as h:
        m = Master(glib_connection(h), fmt="redbook")
        pcm = tone(200, 300)
        stage(m, [pcm])
        # the blank CD-R was swapped for a DVD, or for a written CD-RW, before the burn
        h.emu("--media", "dvd-r")
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.dm.RecordDisc, False, False, {})
        h.emu("--media", "cd-rw", "--status", "appendable")
        e = expect_dbus_error(ERR + "IMAPI_E_MEDIUM_INVALIDTYPE", m.dm.RecordDisc, False, False, {})
        assert "blank" in e.get_dbus_message(), e.get_dbus_message()
        h.emu("--media", "none")
        expect_dbus_error(ERR + "IMAPI_E_MEDIUM_NOTPRESENT", m.dm.RecordDisc, False, False, {})
        # the tracks are still staged: with a blank disc back, the burn works
        h.emu("--media", "cd-r")
        assert rb_prop(m, "TotalAudioTracks") == 1
        hr, _, completed = m.record()
        assert hr == S_OK, (hex(hr), completed, h.log())
        check_disc(h, [pcm], 150)


def test_client_gone_mid_track():
    with Harness(emulator=["--media", "cd-r"]) as h:
        # a track left open
        bus = h.dbus()
        m = Master(bus, fmt="redbook")
        rb = redbook(m)
        rb.CreateAudioTrack(0)
        rb.AddAudioTrackBlocks(dbus.ByteArray(bytes(100 * BLOCK)))
        assert len(stash_dirs(h)) == 1
        bus.close()
        wait_until(lambda: stash_dirs(h) == [], "the stash of the vanished client to go")
        # and one whose AddAudioTrackBlocksFromFd is reading a pipe that never ends
        bus = h.dbus()
        m = Master(bus, fmt="redbook")
        rb = redbook(m)
        rb.CreateAudioTrack(0)
        r, w = os.pipe()
        os.write(w, bytes(10 * BLOCK))
        rb.AddAudioTrackBlocksFromFd(dbus.types.UnixFd(r), {}, ignore_reply=True)
        wait_until(lambda: any(os.listdir(os.path.join(h.stash, d)) for d in stash_dirs(h)), "the track file")
        os.close(r)
        bus.close()
        wait_until(lambda: stash_dirs(h) == [], "the stash of the vanished client to go")
        os.close(w)
        # and one that closes its master while its add still reads: the add fails, nothing stays
        from gi.repository import GLib
        bus = glib_connection(h)
        m = Master(bus, fmt="redbook")
        rb = redbook(m)
        rb.CreateAudioTrack(0)
        r, w2 = os.pipe()
        os.write(w2, bytes(10 * BLOCK))
        errors = []
        loop = GLib.MainLoop()

        def on_error(e):
            errors.append(e.get_dbus_name())
            loop.quit()
        rb.AddAudioTrackBlocksFromFd(dbus.types.UnixFd(r), {}, reply_handler=loop.quit, error_handler=on_error)
        os.close(r)
        wait_until(lambda: any(os.listdir(os.path.join(h.stash, d)) for d in stash_dirs(h)), "the track file")
        m.dm.Close({})
        GLib.timeout_add(30000, loop.quit)
        loop.run()
        assert errors == [ERR + "IMAPI_E_USERABORT"], errors
        wait_until(lambda: stash_dirs(h) == [], "the stash of the closed master to go")
        os.close(w2)
        # the daemon is fine and serves the next client
        m = Master(h.dbus(), fmt="redbook")
        assert rb_prop(m, "TotalAudioTracks") == 0


def write_wav(path, pcm, rate=44100, channels=2):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def write_flac(path, pcm, tags=None):
    write_sndfile(path, pcm, 0x170000, tags)


def write_sndfile(path, pcm, major, tags=None):
    """A file of 44.1 kHz 16-bit stereo PCM (major: SF_FORMAT_FLAC, SF_FORMAT_WAV) with tags
    {"title", "artist", "album": str} (Vorbis comments, the WAV INFO chunk), written with libsndfile
    through ctypes."""
    lib = ctypes.CDLL(ctypes.util.find_library("sndfile") or "libsndfile.so.1")

    class SfInfo(ctypes.Structure):
        _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                    ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
    SF_FORMAT_PCM_16, SFM_WRITE = 0x0002, 0x20
    SF_STR = {"title": 0x01, "artist": 0x04, "album": 0x07}
    info = SfInfo(0, 44100, 2, major | SF_FORMAT_PCM_16, 0, 0)
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    lib.sf_write_short.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
    lib.sf_write_short.restype = ctypes.c_int64
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_set_string.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    f = lib.sf_open(path.encode(), SFM_WRITE, ctypes.byref(info))
    assert f, "libsndfile cannot write %s" % path
    for key, value in (tags or {}).items():
        assert lib.sf_set_string(f, SF_STR[key], value.encode()) == 0, (key, value)
    assert lib.sf_write_short(f, pcm, len(pcm) // 2) == len(pcm) // 2
    assert lib.sf_close(f) == 0


def test_imapictl_burn_audio():
    with Harness(emulator=["--media", "cd-r"]) as h:
        # a WAV of 5.5 s (not whole blocks: the last one is padded with silence) and a FLAC
        one = tone(330, 412)[:-1000 * 4]
        two = tone(880, 350)
        wav = os.path.join(h.tmp, "one.wav")
        flac = os.path.join(h.tmp, "two.flac")
        write_wav(wav, one)
        write_flac(flac, two)
        with open(flac, "rb") as f:
            assert f.read(4) == b"fLaC"
        r = h.ctl("burn", "--audio", wav, flac, check=0, timeout=600)
        assert "track 2/2" in r.stdout.lower() or "2/2" in r.stdout, r.stdout
        padded = one + bytes(-len(one) % BLOCK)
        check_disc(h, [padded, two], 150)
        wait_until(lambda: stash_dirs(h) == [], "imapictl's stash to go")
        # mono 22.05 kHz is converted (resampled) rather than refused; a text file is refused
        h.emu("--media", "cd-r")
        mono = array.array("h", [int(8000 * math.sin(2 * math.pi * 440 * i / 22050)) for i in range(22050 * 5)])
        write_wav(os.path.join(h.tmp, "mono.wav"), mono.tobytes(), rate=22050, channels=1)
        r = h.ctl("burn", "--audio", os.path.join(h.tmp, "mono.wav"), check=0, timeout=600)
        layout = medium_tracks(h)
        assert len(layout) == 1 and abs(layout[0][2] - 375) <= 1, layout
        # refused before anything is staged: not audio, under 4 s, data-disc options
        with open(os.path.join(h.tmp, "notes.txt"), "w") as f:
            f.write("not audio\n")
        r = h.ctl("burn", "--audio", wav, os.path.join(h.tmp, "notes.txt"))
        assert r.returncode == 2 and "notes.txt" in r.stderr, (r.returncode, r.stderr)
        short = os.path.join(h.tmp, "short.wav")
        write_wav(short, tone(440, 250))
        r = h.ctl("burn", "--audio", short)
        assert r.returncode == 2 and "4 s" in r.stderr, (r.returncode, r.stderr)
        r = h.ctl("burn", "--audio", "--close", wav)
        assert r.returncode == 2 and "--close" in r.stderr, (r.returncode, r.stderr)
        assert len(medium_tracks(h)) == 1, medium_tracks(h)


def cdtext(h):
    """The CD-TEXT that stock cdrskin reads from the disc's lead-in (READ TOC format 5), as its v07t
    sheet: {"Album Title": ..., "Track 01 Title": ...}; {} when the disc has none."""
    r = subprocess.run(h.emu_prefix() + ["--", "cdrskin", "dev=/dev/sr0", "cdtext_to_v07t=-"],
                       capture_output=True, check=True)
    # Text Code 8859: the sheet holds the text's ISO-8859-1 bytes as they are on the disc.
    out = r.stdout.decode("latin-1")
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("cdrskin"):
            fields[key.strip()] = value.strip()
    if "Text Code" in fields:
        assert fields["Text Code"] == "8859" and fields["Language Code"] == "English", out
    return fields


def tagged_files(h):
    """A tagged WAV (INFO chunk) and a tagged FLAC (Vorbis comments) of the same album and artist."""
    one, two = tone(330, 320), tone(880, 310)
    wav, flac = os.path.join(h.tmp, "one.wav"), os.path.join(h.tmp, "two.flac")
    write_sndfile(wav, one, 0x010000, {"title": "Première chanson", "artist": "Café Müller", "album": "Été 2026"})
    write_flac(flac, two, {"title": "Zweites Lied", "artist": "Café Müller", "album": "Été 2026"})
    return wav, flac, [one, two]


def test_cdtext_from_tags():
    with Harness(emulator=["--media", "cd-r"]) as h:
        wav, flac, tracks = tagged_files(h)
        r = h.ctl("burn", "--audio", wav, flac, check=0, timeout=600)
        assert "without CD-TEXT" not in r.stdout + r.stderr, (r.stdout, r.stderr)
        check_disc(h, tracks, 150)
        text = cdtext(h)
        assert text["Album Title"] == "Été 2026", text
        assert text["Artist Name"] == "Café Müller", text        # every file has the same artist
        assert text["Track 01 Title"] == "Première chanson" and text["Track 01 Artist"] == "Café Müller", text
        assert text["Track 02 Title"] == "Zweites Lied" and text["Track 02 Artist"] == "Café Müller", text
        assert text["First Track Number"] == "1" and text["Last Track Number"] == "2", text
        wait_until(lambda: stash_dirs(h) == [], "imapictl's stash to go")

        # the command line overrides the tags, field by field
        h.emu("--media", "cd-r")
        h.ctl("burn", "--audio", "--album-title=Live: at home", "--album-performer=Orchestre",
              "--title=2:Encore: bis", "--performer=1:Soliste", wav, flac, check=0, timeout=600)
        text = cdtext(h)
        assert text["Album Title"] == "Live: at home" and text["Artist Name"] == "Orchestre", text
        assert text["Track 01 Title"] == "Première chanson" and text["Track 01 Artist"] == "Soliste", text
        assert text["Track 02 Title"] == "Encore: bis" and text["Track 02 Artist"] == "Café Müller", text

        # --no-cdtext writes none; artists that differ give no album performer
        h.emu("--media", "cd-r")
        h.ctl("burn", "--audio", "--no-cdtext", wav, flac, check=0, timeout=600)
        assert cdtext(h) == {}
        h.emu("--media", "cd-r")
        other = os.path.join(h.tmp, "three.wav")
        write_sndfile(other, tone(550, 300), 0x010000, {"title": "Drei", "artist": "Someone else"})
        h.ctl("burn", "--audio", "--no-verify", wav, other, check=0, timeout=600)
        text = cdtext(h)
        assert text.get("Artist Name", "") == "" and text["Album Title"] == "Été 2026", text
        assert text["Track 02 Artist"] == "Someone else" and text["Track 02 Title"] == "Drei", text

        # tags that CD-TEXT cannot hold are left out with a warning; the burn goes on
        h.emu("--media", "cd-r")
        kana = os.path.join(h.tmp, "kana.flac")
        write_flac(kana, tone(500, 300), {"title": "\u3053\u3093\u306b\u3061\u306f", "artist": "Ok"})
        r = h.ctl("burn", "--audio", kana, check=0, timeout=600)
        assert "warning" in r.stderr and "kana.flac" in r.stderr and "U+3053" in r.stderr, r.stderr
        text = cdtext(h)
        assert "Track 01 Title" not in text or text["Track 01 Title"] == "", text
        assert len(medium_tracks(h)) == 1

        # given on the command line, it is refused by name, and nothing is burned
        h.emu("--media", "cd-r")
        r = h.ctl("burn", "--audio", "--album-title=\u4e2d\u6587", wav, timeout=600)
        assert r.returncode == 1 and "E_INVALIDARG" in r.stderr and "U+4E2D" in r.stderr, (r.returncode, r.stderr)
        r = h.ctl("burn", "--audio", "--title=1:" + "x" * 3100, wav, timeout=600)
        assert r.returncode == 1 and "E_INVALIDARG" in r.stderr and "packs" in r.stderr, (r.returncode, r.stderr)
        assert medium_tracks(h) == []
        wait_until(lambda: stash_dirs(h) == [], "the stash of the refused burns to go")
        r = h.ctl("burn", "--audio", "--title=3:x", wav, flac)
        assert r.returncode == 2 and "track 3" in r.stderr, (r.returncode, r.stderr)
        r = h.ctl("burn", "--tao", wav)
        assert r.returncode == 2 and "--audio" in r.stderr, (r.returncode, r.stderr)


def test_cdtext_tao_and_drive_without():
    with Harness(emulator=["--media", "cd-r"]) as h:
        wav, flac, tracks = tagged_files(h)
        # track-at-once: the burn goes on without CD-TEXT and says so
        r = h.ctl("burn", "--audio", "--tao", wav, flac, check=0, timeout=600)
        assert "Written without CD-TEXT" in r.stdout and "track-at-once" in r.stdout, r.stdout
        check_disc(h, tracks, 150)
        assert cdtext(h) == {}
        assert "burning without CD-TEXT" in h.log(), h.log()
        # and without text there is nothing to say
        h.emu("--media", "cd-r")
        r = h.ctl("burn", "--audio", "--tao", "--no-cdtext", wav, check=0, timeout=600)
        assert "CD-TEXT" not in r.stdout, r.stdout
    # a drive without R-W sub-channel writing in SAO (feature 002Eh; the drive's settings are read
    # once per process, so a new imapid): the same, disc-at-once
    with Harness(emulator=["--media", "cd-r", "--no-cdtext"]) as h:
        wav, flac, tracks = tagged_files(h)
        r = h.ctl("burn", "--audio", wav, flac, check=0, timeout=600)
        assert "Written without CD-TEXT" in r.stdout and "cannot write CD-TEXT" in r.stdout, r.stdout
        check_disc(h, tracks, 150)
        assert cdtext(h) == {}


def test_cdtext_dbus():
    with Harness(emulator=["--media", "cd-r"]) as h:
        bus = glib_connection(h)
        m = Master(bus, fmt="redbook")
        rb = redbook(m)
        tracks = [tone(440, 300), tone(660, 300)]
        assert str(m.prop("AlbumTitle", RB)) == "" and list(m.prop("AudioTrackText", RB)) == []
        rb.SetAlbumText({"title": "Album", "performer": "Band"})
        # the album's text may be set before any track; a track's once it exists
        expect_dbus_error(ERR + "E_INVALIDARG", rb.SetAudioTrackText, 1, {"title": "x"})
        stage(m, tracks)
        rb.SetAudioTrackText(1, {"title": "One", "performer": "Singer"})
        rb.SetAudioTrackText(2, {"title": "Two"})
        assert [tuple(map(str, t)) for t in m.prop("AudioTrackText", RB)] == [("One", "Singer"), ("Two", "")]
        # a missing key leaves the field; "" removes it
        rb.SetAlbumText({"performer": ""})
        assert str(m.prop("AlbumTitle", RB)) == "Album" and str(m.prop("AlbumPerformer", RB)) == ""
        rb.SetAlbumText({"performer": "Band"})
        # refused, by name, and nothing changed
        for bad in ({"title": "\u4e2d"}, {"title": "tab\there"}, {"title": dbus.Int32(3)}, {"genre": "Pop"}):
            expect_dbus_error(ERR + "E_INVALIDARG", rb.SetAlbumText, bad)
        for track in (0, 3, -1):
            expect_dbus_error(ERR + "E_INVALIDARG", rb.SetAudioTrackText, track, {"title": "x"})
        # one block holds 252 packs of 12 bytes: the whole text, not each string
        e = expect_dbus_error(ERR + "E_INVALIDARG", rb.SetAudioTrackText, 2, {"title": "y" * 1500,
                                                                               "performer": "z" * 1500})
        assert "packs" in e.get_dbus_message(), e.get_dbus_message()
        # titles "Album", "One", 1500 y: 1511 bytes, 126 packs; performers "Band", 1500 z, "": 1507,
        # 126 packs: 252, exactly what fits; 12 bytes more do not
        rb.SetAudioTrackText(2, {"title": "y" * 1500})
        rb.SetAudioTrackText(1, {"performer": "z" * 1500})
        expect_dbus_error(ERR + "E_INVALIDARG", rb.SetAudioTrackText, 1, {"performer": "z" * 1512})
        assert [tuple(map(str, t)) for t in m.prop("AudioTrackText", RB)] == [("One", "z" * 1500),
                                                                              ("y" * 1500, "")]
        rb.SetAudioTrackText(1, {"performer": "Singer"})
        rb.SetAudioTrackText(2, {"title": "Two"})
        assert str(m.prop("AlbumTitle", RB)) == "Album"
        # a simulation goes through the lead-in's text with the laser off, and keeps it staged
        hr, signals, completed = m.record(simulate=True)
        assert hr == S_OK and completed[0], (hex(hr), completed, h.log())
        assert medium_tracks(h) == [] and str(m.prop("AlbumTitle", RB)) == "Album"
        hr, signals, completed = m.record()
        assert hr == S_OK and completed[0], (hex(hr), completed, h.log())
        assert "CD-TEXT" not in str(completed[1]), completed
        check_disc(h, tracks, 150)
        text = cdtext(h)
        assert (text["Album Title"], text["Artist Name"]) == ("Album", "Band"), text
        assert (text["Track 01 Title"], text["Track 01 Artist"]) == ("One", "Singer"), text
        assert (text["Track 02 Title"], text.get("Track 02 Artist", "")) == ("Two", ""), text
        # a successful burn clears the staged tracks and their text
        assert str(m.prop("AlbumTitle", RB)) == "" and list(m.prop("AudioTrackText", RB)) == []
        # the text belongs to the Redbook format
        j = Master(bus, fmt="joliet", recorder=None)
        expect_dbus_error(ERR + "IMAPI_E_WRONGFORMAT", dbus.Interface(j.obj, RB).SetAlbumText, {"title": "x"})
        j.dm.Close({})
        m.dm.Close({})
        wait_until(lambda: stash_dirs(h) == [], "the stash to go")


TESTS = [test_sao_three_tracks, test_tao_three_tracks, test_sao_gapless_from_fd, test_tao_max_gap_no_verify,
         test_cancel_and_simulate, test_staging_errors, test_99_tracks, test_disc_full_keeps_what_fits, test_disc_full_from_fd,
         test_medium_errors, test_client_gone_mid_track, test_imapictl_burn_audio, test_cdtext_from_tags,
         test_cdtext_tao_and_drive_without, test_cdtext_dbus]

if __name__ == "__main__":
    # test names on the command line run only those (while iterating)
    run_tests([t for t in TESTS if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]])
