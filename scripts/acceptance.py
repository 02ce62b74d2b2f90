#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The "Done when" checks of the bench and exits issues, read from a
`vtimer bench` results.json (scripts/acceptance.sh runs the benches).

usage: acceptance.py bench DIR          issue 8: `bench --quick --out=DIR`
       acceptance.py exits FILE...      issue 9: one results.json per vCPU count

Prints one line per criterion, PASS or FAIL with the figures behind it;
exit status 0 when every criterion passes, 1 if one fails, 2 on bad input.
Ratios are of medians over a cell's repeats, as `vtimer bench` reports them.
"""
import json
import os
import statistics
import sys

PRESETS = ["kvm", "exitless", "lazy", "pvtimer", "hybrid", "apicv-model"]
WORKLOADS = ["cyclic", "latency", "latency-busy", "rr", "tick", "throughput"]
failed = False


def say(ok, what, detail):
    global failed
    failed |= not ok
    print(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")


def load(path):
    with open(path) as f:
        runs = json.load(f)["runs"]
    cells = {}
    for r in runs:
        wl = r["workload"]
        if wl == "latency" and r.get("wait") == "busy":
            wl = "latency-busy"
        cells.setdefault((r["timer"], wl), []).append(r)
    return runs, cells


def g(r, name):
    return r["guest"].get(name, 0)


def exit_ops(r):
    """The guest's exit-causing operations plus the host's kicks (tables.c)."""
    return (g(r, "op_wrmsr_deadline") + g(r, "op_wrmsr_eoi") + g(r, "op_wrmsr_icr") +
            g(r, "op_wrmsr_other") + g(r, "op_hlt") + g(r, "op_pio") + r["host"]["kicks"])


def med(cells, timer, wl, f):
    rs = cells.get((timer, wl), [])
    return statistics.median(f(r) for r in rs) if rs else None


def fmt(v):
    return "no run" if v is None else f"{v:.4g}"


def per(a, b):
    return a / b if b else float("inf")


def bench(d):
    runs, cells = load(os.path.join(d, "results.json"))
    missing = [f"{t}/{w}" for t in PRESETS for w in WORKLOADS if (t, w) not in cells]
    say(not missing, "a run for every preset x workload",
        f"{len(cells)} cells" + (f", missing {', '.join(missing)}" if missing else ""))
    bad = [f"{r['timer']}/{r['workload']}: {r['status']}" for r in runs if r["status"]]
    say(not bad, "every run exited 0", ", ".join(bad) or f"{len(runs)} runs")
    plots = sorted(f for f in os.listdir(d) if f.endswith((".svg", ".png")))
    svg = sum(f.endswith(".svg") for f in plots)
    say(svg > 0 and svg == len(plots) - svg, "SVG and PNG plots",
        f"{svg} SVG, {len(plots) - svg} PNG")

    def dl_tx(r):
        return per(g(r, "op_wrmsr_deadline"), g(r, "transactions"))

    def ops_tx(r):
        return per(exit_ops(r), g(r, "transactions"))
    k = med(cells, "kvm", "rr", dl_tx)
    for t, limit in (("lazy", 0.10), ("hybrid", 0.01)):
        v = med(cells, t, "rr", dl_tx)
        ok = k is not None and v is not None and k > 0 and v <= limit * k
        say(ok, f"rr: {t} TSC-deadline writes per transaction <= {limit:.0%} of kvm's",
            f"{t} {fmt(v)}, kvm {fmt(k)}" + (f" ({v / k:.2%})" if v is not None and k else ""))
    ko, ho = med(cells, "kvm", "rr", ops_tx), med(cells, "hybrid", "rr", ops_tx)
    say(ko is not None and ho is not None and ho < ko,
        "rr: hybrid exit-causing operations per transaction below kvm's",
        f"hybrid {fmt(ho)}, kvm {fmt(ko)}")


def exits(path):
    runs, cells = load(path)
    vcpus = runs[0]["vcpus"] if runs else "?"

    def ops_ev(r):
        return per(exit_ops(r), g(r, "events"))

    def eoi_irq(r):
        return per(g(r, "op_wrmsr_eoi"), g(r, "interrupts"))
    k, h = med(cells, "kvm", "cyclic", ops_ev), med(cells, "hybrid", "cyclic", ops_ev)
    ok = k is not None and h is not None and h <= 0.5 * k
    say(ok, f"{vcpus} vCPU(s), cyclic: hybrid exit-causing ops per event <= 0.5x kvm's",
        f"hybrid {fmt(h)}, kvm {fmt(k)}"
        + (f" ({h / k:.2f}x)" if h is not None and k else ""))
    engaged = any(g(r, "pv_eoi") > 0 for r in runs)
    if engaged:
        worst = max(eoi_irq(r) for r in runs if r["workload"] == "cyclic")
        say(worst <= 0.05, f"{vcpus} vCPU(s): PV EOI engages, EOI writes per interrupt <= 0.05",
            f"worst cyclic run {worst:.3f}")
        say(ok and h <= 0.3 * k, f"{vcpus} vCPU(s), cyclic: hybrid <= 0.3x kvm (PV EOI engages)",
            f"{h / k:.2f}x" if h is not None and k else "no data")
    else:
        print(f"NOTE  {vcpus} vCPU(s): PV EOI did not engage (no run completed an EOI "
              "without a write): the 0.3x target does not apply; docs/benchmarks.md says why")
    for wl in ("cyclic", "latency"):
        kp = med(cells, "kvm", wl, lambda r: r["latency_ns"]["p50"])
        for t in ("hybrid", "pvtimer", "exitless"):
            p = med(cells, t, wl, lambda r: r["latency_ns"]["p50"])
            n = len(cells.get((t, wl), []))
            say(kp is not None and p is not None and p <= kp,
                f"{vcpus} vCPU(s), {wl}: {t} p50 <= kvm's (median of {n})",
                f"{t} {p} ns, kvm {kp} ns" + (f" ({p / kp:.2f}x)" if p and kp else ""))
    early = sum(g(r, "early") for r in runs)
    say(early == 0, f"{vcpus} vCPU(s): no early interrupt", f"{early} early")


def main(argv):
    if len(argv) < 3 or argv[1] not in ("bench", "exits"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        if argv[1] == "bench":
            bench(argv[2])
        else:
            for p in argv[2:]:
                exits(p)
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"acceptance.py: cannot read the results: {e!r}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
