"""Command line: ``flowopt solve | explain | compare | sweep | batch | pathway | report | template | validate | convert | serve``.

Exit codes: 0 solved (or valid), 1 not solvable as asked (infeasible target, unbounded, solver
limit or failure, failed audit), 2 invalid input (files, records, command-line values, or an
output that cannot be written without losing a file), 3 unexpected internal error (a bug),
130 interrupted (Ctrl-C), 141 standard output closed early (``flowopt solve | head``: the
shell's code for a command ended by SIGPIPE; nothing is printed).

Outputs never delete anything (see :mod:`flowopt.outputs`): ``--out DIR`` adds or replaces only
flowopt's own files in DIR, refuses a folder holding a scenario and any file flowopt did not
write, and is checked before solving.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowopt.bundled import PATHWAY_FILE, default_data_dir
from flowopt.errors import (
    AuditError,
    FlowoptError,
    InfeasibleError,
    InputError,
    OutputError,
    SolveError,
)
from flowopt.options import IPM_ABOVE_COLS, SolveOptions
from flowopt.outputs import (
    OutputFolder,
    atomic_file,
    check_output_file,
    check_output_folder,
    os_error,
    write_text,
)

if TYPE_CHECKING:
    from flowopt.schema import Scenario

# The heavy stack (pandas, pydantic models, HiGHS, numpy) is imported inside the commands that
# need it, so `flowopt --help` and argument errors answer at once.
#: Names that moved to the renderer modules, still importable from here.
_MOVED = {
    "write_plan": "flowopt.planfiles",
    "plan_files": "flowopt.planfiles",
    "compare_files": "flowopt.planfiles",
    "PLAN_TABLES": "flowopt.planfiles",
    "COMPARE_TABLES": "flowopt.planfiles",
    "SWEEP_FILES": "flowopt.planfiles",
    "format_plan": "flowopt.textreport",
    "format_explanation": "flowopt.textreport",
    "format_diagnosis": "flowopt.textreport",
}


def __getattr__(name: str) -> Any:
    """Import a renderer that used to live here on first use (``flowopt.cli.write_plan``)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(name)

EXIT_OK, EXIT_UNSOLVABLE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
#: Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Standard output closed by its reader (128 + SIGPIPE), as shells report a command SIGPIPE ended.
EXIT_BROKEN_PIPE = 141


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"'{text[:60]}' is not a number"
        raise argparse.ArgumentTypeError(msg) from None


