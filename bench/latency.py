# SPDX-License-Identifier: LGPL-2.1-or-later
"""The latency figures of bench/run: imapid's property reads against the reference service's,
per phase of a burn.

Each latency run gives two lists of [t, ms] round trips taken in turn by bench/prop-latency:
imapid's Recorder.State and bench/ref-service's State, on the same bus at the same moments. The
reference does nothing but answer, so its round trips are what the bus, the kernel and the
machine (a stolen CPU, a kernel thread, the disk's interrupts) cost any service then; imapid's
are compared with them, phase by phase, at the 99th and 99.9th percentile.
"""

# The phases the targets name, and the stretches of imapictl's events that make them up:
# imapictl walking the tree and opening the master counts as staging, the RecordDisc call
# until the job's first event as the image build, and everything after the job's end (its
# cleanup, imapictl's exit, the stash's removal) as cleanup.
PHASES = (
    ("staging", ("before staging", "staging")),
    ("image build", ("recorddisc", "preparing")),
    ("writing", ("writing",)),
    ("verifying", ("verifying",)),
    ("cleanup", ("done", "after exit")),
)


def percentile(xs, q):
    """The nearest-rank percentile q (0..100) of xs, None for no samples."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def phase_of(marks):
    """A function from a monotonic time to the phase name it falls in (None outside the run).
    marks: {imapictl stretch name: start time}, with "end" closing the last one."""
    bounds = sorted(marks.items(), key=lambda kv: kv[1])
    named = {part: phase for phase, parts in PHASES for part in parts}

    def f(t):
        for (k, t0), (_, t1) in zip(bounds, bounds[1:]):
            if t0 <= t < t1:
                return named.get(k)
        return None
    return f


def summarize(xs):
    return {"n": len(xs), "median_ms": percentile(xs, 50), "p99_ms": percentile(xs, 99),
            "p999_ms": percentile(xs, 99.9), "max_ms": max(xs) if xs else None}


def analyse(runs):
    """runs: the imapid_burn results of the latency runs of one tree, each with "samples",
    "reference" and "marks". The samples of all runs are pooled per phase."""
    per = {phase: {"imapid": [], "reference": []} for phase, _ in PHASES}
    whole = {"imapid": [], "reference": []}
    for r in runs:
        f = phase_of(r["marks"])
        for who, key in (("imapid", "samples"), ("reference", "reference")):
            for sample in r.get(key, []):
                t, ms = sample[0], sample[1]
                whole[who].append(ms)
                p = f(t)
                if p:
                    per[p][who].append(ms)
    out = {"runs": len(runs), "burn_s": [r["total"] for r in runs], "whole": {}, "phases": {}}
    for who in whole:
        out["whole"][who] = summarize(whole[who])
    for phase, d in per.items():
        im, ref = summarize(d["imapid"]), summarize(d["reference"])
        out["phases"][phase] = {
            "imapid": im, "reference": ref,
            "p99_ratio": im["p99_ms"] / ref["p99_ms"] if im["n"] and ref["n"] and ref["p99_ms"] else None,
            "p999_ratio": im["p999_ms"] / ref["p999_ms"] if im["n"] and ref["n"] and ref["p999_ms"] else None,
        }
    # The slowest of imapid's calls, with the CPU time stolen meanwhile, as before.
    slow = []
    for r in runs:
        t_start = r["marks"]["before staging"]
        slow += [[round(s[0] - t_start, 3), round(s[1], 2), s[2] if len(s) > 2 else None] for s in r.get("samples", [])]
    out["slowest"] = sorted(slow, key=lambda x: -x[1])[:6]
    return out


def checks(tname, L, targets, check):
    """Adds the latency checks of one tree through check(name, value, target, ok, unit)."""
    n_im, n_ref = L["whole"]["imapid"]["n"], L["whole"]["reference"]["n"]
    n = min(n_im, n_ref)
    check(f"{tname} tree: latency samples (imapid, reference: fewer)", n, targets["lat_samples"],
          n >= targets["lat_samples"], "calls")
    for phase, P in L["phases"].items():
        for key, tgt in (("p99_ratio", "lat_p99_ratio"), ("p999_ratio", "lat_p999_ratio")):
            v = P[key]
            label = "p99" if key == "p99_ratio" else "p99.9"
            check(f"{tname} tree, {phase}: {label} imapid / reference", v, targets[tgt],
                  v is not None and v <= targets[tgt], "x")


def print_tree(p, tname, L):
    W = L["whole"]
    p(f"property reads during {L['runs']} verified burn(s) of the {tname} tree "
      f"({', '.join(f'{s:.1f}' for s in L['burn_s'])} s): imapid Recorder.State against the reference service")
    p(f"    {'phase':12s} {'n':>7s} {'median':>8s} {'p99':>8s} {'p99.9':>8s} {'max':>8s}    "
      f"{'ref n':>7s} {'median':>8s} {'p99':>8s} {'p99.9':>8s} {'max':>8s}   p99 x  p99.9 x")

    def ms(x):
        return f"{x:8.2f}" if x is not None else f"{'-':>8s}"

    def ratio(x):
        return f"{x:6.2f}" if x is not None else f"{'-':>6s}"

    rows = list(L["phases"].items()) + [("whole run", {"imapid": W["imapid"], "reference": W["reference"],
                                                      "p99_ratio": None, "p999_ratio": None})]
    for phase, P in rows:
        i, r = P["imapid"], P["reference"]
        p(f"    {phase:12s} {i['n']:7d} {ms(i['median_ms'])} {ms(i['p99_ms'])} {ms(i['p999_ms'])} {ms(i['max_ms'])}    "
          f"{r['n']:7d} {ms(r['median_ms'])} {ms(r['p99_ms'])} {ms(r['p999_ms'])} {ms(r['max_ms'])}   "
          f"{ratio(P['p99_ratio'])} {ratio(P['p999_ratio'])}")
    if L["slowest"]:
        p("    imapid's slowest (s into the run: ms, and the CPU time the hypervisor stole meanwhile): " +
          ", ".join(f"{t:.2f}: {x:.0f}" + (f" (steal {st:.0f})" if st else "") for t, x, st in sorted(L["slowest"])))
