"""Product markets, tax incentives and firms' duties of a plan (issue 15), read from its flows.

Stage: (``Scenario``, flow rows, bottleneck cards) -> the plan's ``markets``,
``incentives_cny`` and ``firm_targets`` (:class:`flowopt.results.Plan`). Everything here is
computed from the flows and the scenario's own records, so the audit (:mod:`flowopt.audit`)
can recompute it independently of the solver:

* **Markets.** A project with ``markets`` makes ``y_{p,m}`` t of product per t of feed for market
  m; the market sells Q_m = Σ_p y_{p,m} F_p. Its price tiers fill in order (prices fall from tier
  to tier, so the least-cost plan always fills the dearer tiers first), which gives the tonnes
  per tier, the tier reached and the revenue R_m(Q_m) (concave, piecewise linear).
* **Incentives.** Per project φ_p × its product revenue, φ_p = ``vat_refund_rate`` ×
  ``vat_rate`` + (1 − ``taxable_revenue_share``) × ``income_tax_rate``, split into the VAT refund
  and the income tax saved; the plan's cost without them is its objective plus their total.
* **Firms' duties.** A firm's rate by its ledger (台账): its own streams' and stockpiles'
  tonnes delivered to the outlets the chosen rate counts, over its generation plus the part
  from its stockpiles (``models/README.md`` section 14).

The flows are typed loosely (any object with :class:`flowopt.results.FlowRow`'s fields), since
:mod:`flowopt.results` imports this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowopt.formulation.lp import component_name
from flowopt.schema import ProjectBooking, RateMode, Scenario, SinkBooking


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MarketTierRow(_Out):
    """One price tier of a market in a plan."""

    tier: int
    """1 for the first (dearest) tier."""
    from_t: float
    """Tonnes of product sold in the market before this tier starts (t/yr)."""
    upto_t: float | None
    """Where the tier ends (t/yr); ``None`` for the open last tier."""
    price_cny_per_t: float
    """CNY per tonne of product."""
    sold_t: float
    """Tonnes of product sold in this tier (t/yr)."""


class MarketRow(_Out):
    """A product market in a plan: what is sold against its demand, and at what prices."""

    market: str
    name_zh: str
    name_en: str
    limit_t: float | None
    """Demand limit (t/yr of product); ``None``: no limit."""
    sold_t: float
    """Tonnes of product sold by all its projects (t/yr)."""
    revenue_cny: float
    """Revenue from the tiers (CNY/yr), the projects' ``revenue_cny_per_t`` aside."""
    tier_reached: int
    """The last tier with sales (1 for the first; 0 when nothing is sold or the market has no tiers)."""
    price_reached_cny_per_t: float | None
    """Price of that tier: what the last tonne sold fetches (CNY/t); ``None`` when nothing is sold."""
    binds: bool
    """True when the sales reach the demand limit."""
    shadow_price_cny_per_t: float | None = None
    """When the demand binds: CNY/yr saved per extra t/yr of demand (the card's price)."""
    valid_from_t: float | None = None
    """Lowest demand for which that price holds (t/yr)."""
    valid_to_t: float | None = None
    """Highest demand for which that price holds (t/yr); ``None``: unbounded."""
    by_project: dict[str, float] = {}
    """Tonnes of product each project sells in it (t/yr)."""
    tiers: list[MarketTierRow] = []
    """The price tiers with their tonnes; empty for a market without tiers (its projects'
    ``revenue_cny_per_t`` pays)."""


class IncentiveRow(_Out):
    """The tax incentives of one project in a plan (CNY/yr)."""

    project: str
    name_zh: str
    name_en: str
    incentive_item: str
    """The catalogue item(s) behind them (``projects.incentive_item``)."""
    revenue_cny: float
    """Product revenue they are reckoned on (CNY/yr)."""
    vat_refund_rate: float
    vat_rate: float
    taxable_revenue_share: float
    income_tax_rate: float
    vat_refund_cny: float
    """vat_refund_rate × vat_rate × revenue."""
    income_tax_cny: float
    """(1 − taxable_revenue_share) × income_tax_rate × revenue."""
    total_cny: float


class IncentiveSummary(_Out):
    """The plan's tax incentives: the cost term ``incentives_cny``, split, and the cost without them."""

    applied: bool
    """``policy.apply_incentives``: False plans as if there were none (all amounts 0)."""
    total_cny: float
    """CNY/yr, subtracted from the cost (the cost term ``incentives_cny``)."""
    vat_refund_cny: float
    income_tax_cny: float
    objective_without_cny: float
    """The same plan's cost without the incentives: objective + total (CNY/yr). Re-solving with
    ``policy.apply_incentives: false`` gives the least cost without them (never more than this)."""
    by_project: list[IncentiveRow] = []
    """Projects with incentives and revenue, largest first."""


