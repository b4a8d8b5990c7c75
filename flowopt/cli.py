"""Command line: ``flowopt solve | explain | compare | sweep | batch | pathway | invest | report | template | validate | convert | serve``.

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
from flowopt.progress import progress_bar, spinner

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


class _VersionAction(argparse.Action):
    """``flowopt --version``: the version, read only when asked (no import at start-up)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        from flowopt.bundled import version

        print(f"flowopt {version()}")
        parser.exit()


def _quiet_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar (it is drawn on standard error only when that is a terminal)")


def cards_arg(text: str) -> int | None:
    """Argparse type for ``--cards``: a whole number of at least 1, or ``all`` (``None``)."""
    if text.strip().lower() == "all":
        return None
    return positive_int_arg(text)


def _cards_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cards", type=cards_arg, default=20, metavar="N|all", help="bottleneck cards to show, most money at stake first (default 20; 'all' for every one)")


#: Values of ``--rate-mode`` (as ``flowopt.schema.RateMode``; spelled out so --help stays fast).
RATE_MODES = ("utilization", "utilization_plus_disposal", "disposal_only")


def _rate_mode_arg(p: argparse.ArgumentParser, both: bool = False) -> None:
    p.add_argument("--rate-mode", choices=RATE_MODES, help="which rate the target applies to: utilization (the official 综合利用率 U/(G+U_prior)), utilization_plus_disposal ((U+D)/(G+U_prior+D_prior)) or disposal_only (D/G); overrides policy.rate_mode" + (" on both sides" if both else ""))


