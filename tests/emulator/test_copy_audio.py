#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An audio CD copied drive to drive through the drive emulator: stock cdrskin burns the source
disc-at-once from a CUE sheet (three tracks, pre-gaps of 95 and 225 sectors, CD-TEXT for the
album and every track); ImageDiscMaster.ReadDisc reads it into Redbook staging (the master's
format becomes Redbook, with the tracks and their text), RecordDisc burns the copy, and the
copy's tracks are compared with the source's: the emulator's track files byte for byte, the
table of contents (every track's start and size, as the emulator recorded it and as stock cdrskin
lists it) and the CD-TEXT that stock cdrskin reads from each lead-in. An unreadable sector ends the
read with IMAPI_E_DISCINFO naming the sector and its track, a cancelled read stages nothing, and
imapictl copy does the same from the command line, saying what it copies, to another recorder and
on one recorder with a simulated disc swap (the copy then compared with what the source held)."""

import array
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import ROOT, Harness, glib_connection, run_tests, stash_files  # noqa: E402
from test_copy import cancel_read, copy_master, copy_until_swap, read_job  # noqa: E402

SR0, SR1 = ROOT + "/recorders/sr0", ROOT + "/recorders/sr1"
RB = "org.imapid.Imapi1.RedbookDiscMaster"
IID_REDBOOK = "e3bc42cd-4e5c-11d3-9144-00104ba11c5e"
BLOCK = 2352
S_OK, DISCINFO = 0, 0x80040219
# (frequency, audio sectors, pre-gap before the track in sectors)
TRACKS = [(440, 320, 150), (660, 400, 95), (990, 310, 225)]


def tone(freq, blocks):
    frames = blocks * 588
    a = array.array("h", [0]) * (2 * frames)
    for i in range(frames):
        a[2 * i] = int(12000 * math.sin(2 * math.pi * freq * i / 44100))
        a[2 * i + 1] = int(9000 * math.sin(4 * math.pi * freq * i / 44100))
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def msf(blocks):
    return "%02d:%02d:%02d" % (blocks // 4500, blocks // 75 % 60, blocks % 75)


def burn_source(h, drive="0"):
    """Stock cdrskin burns the source CD in drive 0 from a CUE sheet with PREGAP and CD-TEXT."""
    h.emu("--drive", drive, "--media", "cd-r")
    pcm = os.path.join(h.tmp, "source.raw")
    cue = ['TITLE "Copied Album"', 'PERFORMER "The Copyists"', 'FILE "%s" BINARY' % pcm]
    offset = 0
    with open(pcm, "wb") as f:
        for i, (freq, blocks, gap) in enumerate(TRACKS):
            cue += ["  TRACK %02d AUDIO" % (i + 1), '    TITLE "Track %s"' % "ABC"[i],
                    '    PERFORMER "Singer %d"' % (i + 1)]
            if i > 0:
                cue.append("    PREGAP " + msf(gap))
            cue.append("    INDEX 01 " + msf(offset))
            f.write(tone(freq, blocks))
            offset += blocks
    path = os.path.join(h.tmp, "source.cue")
    with open(path, "w") as f:
        f.write("\n".join(cue) + "\n")
    h.emu_run("cdrskin", "dev=/dev/sr%s" % drive, "-sao", "-text", "cuefile=" + path)


def medium(h, drive):
    """The emulator's record of the disc: its track lines and whether it is closed."""
    with open(h.emu_file(drive, "medium")) as f:
        lines = [ln.split() for ln in f]
    return [ln[1:] for ln in lines if ln and ln[0] == "track"], ["closed", "1"] in lines


def track_data(h, drive, n):
    with open(h.emu_file(drive, "track-%02d.bin" % n), "rb") as f:
        return f.read()


def toc(h, dev):
    out = h.emu_run("cdrskin", "-toc", "dev=" + dev).stdout
    return [ln for ln in out.splitlines() if ln.startswith("track:")]


def cdtext(h, dev):
    out = h.emu_run("cdrskin", "dev=" + dev, "cdtext_to_v07t=-").stdout
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("cdrskin") and not key.startswith("Remarks"):
            fields[key.strip()] = value.strip()
    return fields


def check_source(h):
    """The source is what the CUE sheet asks for: the tracks where their pre-gaps put them."""
    tracks, closed = medium(h, "sr0")
    assert closed and len(tracks) == 3, tracks
    start = 0
    for i, (freq, blocks, gap) in enumerate(TRACKS):
        if i > 0:
            start += TRACKS[i - 1][1] + gap
        assert int(tracks[i][2]) == start and tracks[i][4:6] == ["2352", "0"], (i, tracks)
        assert track_data(h, "sr0", i + 1)[:blocks * BLOCK] == tone(freq, blocks), i
    text = cdtext(h, "/dev/sr0")
    assert text["Album Title"] == "Copied Album" and text["Track 03 Artist"] == "Singer 3", text
    return text


def disc(h, drive):
    """What a user compares of an audio CD: the emulator's record of its tracks, every track's
    bytes, the table of contents as stock cdrskin lists it, and its CD-TEXT."""
    tracks = medium(h, drive)
    return {"medium": tracks, "data": [track_data(h, drive, n + 1) for n in range(len(tracks[0]))],
            "toc": toc(h, "/dev/" + drive), "cdtext": cdtext(h, "/dev/" + drive)}


