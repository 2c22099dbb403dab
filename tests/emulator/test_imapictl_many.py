#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapictl burn to several emulated recorders at once (one RecordDiscTo): a tree burned to three
media of different kinds, each disc read back by stock xorriso; a write error on one recorder
(exit status 6, a table naming it while the other discs are verified); --all-recorders skipping
the drives that cannot take the burn, each with its reason; --json with one object per recorder;
an image burned to two recorders; --keep burning a second disc from what is staged; and the
repeated options that are refused."""

import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import (BUS_NAME, PROPS, ROOT, Harness, build_path, glib_connection, make_image,  # noqa: E402
                       run_tests, stash_files, wait_until)
from mediatest import folder, tree  # noqa: E402

EXIT_USAGE, EXIT_CANCELLED, EXIT_SOME_FAILED = 2, 5, 6


def drives(media, *extra):
    opts = ["--drives", str(len(media))]
    for i, m in enumerate(media):
        opts += ["--drive", str(i), "--media", m]
    return Harness(emulator=opts + list(extra))


def content(h):
    return folder(h, "trip", {"notes.txt": b"day one\n", "photos/a.jpg": os.urandom(3 << 20),
                              "photos/b.jpg": os.urandom(300 << 10)})


def extract(h, i):
    out = os.path.join(h.tmp, f"out{i}")
    h.emu_run("xorriso", "-abort_on", "FAILURE", "-indev", f"/dev/sr{i}", "-osirrox", "on", "-extract", "/",
              out)
    return tree(out)


def table(stdout):
    """{recorder: (medium, result)} from the table after the RECORDER MEDIUM RESULT header."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.split()[:3] == ["RECORDER", "MEDIUM", "RESULT"])
    medium_at, result_at = lines[start].index("MEDIUM"), lines[start].index("RESULT")
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows[line[:medium_at].strip()] = (line[medium_at:result_at].strip(), line[result_at:])
    return rows


def test_three_mixed_media():
    with drives(["cd-r", "dvd+rw", "bd-r"]) as h:
        src, files = content(h)
        r = h.ctl("burn", "--recorder=sr0", "--recorder=sr1", "--recorder=/dev/sr2", src, check=0, timeout=300)
        rows = table(r.stdout)
        assert rows == {"sr0": ("CD-R", "verified"), "sr1": ("DVD+RW", "verified"),
                        "sr2": ("BD-R sequential recording", "verified")}, r.stdout
        # not a terminal: a line per update, each starting with its recorder
        for rec in ("sr0", "sr1", "sr2"):
            phases = [line.split()[1] for line in r.stdout.splitlines() if line.startswith(rec + " ")]
            assert "writing" in phases and "verifying" in phases, (rec, r.stdout)
        for i in range(3):
            assert extract(h, i) == files, i
        assert stash_files(h) == []


def test_write_error_on_one():
    with drives(["dvd-r", "cd-r", "dvd+rw"], "--drive", "1", "--fault", "write-error=900") as h:
        src, files = content(h)
        r = h.ctl("burn", "--recorder=sr0", "--recorder=sr1", "--recorder=sr2", src, check=EXIT_SOME_FAILED,
                  timeout=300)
        rows = table(r.stdout)
        assert rows["sr0"] == ("DVD-R sequential recording", "verified"), r.stdout
        assert rows["sr2"] == ("DVD+RW", "verified"), r.stdout
        medium, result = rows["sr1"]
        assert result.startswith("failed: IMAPI_E_CANNOT_WRITE_TO_MEDIA: 0x8004022C"), r.stdout
        assert "1 of 3 recorders failed" in r.stderr, r.stderr
        for i in (0, 2):
            assert extract(h, i) == files, i
        # imapictl closes its disc master at the end, failure or not
        assert stash_files(h) == []