def _solver_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", choices=["choose", "simplex", "ipm"], default="choose", help=f"HiGHS method: dual simplex, interior point (with crossover, so prices and ranges still have a basis), or choose by size (interior point above {IPM_ABOVE_COLS:,} columns; default)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowopt", description="Least-cost allocation of industrial solid waste to reuse, disposal and storage under a utilization target.")
    p.add_argument("--version", action=_VersionAction, help="print flowopt's version and exit")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve a scenario and print the plan")
    s.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled Panzhihua East park data)")
    s.add_argument("--target", type=fraction_arg, help="target rate as a fraction (e.g. 0.75); overrides policy.target_rate")
    _rate_mode_arg(s)
    s.add_argument("--json", action="store_true", help="print the plan as JSON (the dashboard contract)")
    s.add_argument("--out", type=Path, help="also write plan.json, CSV tables, plan.xlsx, the Sankey (SVG, HTML) and the report (HTML, Markdown) into this folder (other files in it are left alone; a scenario's folder is refused)")
    s.add_argument("--lang", choices=["en", "zh"], default="en", help="language of explanations in the text report and of the files written by --out")
    s.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    s.add_argument("--all-flows", action="store_true", help="list every flow in the text report (default: the largest 25)")
    s.add_argument("--by", choices=["firm", "stream", "category", "destination", "kind"], help="group the flows of the text report: by firm shows which firm sends what where (a residue stays with the firm(s) that fed its project)")
    s.add_argument("--no-explain", action="store_true", help="skip the explanation re-solves (valid ranges, why-not, the target's price range, the highest reachable rate); cards keep their shadow prices")
    _solver_arg(s)
    _cards_arg(s)
    _quiet_arg(s)
    s.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    e = sub.add_parser("explain", help="explain a plan: bottleneck cards, why-not projects, the target's price; or why the target is out of reach")
    e.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    e.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    _rate_mode_arg(e)
    e.add_argument("--json", action="store_true", help="print the explanation as JSON")
    e.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    e.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    _solver_arg(e)
    _cards_arg(e)
    _quiet_arg(e)
    e.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    r = sub.add_parser("report", help="solve a scenario and write its report (.html or .md) in Chinese or English")
    r.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    r.add_argument("--out", type=Path, required=True, help="report file: .html (self-contained) or .md (writes <name>.sankey.svg beside it)")
    r.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the report")
    r.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    _rate_mode_arg(r)
    r.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    _quiet_arg(r)
    r.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    r.set_defaults(json=False)
    t = sub.add_parser("template", help="write a blank scenario workbook (.xlsx) with a data dictionary, to fill in and solve")
    t.add_argument("output", type=Path, help="target .xlsx file")
    t.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the sheets' headers and of the data dictionary")
    cp = sub.add_parser("compare", help="compare a base scenario with a what-if (an overrides file or another scenario)")
    cp.add_argument("base", help="base scenario folder or .xlsx workbook")
    cp.add_argument("whatif", help="overrides file (.yaml/.json with 'changes') or a scenario folder/workbook")
    cp.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cp.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    cp.add_argument("--write-scenario", type=Path, metavar="DIR", help="also write the what-if scenario (overrides applied) as a folder")
    cp.add_argument("--out", type=Path, help="write comparison.json, the comparison tables (CSV) and comparison.svg/.png to this folder")
    cp.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    cp.add_argument("--target", type=fraction_arg, help="target rate as a fraction for both the base and the what-if; overrides policy.target_rate on both sides (also one the what-if sets)")
    _rate_mode_arg(cp, both=True)
    _quiet_arg(cp)
    cp.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sw = sub.add_parser("sweep", help="least cost as a function of the target, with exact breakpoints")
    sw.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    sw.add_argument("--from", dest="t_from", type=fraction_arg, default=0.5, help="first target (default 0.5)")
    sw.add_argument("--to", dest="t_to", type=fraction_arg, default=0.9, help="last target (default 0.9; capped at the highest reachable rate)")
    sw.add_argument("--step", type=positive_arg, default=0.005, help="spacing of the plotted grid (default 0.005)")
    _rate_mode_arg(sw)
    sw.add_argument("--out", type=Path, help="write curve.csv, segments.csv, curve.svg and curve.png to this folder")
    sw.add_argument("--json", action="store_true", help="print the curve as JSON")
    sw.add_argument("--lang", choices=["en", "zh"], default="en", help="language of labels")
    sw.add_argument("--co2", action="store_true", help="the cost-CO2 curve instead: least cost at the target as a function of a cap on the plan's CO2 (tCO2/yr), with exact breakpoints; --out writes co2_curve.csv, co2_segments.csv, co2_curve.svg")
    sw.add_argument("--cap-from", dest="cap_from", type=float, metavar="TCO2", help="with --co2: lowest cap in tCO2/yr (default: the least CO2 any plan meeting the target emits)")
    sw.add_argument("--cap-to", dest="cap_to", type=float, metavar="TCO2", help="with --co2: highest cap in tCO2/yr (default: the CO2 of the least-cost plan)")
    sw.add_argument("--cap-step", dest="cap_step", type=float, metavar="TCO2", help="with --co2: spacing of the plotted grid in tCO2/yr (default: 1/50 of the range)")
    sw.add_argument("--target", type=fraction_arg, help="with --co2: the target the plans must meet (default: policy.target_rate)")
    sw.add_argument("--basis", choices=["gross", "net"], help="with --co2: the CO2 total the cap limits (default: policy.co2_cap_basis)")
    sw.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit in seconds (default 60)")
    _quiet_arg(sw)
    sw.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    bt = sub.add_parser("batch", help="solve many what-ifs of one base in parallel; one comparison table")
    bt.add_argument("file", help="batch file (YAML with a 'whatifs' list, see flowopt/batch.py)")
    bt.add_argument("--base", help="base scenario (default: the batch file's 'base', else the bundled park data)")
    bt.add_argument("--workers", type=positive_int_arg, help="worker processes for the local engine (default: all cores)")
    bt.add_argument("--engine", choices=["local", "dask", "ray"], default="local", help="where to run (default local; dask and ray need those packages and a cluster)")
    bt.add_argument("--address", help="dask scheduler or ray cluster address")
    bt.add_argument("--out", type=Path, help="write the table as CSV")
    bt.add_argument("--json", action="store_true", help="print the table as JSON")
    bt.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the table and of failure messages")
    _quiet_arg(bt)
    bt.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    _add_risk_command(sub)
    v = sub.add_parser("validate", help="check a scenario's files and network without solving")
    v.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    sv = sub.add_parser("serve", help="run the HTTP API (settings from FLOWOPT_* environment variables)")
    sv.add_argument("--host", help="address to bind (default: FLOWOPT_HOST or 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default: FLOWOPT_PORT or 8000)")
    _add_pathway_command(sub)
    _add_invest_command(sub)
    x = sub.add_parser("export", help="write the linear program flowopt solves as an .mps or .lp file, with readable names")
    x.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook (default: the bundled park data)")
    x.add_argument("output", type=Path, help="target file ending in .mps or .lp")
    x.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    _rate_mode_arg(x)
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
        return _sweep_co2(args) if getattr(args, "co2", False) else _sweep(args)
    if args.command == "risk":
        return _risk(args)
    if args.command == "batch":
        return _batch(args)
    if args.command == "invest":
        return _invest(args)
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


def _unsolvable(exc: FlowoptError, as_json: bool) -> int:
    """Report a solve or audit failure (JSON or stderr) and return the exit code for it."""
    if as_json:
        _emit_json({"status": "error", "code": exc.code, "message": str(exc)})
    else:
        print(str(exc), file=sys.stderr)
    return EXIT_UNSOLVABLE