def fraction_arg(text: str) -> float:
    """Argparse type: a finite fraction from 0 to 1 (``--target``, ``--from``, ``--to``)."""
    value = _number(text)
    if not (math.isfinite(value) and 0 <= value <= 1):
        msg = f"{text[:60]} is not a fraction from 0 to 1 (write 0.7 for 70 %)"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_arg(text: str) -> float:
    """Argparse type: a finite number above 0 (``--time-limit`` in seconds, ``--step``)."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        msg = f"{text[:60]} is not a finite number above 0"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_int_arg(text: str) -> int:
    """Argparse type: a whole number of at least 1 (``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"{text[:60]} is not a whole number of at least 1"
        raise argparse.ArgumentTypeError(msg)
    return value


def _solver_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", choices=["choose", "simplex", "ipm"], default="choose", help=f"HiGHS method: dual simplex, interior point (with crossover, so prices and ranges still have a basis), or choose by size (interior point above {IPM_ABOVE_COLS:,} columns; default)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowopt", description="Least-cost allocation of industrial solid waste to reuse, disposal and storage under a utilization target.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve a scenario and print the plan")
    s.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled Panzhihua East park data)")
    s.add_argument("--target", type=fraction_arg, help="target rate as a fraction (e.g. 0.75); overrides policy.target_rate")
    s.add_argument("--json", action="store_true", help="print the plan as JSON (the dashboard contract)")
    s.add_argument("--out", type=Path, help="also write plan.json, CSV tables, plan.xlsx, the Sankey (SVG, HTML) and the report (HTML, Markdown) into this folder (other files in it are left alone; a scenario's folder is refused)")
    s.add_argument("--lang", choices=["en", "zh"], default="en", help="language of explanations in the text report and of the files written by --out")
    s.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    s.add_argument("--all-flows", action="store_true", help="list every flow in the text report (default: the largest 25)")
    s.add_argument("--no-explain", action="store_true", help="skip the explanation re-solves (valid ranges, why-not, the target's price range, the highest reachable rate); cards keep their shadow prices")
    _solver_arg(s)
    s.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    e = sub.add_parser("explain", help="explain a plan: bottleneck cards, why-not projects, the target's price; or why the target is out of reach")
    e.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    e.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    e.add_argument("--json", action="store_true", help="print the explanation as JSON")
    e.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    e.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    _solver_arg(e)
    e.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    r = sub.add_parser("report", help="solve a scenario and write its report (.html or .md) in Chinese or English")
    r.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    r.add_argument("--out", type=Path, required=True, help="report file: .html (self-contained) or .md (writes <name>.sankey.svg beside it)")
    r.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the report")
    r.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    r.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
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
    cp.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    cp.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sw = sub.add_parser("sweep", help="least cost as a function of the target, with exact breakpoints")
    sw.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    sw.add_argument("--from", dest="t_from", type=fraction_arg, default=0.5, help="first target (default 0.5)")
    sw.add_argument("--to", dest="t_to", type=fraction_arg, default=0.9, help="last target (default 0.9; capped at the highest reachable rate)")
    sw.add_argument("--step", type=positive_arg, default=0.005, help="spacing of the plotted grid (default 0.005)")
    sw.add_argument("--out", type=Path, help="write curve.csv, segments.csv, curve.svg and curve.png to this folder")
    sw.add_argument("--json", action="store_true", help="print the curve as JSON")
    sw.add_argument("--lang", choices=["en", "zh"], default="en", help="language of labels")
    sw.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    sw.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    bt = sub.add_parser("batch", help="solve many what-ifs of one base in parallel; one comparison table")
    bt.add_argument("file", help="batch file (YAML with a 'whatifs' list, see flowopt/batch.py)")
    bt.add_argument("--base", help="base scenario (default: the batch file's 'base', else the bundled park data)")
    bt.add_argument("--workers", type=positive_int_arg, help="worker processes for the local engine (default: all cores)")
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
    _add_pathway_command(sub)
    x = sub.add_parser("export", help="write the linear program flowopt solves as an .mps or .lp file, with readable names")
    x.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    x.add_argument("output", type=Path, help="target file ending in .mps or .lp")
    x.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    x.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    c = sub.add_parser("convert", help="convert a scenario between a folder of CSVs and an .xlsx workbook")
    c.add_argument("data", help="scenario folder or .xlsx workbook")
    c.add_argument("output", type=Path, help="target .xlsx file or folder")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a bad argument (2, message printed)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers, not at exit
        return code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of stdout went away (flowopt solve | head): stop quietly. Python's recipe:
        # point stdout at devnull so the flush at exit does not raise again.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # never a bare traceback for a user
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"Internal error: {type(exc).__name__}: {exc}\nThis is a bug in flowopt; rerun with --debug and report the output.", file=sys.stderr)
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return _command(args)
    except OutputError as exc:  # an output refused or not writable: the command line was wrong
        return _output_error(exc, getattr(args, "json", False))


