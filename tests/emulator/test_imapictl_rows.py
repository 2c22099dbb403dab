#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""imapictl burn to several emulated recorders with its output on a terminal (a pty, as wide as a
small window): what the user sees, as a terminal draws it (screen.py), is one row per recorder,
updated in place through the burn's phases, each row ending in its own outcome (one recorder with
a write error fails, the others are done), no row drawn over another or over what came before,
the table of results below the rows, and no stray control sequence anywhere; Ctrl-C puts its note
above the rows, which end cancelled. The same burn with stdout a pipe gives plain lines without any
escape code or carriage return."""

import codecs
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from imapitest import build_path, run_tests, stash_files, wait_until  # noqa: E402
from screen import Screen  # noqa: E402
from test_imapictl_many import EXIT_CANCELLED, EXIT_SOME_FAILED, content, drives, extract, table  # noqa: E402

WIDTH = 72
RECORDERS = ["sr0", "sr1", "sr2"]
FAILED = "failed  IMAPI_E_CANNOT_WRITE_TO_MEDIA"
ROW = re.compile(r"(sr[0-9]+)  (?:\[[#.-]+\] )?(\S.*)$")


def row(text):
    """(recorder, what follows its bar) of a row as drawn."""
    m = ROW.match(text)
    assert m, text
    return m.groups()


def run_on_terminal(h, *args, watch=None, width=WIDTH):
    """imapictl with stdout and stderr on one pty, width columns wide, its output drawn on a Screen
    as it comes; watch(screen, process), if given, is called after each piece. Returns (exit status,
    raw output, screen)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    p = subprocess.Popen([build_path("imapictl"), "--bus-address=" + h.address, *args], env=h.env,
                         stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    screen, chunks = Screen(width), []
    decoder = codecs.getincrementaldecoder("utf-8")()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the last holder of the pty's other end is gone
            break
        if not data:
            break
        chunks.append(data)
        screen.feed(decoder.decode(data))  # raises on anything a terminal would show as junk
        if watch:
            watch(screen, p)
    os.close(master)
    screen.feed(decoder.decode(b"", final=True))
    assert not screen.tail, screen.tail
    return p.wait(timeout=60), b"".join(chunks).decode(), screen


def rows_block(screen, names, final):
    """Where the rows and the table are in the screen's unwrapped lines: (lines, first row, table
    header). The rows come together in the order given, each in its final state and within the
    window (a row that wrapped would throw the redrawing off); no other line above the table names
    a recorder (nothing drawn twice or left behind by a redraw). Other text may wrap, as any does."""
    lines = screen.unwrapped()
    starts = [n for n, line in enumerate(lines) if line.split()[:1] == [names[0]]]
    assert starts, lines
    first = starts[0]
    assert [row(r) for r in lines[first:first + len(names)]] == list(zip(names, final)), lines
    header = next(n for n, line in enumerate(lines) if line.split()[:3] == ["RECORDER", "MEDIUM", "RESULT"])
    assert header > first + len(names), lines
    assert all(len(r) < screen.width for r in lines[first:first + len(names)]), lines
    for n, line in enumerate(lines[:header]):
        if line.split()[:1] and line.split()[0] in names:
            assert first <= n < first + len(names), (n, lines)
    return lines, first, header


def faulty_burn():
    """Three recorders, the middle one failing with a write error part way."""
    return drives(["dvd-r", "cd-r", "dvd+rw"], "--drive", "1", "--fault", "write-error=900")


def test_rows_on_a_terminal():
    with faulty_burn() as h:
        src, files = content(h)
        code, raw, screen = run_on_terminal(h, "burn", *("--recorder=" + r for r in RECORDERS), src)
        assert code == EXIT_SOME_FAILED, (code, screen.screen())
        lines, first, header = rows_block(screen, RECORDERS, ["done", FAILED, "done"])
        # nothing wrapped above the table: screen lines and unwrapped lines are the same there
        assert min(screen.wrapped, default=header) >= header, (screen.wrapped, lines)
        # each row went through the burn's phases in place, on its own line
        for n, rec in enumerate(RECORDERS):
            texts = screen.history[first + n]
            assert all(row(t)[0] == rec for t in texts), (rec, texts)
            phases = [row(t)[1].split()[0] for t in texts]
            assert "writing" in phases, (rec, texts)
            if rec != "sr1":
                assert "verifying" in phases, (rec, texts)
        # the table below the rows, then the summary
        rows = table("\n".join(lines))
        assert rows["sr0"] == ("DVD-R sequential recording", "verified"), lines
        assert rows["sr2"] == ("DVD+RW", "verified"), lines
        assert rows["sr1"][1].startswith("failed: IMAPI_E_CANNOT_WRITE_TO_MEDIA: 0x8004022C"), lines
        assert lines[-1] == "imapictl: 1 of 3 recorders failed; the discs marked verified are good.", lines
        # the rows were redrawn in place: the cursor went back up over them
        assert "\x1b[%dA" % len(RECORDERS) in raw, repr(raw)
        for i in (0, 2):
            assert extract(h, i) == files, i
        assert stash_files(h) == []


def test_ctrl_c_on_a_terminal():
    """Ctrl-C while both rows show writing: the note about cancelling comes above the rows, which
    are drawn again below it and end cancelled, once each. The window is narrow: the note wraps
    over the second row, and the rows still come out whole below it."""
    names = ["sr0", "sr1"]
    with drives(["dvd-r", "dvd-r"], "--write-rate", "1000", "--buffer-kib", "256") as h:
        src, _ = content(h)
        sent = []

        def watch(screen, p):
            shown = [screen.current(n) for n in range(len(screen.lines))]
            writing = {row(t)[0] for t in shown if ROW.match(t) and row(t)[1].startswith("writing")}
            if not sent and writing == set(names):
                p.send_signal(signal.SIGINT)
                sent.append(shown)
        code, raw, screen = run_on_terminal(h, "burn", *("--recorder=" + r for r in names), src, watch=watch,
                                            width=40)
        assert sent, screen.screen()
        assert code == EXIT_CANCELLED, (code, screen.screen())
        lines, first, header = rows_block(screen, names, ["cancelled  IMAPI_E_USERABORT"] * 2)
        assert lines[first - 1] == "Cancelling the jobs (press Ctrl-C again to stop waiting)...", lines
        assert lines.count(lines[first - 1]) == 1, lines
        rows = table("\n".join(lines))
        assert all(rows[n][1].startswith("cancelled: IMAPI_E_USERABORT") for n in names), lines
        assert lines[-1] == "imapictl: the burn was cancelled on every recorder.", lines
        wait_until(lambda: stash_files(h) == [], "the stash to be emptied")


def test_plain_lines_in_a_pipe():
    with faulty_burn() as h:
        src, _ = content(h)
        # as bytes: text mode would turn a carriage return into a newline
        r = subprocess.run([build_path("imapictl"), "--bus-address=" + h.address, "burn",
                            *("--recorder=" + r for r in RECORDERS), src], env=h.env, capture_output=True,
                           timeout=300)
        assert r.returncode == EXIT_SOME_FAILED, (r.returncode, r.stdout, r.stderr)
        for out in (r.stdout, r.stderr):
            assert not [c for c in out if c < 0x20 and c != 0x0a], out  # no escape, no \r, no \b
        r.stdout = r.stdout.decode()
        for rec in RECORDERS:
            updates = [line for line in r.stdout.splitlines() if line.startswith(rec + " ")]
            assert any(u.split()[1] == "writing" for u in updates), (rec, r.stdout)
        assert "sr1  " + FAILED in r.stdout.splitlines(), r.stdout
        assert table(r.stdout)["sr0"] == ("DVD-R sequential recording", "verified"), r.stdout


if __name__ == "__main__":
    run_tests([t for t in [test_rows_on_a_terminal, test_ctrl_c_on_a_terminal, test_plain_lines_in_a_pipe]
               if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]])