def _input_error(exc: InputError, as_json: bool) -> int:
    if as_json:
        _emit_json({"status": "invalid_input", "code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems], "problems_total": getattr(exc, "problems_total", len(exc.problems))})
    else:
        print(str(exc), file=sys.stderr)
    return EXIT_INPUT


def _sourced(diag: Any, flag: float | None, data: Path, rate_mode: str | None = None) -> Any:
    """The diagnosis with the target's entries naming where the target (and its rate) came from (flag or file)."""
    if diag is None:
        return None
    from flowopt.diagnosis import with_target_source

    # a rate given on the command line is named with the target, wherever the number came from
    rate = f"; rate: --rate-mode {rate_mode} (command line)" if rate_mode else ""
    if flag is not None:
        return with_target_source(diag, f"--target {flag:g} (command line){rate}")
    if data.suffix.lower() in (".xlsx", ".xlsm"):
        return with_target_source(diag, f"{data.name}[scenario] policy.target_rate{rate}")
    folder = data.parent if data.name == "scenario.yaml" else data
    return with_target_source(diag, f"{folder / 'scenario.yaml'} policy.target_rate{rate}")


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
    scenario = None
    try:
        with spinner(f"Solving {data.name}", quiet=args.quiet or args.json):
            scenario = load_scenario(data)
            plan = run(scenario, target_rate=args.target, rate_mode=getattr(args, "rate_mode", None), options=SolveOptions(time_limit_s=args.time_limit, solver=getattr(args, "solver", "choose")), explain=not getattr(args, "no_explain", False))
        shown = getattr(args, "cards", None)
        if shown is not None and len(plan.bottlenecks) > shown:
            # every card is computed (exactly, and cheaply); the most valuable are shown
            plan = plan.model_copy(update={"bottlenecks": plan.bottlenecks[:shown], "warnings": [*plan.warnings, f"{len(plan.bottlenecks)} bottleneck cards; the {shown} with most money at stake are shown (--cards all for every one)."]})
    except InputError as exc:
        return _input_error(exc, args.json)
    except InfeasibleError as exc:
        diag = _sourced(getattr(exc, "diagnosis", None), args.target, data, getattr(args, "rate_mode", None))
        doc = {"status": "infeasible", "code": exc.code, "scenario": str(data), "target": diag.target if diag else args.target, "message": str(exc), "diagnosis": diag.model_dump(mode="json") if diag else None}
        if args.json:
            _emit_json(doc)
        else:
            print(format_diagnosis(diag, lang=args.lang) if diag else str(exc), file=sys.stderr)
        if args.command == "report" and diag is not None:
            # the report says why the target is out of reach and what would fix it
            from flowopt.report import write_diagnosis_report

            write_diagnosis_report(diag, args.out, scenario, lang=args.lang)
            print(f"Written: {args.out} (the diagnosis: the target cannot be met)")
        return EXIT_UNSOLVABLE
    except (SolveError, AuditError) as exc:
        return _unsolvable(exc, args.json)
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
        # the grouping is passed only when asked for (Plan.flows_by gives the groups)
        print(format_plan(plan, lang=args.lang, all_flows=args.all_flows, **({"by": args.by} if getattr(args, "by", None) else {})))
        if getattr(args, "out", None):
            from flowopt.i18n import text

            print("\n" + text("cli.plan_written", args.lang, out=args.out))
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
        from flowopt.pipeline import with_policy

        scenario = with_policy(load_scenario(_data(args.data)), rate_mode=args.rate_mode)
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
    if not workbook and args.output.suffix and not args.output.is_dir():
        # `convert x.xlsx out.csv` would make a folder named out.csv: refuse a file-like name
        print(f"Cannot convert to '{str(args.output)[:200]}': it is neither a folder nor an .xlsx workbook. Give a folder name without an extension (one CSV per table and scenario.yaml go inside it) or a name ending in .xlsx.", file=sys.stderr)
        return EXIT_INPUT
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


def _with_target(scenario: Scenario, target: float | None, rate_mode: str | None = None) -> Scenario:
    """The scenario with ``policy.target_rate`` set to ``target`` and ``policy.rate_mode`` to ``rate_mode`` (``None``: unchanged)."""
    from flowopt.pipeline import with_policy

    return with_policy(scenario, target_rate=target, rate_mode=rate_mode)


def _failed_side(side: str, args: argparse.Namespace, what: str) -> str:
    """One line saying which side of a comparison failed and how (``--lang`` decides the language)."""
    zh = getattr(args, "lang", "en") == "zh"
    name = f"'{str(args.base if side == 'base' else args.whatif)[:200]}'"
    if zh:
        who = f"基准方案 {name}" if side == "base" else f"情景 {name}"
        how = {"input": "输入有误", "infeasible": "目标无法实现", "error": "无法求解"}[what]
        other = "" if side == "base" else "（基准方案已求解）" if what != "input" else "（基准方案已读入）"
        return f"比较失败：{who}{how}{other}。"
    who = f"the base {name}" if side == "base" else f"the what-if {name}"
    how = {"input": "has invalid input", "infeasible": "cannot meet its target", "error": "could not be solved"}[what]
    other = "" if side == "base" else " (the base solved)" if what != "input" else " (the base loaded)"
    return f"Comparison failed: {who} {how}{other}."


def _compare_target_source(args: argparse.Namespace, side: str, base: Scenario | None, whatif: Scenario | None) -> str:
    """Where the target of the failing side came from: ``--target``, the what-if, or the base's manifest."""
    rate = f"; rate: --rate-mode {args.rate_mode} (command line)" if getattr(args, "rate_mode", None) else ""
    if args.target is not None:
        return f"--target {args.target:g} (command line){rate}"
    base_path = Path(args.base)
    base_where = f"{base_path.name}[scenario] policy.target_rate" if base_path.suffix.lower() in (".xlsx", ".xlsm") else f"{(base_path.parent if base_path.name == 'scenario.yaml' else base_path) / 'scenario.yaml'} policy.target_rate"
    if side == "whatif" and base is not None and whatif is not None and whatif.policy.target_rate != base.policy.target_rate:
        return f"{args.whatif} (policy.target_rate){rate}"
    return base_where + rate


def _compare(args: argparse.Namespace) -> int:
    from flowopt.compare import compare_plans
    from flowopt.diagnosis import with_target_source
    from flowopt.io import load_scenario, scenario_files, write_scenario
    from flowopt.planfiles import compare_files, write_csv
    from flowopt.textreport import format_comparison, format_diagnosis
    from flowopt.whatif import WhatIfResult, WhatIfSession

    if args.out and args.write_scenario and args.out.resolve() == args.write_scenario.resolve():
        msg = f"--out and --write-scenario name the same folder '{str(args.out)[:200]}'; flowopt keeps a scenario and outputs apart."
        raise OutputError(msg, str(args.out), "give --write-scenario its own folder.")
    if args.write_scenario:
        check_output_folder(args.write_scenario, scenario_files(), what="a scenario")
    if args.out:
        check_output_folder(args.out, compare_files(), what="the comparison's files", refuse_scenario=True)
    options = SolveOptions(time_limit_s=args.time_limit)
    # which side a failure belongs to: the base, or the what-if (its file or its solve)
    side = "base"
    base = whatif = None
    try:
        base = _with_target(load_scenario(args.base), args.target, args.rate_mode)
        side = "whatif"
        whatif = _with_target(_load_whatif(base, args.whatif), args.target, args.rate_mode)
        if args.write_scenario:
            write_scenario(whatif, args.write_scenario)
        with spinner("Comparing", quiet=args.quiet or args.json):
            session = WhatIfSession(base, options)
            side = "base"
            base_plan = session.base_plan()
            side = "whatif"
            whatif_plan = session.solve(whatif)
        assert session.stats is not None
        result = WhatIfResult(base_plan, whatif_plan, compare_plans(base_plan, whatif_plan), session.stats)
    except InputError as exc:
        if args.json:
            _emit_json({"status": "invalid_input", "side": side, "code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems], "problems_total": getattr(exc, "problems_total", len(exc.problems))})
            return EXIT_INPUT
        print(_failed_side(side, args, "input"), file=sys.stderr)
        return _input_error(exc, False)
    except InfeasibleError as exc:
        diag = getattr(exc, "diagnosis", None)
        if diag is not None:
            diag = with_target_source(diag, _compare_target_source(args, side, base, whatif))
        if args.json:
            _emit_json({"status": "infeasible", "side": side, "code": exc.code, "message": str(exc), "diagnosis": diag.model_dump(mode="json") if diag else None})
        else:
            print(_failed_side(side, args, "infeasible"), file=sys.stderr)
            print(format_diagnosis(diag, lang=args.lang) if diag else str(exc), file=sys.stderr)
        return EXIT_UNSOLVABLE
    except (SolveError, AuditError) as exc:
        if args.json:
            _emit_json({"status": "error", "side": side, "code": exc.code, "message": str(exc)})
        else:
            print(_failed_side(side, args, "error"), file=sys.stderr)
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
    print(format_comparison(c, lang=args.lang, stats=result.stats))
    return EXIT_OK


def _takes(fn: Any, parameter: str) -> bool:
    """True when ``fn`` accepts the keyword ``parameter`` (a feature check, no trial call)."""
    import inspect

    return parameter in inspect.signature(fn).parameters


def _sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    from flowopt import i18n
    from flowopt.charts import cost_curve_svg
    from flowopt.io import load_scenario
    from flowopt.planfiles import SWEEP_FILES, write_csv
    from flowopt.png import cost_curve_png
    from flowopt.sweep import check_sweep, target_cost_curve
    from flowopt.textreport import format_curve

    if args.out:
        check_output_folder(args.out, SWEEP_FILES, what="the curve's files", refuse_scenario=True)
    try:
        check_sweep(args.t_from, args.t_to, args.step)  # the grid is bounded before any work
        from flowopt.pipeline import with_policy

        scenario = with_policy(load_scenario(_data(args.data)), rate_mode=args.rate_mode)
        with progress_bar("sweep", quiet=args.quiet or args.json) as bar:
            # the sweep reports progress(done, total, what) once flowopt.sweep takes it
            extra = {"progress": bar} if bar is not None and _takes(target_cost_curve, "progress") else {}
            curve = target_cost_curve(scenario, args.t_from, args.t_to, step=args.step, options=SolveOptions(time_limit_s=args.time_limit), **extra)
    except InputError as exc:
        return _input_error(exc, args.json)
    if not curve.points:
        print(i18n.text("curve.none", args.lang, lo=f"{args.t_from:.1%}", hi=f"{args.t_to:.1%}", max=f"{curve.max_rate:.2%}" if curve.max_rate is not None else "–"), file=sys.stderr)
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
            cost_curve_png(table, out.path("curve.png"), lang=args.lang, labels=labels, labels_en={sg.index: sg.label for sg in curve.segments}, current_target=scenario.policy.target_rate if args.t_from <= scenario.policy.target_rate <= args.t_to else None, max_rate=curve.max_rate)
    if args.json:
        _emit_json(curve.model_dump(mode="json"))
        return EXIT_OK
    text = format_curve(curve, lang=args.lang, t_from=args.t_from, t_to=args.t_to)
    if args.out:
        text += "\n\n" + i18n.text("curve.written", args.lang, out=args.out)
    print(text)
    return EXIT_OK


def _sweep_co2(args: argparse.Namespace) -> int:
    """``flowopt sweep --co2``: the cost-CO2 curve (flowopt.sweep.co2_cost_curve)."""
    import pandas as pd

    from flowopt import i18n
    from flowopt.charts import co2_curve_svg
    from flowopt.io import load_scenario
    from flowopt.pipeline import with_policy
    from flowopt.planfiles import write_csv
    from flowopt.schema import Co2Basis
    from flowopt.sweep import CO2_SWEEP_FILES, check_co2_sweep, co2_cost_curve
    from flowopt.textreport import format_co2_curve

    if args.out:
        check_output_folder(args.out, CO2_SWEEP_FILES, what="the curve's files", refuse_scenario=True)
    try:
        check_co2_sweep(args.cap_from, args.cap_to, args.cap_step)  # the caps are checked before any work
        scenario = with_policy(load_scenario(_data(args.data)), target_rate=args.target, rate_mode=args.rate_mode)
        if args.basis:
            scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"co2_cap_basis": Co2Basis(args.basis)})})
        with progress_bar("sweep", quiet=args.quiet or args.json) as bar:
            curve = co2_cost_curve(scenario, args.cap_from, args.cap_to, step=args.cap_step, options=SolveOptions(time_limit_s=args.time_limit), progress=bar)
    except InputError as exc:
        return _input_error(exc, args.json)
    if args.json:
        _emit_json(curve.model_dump(mode="json"))
        return EXIT_OK if curve.points else EXIT_UNSOLVABLE
    if not curve.points:
        if curve.status != "ok" or curve.least_tco2 is None:
            print(i18n.text("co2.unreachable", args.lang), file=sys.stderr)
        else:
            print(i18n.text("co2.none", args.lang, lo=f"{curve.from_cap_tco2:,.0f}", hi=f"{curve.to_cap_tco2:,.0f}", least=f"{curve.least_tco2:,.0f}"), file=sys.stderr)
        return EXIT_UNSOLVABLE
    text = format_co2_curve(curve, lang=args.lang)
    if args.out:
        segs = pd.DataFrame([s.model_dump() for s in curve.segments])
        with OutputFolder(args.out, CO2_SWEEP_FILES, what="the curve's files", refuse_scenario=True) as out:
            write_csv(curve.table(), out.path("co2_curve.csv"))
            write_csv(segs, out.path("co2_segments.csv"))
            write_text(out.path("co2_curve.svg"), co2_curve_svg(curve, lang=args.lang))
        text += "\n\n" + i18n.text("co2.written", args.lang, out=args.out)
    print(text)
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    from flowopt.batch import load_batch, row_progress, run_batch
    from flowopt.io import load_scenario
    from flowopt.planfiles import write_csv

    if args.out:
        check_output_file(args.out, "the batch table")
    try:
        items, base_path = load_batch(args.file)
        base = load_scenario(args.base or base_path or default_data_dir())
        with progress_bar("batch", quiet=args.quiet or args.json) as bar:
            table = run_batch(base, items, workers=args.workers, engine=args.engine, address=args.address, progress=row_progress(bar) if bar else None)
    except InputError as exc:
        return _input_error(exc, args.json)
    if args.out:
        write_csv(table, args.out)
    if args.json:
        _emit_json({"status": "done", "rows": json.loads(table.to_json(orient="records"))})
    else:
        from flowopt.textreport import format_batch

        print(format_batch(table, lang=getattr(args, "lang", "en")))
    return EXIT_OK if (table["status"] == "optimal").all() else EXIT_UNSOLVABLE


