"""Command line: ``flowopt solve | explain | compare | sweep | batch | pathway | report | template | validate | convert | serve``.

Exit codes: 0 solved (or valid), 1 not solvable as asked (infeasible target, unbounded, solver
limit or failure, failed audit), 2 invalid input, 3 unexpected internal error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from flowopt.errors import AuditError, FlowoptError, InfeasibleError, InputError, SolveError
from flowopt.io import atomic_path, load_scenario, write_scenario, write_workbook
from flowopt.pathway import add_pathway_command, pathway_command
from flowopt.pipeline import default_data_dir, run
from flowopt.report import write_report
from flowopt.results import Plan
from flowopt.sankey import write_sankey
from flowopt.schema import Scenario
from flowopt.solve import SolveOptions
from flowopt.workbook import write_plan_workbook, write_template

EXIT_OK, EXIT_UNSOLVABLE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowopt", description="Least-cost allocation of industrial solid waste to reuse, disposal and storage under a utilization target.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve a scenario and print the plan")
    s.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled Panzhihua East park data)")
    s.add_argument("--target", type=float, help="target rate as a fraction (e.g. 0.75); overrides policy.target_rate")
    s.add_argument("--json", action="store_true", help="print the plan as JSON (the dashboard contract)")
    s.add_argument("--out", type=Path, help="also write plan.json, CSV tables, plan.xlsx, the Sankey (SVG, HTML) and the report (HTML, Markdown) to this folder")
    s.add_argument("--lang", choices=["en", "zh"], default="en", help="language of explanations in the text report and of the files written by --out")
    s.add_argument("--time-limit", type=float, default=60.0, help="solver time limit in seconds (default 60)")
    s.add_argument("--all-flows", action="store_true", help="list every flow in the text report (default: the largest 25)")
    s.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    e = sub.add_parser("explain", help="explain a plan: bottleneck cards, why-not projects, the target's price; or why the target is out of reach")
    e.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    e.add_argument("--target", type=float, help="target rate as a fraction; overrides policy.target_rate")
    e.add_argument("--json", action="store_true", help="print the explanation as JSON")
    e.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    e.add_argument("--time-limit", type=float, default=60.0, help="solver time limit in seconds (default 60)")
    e.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    r = sub.add_parser("report", help="solve a scenario and write its report (.html or .md) in Chinese or English")
    r.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    r.add_argument("--out", type=Path, required=True, help="report file: .html (self-contained) or .md (writes <name>.sankey.svg beside it)")
    r.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the report")
    r.add_argument("--target", type=float, help="target rate as a fraction; overrides policy.target_rate")
    r.add_argument("--time-limit", type=float, default=60.0, help="solver time limit in seconds (default 60)")
    r.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    r.set_defaults(json=False)
    t = sub.add_parser("template", help="write a blank scenario workbook (.xlsx) with a data dictionary, to fill in and solve")
    t.add_argument("output", type=Path, help="target .xlsx file")
    cp = sub.add_parser("compare", help="compare a base scenario with a what-if (an overrides file or another scenario)")
    cp.add_argument("base", help="base scenario folder or .xlsx workbook")
    cp.add_argument("whatif", help="overrides file (.yaml/.json with 'changes') or a scenario folder/workbook")
    cp.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cp.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    cp.add_argument("--write-scenario", type=Path, metavar="DIR", help="also write the what-if scenario (overrides applied) as a folder")
    cp.add_argument("--out", type=Path, help="write comparison.json, the comparison tables (CSV) and comparison.svg/.png to this folder")
    cp.add_argument("--time-limit", type=float, default=60.0, help="solver time limit in seconds (default 60)")
    cp.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sw = sub.add_parser("sweep", help="least cost as a function of the target, with exact breakpoints")
    sw.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    sw.add_argument("--from", dest="t_from", type=float, default=0.5, help="first target (default 0.5)")
    sw.add_argument("--to", dest="t_to", type=float, default=0.9, help="last target (default 0.9; capped at the highest reachable rate)")
    sw.add_argument("--step", type=float, default=0.005, help="spacing of the plotted grid (default 0.005)")
    sw.add_argument("--out", type=Path, help="write curve.csv, segments.csv, curve.svg and curve.png to this folder")
    sw.add_argument("--json", action="store_true", help="print the curve as JSON")
    sw.add_argument("--lang", choices=["en", "zh"], default="en", help="language of labels")
    sw.add_argument("--time-limit", type=float, default=60.0, help="solver time limit in seconds (default 60)")
    sw.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    bt = sub.add_parser("batch", help="solve many what-ifs of one base in parallel; one comparison table")
    bt.add_argument("file", help="batch file (YAML with a 'whatifs' list, see flowopt/batch.py)")
    bt.add_argument("--base", help="base scenario (default: the batch file's 'base', else the bundled park data)")
    bt.add_argument("--workers", type=int, help="worker processes for the local engine (default: all cores)")
    bt.add_argument("--engine", choices=["local", "dask", "ray"], default="local", help="where to run (default local; dask and ray need those packages and a cluster)")
    bt.add_argument("--address", help="dask scheduler or ray cluster address")
    bt.add_argument("--out", type=Path, help="write the table as CSV")
    bt.add_argument("--json", action="store_true", help="print the table as JSON")
    bt.add_argument("--quiet", action="store_true", help="no progress lines")
    bt.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    v = sub.add_parser("validate", help="check a scenario's files and network without solving")
    v.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    sv = sub.add_parser("serve", help="run the HTTP API (settings from FLOWOPT_* environment variables)")
    sv.add_argument("--host", help="address to bind (default: FLOWOPT_HOST or 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default: FLOWOPT_PORT or 8000)")
    add_pathway_command(sub)
    c = sub.add_parser("convert", help="convert a scenario between a folder of CSVs and an .xlsx workbook")
    c.add_argument("data", help="scenario folder or .xlsx workbook")
    c.add_argument("output", type=Path, help="target .xlsx file or folder")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in ("solve", "explain", "report"):
            return _solve(args)
        if args.command == "template":
            return _template(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "batch":
            return _batch(args)
        if args.command == "pathway":
            return pathway_command(args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "serve":
            return _serve(args)
        return _convert(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_UNSOLVABLE
    except Exception as exc:  # never a bare traceback for a user
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"Internal error: {type(exc).__name__}: {exc}\nThis is a bug in flowopt; rerun with --debug and report the output.", file=sys.stderr)
        return EXIT_INTERNAL


def _data(arg: str | None) -> Path:
    return Path(arg) if arg else default_data_dir()


def _emit_json(doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _input_error(exc: InputError, as_json: bool) -> int:
    if as_json:
        _emit_json({"status": "invalid_input", "code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems]})
    else:
        print(str(exc), file=sys.stderr)
    return EXIT_INPUT


def _solve(args: argparse.Namespace) -> int:
    data = _data(args.data)
    if args.command == "report" and args.out.suffix.lower() not in (".html", ".htm", ".md"):
        print(f"Cannot write a report to '{args.out}': use a .html or .md file name.", file=sys.stderr)
        return EXIT_INPUT
    try:
        scenario = load_scenario(data)
        plan = run(scenario, target_rate=args.target, options=SolveOptions(time_limit_s=args.time_limit))
    except InputError as exc:
        return _input_error(exc, args.json)
    except InfeasibleError as exc:
        diag = getattr(exc, "diagnosis", None)
        doc = {"status": "infeasible", "code": exc.code, "scenario": str(data), "target": diag.target if diag else args.target, "message": str(exc), "diagnosis": diag.model_dump(mode="json") if diag else None}
        if args.json:
            _emit_json(doc)
        else:
            print(format_diagnosis(diag, lang=args.lang) if diag else str(exc), file=sys.stderr)
        return EXIT_UNSOLVABLE
    except (SolveError, AuditError) as exc:
        if args.json:
            _emit_json({"status": "error", "code": exc.code, "message": str(exc)})
        else:
            print(str(exc), file=sys.stderr)
        return EXIT_UNSOLVABLE
    if args.command == "report":
        write_report(plan, args.out, scenario, lang=args.lang)
        print(f"Written: {args.out}")
        return EXIT_OK
    if getattr(args, "out", None):
        write_plan(plan, args.out, scenario=scenario, lang=args.lang)
    if args.json:
        if args.command == "explain":
            keys = ("scenario_id", "status", "target", "rate_mode", "utilization_rate", "objective_cny", "max_utilization_rate", "target_marginal_cost", "bottlenecks", "why_not", "audit")
            _emit_json({k: v for k, v in plan.model_dump(mode="json").items() if k in keys})
        else:
            _emit_json(plan.model_dump(mode="json"))
    elif args.command == "explain":
        print(format_explanation(plan, lang=args.lang))
    else:
        print(format_plan(plan, lang=args.lang, all_flows=args.all_flows))
        if getattr(args, "out", None):
            print(f"\nWritten to {args.out}/: plan.json, CSV tables, plan.xlsx, sankey.svg, sankey.html, report.html, report.md.")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from flowopt.graph import build_graph

    data = _data(args.data)
    try:
        scenario = load_scenario(data)
        g = build_graph(scenario)
    except InputError as exc:
        return _input_error(exc, args.json)
    summary = {"status": "valid", "scenario": scenario.id, "streams": len(scenario.streams), "projects": len(scenario.projects), "sinks": len(scenario.sinks), "stockpiles": len(scenario.stockpiles), "lots": len(g.lots), "arcs": len(g.arcs), "warnings": [str(w) for w in g.warnings]}
    if args.json:
        _emit_json(summary)
    else:
        print(f"{data}: valid. {summary['streams']} streams, {summary['projects']} projects, {summary['sinks']} sinks, {summary['stockpiles']} stockpiles; {summary['arcs']} permitted movements.")
        for w in g.warnings:
            print(f"  warning: {w}")
    return EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.data)
    except FlowoptError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    if args.output.suffix.lower() == ".xlsx":
        write_workbook(scenario, args.output)
    else:
        write_scenario(scenario, args.output)
    print(f"Written: {args.output}")
    return EXIT_OK


def _load_whatif(base: Scenario, arg: str) -> Scenario:
    from flowopt.overrides import load_whatif

    path = Path(arg)
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml", ".json") and path.name != "scenario.yaml":
        return load_whatif(path, base)
    return load_scenario(path)


def _compare(args: argparse.Namespace) -> int:
    from flowopt.whatif import run_whatif

    try:
        base = load_scenario(args.base)
        whatif = _load_whatif(base, args.whatif)
        if args.write_scenario:
            write_scenario(whatif, args.write_scenario)
        result = run_whatif(base, whatif, options=SolveOptions(time_limit_s=args.time_limit))
    except InputError as exc:
        return _input_error(exc, args.json)
    except InfeasibleError as exc:
        diag = getattr(exc, "diagnosis", None)
        if args.json:
            _emit_json({"status": "infeasible", "code": exc.code, "message": str(exc), "diagnosis": diag.model_dump(mode="json") if diag else None})
        else:
            print(format_diagnosis(diag, lang=args.lang) if diag else str(exc), file=sys.stderr)
        return EXIT_UNSOLVABLE
    except (SolveError, AuditError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNSOLVABLE
    c = result.comparison
    if args.out:
        from flowopt.charts import comparison_svg
        from flowopt.png import comparison_png

        with atomic_path(args.out) as work:
            work.mkdir()
            (work / "comparison.json").write_text(json.dumps(c.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
            for name, frame in c.tables().items():
                frame.to_csv(work / f"{name}.csv", index=False)
            (work / "comparison.svg").write_text(comparison_svg(result.base, result.whatif, names=(c.base_id, c.whatif_id), lang=args.lang), encoding="utf-8")
            comparison_png(result.base, result.whatif, work / "comparison.png", names=(c.base_id, c.whatif_id), lang=args.lang)
    if args.json:
        _emit_json({"status": "optimal", "comparison": c.model_dump(mode="json"), "solve": {"warm": result.stats.warm, "seconds": result.stats.seconds, "simplex_iterations": result.stats.simplex_iterations}, "base": result.base.model_dump(mode="json"), "whatif": result.whatif.model_dump(mode="json")})
        return EXIT_OK
    zh = args.lang == "zh"
    lines = [f"flowopt compare: {c.base_id} -> {c.whatif_id}", "=" * 72, c.explanation_zh if zh else c.explanation, ""]
    kv = pd.DataFrame([{"metric": r.metric, "base": r.base, "what-if": r.whatif, "change": r.delta} for r in c.kpis])
    lines.append(kv.to_string(index=False, float_format=lambda x: f"{x:,.4f}" if abs(x) < 10 else f"{x:,.0f}"))
    lines += ["", "Cost terms (effect on cost, CNY/yr):" if not zh else "成本分项（对成本的影响，元/年）："]
    tv = pd.DataFrame([{"term": r.metric, "base": r.base, "what-if": r.whatif, "change": r.delta} for r in c.cost_terms])
    lines.append(tv.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
    if c.flows:
        lines += ["", f"Flows that changed ({len(c.flows)}, largest first):" if not zh else f"变化的流向（{len(c.flows)} 条）："]
        fv = pd.DataFrame([{"stream": f.stream, "source": f.source, "destination": f.destination, "base_t": f.base_t, "whatif_t": f.whatif_t, "change_t": f.delta_t} for f in c.flows[:20]])
        lines.append(fv.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
    if c.bottlenecks:
        lines += ["", "Bottlenecks that changed:" if not zh else "瓶颈变化："]
        lines += [f"  - [{b.change}] {b.explanation_zh if zh else b.explanation}" for b in c.bottlenecks]
    lines += ["", f"What-if solved {'warm (the base model updated in place)' if result.stats.warm else 'after a rebuild (the network changed)'}: {result.stats.seconds * 1000:,.1f} ms, {result.stats.simplex_iterations} simplex iterations."]
    print("\n".join(lines))
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from flowopt.charts import cost_curve_svg
    from flowopt.png import cost_curve_png
    from flowopt.sweep import target_cost_curve

    try:
        scenario = load_scenario(_data(args.data))
        curve = target_cost_curve(scenario, args.t_from, args.t_to, step=args.step, options=SolveOptions(time_limit_s=args.time_limit))
    except InputError as exc:
        return _input_error(exc, args.json)
    except ValueError as exc:
        print(f"Invalid range: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not curve.points:
        print(f"No target in [{args.t_from:.1%}, {args.t_to:.1%}] is reachable: the highest reachable rate is {curve.max_rate:.2%}.", file=sys.stderr)
        return EXIT_UNSOLVABLE
    table = curve.table()
    if args.out:
        segs = pd.DataFrame([s.model_dump() for s in curve.segments])
        labels = {s.index: (s.label_zh if args.lang == "zh" else s.label) for s in curve.segments}
        plot = table.assign(segment=table["segment"].map(labels))
        svg = cost_curve_svg(plot, lang=args.lang, current_target=scenario.policy.target_rate if args.t_from <= scenario.policy.target_rate <= args.t_to else None, max_rate=curve.max_rate)
        with atomic_path(args.out) as work:
            work.mkdir()
            table.to_csv(work / "curve.csv", index=False)
            segs.to_csv(work / "segments.csv", index=False)
            (work / "curve.svg").write_text(svg, encoding="utf-8")
            cost_curve_png(table, work / "curve.png", lang=args.lang, labels=labels, current_target=scenario.policy.target_rate if args.t_from <= scenario.policy.target_rate <= args.t_to else None, max_rate=curve.max_rate)
    if args.json:
        _emit_json(curve.model_dump(mode="json"))
        return EXIT_OK
    zh = args.lang == "zh"
    lines = [f"flowopt sweep: {curve.scenario_id} ({curve.rate_mode}), targets {args.t_from:.1%}–{args.t_to:.1%}", "=" * 72]
    if curve.max_rate is not None:
        lines.append(("最高可达 " if zh else "Highest reachable rate: ") + f"{curve.max_rate:.2%}")
    lines.append(("断点：" if zh else "Breakpoints: ") + (", ".join(f"{b:.3%}" for b in curve.breakpoints) or "none"))
    lines.append("")
    for seg in curve.segments:
        pts = [p for p in curve.points if p.segment == seg.index]
        prices = f"{min(p.cny_per_point for p in pts):,.0f}–{max(p.cny_per_point for p in pts):,.0f}" if pts else "-"
        lines.append(f"  {seg.start_target:.3%} – {seg.end_target:.3%}: {seg.label_zh if zh else seg.label} [{'每百分点' if zh else 'CNY/yr per point'} {prices}]")
    lines += ["", table[["target", "objective_cny", "cny_per_point", "segment"]].to_string(index=False, float_format=lambda x: f"{x:,.4f}" if abs(x) < 1 else f"{x:,.0f}")]
    if args.out:
        lines.append(f"\nWritten: {args.out}/curve.csv, segments.csv, curve.svg, curve.png")
    print("\n".join(lines))
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    from flowopt.batch import load_batch, print_progress, run_batch

    try:
        items, base_path = load_batch(args.file)
        base = load_scenario(args.base or base_path or default_data_dir())
        table = run_batch(base, items, workers=args.workers, engine=args.engine, address=args.address, progress=None if args.quiet else print_progress)
    except InputError as exc:
        return _input_error(exc, args.json)
    if args.out:
        with atomic_path(args.out) as work:
            table.to_csv(work, index=False)
    if args.json:
        _emit_json({"status": "done", "rows": json.loads(table.to_json(orient="records"))})
    else:
        view = table[["id", "status", "utilization_rate", "objective_cny", "delta_cost_cny", "max_utilization_rate", "warm", "seconds"]]
        print(view.to_string(index=False, float_format=lambda x: f"{x:.4f}" if abs(x) < 10 else f"{x:,.0f}"))
        failed = table[table["status"] != "optimal"]
        for _, r in failed.iterrows():
            print(f"  {r['id']}: {r['message']}")
    return EXIT_OK if (table["status"] == "optimal").all() else EXIT_UNSOLVABLE


def _template(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".xlsx":
        print(f"Cannot write a template to '{args.output}': use an .xlsx file name.", file=sys.stderr)
        return EXIT_INPUT
    write_template(args.output)
    print(f"Written: {args.output} (fill in the table sheets, see the 'dictionary' sheet; then: flowopt solve {args.output})")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    # the API lives beside the package in the repository (api/), not inside the wheel
    root = Path(__file__).resolve().parent.parent
    if (root / "api").is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from api.main import serve
    except ImportError as exc:
        print(f"The HTTP API is not available: {exc}. Install it with: pip install -e '.[api]' (from the repository).", file=sys.stderr)
        return EXIT_INPUT
    serve(host=args.host, port=args.port)
    return EXIT_OK


def write_plan(plan: Plan, folder: Path, *, scenario: Scenario | None = None, lang: str = "en") -> Path:
    """Write a plan's files into ``folder``, atomically.

    ``plan.json``, one CSV per plan table, ``plan.xlsx``, ``sankey.svg`` (static),
    ``sankey.html`` (interactive, offline), ``report.html`` and ``report.md`` (linking
    ``sankey.svg``).

    Args:
        plan: the plan.
        folder: target folder; replaced as a whole, so readers never see a half-written set.
        scenario: the scenario the plan was solved from (names and sources in the report).
        lang: ``en`` or ``zh`` for the Sankey and the report.

    Returns:
        The folder.
    """
    with atomic_path(folder) as work:
        work.mkdir()
        (work / "plan.json").write_text(json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
        for name, frame in plan.tables().items():
            frame.to_csv(work / f"{name}.csv", index=False)
        write_plan_workbook(plan, work / "plan.xlsx")
        write_sankey(plan, work / "sankey.svg", lang=lang)
        write_sankey(plan, work / "sankey.html", lang=lang)
        write_report(plan, work / "report.html", scenario, lang=lang)
        write_report(plan, work / "report.md", scenario, lang=lang, sankey_href="sankey.svg")
    return folder


def _t(x: float) -> str:
    return f"{x:,.0f}"


def format_plan(plan: Plan, *, lang: str = "en", all_flows: bool = False) -> str:
    """Render a plan as a readable text report.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh`` for the bottleneck explanations.
        all_flows: list every flow instead of the 25 largest.

    Returns:
        The report text.
    """
    k = plan.kpis
    met = k.target_rate_value + 1e-9 >= plan.target
    lines = [
        f"flowopt plan: {plan.scenario_id}",
        "=" * 72,
        f"Target: {plan.target:.1%} ({plan.rate_mode})  ->  reached {k.target_rate_value:.2%}  [{'met' if met else 'NOT met'}]",
        f"Utilization rate (official, U/(G+U_prior)) 综合利用率: {k.utilization_rate:.2%}",
        f"Total cost 总成本: {plan.objective_cny:,.0f} CNY/yr   (audit: {'passed' if plan.audit.passed else 'FAILED'})",
        "",
        "Tonnes per year 年吨数:",
        f"  generated 产生量 G        {_t(k.generated_t):>14}",
        f"  reclaimed from stock 回采 {_t(k.reclaimed_t):>14}",
        f"  utilized 综合利用量 U     {_t(k.utilized_t):>14}  (prior-year stock 往年贮存 {_t(k.utilized_prior_t)})",
        f"  disposed 处置量 D         {_t(k.disposed_t):>14}",
        f"  stored 贮存量 S           {_t(k.stored_t):>14}",
        f"  unmanaged 未妥善处置      {_t(k.unmanaged_t):>14}",
        "",
        "Cost terms (CNY/yr):",
    ]
    for name, value in plan.cost_terms.items():
        sign = "-" if name == "revenue_cny" else "+"
        lines.append(f"  {sign} {name:<24}{value:>18,.0f}")
    flows = pd.DataFrame([f.model_dump() for f in plan.flows])
    if not flows.empty:
        flows = flows.sort_values(["tonnes", "stream"], ascending=[False, True])
        shown = flows if all_flows else flows.head(25)
        lines += ["", f"Flows ({len(shown)} of {len(flows)}, largest first; --all-flows for all):"]
        view = shown[["stream", "source", "destination", "kind", "tonnes", "cost_cny"]].copy()
        view["tonnes"] = view["tonnes"].map(_t)
        view["cost_cny"] = view["cost_cny"].map(_t)
        lines.append(view.to_string(index=False))
    loads = [o for o in plan.outlet_loads if o.capacity_t]
    if loads:
        lines += ["", "Outlet loads:"]
        lv = pd.DataFrame([{"outlet": o.outlet, "name": o.name_zh or o.name_en, "intake_t": _t(o.intake_t), "capacity_t": _t(o.capacity_t or 0), "load": f"{(o.load_share or 0):.0%}"} for o in loads])
        lines.append(lv.to_string(index=False))
    lines += ["", "Rates by waste category 分类综合利用率:"]
    for r in plan.rates_by_category:
        lines.append(f"  {r.group:<18} {('n/a' if r.rate is None else f'{r.rate:.1%}'):>7}   generated {_t(r.generated_t)} t, utilized {_t(r.utilized_t)} t")
    lines += ["", f"Bottlenecks 瓶颈 ({len(plan.bottlenecks)} binding constraints, most valuable first):"]
    for i, b in enumerate(plan.bottlenecks, 1):
        lines.append(f"  {i:>2}. [{b.kind}] {b.explanation_zh if lang == 'zh' else b.explanation}")
    if plan.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in plan.warnings]
    return "\n".join(lines)


def _money(x: float | None) -> str:
    return "unbounded" if x is None else f"{x:,.0f}"


def format_explanation(plan: Plan, *, lang: str = "en") -> str:
    """Render the explanation of a plan: target price, headroom, cards and why-not entries.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    zh = lang == "zh"
    k = plan.kpis
    lines = [f"flowopt explain: {plan.scenario_id}", "=" * 72]
    lines.append(f"{'目标' if zh else 'Target'} {plan.target:.1%} ({plan.rate_mode}); {'达到' if zh else 'reached'} {k.target_rate_value:.2%}; {'总成本' if zh else 'total cost'} {plan.objective_cny:,.0f} CNY/yr")
    if plan.max_utilization_rate is not None:
        lines.append(("不计成本时最高可达 " if zh else "Highest reachable rate (cost ignored): ") + f"{plan.max_utilization_rate:.2%}")
    tm = plan.target_marginal_cost
    if tm is not None:
        lines.append(tm.explanation_zh if zh else tm.explanation)
    lines += ["", f"{'瓶颈' if zh else 'Bottlenecks'} ({len(plan.bottlenecks)}, {'按涉及金额排序' if zh else 'ranked by money at stake'}):"]
    for i, b in enumerate(plan.bottlenecks, 1):
        stake = f"{'涉及' if zh else 'at stake'} {_money(b.cny_at_stake)} CNY/yr"
        lines.append(f"  {i:>2}. {b.explanation_zh if zh else b.explanation} [{stake}]")
    lines += ["", f"{'未用足的项目' if zh else 'Why not? Projects unused or below capacity'} ({len(plan.why_not)}):"]
    for w in plan.why_not:
        lines.append(f"   - {w.explanation_zh if zh else w.explanation}")
    return "\n".join(lines)