def test_all_recorders():
    """sr1 has no disc, sr3 a CD-R too small for the tree: both skipped by name; the others burned."""
    with drives(["cd-r", "none", "dvd-r", "cd-r"], "--drive", "3", "--capacity", "1000") as h:
        src, files = content(h)
        r = h.ctl("burn", "--all-recorders", src, check=0, timeout=300)
        assert "skipping recorder sr1: IMAPI_E_MEDIUM_NOTPRESENT" in r.stderr, r.stderr
        assert "skipping recorder sr3: IMAPI_E_DISCFULL" in r.stderr, r.stderr
        rows = table(r.stdout)
        assert rows["sr0"] == ("CD-R", "verified"), r.stdout
        assert rows["sr2"] == ("DVD-R sequential recording", "verified"), r.stdout
        assert rows["sr1"][1].startswith("skipped: IMAPI_E_MEDIUM_NOTPRESENT"), r.stdout
        assert rows["sr3"][1].startswith("skipped: IMAPI_E_DISCFULL"), r.stdout
        for i in (0, 2):
            assert extract(h, i) == files, i
        toc = h.emu_run("xorriso", "-indev", "/dev/sr3", "-toc", check=False)
        assert "is blank" in toc.stdout + toc.stderr, toc.stdout  # nothing was written there


def test_json_and_image():
    """An image to two recorders with --json: every progress and completed object names its recorder,
    and the end is one result object per recorder; both discs hold the image block for block."""
    with drives(["dvd-r", "bd-r"]) as h:
        image = make_image(h, mib=4, hybrid=False, volume="MANY")
        r = h.ctl("--json", "burn", "--image=" + image, "--recorder=sr0", "--recorder=sr1", check=0,
                  timeout=300)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        progress = [e for e in events if e["event"] in ("progress", "completed")]
        assert progress and all(e["recorder"] in ("sr0", "sr1") for e in progress), events
        assert {e["recorder"] for e in progress if e["event"] == "progress" and e["phase"] == "writing"} == \
            {"sr0", "sr1"}, events
        results = [e for e in events if e["event"] == "result"]
        assert [(e["recorder"], e["medium"], e["result"], e["success"]) for e in results] == \
            [("sr0", "DVD-R sequential recording", "verified", True),
             ("sr1", "BD-R sequential recording", "verified", True)], results
        size = os.path.getsize(image)
        with open(image, "rb") as f:
            want = f.read()
        for i in range(2):
            out = os.path.join(h.tmp, f"back{i}.bin")
            h.emu_run("xorriso", "-indev", f"/dev/sr{i}", "-check_media", "what=disc", "min_lba=0",
                      "max_lba=%d" % (size // 2048 - 1), "data_to=" + out, "use=indev", "--")
            with open(out, "rb") as f:
                assert f.read() == want, i


def test_audio_two_cds():
    """An audio CD to two CD-Rs at once: each holds both tracks as decoded, and is verified."""
    from test_redbook import tone, write_wav
    with drives(["cd-r", "cd-r"]) as h:
        tracks = [tone(330, 320), tone(880, 310)]
        wavs = [os.path.join(h.tmp, f"t{i}.wav") for i in range(2)]
        for path, pcm in zip(wavs, tracks):
            write_wav(path, pcm)
        r = h.ctl("burn", "--audio", "--recorder=sr0", "--recorder=sr1", *wavs, check=0, timeout=600)
        assert table(r.stdout) == {"sr0": ("CD-R", "verified"), "sr1": ("CD-R", "verified")}, r.stdout
        for i in range(2):
            for n, pcm in enumerate(tracks, 1):
                with open(h.emu_file(f"sr{i}", "track-%02d.bin" % n), "rb") as f:
                    assert f.read()[:len(pcm)] == pcm, (i, n)
        assert stash_files(h) == []


def test_keep_second_copy():
    """--keep: after the burn imapictl asks for a new disc, keeps what is staged meanwhile, burns the
    new disc on Enter without staging again, and frees the stash when its input ends."""
    with drives(["dvd-r"]) as h:
        src, files = content(h)
        p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "burn", "--keep", src],
                             env=h.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)

        def until_prompt():
            seen = []
            for line in p.stdout:
                seen.append(line)
                if "press Enter to burn another copy" in line:
                    return seen
            raise AssertionError("no prompt: " + "".join(seen) + p.stderr.read())
        first = until_prompt()
        assert "Done: burn finished.\n" in first, first
        assert extract(h, 0) == files
        assert stash_files(h) != []  # the staged content waits for the next disc
        h.emu("--drive", "0", "--media", "dvd-r")  # a new blank disc
        p.stdin.write("\n")
        p.stdin.flush()
        second = until_prompt()
        assert "Done: burn finished.\n" in second, second
        assert not any(line.startswith("staging") for line in second), second  # nothing staged again
        assert extract(h, 0) == files
        out, err = p.communicate("", timeout=120)  # end of input: no more copies
        assert p.returncode == 0, (p.returncode, out, err)
        assert stash_files(h) == []