def _template(args: argparse.Namespace) -> int:
    from flowopt.workbook import write_template

    if args.output.suffix.lower() != ".xlsx":
        print(f"Cannot write a template to '{str(args.output)[:200]}': use an .xlsx file name.", file=sys.stderr)
        return EXIT_INPUT
    check_output_file(args.output, "the template")
    from flowopt.i18n import text

    write_template(args.output, lang=args.lang)
    print(text("cli.template_written", args.lang, out=args.output))
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    # the API (package `api`) is installed with flowopt; its server libraries come with the
    # `api` extra, which the README's install command includes
    try:
        from api.main import serve
    except ImportError as exc:
        print(f"The HTTP API is not available: {exc}. Install it with: pip install 'flowopt[api]' (from a checkout: pip install -e '.[api]').", file=sys.stderr)
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
    p.add_argument("--gap", type=gap_arg, default=1e-6, help="with candidates in the base scenario: relative MIP gap of the build plan over the years (default 0.000001)")
    _rate_mode_arg(p)
    _quiet_arg(p)
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
        if args.rate_mode:  # every year's target applies to the rate asked for
            import dataclasses

            from flowopt.pipeline import with_policy

            pathway = dataclasses.replace(pathway, base=with_policy(pathway.base, rate_mode=args.rate_mode))
        if args.out:  # fail fast: refused before the solve (OutputError: the CLI's main reports it, exit 2)
            check_pathway_output(args.out, pathway.spec.years)
        with progress_bar("pathway", quiet=args.quiet or args.json) as bar:
            result = run_pathway(pathway, SolveOptions(time_limit_s=args.time_limit), diagnose_infeasible=not args.no_diagnosis, progress=bar, gap=args.gap)
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
            from flowopt.i18n import text

            sys.stdout.write("\n" + text("cli.pathway_written", args.lang, out=args.out) + "\n")
    return 0 if result.ok else 1


