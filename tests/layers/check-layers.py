#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon's layering (docs/design.md, "Layers"), checked in its sources. TAP output.

    check-layers.py [DAEMON_DIR]      checks the tree (default: daemon/ beside tests/)
    check-layers.py --self-test       plants each violation in a scratch tree and checks that
                                      it is found, so that the checker itself can fail

Rules:
  sd-bus     neither sd-bus.h nor sd_bus_ under core/ or media/
  libburn    libburn.h only in media/drive*
  libisofs   libisofs.h only in media/iso*
  core       core/ includes nothing from bus/
  media      media/ includes nothing from core/ or bus/
  size       no .c file over 800 lines, no function over 100 lines
  prefix     every function with external linkage starts with its file's first word
             (master-joliet.c: master_...), and none is in libisofs' iso_image_ namespace
"""

import os
import re
import shutil
import sys
import tempfile

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 100

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def sources(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith((".c", ".h")):
                path = os.path.join(dirpath, f)
                yield os.path.relpath(path, root), path


def strip_comments(text):
    """Comments and string literals blanked, lines kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', blank, text, flags=re.S)


def functions(code):
    """(name, first line, last line, static) of each function definition in code without
    comments: a top-level '{' whose preceding declaration has a parameter list and no '='."""
    out = []
    depth = 0
    decl_start = 0
    i = 0
    start = None
    header = ""
    while i < len(code):
        c = code[i]
        if c == "{":
            if depth == 0:
                header = code[decl_start:i]
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                h = header.strip()
                m = re.search(r"(\w+)\s*\([^;{}]*\)\s*(?:__attribute__\s*\(\(.*\)\)\s*)?$", h, re.S)
                if m and "=" not in h.split("(")[0] and not re.match(r"^(struct|union|enum)\b", h.split("\n")[-1]):
                    first = code.count("\n", 0, decl_start + len(header) - len(header.lstrip())) + 1
                    last = code.count("\n", 0, i) + 1
                    out.append((m.group(1), first, last, re.search(r"\bstatic\b", h) is not None))
                decl_start = i + 1
        elif c == ";" and depth == 0:
            decl_start = i + 1
        elif c == "#" and depth == 0 and (i == 0 or code[i - 1] == "\n"):
            # a preprocessor line (with continuations) is not part of a declaration
            j = i
            while True:
                j = code.find("\n", j)
                if j < 0 or code[j - 1] != "\\":
                    break
                j += 1
            i = len(code) if j < 0 else j
            decl_start = i + 1
            continue
        i += 1
    return out


def check(root):
    problems = {k: [] for k in ("sd-bus", "libburn", "libisofs", "core", "media", "size", "prefix")}
    for rel, path in sources(root):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        code = strip_comments(text)
        layer = rel.split(os.sep)[0] if os.sep in rel else ""
        base = os.path.basename(rel)
        includes = INCLUDE.findall(text)
        if layer in ("core", "media"):
            if "systemd/sd-bus.h" in includes or re.search(r"\bsd_bus_\w*", code):
                problems["sd-bus"].append(rel)
        if any(i.endswith("libburn.h") for i in includes) and not (layer == "media" and base.startswith("drive")):
            problems["libburn"].append(rel)
        if any(i.endswith("libisofs.h") for i in includes) and not (layer == "media" and base.startswith("iso")):
            problems["libisofs"].append(rel)
        if layer == "core" and any(i.startswith("bus/") for i in includes):
            problems["core"].append(rel)
        if layer == "media" and any(i.startswith(("core/", "bus/")) for i in includes):
            problems["media"].append(rel)
        if not rel.endswith(".c"):
            continue
        n = text.count("\n")
        if n > MAX_FILE_LINES:
            problems["size"].append("%s has %d lines" % (rel, n))
        prefix = base[:-2].split("-")[0] + "_"
        for name, first, last, static in functions(code):
            if last - first + 1 > MAX_FUNCTION_LINES:
                problems["size"].append("%s:%d: %s() has %d lines" % (rel, first, name, last - first + 1))
            if name.startswith("iso_image_"):
                problems["prefix"].append("%s: %s() is in libisofs' namespace" % (rel, name))
            elif not static and name != "main" and not name.startswith(prefix):
                problems["prefix"].append("%s: %s() does not start with %s" % (rel, name, prefix))
    return problems


def report(problems):
    failed = False
    n = 0
    for rule, found in problems.items():
        n += 1
        if found:
            failed = True
            print("not ok %d - %s" % (n, rule))
            for p in found:
                print("#   " + p)
        else:
            print("ok %d - %s" % (n, rule))
    print("1..%d" % n)
    return failed


PLANTED = {
    "sd-bus": ("core/planted.c", '#include <systemd/sd-bus.h>\n'),
    "libburn": ("core/planted.c", '#include <libburn/libburn.h>\n'),
    "libisofs": ("media/drive-planted.c", '#include <libisofs/libisofs.h>\n'),
    "core": ("core/planted.c", '#include "bus/bus-daemon.h"\n'),
    "media": ("media/planted.c", '#include "core/master.h"\n'),
    "size": ("core/planted.c", "static int planted_long(void) {\n" + "        (void) 0;\n" * 101 + "}\n"),
    "prefix": ("core/planted.c", "int other_name(void) {\n        return 0;\n}\n"),
}


def self_test(daemon):
    n = 0
    failed = False
    for rule, (rel, text) in PLANTED.items():
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "daemon")
            shutil.copytree(daemon, root)
            path = os.path.join(root, rel)
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)
            found = check(root)
            n += 1
            others = [r for r, f in found.items() if f and r != rule]
            good = bool(found[rule]) and not others
            failed = failed or not good
            print("%sok %d - a planted %s violation is found, and nothing else" % ("" if good else "not ", n, rule))
            if not good:
                print("#   found: %r" % {r: f for r, f in found.items() if f})
    print("1..%d" % n)
    return failed


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    daemon = os.path.join(here, "..", "..", "daemon")
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        return 1 if self_test(daemon) else 0
    return 1 if report(check(args[0] if args else daemon)) else 0


if __name__ == "__main__":
    sys.exit(main())