class FirmTargetRow(_Out):
    """A firm's duty (主体责任) in a plan: its ledger rate against its target."""

    firm: str
    name_zh: str
    name_en: str
    target_rate: float
    rate: float | None
    """The firm's rate by its ledger: delivered / (generated + prior); ``None`` when that is 0."""
    delivered_t: float
    """Its own tonnes delivered to the outlets the rate counts (t/yr): N_f."""
    prior_t: float
    """The part from its stockpiles (prior-year stock), E_f (t/yr)."""
    generated_t: float
    """Generation of its streams, G_f (t/yr)."""
    binds: bool
    """True when the duty binds (a card with a price exists)."""
    cny_per_point: float | None = None
    """When it binds: CNY/yr the park pays per extra percentage point of the duty."""
    valid_from: float | None = None
    valid_to: float | None = None
    formula: str = "N_f / (G_f + E_f): the firm's own tonnes delivered to counted outlets, its own or others' / (its generation + its prior-year stock delivered)"
    formula_zh: str = "N_f ÷（G_f + E_f）：企业自有固废交付计入口径去向的吨数（自行利用 + 委托利用）÷（当年产生量 + 交付的往年贮存量）"


def tier_fill(tiers: Sequence[tuple[float | None, float]], sold: float) -> list[float]:
    """Tonnes of ``sold`` in each tier when the tiers fill in order (the dearest first).

    Args:
        tiers: ``(upto_t, price)`` in selling order, the last open (``upto_t`` ``None``).
        sold: tonnes sold in the market.

    Returns:
        Tonnes per tier (the last takes the rest).
    """
    out, low, left = [], 0.0, max(sold, 0.0)
    for upto, _ in tiers:
        take = left if upto is None else min(left, float(upto) - low)
        out.append(take)
        left -= take
        low = low if upto is None else float(upto)
    if out and left > 0:
        out[-1] += left
    return out