def seed_arg(text: str) -> int:
    """Argparse type: a whole number of 0 or more (``--seed``)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        msg = f"{text[:60]} is not a whole number of 0 or more"
        raise argparse.ArgumentTypeError(msg)
    return value


def width_arg(text: str) -> float:
    """Argparse type: an interval width from 0 to 1 (``--tolerance``; 0 turns early stopping off)."""
    value = _number(text)
    if not (math.isfinite(value) and 0 <= value <= 1):
        msg = f"{text[:60]} is not a width from 0 to 1 (write 0.04 for ±2 points; 0 never stops early)"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_risk_command(sub: Any) -> argparse.ArgumentParser:
    """Add ``flowopt risk`` to the CLI's subparsers (``sub`` from ``add_subparsers``)."""
    # flowopt.risk's defaults, written out: importing it here would load the solver stack for
    # every `flowopt --help` (tests/test_risk.py checks they agree)
    BLOCK, DEFAULT_TOLERANCE, MAX_SAMPLES, MIN_SAMPLES = 64, 0.04, 100_000, 256
    p = sub.add_parser("risk", help="how likely the target is when the estimates in the scenario's uncertainty table move within their ranges")
    p.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook with an uncertainty table (default: the bundled park data)")
    p.add_argument("--samples", type=positive_int_arg, default=1000, help=f"most samples (default 1000, at most {MAX_SAMPLES:,}; drawn in blocks of {BLOCK})")
    p.add_argument("--seed", type=seed_arg, default=0, help="random seed; the same seed gives the same samples and results on every engine (default 0)")
    p.add_argument("--target", type=fraction_arg, help="target rate as a fraction (default: the scenario's policy.target_rate)")
    p.add_argument("--method", choices=["lhs", "sobol", "random"], default="lhs", help="sampling: Latin hypercube blocks (default), scrambled Sobol' points or independent draws")
    p.add_argument("--tolerance", type=width_arg, default=DEFAULT_TOLERANCE, help=f"stop early once the 95 %% interval of the probability is narrower than this, after at least {MIN_SAMPLES} samples (default {DEFAULT_TOLERANCE}; 0 never stops early)")
    p.add_argument("--builds", type=Path, metavar="FILE", help="a build set as a what-if file (changes that add or enlarge projects): also report the probability with those builds")
    p.add_argument("--engine", choices=["local", "dask", "ray"], default="local", help="where to solve the samples (default local; dask and ray need those packages: pip install 'flowopt[dask]' or 'flowopt[ray]')")
    p.add_argument("--address", help="address of a running Dask scheduler (tcp://host:8786) or Ray cluster (ray://host:10001); default: a local cluster of that engine")
    p.add_argument("--workers", type=positive_int_arg, help="worker processes for the local engine (default: as the work warrants; 1 solves in this process)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (with one row per sample)")
    p.add_argument("--out", type=Path, help="write risk.json, samples.csv, limits.csv, tornado.csv and the histogram and tornado (SVG, PNG) into this folder")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the text and of the pictures")
    p.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit per solve in seconds (default 60)")
    # robust builds (flowopt.robust's defaults written out, as above; tests/test_robust.py checks them)
    p.add_argument("--robust", action="store_true", help="choose the build set (from the scenario's candidates) that reaches the target in at least --confidence of --train training samples at least expected cost, and compare it on --samples fresh samples with the flowopt invest build set")
    p.add_argument("--confidence", type=fraction_arg, default=0.9, help="with --robust: share of the training samples in which the target must be met (default 0.9)")
    p.add_argument("--train", type=positive_int_arg, default=64, help="with --robust: training samples of the MILP (default 64, at most 2,000; about samples x columns of the park, bounded at 400,000)")
    p.add_argument("--gap", type=gap_arg, default=1e-4, help="with --robust: relative MIP gap (default 0.0001)")
    _quiet_arg(p)
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _robust(args: argparse.Namespace) -> int:
    """Run ``flowopt risk --robust``; return the exit code (0 a build set meets the confidence, 1 none does or the solver stopped, 2 bad input)."""
    from flowopt.errors import Problem
    from flowopt.io import load_scenario
    from flowopt.robust import ROBUST_FILES, format_robust, robust_builds, write_robust

    if args.builds:
        return _input_error(InputError("--builds and --robust do not go together.", [Problem("risk", None, "builds", "--builds and --robust do not go together: --robust compares its own build set with the flowopt invest one.", "drop one of the two.")]), args.json)
    if args.out:
        check_output_folder(args.out, list(ROBUST_FILES), what="the robust builds' files", refuse_scenario=True)
    try:
        scenario = load_scenario(_data(args.data))
        with progress_bar("risk", quiet=args.quiet or args.json) as bar:
            result = robust_builds(scenario, confidence=args.confidence, train=args.train, samples=args.samples, seed=args.seed, target=args.target, method=args.method, gap=args.gap, options=SolveOptions(time_limit_s=args.time_limit), engine=args.engine, address=args.address, workers=args.workers, progress=bar)
    except InputError as exc:
        return _input_error(exc, args.json)
    except (SolveError, AuditError) as exc:
        return _unsolvable(exc, args.json)
    if args.out:
        write_robust(result, args.out)
    code = EXIT_OK if result.status == "optimal" or (result.status == "feasible" and result.mip_gap is not None and result.mip_gap <= args.gap) else EXIT_UNSOLVABLE
    if args.json:
        _emit_json(result.model_dump(mode="json"))
        return code
    text = format_robust(result, lang=args.lang)
    if args.out:
        text += "\n\n" + ("已写出：" if args.lang == "zh" else "Written: ") + f"{args.out}/robust.json, robust_builds.csv"
    print(text)
    return code


