"""Results: solved LP -> ``Plan`` (pydantic) with its pandas tables.

Stage: (``MaterialGraph``, solved :class:`~flowopt.solve.SolveOutcome`) -> ``Plan``. Column values
are read by family and position (``flow_t`` in arc order, ``unmanaged_t``, ``reclaim_t``). Everything a user
sees is computed here from the solver's flows and the scenario's own numbers: flows with their
cost terms, the fate of every stream, project and sink loads, the official rates overall, per
waste category and per firm. :mod:`flowopt.audit` then checks the plan against the input.

The fate of a residue is shared among the streams that fed its project in proportion to their
feed (the project's feed is treated as well mixed), so per-stream, per-firm and per-category
figures add up exactly to the park totals.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.formulation.families import COST_TERMS
from flowopt.graph import MaterialGraph
from flowopt.schema import ProjectBooking, RateMode, Scenario, SinkBooking
from flowopt.solve import SolveOutcome

FlowKind = Literal["reuse", "disposal", "storage", "unmanaged"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowRow(_Out):
    """Tonnes of one lot sent to one destination, with the costs they carry (CNY/yr)."""

    stream: str
    category: str
    """Waste category of the stream."""
    origin: Literal["new", "legacy"]
    source_kind: Literal["generation", "stock", "residue"]
    source: str
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
    tax_cny: float
    penalty_cny: float
    cost_cny: float
    """transport + handling + tax + penalty − revenue."""


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
    """Intake of a project or sink against its limits."""

    outlet: str
    kind: Literal["project", "sink"]
    name_zh: str
    name_en: str
    intake_t: float
    capacity_t: float | None
    min_intake_t: float
    load_share: float | None
    """intake / capacity."""


class RateRow(_Out):
    """The official utilization rate for one group (waste category or firm)."""

    group: str
    generated_t: float
    utilized_t: float
    utilized_prior_t: float
    rate: float | None


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
    ``stock_reclaim_limit``, ``quality_max``, ``quality_min``, ``feed_share`` or ``target``."""
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
    reclaim_t: dict[str, float]
    bottlenecks: list[Bottleneck]
    why_not: list[WhyNot] = []
    target_marginal_cost: TargetMarginalCost | None = None
    max_utilization_rate: float | None = None
    """Highest value of the chosen rate any plan can reach (cost ignored)."""
    audit: AuditReport
    warnings: list[str]
    solver: dict[str, Any]
    labels: dict[str, dict[str, str]] = {}
    """Display names per id (streams, stockpiles, projects, sinks, firms, sites):
    ``{"W01": {"name_zh": …, "name_en": …}}``."""

    def tables(self) -> dict[str, Any]:
        """Return the plan's tables as pandas DataFrames keyed by table name."""
        import pandas as pd  # only callers of tables() pay for pandas

        return {
            "flows": pd.DataFrame([f.model_dump() for f in self.flows]),
            "stream_fates": pd.DataFrame([f.model_dump() for f in self.stream_fates]),
            "outlet_loads": pd.DataFrame([f.model_dump() for f in self.outlet_loads]),
            "rates_by_category": pd.DataFrame([r.model_dump() for r in self.rates_by_category]),
            "rates_by_firm": pd.DataFrame([r.model_dump() for r in self.rates_by_firm]),
            "bottlenecks": pd.DataFrame([b.model_dump() for b in self.bottlenecks]),
            "why_not": pd.DataFrame([w.model_dump() for w in self.why_not]),
            "audit": pd.DataFrame([c.model_dump() for c in self.audit.checks]),
        }


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
    """Read flows (with their cost terms) and reclaim tonnes from a solved LP.

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
    penalty = s.policy.unmanaged_penalty_cny_per_t
    rows: list[FlowRow] = []
    flows = _clean(outcome.cols("flow_t"))
    for j in np.flatnonzero(flows > 0):
        arc = g.arcs[int(j)]
        t = float(flows[j])
        lot = g.lots[arc.lot]
        transport = arc.transport_cny_per_t * t
        if arc.outlet in g.projects:
            p = g.projects[arc.outlet]
            handling, revenue = p.processing_cost_cny_per_t * t, p.revenue_cny_per_t * t
            kind: FlowKind = "reuse" if p.counts_as == ProjectBooking.utilization else "disposal"
            dkind: Literal["project", "sink"] = "project"
        else:
            d = g.sinks[arc.outlet]
            handling, revenue = d.fee_cny_per_t * t, 0.0
            kind = "disposal" if d.counts_as == SinkBooking.disposal else "storage"
            dkind = "sink"
        # built from the solver's numbers and validated records: no field needs checking again
        rows.append(FlowRow.model_construct(stream=lot.stream, category=category[lot.stream].value, origin=lot.origin, source_kind=lot.kind, source=lot.source, from_site=lot.site, destination=arc.outlet, destination_kind=dkind, kind=kind, tonnes=t, distance_km=arc.distance_km, transport_cny=transport, handling_cny=handling, revenue_cny=revenue, tax_cny=0.0, penalty_cny=0.0, cost_cny=transport + handling - revenue))
    unmanaged = _clean(outcome.cols("unmanaged_t"))
    for lid, t in zip(lp.cols["unmanaged_t"].keys, unmanaged, strict=True):
        if t <= 0:
            continue
        lot = g.lots[str(lid)]
        tx, pen = tax.rate(category[lot.stream]) * float(t), penalty * float(t)
        rows.append(FlowRow.model_construct(stream=lot.stream, category=category[lot.stream].value, origin=lot.origin, source_kind=lot.kind, source=lot.source, from_site=lot.site, destination="unmanaged", destination_kind="unmanaged", kind="unmanaged", tonnes=float(t), distance_km=0.0, transport_cny=0.0, handling_cny=0.0, revenue_cny=0.0, tax_cny=tx, penalty_cny=pen, cost_cny=tx + pen))
    reclaim = {str(k): float(t) for k, t in zip(lp.cols["reclaim_t"].keys, _clean(outcome.cols("reclaim_t")), strict=True)}
    rows.sort(key=lambda r: (r.stream, r.source_kind, r.source, r.origin, r.destination))
    return rows, reclaim


def lot_id(row: FlowRow) -> str:
    """Return the lot id of a flow row (``gen:…``, ``stock:…`` or ``res:…``)."""
    if row.source_kind == "generation":
        return f"gen:{row.stream}"
    if row.source_kind == "stock":
        return f"stock:{row.source}"
    return f"res:{row.source}:{row.stream}:{row.origin}"


def _attribution(s: Scenario, flows: list[FlowRow]) -> dict[str, dict[str, float]]:
    """Share of each lot's tonnes that comes from each root (stream or stockpile).

    Residue lots inherit the mix of their project's feed of the same origin. Residue cycles
    (gain < 1, checked by the graph) converge under fixed-point iteration.
    """
    into: dict[tuple[str, str], list[FlowRow]] = defaultdict(list)
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
        rows.append(RateRow(group=k, generated_t=gen[k], utilized_t=u[k] + up[k], utilized_prior_t=up[k], rate=(u[k] + up[k]) / den if den > 0 else None))
    return rows


def outlet_loads(s: Scenario, flows: list[FlowRow]) -> list[OutletLoad]:
    """Intake of every project and sink against its capacity."""
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
        terms["unmanaged_penalty_cny"] += f.penalty_cny
        if f.destination_kind == "project":
            terms["processing_cny"] += f.handling_cny
        elif f.destination_kind == "sink":
            key = "disposal_fees_cny" if sinks[f.destination].counts_as == SinkBooking.disposal else "storage_fees_cny"
            terms[key] += f.handling_cny
    terms["reclaim_cny"] = sum(rc[k] * t for k, t in reclaim.items())
    return terms


def total_cost(terms: dict[str, float]) -> float:
    """Return the objective from its terms (revenue subtracted)."""
    return sum(v for k, v in terms.items() if k != "revenue_cny") - terms["revenue_cny"]


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
        reclaim_t=reclaim,
        bottlenecks=bottlenecks,
        why_not=why_not or [],
        target_marginal_cost=target_marginal_cost,
        max_utilization_rate=max_utilization_rate,
        audit=audit,
        warnings=warnings,
        solver=solver,
        labels=labels(scenario),
    )
