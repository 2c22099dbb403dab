#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The example clients of docs/examples, run against a private imapid the way a desktop developer
would run them, so that they cannot rot: the Python one (GDBus) and the C one (built from the XML
by gdbus-codegen) each burn a folder with progress, read back with xorriso; cancel on Ctrl-C;
and report imapid's errors by their D-Bus names."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import SRCDIR, BUS_NAME, Harness, extract, make_tree, run_tests, stash_dirs, wait_until  # noqa: E402

PYTHON_EXAMPLE = ["/usr/bin/python3", os.path.join(SRCDIR, "docs", "examples", "burn-folder.py")]
C_EXAMPLE = os.environ.get("BURN_FOLDER_C", "")
USERABORT = "0x8004020D"


def tree_of(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                out[os.path.relpath(os.path.join(dirpath, f), root)] = fh.read()
    return out


def no_masters(h):
    objs = h.dbus().get_object(BUS_NAME, "/org/imapid/Imapi1").GetManagedObjects(
        dbus_interface="org.freedesktop.DBus.ObjectManager")
    return not [p for p in objs if "/masters/" in p]


def burns_a_folder(example):
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        make_tree(src, empty_dir="docs/empty dir")
        r = subprocess.run(example + [src], env=h.env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr + h.log()
        lines = r.stdout.splitlines()
        assert "staged 8/8" in lines, r.stdout          # 7 files and the empty folder
        assert any(line.startswith("Job /org/imapid/Imapi1/jobs/") for line in lines), r.stdout
        assert any(line.startswith("writing") and line.endswith("%") for line in lines), r.stdout
        assert lines[-1].startswith("Done: "), r.stdout
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        # the folder's contents at the root of the disc
        assert tree_of(out) == tree_of(src), (sorted(tree_of(out)), sorted(tree_of(src)))
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "the stash to be removed")


def cancels_on_ctrl_c(example):
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        os.mkdir(src)
        with open(os.path.join(src, "big.bin"), "wb") as f:
            for _ in range(24):
                f.write(os.urandom(1024 * 1024))
        # 2 MB/s: the write takes seconds, time enough to interrupt it
        p = subprocess.Popen(example + ["--speed-kbps=2000", src], env=h.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        for line in p.stdout:
            if line.startswith("writing"):
                p.send_signal(signal.SIGINT)
                break
        out, err = p.communicate(timeout=120)
        assert p.returncode == 5, (p.returncode, out, err)
        assert "Cancelling" in out and ("Failed: " + USERABORT in out or "(cancelled)" in out), out
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "imapid to clean up", timeout=120)
        assert "cancel requested" in h.log(), h.log()


def names_errors(example):
    with Harness() as h:
        src = os.path.join(h.tmp, "src")
        os.mkdir(src)
        with open(os.path.join(src, "what?.txt"), "w") as f:
            f.write("a name Joliet cannot hold")
        r = subprocess.run(example + [src], env=h.env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "burn-folder: AddData: org.imapid.Imapi1.Error.IMAPI_E_BADJOLIETNAME: 0x8004021D: " in r.stderr, r.stderr
        assert "what?.txt" in r.stderr, r.stderr
        # the example exited; imapid closed its disc master and removed the stash
        wait_until(lambda: stash_dirs(h) == [] and no_masters(h), "imapid to clean up")


def needs_c_example(fn):
    def run():
        if not C_EXAMPLE:
            print("# SKIP: the C example was not built (gio-unix-2.0 or gdbus-codegen missing)")
            return
        fn([C_EXAMPLE])
    run.__name__ = fn.__name__
    return run


def test_python_burns_a_folder():
    burns_a_folder(PYTHON_EXAMPLE)


def test_python_cancels_on_ctrl_c():
    cancels_on_ctrl_c(PYTHON_EXAMPLE)


def test_python_names_errors():
    names_errors(PYTHON_EXAMPLE)


@needs_c_example
def test_c_burns_a_folder(example):
    burns_a_folder(example)


@needs_c_example
def test_c_cancels_on_ctrl_c(example):
    cancels_on_ctrl_c(example)


@needs_c_example
def test_c_names_errors(example):
    names_errors(example)


run_tests([test_python_burns_a_folder, test_python_cancels_on_ctrl_c, test_python_names_errors,
           test_c_burns_a_folder, test_c_cancels_on_ctrl_c, test_c_names_errors])
