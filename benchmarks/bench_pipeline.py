"""Time each stage of the pipeline (load, graph, build, solve, results, audit).

Not a test: run it by hand and copy the table into the README.

    python benchmarks/bench_pipeline.py                  # bundled park data, 5 repetitions
    python benchmarks/bench_pipeline.py --synthetic 400  # a synthetic park with 400 streams
    python benchmarks/bench_pipeline.py --whatif         # cold solve vs warm what-if re-solve

Each repetition runs the whole pipeline in this process; the first repetition also pays for
imports and is reported separately as "cold". Medians of the remaining runs are reported.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flowopt.checks import validated
from flowopt.io import write_scenario
from flowopt.pipeline import StageTimes, default_data_dir, run
from flowopt.synthetic import random_park

STAGES = ("load", "graph", "build", "solve", "results", "explain", "max_rate", "audit")


def synthetic_park(n_streams: int, seed: int = 7) -> dict:
    """A plain synthetic park (``flowopt.synthetic.random_park`` without the rich families).

    ``n_streams`` streams, ``n_streams // 4`` projects with TiO2 limits, residues passed on,
    three sinks, a 0.70 target.
    """
    return random_park(n_streams, seed, rich=False)


def bench(path: Path, reps: int) -> tuple[dict[str, float], list[dict[str, float]], str]:
    """Run the pipeline ``reps`` + 1 times on ``path``; return cold stage times, warm runs, size."""
    runs = []
    size = ""
    for _ in range(reps + 1):
        times = StageTimes()
        t0 = time.perf_counter()
        plan = run(path, times=times)
        times.seconds["total"] = time.perf_counter() - t0
        runs.append(times.seconds)
        size = f"{len(plan.flows)} flows in plan"
    return runs[0], runs[1:], size


def bench_whatif(path: Path, reps: int) -> list[str]:
    """Cold solve vs warm what-if on the same scenario; returns Markdown table rows.

    Each what-if scales one project's capacity and another's processing cost (different ones
    each time, so the LP really changes). Cold = load-free ``run`` (graph, Pyomo build,
    compile, fresh HiGHS, solve, plan without explanations). Warm = ``WhatIfSession.solve``
    (graph, LP update in place, warm HiGHS re-solve, same plan); "update + re-solve" is the
    part inside HiGHS's reach.
    """
    from flowopt.io import load_scenario
    from flowopt.overrides import apply_overrides, parse_overrides
    from flowopt.whatif import WhatIfSession

    base = load_scenario(path)
    projects = [p.id for p in base.projects]
    whatifs = []
    for i in range(reps):
        a, b = projects[i % len(projects)], projects[(i + 3) % len(projects)]
        ov = parse_overrides({"changes": [{"scale": f"projects.{a}.capacity_t", "factor": 0.9 + 0.02 * (i % 5)}, {"scale": f"projects.{b}.processing_cost_cny_per_t", "factor": 1.1}]})
        whatifs.append(apply_overrides(base, ov))
    cold = []
    for w in whatifs:
        t0 = time.perf_counter()
        run(w, explain=False)
        cold.append(time.perf_counter() - t0)
    session = WhatIfSession(base)
    warm, inner, iters = [], [], []
    for w in whatifs:
        t0 = time.perf_counter()
        session.solve(w, explain=False)
        warm.append(time.perf_counter() - t0)
        assert session.stats is not None and session.stats.warm
        inner.append(session.stats.seconds)
        iters.append(session.stats.simplex_iterations)
    med = statistics.median
    return [
        f"| {path.name} | {med(cold):.3f} | {med(warm):.3f} | {med(inner):.4f} | {med(iters):.0f} |",
    ]


def bench_whatif_explained(path: Path, reps: int) -> list[str]:
    """Warm what-ifs with their full explanations (as the API and viewer ask); Markdown rows.

    Two kinds: the target alone (the viewer's target slider: the highest reachable rate
    cannot change, so the session reuses it) and a capacity with a cost (the rate is
    computed again). Medians over ``reps`` what-ifs of each kind, after one of each.
    """
    from flowopt.io import load_scenario
    from flowopt.overrides import apply_overrides, parse_overrides
    from flowopt.whatif import WhatIfSession

    base = load_scenario(path)
    projects = [p.id for p in base.projects]
    target = base.policy.target_rate
    kinds = {
        "target only": [[{"set": "policy.target_rate", "value": round(target - 0.04 + 0.005 * (i % 9), 4)}] for i in range(reps + 1)],
        "capacity and cost": [[{"scale": f"projects.{projects[i % len(projects)]}.capacity_t", "factor": 0.9 + 0.02 * (i % 5)}, {"scale": f"projects.{projects[(i + 3) % len(projects)]}.processing_cost_cny_per_t", "factor": 1.1}] for i in range(reps + 1)],
    }
    rows = []
    for kind, change_sets in kinds.items():
        session = WhatIfSession(base)
        times = []
        for changes in change_sets:
            w = apply_overrides(base, parse_overrides({"changes": changes}))
            t0 = time.perf_counter()
            session.solve(w)
            times.append(time.perf_counter() - t0)
        rows.append(f"| {path.name} | {kind} | {statistics.median(times[1:]) * 1e3:.1f} |")
    return rows


def main() -> int:
    """Parse arguments, run the benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, help="scenario (default: bundled park data)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--synthetic", type=int, metavar="N", help="benchmark a synthetic park with N streams instead")
    ap.add_argument("--whatif", action="store_true", help="measure cold solves against warm what-if re-solves instead")
    args = ap.parse_args()
    if args.synthetic:
        tmp = Path(tempfile.mkdtemp())
        path = write_scenario(validated(synthetic_park(args.synthetic)), tmp / f"synthetic_{args.synthetic}")
    else:
        path = args.data or default_data_dir()
    from flowopt.graph import build_graph
    from flowopt.io import load_scenario

    g = build_graph(load_scenario(path))
    if args.whatif:
        print(f"# {path.name}: {len(g.lots)} lots, {len(g.arcs)} arcs; median of {args.reps} what-ifs")
        print()
        print("| scenario | cold run (s) | warm what-if (s) | of which LP update + re-solve (s) | simplex iterations (warm) |")
        print("|---|---:|---:|---:|---:|")
        print("\n".join(bench_whatif(path, args.reps)))
        print()
        print("| scenario | what-if changes | warm what-if with full explanations (ms) |")
        print("|---|---|---:|")
        print("\n".join(bench_whatif_explained(path, args.reps)))
        return 0
    cold, warm, size = bench(path, args.reps)
    print(f"# {path.name}: {len(g.lots)} lots, {len(g.arcs)} arcs ({size}); "
          f"Python {platform.python_version()}, {platform.machine()}, {sys.platform}")
    print()
    print(f"| stage | first run (s) | median of next {args.reps} (s) |")
    print("|---|---:|---:|")
    for stage in (*STAGES, "total"):
        med = statistics.median(r.get(stage, 0.0) for r in warm)
        print(f"| {stage} | {cold.get(stage, 0.0):.3f} | {med:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
