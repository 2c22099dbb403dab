#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real home folders: names and depths that Joliet cannot hold, burned with imapictl to an
image-file recorder and read back with stock xorriso, once through Rock Ridge (every name and
byte as in the source) and once through Joliet only (every name legal for Windows and unique,
every file byte-identical, where imapictl's report said it would be); the same tree refused by
name with StrictJolietNames, with nothing staged; names no tree can hold refused by name."""

import hashlib
import json
import os
import subprocess
import sys

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import (ERR, JOLIET, Harness, Master, expect_dbus_error, extract, run_tests,  # noqa: E402
                       stash_dirs, wait_until)

EXIT_USAGE = 2
WINDOWS_FORBIDDEN = set('*/:;?\\"<>|')
DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}

LONG = "L" * 116 + ".txt"                       # 120 characters
ALIKE = ["x" * 100 + "-first.txt", "x" * 100 + "-second.txt"]   # alike once cut to 64
DEEP = "/".join(f"level{i:02}" for i in range(1, 12)) + "/deep.txt"   # 12 levels


def make_home(root):
    """A tree as home folders have them. Returns {relative path: bytes}."""
    files = {
        "what?.txt": b"a question\n",
        'all ?:*;\\"<>| of them.txt': b"every character Windows refuses\n",
        "Documents/" + LONG: os.urandom(5000),
        "Documents/" + ALIKE[0]: b"first\n",
        "Documents/" + ALIKE[1]: b"second\n",
        "D" * 120 + "/inside.txt": b"in a folder of 120 characters\n",
        DEEP: os.urandom(3000),
        "Notes/Readme.md": b"lower\n",
        "Notes/README.md": b"UPPER\n",
        "Notes/con.txt": b"a DOS device name\n",
        "Notes/ends with dot.": b"dot\n",
        "plain/ok.txt": b"kept as it is\n",
    }
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return files


def tree_of(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def extract_joliet(image, out):
    """Everything in the Joliet tree, as Windows reads it: Rock Ridge not loaded (-rockridge off
    alone still reads it; -read_fs norock makes xorriso take the Joliet tree)."""
    subprocess.run(["xorriso", "-abort_on", "FAILURE", "-rockridge", "off", "-joliet", "on", "-read_fs", "norock",
                    "-indev", image,
                    "-osirrox", "on", "-extract", "/", out], check=True, capture_output=True)


def windows_legal(name):
    units = len(name.encode("utf-16-le")) // 2
    return (0 < units <= 64 and not (set(name) & WINDOWS_FORBIDDEN) and all(ord(c) >= 0x20 for c in name)
            and name[-1] not in ". " and name.split(".")[0].upper() not in DEVICES)


def check_joliet_names(root):
    """Every name under root legal for Windows and unique in its folder ignoring case."""
    for dirpath, dirnames, filenames in os.walk(root):
        names = dirnames + filenames
        for n in names:
            assert windows_legal(n), (dirpath, n)
        folded = [n.upper() for n in names]
        assert len(set(folded)) == len(folded), (dirpath, sorted(names))


def joliet_paths(files, adapted):
    """Where each source file is in the Joliet tree, by the adaptations listed (path -> Joliet path)."""
    out = {}
    for path in files:
        parts = path.split("/")
        jp = ""
        for i in range(len(parts)):
            prefix = "/".join(parts[:i + 1])
            jp = adapted.get(prefix, (jp + "/" if jp else "") + parts[i])
        out[path] = jp
    return out


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_home_folder_burns_and_reads_back():
    with Harness() as h:
        src = os.path.join(h.tmp, "home")
        files = make_home(src)
        tops = [os.path.join(src, n) for n in sorted(os.listdir(src))]

        # the report before staging, in full as JSON
        r = h.ctl("--json", "burn", *tops, check=0)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        assert events[0]["event"] == "names", events[0]
        report = events[0]
        assert report["strict"] is False and report["adapted"] == len(report["names"]), report
        adapted = {e["path"]: e["joliet_path"] for e in report["names"]}
        for path in ["what?.txt", 'all ?:*;\\"<>| of them.txt', "Documents/" + LONG, "D" * 120,
                     "Notes/Readme.md", "Notes/con.txt", "Notes/ends with dot."]:
            assert path in adapted, (path, sorted(adapted))
        assert adapted["what?.txt"] == "what_.txt", adapted
        assert adapted["Notes/con.txt"] == "Notes/con_.txt", adapted
        # of two names differing only in case, the second in byte order is marked
        assert adapted["Notes/Readme.md"] == "Notes/Readme~1.md", adapted
        # names that are fine stay out of the list, also under an adapted folder
        for path in ["plain/ok.txt", "Notes/README.md", DEEP, "D" * 120 + "/inside.txt"]:
            assert path not in adapted, (path, adapted)
        # the two alike once shortened are both there, under different names
        assert len({adapted.get("Documents/" + a, "Documents/" + a) for a in ALIKE}) == 2, adapted
        assert events[-1]["event"] == "completed", events[-1]

        # Rock Ridge: every name and byte as in the source
        out = os.path.join(h.tmp, "rr")
        extract(h.images[0], out)
        assert tree_of(out) == files, (sorted(tree_of(out)), sorted(files))

        # Joliet only: names legal for Windows and unique; each file where the report says, byte-identical
        jout = os.path.join(h.tmp, "joliet")
        extract_joliet(h.images[0], jout)
        check_joliet_names(jout)
        got = tree_of(jout)
        want = {jp: files[p] for p, jp in joliet_paths(files, adapted).items()}
        assert got == want, (sorted(got), sorted(want))
        # one extent per file: the Joliet names are twins, not copies
        size = os.path.getsize(h.images[0])
        assert size < 1024 * 1024, size

        # the text summary names a few and says how to see all of them
        r = h.ctl("burn", "--replace", *tops, check=0)
        assert f"{len(adapted)} names are adapted for Windows" in r.stderr, r.stderr
        first = sorted(adapted)[0]
        assert f"  {first} -> {adapted[first]}\n" in r.stderr, r.stderr
        assert f"and {len(adapted) - 3} more (--verbose" in r.stderr, r.stderr
        r = h.ctl("burn", "--replace", "--verbose", *tops, check=0)
        for path, jp in adapted.items():
            assert f"  {path} -> {jp}\n" in r.stderr, (path, r.stderr)
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


def test_next_session_keeps_adapted_names():
    """A second burn adds a session: the files of the first keep their adapted Joliet names
    (the previous session's tree is adapted again) and their data, which is not written twice."""
    with Harness() as h:
        src = os.path.join(h.tmp, "home")
        files = make_home(src)
        tops = [os.path.join(src, n) for n in sorted(os.listdir(src))]
        r = h.ctl("--json", "burn", *tops, check=0)
        adapted = {e["path"]: e["joliet_path"] for e in json.loads(r.stdout.splitlines()[0])["names"]}
        first_size = os.path.getsize(h.images[0])

        more = os.path.join(h.tmp, "more")
        os.makedirs(more)
        with open(os.path.join(more, "second|session.txt"), "wb") as f:
            f.write(b"added later\n")
        h.ctl("burn", os.path.join(more, "second|session.txt"), check=0)
        files["second|session.txt"] = b"added later\n"
        adapted["second|session.txt"] = "second_session.txt"
        # the new session holds the new file and the trees, not the first session's data again
        assert os.path.getsize(h.images[0]) - first_size < 256 * 1024, (first_size, os.path.getsize(h.images[0]))

        out = os.path.join(h.tmp, "rr")
        extract(h.images[0], out)
        assert tree_of(out) == files, (sorted(tree_of(out)), sorted(files))
        jout = os.path.join(h.tmp, "joliet")
        extract_joliet(h.images[0], jout)
        check_joliet_names(jout)
        assert tree_of(jout) == {jp: files[p] for p, jp in joliet_paths(files, adapted).items()}


def test_daemon_lists_what_imapictl_reported():
    with Harness() as h:
        src = os.path.join(h.tmp, "home")
        files = make_home(src)
        r = h.ctl("--json", "--simulate", "burn", *[os.path.join(src, n) for n in sorted(os.listdir(src))], check=0)
        report = json.loads(r.stdout.splitlines()[0])

        m = Master(h.dbus())
        props = m.joliet.GetJolietProperties()
        # D-Bus clients get IMAPI's behaviour unless they ask otherwise
        assert props["StrictJolietNames"] == dbus.Boolean(True), props
        assert m.joliet.SetJolietProperties({"StrictJolietNames": dbus.Boolean(False)}) == 0
        assert m.joliet.GetJolietProperties()["StrictJolietNames"] == dbus.Boolean(False)
        m.add([(name, os.path.join(src, name)) for name in sorted(files)])
        listed = [(str(a), str(b)) for a, b in m.joliet.GetAdaptedNames()]
        assert listed == [(e["path"], e["joliet_path"]) for e in report["names"]], (listed, report)

        # strict again while adapted names are staged: refused by name, nothing changes
        e = expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.joliet.SetJolietProperties,
                              {"StrictJolietNames": dbus.Boolean(True)})
        assert "what?.txt" in str(e) or "is staged" in str(e), e
        assert m.joliet.GetJolietProperties()["StrictJolietNames"] == dbus.Boolean(False)
        m.dm.Close({})


def test_strict_refuses_by_name_and_stages_nothing():
    with Harness() as h:
        src = os.path.join(h.tmp, "home")
        files = make_home(src)
        h.ctl("burn", os.path.join(src, "plain"), check=0)
        before = sha(h.images[0])

        # imapictl --strict-names: refused before anything is staged, the disc unchanged
        r = h.ctl("burn", "--strict-names", *[os.path.join(src, n) for n in sorted(os.listdir(src))])
        assert r.returncode == EXIT_USAGE, (r.returncode, r.stderr)
        assert "cannot be a name on the disc" in r.stderr and "--strict-names" in r.stderr, r.stderr
        assert sha(h.images[0]) == before

        # a D-Bus client with the default: BADJOLIETNAME naming the path, nothing of the batch kept
        m = Master(h.dbus())
        for bad in ["what?.txt", "Documents/" + LONG, DEEP, 'all ?:*;\\"<>| of them.txt']:
            e = expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.add,
                                  [("plain/ok.txt", os.path.join(src, "plain/ok.txt")), (bad, os.path.join(src, bad))])
            assert bad in str(e) and "StrictJolietNames" in str(e), e
            assert m.prop("UsedDataBlocks", JOLIET) == 0
            assert m.joliet.GetAdaptedNames() == []
            for d in stash_dirs(h):
                assert os.listdir(os.path.join(h.stash, d)) == [], os.listdir(os.path.join(h.stash, d))
        m.dm.Close({})
        assert sha(h.images[0]) == before
        del files


