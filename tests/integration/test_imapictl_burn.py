#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapictl burn, erase, jobs, cancel and watch against a real imapid with image-file recorders:
trees read back with stock xorriso, progress output in its three forms, errors by their IMAPI
names and exit codes, Ctrl-C, and the stash left empty after every case."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (BUS_NAME, PROPS, Harness, Master, build_path, extract, make_tree, run_tests,  # noqa: E402
                       stash_dirs, wait_until)

USERABORT = 0x8004020D
EXIT_FAILED, EXIT_USAGE, EXIT_NOTFOUND, EXIT_CANCELLED = 1, 2, 4, 5


def joliet_listing(image):
    """The Joliet tree as xorriso reads it with Rock Ridge switched off."""
    r = subprocess.run(["xorriso", "-read_fs", "norock", "-indev", image, "-find", "/"], check=True,
                       capture_output=True, text=True)
    return set(line.strip().strip("'") for line in r.stdout.splitlines())


def tree_of(root):
    """{relative path: bytes or None for a folder} of everything under root but symbolic links."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def json_events(text):
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert events, "no JSON output"
    return events


def no_masters(h):
    objs = h.dbus().get_object(BUS_NAME, "/org/imapid/Imapi1").GetManagedObjects(
        dbus_interface="org.freedesktop.DBus.ObjectManager")
    return not [p for p in objs if "/masters/" in p]


def ctl_popen(h, *args):
    return subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, *args], env=h.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def random_file(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1024 * 1024))


def test_burn_tree_read_back():
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        files = make_tree(src, empty_dir="docs/empty dir", data_size=2 * 1024 * 1024 + 17)
        # inside a tree a symbolic link is skipped with a warning; named on the command line it is followed
        os.symlink("readme.txt", os.path.join(src, "docs", "link-to-readme"))
        # so are FIFOs: opening one would hang
        os.mkfifo(os.path.join(src, "docs", "pipe"))
        target = os.path.join(h.tmp, "linked-target.txt")
        with open(target, "wb") as f:
            f.write(b"through a link\n")
        link = os.path.join(h.tmp, "named-link.txt")
        os.symlink(target, link)

        # the entries of src, as `cp -r src/* DISC/` would place them, plus the link
        paths = [os.path.join(src, n) for n in sorted(os.listdir(src))] + [link]
        r = h.ctl("burn", "--volume-name", "HOLIDAY_2024", *paths, check=0)
        assert "skipping symbolic link" in r.stderr and "link-to-readme" in r.stderr, r.stderr
        assert "skipping " + os.path.join(src, "docs", "pipe") in r.stderr, r.stderr
        # not a terminal: a plain line per update, each starting with the phase
        phases = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
        for phase in ("staging", "writing", "done"):
            assert phase in phases, (phase, r.stdout)
        # in the order of the job; laying out eight files ("preparing") may be over before
        # imapictl learns of the job, and is shown when it is not
        order = ["staging", "preparing", "writing", "closing", "verifying", "done"]
        seen = [order.index(p) for p in phases if p in order]
        assert seen == sorted(seen), r.stdout
        assert "Done: burn finished." in r.stdout, r.stdout

        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        got = tree_of(out)
        want = tree_of(src)
        want["named-link.txt"] = b"through a link\n"
        assert got == want, (sorted(got), sorted(want))
        assert got["empty.dat"] == b"" and got["docs/empty dir"] is None
        for name, data in files.items():
            assert got[name] == data, name
        listing = joliet_listing(h.images[0])
        for name in ["/照片/长城.jpg", "/Ελληνικά/αλφάβητο.txt", "/emoji/🎵 music 🎶.txt", "/docs/empty dir"]:
            assert name in listing, (name, sorted(listing))
        pvd = subprocess.run(["isoinfo", "-d", "-i", h.images[0]], capture_output=True, text=True).stdout
        assert "Volume id: HOLIDAY_2024" in pvd, pvd
        # Close at the end: the master and its stash are gone
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")
        assert no_masters(h)

        # a folder named on the command line lands under its own name, as with cp -r (on a new
        # file system: without --replace the burn would add to the one there)
        r = h.ctl("burn", "--replace", os.path.join(src, "docs") + "/", check=0)
        out2 = os.path.join(h.tmp, "out2")
        extract(h.images[0], out2)
        assert sorted(os.listdir(out2)) == ["docs"], os.listdir(out2)
        assert tree_of(os.path.join(out2, "docs")) == tree_of(os.path.join(src, "docs"))


def test_json_progress():
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        make_tree(src, empty_dir="docs/empty dir", data_size=2 * 1024 * 1024 + 17)
        r = h.ctl("--json", "burn", src, check=0)
        events = json_events(r.stdout)
        kinds = [e["event"] for e in events]
        assert kinds[0] == "staging" and kinds[-1] == "completed", kinds
        staging = [e for e in events if e["event"] == "staging"]
        assert staging[-1]["files"] == staging[-1]["files_total"] == 7, staging[-1]
        assert staging[-1]["bytes"] == staging[-1]["bytes_total"] > 2 * 1024 * 1024, staging[-1]
        progress = [e for e in events if e["event"] == "progress"]
        for e in progress:
            for key in ("phase", "progress", "bytes", "rate", "eta", "buffer_fill"):
                assert key in e, (key, e)
            assert 0.0 <= e["progress"] <= 1.0, e
        # laying the image out ("preparing") may be over before imapictl learns of the job
        assert {"writing", "done"} <= {e["phase"] for e in progress}, progress
        assert progress[-1]["progress"] == 1.0 and progress[-1]["phase"] == "done", progress[-1]
        end = events[-1]
        assert end["success"] is True and end["hresult"] == 0 and end["error_name"] is None, end
        assert end["message"].startswith("0x00000000"), end
        # one style of keys throughout (imapictl(1), JSON OUTPUT)
        for e in events:
            for key in e:
                assert key == key.lower() and " " not in key, (key, e)


def test_simulate_leaves_image_untouched():
    with Harness() as h:
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "w") as f:
            f.write("first burn")
        h.ctl("burn", "--no-verify", src, check=0)
        with open(h.images[0], "rb") as f:
            before = f.read()
        st = os.stat(h.images[0])
        with open(src, "w") as f:
            f.write("a rehearsal that must not reach the disc")
        r = h.ctl("--json", "burn", "--simulate", src, check=0)
        events = json_events(r.stdout)
        assert [e for e in events if e["event"] == "job"][0]["operation"] == "simulate", events
        assert events[-1]["success"] is True, events[-1]
        with open(h.images[0], "rb") as f:
            assert f.read() == before
        assert os.stat(h.images[0]).st_mtime_ns == st.st_mtime_ns
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


def test_bad_paths_stage_nothing():
    with Harness() as h:
        good = os.path.join(h.tmp, "good.txt")
        with open(good, "w") as f:
            f.write("x")
        missing = os.path.join(h.tmp, "no such file")
        r = h.ctl("burn", good, missing, check=EXIT_USAGE)
        assert missing in r.stderr and "No such file or directory" in r.stderr, r.stderr
        # a name that cannot be a D-Bus string, deep in a tree, is named with its bad byte
        tree = os.path.join(h.tmp, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        with open(os.path.join(tree, "sub", "ok.txt"), "w") as f:
            f.write("ok")
        with open(os.path.join(tree.encode(), b"sub", b"bad\xff.txt"), "w") as f:
            f.write("bad")
        r = h.ctl("burn", tree, check=EXIT_USAGE)
        assert "sub/bad\\xFF.txt" in r.stderr and "UTF-8" in r.stderr, r.stderr
        os.remove(os.path.join(tree.encode(), b"sub", b"bad\xff.txt"))
        # a folder that contains itself through a bind mount is a loop, not an endless tree
        loop = os.path.join(tree, "sub", "loop")
        os.mkdir(loop)
        subprocess.run(["mount", "--bind", tree, loop], check=True)
        try:
            r = h.ctl("burn", tree, check=EXIT_USAGE)
            assert loop in r.stderr and "contains itself" in r.stderr, r.stderr
        finally:
            subprocess.run(["umount", loop], check=True)
        r = h.ctl("burn", check=EXIT_USAGE)
        r = h.ctl("burn", "--iso-level", "4", good, check=EXIT_USAGE)
        assert "--iso-level" in r.stderr, r.stderr
        # --recorder may name several recorders, but not one twice (0 and stdio0 are the same)
        r = h.ctl("burn", "--recorder=0", "--recorder=stdio0", good, check=EXIT_USAGE)
        assert "--recorder=stdio0 names a recorder twice" in r.stderr, r.stderr
        # so is any other option's second value, and a track's second title
        for args, said in ((["--speed=2", "--speed=4"], "--speed was given twice ('2' and '4')"),
                           (["--volume-name=A", "--volume-name=B"], "--volume-name was given twice ('A' and 'B')"),
                           (["--iso-level=2", "--iso-level=2"], "--iso-level was given twice"),
                           (["--audio", "--title=1:a", "--title=1:b"], "--title was given twice for track 1")):
            r = h.ctl("burn", *args, good, check=EXIT_USAGE)
            assert said in r.stderr, (args, r.stderr)
        # none of these got as far as a disc master
        assert "Disc master" not in h.log(), h.log()
        assert stash_dirs(h) == [] and no_masters(h)


def test_iso_level_2_refuses_huge_file():
    with Harness() as h:
        huge = os.path.join(h.tmp, "huge.bin")
        with open(huge, "wb") as f:
            f.truncate(5 * 1024 * 1024 * 1024)  # sparse
        r = h.ctl("burn", "--iso-level", "2", huge, check=EXIT_FAILED)
        assert "RecordDisc: org.imapid.Imapi1.Error.E_INVALIDARG: 0x80070057: " in r.stderr, r.stderr
        assert "ISO level 3" in r.stderr, r.stderr
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")
        assert no_masters(h)


def test_name_joliet_cannot_hold():
    """A valid UTF-8 name that Joliet cannot hold: adapted for Windows and reported before staging;
    with --strict-names refused by name before anything is staged."""
    with Harness() as h:
        tree = os.path.join(h.tmp, "tree")
        os.makedirs(tree)
        for i in range(40):
            with open(os.path.join(tree, f"fine{i}.txt"), "w") as f:
                f.write("fine")
        with open(os.path.join(tree, "what?.txt"), "w") as f:
            f.write("?")
        r = h.ctl("burn", tree, check=0)
        assert "1 name is adapted for Windows" in r.stderr and "  tree/what?.txt -> tree/what_.txt\n" in r.stderr, \
            r.stderr
        assert "/tree/what_.txt" in joliet_listing(h.images[0])
        with open(h.images[0], "rb") as f:
            before = f.read()
        r = h.ctl("burn", "--strict-names", tree, check=EXIT_USAGE)
        assert "'tree/what?.txt' cannot be a name on the disc: " in r.stderr, r.stderr
        assert "nothing was staged" in r.stderr and "staging" not in r.stdout, (r.stdout, r.stderr)
        with open(h.images[0], "rb") as f:
            assert f.read() == before
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "the stash to be removed")


def test_recorder_held_elsewhere():
    with Harness() as h:
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "w") as f:
            f.write("x")
        other = h.dbus()
        rec = other.get_object(BUS_NAME, h.recorder_path())
        rec.OpenExclusive({}, dbus_interface="org.imapid.Imapi1.Recorder")
        r = h.ctl("burn", src, check=EXIT_FAILED)
        assert ": org.imapid.Imapi1.Error.IMAPI_E_DEVICE_NOTACCESSIBLE: 0x80040212: " in r.stderr, r.stderr
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")
        rec.Close({}, dbus_interface="org.imapid.Imapi1.Recorder")
        h.ctl("burn", src, check=0)


def test_ctrl_c_during_burn():
    with Harness() as h:
        big = os.path.join(h.tmp, "big.bin")
        random_file(big, 24)
        # an image-file recorder has no "x" speed; 2 MB/s makes the write last seconds
        p = ctl_popen(h, "--json", "burn", "--speed-kbps", "2000", big)
        events = []
        for line in p.stdout:
            events.append(json.loads(line))
            if events[-1].get("phase") == "writing":
                p.send_signal(signal.SIGINT)
                break
        out, err = p.communicate(timeout=120)
        events += json_events(out)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, err)
        end = events[-1]
        assert end["event"] == "completed" and end["hresult"] == USERABORT and end["success"] is False, end
        assert end["error_name"] == "org.imapid.Imapi1.Error.IMAPI_E_USERABORT", end
        assert end["hresult_name"] == "IMAPI_E_USERABORT" and end["message"].startswith("0x8004020D: "), end
        assert "cancelling" in [e["event"] for e in events], events
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")
        assert no_masters(h)
        assert h.dbus().get_object(BUS_NAME, h.recorder_path()).Get(
            "org.imapid.Imapi1.Recorder", "State", dbus_interface=PROPS) == 0


def slow_burn_until_writing(h):
    """imapictl burning 24 MiB at 2 MB/s (seconds of writing), once it has printed "writing"."""
    big = os.path.join(h.tmp, "big.bin")
    random_file(big, 24)
    p = ctl_popen(h, "burn", "--speed-kbps", "2000", big)
    for line in p.stdout:
        if line.startswith("writing"):
            return p
    raise AssertionError("imapictl never reached writing: " + p.communicate()[1])


def test_second_ctrl_c_stops_waiting():
    with Harness() as h:
        p = slow_burn_until_writing(h)
        # two SIGINTs sent at once would merge into one pending signal; SIGTERM counts the same
        p.send_signal(signal.SIGINT)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, err)
        assert "Not waiting any longer" in out, out
        # imapid finishes the cancellation on its own and removes what it staged
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "imapid to clean up", timeout=120)


def test_ctrl_c_during_staging():
    """SIGINT as soon as staging starts. Should staging already be over, the burn is cancelled
    instead; either way imapictl exits 5 and nothing stays in the stash."""
    with Harness() as h:
        tree = os.path.join(h.tmp, "tree")
        for d in range(20):
            os.makedirs(os.path.join(tree, f"d{d}"))
            for i in range(50):
                with open(os.path.join(tree, f"d{d}", f"f{i}"), "wb") as f:
                    f.write(os.urandom(64 * 1024))
        p = ctl_popen(h, "--json", "burn", "--speed-kbps", "2000", tree)
        first = json.loads(p.stdout.readline())
        assert first["event"] == "staging", first
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, out, err)
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "imapid to clean up", timeout=120)


def start_python_burn(h, mib, kbps, recorder=0):
    """A burn started by another client (python-dbus); returns (its connection, master, job path)."""
    big = os.path.join(h.tmp, f"big{mib}.bin")
    random_file(big, mib)
    bus = h.dbus()
    m = Master(bus, recorder=recorder)
    m.add([("big.bin", big)])
    job = str(m.dm.RecordDisc(False, False, {"write_speed_kbps": dbus.UInt32(kbps)}))
    return bus, m, job


def test_jobs_watch_cancel():
    with Harness(drives=2) as h:
        r = h.ctl("jobs", check=0)
        assert r.stdout.strip() == "No jobs.", r.stdout
        bus, m, job = start_python_burn(h, 24, 2000)
        number = job.rsplit("/", 1)[1]
        r = h.ctl("jobs", check=0)
        rows = [line.split() for line in r.stdout.splitlines()]
        assert rows[0][:4] == ["JOB", "OPERATION", "PHASE", "PROGRESS"], rows
        assert rows[1][0] == number and rows[1][1] == "burn" and m.path in rows[1], rows
        r = h.ctl("--json", "jobs", check=0)
        listed = json.loads(r.stdout)
        assert [j["job"] for j in listed] == [job] and m.path in listed[0]["objects"], listed

        watcher = ctl_popen(h, "--json", "watch", number)
        # cancel by object path from a third process once the watcher sees the write
        first = json.loads(watcher.stdout.readline())
        assert first["event"] == "job" and first["job"] == job, first
        for line in watcher.stdout:
            if json.loads(line).get("phase") == "writing":
                break
        h.ctl("cancel", job, check=0)
        out, err = watcher.communicate(timeout=120)
        assert watcher.returncode == EXIT_CANCELLED, (watcher.returncode, err)
        assert json_events(out)[-1]["hresult"] == USERABORT, out
        wait_until(lambda: h.ctl("jobs").stdout.strip() == "No jobs.", "the job to go away")

        # watch of a burn that succeeds exits 0; jobs that do not exist are told apart from bad names.
        # On the other recorder, so that this does not depend on how soon after a cancelled write
        # libburn lets the first one go.
        m.dm.Close({})
        bus, m, job = start_python_burn(h, 8, 8000, recorder=1)
        h.ctl("watch", job, check=0)
        r = h.ctl("watch", "999", check=EXIT_NOTFOUND)
        assert "no job" in r.stderr, r.stderr
        h.ctl("cancel", "999", check=EXIT_NOTFOUND)
        h.ctl("cancel", "/org/imapid/Imapi1/Manager", check=EXIT_USAGE)
        h.ctl("watch", "twelve", check=EXIT_USAGE)


def test_erase_image_file():
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        make_tree(src)
        h.ctl("burn", src, check=0)
        assert os.path.getsize(h.images[0]) > 0
        # erasing an image file empties it: a blank medium again
        h.ctl("erase", "--full", check=0)
        assert os.path.getsize(h.images[0]) == 0
        assert "Status:         blank" in h.ctl("media", check=0).stdout
        # the recorder was closed again
        assert h.dbus().get_object(BUS_NAME, h.recorder_path()).Get(
            "org.imapid.Imapi1.Recorder", "State", dbus_interface=PROPS) == 0
        h.ctl("erase", "7", check=EXIT_NOTFOUND)


def test_thousand_files():
    with Harness() as h:
        tree = os.path.join(h.tmp, "many")
        for d in range(10):
            for s in range(4):
                os.makedirs(os.path.join(tree, f"dir{d}", f"sub{s}"))
                for i in range(25):
                    with open(os.path.join(tree, f"dir{d}", f"sub{s}", f"file{i}.txt"), "wb") as f:
                        f.write(f"{d}/{s}/{i}\n".encode() * (i + 1))
        r = h.ctl("--json", "burn", "--no-verify", tree, check=0)
        staging = [e for e in json_events(r.stdout) if e["event"] == "staging"]
        assert staging[-1]["files"] == 1000, staging[-1]
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        assert tree_of(os.path.join(out, "many")) == tree_of(tree)
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


def test_cancelled_burn_names_the_error():
    """A job's failure shows the D-Bus name of its HRESULT and imapid's sentence, once each."""
    with Harness() as h:
        p = slow_burn_until_writing(h)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        assert p.returncode == EXIT_CANCELLED, (p.returncode, err)
        lines = [line for line in err.splitlines() if "cancelled" in line]
        assert len(lines) == 1, err
        assert lines[0].startswith("imapictl: burn cancelled: org.imapid.Imapi1.Error.IMAPI_E_USERABORT: "
                                   "0x8004020D: "), err
        assert lines[0].count("0x8004020D") == 1, lines[0]
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "imapid to clean up", timeout=120)


def test_eta_is_honest():
    """No ETA until the write has shown its pace, then one near the time really left: the fast
    image build at the start must not make it promise an early end."""
    with Harness() as h:
        data = os.path.join(h.tmp, "data.bin")
        random_file(data, 12)
        # about 12 s of writing (imapid reads an image file at the rate asked for)
        p = ctl_popen(h, "--json", "burn", "--no-verify", "--speed-kbps", "1000", data)
        seen = []
        for line in p.stdout:
            seen.append((time.monotonic(), json.loads(line)))
        p.wait(timeout=120)
        assert p.returncode == 0, p.stderr.read()
        end = seen[-1][0]
        writing = [(t, e) for t, e in seen if e["event"] == "progress" and e["phase"] == "writing"]
        assert len(writing) > 10, writing
        assert writing[0][1]["eta"] is None, writing[0]
        known = [(t, e["eta"]) for t, e in writing if e["eta"] is not None]
        assert len(known) > len(writing) / 2, writing
        for t, eta in known:
            left = end - t
            assert 0.5 * left - 1.5 <= eta <= 2 * left + 2, (eta, left, writing)


def test_progress_on_narrow_terminal():
    """On narrow terminals the progress line never wraps and no field is cut in two."""
    for cols, bar in ((40, True), (16, False)):
        progress_on_terminal(cols, bar)


def progress_on_terminal(cols, bar):
    with Harness() as h:
        data = os.path.join(h.tmp, "data.bin")
        random_file(data, 6)
        cmd = (f"stty cols {cols} rows 24; exec {build_path('imapictl')} --bus-address={h.address} burn "
               f"--no-verify --speed-kbps 2000 {data}")
        r = subprocess.run(["script", "-qefc", cmd, "/dev/null"], env=h.env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        segments = [seg.replace("\033[K", "") for seg in re.split(r"[\r\n]+", r.stdout) if seg.strip()]
        field = re.compile(r"(ETA (--|\d+:\d\d(:\d\d)?)|\d+\.\d (B|KiB|MiB|GiB)/s|buffer \d+%|\d+/\d+ files|"
                           r"[\d.]+ (B|KiB|MiB|GiB)/[\d.]+ (B|KiB|MiB|GiB))")
        bars = shown = 0
        for seg in segments:
            # the Job and Done lines are printed once, not redrawn: only the progress line is fitted
            if not re.match(r"\[|(staging|preparing|writing|closing|verifying|done) |\s*\d+\.\d%|\s+--$", seg):
                continue
            shown += 1
            assert len(seg) <= cols - 1, (cols, len(seg), seg)
            m = re.fullmatch(r"(\[[#.-]{10,24}\] )?(\w+ *)?( *\d+\.\d%|   --)((  [^ ].*?)*)", seg)
            assert m, seg
            bars += bool(m.group(1))
            for f in filter(None, m.group(4).split("  ")):
                assert field.fullmatch(f), (f, seg)
        # the bar stays as long as it fits; at 16 columns the phase and percentage are all there is
        assert shown > 3 and (bars > 3) == bar, (cols, segments)


if __name__ == "__main__":
    run_tests([test_burn_tree_read_back, test_json_progress, test_simulate_leaves_image_untouched,
               test_bad_paths_stage_nothing, test_name_joliet_cannot_hold, test_iso_level_2_refuses_huge_file,
               test_recorder_held_elsewhere,
               test_ctrl_c_during_burn, test_second_ctrl_c_stops_waiting, test_ctrl_c_during_staging,
               test_jobs_watch_cancel, test_erase_image_file, test_thousand_files,
               test_cancelled_burn_names_the_error, test_eta_is_honest, test_progress_on_narrow_terminal])
