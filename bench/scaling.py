# SPDX-License-Identifier: LGPL-2.1-or-later
"""The memory floor and the scaling table of bench/run.

The floor is bench/isofs-floor: libisofs alone building the same tree with imapid's options and
writing the image into nothing. Its peak RSS is what libisofs' per-node memory costs any
program; imapid's peak RSS is compared with it.

The scaling table runs imapid (a fresh daemon for each size, so that nothing from a larger run
counts), the floor and 'xorriso -as mkisofs -J -R -o /dev/null' on trees of 1,000 to 1,000,000
small files and on images of 1, 4 and 16 GiB (sparse files), and gives the time and peak RSS of
each, and imapid's per-file time and memory (peak RSS above its idle RSS, per file).
"""

import json
import os
import subprocess
import tempfile
import time

MIB = 1 << 20
GIB = 1 << 30


def run_measured(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd under GNU time; returns (seconds, peak RSS in bytes, stdout text or None). The
    peak is time's report of its child: the rusage of a child forked straight from this
    process would include the pages of the Python interpreter it was forked from."""
    fd, report = tempfile.mkstemp(prefix="bench-time.")
    os.close(fd)
    try:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report, *cmd],
                           stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE)
        secs = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
        with open(report) as f:
            kib = int(f.read().split()[-1])
    finally:
        os.unlink(report)
    return secs, kib * 1024, p.stdout.decode() if stdout is None else None


def floor(build, paths, level=2):
    """The bare libisofs build of the trees in paths, each a folder of the root as imapictl makes it."""
    cmd = [os.path.join(build, "bench", "isofs-floor"), f"--iso-level={level}", *paths]
    secs, rss, out = run_measured(cmd, stdout=None)
    r = json.loads(out)
    # Its own VmHWM and time's report agree but for time's rounding; the larger counts.
    return {"seconds": secs, "peak_rss": max(rss, r["vmhwm_kib"] * 1024), "bytes": r["bytes"], "files": r["files"]}


def mkisofs(paths, level=2):
    grafts = [f"/{os.path.basename(t)}={t}" for t in paths]
    cmd = ["xorriso", "-as", "mkisofs", "-J", "-R", "-iso-level", str(level), "-o", "/dev/null", "-graft-points",
           *grafts]
    secs, rss, _ = run_measured(cmd)
    return {"seconds": secs, "peak_rss": rss}


def table_rows(rows):
    """Per-file time and memory of imapid at each file count, and the largest count's relative to
    those of the count ten times smaller (1,000,000 against 100,000 in a full run)."""
    rows = [r for r in rows if r["kind"] == "files" and "imapid" in r]
    for r in rows:
        im = r["imapid"]
        im["per_file_ms"] = im["seconds"] * 1000.0 / r["files"]
        im["per_file_bytes"] = max(0, im["peak_rss"] - im["idle_rss"]) / r["files"]
    top = max(rows, key=lambda r: r["files"], default=None)
    base = next((r for r in rows if top and r["files"] * 10 == top["files"]), None)
    if not base:
        return None
    t, b = top["imapid"], base["imapid"]
    out = {"files": top["files"], "base_files": base["files"],
           "cold_time_ratio": t["per_file_ms"] / b["per_file_ms"],
           "memory_ratio": t["per_file_bytes"] / b["per_file_bytes"] if b["per_file_bytes"] else None}
    # The time target is taken with the tree in the page cache, as the floor's and mkisofs' runs
    # are: from a cold cache it is the disk's seeks over a larger tree as much as imapid's work.
    tw, bw = top.get("imapid_warm"), base.get("imapid_warm")
    out["time_ratio"] = (tw["seconds"] / top["files"]) / (bw["seconds"] / base["files"]) if tw and bw else None
    for key in ("disk_cold", "disk_warm"):
        dt, db = top.get(key), base.get(key)
        if dt and db:
            out[key + "_ratio"] = (dt["seconds"] / top["files"]) / (db["seconds"] / base["files"])
        else:
            out[key + "_ratio"] = None
    # imapid's own work, without what the kernel does for it: its user CPU time per file.
    if tw and bw and tw.get("cpu_user") and bw.get("cpu_user"):
        out["cpu_user_ratio"] = (tw["cpu_user"] / top["files"]) / (bw["cpu_user"] / base["files"])
    return out


def print_table(p, S):
    p()
    p("scaling (imapictl burn --no-verify on a fresh imapid, page cache dropped; the bare libisofs build;")
    p("xorriso -as mkisofs -o /dev/null; the disk's cat of every file into one and dd of that with a cold")
    p("page cache; imapid again with the page cache warm, its user CPU time, and the disk's cat and dd")
    p("warm: the quicker of two alternated runs)")
    p(f"    {'tree':22s} {'imapid s':>9s} {'RSS MiB':>8s} {'ms/file':>8s} {'KiB/file':>9s}   "
      f"{'floor s':>8s} {'RSS MiB':>8s}   {'mkisofs s':>9s} {'RSS MiB':>8s}   {'disk cold':>10s} "
      f"{'imapid warm':>11s} {'user':>6s} {'disk warm':>10s}")
    for r in S["rows"]:
        if "skipped" in r:
            p(f"    {r['label']:22s} skipped: {r['skipped']}")
            continue
        im, fl, mk = r["imapid"], r["floor"], r["mkisofs"]
        per = (f"{im['per_file_ms']:8.3f} {im['per_file_bytes'] / 1024:9.2f}" if "per_file_ms" in im
               else f"{'':8s} {'':9s}")
        fc, iw, dw = r.get("disk_cold"), r.get("imapid_warm"), r.get("disk_warm")
        extra = ""
        if fc and iw and dw:
            extra = (f"   {fc['seconds']:10.2f} {iw['seconds']:11.2f} {iw.get('cpu_user', 0):6.2f} "
                     f"{dw['seconds']:10.2f}")
        p(f"    {r['label']:22s} {im['seconds']:9.2f} {im['peak_rss'] / MIB:8.1f} {per}   "
          f"{fl['seconds']:8.2f} {fl['peak_rss'] / MIB:8.1f}   {mk['seconds']:9.2f} {mk['peak_rss'] / MIB:8.1f}"
          + extra)
    big = S.get("largest")
    if big and big.get("time_ratio") and big.get("disk_warm_ratio"):
        def x(v):
            return "-" if v is None else f"{v:.2f}x"
        p(f"    per file, {big['files']:,} against {big['base_files']:,}: imapid warm {x(big['time_ratio'])}, "
          f"its user CPU {x(big.get('cpu_user_ratio'))}, the disk warm {x(big['disk_warm_ratio'])}; "
          f"cold {x(big['cold_time_ratio'])}, the disk cold {x(big['disk_cold_ratio'])}")
