"""Results: solved LP -> ``Plan`` (pydantic) with its pandas tables.

Stage: (``MaterialGraph``, solved :class:`~flowopt.solve.SolveOutcome`) -> ``Plan``. Column values
are read by family and position (``flow_t`` in arc order, ``unmanaged_t``, ``reclaim_t``). Everything a user
sees is computed here from the solver's flows and the scenario's own numbers: flows with their
cost terms, the fate of every stream, project and sink loads, the official rates overall, per
waste category and per firm. :mod:`flowopt.audit` then checks the plan against the input.

The fate of a residue is shared among the streams that fed its project in proportion to their
feed (the project's feed is treated as well mixed), so per-stream, per-firm and per-category
figures add up exactly to the park totals.

**Who sends what where.** Every flow carries the firm its tonnes come from (:attr:`FlowRow.firm`):
the generating firm of the stream, for reclaimed stock the firm of the stockpile's stream, and
for a residue the firm of the stream(s) that fed the project it came from (the same
proportional attribution). A residue lot fed by several firms is marked :data:`MIXED_FIRM`, with
each firm's exact share in ``firm_shares``; :meth:`Plan.flows_by` splits such rows by those
shares, so the tonnes per firm add up exactly. Every flow also names its lot (``gen:W15``,
``stock:SP_W02``, ``res:R08:W15:legacy``) and the lot's origin in words, so two rows with the
same stream, source and destination (a residue of new material and one of prior-year stock)
never look identical.

**Rates.** :attr:`Plan.rates` gives the three official rates side by side, each with its formula
(English and Chinese), numerator and denominator in tonnes, and whether the target applies to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.airspace_carbon import AirspaceRow, Co2Summary, airspace_rows, carbon_summary
from flowopt.formulation.families import COST_TERMS, TERMS
from flowopt.graph import MaterialGraph
from flowopt.markets_duties import (
    FirmTargetRow,
    IncentiveSummary,
    MarketRow,
    firm_target_rows,
    incentive_summary,
    market_rows,
)
from flowopt.schema import ProjectBooking, RateMode, Scenario, SinkBooking
from flowopt.solve import SolveOutcome

FlowKind = Literal["reuse", "disposal", "storage", "unmanaged"]

#: ``FlowRow.firm`` of a residue whose project was fed by more than one firm (see ``firm_shares``).
MIXED_FIRM = "(mixed)"
#: Group name of tonnes whose stream records no firm (rates by firm, flows by firm).
NO_FIRM = "(none)"
#: Display names of the two group names above: (zh, en).
FIRM_GROUP_NAMES: dict[str, tuple[str, str]] = {MIXED_FIRM: ("多家企业", "several firms"), NO_FIRM: ("未注明企业", "no firm recorded")}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowRow(_Out):
    """Tonnes of one lot sent to one destination, with the costs they carry (CNY/yr)."""

    stream: str
    category: str
    """Waste category of the stream."""
    firm: str | None = None
    """Firm the tonnes come from (id in ``firms``): the generating firm of the stream; for
    reclaimed stock, the firm of the stockpile's stream; for a residue, the firm of the
    stream(s) that fed the project it came from. ``"(mixed)"`` when that feed came from several
    firms (each firm's share in ``firm_shares``); ``None`` when no firm is recorded."""
    firm_shares: dict[str, float] = {}
    """Only for a ``"(mixed)"`` residue: fraction of this row's tonnes from each firm (they add up
    to 1; streams without a firm under ``"(none)"``). Empty otherwise."""
    lot: str = ""
    """The lot the tonnes belong to: ``gen:<stream>``, ``stock:<stockpile>`` or
    ``res:<project>:<stream>:<origin>``. Two rows with the same stream, source and destination
    are two lots (e.g. a residue of this year's material and one of prior-year stock)."""
    origin_label: str = ""
    """The lot's origin in words: ``generated this year``, ``prior-year stock (SP_W02)``,
    ``residue of R08 (from this year's generation)``, ``residue of R08 (from prior-year stock)``."""
    origin_label_zh: str = ""
    """The same in Chinese (``当年产生``, ``往年贮存（SP_W02）``, ``R08 残渣（当年产生）`` …)."""
    origin: Literal["new", "legacy"]
    """``new``: counts in this year's generation G; ``legacy``: prior-year stock (U_prior, D_prior)."""
    source_kind: Literal["generation", "stock", "residue"]
    source: str
    """Stream id (generation), stockpile id (stock) or the project the residue came from."""
    from_site: str
    destination: str
    destination_kind: Literal["project", "sink", "unmanaged"]
    kind: FlowKind
    tonnes: float
    distance_km: float
    transport_cny: float
    handling_cny: float
    """Processing cost (project) or fee (sink)."""
    revenue_cny: float
    """Product revenue: ``revenue_cny_per_t`` × tonnes, plus this flow's share (by tonnes of the
    project's feed) of what the project sells in markets (``projects.markets``)."""
    tax_cny: float
    penalty_cny: float
    incentive_cny: float = 0.0
    """Tax incentives on that revenue (VAT refunded plus income tax saved; 0 unless
    ``policy.apply_incentives`` and the project has some)."""
    cost_cny: float
    """transport + handling + tax + penalty − revenue − incentive."""


class StreamFate(_Out):
    """Where the tonnes of one generated stream or reclaimed stockpile end up (t/yr)."""

    root: str
    """Stream id (current generation) or stockpile id (reclaimed stock)."""
    stream: str
    origin: Literal["new", "legacy"]
    category: str
    firm: str | None
    supplied_t: float
    utilized_t: float
    disposed_t: float
    stored_t: float
    unmanaged_t: float
    lost_t: float
    """Process losses not booked as utilized (only when ``count_losses_as_utilized`` is false)."""


class OutletLoad(_Out):
    """Intake of a project or sink against its limits.

    One row for every project and sink of the scenario, used or not, capped or not.
    """

    outlet: str
    kind: Literal["project", "sink"]
    name_zh: str
    name_en: str
    intake_t: float
    capacity_t: float | None
    """Annual capacity (t/yr); ``None``: no limit (a sink without ``capacity_t``, such as an
    uncapped tailings dam): show it as "no limit" (不限)."""
    min_intake_t: float
    load_share: float | None
    """intake / capacity; ``None`` when there is no limit (or the capacity is 0)."""


#: The three official rates: mode -> (name_en, name_zh, formula, formula_zh).
RATE_DEFINITIONS: dict[str, tuple[str, str, str, str]] = {
    "utilization": (
        "utilization rate",
        "综合利用率",
        "U / (G + U_prior): utilized (current-year and prior-year stock) / (generated this year + prior-year stock utilized)",
        "U ÷（G + U_prior）：综合利用量（含利用往年贮存量）÷（当年产生量 + 综合利用往年贮存量）",
    ),
    "utilization_plus_disposal": (
        "utilization + disposal rate",
        "综合利用处置率",
        "(U + D) / (G + U_prior + D_prior): (utilized + disposed) / (generated this year + prior-year stock utilized + prior-year stock disposed)",
        "（U + D）÷（G + U_prior + D_prior）：（综合利用量 + 处置量）÷（当年产生量 + 综合利用往年贮存量 + 处置往年贮存量）",
    ),
    "disposal_only": (
        "disposal rate",
        "处置率",
        "D / G: disposed (current-year and prior-year stock) / generated this year",
        "D ÷ G：处置量（含处置往年贮存量）÷ 当年产生量",
    ),
}


class OfficialRate(_Out):
    """One of the three official rates of the plan, with what it divides by what."""

    mode: str
    """``utilization``, ``utilization_plus_disposal`` or ``disposal_only`` (as ``policy.rate_mode``)."""
    name: str
    name_zh: str
    value: float | None
    """numerator / denominator; ``None`` when the denominator is 0."""
    formula: str
    """The formula with its symbols spelled out (English)."""
    formula_zh: str
    """The same in Chinese."""
    numerator_t: float
    """t/yr."""
    denominator_t: float
    """t/yr."""
    target_applies: bool
    """True for the rate the target applies to (``policy.rate_mode``)."""


class RateRow(_Out):
    """The official utilization rate for one group (waste category or firm): U / (G + U_prior)."""

    group: str
    generated_t: float
    utilized_t: float
    utilized_prior_t: float
    rate: float | None
    """utilized_t / denominator_t; ``None`` when the denominator is 0."""
    denominator_t: float | None = None
    """G + U_prior of the group (t/yr)."""
    formula: str = RATE_DEFINITIONS["utilization"][2]
    formula_zh: str = RATE_DEFINITIONS["utilization"][3]


class UnmanagedSummary(_Out):
    """The plan's unmanaged (dumped) tonnes and the policy on them, as one headline line."""

    allowed: bool
    """``policy.allow_unmanaged``: False means the plan cannot leave any tonne unmanaged."""
    penalty_cny_per_t: float | None
    """``policy.unmanaged_penalty_cny_per_t`` (on top of the environmental tax); None if not given."""
    tonnes: float
    """t/yr left unmanaged in this plan (0 when prohibited)."""
    tax_cny: float
    penalty_cny: float
    by_stream: dict[str, float] = {}
    """t/yr left unmanaged per stream."""
    headline: str
    headline_zh: str


class FlowGroup(_Out):
    """The flows of one firm (or stream, category, destination, kind): see :meth:`Plan.flows_by`."""

    by: str
    group: str
    """Firm id (``"(none)"`` for streams without a firm), stream id, category, outlet id or kind."""
    name_zh: str
    name_en: str
    tonnes: float
    cost_cny: float
    flows: list[FlowRow]
    """Largest first. Grouped by firm, a residue fed by several firms appears in each firm's
    group with that firm's share of its tonnes and money (``firm`` set to the group)."""


class Kpis(_Out):
    """Park totals of the plan (t/yr) and its rates."""

    generated_t: float
    reclaimed_t: float
    utilized_t: float
    utilized_new_t: float
    utilized_prior_t: float
    disposed_t: float
    disposed_prior_t: float
    stored_t: float
    unmanaged_t: float
    lost_t: float
    utilization_rate: float
    """Official rate U / (G + U_prior)."""
    utilization_plus_disposal_rate: float
    disposal_rate: float
    target_rate_value: float
    """The rate selected by ``rate_mode``, the one the target applies to."""


class Bottleneck(_Out):
    """A binding constraint: what relaxing it is worth, over which range, and how much is at stake."""

    constraint: str
    """Model constraint name (for tools; explanations never need it)."""
    kind: str
    """``project_capacity``, ``project_min_intake``, ``sink_capacity``, ``route_capacity``,
    ``stock_reclaim_limit``, ``quality_max``, ``quality_min``, ``feed_share``, ``target``,
    ``market_demand`` (a product market's demand), ``firm_target`` (a firm's duty), or another
    family of the registry (:mod:`flowopt.formulation.families`)."""
    subject: str
    """Id of the project, sink, route or stockpile (``park`` for the target)."""
    subject_name_zh: str
    subject_name_en: str
    shadow_price: float
    """CNY/yr saved per unit of relaxation (for the target: CNY/yr cost per extra point)."""
    unit: str
    limit: float
    """The limit's current value (t/yr, or a fraction for quality, share and target)."""
    valid_from: float | None = None
    """Lowest limit value for which the price holds (None: no lower end / not computed)."""
    valid_to: float | None = None
    """Highest limit value for which the price holds (None: unbounded / not computed)."""
    tonnes_at_stake: float | None = None
    """For tonnage limits: t/yr the limit can be relaxed before the price changes."""
    cny_at_stake: float | None = None
    """CNY/yr saved by relaxing the limit to the edge of its valid range (None: unbounded)."""
    explanation: str
    explanation_zh: str


class WhyNot(_Out):
    """Why a reuse project (or a capped route) is unused or below capacity."""

    subject: str
    kind: Literal["project", "route"]
    status: Literal["unused", "below_capacity"]
    name_zh: str
    name_en: str
    intake_t: float
    capacity_t: float
    reduced_cost_cny_per_t: float | None
    """Smallest reduced cost among its unused movements (CNY/t)."""
    break_even_cny_per_t: float | None
    """Cost cut, revenue rise or subsidy per tonne beyond which it takes more (None: supply-limited)."""
    entering_stream: str | None
    """The stream it would take first."""
    entering_source: str | None
    explanation: str
    explanation_zh: str


class TargetMarginalCost(_Out):
    """The price of the target and where it holds."""

    target: float
    cny_per_point: float
    """CNY/yr per extra percentage point of the target (0 when it does not bind)."""
    valid_from_target: float
    valid_to_target: float
    explanation: str
    explanation_zh: str


class AuditCheck(_Out):
    """One audited property of the plan."""

    name: str
    passed: bool
    worst_violation: float
    detail: str


class AuditReport(_Out):
    """Result of checking the plan against the original input data."""

    passed: bool
    tolerance_t: float
    tolerance_cny: float
    checks: list[AuditCheck]


class Plan(_Out):
    """An optimal plan: the JSON contract of ``flowopt solve --json`` and the API."""

    scenario_id: str
    status: str
    target: float
    rate_mode: str
    utilization_rate: float
    objective_cny: float
    cost_terms: dict[str, float]
    """Objective terms in CNY/yr; ``revenue_cny`` is subtracted, the others added."""
    kpis: Kpis
    flows: list[FlowRow]
    stream_fates: list[StreamFate]
    outlet_loads: list[OutletLoad]
    rates_by_category: list[RateRow]
    rates_by_firm: list[RateRow]
    rates: list[OfficialRate] = []
    """The three official rates side by side (utilization, utilization + disposal, disposal),
    each with its formula, numerator and denominator; ``target_applies`` marks the target's."""
    unmanaged: UnmanagedSummary | None = None
    """Unmanaged tonnes and the policy on them (a headline, never only a warning)."""
    reclaim_t: dict[str, float]
    bottlenecks: list[Bottleneck]
    why_not: list[WhyNot] = []
    target_marginal_cost: TargetMarginalCost | None = None
    max_utilization_rate: float | None = None
    """Highest value of the chosen rate any plan can reach (cost ignored)."""
    airspace: list[AirspaceRow] = []
    """Sinks with a remaining volume (库容): airspace at the start of the year, intake, what is left
    at the end and the years of life left at this intake (:mod:`flowopt.airspace_carbon`)."""
    co2_t: Co2Summary | None = None
    """The plan's CO2 (tCO2/yr): transport, process, electricity, gross, avoided, net, the cap
    and its price, by project and by firm (:mod:`flowopt.airspace_carbon`)."""
    markets: list[MarketRow] = []
    """Product markets sold into: tonnes sold against the demand limit, the price tier reached,
    revenue, and the demand's shadow price when it binds (:mod:`flowopt.markets_duties`)."""
    incentives_cny: IncentiveSummary | None = None
    """Tax incentives (VAT refund, income-tax reduction): total and per project, and the plan's
    cost without them (:mod:`flowopt.markets_duties`)."""
    firm_targets: list[FirmTargetRow] = []
    """Firms' duties (``firms.target_rate``): the rate each firm reaches by its ledger, and what
    the duty costs the park per point when it binds (:mod:`flowopt.markets_duties`)."""
    audit: AuditReport
    warnings: list[str]
    solver: dict[str, Any]
    labels: dict[str, dict[str, str]] = {}
    """Display names per id (streams, stockpiles, projects, sinks, firms, sites):
    ``{"W01": {"name_zh": …, "name_en": …}}``."""

    def flows_by(self, by: GroupBy = "firm") -> list[FlowGroup]:
        """Group the plan's flows: who sends what where.

        Args:
            by: ``firm`` (the firm the tonnes come from, see :attr:`FlowRow.firm`), ``stream``,
                ``category``, ``destination`` or ``kind``.

        Returns:
            One group per value, largest tonnage first (ties by id); inside each group the
            flows largest first. By firm, a ``"(mixed)"`` residue row is split by its
            ``firm_shares`` (tonnes and money scaled), so each firm's total is exact; rows
            without a firm form the group ``"(none)"``.

        Raises:
            ValueError: an unknown ``by``.
        """
        if by not in GROUP_BY:
            msg = f"cannot group flows by {by!r}; use one of {', '.join(GROUP_BY)}."
            raise ValueError(msg)
        groups: dict[str, list[FlowRow]] = defaultdict(list)
        for f in self.flows:
            if by != "firm":
                groups[str(getattr(f, by))].append(f)
            elif f.firm_shares:
                for firm, share in sorted(f.firm_shares.items()):
                    groups[firm].append(_scaled(f, firm, share))
            else:
                groups[f.firm or NO_FIRM].append(f)
        out = []
        for key, rows in groups.items():
            zh, en = FIRM_GROUP_NAMES.get(key, (self.labels.get(key, {}).get("name_zh", ""), self.labels.get(key, {}).get("name_en", "")))
            rows.sort(key=lambda r: (-r.tonnes, r.stream, r.lot, r.destination))
            out.append(FlowGroup(by=by, group=key, name_zh=zh or key, name_en=en or key, tonnes=sum(r.tonnes for r in rows), cost_cny=sum(r.cost_cny for r in rows), flows=rows))
        return sorted(out, key=lambda g: (-g.tonnes, g.group))

    def tables(self) -> dict[str, Any]:
        """Return the plan's tables as pandas DataFrames keyed by table name."""
        import pandas as pd  # only callers of tables() pay for pandas

        return {
            "flows": pd.DataFrame([{**f.model_dump(), "firm_shares": _shares_text(f.firm_shares)} for f in self.flows]),
            "stream_fates": pd.DataFrame([f.model_dump() for f in self.stream_fates]),
            "outlet_loads": pd.DataFrame([f.model_dump() for f in self.outlet_loads]),
            "rates_by_category": pd.DataFrame([r.model_dump() for r in self.rates_by_category]),
            "rates_by_firm": pd.DataFrame([r.model_dump() for r in self.rates_by_firm]),
            "bottlenecks": pd.DataFrame([b.model_dump() for b in self.bottlenecks]),
            "why_not": pd.DataFrame([w.model_dump() for w in self.why_not]),
            "audit": pd.DataFrame([c.model_dump() for c in self.audit.checks]),
            # issue 15's families, flat (nested lists as one "key=value;…" cell)
            "markets": pd.DataFrame([{**m.model_dump(exclude={"tiers", "by_project"}), "by_project_t": _pairs_text(m.by_project)} for m in self.markets]),
            "airspace": pd.DataFrame([a.model_dump() for a in self.airspace]),
            "co2_by_project": pd.DataFrame([r.model_dump() for r in (self.co2_t.by_project if self.co2_t else [])]),
            "co2_by_firm": pd.DataFrame([r.model_dump() for r in (self.co2_t.by_firm if self.co2_t else [])]),
            "firm_targets": pd.DataFrame([f.model_dump() for f in self.firm_targets]),
        }


GroupBy = Literal["firm", "stream", "category", "destination", "kind"]
#: What :meth:`Plan.flows_by` can group by.
GROUP_BY: tuple[str, ...] = ("firm", "stream", "category", "destination", "kind")


def _scaled(f: FlowRow, firm: str, share: float) -> FlowRow:
    """One firm's part of a residue row fed by several firms (tonnes and money × share)."""
    money = ("tonnes", "transport_cny", "handling_cny", "revenue_cny", "tax_cny", "penalty_cny", "incentive_cny", "cost_cny")
    return f.model_copy(update={"firm": firm, **{k: getattr(f, k) * share for k in money}})


def _pairs_text(values: dict[str, float]) -> str:
    """Tonnes by id as one CSV cell, to the kilogram: ``R01=2250000;R03=100000`` (empty when none)."""
    return ";".join(f"{k}={round(v, 3):.15g}" for k, v in sorted(values.items()))


def _shares_text(shares: dict[str, float]) -> str:
    """``firm_shares`` as one CSV cell: ``F02=0.6;F05=0.4`` (empty when there are none)."""
    return ";".join(f"{k}={v:.6g}" for k, v in sorted(shares.items()))


def labels(s: Scenario) -> dict[str, dict[str, str]]:
    """Return ``{id: {"name_zh", "name_en"}}`` for every named record of the scenario."""
    out: dict[str, dict[str, str]] = {}
    for table in ("sites", "firms", "streams", "stockpiles", "projects", "sinks"):
        for r in getattr(s, table):
            out[r.id] = {"name_zh": r.name_zh, "name_en": r.name_en}
    return dict(sorted(out.items()))


#: Flows below this many tonnes are solver noise and are not reported.
ZERO_T = 1e-6


def _clean(values: np.ndarray) -> np.ndarray:
    """Column values with solver noise (below :data:`ZERO_T`) set to 0."""
    return np.where(np.abs(values) < ZERO_T, 0.0, values)


def extract_flows(g: MaterialGraph, outcome: SolveOutcome) -> tuple[list[FlowRow], dict[str, float]]:
    """Read flows (with their cost terms, firms and lots) and reclaim tonnes from a solved LP.

    Args:
        g: the material graph the LP was assembled from.
        outcome: an optimal solve outcome.

    Returns:
        Flow rows sorted by (stream, source, destination) and reclaim tonnes per stockpile.
    """
    s = g.scenario
    lp = outcome.lp
    category = {x.id: x.category for x in s.streams}
    tax = s.policy.environmental_tax_cny_per_t
    penalty = s.policy.penalty_cny_per_t
    rows: list[dict[str, Any]] = []
    flows = _clean(outcome.cols("flow_t"))
    # what each project sells in markets, shared among its flows by tonnes of feed
    market = market_revenue(outcome)
    feed: dict[str, float] = defaultdict(float)
    for j in np.flatnonzero(flows > 0):
        feed[g.arcs[int(j)].outlet] += float(flows[j])
    for j in np.flatnonzero(flows > 0):
        arc = g.arcs[int(j)]
        t = float(flows[j])
        lot = g.lots[arc.lot]
        transport = arc.transport_cny_per_t * t
        incentive = 0.0
        if arc.outlet in g.projects:
            p = g.projects[arc.outlet]
            handling, revenue = p.processing_cost_cny_per_t * t, p.revenue_cny_per_t * t + market.get(arc.outlet, 0.0) * t / feed[arc.outlet]
            incentive = p.incentive_factor * revenue if s.policy.apply_incentives else 0.0
            kind: FlowKind = "reuse" if p.counts_as == ProjectBooking.utilization else "disposal"
            dkind: Literal["project", "sink"] = "project"
        else:
            d = g.sinks[arc.outlet]
            handling, revenue = d.fee_cny_per_t * t, 0.0
            kind = "disposal" if d.counts_as == SinkBooking.disposal else "storage"
            dkind = "sink"
        rows.append({"stream": lot.stream, "category": category[lot.stream].value, "lot": lot.id, "origin": lot.origin, "source_kind": lot.kind, "source": lot.source, "from_site": lot.site, "destination": arc.outlet, "destination_kind": dkind, "kind": kind, "tonnes": t, "distance_km": arc.distance_km, "transport_cny": transport, "handling_cny": handling, "revenue_cny": revenue, "tax_cny": 0.0, "penalty_cny": 0.0, "incentive_cny": incentive, "cost_cny": transport + handling - revenue - incentive})
    # unmanaged_t has columns only when the scenario allows unmanaged tonnes
    unmanaged = _clean(outcome.cols("unmanaged_t"))
    for lid, t in zip(lp.cols["unmanaged_t"].keys, unmanaged, strict=True):
        if t <= 0:
            continue
        lot = g.lots[str(lid)]
        tx, pen = tax.rate(category[lot.stream]) * float(t), penalty * float(t)
        rows.append({"stream": lot.stream, "category": category[lot.stream].value, "lot": lot.id, "origin": lot.origin, "source_kind": lot.kind, "source": lot.source, "from_site": lot.site, "destination": "unmanaged", "destination_kind": "unmanaged", "kind": "unmanaged", "tonnes": float(t), "distance_km": 0.0, "transport_cny": 0.0, "handling_cny": 0.0, "revenue_cny": 0.0, "tax_cny": tx, "penalty_cny": pen, "cost_cny": tx + pen})
    reclaim = {str(k): float(t) for k, t in zip(lp.cols["reclaim_t"].keys, _clean(outcome.cols("reclaim_t")), strict=True)}
    firms = lot_firms(s, rows)
    out = []
    for r in rows:
        firm, shares = firms[r["lot"]]
        en, zh = origin_labels(r["source_kind"], r["source"], r["origin"])
        # built from the solver's numbers and validated records: no field needs checking again
        out.append(FlowRow.model_construct(**r, firm=firm, firm_shares=shares, origin_label=en, origin_label_zh=zh))
    out.sort(key=lambda r: (r.stream, r.source_kind, r.source, r.origin, r.destination))
    return out, reclaim


def market_revenue(outcome: SolveOutcome) -> dict[str, float]:
    """CNY/yr each project earns from its market sales (``sold_t`` × tier prices) in a solved LP.

    Args:
        outcome: an optimal outcome of an LP assembled from one network.

    Returns:
        Project id -> revenue from its markets (projects without market sales left out).
    """
    lp = outcome.lp
    n = lp.network
    if n is None or "sold_t" not in lp.cols or not len(lp.cols["sold_t"]):
        return {}
    from flowopt.formulation.families import sold_prices

    sold = _clean(outcome.cols("sold_t"))
    out: dict[str, float] = defaultdict(float)
    for (p, _, _), t, price in zip(n.sales, sold, sold_prices(n), strict=True):
        if t > 0:
            out[p] += float(t) * float(price)
    return dict(out)


def origin_labels(source_kind: str, source: str, origin: str) -> tuple[str, str]:
    """The origin of a lot in words, English and Chinese (what tells two look-alike rows apart).

    Args:
        source_kind: ``generation``, ``stock`` or ``residue``.
        source: the stream, stockpile or project id.
        origin: ``new`` or ``legacy``.

    Returns:
        ``(label, label_zh)``, e.g. ``("residue of R08 (from prior-year stock)", "R08 残渣（往年贮存）")``.
    """
    if source_kind == "generation":
        return "generated this year", "当年产生"
    if source_kind == "stock":
        return f"prior-year stock ({source})", f"往年贮存（{source}）"
    if origin == "new":
        return f"residue of {source} (from this year's generation)", f"{source} 残渣（当年产生）"
    return f"residue of {source} (from prior-year stock)", f"{source} 残渣（往年贮存）"


#: Shares below this are round-off, not a firm's part of a residue.
_SHARE_EPS = 1e-9


def lot_firms(s: Scenario, rows: list[dict[str, Any]] | list[FlowRow]) -> dict[str, tuple[str | None, dict[str, float]]]:
    """The firm of every lot that carries tonnes: ``lot id -> (firm, firm_shares)``.

    A generation lot belongs to its stream's firm, a stock lot to the firm of the stockpile's
    stream. A residue lot belongs to the firms of the roots (streams, stockpiles) whose tonnes
    fed its project, in the proportions of :func:`_attribution`. The rule for a residue fed by
    several firms: its ``firm`` is :data:`MIXED_FIRM` and ``firm_shares`` gives each firm's
    share (adding up to 1; streams without a firm under :data:`NO_FIRM`). One firm (shares
    below 1e-9 are round-off): that firm, and no shares.

    Args:
        s: the scenario (firms of streams, stockpiles).
        rows: flow rows, as :class:`FlowRow` or as dicts with the same keys.

    Returns:
        The firm (``None`` when the stream records none) and the shares, per lot id.
    """
    # plain records are enough to attribute tonnes (building models for them costs more)
    flows = [r if isinstance(r, FlowRow) else SimpleNamespace(**r) for r in rows]
    stream_firm = {x.id: x.firm for x in s.streams}
    stock_stream = {k.id: k.stream for k in s.stockpiles}
    shares = _attribution(s, flows)
    out: dict[str, tuple[str | None, dict[str, float]]] = {}
    for lid, mix in shares.items():
        if lid.startswith("gen:"):
            out[lid] = (stream_firm.get(lid[4:]), {})
            continue
        if lid.startswith("stock:"):
            out[lid] = (stream_firm.get(stock_stream.get(lid[6:], "")), {})
            continue
        by_firm: dict[str | None, float] = defaultdict(float)
        for root, share in mix.items():
            firm = stream_firm.get(root) if root in stream_firm else stream_firm.get(stock_stream.get(root, ""))
            by_firm[firm] += share
        total = sum(by_firm.values())
        kept = {f: v / total for f, v in by_firm.items() if total > 0 and v / total > _SHARE_EPS}
        if len(kept) <= 1:
            out[lid] = (next(iter(kept), None), {})
        else:
            named = {(f or NO_FIRM): v for f, v in kept.items()}
            out[lid] = (MIXED_FIRM, dict(sorted(named.items())))
    return out


def lot_id(row: FlowRow) -> str:
    """Return the lot id of a flow row (``gen:…``, ``stock:…`` or ``res:…``)."""
    if row.source_kind == "generation":
        return f"gen:{row.stream}"
    if row.source_kind == "stock":
        return f"stock:{row.source}"
    return f"res:{row.source}:{row.stream}:{row.origin}"


def _attribution(s: Scenario, flows: Sequence[FlowRow | SimpleNamespace]) -> dict[str, dict[str, float]]:
    """Share of each lot's tonnes that comes from each root (stream or stockpile).

    Residue lots inherit the mix of their project's feed of the same origin. Residue cycles
    (gain < 1, checked by the graph) converge under fixed-point iteration.
    """
    into: dict[tuple[str, str], list[FlowRow | SimpleNamespace]] = defaultdict(list)
    lots: set[str] = set()
    for f in flows:
        lots.add(lot_id(f))
        if f.destination_kind == "project":
            into[(f.destination, f.origin)].append(f)
    shares: dict[str, dict[str, float]] = {}
    for lid in lots:
        if lid.startswith("gen:"):
            shares[lid] = {lid[4:]: 1.0}
        elif lid.startswith("stock:"):
            shares[lid] = {lid[6:]: 1.0}
        else:
            shares[lid] = {}
    residue_lots = sorted(x for x in lots if x.startswith("res:"))
    for _ in range(500):
        delta = 0.0
        for lid in residue_lots:
            _, project, _, origin = lid.split(":")
            feed = into[(project, origin)]
            total = sum(f.tonnes for f in feed)
            mix: dict[str, float] = defaultdict(float)
            for f in feed:
                for root, share in shares.get(lot_id(f), {}).items():
                    mix[root] += share * f.tonnes / total if total > 0 else 0.0
            old = shares[lid]
            delta = max([delta, *(abs(mix.get(k, 0) - old.get(k, 0)) for k in set(mix) | set(old))])
            shares[lid] = dict(mix)
        if delta < 1e-13:
            break
    return shares


def stream_fates(s: Scenario, flows: list[FlowRow], reclaim: dict[str, float]) -> list[StreamFate]:
    """Compute the fate of every generated stream and reclaimed stockpile.

    Args:
        s: the scenario (for fractions, bookings, categories and firms).
        flows: the plan's flow rows.
        reclaim: reclaimed tonnes per stockpile.

    Returns:
        One row per stream with generation and per stockpile with reclaim, sorted by root.
    """
    shares = _attribution(s, flows)
    projects = {p.id: p for p in s.projects}
    sinks = {d.id: d for d in s.sinks}
    count_losses = s.policy.count_losses_as_utilized
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in flows:
        for root, share in shares[lot_id(f)].items():
            t = f.tonnes * share
            a = acc[root]
            if f.destination_kind == "unmanaged":
                a["unmanaged_t"] += t
            elif f.destination_kind == "sink":
                a["disposed_t" if sinks[f.destination].counts_as == SinkBooking.disposal else "stored_t"] += t
            else:
                p = projects[f.destination]
                booked = p.product_fraction + (p.loss_fraction if count_losses else 0.0)
                a["utilized_t" if p.counts_as == ProjectBooking.utilization else "disposed_t"] += t * booked
                if not count_losses:
                    a["lost_t"] += t * p.loss_fraction
    streams = {x.id: x for x in s.streams}
    out: list[StreamFate] = []
    for st in sorted(s.streams, key=lambda x: x.id):
        if st.generation_t > 0:
            a = acc[st.id]
            out.append(StreamFate(root=st.id, stream=st.id, origin="new", category=st.category.value, firm=st.firm, supplied_t=st.generation_t, **_fate(a)))
    for k in sorted(s.stockpiles, key=lambda x: x.id):
        if reclaim.get(k.id, 0.0) > 0:
            st = streams[k.stream]
            out.append(StreamFate(root=k.id, stream=k.stream, origin="legacy", category=st.category.value, firm=st.firm, supplied_t=reclaim[k.id], **_fate(acc[k.id])))
    return out


def _fate(a: dict[str, float]) -> dict[str, float]:
    return {k: float(a.get(k, 0.0)) for k in ("utilized_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t")}


def kpis(s: Scenario, fates: list[StreamFate]) -> Kpis:
    """Compute park totals and rates from the stream fates."""
    new = [f for f in fates if f.origin == "new"]
    old = [f for f in fates if f.origin == "legacy"]
    g_t = float(sum(x.generation_t for x in s.streams))
    u_new = sum(f.utilized_t for f in new)
    u_prior = sum(f.utilized_t for f in old)
    d_new = sum(f.disposed_t for f in new)
    d_prior = sum(f.disposed_t for f in old)
    util = (u_new + u_prior) / (g_t + u_prior) if g_t + u_prior > 0 else 0.0
    upd = (u_new + u_prior + d_new + d_prior) / (g_t + u_prior + d_prior) if g_t + u_prior + d_prior > 0 else 0.0
    disp = (d_new + d_prior) / g_t if g_t > 0 else 0.0
    mode = s.policy.rate_mode
    chosen = util if mode == RateMode.utilization else upd if mode == RateMode.utilization_plus_disposal else disp
    return Kpis(
        generated_t=g_t,
        reclaimed_t=sum(f.supplied_t for f in old),
        utilized_t=u_new + u_prior,
        utilized_new_t=u_new,
        utilized_prior_t=u_prior,
        disposed_t=d_new + d_prior,
        disposed_prior_t=d_prior,
        stored_t=sum(f.stored_t for f in fates),
        unmanaged_t=sum(f.unmanaged_t for f in fates),
        lost_t=sum(f.lost_t for f in fates),
        utilization_rate=util,
        utilization_plus_disposal_rate=upd,
        disposal_rate=disp,
        target_rate_value=chosen,
    )


def group_rates(s: Scenario, fates: list[StreamFate], key: Literal["category", "firm"]) -> list[RateRow]:
    """Official utilization rate per waste category or per firm (U / (G + U_prior))."""
    gen: dict[str, float] = defaultdict(float)
    for st in s.streams:
        if st.generation_t > 0:
            gen[(st.category.value if key == "category" else st.firm) or "(none)"] += st.generation_t
    u: dict[str, float] = defaultdict(float)
    up: dict[str, float] = defaultdict(float)
    for f in fates:
        k = (f.category if key == "category" else f.firm) or "(none)"
        (u if f.origin == "new" else up)[k] += f.utilized_t
    rows = []
    for k in sorted(set(gen) | set(up)):
        den = gen[k] + up[k]
        rows.append(RateRow(group=k, generated_t=gen[k], utilized_t=u[k] + up[k], utilized_prior_t=up[k], rate=(u[k] + up[k]) / den if den > 0 else None, denominator_t=den))
    return rows


def official_rates(k: Kpis, mode: RateMode | str) -> list[OfficialRate]:
    """The three official rates of a plan side by side, each with its formula and tonnes.

    * ``utilization`` (综合利用率) = U / (G + U_prior)
    * ``utilization_plus_disposal`` (综合利用处置率) = (U + D) / (G + U_prior + D_prior)
    * ``disposal_only`` (处置率) = D / G

    U and D include prior-year stock utilized (U_prior) and disposed (D_prior); G is the year's
    generation. The values equal the KPIs' (``utilization_rate`` …), which are computed from the
    same tonnes.

    Args:
        k: the plan's KPIs.
        mode: the rate the target applies to (``policy.rate_mode``).

    Returns:
        Three rows in the order above.
    """
    mode = RateMode(mode).value
    parts = {
        "utilization": (k.utilized_t, k.generated_t + k.utilized_prior_t, k.utilization_rate),
        "utilization_plus_disposal": (k.utilized_t + k.disposed_t, k.generated_t + k.utilized_prior_t + k.disposed_prior_t, k.utilization_plus_disposal_rate),
        "disposal_only": (k.disposed_t, k.generated_t, k.disposal_rate),
    }
    out = []
    for m, (num, den, value) in parts.items():
        name, name_zh, formula, formula_zh = RATE_DEFINITIONS[m]
        out.append(OfficialRate(mode=m, name=name, name_zh=name_zh, value=value if den > 0 else None, formula=formula, formula_zh=formula_zh, numerator_t=num, denominator_t=den, target_applies=m == mode))
    return out


def unmanaged_summary(s: Scenario, flows: list[FlowRow]) -> UnmanagedSummary:
    """The plan's unmanaged tonnes and the scenario's policy on them, as a headline.

    Args:
        s: the scenario (``policy.allow_unmanaged`` and the penalty).
        flows: the plan's flow rows (unmanaged rows have ``kind`` ``unmanaged``).

    Returns:
        The summary with an English and a Chinese headline line.
    """
    policy = s.policy
    dumped = [f for f in flows if f.kind == "unmanaged"]
    tonnes = sum(f.tonnes for f in dumped)
    tax = sum(f.tax_cny for f in dumped)
    pen = sum(f.penalty_cny for f in dumped)
    by_stream: dict[str, float] = defaultdict(float)
    for f in dumped:
        by_stream[f.stream] += f.tonnes
    if not policy.allow_unmanaged:
        en = "Unmanaged (dumped) tonnes: none; prohibited by the scenario (policy.allow_unmanaged is false), every tonne goes to a project or a sink."
        zh = "未妥善处置量：0；本情景不允许未妥善处置（policy.allow_unmanaged 为 false），每吨固废均进入利用项目或处置/贮存设施。"
    elif tonnes <= 0:
        en = f"Unmanaged (dumped) tonnes: none; the scenario allows them at the environmental tax plus {policy.penalty_cny_per_t:,.0f} CNY/t."
        zh = f"未妥善处置量：0；本情景允许未妥善处置，按环境保护税另加 {policy.penalty_cny_per_t:,.0f} 元/吨计价。"
    else:
        top = ", ".join(f"{k} {v:,.0f} t/yr" for k, v in sorted(by_stream.items(), key=lambda x: (-x[1], x[0])))
        top_zh = "，".join(f"{k} {v:,.0f} 吨/年" for k, v in sorted(by_stream.items(), key=lambda x: (-x[1], x[0])))
        en = f"Unmanaged (dumped): {tonnes:,.0f} t/yr ({top}), allowed by the scenario at the environmental tax plus {policy.penalty_cny_per_t:,.0f} CNY/t: {tax + pen:,.0f} CNY/yr (tax {tax:,.0f}, penalty {pen:,.0f})."
        zh = f"未妥善处置：{tonnes:,.0f} 吨/年（{top_zh}），本情景允许，按环境保护税另加 {policy.penalty_cny_per_t:,.0f} 元/吨计价：{tax + pen:,.0f} 元/年（税 {tax:,.0f}，罚金 {pen:,.0f}）。"
    return UnmanagedSummary(allowed=policy.allow_unmanaged, penalty_cny_per_t=policy.unmanaged_penalty_cny_per_t, tonnes=tonnes, tax_cny=tax, penalty_cny=pen, by_stream=dict(sorted(by_stream.items())), headline=en, headline_zh=zh)


def outlet_loads(s: Scenario, flows: list[FlowRow]) -> list[OutletLoad]:
    """Intake of every project and sink against its capacity (``capacity_t`` None: no limit).

    Every outlet of the scenario has a row, including idle ones and uncapped sinks (a tailings
    dam without an annual cap may take the park's largest flow).
    """
    intake: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.destination_kind != "unmanaged":
            intake[f.destination] += f.tonnes
    rows = [OutletLoad(outlet=p.id, kind="project", name_zh=p.name_zh, name_en=p.name_en, intake_t=intake[p.id], capacity_t=p.capacity_t, min_intake_t=p.min_intake_t, load_share=intake[p.id] / p.capacity_t if p.capacity_t > 0 else None) for p in s.projects]
    rows += [OutletLoad(outlet=d.id, kind="sink", name_zh=d.name_zh, name_en=d.name_en, intake_t=intake[d.id], capacity_t=d.capacity_t, min_intake_t=0.0, load_share=intake[d.id] / d.capacity_t if d.capacity_t else None) for d in s.sinks]
    return sorted(rows, key=lambda r: (r.kind, r.outlet))


def cost_terms(s: Scenario, flows: list[FlowRow], reclaim: dict[str, float]) -> dict[str, float]:
    """Recompute the objective's terms (CNY/yr) from flow rows and the scenario's prices."""
    sinks = {d.id: d for d in s.sinks}
    rc = {k.id: k.reclaim_cost_cny_per_t for k in s.stockpiles}
    terms = dict.fromkeys(COST_TERMS, 0.0)
    for f in flows:
        terms["transport_cny"] += f.transport_cny
        terms["revenue_cny"] += f.revenue_cny
        terms["environmental_tax_cny"] += f.tax_cny
        terms["incentives_cny"] += getattr(f, "incentive_cny", 0.0)
        terms["unmanaged_penalty_cny"] += f.penalty_cny
        if f.destination_kind == "project":
            terms["processing_cny"] += f.handling_cny
        elif f.destination_kind == "sink":
            key = "disposal_fees_cny" if sinks[f.destination].counts_as == SinkBooking.disposal else "storage_fees_cny"
            terms[key] += f.handling_cny
    terms["reclaim_cny"] = sum(rc[k] * t for k, t in reclaim.items())
    return terms


#: Sign with which each cost term enters the objective (revenue and incentives: −1).
TERM_SIGNS: dict[str, int] = {t.name: t.sign for t in TERMS}


def total_cost(terms: dict[str, float]) -> float:
    """Return the objective from its terms (revenue and incentives subtracted, as the registry says)."""
    return sum(TERM_SIGNS.get(k, 1) * v for k, v in terms.items())


def assemble_plan(scenario: Scenario, flows: list[FlowRow], reclaim: dict[str, float], fates: list[StreamFate], k: Kpis, *, objective_cny: float, target: float, bottlenecks: list[Bottleneck], audit: AuditReport, warnings: list[str], solver: dict[str, Any], why_not: list[WhyNot] | None = None, target_marginal_cost: TargetMarginalCost | None = None, max_utilization_rate: float | None = None) -> Plan:
    """Put a plan together from its parts (the tables that follow from flows are computed here).

    Args:
        scenario: the scenario the plan is for.
        flows: the plan's flow rows.
        reclaim: tonnes reclaimed per stockpile.
        fates: the stream fates (:func:`stream_fates`).
        k: the KPIs (:func:`kpis`).
        objective_cny: the solver's objective.
        target: the target the plan had to reach.
        bottlenecks: the bottleneck cards.
        audit: the audit report.
        warnings: texts to show with the plan.
        solver: what the solver reported (name, status, message, runtime).
        why_not: why-not entries.
        target_marginal_cost: the target's price and range.
        max_utilization_rate: the highest reachable rate.

    Returns:
        The plan.
    """
    return Plan(
        scenario_id=scenario.id,
        status="optimal",
        target=target,
        rate_mode=scenario.policy.rate_mode.value,
        utilization_rate=k.utilization_rate,
        objective_cny=objective_cny,
        cost_terms=cost_terms(scenario, flows, reclaim),
        kpis=k,
        flows=flows,
        stream_fates=fates,
        outlet_loads=outlet_loads(scenario, flows),
        rates_by_category=group_rates(scenario, fates, "category"),
        rates_by_firm=group_rates(scenario, fates, "firm"),
        rates=official_rates(k, scenario.policy.rate_mode),
        unmanaged=unmanaged_summary(scenario, flows),
        reclaim_t=reclaim,
        bottlenecks=bottlenecks,
        why_not=why_not or [],
        target_marginal_cost=target_marginal_cost,
        max_utilization_rate=max_utilization_rate,
        airspace=airspace_rows(scenario, flows),
        co2_t=carbon_summary(scenario, flows, bottlenecks),
        markets=market_rows(scenario, flows, bottlenecks),
        incentives_cny=incentive_summary(scenario, flows, objective_cny),
        firm_targets=firm_target_rows(scenario, flows, bottlenecks),
        audit=audit,
        warnings=warnings,
        solver=solver,
        labels=labels(scenario),
    )
