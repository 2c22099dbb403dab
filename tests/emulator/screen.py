# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal terminal for tests: the screen a user sees after a program's output, as a VT100-like
terminal draws it. It knows carriage return, line feed, backspace, cursor up and down (ESC[nA,
ESC[nB), erase in line (ESC[K, ESC[0K, ESC[2K) and auto-wrap at the right edge; any other control
character or escape sequence is refused (Garbled), since a real terminal would show it as junk or do
something the test does not model. It also keeps, for every screen line, each text it held when the
program finished drawing it (at a line feed or an erase), so that a test can follow a line that is
redrawn in place."""

import re

CSI = re.compile(r"\x1b\[([0-9]*)([A-Za-z])")
INCOMPLETE = re.compile(r"\x1b(\[[0-9]*)?")


class Garbled(AssertionError):
    pass


class Screen:
    def __init__(self, width):
        self.width = width
        self.lines = [[]]
        self.row = self.col = 0
        self.wrapped = set()       # the lines that ran past the right edge onto the next
        self.pending_wrap = False  # the cursor sits past the last column (xterm's deferred wrap)
        self.history = {}          # line number: [texts it held, in order]
        self.tail = ""             # the start of an escape sequence that the next feed() completes

    def text(self, n):
        return "".join(self.lines[n]).rstrip()

    def screen(self):
        """The screen's lines, trailing blanks gone, trailing empty lines gone."""
        out = [self.text(n) for n in range(len(self.lines))]
        while out and not out[-1]:
            out.pop()
        return out

    def unwrapped(self):
        """screen(), with each line that ran past the edge joined to its continuation."""
        out, joined = [], ""
        for n, text in enumerate(self.screen()):
            # a line that wrapped is full to the edge: its last columns may be spaces that count
            joined += "".join(self.lines[n]) if n in self.wrapped else text
            if n not in self.wrapped:
                out.append(joined)
                joined = ""
        return out

    def current(self, n):
        """The text of line n as it stands (history's last entry is what was finished)."""
        return self.text(n) if n < len(self.lines) else ""

    def _snapshot(self):
        seen = self.history.setdefault(self.row, [])
        text = self.text(self.row)
        if text and (not seen or seen[-1] != text):
            seen.append(text)

    def _line_feed(self):
        self._snapshot()
        self.row += 1
        self.pending_wrap = False
        if self.row == len(self.lines):
            self.lines.append([])

    def _put(self, ch):
        if self.pending_wrap:
            self.wrapped.add(self.row)
            self._line_feed()
            self.col = 0
        line = self.lines[self.row]
        if self.col >= len(line):
            line.extend(" " * (self.col - len(line) + 1))
        line[self.col] = ch
        if self.col == self.width - 1:
            self.pending_wrap = True
        else:
            self.col += 1

    def _csi(self, arg, final):
        n = int(arg) if arg else 0
        if final == "A":
            if self.row - max(n, 1) < 0:
                raise Garbled("cursor up %d from line %d: above the top" % (max(n, 1), self.row))
            self.row -= max(n, 1)
        elif final == "B":
            self.row += max(n, 1)
            while self.row >= len(self.lines):
                self.lines.append([])
        elif final == "K" and n in (0, 2):
            self._snapshot()
            line = self.lines[self.row]
            if n == 2:
                line.clear()
            else:
                del line[self.col:]
        else:
            raise Garbled("escape sequence ESC[%s%s is not one imapictl should send" % (arg, final))
        self.pending_wrap = False

    def feed(self, data):
        """Draws data; an escape sequence cut at its end waits for the next feed()."""
        data, self.tail = self.tail + data, ""
        i = 0
        while i < len(data):
            ch = data[i]
            if ch == "\x1b":
                m = CSI.match(data, i)
                if not m and INCOMPLETE.fullmatch(data, i):
                    self.tail = data[i:]
                    return
                if not m:
                    raise Garbled("a lone or unknown escape at %r" % data[i:i + 12])
                self._csi(m.group(1), m.group(2))
                i = m.end()
                continue
            if ch == "\r":
                self.col = 0
                self.pending_wrap = False
            elif ch == "\n":
                self._line_feed()
            elif ch == "\b":
                self.col = max(self.col - 1, 0)
                self.pending_wrap = False
            elif ch < " " or ch == "\x7f":
                raise Garbled("control character %r" % ch)
            else:
                self._put(ch)
            i += 1