def format_diagnosis(diag: Any, *, lang: str = "en") -> str:
    """Render why a target cannot be met and the cheapest fix.

    Args:
        diag: a :class:`flowopt.diagnosis.Diagnosis`.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    zh = lang == "zh"
    lines = ["目标无法实现" if zh else "Target not reachable", "=" * 72, diag.statement_zh if zh else diag.statement]
    if diag.relaxations:
        lines += ["", "最经济的调整（按模型中的放宽代价排序）：" if zh else f"Cheapest relaxation (ranked at an assumed {diag.expansion_cost_cny_per_t:,.0f} CNY per t/yr of new capacity):"]
        for r in diag.relaxations:
            where = f" [{r.where}]" if r.where else ""
            lines.append(f"   - {r.explanation_zh if zh else r.explanation}{where}")
    if diag.screens:
        lines += ["", "预检查：" if zh else "Screens (no solver needed):"]
        lines += [f"   - {f.message_zh if zh else f.message}" for f in diag.screens]
    if diag.min_cut:
        lines += ["", "最小割（限制综合利用的产能）：" if zh else "Minimum cut (the capacities that limit utilization):"]
        lines += [f"   - {f.message_zh if zh else f.message}" + (f" [{f.where}]" if f.where else "") for f in diag.min_cut]
    if diag.conflict:
        lines += ["", "相互冲突的约束（不可行子集）：" if zh else "Conflicting limits (irreducible infeasible subset):"]
        lines += [f"   - {f.message_zh if zh else f.message}" + (f" [{f.where}]" if f.where else "") for f in diag.conflict]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
