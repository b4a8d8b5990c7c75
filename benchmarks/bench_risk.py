"""Benchmark ``flowopt risk`` on the bundled park: local (serial and worker processes) and Dask.

    python benchmarks/bench_risk.py                  # 1,000 samples, local and Dask (2 workers)
    python benchmarks/bench_risk.py --samples 2000 --no-dask
    python benchmarks/bench_risk.py --coverage       # also: the analytic case's coverage with early stopping
    python benchmarks/bench_risk.py --robust         # only: robust builds on the bundled investment park

Every run uses ``tolerance=0`` (no early stop), so each solves exactly ``--samples`` samples;
the tornado (a few solves per input) is left out of the timed runs. Each line prints the wall
time, samples per second, the share of samples started warm and the probability found; the
runs must agree on the probability (the same seed gives the same samples everywhere).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _line(name: str, result: object, seconds: float) -> str:
    r = result
    p = r.probability  # type: ignore[attr-defined]
    n = r.samples  # type: ignore[attr-defined]
    return f"| {name} | {n:,} | {seconds:.1f} | {n / seconds:,.0f} | {r.warm_share:.0%} | {p.estimate:.3f} ({p.low:.3f}–{p.high:.3f}) |"  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    ap.add_argument("--coverage", action="store_true", help="also measure the analytic case's coverage with early stopping (50 seeds)")
    ap.add_argument("--robust", action="store_true", help="only time robust builds (flowopt risk --robust) on data/panzhihua_east_invest")
    ap.add_argument("--train", type=int, nargs="*", default=[32, 64], help="training samples of --robust (default 32 64)")
    ap.add_argument("--confidence", type=float, nargs="*", default=[0.5, 0.9], help="confidences of --robust (default 0.5 0.9)")
    ap.add_argument("--gap", type=float, nargs="*", default=[1e-4, 1e-2], help="MIP gaps of --robust (default 0.0001 0.01)")
    args = ap.parse_args()
    if args.robust:
        robust(args)
        return

    from flowopt.io import load_scenario
    from flowopt.risk import run_risk

    scenario = load_scenario(ROOT / "data" / "panzhihua_east")
    print(f"panzhihua_east, {args.samples:,} samples, seed {args.seed}; Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores\n")
    print("| run | samples | wall (s) | samples/s | warm | P(max rate ≥ 70 %) (95 % interval) |")
    print("|---|---:|---:|---:|---:|---|")
    runs = [("local, chosen by the work", {"workers": None}), ("local, serial (1 process)", {"workers": 1}), ("local, 2 worker processes", {"workers": 2})]
    found = []
    for name, kw in runs:
        t = time.perf_counter()
        r = run_risk(scenario, samples=args.samples, seed=args.seed, tolerance=0, tornado=False, **kw)
        s = time.perf_counter() - t
        found.append(r.probability)
        print(_line(name, r, s), flush=True)
    if not args.no_dask:
        from dask.distributed import LocalCluster

        for threads in (1, 2):
            with LocalCluster(n_workers=2, threads_per_worker=threads, processes=True, dashboard_address=None) as cluster:
                # the first run of a cluster pays its workers' imports; time the second
                run_risk(scenario, samples=64, seed=args.seed + 1, engine="dask", address=cluster.scheduler_address, tolerance=0, tornado=False)
                t = time.perf_counter()
                r = run_risk(scenario, samples=args.samples, seed=args.seed, engine="dask", address=cluster.scheduler_address, tolerance=0, tornado=False)
                s = time.perf_counter() - t
            found.append(r.probability)
            print(_line(f"Dask, 2 workers × {threads} thread{'s' if threads > 1 else ''} (warm cluster)", r, s), flush=True)
    assert all(p == found[0] for p in found), "the engines disagree"
    t = time.perf_counter()
    r = run_risk(scenario, samples=args.samples, seed=args.seed, tolerance=0, workers=1)
    print(f"\nWith the tornado (serial): {time.perf_counter() - t:.1f} s; tornado bars: " + ", ".join(f"{b.driver} {b.swing * 100:.1f} pp" for b in r.tornado))
    if args.coverage:
        from test_risk import TRUTH, analytic

        stops, covered = [], 0
        t = time.perf_counter()
        for seed in range(50):
            res = run_risk(analytic(), samples=640, seed=seed, method="random", tolerance=0.2, min_samples=64, workers=1, tornado=False)
            stops.append(res.samples)
            covered += res.probability.low <= TRUTH <= res.probability.high
        print(f"\nAnalytic case, stopping at a 95 % interval narrower than 0.2 (at least 64 samples), 50 seeds: covered {covered}/50; stopped after {min(stops)}–{max(stops)} samples (median {sorted(stops)[25]}); {time.perf_counter() - t:.1f} s")


def robust(args: argparse.Namespace) -> None:
    """Time robust builds on the bundled investment park: the MILP and the out-of-sample check, by size."""
    from flowopt.io import load_scenario
    from flowopt.robust import robust_builds

    scenario = load_scenario(ROOT / "data" / "panzhihua_east_invest")
    print(f"panzhihua_east_invest, robust builds, {args.samples:,} fresh samples (serial), seed {args.seed}; Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores\n")
    print("| training samples | confidence | gap | MILP columns / rows / integers | build (s) | MILP and its checks (s) | out of sample (s) | total (s) | status | met | P robust (95 %) | P deterministic (95 %) |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|")
    for n in args.train:
        for c in args.confidence:
            for gap in args.gap:
                t = time.perf_counter()
                r = robust_builds(scenario, confidence=c, train=n, samples=args.samples, seed=args.seed, gap=gap, workers=1)
                total = time.perf_counter() - t
                s = r.solver
                p, q = r.robust.probability, r.deterministic.probability if r.deterministic else None
                fmt = lambda iv: "–" if iv is None or iv.estimate is None else f"{iv.estimate:.1%} ({iv.low:.1%}–{iv.high:.1%})"  # noqa: E731
                milp = total - s["build_s"] - s["out_of_sample_s"]
                print(f"| {n} | {c:g} | {gap:g} | {s['columns']:,} / {s['rows']:,} / {s['integers']} | {s['build_s']:.1f} | {milp:.1f} | {s['out_of_sample_s']:.1f} | {total:.1f} | {r.status} | {r.met} of {r.required} | {fmt(p)} | {fmt(q)} |", flush=True)


if __name__ == "__main__":
    main()
