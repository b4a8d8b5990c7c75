"""Pathway: ``pathway.yaml`` + base ``Scenario`` -> one LP over several years -> ``PathwayResult``.

A pathway is the road from today's park to the target year: generation that grows per stream,
projects that come into operation in a given year, legacy stock that is used up across the
years, and a target per year. It is solved as **one** linear program over all years, so that
reclaiming a stockpile early is weighed against needing it later::

    load_pathway -> year_scenario (one Scenario per year)
      -> build_graph / assemble (the unchanged single-year LP, per year)
      -> stack_years: block-diagonal, plus the stock_total family -> one gateway Session
      -> one SolveOutcome per year -> extract_flows, kpis, audit_plan per year
      -> pathway checks (stock carried between years) -> PathwayResult

Conventions (also in ``models/README.md``, section "The multi-year pathway"):

* **Base.** The base scenario describes the final state: its capacities are those once every
  project is built. Its ``stock_t`` is the stock at the start of the first year.
* **Growth.** ``G_{s,y} = G_s (1 + g_s)^(y - y_b)`` with ``y_b`` the ``base_year`` (default: the
  base scenario's ``year``); years before ``y_b`` are discounted back, years after grown on.
* **Commissioning.** An outlet (project or sink) with first year ``f`` operates in years
  ``y >= f``. Before ``f`` it is absent together with its accepts, residues and quality rows,
  exactly as the projects missing from ``data/panzhihua_east_2023``.
* **Capacity ramps.** ``capacity: {R01: {2023: 3000000}}`` sets an outlet's capacity in the
  years listed; in other years of operation it has the base capacity.
* **Stock.** Each year keeps its own yearly limit ``r_{k,y} <= min(max_reclaim_t, stock_t)``;
  one linking row ``sum_y r_{k,y} <= stock_t`` per stockpile carries the stock between years.
  The stock at the start of year y is ``stock_t - sum_{y' < y} r_{k,y'}``, and each year's
  plan is audited against a scenario holding exactly that stock.
* **Targets.** A fraction, or ``max``: the highest rate the year's own network can reach
  (computed before the joint solve, rounded down to 1e-6 so the year stays feasible within
  the solver's tolerances).
* **Discounting.** Year y's cost is weighted by ``(1 + rho)^-(y - y_0)``, ``y_0`` the first
  year; the pathway objective is the present value in first-year CNY. Per-year costs and
  shadow prices are reported in that year's own (undiscounted) CNY.

* **Airspace.** A sink with ``remaining_volume_t`` V_d has one linking row
  ``sum_y I_{d,y} <= V_d``; each year is audited against the airspace the earlier years left,
  and the result reports, per sink, what is left at the end and the years of life left at the
  last year's intake.
* **Reclaimable storage.** A storage sink with ``reclaim_as: k`` adds the tonnes placed in it
  in year y to pile k's stock from y + 1 on: the pile's rows ``storage_stock[k, y]`` (reclaim
  so far − tonnes stored in earlier years <= stock at the start) replace its ``stock_total``.

Not modelled: reclaim does not give airspace back, and prices, compositions and distances are
the base's in every year.

An infeasible year is an answer, not a crash: the result names the year, its highest
reachable rate and (optionally) its diagnosis from :func:`flowopt.diagnosis.diagnose`.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)

from flowopt.audit import TOL_REL, audit_plan
from flowopt.bottlenecks import find_bottlenecks
from flowopt.bundled import PATHWAY_FILE
from flowopt.checks import check_scenario
from flowopt.diagnosis import Diagnosis, diagnose, max_reachable_rate
from flowopt.errors import GraphError, InputError, Problem
from flowopt.formulation import AssembledLP, assemble
from flowopt.formulation.assemble import stack_years
from flowopt.graph import MaterialGraph, build_graph
from flowopt.progress import ProgressCallback
from flowopt.progress import report as report_progress
from flowopt.results import (
    AuditCheck,
    Bottleneck,
    Plan,
    assemble_plan,
    extract_flows,
    kpis,
    stream_fates,
    total_cost,
)
from flowopt.schema import MAX_TONNES, Identifier, Label, Scenario, Tonnes
from flowopt.solve import Session, SolveOptions, SolveOutcome, SolveStatus
from flowopt.yamlload import key_lines, parse_json, parse_yaml

_TABLE = "pathway"
#: ``max`` targets are rounded down to this step so the year stays feasible within tolerances.
MAX_TARGET_STEP = 1e-6

Year = Annotated[int, Field(ge=1900, le=2200)]
"""A calendar year."""


def _target(value: Any) -> float | Literal["max"]:
    """Parse a target: a fraction from 0 to 1, or the word ``max`` (one error, not one per type)."""
    if isinstance(value, str) and value.strip().lower() == "max":
        return "max"
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = math.nan
    if isinstance(value, bool) or not 0 <= rate <= 1:
        msg = "a target is a fraction from 0 to 1 (0.70 = 70 %) or the word max"
        raise ValueError(msg)
    return rate


TargetSpec = Annotated[float | Literal["max"], PlainValidator(_target)]
"""A target rate (fraction) or ``max`` (the highest rate the year's network can reach)."""


# ---------------------------------------------------------------------------------------------
# Input: pathway.yaml
# ---------------------------------------------------------------------------------------------


class PathwaySpec(BaseModel):
    """The content of ``pathway.yaml``: a base scenario and what changes from year to year."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=58)] | None = None
    """Pathway id; year scenarios are named ``<id>_<year>``. Default: ``<base id>_pathway``."""
    name_zh: Label = ""
    """Chinese title."""
    name_en: Label = ""
    """English title."""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    """Free text."""
    base: Annotated[str, StringConstraints(min_length=1, max_length=500)] = "."
    """Base scenario folder or workbook, relative to the pathway file (``.``: the same folder).
    Its capacities are the final state's; its ``stock_t`` the stock at the start of the first year."""
    base_year: Year | None = None
    """Year the base scenario's generation describes; default the base scenario's ``year``."""
    years: Annotated[list[Year], Field(min_length=1, max_length=50)]
    """Every year of the pathway, consecutive and increasing (e.g. ``[2023, 2024, 2025]``)."""
    targets: dict[Year, TargetSpec]
    """Target per year: a fraction of the base's ``rate_mode`` rate, or ``max``."""
    growth: dict[Identifier, Annotated[float, Field(gt=-1, le=1, allow_inf_nan=False)]] = {}
    """Yearly growth of a stream's generation (0.03 = +3 %/yr), compounded from ``base_year``."""
    commissioning: dict[Identifier, Year] = {}
    """Outlet (project or sink) id -> first year in operation; absent before it."""
    capacity: dict[Identifier, dict[Year, Tonnes]] = {}
    """Outlet id -> {year: capacity_t} for the years listed (ramps); other years: the base's."""
    discount_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """Yearly discount rate weighting the years' costs in the objective (0: plain sum)."""
    sources: dict[str, Annotated[str, StringConstraints(max_length=1000)]] = {}
    """Where each choice comes from, keyed by a dotted path (``commissioning.R05``)."""


@dataclass(frozen=True)
class Pathway:
    """A validated pathway: its spec, its base scenario and where it was read from."""

    spec: PathwaySpec
    base: Scenario
    source: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The pathway id (``<base id>_pathway`` when the file gives none)."""
        return self.spec.id or f"{self.base.id[:50]}_pathway"

    @property
    def base_year(self) -> int:
        """The year the base scenario's generation describes."""
        year = self.spec.base_year or self.base.year
        assert year is not None  # checked by validate_pathway
        return year

    def first_year(self, outlet: str) -> int | None:
        """Return the first year ``outlet`` operates, or ``None`` when it always does."""
        return self.spec.commissioning.get(outlet)

    def operates(self, outlet: str, year: int) -> bool:
        """Return True when ``outlet`` is in operation in ``year``."""
        first = self.first_year(outlet)
        return first is None or first <= year

    def weight(self, year: int) -> float:
        """Return the discount weight of ``year`` (1 for the first year)."""
        return float((1 + self.spec.discount_rate) ** -(year - self.spec.years[0]))


def _yaml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every key path of a YAML document to its 1-based line (for located errors).

    Bounded like every YAML read (:func:`flowopt.yamlload.key_lines`): an alias bomb or a deep
    document gives no lines rather than a hang.
    """
    return key_lines(text)


class _Locator:
    """Builds located ``Problem``s for a pathway document."""

    def __init__(self, source: str | None, lines: Mapping[tuple[str, ...], int]) -> None:
        self.source = source
        self.lines = lines

    def problem(self, path: tuple[Any, ...], message: str, hint: str, severity: Literal["error", "warning"] = "error") -> Problem:
        """Return a problem at ``path`` (keys of the document), with the line when known."""
        parts = tuple(str(p) for p in path if str(p) != "[key]")
        line = None
        for n in range(len(parts), 0, -1):  # the deepest part of the path the file has
            line = self.lines.get(parts[:n])
            if line is not None:
                break
        return Problem(_TABLE, line, ".".join(parts) or None, message, hint, self.source, severity)


_HINTS = {
    "extra_forbidden": "remove the key or check its spelling (keys: " + ", ".join(PathwaySpec.model_fields) + ").",
    "missing": "add it; it is required.",
    "value_error": "write a fraction such as 0.70, or max.",
}


def parse_pathway(data: Any, base: Scenario, source: str | None = None, text: str | None = None) -> Pathway:
    """Validate a pathway document (a mapping) against its base scenario.

    Args:
        data: the parsed YAML or JSON document.
        base: the base scenario.
        source: file name for error locations.
        text: the document's text, to locate problems by line.

    Returns:
        The validated pathway.

    Raises:
        InputError: every problem found, located by file, line and key path.
    """
    loc = _Locator(source, _yaml_lines(text) if text else {})
    if not isinstance(data, dict):
        msg = "A pathway file must be a mapping with at least 'years' and 'targets'."
        raise InputError(msg, [loc.problem((), msg, "see data/panzhihua_east/pathway.yaml for an example.")])
    try:
        spec = PathwaySpec.model_validate(data)
    except ValidationError as exc:
        problems = [loc.problem(tuple(e["loc"]), f"{e['msg'].removeprefix('Value error, ')} (got {_short(e.get('input'))}).", _HINTS.get(e["type"], "correct the value.")) for e in exc.errors(include_url=False)]
        msg = f"The pathway is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems) from exc
    pathway = Pathway(spec, base, source)
    problems = validate_pathway(pathway, loc)
    errors = [x for x in problems if x.severity == "error"]
    if errors:
        msg = f"The pathway is invalid: {len(errors)} problem(s) found."
        raise InputError(msg, problems)
    return Pathway(spec, base, source, tuple(str(x) for x in problems))


def _suggest(value: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_pathway(p: Pathway, loc: _Locator | None = None) -> list[Problem]:
    """Check a pathway against its base: years, targets, ids, ramps and magnitudes.

    Args:
        p: the pathway.
        loc: where to locate problems (default: no file).

    Returns:
        Every problem found (empty when the pathway is consistent).
    """
    loc = loc or _Locator(p.source, {})
    s, spec = p.base, p.spec
    out: list[Problem] = []
    years = spec.years
    if any(b != a + 1 for a, b in itertools.pairwise(years)):
        out.append(loc.problem(("years",), f"years {years} are not consecutive and increasing.", "list every year from the first to the last once, e.g. [2023, 2024, 2025]; stock is carried from each year to the next."))
    for y in years:
        if y not in spec.targets:
            out.append(loc.problem(("targets",), f"no target for {y}.", f"add '{y}: <fraction or max>' under targets."))
    for y in sorted(spec.targets):
        if y not in years:
            out.append(loc.problem(("targets", y), f"a target for {y}, which is not in years {years}.", "remove it or add the year to years."))
    if spec.base_year is None and s.year is None:
        out.append(loc.problem(("base_year",), f"the base scenario '{s.id}' has no year, so growth has no reference year.", "set base_year (the year the base's generation describes) or year in the base's scenario.yaml."))
    streams = {x.id: x for x in s.streams}
    for sid, g in sorted(spec.growth.items()):
        if sid not in streams:
            out.append(loc.problem(("growth", sid), f"unknown stream id '{sid}'.{_suggest(sid, streams)}", "use an id from the base's streams."))
        elif streams[sid].generation_t <= 0 and g != 0:
            out.append(loc.problem(("growth", sid), f"stream '{sid}' has no generation in the base (residue-only or legacy), so growth changes nothing.", "remove the line, or grow the stream that generates the tonnes."))
        elif (spec.base_year or s.year) is not None:
            extreme = max(abs(y - (spec.base_year or s.year or y)) for y in years)
            peak = streams[sid].generation_t * max((1 + g) ** extreme, (1 + g) ** -extreme)
            if peak > MAX_TONNES:
                out.append(loc.problem(("growth", sid), f"growth {g:g} takes '{sid}' to {peak:.3g} t/yr, above the {MAX_TONNES:g} t limit.", "check the growth rate (0.03 means +3 %/yr)."))
    outlets: dict[str, Any] = {**{x.id: x for x in s.projects}, **{x.id: x for x in s.sinks}}
    for oid, first in sorted(spec.commissioning.items()):
        if oid not in outlets:
            out.append(loc.problem(("commissioning", oid), f"unknown project or sink id '{oid}'.{_suggest(oid, outlets)}", "use an id from the base's projects or sinks."))
        elif first > years[-1]:
            # allowed (a project that slips beyond the horizon), but worth saying
            out.append(loc.problem(("commissioning", oid), f"'{oid}' starts in {first}, after the last year {years[-1]}: it is absent from the whole pathway.", "", "warning"))
    for oid, ramp in sorted(spec.capacity.items()):
        if oid not in outlets:
            out.append(loc.problem(("capacity", oid), f"unknown project or sink id '{oid}'.{_suggest(oid, outlets)}", "use an id from the base's projects or sinks."))
            continue
        for y, cap in sorted(ramp.items()):
            if y not in years:
                out.append(loc.problem(("capacity", oid, y), f"{y} is not a year of the pathway {years}.", "give capacities only for years in years."))
            elif not p.operates(oid, y):
                out.append(loc.problem(("capacity", oid, y), f"'{oid}' is not in operation in {y} (commissioning {p.first_year(oid)}), so it has no capacity that year.", "remove the entry or move the commissioning year."))
            elif cap < getattr(outlets[oid], "min_intake_t", 0.0):
                out.append(loc.problem(("capacity", oid, y), f"capacity {cap:g} t in {y} is below the minimum intake {outlets[oid].min_intake_t:g} t of '{oid}'.", "raise the capacity or lower min_intake_t in the base."))
    return out


def load_pathway(path: str | os.PathLike[str]) -> Pathway:
    """Load a pathway file (YAML or JSON) and its base scenario.

    Args:
        path: the pathway file, or a folder holding ``pathway.yaml``.

    Returns:
        The validated pathway.

    Raises:
        InputError: unreadable file, invalid content or base; every problem located.
    """
    from flowopt.io import load_scenario  # local: io is heavy and only loaders need it

    p = Path(path)
    if p.is_dir():
        p = p / PATHWAY_FILE
    if not p.is_file():
        msg = f"No pathway file at '{p}'."
        raise InputError(msg, [Problem(_TABLE, None, None, msg, "give a pathway.yaml, or a scenario folder that holds one.", str(p))])
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"'{p.name}' is not UTF-8 text."
        raise InputError(msg, [Problem(_TABLE, None, None, msg, "save it as UTF-8.", str(p))]) from exc
    # bounded parsers: duplicate keys, alias bombs, deep nesting and huge integers are input errors
    parse = parse_json if p.suffix.lower() == ".json" else parse_yaml
    data = parse(text, source=str(p), table=_TABLE)
    base_ref = data.get("base", ".") if isinstance(data, dict) else "."
    if not isinstance(base_ref, str):
        msg = "'base' must be a folder or workbook path."
        raise InputError(msg, [_Locator(str(p), _yaml_lines(text)).problem(("base",), msg, "write e.g. 'base: .' for the folder of this file.")])
    base_path = (p.parent / base_ref).resolve()
    try:
        base = load_scenario(base_path)
    except InputError as exc:
        msg = f"The base scenario '{base_ref}' of {p.name} could not be loaded: {exc.message}"
        raise InputError(msg, exc.problems) from exc
    return parse_pathway(data, base, str(p), text)


# ---------------------------------------------------------------------------------------------
# One scenario per year
# ---------------------------------------------------------------------------------------------


def year_scenario(p: Pathway, year: int, *, target: float | None = None, stock: Mapping[str, float] | None = None, airspace: Mapping[str, float] | None = None) -> Scenario:
    """Return the base scenario as it stands in ``year``.

    Args:
        p: the pathway.
        year: a year of the pathway.
        target: the year's target rate (default: the pathway's target, or the base's when
            the target is ``max``).
        stock: tonnes held per stockpile at the start of the year (default: the base's).
        airspace: airspace left per sink at the start of the year, t (default: the base's
            ``remaining_volume_t``).

    Returns:
        A scenario with grown generation, only the outlets in operation (with their ramped
        capacities), the given stock and the target. Rows keep their file locations, so
        diagnoses still name ``projects.csv row 6``.
    """
    s, spec = p.base, p.spec
    shift = year - p.base_year
    locs = s._locations
    new_locs: dict[str, list[tuple[str, int]]] = {}

    def keep(table: str, records: tuple[Any, ...], ok: Any, change: Any = None) -> tuple[Any, ...]:
        rows, where = [], []
        for i, r in enumerate(records):
            if ok(r):
                rows.append(change(r) if change else r)
                if table in locs and i < len(locs[table]):
                    where.append(locs[table][i])
        if table in locs:
            new_locs[table] = where
        return tuple(rows)

    def grown(st: Any) -> Any:
        g = spec.growth.get(st.id, 0.0)
        return st.model_copy(update={"generation_t": st.generation_t * (1 + g) ** shift}) if g else st

    def ramped(o: Any) -> Any:
        cap = spec.capacity.get(o.id, {}).get(year)
        out = o.model_copy(update={"capacity_t": float(cap)}) if cap is not None else o
        if airspace is not None and o.id in airspace and getattr(o, "remaining_volume_t", None) is not None:
            out = out.model_copy(update={"remaining_volume_t": max(0.0, float(airspace[o.id]))})
        return out

    def stocked(k: Any) -> Any:
        if stock is None or k.id not in stock:
            return k
        return k.model_copy(update={"stock_t": max(0.0, float(stock[k.id]))})

    absent = {o.id for o in (*s.projects, *s.sinks) if not p.operates(o.id, year)}
    spec_target = spec.targets.get(year)
    rate = target if target is not None else (spec_target if isinstance(spec_target, float) else s.policy.target_rate)
    update: dict[str, Any] = {
        "id": f"{p.id}_{year}",
        "year": year,
        "name_zh": f"{p.spec.name_zh or s.name_zh}（{year}）"[:200],
        "name_en": f"{p.spec.name_en or s.name_en} ({year})"[:200],
        "policy": s.policy.model_copy(update={"target_rate": float(rate)}),
        "streams": keep("streams", s.streams, lambda _: True, grown),
        "stockpiles": keep("stockpiles", s.stockpiles, lambda _: True, stocked),
        "projects": keep("projects", s.projects, lambda r: r.id not in absent, ramped),
        "sinks": keep("sinks", s.sinks, lambda r: r.id not in absent, ramped),
        "accepts": keep("accepts", s.accepts, lambda r: r.outlet not in absent),
        "residues": keep("residues", s.residues, lambda r: r.project not in absent),
        "quality": keep("quality", s.quality, lambda r: r.project not in absent),
        # a candidate can be built only in a year its project operates (flowopt.pathway_builds)
        "candidates": keep("candidates", s.candidates, lambda r: r.project not in absent),
    }
    out = s.model_copy(update=update)
    out._locations = {**locs, **new_locs}
    return out


def _year_problems(s: Scenario, year: int) -> list[Problem]:
    """Cross-record problems of a year's scenario, located in the base's files."""
    out = []
    for prob in check_scenario(s):
        if prob.severity != "error":
            continue
        locs = s._locations.get(prob.table, [])
        row, file = prob.row, prob.file
        if row is not None and 1 <= row <= len(locs):
            file, row = locs[row - 1]
        out.append(Problem(prob.table, row, prob.column, f"in {year} (outlets not yet in operation removed): {prob.message}", prob.hint, file))
    return out


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StockYear(_Out):
    """One stockpile in one year: stock at the start, reclaim during the year, stock at the end (t)."""

    stockpile: str
    year: int
    stock_start_t: float
    reclaim_t: float
    stock_end_t: float
    added_t: float = 0.0
    """Tonnes placed this year in the storage sinks that feed the pile (``sinks.reclaim_as``),
    reclaimable from the next year: stock_end_t = stock_start_t − reclaim_t + added_t."""


class AirspaceYear(_Out):
    """One sink with a remaining volume in one year: airspace at the start, intake, at the end (t)."""

    sink: str
    year: int
    remaining_start_t: float
    intake_t: float
    remaining_end_t: float


class YearResult(_Out):
    """One year of a pathway."""

    year: int
    status: Literal["optimal", "infeasible", "feasible_alone", "not_solved"]
    """``optimal`` (part of the optimal pathway), ``infeasible`` (this year cannot meet its
    target even with all the stock), ``feasible_alone`` (fine on its own; another year or the
    shared stock made the pathway infeasible) or ``not_solved``."""
    target_spec: float | Literal["max"]
    """The target as written in the pathway file."""
    target: float
    """The target applied (``max`` resolved to a number)."""
    rate_mode: str
    utilization_rate: float | None = None
    """Official rate U / (G + U_prior) of the year's plan."""
    target_rate_value: float | None = None
    """The rate the target applies to (by ``rate_mode``)."""
    met: bool | None = None
    max_rate: float | None = None
    """Highest rate the year's network reaches (cost ignored) with the stock left at its start."""
    objective_cny: float | None = None
    """The year's cost in its own CNY (undiscounted)."""
    weight: float
    """Discount weight of the year in the pathway objective."""
    generation_t: float
    reclaim_t: dict[str, float] = {}
    stock: list[StockYear] = []
    airspace: list[AirspaceYear] = []
    """Sinks with a remaining volume: airspace at the start of the year, intake, at the end."""
    in_operation: list[str]
    """Projects and sinks in operation this year."""
    starting: list[str]
    """Outlets whose first year of operation is this year (after the pathway's first year)."""
    capacity_t: dict[str, float] = {}
    """Capacities set by the pathway's ramps for this year."""
    bottlenecks: list[Bottleneck] = []
    """Binding limits with their shadow prices in the year's CNY, the target first, then by
    shadow price (no valid ranges: they need one basis per year, and the years share one)."""
    audit_passed: bool | None = None
    plan: Plan | None = None
    diagnosis: Diagnosis | None = None
    statement: str = ""
    statement_zh: str = ""


class PathwayBuild(_Out):
    """One candidate of a pathway with builds (:mod:`flowopt.pathway_builds`): built in which year, how big."""

    id: str
    project: str
    name_zh: str = ""
    name_en: str = ""
    built: bool
    year: int | None
    """Year it comes into operation (``None``: not built)."""
    size_t: float
    """Capacity added, t/yr."""
    capital_cny: float
    annualized_cny: float
    """Its annualized capital (CRF over its lifetime) plus fixed operating cost, CNY per operating year."""
    years_in_operation: int
    """Years of the pathway it operates in (from its year on)."""
    capital_pv_cny: float
    """``annualized_cny`` over those years, discounted like the years' costs (in the objective), CNY."""
    earliest_year: int | None = None
    source: str = ""


class PathwayResult(_Out):
    """A solved (or diagnosed) pathway: the JSON contract of ``flowopt pathway --json``."""

    pathway_id: str
    base_scenario_id: str
    status: Literal["optimal", "infeasible", "audit_failed", "error"]
    message: str
    rate_mode: str
    discount_rate: float
    objective_cny: float | None = None
    """Present value of the pathway's costs in first-year CNY (the LP objective)."""
    total_cost_cny: float | None = None
    """Plain sum of the years' costs."""
    years: list[YearResult]
    stock_value_cny_per_t: dict[str, float] = {}
    """Shadow price of each stockpile's total stock (present-value CNY per extra tonne held);
    above 0 when the stock runs out within the pathway."""
    airspace_value_cny_per_t: dict[str, float] = {}
    """Shadow price of each sink's airspace at the start (present-value CNY per extra tonne of
    airspace); above 0 when the sink fills within the pathway."""
    airspace_left_t: dict[str, float] = {}
    """Airspace left per sink at the end of the last year (t)."""
    airspace_years_left: dict[str, float | None] = {}
    """Years of life left per sink at the end: airspace left / the last year's intake (``None``:
    the sink took nothing in the last year)."""
    checks: list[AuditCheck] = []
    """Pathway-level checks: yearly audits, stock totals, stock carried between years, objective."""
    audit_passed: bool = False
    solver: dict[str, Any] = {}
    warnings: list[str] = []
    builds: list[PathwayBuild] = []
    """With candidates in the base: every candidate, built (and in which year) or not."""
    capital_cny_pv: float | None = None
    """With builds: the present value of their annualized capital and fixed cost over the
    operating years, included in ``objective_cny`` (the years' own costs are operating costs)."""
    mip_gap: float | None = None
    """With builds: relative gap of the build plan's MILP (0 when proven optimal)."""
    builds_statement: str = ""
    builds_statement_zh: str = ""

    _scenarios: dict[int, Scenario] = PrivateAttr(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every year is optimal and every audit passed."""
        return self.status == "optimal" and self.audit_passed

    def scenario(self, year: int) -> Scenario | None:
        """Return the scenario a year's plan was audited against (with its carried stock)."""
        return self._scenarios.get(year)

    def table(self) -> pd.DataFrame:
        """Return one row per year: target, rate, cost, reclaim, audit, what came into operation."""
        rows = []
        for y in self.years:
            k = y.plan.kpis if y.plan else None
            rows.append({
                "year": y.year,
                "status": y.status,
                "target_spec": y.target_spec,
                "target": y.target,
                "rate": y.target_rate_value,
                "utilization_rate": y.utilization_rate,
                "met": y.met,
                "max_rate": y.max_rate,
                "cost_cny": y.objective_cny,
                "discounted_cost_cny": None if y.objective_cny is None else y.objective_cny * y.weight,
                "generated_t": y.generation_t,
                "reclaimed_t": sum(y.reclaim_t.values()) if y.reclaim_t else None,
                "utilized_t": k.utilized_t if k else None,
                "utilized_prior_t": k.utilized_prior_t if k else None,
                "disposed_t": k.disposed_t if k else None,
                "stored_t": k.stored_t if k else None,
                "unmanaged_t": k.unmanaged_t if k else None,
                "audit_passed": y.audit_passed,
                "starting": " ".join(y.starting),
                "bottlenecks": "; ".join(f"{b.kind}:{b.subject}" for b in y.bottlenecks[:5]),
            })
        return pd.DataFrame(rows)

    def stock_table(self) -> pd.DataFrame:
        """Return one row per stockpile and year: stock at the start, reclaim, stock at the end."""
        return pd.DataFrame([s.model_dump() for y in self.years for s in y.stock])

    def airspace_table(self) -> pd.DataFrame:
        """Return one row per sink with a remaining volume and year: airspace at the start, intake, at the end."""
        return pd.DataFrame([a.model_dump() for y in self.years for a in y.airspace])


# ---------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------


@dataclass
class _Year:
    """One year's pieces while the pathway is assembled."""

    year: int
    scenario: Scenario
    graph: MaterialGraph
    target: float
    weight: float
    lp: AssembledLP | None = None


def _split(y: _Year, joint: SolveOutcome) -> SolveOutcome:
    """Cut the year's part out of the joint solution, in the year's own CNY.

    Row duals and reduced costs of the joint LP are in present-value CNY; dividing by the
    year's weight gives them in the year's CNY, the unit every single-year tool expects.
    """
    lp = y.lp
    assert lp is not None
    first = joint.lp.cols[f"{y.year}/flow_t"].start
    row0 = joint.lp.rows[f"{y.year}/lot_balance"].start
    cols = slice(first, first + lp.n_cols)
    rows = slice(row0, row0 + lp.n_rows)
    x = joint.x[cols]
    objective = float(lp.col_cost @ x + lp.offset)
    return SolveOutcome(SolveStatus.optimal, joint.message, lp, objective=objective, runtime_s=joint.runtime_s, x=x, col_dual=joint.col_dual[cols] / y.weight, row_dual=joint.row_dual[rows] / y.weight)


def _floor(rate: float) -> float:
    steps = round(1 / MAX_TARGET_STEP)
    return math.floor(rate * steps) / steps


def _graph(s: Scenario, year: int) -> MaterialGraph:
    problems = _year_problems(s, year)
    if problems:
        msg = f"The pathway's {year} network is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    try:
        return build_graph(s)
    except GraphError as exc:
        msg = f"The pathway's {year} network is not usable (outlets not yet in operation removed): {exc.message}"
        raise GraphError(msg, exc.problems) from exc


def solve_pathway(p: Pathway, options: SolveOptions | None = None, *, diagnose_infeasible: bool = True, progress: ProgressCallback | None = None, gap: float | None = None) -> PathwayResult:
    """Solve a pathway as one LP over its years and return per-year plans and checks.

    Args:
        p: the validated pathway.
        options: solver settings.
        diagnose_infeasible: for a year that cannot meet its target, run the full diagnosis
            (relaxations, min cut, conflict); ``False`` reports only its highest rate.
        progress: called as ``progress(done, total, what)`` after each step: each year's
            network, the joint solve, then each year's plan (or, when infeasible, each year's
            own check); a callback that raises is dropped (see :mod:`flowopt.progress`).
        gap: with candidates in the base, the relative MIP gap of the build plan (default
            :data:`flowopt.pathway_builds.DEFAULT_GAP`).

    Returns:
        The result; ``status`` is ``optimal``, ``infeasible`` (with the years at fault),
        ``audit_failed`` or ``error``. It never raises for an infeasible target. With candidates
        in the base, the builds are chosen first (a MILP over the years, :mod:`flowopt.pathway_builds`)
        and the years' plans are given those builds.

    Raises:
        InputError: the pathway is invalid, or a year's network is (e.g. a stream loses its
            last outlet when the outlets not yet in operation are removed).
    """
    errors = [x for x in validate_pathway(p) if x.severity == "error"]
    if p.base.candidates:
        from flowopt.pathway_builds import build_problems

        errors += build_problems(p)
    if errors:  # a Pathway built by hand, not by parse_pathway
        msg = f"The pathway is invalid: {len(errors)} problem(s) found."
        raise InputError(msg, errors)
    options = options or SolveOptions()
    start = time.perf_counter()
    stock0 = {k.id: k.stock_t for k in p.base.stockpiles}
    years: list[_Year] = []
    steps = _Steps(progress, 2 * len(p.spec.years) + 1)
    for year in p.spec.years:
        spec_target = p.spec.targets[year]
        s = year_scenario(p, year)
        g = _graph(s, year)
        target = s.policy.target_rate
        if spec_target == "max":
            best = max_reachable_rate(g, options)
            if best is None:
                return _infeasible(p, [*years, _Year(year, s, g, 0.0, p.weight(year))], options, diagnose_infeasible, start, f"{year} has no feasible plan at all, even without a target.", steps=steps)
            target = _floor(best)
            s = year_scenario(p, year, target=target)
            g = _graph(s, year)
        linked = _storage_fed(p)
        if linked:
            # a pile fed by reclaimable storage keeps its yearly limit in every year; what it holds
            # is bounded by the storage_stock rows that link the years
            s = year_scenario(p, year, target=target, stock=linked)
            g = _graph(s, year)
        years.append(_Year(year, s, g, target, p.weight(year)))
        steps.done(f"{year} network")
    builds = bool(p.base.candidates)  # candidates: a MILP over the years first (flowopt.pathway_builds)
    for y in years:
        y.lp = assemble(y.graph, investment=builds)
    joint_lp = stack_years([(y.year, y.lp, y.weight) for y in years if y.lp is not None], stock0)
    if builds:
        from flowopt.pathway_builds import solve_with_builds

        return solve_with_builds(p, [(y.year, y.lp, y.weight) for y in years if y.lp is not None], joint_lp, options, gap=gap, diagnose_infeasible=diagnose_infeasible, progress=progress)
    session = Session(joint_lp, options)
    if not session.accepted:
        return _error(p, years, "HiGHS rejected the pathway LP (check for huge or non-finite coefficients).", start)
    joint = session.solve()
    steps.done("joint solve")
    if joint.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
        return _infeasible(p, years, options, diagnose_infeasible, start, steps=steps)
    if not joint.ok:
        return _error(p, years, f"The solver ended without an optimal pathway: {joint.message}.", start)
    return _optimal(p, years, joint, options, start, steps=steps)


class _Steps:
    """Counts a pathway's steps for a ``progress(done, total, what)`` callback (may be ``None``)."""

    def __init__(self, progress: ProgressCallback | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.count = 0

    def done(self, what: str) -> None:
        self.count = min(self.count + 1, self.total)
        self.progress = report_progress(self.progress, self.count, self.total, what)


def _optimal(p: Pathway, years: list[_Year], joint: SolveOutcome, options: SolveOptions, start: float, *, steps: _Steps | None = None) -> PathwayResult:
    """Per-year plans, audits and the pathway checks of an optimal joint solution."""
    assert joint.objective is not None
    stock = {k.id: k.stock_t for k in p.base.stockpiles}
    # -dual: present-value CNY saved per extra tonne in the pile (the row is a <= limit)
    links = joint.lp.rows["stock_total"]
    value = {str(k): -float(d) for k, d in zip(links.keys, joint.duals("stock_total"), strict=True)}
    # a pile fed by storage: its stock at the start bounds every year's row
    for (k, _), d in zip(joint.lp.rows["storage_stock"].keys, joint.duals("storage_stock"), strict=True):  # type: ignore[misc]
        value[str(k)] = value.get(str(k), 0.0) - float(d)
    space = joint.lp.rows["airspace_total"]
    airspace_value = {str(k): -float(d) for k, d in zip(space.keys, joint.duals("airspace_total"), strict=True)}
    volume = {d.id: d.remaining_volume_t for d in p.base.sinks if d.remaining_volume_t is not None}
    feeds = {d.id: d.reclaim_as for d in p.base.sinks if d.reclaim_as is not None}
    added: dict[int, dict[str, float]] = {}
    placed: dict[int, dict[str, float]] = {}
    air_starts: dict[int, dict[str, float]] = {}
    results: list[YearResult] = []
    scenarios: dict[int, Scenario] = {}
    shipped: dict[int, dict[str, float]] = {}
    starts: dict[int, dict[str, float]] = {}
    warnings: list[str] = []
    for y in years:
        outcome = _split(y, joint)
        flows, reclaim = extract_flows(y.graph, outcome)
        held = dict(stock)
        starts[y.year] = held
        air_held = dict(volume)
        air_starts[y.year] = air_held
        audited = year_scenario(p, y.year, target=y.target, stock=held, airspace=air_held)
        scenarios[y.year] = audited
        for k, t in reclaim.items():
            stock[k] = stock[k] - t
        # tonnes placed in sinks this year: airspace used up, reclaimable storage from next year
        placed[y.year] = {d: sum(f.tonnes for f in flows if f.destination_kind == "sink" and f.destination == d) for d in sorted(set(volume) | set(feeds))}
        added[y.year] = defaultdict(float)
        for d, t in placed[y.year].items():
            if d in volume:
                volume[d] -= t
            if d in feeds and feeds[d] in stock:
                added[y.year][feeds[d]] += t
        for k, t in added[y.year].items():
            stock[k] += t
        # what actually left each pile, read from the flows (checked against reclaim below)
        shipped[y.year] = {k: sum(f.tonnes for f in flows if f.source_kind == "stock" and f.source == k) for k in held}
        assert outcome.objective is not None
        fates = stream_fates(audited, flows, reclaim)
        k_ = kpis(audited, fates)
        report = audit_plan(audited, flows, reclaim, outcome.objective, y.target)
        cards = find_bottlenecks(y.graph, outcome, options, ranges=False)
        if p.spec.targets[y.year] == "max":
            # at the highest reachable rate no extra point exists: the target's price means nothing
            cards = [c for c in cards if c.kind != "target"]
        best = max_reachable_rate(build_graph(audited), options)
        year_warnings = [str(w) for w in y.graph.warnings]
        if k_.unmanaged_t > 0:
            year_warnings.append(f"{k_.unmanaged_t:,.0f} t/yr are left unmanaged (taxed) in {y.year}.")
        warnings += [f"{y.year}: {w}" for w in year_warnings]
        plan = assemble_plan(
            audited,
            flows,
            reclaim,
            fates,
            k_,
            objective_cny=outcome.objective,
            target=y.target,
            bottlenecks=cards,
            audit=report,
            warnings=year_warnings,
            solver={"name": "HiGHS", "status": joint.status.value, "message": joint.message, "runtime_s": joint.runtime_s, "pathway": p.id},
            max_utilization_rate=best,
        )
        stock_rows = [StockYear(stockpile=k, year=y.year, stock_start_t=held[k], reclaim_t=reclaim.get(k, 0.0), stock_end_t=held[k] - reclaim.get(k, 0.0) + added[y.year].get(k, 0.0), added_t=added[y.year].get(k, 0.0)) for k in sorted(held)]
        air_rows = [AirspaceYear(sink=d, year=y.year, remaining_start_t=air_held[d], intake_t=placed[y.year].get(d, 0.0), remaining_end_t=air_held[d] - placed[y.year].get(d, 0.0)) for d in sorted(air_held)]
        met = k_.target_rate_value + 1e-7 >= y.target
        spec_target = p.spec.targets[y.year]
        results.append(YearResult(
            year=y.year,
            status="optimal",
            target_spec=spec_target,
            target=y.target,
            rate_mode=plan.rate_mode,
            utilization_rate=k_.utilization_rate,
            target_rate_value=k_.target_rate_value,
            met=met,
            max_rate=best,
            objective_cny=outcome.objective,
            weight=y.weight,
            generation_t=k_.generated_t,
            reclaim_t=reclaim,
            stock=stock_rows,
            airspace=air_rows,
            in_operation=sorted(o.id for o in (*audited.projects, *audited.sinks)),
            starting=_starting(p, y.year),
            capacity_t={o: float(r[y.year]) for o, r in sorted(p.spec.capacity.items()) if y.year in r},
            bottlenecks=_rank(cards),
            audit_passed=report.passed,
            plan=plan,
            statement=f"{y.year}: {k_.target_rate_value:.2%} against a target of {y.target:.2%}{' (max)' if spec_target == 'max' else ''}; cost {outcome.objective:,.0f} CNY.",
            statement_zh=f"{y.year} 年：达到 {k_.target_rate_value:.2%}，目标 {y.target:.2%}{'（最高可达）' if spec_target == 'max' else ''}；成本 {outcome.objective:,.0f} 元。",
        ))
        if steps is not None:
            steps.done(f"{y.year} plan")
    checks = pathway_checks(p, results, shipped, starts, joint.objective, added=added, placed=placed, airspace_starts=air_starts)
    passed = all(c.passed for c in checks)
    total = sum(r.objective_cny or 0.0 for r in results)
    last = placed.get(results[-1].year, {}) if results else {}
    years_left = {d: (max(v, 0.0) / last[d] if last.get(d, 0.0) > 1e-6 else None) for d, v in sorted(volume.items())}
    status: Literal["optimal", "audit_failed"] = "optimal" if passed else "audit_failed"
    message = "Every year meets its target; stock carried between years is consistent." if passed else "The pathway failed a check against the input data: " + "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.passed)
    out = PathwayResult(
        pathway_id=p.id,
        base_scenario_id=p.base.id,
        status=status,
        message=message,
        rate_mode=p.base.policy.rate_mode.value,
        discount_rate=p.spec.discount_rate,
        objective_cny=joint.objective,
        total_cost_cny=total,
        years=results,
        stock_value_cny_per_t=value,
        airspace_value_cny_per_t=airspace_value,
        airspace_left_t=dict(sorted(volume.items())),
        airspace_years_left=years_left,
        checks=checks,
        audit_passed=passed,
        solver=_solver(joint, start, years),
        warnings=[*p.warnings, *warnings],
    )
    out._scenarios = scenarios
    return out


def _storage_fed(p: Pathway) -> dict[str, float]:
    """Piles fed by reclaimable storage, with the stock the joint LP's years give them.

    That is max(stock at the start, yearly reclaim limit): the yearly row is then the pile's
    limit and its lot exists from the first year on (the ``storage_stock`` rows hold the stock).
    """
    fed = {d.reclaim_as for d in p.base.sinks if d.reclaim_as is not None}
    return {k.id: max(k.stock_t, k.max_reclaim_t) for k in p.base.stockpiles if k.id in fed}


def _starting(p: Pathway, year: int) -> list[str]:
    return sorted(o for o, first in p.spec.commissioning.items() if first == year and year > p.spec.years[0])


def _solver(joint: SolveOutcome | None, start: float, years: list[_Year]) -> dict[str, Any]:
    info: dict[str, Any] = {"name": "HiGHS", "wall_s": time.perf_counter() - start}
    if joint is not None:
        info |= {"status": joint.status.value, "message": joint.message, "runtime_s": joint.runtime_s}
    if years and all(y.lp is not None for y in years):
        info["columns"] = sum(y.lp.n_cols for y in years if y.lp is not None)
        info["rows"] = sum(y.lp.n_rows for y in years if y.lp is not None)
    return info


def pathway_checks(p: Pathway, years: list[YearResult], shipped: Mapping[int, Mapping[str, float]], starts: Mapping[int, Mapping[str, float]], objective_cny: float, *, added: Mapping[int, Mapping[str, float]] | None = None, placed: Mapping[int, Mapping[str, float]] | None = None, airspace_starts: Mapping[int, Mapping[str, float]] | None = None) -> list[AuditCheck]:
    """Check what links the years: yearly audits, stock totals, carried stock, the objective.

    Args:
        p: the pathway.
        years: the years' results (with plans).
        shipped: tonnes leaving each stockpile per year, summed from the year's flows.
        starts: stock held per stockpile at the start of each year, as audited.
        objective_cny: the joint LP's objective (present value).
        added: tonnes added to each pile at the end of each year by its reclaimable storage
            sinks (``sinks.reclaim_as``), read from the flows.
        placed: tonnes placed in each sink with airspace or reclaimable storage, per year.
        airspace_starts: airspace per sink at the start of each year, as audited.

    Returns:
        ``yearly_audits`` (every year's plan passed :func:`flowopt.audit.audit_plan` against
        its own scenario), ``stock_total`` (reclaim over all years within each pile's stock),
        ``stock_carried`` (each year starts with the stock the previous year left, and the
        first with the base's), ``stock_non_negative`` and ``objective`` (the discounted sum
        of the years' recomputed costs equals the solver's objective). With sinks that have a
        remaining volume, also ``airspace_total`` (intake over the years within the airspace at
        the start) and ``airspace_carried`` (each year starts with the airspace the previous
        one left). Stock added by reclaimable storage counts in ``stock_total`` and
        ``stock_carried`` from the year after it was placed.
    """
    added = added or {}
    placed = placed or {}
    stock0 = {k.id: k.stock_t for k in p.base.stockpiles}
    scale = max([1.0, *stock0.values(), *(y.generation_t for y in years)])
    tol_t = TOL_REL * scale
    out: list[AuditCheck] = []

    failed = [str(y.year) for y in years if not y.audit_passed]
    out.append(AuditCheck(name="yearly_audits", passed=not failed, worst_violation=float(len(failed)), detail="ok" if not failed else f"audit failed in {', '.join(failed)}"))

    def check(name: str, violations: list[tuple[float, str]], tol: float) -> AuditCheck:
        worst, where = max(violations, default=(0.0, ""))
        ok = worst <= tol
        return AuditCheck(name=name, passed=ok, worst_violation=max(worst, 0.0), detail="ok" if ok else f"worst at {where}: {worst:.6g} beyond the limit")

    total = defaultdict(float)
    inflow = defaultdict(float)  # stored in years before the last, so reclaimable within the pathway
    for i, y in enumerate(years):
        for k, t in shipped.get(y.year, {}).items():
            total[k] += t
        if i < len(years) - 1:
            for k, t in added.get(y.year, {}).items():
                inflow[k] += t
    out.append(check("stock_total", [(total[k] - stock0[k] - inflow[k], k) for k in sorted(stock0)], tol_t))
    carried: list[tuple[float, str]] = []
    held = dict(stock0)
    for y in years:
        start = starts.get(y.year, {})
        for k in sorted(stock0):
            carried.append((abs(start.get(k, math.nan) - held[k]) if k in start else math.inf, f"{k} at the start of {y.year}"))
            held[k] -= shipped.get(y.year, {}).get(k, 0.0)
            held[k] += added.get(y.year, {}).get(k, 0.0)
    out.append(check("stock_carried", carried, tol_t))
    out.append(check("stock_non_negative", [(-held[k], k) for k in sorted(held)], tol_t))
    volume0 = {d.id: d.remaining_volume_t for d in p.base.sinks if d.remaining_volume_t is not None}
    if volume0:
        used = {d: sum(placed.get(y.year, {}).get(d, 0.0) for y in years) for d in volume0}
        out.append(check("airspace_total", [(used[d] - volume0[d], d) for d in sorted(volume0)], tol_t))
        left = dict(volume0)
        moved: list[tuple[float, str]] = []
        for y in years:
            start = (airspace_starts or {}).get(y.year, {})
            for d in sorted(volume0):
                moved.append((abs(start[d] - left[d]) if d in start else math.inf, f"{d} at the start of {y.year}"))
                left[d] -= placed.get(y.year, {}).get(d, 0.0)
        out.append(check("airspace_carried", moved, tol_t))
    recomputed = 0.0
    gross = 1.0
    for y in years:
        if y.plan is not None:
            recomputed += y.weight * total_cost(y.plan.cost_terms)
            gross += y.weight * sum(abs(v) for v in y.plan.cost_terms.values())
    out.append(check("objective", [(abs(recomputed - objective_cny), "present value of the years' costs vs the solver's objective")], TOL_REL * max(gross, abs(objective_cny))))
    return out


def _infeasible(p: Pathway, years: list[_Year], options: SolveOptions, full: bool, start: float, reason: str = "", *, steps: _Steps | None = None) -> PathwayResult:
    """Find the years that cannot meet their targets on their own, with their highest rates."""
    results: list[YearResult] = []
    bad: list[str] = []
    statements: list[str] = []
    for y in years:
        feasible = Session(assemble(y.graph), options).solve().ok
        diag = None
        best = None
        if not feasible:
            diag = diagnose(y.graph, y.target, options) if full else None
            best = diag.max_rate if diag is not None else max_reachable_rate(y.graph, options)
            bad.append(str(y.year))
            text = f"{y.year}: the {y.target:.1%} target cannot be met; the highest rate that year's network reaches is " + ("none (no feasible plan at all)" if best is None else f"{best:.2%}") + "."
            text_zh = f"{y.year} 年：{y.target:.1%} 的目标无法实现；当年网络最高只能达到 " + ("（无可行方案）" if best is None else f"{best:.2%}") + "。"
            statements.append(text)
        else:
            best = max_reachable_rate(y.graph, options)
            text = f"{y.year}: feasible on its own (highest rate {best:.2%})." if best is not None else f"{y.year}: feasible on its own."
            text_zh = f"{y.year} 年：单独看可行（最高 {best:.2%}）。" if best is not None else f"{y.year} 年：单独看可行。"
        results.append(YearResult(
            year=y.year,
            status="infeasible" if not feasible else "feasible_alone",
            target_spec=p.spec.targets[y.year],
            target=y.target,
            rate_mode=p.base.policy.rate_mode.value,
            max_rate=best,
            weight=y.weight,
            generation_t=float(sum(x.generation_t for x in y.scenario.streams)),
            in_operation=sorted(o.id for o in (*y.scenario.projects, *y.scenario.sinks)),
            starting=_starting(p, y.year),
            capacity_t={o: float(r[y.year]) for o, r in sorted(p.spec.capacity.items()) if y.year in r},
            diagnosis=diag,
            statement=text,
            statement_zh=text_zh,
        ))
        if steps is not None:
            steps.done(f"{y.year} checked alone")
    done = {y.year for y in years}
    results += [YearResult(year=yr, status="not_solved", target_spec=p.spec.targets[yr], target=0.0 if p.spec.targets[yr] == "max" else float(p.spec.targets[yr]), rate_mode=p.base.policy.rate_mode.value, weight=p.weight(yr), generation_t=0.0, in_operation=[], starting=_starting(p, yr)) for yr in p.spec.years if yr not in done]
    if bad:
        message = f"The pathway is infeasible: {', '.join(bad)} cannot meet {'its target' if len(bad) == 1 else 'their targets'}. " + " ".join(statements) + (f" {reason}" if reason else "")
    else:
        message = "The pathway is infeasible although every year is feasible on its own: together the years need more legacy stock than the stockpiles hold, or more airspace than the sinks have left. Lower a target that relies on reclaim, or check stock_t and sinks.remaining_volume_t."
    return PathwayResult(pathway_id=p.id, base_scenario_id=p.base.id, status="infeasible", message=message.strip(), rate_mode=p.base.policy.rate_mode.value, discount_rate=p.spec.discount_rate, years=results, solver=_solver(None, start, years))


def _error(p: Pathway, years: list[_Year], message: str, start: float) -> PathwayResult:
    results = [YearResult(year=y.year, status="not_solved", target_spec=p.spec.targets[y.year], target=y.target, rate_mode=p.base.policy.rate_mode.value, weight=y.weight, generation_t=float(sum(x.generation_t for x in y.scenario.streams)), in_operation=sorted(o.id for o in (*y.scenario.projects, *y.scenario.sinks)), starting=_starting(p, y.year)) for y in years]
    return PathwayResult(pathway_id=p.id, base_scenario_id=p.base.id, status="error", message=message, rate_mode=p.base.policy.rate_mode.value, discount_rate=p.spec.discount_rate, years=results, solver=_solver(None, start, years))


def run_pathway(source: Pathway | str | os.PathLike[str] | None = None, options: SolveOptions | None = None, *, diagnose_infeasible: bool = True, progress: ProgressCallback | None = None, gap: float | None = None) -> PathwayResult:
    """Load (if needed) and solve a pathway.

    Args:
        source: a :class:`Pathway`, a pathway file, a folder holding ``pathway.yaml``, or
            ``None`` for the bundled ``data/panzhihua_east/pathway.yaml``.
        options: solver settings.
        diagnose_infeasible: run the full diagnosis for a year that cannot meet its target.
        progress: ``progress(done, total, what)`` after each step (see :func:`solve_pathway`).
        gap: relative MIP gap of the build plan when the base has candidates.

    Returns:
        The pathway result (see :func:`solve_pathway`).

    Raises:
        InputError: invalid pathway file, base scenario or year network.
    """
    if isinstance(source, Pathway):
        p = source
    else:
        from flowopt.pipeline import default_data_dir  # local: pipeline imports much

        p = load_pathway(default_data_dir() if source is None else source)
    return solve_pathway(p, options, diagnose_infeasible=diagnose_infeasible, progress=progress, gap=gap)


# ---------------------------------------------------------------------------------------------
# Output and command line
# ---------------------------------------------------------------------------------------------


def _rank(cards: list[Bottleneck]) -> list[Bottleneck]:
    """The target first, then the largest shadow prices (cards without ranges carry no stake)."""
    return sorted(cards, key=lambda b: (b.kind != "target", -abs(b.shadow_price), b.constraint))


def _airspace_lines(r: PathwayResult, lang: str) -> list[str]:
    """The airspace of the sinks with a remaining volume, year by year, and the years of life left."""
    from flowopt import fmt
    from flowopt.i18n import text

    table = r.airspace_table()
    if table.empty:
        return []
    lines = ["", text("pathway.airspace", lang)]
    for d, group in table.groupby("sink", sort=True):
        path = " -> ".join(fmt.number(v) for v in [*group["remaining_start_t"], group["remaining_end_t"].iloc[-1]])
        years = r.airspace_years_left.get(str(d))
        left = text("pathway.airspace_never", lang) if years is None else text("pathway.airspace_years", lang, years=fmt.number(years, 1))
        price = r.airspace_value_cny_per_t.get(str(d), 0.0)
        full = text("pathway.airspace_full", lang, price=fmt.number(price, 2)) if abs(price) > 1e-6 else ""
        lines.append(f"  {d:<10}{path}   {left}{full}")
    return lines


def format_pathway(r: PathwayResult, *, lang: str = "en", top: int = 3) -> str:
    """Render a pathway result as a readable text report.

    Args:
        r: the result.
        lang: ``en`` or ``zh``: every heading, header, unit and label in that language.
        top: bottleneck cards shown per year.

    Returns:
        The report text.
    """
    from flowopt import fmt
    from flowopt.i18n import check_lang, header, text, value
    from flowopt.texttable import text_table

    lang = check_lang(lang)
    zh = lang == "zh"
    span = f"{r.years[0].year}–{r.years[-1].year}" if r.years else ""
    # the result's message is English; in Chinese the status says the same from the years' own statements
    if not zh:
        message = r.message
    elif r.status == "optimal":
        message = text("pathway.ok", lang)
    elif r.status == "infeasible":
        message = text("pathway.infeasible", lang)
    elif r.status == "audit_failed":
        message = text("pathway.failed", lang)
    else:
        message = ""
    lines = [text("pathway.title", lang, id=r.pathway_id, span=span, base=r.base_scenario_id), "=" * 72, text("pathway.status", lang, status=value("status", r.status, lang), message=message).rstrip()]
    if r.objective_cny is not None:
        lines.append(text("pathway.cost", lang, cost=fmt.money(r.objective_cny, lang, per_year=False), rate=fmt.rate(r.discount_rate, 1), plain=fmt.money(r.total_cost_cny or 0.0, lang, per_year=False), audit=text("passed" if r.audit_passed else "failed", lang)))
    if r.builds:  # a pathway with candidates: what is built, and when (flowopt.pathway_builds)
        from flowopt.pathway_builds import build_lines

        lines += build_lines(r, lang)
    rows = []
    for y in r.years:
        reached = "" if y.target_rate_value is None else fmt.rate(y.target_rate_value)
        rows.append({
            "year": str(y.year),
            "target": text("pathway.max_target", lang, rate=fmt.rate(y.target)) if y.target_spec == "max" else fmt.rate(y.target),
            "reached": reached,
            "met": "" if y.met is None else text("yes" if y.met else "no", lang),
            "max_rate": "" if y.max_rate is None else fmt.rate(y.max_rate),
            "objective_cny": value("status", y.status, lang) if y.objective_cny is None else fmt.number(y.objective_cny),
            "reclaim_t": "" if not y.reclaim_t else fmt.number(sum(y.reclaim_t.values())),
            "audit": "" if y.audit_passed is None else text("passed" if y.audit_passed else "failed", lang),
            "starting": " ".join(y.starting),
        })
    columns = ["year", "target", "reached", "met", "max_rate", "objective_cny", "reclaim_t", "audit", "starting"]
    lines += ["", text_table(rows, columns, headers={c: header(c, lang) for c in columns}, right=["reached", "max_rate", "objective_cny", "reclaim_t"])]
    stock = r.stock_table()
    if not stock.empty:
        lines += ["", text("pathway.stock", lang)]
        for k, group in stock.groupby("stockpile", sort=True):
            path = " -> ".join(fmt.number(v) for v in [*group["stock_start_t"], group["stock_end_t"].iloc[-1]])
            lines.append(f"  {k:<10}{path}")
        binding = {k: v for k, v in r.stock_value_cny_per_t.items() if abs(v) > 1e-6}
        sep = "，" if zh else ", "
        lines.append(text("pathway.short", lang, piles=sep.join(text("pathway.short_item", lang, pile=k, price=fmt.number(v, 2)) for k, v in sorted(binding.items()))) if binding else text("pathway.no_short", lang))
    lines += _airspace_lines(r, lang)
    if any(y.bottlenecks for y in r.years):
        lines += ["", text("pathway.bottlenecks", lang)]
        for y in r.years:
            shown = y.bottlenecks[:top]
            lines.append(text("pathway.year_binding", lang, year=y.year, n=len(y.bottlenecks)))
            lines += [f"     - {b.explanation_zh if zh else b.explanation}" for b in shown]
    if r.status == "infeasible":
        from flowopt.textreport import format_diagnosis

        for y in r.years:
            if y.status == "infeasible":
                lines += ["", y.statement_zh if zh else y.statement]
                if y.diagnosis is not None:
                    lines.append(format_diagnosis(y.diagnosis, lang=lang))
    if r.checks:
        sep = "，" if zh else ", "
        lines += ["", text("pathway.checks", lang, checks=sep.join(f"{c.name if not zh else value('audit', c.name, lang)} {text('ok' if c.passed else 'failed', lang)}" for c in r.checks))]
    if r.warnings:
        lines += ["", text("plan.warnings", lang)] + [f"  - {w}" for w in r.warnings]
    return "\n".join(lines)


