#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shell completion of imapictl: bash completes commands, options, option values, recorder ids
and jobs from a real imapid; zsh's file loads through compinit and asks imapid the same way;
both know exactly the commands and options of 'imapictl --help'."""

import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imapitest import SRCDIR, Harness, build_path, run_tests  # noqa: E402

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
BASH_FILE = os.path.join(SRCDIR, "shell-completion", "bash", "imapictl")
ZSH_DIR = os.path.join(SRCDIR, "shell-completion", "zsh")


def env_for(h):
    env = dict(h.env)
    env["PATH"] = os.path.dirname(build_path("imapictl")) + ":" + env.get("PATH", "/usr/bin:/bin")
    return env


def split_like_readline(line):
    """COMP_WORDS as bash builds them: words split at blanks, and '=' and ':' words of their own."""
    words = re.findall(r"[^\s=:]+|[=:]", line)
    if not line or line[-1].isspace() or line[-1] in "=:" and words[-1] in "=:":
        words.append("")
    return words


def bash_complete(h, line, env=None):
    words = split_like_readline(line)
    script = "\n".join([
        f"source {BASH_COMPLETION}",
        f"source {shlex.quote(BASH_FILE)}",
        f"COMP_LINE={shlex.quote(line)}",
        "COMP_POINT=${#COMP_LINE}",
        "COMP_WORDS=(" + " ".join(shlex.quote(w) for w in words) + ")",
        f"COMP_CWORD={len(words) - 1}",
        '_imapictl imapictl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    r = subprocess.run(["bash", "-c", script], env=env or env_for(h), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.splitlines() if w)


def help_text():
    return subprocess.run([build_path("imapictl"), "--help"], capture_output=True, text=True, check=True).stdout


def help_verbs():
    text = help_text()
    block = text[text.index("Commands:"):text.index("\n\n", text.index("Commands:"))]
    return sorted(set(re.findall(r"(?m)^  ([a-z]+)\b", block)))


def help_options():
    """The options of the help's option lists, with "=" for those that take a value."""
    return sorted(set(o + eq for o, eq in re.findall(r"(?m)^\s+(?:-\w\s+)?(--[a-z][a-z-]*)(=)?", help_text())))


def test_bash_commands_and_options():
    with Harness(drives=2) as h:
        assert bash_complete(h, "imapictl de") == ["devices"]
        assert bash_complete(h, "imapictl ") == help_verbs()
        assert bash_complete(h, "imapictl burn --sp") == ["--speed-kbps=", "--speed="]
        assert bash_complete(h, "imapictl erase --f") == ["--format=", "--full"]
        assert bash_complete(h, "imapictl erase --format=") == ["restricted-overwrite", "sequential"]
        assert bash_complete(h, "imapictl burn --iso-level ") == ["1", "2", "3"]
        assert bash_complete(h, "imapictl properties stdio0 Wr") == ["WriteSpeed="]


def test_bash_recorders_and_jobs():
    with Harness(drives=2) as h:
        assert bash_complete(h, "imapictl media ") == ["stdio0", "stdio1"]
        assert bash_complete(h, "imapictl --json eject stdio") == ["stdio0", "stdio1"]
        assert bash_complete(h, "imapictl burn --recorder=") == ["stdio0", "stdio1"]
        assert bash_complete(h, "imapictl burn --recorder stdio1") == ["stdio1"]
        # a recorder is completed once; the second argument of media is nothing
        assert bash_complete(h, "imapictl media stdio0 ") == []
        # the bus named on the command line is the one asked (the environment names none that works,
        # and wins over the system bus, where an installed imapid might answer)
        env = dict(env_for(h), IMAPI_BUS_ADDRESS="unix:path=/nonexistent/bus")
        assert bash_complete(h, "imapictl media ", env) == []
        assert bash_complete(h, f"imapictl --bus-address={h.address} media ", env) == ["stdio0", "stdio1"]
        assert bash_complete(h, "imapictl watch ") == []    # no jobs


def test_bash_without_imapid():
    """Nothing to offer, quickly, and no error on the terminal."""
    with Harness(start=False) as h:
        assert bash_complete(h, "imapictl media ") == []


def test_bash_knows_every_option():
    with open(BASH_FILE) as f:
        text = f.read()
    verbs = re.search(r"local verbs='([^']*)'", text).group(1).split()
    assert sorted(verbs) == help_verbs(), (verbs, help_verbs())
    opts = []
    for name in ("global", "burn", "erase", "copy"):
        opts += re.search(rf"local {name}='([^']*)'", text).group(1).split()
    assert sorted(set(o for o in opts if o.startswith("--"))) == help_options(), (sorted(opts), help_options())


def test_zsh():
    path = os.path.join(ZSH_DIR, "_imapictl")
    r = subprocess.run(["zsh", "-n", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # compinit finds it for imapictl
    r = subprocess.run(["zsh", "-fc", f"fpath=({ZSH_DIR} $fpath); autoload -U compinit; compinit -u -D; "
                        "print -r -- ${_comps[imapictl]}"], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "_imapictl", r.stdout + r.stderr
    with open(path) as f:
        text = f.read()
    verbs = sorted(re.findall(r"(?m)^\s+'([a-z]+):", text))
    assert verbs == help_verbs(), (verbs, help_verbs())
    opts = re.findall(r"'(?:\([^)]*\))?\*?(--[a-z-]+=?)\[", text) + re.findall(r"\{-\w,(--[a-z-]+)\}", text)
    opts = sorted(set(opts))
    assert opts == help_options(), (opts, help_options())
    # the recorder ids come from imapid, on the bus named on the command line
    with Harness(drives=2) as h:
        script = (f"source <(sed '$d' {shlex.quote(path)}); _imapictl_conn=(--bus-address={h.address}); "
                  "__imapictl_recorders; print -l -- $reply")
        env = dict(env_for(h), IMAPI_BUS_ADDRESS="unix:path=/nonexistent/bus")
        r = subprocess.run(["zsh", "-fc", script], env=env, capture_output=True, text=True, timeout=60)
        assert r.stdout.split() == ["stdio0", "stdio1"], r.stdout + r.stderr


if __name__ == "__main__":
    missing = [p for p in ("bash", "zsh") if subprocess.run(["sh", "-c", f"command -v {p}"],
                                                            capture_output=True).returncode != 0]
    if missing or not os.path.exists(BASH_COMPLETION):
        print(f"1..0 # SKIP needs bash, zsh and bash-completion (tools/install-deps); missing: {missing}")
        sys.exit(0)
    run_tests([test_bash_commands_and_options, test_bash_recorders_and_jobs, test_bash_without_imapid,
               test_bash_knows_every_option, test_zsh])