def _risk(args: argparse.Namespace) -> int:
    """Run ``flowopt risk``; return the exit code (0 done, 2 bad input or output)."""
    from flowopt.io import load_scenario
    from flowopt.overrides import load_overrides
    from flowopt.risk import RISK_FILES, run_risk, write_risk
    from flowopt.textreport import format_risk

    if args.robust:
        return _robust(args)
    if args.out:
        check_output_folder(args.out, list(RISK_FILES), what="the risk analysis's files", refuse_scenario=True)
    try:
        scenario = load_scenario(_data(args.data))
        builds = load_overrides(args.builds)[0] if args.builds else None
        with progress_bar("risk", quiet=args.quiet or args.json) as bar:
            result = run_risk(scenario, samples=args.samples, seed=args.seed, target=args.target, method=args.method, tolerance=args.tolerance, engine=args.engine, address=args.address, workers=args.workers, options=SolveOptions(time_limit_s=args.time_limit), builds=builds, builds_label=args.builds.name if args.builds else None, progress=bar)
    except InputError as exc:
        return _input_error(exc, args.json)
    if args.out:
        write_risk(result, args.out, lang=args.lang)
    if args.json:
        _emit_json({"status": "done", **result.model_dump(mode="json")})
        return EXIT_OK
    text = format_risk(result, lang=args.lang)
    if args.out:
        from flowopt import i18n

        text += "\n\n" + i18n.text("risk.written", args.lang, out=args.out)
    print(text)
    return EXIT_OK