def market_tonnes(s: Scenario, flows: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Market -> project -> tonnes of product sold (y_{p,m} × the project's feed in ``flows``)."""
    feed: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.destination_kind == "project":
            feed[f.destination] += f.tonnes
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for p in s.projects:
        for m, y in p.market_yields.items():
            out[m][p.id] = y * feed.get(p.id, 0.0)
    return dict(out)


def tiers_of(s: Scenario) -> dict[str, list[tuple[float | None, float]]]:
    """Market -> price tiers in selling order (as :func:`flowopt.formulation.network.market_tiers`)."""
    from flowopt.formulation.network import market_tiers

    return market_tiers(s)


def market_revenue_cny(tiers: Sequence[tuple[float | None, float]], sold: float) -> float:
    """R_m(Q): the revenue of ``sold`` tonnes with the tiers filled in order (CNY/yr)."""
    return sum(t * price for t, (_, price) in zip(tier_fill(tiers, sold), tiers, strict=True))


def _card(bottlenecks: Sequence[Any], family: str, key: str) -> Any:
    name = component_name(family, key)
    return next((b for b in bottlenecks if b.constraint == name), None)


def market_rows(s: Scenario, flows: Sequence[Any], bottlenecks: Sequence[Any] = ()) -> list[MarketRow]:
    """The plan's markets, one row per market some project sells into (by id).

    Args:
        s: the scenario.
        flows: the plan's flow rows.
        bottlenecks: the plan's cards (the demand's shadow price and range when it binds).

    Returns:
        The rows; empty for a scenario without markets.
    """
    if not s.markets:
        return []
    tonnes = market_tonnes(s, flows)
    tiers = tiers_of(s)
    tiered = {t.market for t in s.market_tiers}
    out = []
    for m in sorted(s.markets, key=lambda x: x.id):
        if m.id not in tonnes:
            continue
        by_project = dict(sorted(tonnes[m.id].items()))
        sold = sum(by_project.values())
        fill = tier_fill(tiers[m.id], sold)
        rows, low = [], 0.0
        priced = m.id in tiered  # a market without tiers only limits the tonnes: no tier rows
        for k, ((upto, price), t) in enumerate(zip(tiers[m.id], fill, strict=True), start=1):
            if priced:
                rows.append(MarketTierRow(tier=k, from_t=low, upto_t=upto, price_cny_per_t=price, sold_t=t))
            low = low if upto is None else float(upto)
        reached = max((r.tier for r in rows if r.sold_t > 1e-6), default=0)
        card = _card(bottlenecks, "market_demand", m.id)
        binds = m.limit_t is not None and sold >= m.limit_t - max(1e-6, 1e-9 * m.limit_t)
        out.append(MarketRow(market=m.id, name_zh=m.name_zh or m.id, name_en=m.name_en or m.id, limit_t=m.limit_t, sold_t=sold, revenue_cny=sum(r.sold_t * r.price_cny_per_t for r in rows),
                             tier_reached=reached, price_reached_cny_per_t=rows[reached - 1].price_cny_per_t if reached else None, binds=binds,
                             shadow_price_cny_per_t=card.shadow_price if card else (0.0 if binds else None), valid_from_t=card.valid_from if card else None, valid_to_t=card.valid_to if card else None,
                             by_project=by_project, tiers=rows))
    return out


def incentive_summary(s: Scenario, flows: Sequence[Any], objective_cny: float) -> IncentiveSummary | None:
    """The plan's tax incentives, or ``None`` when no project has any.

    Args:
        s: the scenario.
        flows: the plan's flow rows (their ``revenue_cny`` and ``incentive_cny``).
        objective_cny: the plan's cost.

    Returns:
        The summary (amounts 0 when ``policy.apply_incentives`` is false).
    """
    projects = [p for p in s.projects if p.incentive_factor > 0]
    if not projects:
        return None
    revenue: dict[str, float] = defaultdict(float)
    given: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.destination_kind == "project":
            revenue[f.destination] += f.revenue_cny
            given[f.destination] += getattr(f, "incentive_cny", 0.0)
    applied = s.policy.apply_incentives
    rows = []
    for p in projects:
        rev = revenue.get(p.id, 0.0)
        if rev == 0:
            continue
        vat = p.vat_refund_rate * p.vat_rate * rev if applied else 0.0
        tax = (1.0 - p.taxable_revenue_share) * p.income_tax_rate * rev if applied else 0.0
        rows.append(IncentiveRow(project=p.id, name_zh=p.name_zh or p.id, name_en=p.name_en or p.id, incentive_item=p.incentive_item, revenue_cny=rev, vat_refund_rate=p.vat_refund_rate, vat_rate=p.vat_rate,
                                 taxable_revenue_share=p.taxable_revenue_share, income_tax_rate=p.income_tax_rate, vat_refund_cny=vat, income_tax_cny=tax, total_cny=given.get(p.id, 0.0)))
    rows.sort(key=lambda r: (-r.total_cny, r.project))
    total = sum(given.values())
    return IncentiveSummary(applied=applied, total_cny=total, vat_refund_cny=sum(r.vat_refund_cny for r in rows), income_tax_cny=sum(r.income_tax_cny for r in rows), objective_without_cny=objective_cny + total, by_project=rows)


def counted_outlets(s: Scenario) -> set[str]:
    """Outlets whose deliveries a firm's ledger counts under ``policy.rate_mode``."""
    util = {p.id for p in s.projects if p.counts_as == ProjectBooking.utilization}
    disp = {p.id for p in s.projects if p.counts_as == ProjectBooking.disposal} | {d.id for d in s.sinks if d.counts_as == SinkBooking.disposal}
    mode = s.policy.rate_mode
    return util if mode == RateMode.utilization else util | disp if mode == RateMode.utilization_plus_disposal else disp


def firm_ledger(s: Scenario, flows: Sequence[Any]) -> dict[str, tuple[float, float, float]]:
    """Firm -> ``(N_f, E_f, G_f)``: delivered, of which prior-year stock, and generated (t/yr).

    Counted from the flows of the firm's own generation and stock lots (``source_kind``
    ``generation`` or ``stock``) to the outlets of :func:`counted_outlets`; every firm of the
    scenario has an entry.
    """
    counted = counted_outlets(s)
    stream_firm = {x.id: x.firm for x in s.streams}
    delivered: dict[str, float] = defaultdict(float)
    prior: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.source_kind == "residue" or f.destination not in counted:
            continue
        owner = stream_firm.get(f.stream)
        if owner is None:
            continue
        delivered[owner] += f.tonnes
        if f.source_kind == "stock" and s.policy.rate_mode != RateMode.disposal_only:
            prior[owner] += f.tonnes
    gen: dict[str, float] = defaultdict(float)
    for x in s.streams:
        if x.firm is not None:
            gen[x.firm] += x.generation_t
    return {f.id: (delivered.get(f.id, 0.0), prior.get(f.id, 0.0), gen.get(f.id, 0.0)) for f in s.firms}


def firm_target_rows(s: Scenario, flows: Sequence[Any], bottlenecks: Sequence[Any] = ()) -> list[FirmTargetRow]:
    """The firms' duties in a plan, one row per firm with ``target_rate`` (by id).

    Args:
        s: the scenario.
        flows: the plan's flow rows.
        bottlenecks: the plan's cards (the duty's price and range when it binds).

    Returns:
        The rows; empty when no firm has a duty.
    """
    if not any(f.target_rate is not None for f in s.firms):
        return []
    ledger = firm_ledger(s, flows)
    out = []
    for f in sorted(s.firms, key=lambda x: x.id):
        if f.target_rate is None:
            continue
        n, e, g = ledger[f.id]
        card = _card(bottlenecks, "firm_target", f.id)
        out.append(FirmTargetRow(firm=f.id, name_zh=f.name_zh or f.id, name_en=f.name_en or f.id, target_rate=f.target_rate, rate=n / (g + e) if g + e > 0 else None, delivered_t=n, prior_t=e, generated_t=g,
                                 binds=card is not None, cny_per_point=card.shadow_price if card else None, valid_from=card.valid_from if card else None, valid_to=card.valid_to if card else None))
    return out