def test_names_no_tree_can_hold():
    with Harness() as h:
        src = os.path.join(h.tmp, "f.txt")
        with open(src, "wb") as f:
            f.write(b"x")
        m = Master(h.dbus())
        m.joliet.SetJolietProperties({"StrictJolietNames": dbus.Boolean(False)})
        long_path = "/".join(["p" * 250] * 16)
        for bad, rule in [("n" * 256 + ".txt", "255 bytes"), ("a/../b", '".."'), ("a//b", "empty"),
                          (long_path, "4000 bytes")]:
            e = expect_dbus_error(ERR + "IMAPI_E_BADJOLIETNAME", m.add, [("ok.txt", src), (bad, src)])
            assert bad in str(e) and rule in str(e), (bad, e)
            assert m.prop("UsedDataBlocks", JOLIET) == 0
        # 255 bytes and 40 levels are fine for Rock Ridge
        m.add([("n" * 251 + ".txt", src), ("/".join(["deep"] * 40) + "/f.txt", src)])
        assert len(m.joliet.GetAdaptedNames()) == 1
        m.dm.Close({})

        # imapictl names the path before staging: a tree whose paths exceed 4000 bytes
        top = os.path.join(h.tmp, "tree")
        deep = os.path.join(top, *(["q" * 250] * 16))
        os.makedirs(os.path.dirname(deep))
        with open(deep, "wb") as f:
            f.write(b"too deep\n")
        before = os.path.exists(h.images[0]) and sha(h.images[0])
        r = h.ctl("burn", top)
        assert r.returncode == EXIT_USAGE, (r.returncode, r.stderr)
        assert "longer than 4000 bytes" in r.stderr and "nothing was staged" in r.stderr, r.stderr
        assert (os.path.exists(h.images[0]) and sha(h.images[0])) == before
        wait_until(lambda: stash_dirs(h) == [], "the stash to be removed")


if __name__ == "__main__":
    run_tests([test_home_folder_burns_and_reads_back, test_next_session_keeps_adapted_names,
               test_daemon_lists_what_imapictl_reported,
               test_strict_refuses_by_name_and_stages_nothing, test_names_no_tree_can_hold])