def check_copy(h, text, want=None, drive="sr1"):
    """The copy in drive against the source in sr0 (or want, what sr0 held before a swap)."""
    want = want or disc(h, "sr0")
    got = disc(h, drive)
    assert got["medium"] == want["medium"], (got["medium"], want["medium"])
    assert len(got["data"]) == len(TRACKS), got["medium"]
    for i in range(len(TRACKS)):
        assert got["data"][i] == want["data"][i], "track %d differs" % (i + 1)
    assert got["toc"] == want["toc"], (got["toc"], want["toc"])
    assert got["cdtext"] == text == want["cdtext"], (got["cdtext"], text)


def active_format(m):
    return str(m.dm.GetActiveDiscMasterFormat()).strip("{}").lower()


def audio_harness():
    return Harness(emulator=["--drives", "2", "--drive", "1", "--media", "cd-r"])


def test_audio_copy_drive_to_drive():
    with audio_harness() as h:
        burn_source(h)
        text = check_source(h)
        bus, m = copy_master(h)
        hr, message, phases = read_job(bus, m, SR0)
        assert hr == S_OK, (hex(hr or 0), message, h.log())
        assert "reading" in phases, phases
        # the disc master now holds Redbook tracks with the disc's text
        assert active_format(m) == IID_REDBOOK, m.dm.GetActiveDiscMasterFormat()
        assert int(m.prop("TotalAudioTracks", RB)) == 3
        # the tracks as long as the drive reports them (a track runs up to the next track's
        # pre-gap or, as the emulator counts it, up to the next track)
        assert int(m.prop("UsedAudioBlocks", RB)) == sum(int(t[3]) for t in medium(h, "sr0")[0])
        assert (str(m.prop("AlbumTitle", RB)), str(m.prop("AlbumPerformer", RB))) == ("Copied Album",
                                                                                      "The Copyists")
        assert [tuple(map(str, t)) for t in m.prop("AudioTrackText", RB)] == \
            [("Track A", "Singer 1"), ("Track B", "Singer 2"), ("Track C", "Singer 3")]
        hr, _, completed = m.record()
        assert hr == S_OK and completed[0], (hex(hr), completed, h.log())
        check_copy(h, text)
        m.dm.Close({})
        assert stash_files(h) == []


def test_audio_unreadable_sector_named():
    with audio_harness() as h:
        burn_source(h)
        # LBA 500 lies in track 2 (415..1039)
        h.emu("--drive", "0", "--fault", "read-error=500")
        bus, m = copy_master(h)
        hr, message, _ = read_job(bus, m, SR0)
        assert hr == DISCINFO, (hex(hr or 0), message)
        assert "Sector 500 (track 2)" in message, message
        assert stash_files(h) == []
        # nothing was staged: the Image format is still active
        assert active_format(m) != IID_REDBOOK
        h.emu("--drive", "0", "--no-faults")
        hr, message, _ = read_job(bus, m, SR0)
        assert hr == S_OK, (hex(hr or 0), message)


def test_audio_cancel_leaves_nothing():
    with audio_harness() as h:
        burn_source(h)
        h.emu("--drive", "0", "--fault", "slow=20")
        bus, m = copy_master(h)
        cancel_read(bus, m, SR0)
        assert stash_files(h) == []
        assert active_format(m) != IID_REDBOOK


def test_imapictl_copy_audio():
    with audio_harness() as h:
        burn_source(h)
        text = check_source(h)
        r = h.ctl("copy", "--from=sr0", "--to=sr1", check=0, timeout=600)
        assert re.search(r"Audio CD: 3 tracks, 0?0:1[0-9], CD-TEXT yes", r.stdout), r.stdout
        assert "verifying" in r.stdout, r.stdout
        check_copy(h, text)
        assert stash_files(h) == []


def test_imapictl_copy_audio_one_recorder():
    """One recorder for both: imapictl reads the CD, opens the tray and the job waits for a blank
    CD, saying so; the test swaps the disc when imapictl shows that, and the copy burned then is
    the source track for track."""
    with Harness(emulator=["--media", "cd-r"]) as h:
        burn_source(h)
        text = check_source(h)
        source = disc(h, "sr0")  # the swap takes the source away
        p, seen = copy_until_swap(h)
        assert any(re.search(r"Audio CD: 3 tracks, 0?0:1[0-9], CD-TEXT yes", line) for line in seen), seen
        # the job's own words: what it wants (an audio copy needs a CD), and that the tray is empty
        assert "Insert a blank CD-R or CD-RW into sr0." in seen[-1], seen[-1]
        assert "There is no disc in recorder sr0" in seen[-1], seen[-1]
        h.emu("--drive", "0", "--media", "cd-r")  # the swap: a blank CD-R in the same drive
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, (p.returncode, "".join(seen) + out, err, h.log())
        assert "verifying" in out, out
        check_copy(h, text, want=source, drive="sr0")
        assert stash_files(h) == []


if __name__ == "__main__":
    run_tests([t for t in [test_audio_copy_drive_to_drive, test_audio_unreadable_sector_named,
                           test_audio_cancel_leaves_nothing, test_imapictl_copy_audio,
                           test_imapictl_copy_audio_one_recorder]
               if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]])