def _command(args: argparse.Namespace) -> int:
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
        return _pathway(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "export":
        return _export(args)
    return _convert(args)


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass


def _output_error(exc: OutputError, as_json: bool) -> int:
    """Report an output that cannot be written safely (exit 2: the command line was wrong)."""
    if as_json:
        _emit_json({"status": "invalid_output", "code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems]})
    else:
        print(str(exc), file=sys.stderr)
    return EXIT_INPUT


def _data(arg: str | None) -> Path:
    return Path(arg) if arg else default_data_dir()


def _emit_json(doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _input_error(exc: InputError, as_json: bool) -> int:
    if as_json:
        _emit_json({"status": "invalid_input", "code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems], "problems_total": getattr(exc, "problems_total", len(exc.problems))})
    else:
        print(str(exc), file=sys.stderr)
    return EXIT_INPUT


def _solve(args: argparse.Namespace) -> int:
    from flowopt.io import load_scenario
    from flowopt.pipeline import run
    from flowopt.textreport import format_diagnosis, format_explanation, format_plan

    data = _data(args.data)
    if args.command == "report" and args.out.suffix.lower() not in (".html", ".htm", ".md"):
        print(f"Cannot write a report to '{str(args.out)[:200]}': use a .html or .md file name.", file=sys.stderr)
        return EXIT_INPUT
    # fail fast: an output that cannot be written is refused before the solve
    if args.command == "report":
        check_output_file(args.out, "the report")
        if args.out.suffix.lower() == ".md":
            check_output_file(args.out.with_name(args.out.stem + ".sankey.svg"), "the report's Sankey")
    elif getattr(args, "out", None):
        from flowopt.planfiles import plan_files  # only --out pays for the file writers

        check_output_folder(args.out, plan_files(), what="the plan's files", refuse_scenario=True)
    try:
        scenario = load_scenario(data)
        plan = run(scenario, target_rate=args.target, options=SolveOptions(time_limit_s=args.time_limit, solver=getattr(args, "solver", "choose")), explain=not getattr(args, "no_explain", False))
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
        from flowopt.report import write_report

        write_report(plan, args.out, scenario, lang=args.lang)
        print(f"Written: {args.out}")
        return EXIT_OK
    if getattr(args, "out", None):
        from flowopt.planfiles import write_plan

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


def _export(args: argparse.Namespace) -> int:
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph
    from flowopt.io import load_scenario
    from flowopt.solve import write_lp

    if args.output.suffix.lower() not in (".mps", ".lp"):
        print(f"Cannot export to '{str(args.output)[:200]}': use a file name ending in .mps or .lp.", file=sys.stderr)
        return EXIT_INPUT
    check_output_file(args.output, "the exported LP")
    try:
        scenario = load_scenario(_data(args.data))
        lp = assemble(build_graph(scenario), target_rate=args.target)
    except InputError as exc:
        return _input_error(exc, False)
    with atomic_file(args.output, "the exported LP") as work:
        try:
            write_lp(lp, work)
        except OSError as exc:
            raise os_error(args.output, exc) from exc
    print(f"Written: {args.output} ({lp.n_cols:,} columns, {lp.n_rows:,} rows, {lp.nnz:,} non-zeros; names as in models/README.md)")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from flowopt.graph import build_graph
    from flowopt.io import load_scenario

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
    from flowopt.io import load_scenario, scenario_files, write_scenario, write_workbook

    workbook = args.output.suffix.lower() == ".xlsx"
    if workbook:
        check_output_file(args.output, "the workbook")
    else:
        check_output_folder(args.output, scenario_files(), what="a scenario")
    try:
        scenario = load_scenario(args.data)
    except FlowoptError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    if workbook:
        write_workbook(scenario, args.output)
    else:
        write_scenario(scenario, args.output)
    print(f"Written: {args.output}")
    return EXIT_OK


def _load_whatif(base: Scenario, arg: str) -> Scenario:
    from flowopt.io import load_scenario
    from flowopt.overrides import load_whatif

    path = Path(arg)
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml", ".json") and path.name != "scenario.yaml":
        return load_whatif(path, base)
    return load_scenario(path)


def _compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from flowopt.io import load_scenario, scenario_files, write_scenario
    from flowopt.planfiles import compare_files, write_csv
    from flowopt.textreport import format_diagnosis
    from flowopt.whatif import run_whatif

    if args.out and args.write_scenario and args.out.resolve() == args.write_scenario.resolve():
        msg = f"--out and --write-scenario name the same folder '{str(args.out)[:200]}'; flowopt keeps a scenario and outputs apart."
        raise OutputError(msg, str(args.out), "give --write-scenario its own folder.")
    if args.write_scenario:
        check_output_folder(args.write_scenario, scenario_files(), what="a scenario")
    if args.out:
        check_output_folder(args.out, compare_files(), what="the comparison's files", refuse_scenario=True)
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

        tables = c.tables()
        with OutputFolder(args.out, compare_files(list(tables)), what="the comparison's files", refuse_scenario=True) as out:
            write_text(out.path("comparison.json"), json.dumps(c.model_dump(mode="json"), ensure_ascii=False, indent=2))
            for name, frame in tables.items():
                write_csv(frame, out.path(f"{name}.csv"))
            write_text(out.path("comparison.svg"), comparison_svg(result.base, result.whatif, names=(c.base_id, c.whatif_id), lang=args.lang))
            comparison_png(result.base, result.whatif, out.path("comparison.png"), names=(c.base_id, c.whatif_id), lang=args.lang)
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
    import pandas as pd

    from flowopt.charts import cost_curve_svg
    from flowopt.io import load_scenario
    from flowopt.planfiles import SWEEP_FILES, write_csv
    from flowopt.png import cost_curve_png
    from flowopt.sweep import check_sweep, target_cost_curve

    if args.out:
        check_output_folder(args.out, SWEEP_FILES, what="the curve's files", refuse_scenario=True)
    try:
        check_sweep(args.t_from, args.t_to, args.step)  # the grid is bounded before any work
        scenario = load_scenario(_data(args.data))
        curve = target_cost_curve(scenario, args.t_from, args.t_to, step=args.step, options=SolveOptions(time_limit_s=args.time_limit))
    except InputError as exc:
        return _input_error(exc, args.json)
    if not curve.points:
        print(f"No target in [{args.t_from:.1%}, {args.t_to:.1%}] is reachable: the highest reachable rate is {curve.max_rate:.2%}.", file=sys.stderr)
        return EXIT_UNSOLVABLE
    table = curve.table()
    if args.out:
        segs = pd.DataFrame([s.model_dump() for s in curve.segments])
        labels = {s.index: (s.label_zh if args.lang == "zh" else s.label) for s in curve.segments}
        plot = table.assign(segment=table["segment"].map(labels))
        svg = cost_curve_svg(plot, lang=args.lang, current_target=scenario.policy.target_rate if args.t_from <= scenario.policy.target_rate <= args.t_to else None, max_rate=curve.max_rate)
        with OutputFolder(args.out, SWEEP_FILES, what="the curve's files", refuse_scenario=True) as out:
            write_csv(table, out.path("curve.csv"))
            write_csv(segs, out.path("segments.csv"))
            write_text(out.path("curve.svg"), svg)
            cost_curve_png(table, out.path("curve.png"), lang=args.lang, labels=labels, current_target=scenario.policy.target_rate if args.t_from <= scenario.policy.target_rate <= args.t_to else None, max_rate=curve.max_rate)
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
    from flowopt.io import load_scenario
    from flowopt.planfiles import write_csv

    if args.out:
        check_output_file(args.out, "the batch table")
    try:
        items, base_path = load_batch(args.file)
        base = load_scenario(args.base or base_path or default_data_dir())
        table = run_batch(base, items, workers=args.workers, engine=args.engine, address=args.address, progress=None if args.quiet else print_progress)
    except InputError as exc:
        return _input_error(exc, args.json)
    if args.out:
        write_csv(table, args.out)
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
    from flowopt.workbook import write_template

    if args.output.suffix.lower() != ".xlsx":
        print(f"Cannot write a template to '{str(args.output)[:200]}': use an .xlsx file name.", file=sys.stderr)
        return EXIT_INPUT
    check_output_file(args.output, "the template")
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


def _add_pathway_command(sub: Any) -> argparse.ArgumentParser:
    """Add ``flowopt pathway`` to the CLI's subparsers (``sub`` from ``add_subparsers``).

    Returns:
        The new subparser.
    """
    p = sub.add_parser("pathway", help="solve a multi-year pathway (e.g. 2023–2025) as one LP: per-year plans, targets and carried stock")
    p.add_argument("data", nargs="?", help=f"pathway file, or a scenario folder holding {PATHWAY_FILE} (default: the bundled park's 2023–2025 pathway)")
    p.add_argument("--json", action="store_true", help="print the pathway result as JSON")
    p.add_argument("--out", type=Path, help="also write pathway.json, pathway.csv, stock.csv and each year's plan files into this folder (other files in it are left alone; a scenario's folder is refused)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of explanations and of the files written by --out")
    p.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    p.add_argument("--no-diagnosis", action="store_true", help="for a year that cannot meet its target, report only its highest rate (faster)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _emit_pathway(doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _pathway(args: argparse.Namespace) -> int:
    """Run ``flowopt pathway``; return the exit code (0 solved and audited, 1 not, 2 bad input).

    Raises:
        OutputError: ``--out`` is refused or cannot be written (checked before solving);
            :func:`flowopt.cli.main` reports it with exit code 2.
    """
    from flowopt.pathway import format_pathway, load_pathway, run_pathway
    from flowopt.planfiles import check_pathway_output, write_pathway

    source = Path(args.data) if args.data else default_data_dir()
    try:
        pathway = load_pathway(source)
        if args.out:  # fail fast: refused before the solve (OutputError: the CLI's main reports it, exit 2)
            check_pathway_output(args.out, pathway.spec.years)
        result = run_pathway(pathway, SolveOptions(time_limit_s=args.time_limit), diagnose_infeasible=not args.no_diagnosis)
    except InputError as exc:
        if args.json:
            _emit_pathway({"status": "invalid_input", "code": exc.code, "message": exc.message, "problems": [x.to_dict() for x in exc.problems]})
        else:
            sys.stderr.write(f"{exc}\n")
        return 2
    if args.out:
        write_pathway(result, args.out, lang=args.lang)
    if args.json:
        _emit_pathway(result.model_dump(mode="json"))
    else:
        sys.stdout.write(format_pathway(result, lang=args.lang) + "\n")
        if args.out:
            sys.stdout.write(f"\nWritten to {args.out}/: pathway.json, pathway.csv, stock.csv and one folder of plan files per year.\n")
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
