#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
""""Burn to Disc" for file managers: the desktop entry passes desktop-file-validate, the Nemo action
and the Dolphin service menu have the keys those file managers read, all three run the same
helper with the selected files, and the helper burns them with imapictl in a terminal (a pty
here), or opens a terminal when it has none."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import Harness, build_path, extract, run_tests  # noqa: E402

from gi.repository import GLib  # noqa: E402

BUILDDIR = os.environ.get("IMAPI_BUILDDIR") or sys.exit("IMAPI_BUILDDIR is not set; run through 'meson test'")
DATA = os.path.join(BUILDDIR, "data")
HELPER = os.path.join(DATA, "imapid-burn-files")


def keyfile(name):
    k = GLib.KeyFile()
    k.load_from_file(os.path.join(DATA, name), GLib.KeyFileFlags.NONE)
    return k


def installed_helper():
    """Where the entries say the helper is: libexecdir, as configured."""
    exec_line = keyfile("org.imapid.BurnToDisc.desktop").get_string("Desktop Entry", "Exec")
    assert exec_line.endswith("/imapid-burn-files %F"), exec_line
    return exec_line[:-3]


def test_desktop_entry_validates():
    if not shutil.which("desktop-file-validate"):
        print("# SKIP: desktop-file-validate is not installed (desktop-file-utils, tools/install-deps)")
        return
    r = subprocess.run(["desktop-file-validate", os.path.join(DATA, "org.imapid.BurnToDisc.desktop")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    k = keyfile("org.imapid.BurnToDisc.desktop")
    g = "Desktop Entry"
    assert k.get_string(g, "Name") == "Burn to Disc"
    # offered in "Open With" for every file and folder (Nautilus, Nemo, Dolphin), not in menus
    assert {"inode/directory", "application/octet-stream"} <= set(k.get_string_list(g, "MimeType"))
    assert k.get_boolean(g, "Terminal") and k.get_boolean(g, "NoDisplay")
    assert k.get_string(g, "TryExec").endswith("/imapictl")


def test_file_manager_actions():
    helper = installed_helper()
    nemo = keyfile("imapid-burn.nemo_action")
    g = "Nemo Action"
    assert nemo.get_string(g, "Name") == "Burn to Disc"
    assert nemo.get_string(g, "Exec") == helper + " %F"
    assert nemo.get_string(g, "Selection") == "notnone" and "any" in nemo.get_string_list(g, "Extensions")
    assert nemo.get_boolean(g, "Terminal")
    kio = keyfile("imapid-burn.desktop")
    g = "Desktop Entry"
    assert kio.get_string(g, "Type") == "Service"
    assert "KonqPopupMenu/Plugin" in kio.get_string(g, "X-KDE-ServiceTypes")
    assert "all/all" in kio.get_string_list(g, "MimeType")
    actions = kio.get_string_list(g, "Actions")
    assert actions == ["burnToDisc"], actions
    assert kio.get_string("Desktop Action burnToDisc", "Name") == "Burn to Disc"
    assert kio.get_string("Desktop Action burnToDisc", "Exec") == helper + " %F"
    # and the helper runs the installed imapictl
    with open(HELPER) as f:
        text = f.read()
    assert kio.get_string(g, "TryExec") in text, text


def test_helper_burns_in_a_terminal():
    with Harness() as h:
        folder = os.path.join(h.tmp, "My Photos")
        os.makedirs(os.path.join(folder, "2024"))
        with open(os.path.join(folder, "2024", "a.jpg"), "wb") as f:
            f.write(os.urandom(100000))
        note = os.path.join(h.tmp, "note.txt")
        with open(note, "w") as f:
            f.write("a note\n")
        env = dict(h.env, IMAPICTL=build_path("imapictl"))
        # script(1) gives the helper a terminal, as the file manager's would; Enter closes it
        cmd = " ".join(["sh", HELPER, f"'{folder}'", f"'{note}'"])
        r = subprocess.run(["script", "-qefc", cmd, "/dev/null"], env=env, input="\n", capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr + h.log()
        assert "Done: the disc is ready." in r.stdout and "Press Enter" in r.stdout, r.stdout
        out = os.path.join(h.tmp, "out")
        extract(h.images[0], out)
        assert sorted(os.listdir(out)) == ["My Photos", "note.txt"], os.listdir(out)
        assert os.path.getsize(os.path.join(out, "My Photos", "2024", "a.jpg")) == 100000


def test_helper_opens_a_terminal():
    """Started without a terminal (Dolphin's service menus have no Terminal=), it opens one."""
    with Harness(start=False) as h:
        fake = os.path.join(h.tmp, "bin")
        os.mkdir(fake)
        record = os.path.join(h.tmp, "terminal-args")
        with open(os.path.join(fake, "x-terminal-emulator"), "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{record}'\n")
        os.chmod(os.path.join(fake, "x-terminal-emulator"), 0o755)
        env = dict(h.env, PATH=fake + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        r = subprocess.run(["sh", HELPER, "/some/file", "/some folder"], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(record) as f:
            assert f.read().splitlines() == ["-e", HELPER, "/some/file", "/some folder"]


run_tests([test_desktop_entry_validates, test_file_manager_actions, test_helper_burns_in_a_terminal,
           test_helper_opens_a_terminal])
