"""Investment decisions: how long the MILP takes (``python benchmarks/bench_invest.py``).

* the bundled park (``data/panzhihua_east_invest``): the MILP alone, and ``flowopt invest``'s
  whole analysis (the plan given the builds with its explanations, a MILP per decision value,
  the break-even steps), median of 5 runs after a first;
* synthetic parks of about 20,000 columns (``--streams``, default 2,800 streams) with 50 and 200
  candidates (``flowopt.synthetic.random_park(..., candidates=K)``): time to a 1 % gap, the gap
  reached, nodes, per seed; and, for comparison, the same park to flowopt invest's default gap
  of 0.01 % within ``--tight-limit`` seconds.

Prints Markdown tables for the README. ``--quick`` runs one seed of each synthetic size.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowopt.checks import validated  # noqa: E402
from flowopt.formulation import assemble  # noqa: E402
from flowopt.graph import build_graph  # noqa: E402
from flowopt.invest import InvestmentModel, solve_investment  # noqa: E402
from flowopt.io import load_scenario  # noqa: E402
from flowopt.solve import Session, SolveOptions  # noqa: E402
from flowopt.synthetic import random_park  # noqa: E402


def bundled(runs: int = 5) -> list[str]:
    """Rows for the bundled park: MILP alone and the whole analysis."""
    s = load_scenario(ROOT / "data" / "panzhihua_east_invest")
    lp = assemble(build_graph(s), investment=True)
    solve_times, full_times = [], []
    for i in range(runs + 1):
        t = time.perf_counter()
        out = Session(lp, SolveOptions(), mip_rel_gap=1e-4).solve()
        solve_t = time.perf_counter() - t
        t = time.perf_counter()
        r = solve_investment(s)
        full_t = time.perf_counter() - t
        if i:  # the first run pays one-off imports
            solve_times.append(solve_t)
            full_times.append(full_t)
    assert out.ok and r.status == "optimal"
    n_int = int(lp.integrality.sum()) if lp.integrality is not None else 0
    return [
        f"| bundled park ({lp.n_cols:,} columns, {lp.n_rows:,} rows, {n_int} integers, {len(s.candidates)} candidates): MILP to optimal | {statistics.median(solve_times):.3f} | {out.nodes} |",
        f"| bundled park: `flowopt invest` analysis (MILP, plan given the builds with explanations, {len(r.decision_values)} decision values, {sum(e.steps for e in r.build_break_even)} break-even solves) | {statistics.median(full_times):.3f} | |",
    ]


def synthetic(streams: int, candidates: int, seed: int, gap: float, limit: float, tight_limit: float) -> str:
    """One row: a synthetic park of ``streams`` streams with ``candidates`` candidates, solved to ``gap``."""
    s = validated(random_park(streams, seed, candidates=candidates))
    t0 = time.perf_counter()
    model = InvestmentModel(s, SolveOptions(time_limit_s=limit), gap=gap)
    build = time.perf_counter() - t0
    t = time.perf_counter()
    out = model.solve()
    seconds = time.perf_counter() - t
    lp = model.lp
    built = sum(1 for c in model.ids if out.has_solution and out.x[model.build_col[c]] > 0.5)
    reached = "infeasible" if not out.has_solution else f"{out.mip_gap:.3%}" if out.mip_gap is not None else "–"
    # the same park to the default gap of flowopt invest (0.01 %), for comparison
    t = time.perf_counter()
    tight = InvestmentModel(s, SolveOptions(time_limit_s=tight_limit), gap=1e-4, network=model.network).solve()
    tight_s = time.perf_counter() - t
    reached_tight = f", gap {tight.mip_gap:.3%}" if tight.status.value == "feasible" and tight.mip_gap is not None else ""
    tight_text = f"{tight_s:.1f} ({tight.status.value}{reached_tight}, {tight.nodes:,} nodes)"
    return f"| {streams:,} streams, {candidates} candidates, seed {seed} ({lp.n_cols:,} columns, {lp.n_rows:,} rows, {int(lp.integrality.sum())} integers) | {build:.2f} | {seconds:.2f} | {out.status.value} | {reached} | {out.nodes:,} | {built} | {tight_text} |"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--streams", type=int, default=2800, help="streams of the synthetic parks (2,800: about 20,000 columns)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--gap", type=float, default=0.01)
    p.add_argument("--time-limit", type=float, default=600.0)
    p.add_argument("--tight-limit", type=float, default=120.0, help="time limit of the comparison solve to flowopt invest's default gap of 0.01 %%")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    print(f"Python {platform.python_version()}, {platform.machine()}, {platform.system().lower()}\n")
    print("| case | median of 5 (s) | branch-and-bound nodes |\n|---|---:|---:|")
    for row in bundled():
        print(row)
    print(f"\n| synthetic park | build (s) | time to a {args.gap:.0%} gap (s) | status | gap reached | nodes | built | time to 0.01 % (s) |\n|---|---:|---:|---|---:|---:|---:|---:|")
    seeds = args.seeds[:1] if args.quick else args.seeds
    for k in (50, 200):
        for seed in seeds:
            print(synthetic(args.streams, k, seed, args.gap, args.time_limit, args.tight_limit), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