def money_arg(text: str) -> float:
    """Argparse type: an amount of CNY from 0 to 1e12 (``--budget``)."""
    value = _number(text)
    if not (math.isfinite(value) and 0 <= value <= 1e12):
        msg = f"{text[:60]} is not an amount of CNY from 0 to 1e12 (write 2e9 for 2 billion)"
        raise argparse.ArgumentTypeError(msg)
    return value


def gap_arg(text: str) -> float:
    """Argparse type: a relative MIP gap from 0 to below 1 (``--gap``: 0.01 for 1 %)."""
    value = _number(text)
    if not (math.isfinite(value) and 0 <= value < 1):
        msg = f"{text[:60]} is not a relative gap from 0 to below 1 (write 0.01 for 1 %)"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_invest_command(sub: Any) -> argparse.ArgumentParser:
    """Add ``flowopt invest`` to the CLI's subparsers (``sub`` from ``add_subparsers``)."""
    p = sub.add_parser("invest", help="which candidate projects to build (a MILP): the least-cost build set, sizes, the value of each decision, capital break-evens, and the plan given the builds")
    p.add_argument("data", nargs="?", help="scenario folder or .xlsx workbook with a candidates table (default: the bundled data/panzhihua_east_invest)")
    p.add_argument("--target", type=fraction_arg, help="target rate as a fraction; overrides policy.target_rate")
    p.add_argument("--budget", type=money_arg, metavar="CNY", help="total capital budget in CNY; overrides policy.capital_budget_cny")
    p.add_argument("--build", action="append", default=[], metavar="ID[=SIZE_T]", help="force a candidate to be built, at a size in t/yr if given ('what if we must build X'); repeat for several")
    p.add_argument("--skip", action="append", default=[], metavar="ID", help="force a candidate not to be built; repeat for several")
    p.add_argument("--gap", type=gap_arg, default=1e-4, help="relative MIP gap at which a solve counts as optimal (default 0.0001); a solve stopped by --time-limit with a larger gap exits 1, showing its plan")
    p.add_argument("--time-limit", type=positive_arg, default=60.0, help="solver time limit per MILP solve in seconds (default 60)")
    p.add_argument("--curve", action="store_true", help="instead of one target: the target-cost curve with the build set at each target and where it changes (--from, --to, --step)")
    p.add_argument("--from", dest="t_from", type=fraction_arg, default=0.6, help="first target of --curve (default 0.6)")
    p.add_argument("--to", dest="t_to", type=fraction_arg, help="last target of --curve (default and at most: the highest rate the candidates allow)")
    p.add_argument("--step", type=positive_arg, default=0.01, help="grid spacing of --curve (default 0.01)")
    p.add_argument("--no-explain", action="store_true", help="skip the decision values, break-evens and the plan's ranges and why-not (only the build set and the plan)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (status, builds, mip_gap, plan, decision_values, build_break_even)")
    p.add_argument("--out", type=Path, help="also write invest.json, builds.csv, decision_values.csv, break_even.csv and the plan's files into this folder (other files in it are left alone; a scenario's folder is refused)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the text and of the files written by --out")
    _quiet_arg(p)
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _invest(args: argparse.Namespace) -> int:
    """Run ``flowopt invest``; return the exit code.

    0: optimal within ``--gap``; 1: no build set meets the target, or the time limit stopped the
    solve with a larger gap (the incumbent is shown, labelled), or the solver failed; 2: input.
    """
    from flowopt.invest import (
        default_invest_dir,
        invest_files,
        investment_curve,
        solve_investment,
        write_investment,
    )
    from flowopt.textreport import format_investment, format_investment_curve

    data = Path(args.data) if args.data else default_invest_dir()
    if args.out:
        check_output_folder(args.out, invest_files(), what="the investment's files", refuse_scenario=True)
    options = SolveOptions(time_limit_s=args.time_limit)
    scenario = None
    try:
        from flowopt.io import load_scenario

        with spinner(f"Solving {data.name}", quiet=args.quiet or args.json):
            scenario = load_scenario(data)
            if args.curve:
                curve = investment_curve(scenario, args.t_from, args.t_to, step=args.step, gap=args.gap, options=options, budget_cny=args.budget, build=args.build, skip=args.skip)
            else:
                result = solve_investment(scenario, target_rate=args.target, budget_cny=args.budget, build=args.build, skip=args.skip, gap=args.gap, options=options, explain=not args.no_explain, decision_values=not args.no_explain, break_even=not args.no_explain)
    except InputError as exc:
        return _input_error(exc, args.json)
    except (SolveError, AuditError) as exc:
        return _unsolvable(exc, args.json)
    if args.curve:
        if args.json:
            _emit_json(curve.model_dump(mode="json"))
        else:
            print(format_investment_curve(curve, lang=args.lang))
        return EXIT_OK if curve.points else EXIT_UNSOLVABLE
    if args.out and result.plan is not None:
        write_investment(result, args.out, scenario=scenario, lang=args.lang)
    code = EXIT_OK if result.status == "optimal" or (result.status == "feasible" and result.within_gap) else EXIT_UNSOLVABLE
    if args.json:
        _emit_json(result.model_dump(mode="json"))
        return code
    report = format_investment(result, lang=args.lang)
    if result.status == "infeasible":
        print(report, file=sys.stderr)
        return code
    print(report)
    if args.out and result.plan is not None:
        from flowopt import i18n

        print("\n" + i18n.text("invest.written", args.lang, out=args.out))
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
