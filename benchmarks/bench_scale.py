"""flowopt against raw HiGHS on the same LP, from ~2k to ~500k columns.

Not a test: run it by hand and copy the table into the README.

    python benchmarks/bench_scale.py                         # 2k, 20k, 100k columns, 3 rounds
    python benchmarks/bench_scale.py --sizes 2000,20000,100000,500000 --rounds 1
    python benchmarks/bench_scale.py --write-park 4000 /tmp/park   # just write a synthetic park

For each size it writes a synthetic park (``flowopt.synthetic.random_park``) as a scenario
folder, exports the LP flowopt solves (``flowopt.solve.write_lp``, MPS), and then runs, in
fresh processes and interleaved round by round:

* **flowopt**: ``flowopt.run(folder, explain=False)`` in a process that has imported flowopt,
  timed by stage (load, graph, build, solve, results, audit) from the files to the audited plan;
* **raw HiGHS**: a process that has imported highspy reads the exported MPS file and solves it
  with the same options (one thread, the same simplex/IPM choice).

It reports the median in-process times, their ratio, whole-process wall times (interpreter
start and imports included) and the peak resident memory of each process, plus the fitted
growth exponent of every non-solver stage (time ~ columns^k).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("load", "graph", "build", "solve", "results", "audit")


def write_park(n_streams: int, folder: Path, seed: int = 11) -> Path:
    """Write a synthetic park with ``n_streams`` streams to ``folder``; return the folder."""
    from flowopt.checks import validated
    from flowopt.io import write_scenario
    from flowopt.synthetic import random_park

    data = random_park(n_streams, seed, rich=True)
    data["policy"]["target_rate"] = 0.3  # comfortably reachable, so every size solves
    data["projects"] = [{k: v for k, v in p.items() if k != "min_intake_t"} for p in data["projects"]]
    write_scenario(validated(data), folder)
    return folder


def _child_flowopt(folder: str, solver: str) -> None:
    import resource

    t0 = time.perf_counter()
    import flowopt
    from flowopt.pipeline import StageTimes
    from flowopt.solve import SolveOptions

    imported = time.perf_counter() - t0
    times = StageTimes()
    t1 = time.perf_counter()
    plan = flowopt.run(folder, explain=False, times=times, options=SolveOptions(solver=solver, time_limit_s=3600))
    total = time.perf_counter() - t1
    assert plan.audit.passed
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import_s": imported, "total_s": total, "stages": times.seconds, "peak_mb": peak_mb, "objective": plan.objective_cny}))


def _child_highs(path: str, solver: str) -> None:
    import resource

    t0 = time.perf_counter()
    import highspy

    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", solver)
    if solver == "ipm":
        h.setOptionValue("run_crossover", "on")
    h.readModel(path)
    read = time.perf_counter() - t1
    h.run()
    total = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import_s": imported, "read_s": read, "total_s": total, "peak_mb": peak_mb, "objective": h.getInfo().objective_function_value, "status": h.modelStatusToString(h.getModelStatus())}))


def _run(args: list[str]) -> tuple[dict, float]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def _fit(xs: list[float], ys: list[float]) -> float | None:
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if y > 0]
    if len(pts) < 2:
        return None
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else None


def main() -> None:
    """Parse arguments and run the benchmark (or a child role, or --write-park)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2000,20000,100000", help="target LP columns per park, comma-separated")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per size (medians are reported)")
    ap.add_argument("--write-park", nargs=2, metavar=("N_STREAMS", "DIR"), help="only write a synthetic park with N streams to DIR")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        role, path, solver = args.child
        (_child_flowopt if role == "flowopt" else _child_highs)(path, solver)
        return
    if args.write_park:
        print(write_park(int(args.write_park[0]), Path(args.write_park[1])))
        return
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph
    from flowopt.io import load_scenario
    from flowopt.solve import IPM_ABOVE_COLS, write_lp

    rows = []
    with tempfile.TemporaryDirectory(prefix="flowopt-scale-") as tmp:
        for target in [int(x) for x in args.sizes.split(",")]:
            n_streams = max(4, round(target / 6.2))
            folder = write_park(n_streams, Path(tmp) / f"park_{target}")
            lp = assemble(build_graph(load_scenario(folder)))
            mps = Path(tmp) / f"park_{target}.mps"
            write_lp(lp, mps)
            solver = "ipm" if lp.n_cols > IPM_ABOVE_COLS else "simplex"
            fo, hi, fo_wall, hi_wall = [], [], [], []
            for _ in range(args.rounds):
                r, w = _run(["--child", "flowopt", str(folder), solver])
                fo.append(r)
                fo_wall.append(w)
                r, w = _run(["--child", "highs", str(mps), solver])
                hi.append(r)
                hi_wall.append(w)
            assert all(abs(a["objective"] - b["objective"]) <= 1e-6 * max(1.0, abs(b["objective"])) for a, b in zip(fo, hi, strict=True)), "objectives differ"
            row = {
                "columns": lp.n_cols,
                "rows": lp.n_rows,
                "nnz": lp.nnz,
                "streams": n_streams,
                "solver": solver,
                "flowopt_s": statistics.median(r["total_s"] for r in fo),
                "highs_s": statistics.median(r["total_s"] for r in hi),
                "flowopt_wall_s": statistics.median(fo_wall),
                "highs_wall_s": statistics.median(hi_wall),
                "flowopt_mb": statistics.median(r["peak_mb"] for r in fo),
                "highs_mb": statistics.median(r["peak_mb"] for r in hi),
                "stages": {s: statistics.median(r["stages"].get(s, 0.0) for r in fo) for s in STAGES},
            }
            rows.append(row)
            print(f"{lp.n_cols:,} columns done: flowopt {row['flowopt_s']:.2f} s, HiGHS {row['highs_s']:.2f} s", file=sys.stderr)
    print(f"Python {platform.python_version()}, {platform.machine()}, {platform.system().lower()}; {args.rounds} round(s) per size, medians\n")
    print("| columns | rows | solver | flowopt in-process (s) | raw HiGHS read+solve (s) | ratio | flowopt process (s) | HiGHS process (s) | ratio | flowopt peak (MB) | HiGHS peak (MB) | ratio |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['columns']:,} | {r['rows']:,} | {r['solver']} | {r['flowopt_s']:.3f} | {r['highs_s']:.3f} | {r['flowopt_s'] / r['highs_s']:.2f}× | {r['flowopt_wall_s']:.2f} | {r['highs_wall_s']:.2f} | {r['flowopt_wall_s'] / r['highs_wall_s']:.2f}× | {r['flowopt_mb']:.0f} | {r['highs_mb']:.0f} | {r['flowopt_mb'] / r['highs_mb']:.2f}× |")
    print("\nflowopt by stage (s):\n")
    print("| columns | " + " | ".join(STAGES) + " |")
    print("|---:|" + "---:|" * len(STAGES))
    for r in rows:
        print(f"| {r['columns']:,} | " + " | ".join(f"{r['stages'][s]:.3f}" for s in STAGES) + " |")
    if len(rows) >= 2:
        cols = [r["columns"] for r in rows]
        fits = {s: _fit(cols, [r["stages"][s] for r in rows]) for s in STAGES}
        print("\nFitted growth exponent k (time ~ columns^k): " + ", ".join(f"{s} {k:.2f}" for s, k in fits.items() if k is not None))


if __name__ == "__main__":
    main()
