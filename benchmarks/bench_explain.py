"""What the explanations cost against the plan's own solve, on synthetic parks.

Not a test: run it by hand and copy the table into the README.

    python benchmarks/bench_explain.py                     # about 22,000 columns, 3 runs
    python benchmarks/bench_explain.py --columns 2000,22000 --runs 5

The park is the one ``bench_scale.py`` writes (``flowopt.synthetic.random_park`` with residues,
quality limits, shares, stock and routes; a 0.30 target). Each run is ``flowopt.run(folder)``
in this process with explanations on, timed by stage: ``solve`` is the plan's own LP solve,
``explain`` the cards with their exact ranges, the why-not break-evens and the target's price
range, ``max_rate`` the highest reachable rate. Medians over the runs after a first one.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import write_park  # the same parks as the scale benchmark


def main() -> int:
    """Parse arguments, run the parks and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--columns", default="22000", help="approximate LP columns, comma-separated (default 22000)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per park after a first one (default 3)")
    args = ap.parse_args()

    from importlib.metadata import version

    import flowopt
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph
    from flowopt.io import load_scenario
    from flowopt.pipeline import StageTimes

    print(f"# Python {platform.python_version()}, HiGHS {version('highspy')}, {platform.machine()}; medians of {args.runs} runs")
    print()
    print("| columns | cards | why-not entries | solve (s) | explain (s) | max_rate (s) | explanations / solve |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="flowopt-explain-") as tmp:
        for target in [int(x) for x in args.columns.split(",")]:
            folder = write_park(max(4, round(target / 6.2)), Path(tmp) / f"park_{target}")
            n_cols = assemble(build_graph(load_scenario(folder))).n_cols
            flowopt.run(folder)  # imports and caches warm
            runs = []
            for _ in range(args.runs):
                times = StageTimes()
                plan = flowopt.run(folder, times=times)
                runs.append(times.seconds)
            med = {k: statistics.median(r[k] for r in runs) for k in ("solve", "explain", "max_rate")}
            ratio = (med["explain"] + med["max_rate"]) / med["solve"]
            print(f"| {n_cols:,} | {len(plan.bottlenecks)} | {len(plan.why_not)} | {med['solve']:.3f} | {med['explain']:.3f} | {med['max_rate']:.3f} | {ratio:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