def test_ctrl_c_cancels_every_job():
    """Ctrl-C while two recorders write: both jobs cancelled, the table says so per recorder, exit
    status 5, nothing left in the stash, both recorders free, and neither disc passing for a finished one."""
    import dbus
    with drives(["dvd-r", "dvd-r"], "--write-rate", "1000", "--buffer-kib", "256") as h:
        src, _ = content(h)
        p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, "burn", "--recorder=sr0",
                              "--recorder=sr1", src], env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        seen = []
        for line in p.stdout:  # not a terminal: a line per update, each naming its recorder
            seen.append(line)
            if {rec for rec in ("sr0", "sr1") for x in seen if x.startswith(rec + " ") and " writing " in x} == \
                    {"sr0", "sr1"}:
                break
        else:
            raise AssertionError("both recorders never wrote: " + "".join(seen) + p.stderr.read())
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=300)
        out = "".join(seen) + rest
        assert p.returncode == EXIT_CANCELLED, (p.returncode, out, err)
        rows = table(out)
        assert set(rows) == {"sr0", "sr1"}, out
        for rec, (medium, result) in rows.items():
            assert medium == "DVD-R sequential recording", (rec, out)
            assert result.startswith("cancelled: IMAPI_E_USERABORT"), (rec, out)
        assert "Cancelling the jobs" in out + err, (out, err)
        assert "imapictl: the burn was cancelled on every recorder." in err, err
        wait_until(lambda: stash_files(h) == [], "the stash to be emptied")
        bus = glib_connection(h)
        for i in range(2):
            rec = dbus.Interface(bus.get_object(BUS_NAME, ROOT + f"/recorders/sr{i}"), PROPS)
            assert int(rec.Get("org.imapid.Imapi1.Recorder", "State")) == 0, i  # not busy
            toc = h.emu_run("xorriso", "-indev", f"/dev/sr{i}", "-toc", check=False)
            # a write-once disc stopped mid-write is not blank: what was written stays, but the disc
            # is not closed as a finished one would be
            said = toc.stdout + toc.stderr
            assert "is blank" in said or "is appendable" in said, (i, said)


def test_repeated_options_refused():
    with drives(["cd-r", "cd-r"]) as h:
        src, _ = content(h)
        r = h.ctl("burn", "--recorder=sr0", "--recorder=/dev/sr0", src, check=EXIT_USAGE)
        assert "names a recorder twice" in r.stderr, r.stderr
        r = h.ctl("burn", "--all-recorders", "--recorder=sr0", src, check=EXIT_USAGE)
        assert "do not go together" in r.stderr, r.stderr
        r = h.ctl("burn", "--volume-name=A", "--volume-name=B", src, check=EXIT_USAGE)
        assert "--volume-name was given twice ('A' and 'B'); give it once." in r.stderr, r.stderr
        r = h.ctl("copy", "--from=sr0", "--from=sr1", "--to=sr1", check=EXIT_USAGE)
        assert "--from was given twice ('sr0' and 'sr1'); a copy reads one disc." in r.stderr, r.stderr
        r = h.ctl("media", "--recorder=sr0", "--recorder=sr1", check=EXIT_USAGE)
        assert "only burn goes to several recorders" in r.stderr, r.stderr
        assert stash_files(h) == []
        for i in range(2):
            toc = h.emu_run("xorriso", "-indev", f"/dev/sr{i}", "-toc", check=False)
            assert "is blank" in toc.stdout + toc.stderr, toc.stdout


if __name__ == "__main__":
    run_tests([test_three_mixed_media, test_write_error_on_one, test_all_recorders, test_json_and_image,
               test_audio_two_cds, test_keep_second_copy, test_ctrl_c_cancels_every_job,
               test_repeated_options_refused])
