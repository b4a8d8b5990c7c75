"""Plan files: a plan (or a pathway) as the files ``--out`` writes, added beside what is there.

Stage: renderer (``Plan`` -> ``plan.json``, CSV tables, ``plan.xlsx``, Sankey SVG/HTML, reports).
Every file is replaced atomically and only flowopt's own files are ever replaced
(:mod:`flowopt.outputs`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from flowopt.fmt import round_frame
from flowopt.outputs import OutputFolder, atomic_file, check_output_folder, write_text
from flowopt.report import write_report
from flowopt.results import Plan
from flowopt.sankey import write_sankey
from flowopt.schema import Scenario
from flowopt.workbook import write_plan_workbook

#: The tables ``write_plan`` writes as CSV (the keys of :meth:`flowopt.results.Plan.tables`).
PLAN_TABLES = ("flows", "stream_fates", "outlet_loads", "rates_by_category", "rates_by_firm", "bottlenecks", "why_not", "audit", "markets", "airspace", "co2_by_project", "co2_by_firm", "firm_targets")


#: The tables ``compare --out`` writes as CSV (the keys of ``Comparison.tables``).
COMPARE_TABLES = ("kpis", "cost_terms", "flows", "bottlenecks")


#: The files ``sweep --out`` writes.
SWEEP_FILES = ("curve.csv", "segments.csv", "curve.svg", "curve.png")


def plan_files(tables: tuple[str, ...] | list[str] = PLAN_TABLES) -> list[str]:
    """Return the file names :func:`write_plan` writes for a plan with these tables."""
    return ["plan.json", *(f"{t}.csv" for t in tables), "plan.xlsx", "sankey.svg", "sankey.html", "report.html", "report.md"]


def compare_files(tables: tuple[str, ...] | list[str] = COMPARE_TABLES) -> list[str]:
    """Return the file names ``compare --out`` writes."""
    return ["comparison.json", *(f"{t}.csv" for t in tables), "comparison.svg", "comparison.png"]


#: Encoding of every CSV flowopt writes: UTF-8 with a byte-order mark, so that Excel on a
#: Chinese Windows reads the Chinese names instead of guessing GBK and garbling them.
CSV_ENCODING = "utf-8-sig"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV atomically (the old file or the new one, never half of one).

    Floats are rounded to their stored precision by column name (tonnes 0.001 t, money
    0.01 CNY, prices 0.0001 CNY/t, rates 1e-6; see :func:`flowopt.fmt.round_frame`), so a cell
    reads ``4150000.0``, not ``4150000.0000000005``; the file starts with a UTF-8 byte-order mark.
    """
    with atomic_file(path) as work:
        round_frame(frame).to_csv(work, index=False, encoding=CSV_ENCODING)


def write_plan(plan: Plan, folder: str | os.PathLike[str], *, scenario: Scenario | None = None, lang: str = "en") -> Path:
    """Write a plan's files into ``folder``, adding or replacing only flowopt's own files.

    ``plan.json``, one CSV per plan table, ``plan.xlsx``, ``sankey.svg`` (static),
    ``sankey.html`` (interactive, offline), ``report.html`` and ``report.md`` (linking
    ``sankey.svg``). Each file is replaced atomically (a reader or an interrupted run sees the
    old file or the new one). The folder may hold other files: they are left alone. Nothing is
    written when the folder holds a scenario (``scenario.yaml``) or a file of one of these names
    that flowopt did not write (see :mod:`flowopt.outputs`).

    Args:
        plan: the plan.
        folder: target folder (created if needed).
        scenario: the scenario the plan was solved from (names and sources in the report).
        lang: ``en`` or ``zh`` for the workbook, the Sankey and the report.

    Returns:
        The folder.

    Raises:
        OutputError: the folder is a file, holds a scenario or a file flowopt did not write
            under one of the names above, or cannot be written.
    """
    tables = plan.tables()
    with OutputFolder(folder, plan_files(list(tables)), what="the plan's files", refuse_scenario=True) as out:
        write_text(out.path("plan.json"), json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
        for name, frame in tables.items():
            write_csv(frame, out.path(f"{name}.csv"))
        write_plan_workbook(plan, out.path("plan.xlsx"), lang=lang)
        write_sankey(plan, out.path("sankey.svg"), lang=lang)
        write_sankey(plan, out.path("sankey.html"), lang=lang)
        write_report(plan, out.path("report.html"), scenario, lang=lang)
        write_report(plan, out.path("report.md"), scenario, lang=lang, sankey_href="sankey.svg")
    return Path(folder)


#: The files :func:`write_pathway` writes beside the per-year folders.
PATHWAY_FILES = ("pathway.json", "pathway.csv", "stock.csv")


def check_pathway_output(folder: str | os.PathLike[str], years: Any) -> None:
    """Check, before solving, that a pathway's files can go into ``folder`` (see :func:`write_pathway`).

    Raises:
        OutputError: the folder or a year's folder is refused (:mod:`flowopt.outputs`).
    """
    target = Path(folder)
    check_output_folder(target, PATHWAY_FILES, what="the pathway's files", refuse_scenario=True)
    for year in years:
        check_output_folder(target / str(year), plan_files(), what="the plan's files", refuse_scenario=True)


def write_pathway(r: Any, folder: str | os.PathLike[str], *, lang: str = "en") -> Path:
    """Write a pathway's files into ``folder``, adding or replacing only flowopt's own files.

    ``pathway.json`` (the whole result), ``pathway.csv`` (one row per year), ``stock.csv``
    (stock per pile and year) and, per solved year, a folder ``<year>/`` with that year's plan
    files as written by ``flowopt solve --out``. Each file is replaced atomically; other files
    are left alone; a folder holding a scenario or a file flowopt did not write under one of
    these names is refused (see :mod:`flowopt.outputs`).

    Args:
        r: the result.
        folder: target folder (created if needed).
        lang: ``en`` or ``zh`` for the per-year Sankey and report.

    Returns:
        The folder.

    Raises:
        OutputError: the folder or a year's folder is refused, or writing failed.
    """
    target = Path(folder)
    check_pathway_output(target, [y.year for y in r.years if y.plan is not None])
    with OutputFolder(target, PATHWAY_FILES, what="the pathway's files", refuse_scenario=True) as out:
        write_text(out.path("pathway.json"), json.dumps(r.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
        for name, frame in (("pathway.csv", r.table()), ("stock.csv", r.stock_table())):
            write_csv(frame, out.path(name))
        for y in r.years:
            if y.plan is not None:
                write_plan(y.plan, target / str(y.year), scenario=r.scenario(y.year), lang=lang)
    return target
