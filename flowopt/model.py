r"""Model: ``MaterialGraph`` -> Pyomo ``ConcreteModel`` (builds, never solves).

One function per constraint family, each with its formula and symbols; ``models/README.md``
is the reader's version of the same formulation and a test keeps the two in step (every
component name of the model appears there, and every name there exists in the model).

Symbols used throughout (t = tonnes per year):

==================  ==========================  ==============================================
symbol              Pyomo name                  meaning
==================  ==========================  ==============================================
:math:`x_{l,o}`     ``flow_t[l, o]``            tonnes of lot l sent to outlet o
:math:`u_l`         ``unmanaged_t[l]``          tonnes of a current-year lot left unmanaged
:math:`r_k`         ``reclaim_t[k]``            tonnes reclaimed from stockpile k
:math:`F_p`         ``feed_t[p]``               feed of project p (expression)
:math:`F_{p,g}`     ``feed_origin_t[p, g]``     feed of project p of origin g ∈ {new, legacy}
==================  ==========================  ==============================================
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from flowopt.graph import MaterialGraph
from flowopt.schema import Co2Basis, ProjectBooking, RateMode, SinkBooking


def build_model(g: MaterialGraph, *, target_rate: float | None = None, with_target: bool = True, investment: bool = False) -> pyo.ConcreteModel:
    """Build the least-cost allocation LP for a material graph.

    Args:
        g: the material graph (from :func:`flowopt.graph.build_graph`).
        target_rate: overrides the scenario's ``policy.target_rate`` when given.
        with_target: add the utilization-target constraint (``False`` builds the model used to
            find the maximum reachable rate and to diagnose an infeasible target).
        investment: add the candidates' investment decisions (``models/README.md`` section 11):
            the model becomes a mixed-integer program. ``False``: the network as it stands.

    Returns:
        A ``ConcreteModel`` with sets, variables, constraints and the objective ``total_cost``.
    """
    m = pyo.ConcreteModel(name=g.scenario.id)
    populate(m, g, target_rate=target_rate, with_target=with_target, investment=investment)
    return m


def populate(m: pyo.Block, g: MaterialGraph, *, target_rate: float | None = None, with_target: bool = True, investment: bool = False) -> None:
    """Add the whole single-year formulation of ``g`` to a block (a model, or a year's block).

    :func:`build_model` calls it on a new model; :func:`build_pathway_model` once per year.
    """
    _add_sets(m, g)
    _add_variables(m, g)
    if investment:
        add_investment_decisions(m, g)
    _add_expressions(m, g)
    add_lot_balance(m, g)
    add_project_capacity(m, g)
    add_project_min_intake(m, g)
    add_feed_share(m, g)
    add_quality_limits(m, g)
    add_sink_capacity(m, g)
    add_sink_airspace(m, g)
    add_route_capacity(m, g)
    add_stock_reclaim_limit(m, g)
    rate = g.scenario.policy.target_rate if target_rate is None else target_rate
    m.target_rate = pyo.Param(initialize=rate, mutable=True, doc="target for the chosen rate [-]")
    if with_target:
        add_utilization_target(m, g)
    add_co2_cap(m, g)
    add_markets(m, g)
    add_firm_targets(m, g)
    if investment:
        add_candidate_size(m, g)
        add_candidate_modules(m, g)
        add_exclusive_group(m, g)
        add_capital_budget(m, g)
    add_objective(m, g)


def _add_sets(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    s = g.scenario
    m.LOTS = pyo.Set(initialize=list(g.lots), ordered=True, doc="sources of one stream with one origin")
    m.ARCS = pyo.Set(initialize=[a.key for a in g.arcs], dimen=2, ordered=True, doc="permitted (lot, outlet) movements")
    m.PROJECTS = pyo.Set(initialize=list(g.projects), ordered=True, doc="reuse projects")
    m.SINKS = pyo.Set(initialize=list(g.sinks), ordered=True, doc="disposal and storage facilities")
    m.STOCKPILES = pyo.Set(initialize=sorted(k.id for k in s.stockpiles if f"stock:{k.id}" in g.lots), ordered=True, doc="reclaimable legacy stockpiles")
    # unmanaged (dumped) tonnes exist only when the scenario allows them explicitly
    allowed = s.policy.allow_unmanaged
    m.UNMANAGED_LOTS = pyo.Set(initialize=[lid for lid, lot in g.lots.items() if lot.origin == "new"] if allowed else [], ordered=True, doc="current-year lots that may be left unmanaged (taxed); empty unless policy.allow_unmanaged")
    m.PROJECT_ORIGINS = pyo.Set(initialize=g.project_origins, dimen=2, ordered=True, doc="(project, origin) pairs that can occur")


def _add_variables(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    m.flow_t = pyo.Var(m.ARCS, domain=pyo.NonNegativeReals, doc="tonnes of a lot sent to an outlet [t/yr]")
    m.unmanaged_t = pyo.Var(m.UNMANAGED_LOTS, domain=pyo.NonNegativeReals, doc="tonnes left unmanaged [t/yr]")
    m.reclaim_t = pyo.Var(m.STOCKPILES, domain=pyo.NonNegativeReals, doc="tonnes reclaimed from a stockpile [t/yr]")


def _add_expressions(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    into: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for a in g.arcs:
        into[(a.outlet, g.lots[a.lot].origin)].append(a.key)
    m.feed_origin_t = pyo.Expression(
        m.PROJECT_ORIGINS,
        rule=lambda m, p, o: sum(m.flow_t[k] for k in into[(p, o)]),
        doc="feed of a project by origin [t/yr]",
    )
    m.feed_t = pyo.Expression(
        m.PROJECTS,
        rule=lambda m, p: sum(m.flow_t[a.key] for a in g.arcs_into(p)),
        doc="total feed of a project [t/yr]",
    )
    m.inflow_t = pyo.Expression(
        m.SINKS,
        rule=lambda m, d: sum(m.flow_t[a.key] for a in g.arcs_into(d)),
        doc="tonnes placed in a sink [t/yr]",
    )
    _add_rate_expressions(m, g)


def _booked_factor(g: MaterialGraph, pid: str) -> float:
    """Tonnes booked (as utilized or disposed) per tonne of project feed."""
    p = g.projects[pid]
    losses = p.loss_fraction if g.scenario.policy.count_losses_as_utilized else 0.0
    return p.product_fraction + losses


def _add_rate_expressions(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Statistical quantities of the official rate, all linear in the flows.

    .. math::
        U_g = \sum_{p \in P^{U}} (\pi_p + \lambda_p) F_{p,g}, \qquad
        D_g = \sum_{p \in P^{D}} (\pi_p + \lambda_p) F_{p,g} + \sum_{d \in D^{D}} \sum_{l: g(l)=g} x_{l,d}

    with :math:`\pi_p` the product fraction, :math:`\lambda_p` the loss fraction (0 when
    ``count_losses_as_utilized`` is false), :math:`P^U`/:math:`P^D` projects booked as
    utilization/disposal and :math:`D^D` sinks booked as disposal.
    """
    utilizing = {p for p, x in g.projects.items() if x.counts_as == ProjectBooking.utilization}

    def project_part(m: pyo.ConcreteModel, origin: str, booked: bool) -> pyo.Expression:
        return sum(
            _booked_factor(g, p) * m.feed_origin_t[p, o]
            for p, o in g.project_origins
            if o == origin and (p in utilizing) == booked
        )

    def sink_part(m: pyo.ConcreteModel, origin: str) -> pyo.Expression:
        return sum(
            m.flow_t[a.key]
            for a in g.arcs
            if a.outlet in g.sinks and g.sinks[a.outlet].counts_as == SinkBooking.disposal and g.lots[a.lot].origin == origin
        )

    m.utilized_new_t = pyo.Expression(expr=project_part(m, "new", True), doc="U_new: current-year tonnes utilized [t/yr]")
    m.utilized_prior_t = pyo.Expression(expr=project_part(m, "legacy", True), doc="U_prior: prior-year stock utilized [t/yr]")
    m.disposed_new_t = pyo.Expression(expr=project_part(m, "new", False) + sink_part(m, "new"), doc="D_new: current-year tonnes disposed [t/yr]")
    m.disposed_prior_t = pyo.Expression(expr=project_part(m, "legacy", False) + sink_part(m, "legacy"), doc="D_prior: prior-year stock disposed [t/yr]")


def generation_total_t(g: MaterialGraph) -> float:
    """Return G, the tonnes generated in the year (residues and reclaim excluded)."""
    return float(sum(x.generation_t for x in g.scenario.streams))


def add_lot_balance(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Every lot is fully routed: to outlets, or (current-year lots only) left unmanaged.

    .. math::
        \sum_{o} x_{l,o} + u_l = S_l \quad \forall l \in \mathrm{LOTS}

    where the supply :math:`S_l` is :math:`G_s` for a generation lot of stream s,
    :math:`r_k` for a stock lot of stockpile k, and :math:`\rho_{p,s} F_{p,g}` for the residue
    lot of stream s from project p with origin g (:math:`\rho_{p,s}` the residue fraction).
    :math:`u_l` exists only for origin ``new`` (the plan never reclaims stock to dump it) and
    only when ``policy.allow_unmanaged`` is true (l ∈ ``UNMANAGED_LOTS``); otherwise every
    tonne must reach an outlet.
    """
    s = g.scenario
    gen = {x.id: x.generation_t for x in s.streams}
    frac = {(r.project, r.stream): r.fraction for r in s.residues}

    @m.Constraint(m.LOTS, doc="outflow + unmanaged = supply of the lot [t/yr]")
    def lot_balance(m: pyo.ConcreteModel, lid: str) -> pyo.Expression:
        lot = g.lots[lid]
        out = sum(m.flow_t[a.key] for a in g.arcs_from(lid))
        if lid in m.UNMANAGED_LOTS:
            out = out + m.unmanaged_t[lid]
        if lot.kind == "generation":
            return out == gen[lot.stream]
        if lot.kind == "stock":
            return out == m.reclaim_t[lot.source]
        return out == frac[(lot.source, lot.stream)] * m.feed_origin_t[lot.source, lot.origin]


def add_project_capacity(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A project's feed stays within its capacity: what exists, plus what is built (investment model).

    .. math:: F_p - \sum_{c \in \mathrm{CANDIDATES}: p(c) = p} s_c \le \overline{C}_p \quad \forall p \in \mathrm{PROJECTS}

    (the sum only in the investment model, :func:`add_investment_decisions`).
    """
    m.capacity_t = pyo.Param(m.PROJECTS, initialize={p: x.capacity_t for p, x in g.projects.items()}, mutable=True, doc="project capacity [t/yr]")
    builds: dict[str, list[str]] = defaultdict(list)
    if hasattr(m, "built_t"):
        for c in m.CANDIDATES:
            builds[_candidate(g, c).project].append(c)
    m.project_capacity = pyo.Constraint(m.PROJECTS, rule=lambda m, p: m.feed_t[p] - sum(m.built_t[c] for c in builds[p]) <= m.capacity_t[p], doc="feed - capacity built <= capacity [t/yr]")


def add_project_min_intake(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A project with a minimum intake receives at least that much.

    .. math:: F_p \ge \underline{C}_p \quad \forall p : \underline{C}_p > 0
    """
    m.MIN_INTAKE_PROJECTS = pyo.Set(initialize=[p for p, x in g.projects.items() if x.min_intake_t > 0], ordered=True, doc="projects with a minimum intake")
    m.min_intake_t = pyo.Param(m.MIN_INTAKE_PROJECTS, initialize={p: g.projects[p].min_intake_t for p in m.MIN_INTAKE_PROJECTS}, mutable=True, doc="minimum intake [t/yr]")
    m.project_min_intake = pyo.Constraint(m.MIN_INTAKE_PROJECTS, rule=lambda m, p: m.feed_t[p] >= m.min_intake_t[p], doc="feed >= minimum intake [t/yr]")


def add_feed_share(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A stream forms at most a given share of an outlet's intake.

    .. math:: \sum_{l: s(l)=s} x_{l,o} \le \sigma_{o,s} \sum_{l} x_{l,o} \quad \forall (o,s): \sigma_{o,s} < 1
    """
    limits = {(a.outlet, a.stream): a.max_share for a in g.scenario.accepts if a.max_share < 1 and a.stream != "*"}
    keys = sorted(k for k in limits if g.arcs_into(k[0]))
    m.SHARE_LIMITS = pyo.Set(initialize=keys, dimen=2, ordered=True, doc="(outlet, stream) pairs with a share cap")

    @m.Constraint(m.SHARE_LIMITS, doc="tonnes of the stream <= share x intake of the outlet [t/yr]")
    def feed_share(m: pyo.ConcreteModel, o: str, s: str) -> pyo.Expression:
        arcs = g.arcs_into(o)
        part = sum(m.flow_t[a.key] for a in arcs if g.lots[a.lot].stream == s)
        return part - limits[(o, s)] * sum(m.flow_t[a.key] for a in arcs) <= 0


def add_quality_limits(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""The blended feed of a project respects component limits.

    .. math::
        \sum_{l} (c_{s(l),k} - \overline{q}_{p,k})\, x_{l,p} \le 0, \qquad
        \sum_{l} (c_{s(l),k} - \underline{q}_{p,k})\, x_{l,p} \ge 0

    with :math:`c_{s,k}` the fraction of component k in stream s.
    """
    comp = {(c.stream, c.component): c.fraction for c in g.scenario.composition}
    upper = {(q.project, q.component): q.max_fraction for q in g.scenario.quality if q.max_fraction is not None and g.arcs_into(q.project)}
    lower = {(q.project, q.component): q.min_fraction for q in g.scenario.quality if q.min_fraction is not None and g.arcs_into(q.project)}
    m.QUALITY_MAX = pyo.Set(initialize=sorted(upper), dimen=2, ordered=True, doc="(project, component) pairs with a maximum")
    m.QUALITY_MIN = pyo.Set(initialize=sorted(lower), dimen=2, ordered=True, doc="(project, component) pairs with a minimum")

    def blend(m: pyo.ConcreteModel, p: str, k: str, q: float) -> pyo.Expression:
        return sum((comp[(g.lots[a.lot].stream, k)] - q) * m.flow_t[a.key] for a in g.arcs_into(p))

    m.quality_max = pyo.Constraint(m.QUALITY_MAX, rule=lambda m, p, k: blend(m, p, k, upper[(p, k)]) <= 0, doc="component mass <= max fraction x feed [t/yr]")
    m.quality_min = pyo.Constraint(m.QUALITY_MIN, rule=lambda m, p, k: blend(m, p, k, lower[(p, k)]) >= 0, doc="component mass >= min fraction x feed [t/yr]")


def add_sink_capacity(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A sink with a capacity accepts at most that much per year.

    .. math:: \sum_{l} x_{l,d} \le \overline{K}_d \quad \forall d : \overline{K}_d \text{ given}
    """
    caps = {d: x.capacity_t for d, x in g.sinks.items() if x.capacity_t is not None}
    m.CAPPED_SINKS = pyo.Set(initialize=sorted(caps), ordered=True, doc="sinks with an annual capacity")
    m.sink_capacity_t = pyo.Param(m.CAPPED_SINKS, initialize=caps, mutable=True, doc="sink capacity [t/yr]")
    m.sink_capacity = pyo.Constraint(m.CAPPED_SINKS, rule=lambda m, d: m.inflow_t[d] <= m.sink_capacity_t[d], doc="tonnes placed <= capacity [t/yr]")


def add_sink_airspace(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A sink with a remaining volume (airspace) takes at most that much in the year.

    .. math:: \sum_{l} x_{l,d} \le V_d \quad \forall d : V_d \text{ given}

    (:math:`V_d` = ``remaining_volume_t``; the pathway adds ``airspace_total``, the same over all years.)
    """
    volume = {d: x.remaining_volume_t for d, x in g.sinks.items() if x.remaining_volume_t is not None}
    m.AIRSPACE_SINKS = pyo.Set(initialize=sorted(volume), ordered=True, doc="sinks with a remaining volume")
    m.remaining_volume_t = pyo.Param(m.AIRSPACE_SINKS, initialize=volume, mutable=True, doc="remaining airspace [t]")
    m.sink_airspace = pyo.Constraint(m.AIRSPACE_SINKS, rule=lambda m, d: m.inflow_t[d] <= m.remaining_volume_t[d], doc="tonnes placed <= remaining airspace [t]")


def add_co2_cap(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""The plan's CO2, and the cap on it when ``policy.co2_cap_t`` is given.

    .. math::
        E^{tr} = \sum_{(l,o)} e_{l,o} x_{l,o}, \quad
        E^{pr} = \sum_p \epsilon_p F_p, \quad
        E^{el} = \sum_p \frac{k_p \gamma}{1000} F_p, \quad
        A = \sum_p \pi_p a_p F_p

    .. math:: E^{tr} + E^{pr} + E^{el}\; [- A] \le \overline{E} \quad (\text{gross}\; [\text{net}])

    e_{l,o} is the route's ``transport_tco2_per_t`` where one applies, else
    ``transport.tco2_per_t_km`` × km; ε_p ``process_tco2_per_t``, k_p ``electricity_kwh_per_t``,
    γ ``policy.grid_tco2_per_mwh``, a_p ``product_avoided_tco2_per_t`` (per tonne of product).
    """
    from flowopt.graph import matching_routes, route_index

    s = g.scenario
    index = route_index(s.routes)
    site = {**{k: v.site for k, v in g.projects.items()}, **{k: v.site for k, v in g.sinks.items()}}

    def haul(a: Any) -> float:
        lot = g.lots[a.lot]
        own = next((r.transport_tco2_per_t for r in matching_routes(index, lot.site, site[a.outlet], lot.stream) if r.transport_tco2_per_t is not None), None)
        return float(own) if own is not None else s.transport.tco2_per_t_km * a.distance_km

    grid = s.policy.grid_tco2_per_mwh
    m.co2_transport_tco2 = pyo.Expression(expr=sum(haul(a) * m.flow_t[a.key] for a in g.arcs), doc="CO2 of transport [tCO2/yr]")
    m.co2_process_tco2 = pyo.Expression(expr=sum(x.process_tco2_per_t * m.feed_t[p] for p, x in g.projects.items()), doc="direct CO2 of the projects [tCO2/yr]")
    m.co2_electricity_tco2 = pyo.Expression(expr=sum(x.electricity_kwh_per_t * grid / 1000.0 * m.feed_t[p] for p, x in g.projects.items()), doc="CO2 of the projects' electricity [tCO2/yr]")
    m.co2_avoided_tco2 = pyo.Expression(expr=sum(x.product_fraction * x.product_avoided_tco2_per_t * m.feed_t[p] for p, x in g.projects.items()), doc="CO2 of the virgin products displaced [tCO2/yr]")
    m.co2_gross_tco2 = pyo.Expression(expr=m.co2_transport_tco2 + m.co2_process_tco2 + m.co2_electricity_tco2, doc="CO2 emitted [tCO2/yr]")
    m.co2_net_tco2 = pyo.Expression(expr=m.co2_gross_tco2 - m.co2_avoided_tco2, doc="CO2 emitted minus avoided [tCO2/yr]")
    caps = {} if s.policy.co2_cap_t is None else {Co2Basis(s.policy.co2_cap_basis).value: s.policy.co2_cap_t}
    m.CO2_CAPS = pyo.Set(initialize=list(caps), ordered=True, doc="the CO2 total capped: gross or net (empty without a cap)")
    m.co2_cap_t = pyo.Param(m.CO2_CAPS, initialize=caps, mutable=True, doc="CO2 cap [tCO2/yr]")
    m.co2_cap = pyo.Constraint(m.CO2_CAPS, rule=lambda m, b: (m.co2_gross_tco2 if b == "gross" else m.co2_net_tco2) <= m.co2_cap_t[b], doc="CO2 <= cap [tCO2/yr]")


# ---------------------------------------------------------------------------------------------
# Product markets and firms' duties (models/README.md sections 12 and 14)
# ---------------------------------------------------------------------------------------------


def _market_tiers(g: MaterialGraph) -> dict[str, list[tuple[float | None, float]]]:
    """Market -> ``(upto_t, price)`` tiers in selling order; a market without tiers has one open tier at 0 CNY/t."""
    tiers: dict[str, list[tuple[float | None, float]]] = {x.id: [] for x in g.scenario.markets}
    for t in g.scenario.market_tiers:
        tiers[t.market].append((t.upto_t, t.price_cny_per_t))
    for rows in tiers.values():
        rows.sort(key=lambda t: (t[0] is None, t[0] or 0.0))
        if not rows:
            rows.append((None, 0.0))
    return tiers


def add_markets(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Products sold in markets: every tonne made is sold, in price tiers, within the demand.

    .. math::
        \sum_k s_{p,m,k} - y_{p,m} F_p = 0 \quad \forall (p,m), \qquad
        \sum_p s_{p,m,k} \le W_{m,k} \quad \forall (m,k) \text{ closed}, \qquad
        \sum_{p,k} s_{p,m,k} \le D_m \quad \forall m : D_m \text{ given}

    y_{p,m} is the tonnes of product per tonne of feed (``projects.markets``), W_{m,k} the
    tonnes a tier holds (its ``upto_t`` minus the previous one's) and D_m ``markets.limit_t``.
    Prices fall from tier to tier (a concave revenue), so the first tiers fill first.
    """
    tiers = _market_tiers(g)
    limits = {x.id: x.limit_t for x in g.scenario.markets}
    links = [(p, mk) for p in sorted(g.projects) for mk in g.projects[p].market_yields]
    sales = [(p, mk, k + 1) for p, mk in links for k in range(len(tiers[mk]))]
    sold_markets = sorted({mk for _, mk in links})
    widths: dict[tuple[str, int], float] = {}
    for mk in sold_markets:
        low = 0.0
        for k, (upto, _) in enumerate(tiers[mk], start=1):
            if upto is not None and (limits[mk] is None or upto < limits[mk]):  # a tier past the demand: the demand bounds it
                widths[(mk, k)] = upto - low
                low = upto
    m.MARKET_LINKS = pyo.Set(initialize=links, dimen=2, ordered=True, doc="(project, market) it sells into")
    m.SALES = pyo.Set(initialize=sales, dimen=3, ordered=True, doc="(project, market, price tier)")
    m.PRICE_TIERS = pyo.Set(initialize=list(widths), dimen=2, ordered=True, doc="(market, tier) with an upto_t")
    m.DEMAND_MARKETS = pyo.Set(initialize=[mk for mk in sold_markets if limits[mk] is not None], ordered=True, doc="markets with a demand limit and a seller")
    m.market_yield_t_per_t = pyo.Param(m.MARKET_LINKS, initialize={(p, mk): g.projects[p].market_yields[mk] for p, mk in links}, doc="product sold per tonne of feed y [t/t]")
    m.sale_price_cny_per_t = pyo.Param(m.SALES, initialize={(p, mk, k): tiers[mk][k - 1][1] for p, mk, k in sales}, doc="price of the tier [CNY/t of product]")
    m.tier_width_t = pyo.Param(m.PRICE_TIERS, initialize=widths, mutable=True, doc="tonnes a price tier holds W [t/yr]")
    m.demand_limit_t = pyo.Param(m.DEMAND_MARKETS, initialize={mk: limits[mk] for mk in m.DEMAND_MARKETS}, mutable=True, doc="market demand D [t/yr]")
    m.sold_t = pyo.Var(m.SALES, domain=pyo.NonNegativeReals, doc="tonnes of product sold in a price tier [t/yr]")
    m.market_sales = pyo.Constraint(m.MARKET_LINKS, rule=lambda m, p, mk: sum(m.sold_t[p, mk, k] for (q, n, k) in m.SALES if (q, n) == (p, mk)) - m.market_yield_t_per_t[p, mk] * m.feed_t[p] == 0, doc="product sold = product made [t/yr]")
    m.market_tier = pyo.Constraint(m.PRICE_TIERS, rule=lambda m, mk, k: sum(m.sold_t[p, n, j] for (p, n, j) in m.SALES if (n, j) == (mk, k)) <= m.tier_width_t[mk, k], doc="tonnes sold in a tier <= its width [t/yr]")
    m.market_demand = pyo.Constraint(m.DEMAND_MARKETS, rule=lambda m, mk: sum(m.sold_t[p, n, k] for (p, n, k) in m.SALES if n == mk) <= m.demand_limit_t[mk], doc="tonnes sold in a market <= its demand [t/yr]")


def add_firm_targets(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Each firm with a duty reaches it on its own waste, counted as its ledger counts it.

    .. math:: N_f - T_f E_f \ge T_f G_f \quad \forall f \in \mathrm{FIRM\_DUTIES}

    N_f (``firm_delivered_t``) is the tonnes of the firm's own lots (its streams' generation and
    its stockpiles' reclaim) delivered to the outlets the chosen rate counts (projects booked as
    utilization; with ``utilization_plus_disposal`` also disposal projects and sinks; with
    ``disposal_only`` these alone), E_f (``firm_prior_t``) its part from stockpiles (none for
    ``disposal_only``) and G_f the generation of its streams. Residues count for no generator.
    """
    s = g.scenario
    duties = {f.id: f.target_rate for f in sorted(s.firms, key=lambda f: f.id) if f.target_rate is not None}
    mode = s.policy.rate_mode
    stream_firm = {x.id: x.firm for x in s.streams}
    util = {o for o, p in g.projects.items() if p.counts_as == ProjectBooking.utilization}
    disp = {o for o, p in g.projects.items() if p.counts_as == ProjectBooking.disposal} | {o for o, d in g.sinks.items() if d.counts_as == SinkBooking.disposal}
    counted = util if mode == RateMode.utilization else util | disp if mode == RateMode.utilization_plus_disposal else disp
    own: dict[str, list[Any]] = defaultdict(list)
    for a in g.arcs:
        lot = g.lots[a.lot]
        if a.outlet in counted and lot.kind != "residue" and stream_firm.get(lot.stream) in duties:
            own[str(stream_firm[lot.stream])].append(a)
    gen = {f: sum(x.generation_t for x in s.streams if x.firm == f) for f in duties}
    m.FIRM_DUTIES = pyo.Set(initialize=list(duties), ordered=True, doc="firms with a duty (firms.target_rate)")
    m.duty_rate = pyo.Param(m.FIRM_DUTIES, initialize=duties, mutable=True, doc="a firm's duty T_f [-]")
    m.firm_generation_t = pyo.Param(m.FIRM_DUTIES, initialize=gen, doc="generation of the firm's streams G_f [t/yr]")
    m.firm_delivered_t = pyo.Expression(m.FIRM_DUTIES, rule=lambda m, f: sum(m.flow_t[a.key] for a in own[f]), doc="the firm's own tonnes delivered to counted outlets N_f [t/yr]")
    prior = {f: [a for a in own[f] if g.lots[a.lot].kind == "stock"] if mode != RateMode.disposal_only else [] for f in duties}
    m.firm_prior_t = pyo.Expression(m.FIRM_DUTIES, rule=lambda m, f: sum(m.flow_t[a.key] for a in prior[f]), doc="the part from its stockpiles E_f [t/yr]")

    def rule(m: pyo.ConcreteModel, f: str) -> Any:
        if not own[f]:
            return pyo.Constraint.Skip  # no arc: an empty row (Pyomo drops it)
        return m.firm_delivered_t[f] - m.duty_rate[f] * m.firm_prior_t[f] >= m.duty_rate[f] * m.firm_generation_t[f]

    m.firm_target = pyo.Constraint(m.FIRM_DUTIES, rule=rule, doc="delivered - duty x prior >= duty x generation [t/yr]")


def add_route_capacity(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A route with a capacity carries at most that much of its matching flows.

    .. math:: \sum_{(l,o) \in A_r} x_{l,o} \le \overline{R}_r \quad \forall r : \overline{R}_r \text{ given}
    """
    caps = {r.id: r.capacity_t for r in g.scenario.routes if r.capacity_t is not None and not r.prohibited}
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a in g.arcs:
        for rid in a.routes:
            members[rid].append(a.key)
    m.CAPPED_ROUTES = pyo.Set(initialize=sorted(r for r in caps if members[r]), ordered=True, doc="routes with a capacity that carry some arc")
    m.route_capacity_t = pyo.Param(m.CAPPED_ROUTES, initialize={r: caps[r] for r in m.CAPPED_ROUTES}, mutable=True, doc="route capacity [t/yr]")
    m.route_capacity = pyo.Constraint(m.CAPPED_ROUTES, rule=lambda m, r: sum(m.flow_t[k] for k in members[r]) <= m.route_capacity_t[r], doc="tonnes on the route <= capacity [t/yr]")


def add_stock_reclaim_limit(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Reclaim from a stockpile stays within the yearly limit and the tonnes held.

    .. math:: r_k \le \min(\overline{r}_k, H_k) \quad \forall k \in \mathrm{STOCKPILES}
    """
    limit = {k.id: min(k.max_reclaim_t, k.stock_t) for k in g.scenario.stockpiles}
    m.reclaim_limit_t = pyo.Param(m.STOCKPILES, initialize={k: limit[k] for k in m.STOCKPILES}, mutable=True, doc="reclaim limit [t/yr]")
    m.stock_reclaim_limit = pyo.Constraint(m.STOCKPILES, rule=lambda m, k: m.reclaim_t[k] <= m.reclaim_limit_t[k], doc="tonnes reclaimed <= limit [t/yr]")


def add_utilization_target(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""The chosen rate reaches the target T.

    ``utilization`` (default, the official 综合利用率):

    .. math:: U_{new} + U_{prior} \ge T\,(G + U_{prior})

    ``utilization_plus_disposal``:

    .. math:: U + D \ge T\,(G + U_{prior} + D_{prior})

    ``disposal_only``:

    .. math:: D_{new} + D_{prior} \ge T\,G

    G is the year's generation; residues are not generated again, and reclaimed stock enters
    the denominator only through the tonnes that are actually utilized (or disposed).
    """
    m.target = pyo.Constraint(expr=rate_numerator(m, g) - m.target_rate * rate_extra_denominator(m, g) >= m.target_rate * generation_total_t(g), doc="rate numerator >= target x rate denominator [t/yr]")


def rate_numerator(m: pyo.ConcreteModel, g: MaterialGraph) -> pyo.Expression:
    """Return the numerator of the chosen rate as an expression of the model."""
    mode = g.scenario.policy.rate_mode
    if mode == RateMode.utilization:
        return m.utilized_new_t + m.utilized_prior_t
    if mode == RateMode.utilization_plus_disposal:
        return m.utilized_new_t + m.utilized_prior_t + m.disposed_new_t + m.disposed_prior_t
    return m.disposed_new_t + m.disposed_prior_t


def rate_extra_denominator(m: pyo.ConcreteModel, g: MaterialGraph) -> pyo.Expression:
    """Return the denominator of the chosen rate minus G (the prior-year terms)."""
    mode = g.scenario.policy.rate_mode
    if mode == RateMode.utilization:
        return m.utilized_prior_t
    if mode == RateMode.utilization_plus_disposal:
        return m.utilized_prior_t + m.disposed_prior_t
    return 0.0 * m.utilized_prior_t


# ---------------------------------------------------------------------------------------------
# Investment decisions (the MILP, models/README.md section 11)
# ---------------------------------------------------------------------------------------------


def _candidate(g: MaterialGraph, cid: str) -> Any:
    return next(c for c in g.scenario.candidates if c.id == cid)


def _sizes(c: Any) -> tuple[float, float]:
    """(m_c, M_c): least and most capacity added when built."""
    if c.sizing.value == "build":
        return float(c.size_t or 0.0), float(c.size_t or 0.0)
    if c.sizing.value == "size":
        return float(c.min_size_t), float(c.max_size_t or 0.0)
    return float(c.module_t or 0.0), float(c.module_t or 0.0) * float(c.max_modules or 0)


def capital_recovery_factor(r: float, years: int) -> float:
    r"""CNY/yr that repay 1 CNY of capital over ``years`` at rate r.

    .. math:: \mathrm{CRF}(r, L) = \frac{r (1+r)^L}{(1+r)^L - 1}, \qquad \mathrm{CRF}(0, L) = \frac{1}{L}
    """
    return 1.0 / years if r <= 0 else r * (1 + r) ** years / ((1 + r) ** years - 1)


def add_investment_decisions(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Sets, parameters and variables of the investment decisions.

    .. math::
        b_c \in \{0, 1\}, \quad s_c \ge 0, \quad n_c \in \{0, \dots, \overline{n}_c\}

    b_c is fixed at 0 for a candidate whose ``earliest_year`` is after the scenario's year.
    """
    s = g.scenario
    cands = {c.id: c for c in s.candidates}
    ids = sorted(cands)
    year = s.year
    m.CANDIDATES = pyo.Set(initialize=ids, ordered=True, doc="investment candidates")
    m.MODULAR_CANDIDATES = pyo.Set(initialize=[c for c in ids if cands[c].sizing.value == "modules"], ordered=True, doc="candidates built in whole modules")
    m.MIN_SIZE_CANDIDATES = pyo.Set(initialize=[c for c in ids if _sizes(cands[c])[0] > 0], ordered=True, doc="candidates with a least size above 0")
    groups = sorted({c.group for c in s.candidates if c.group is not None})
    m.GROUPS = pyo.Set(initialize=groups, ordered=True, doc="exclusive groups of candidates")
    budgets = {k: v for k, v in (("total", s.policy.capital_budget_cny), ("per_year", s.policy.capital_budget_cny_per_yr)) if v is not None}
    m.BUDGETS = pyo.Set(initialize=list(budgets), ordered=True, doc="capital budgets: total, per year")
    m.min_size_t = pyo.Param(m.CANDIDATES, initialize={c: _sizes(cands[c])[0] for c in ids}, doc="least capacity added if built m_c [t/yr]")
    m.max_size_t = pyo.Param(m.CANDIDATES, initialize={c: _sizes(cands[c])[1] for c in ids}, doc="most capacity added M_c [t/yr]")
    m.module_t = pyo.Param(m.MODULAR_CANDIDATES, initialize={c: float(cands[c].module_t or 0.0) for c in m.MODULAR_CANDIDATES}, doc="capacity of one module u_c [t/yr]")
    m.capital_cny = pyo.Param(m.CANDIDATES, initialize={c: cands[c].capital_cny for c in ids}, doc="capital once if built K_c [CNY]")
    m.capital_cny_per_t = pyo.Param(m.CANDIDATES, initialize={c: cands[c].capital_cny_per_t for c in ids}, doc="capital per t/yr added k_c [CNY per t/yr]")
    m.crf = pyo.Param(m.CANDIDATES, initialize={c: capital_recovery_factor(s.policy.discount_rate, cands[c].lifetime_yr) for c in ids}, doc="capital recovery factor [1/yr]")
    m.fixed_opex_cny_per_yr = pyo.Param(m.CANDIDATES, initialize={c: cands[c].fixed_opex_cny_per_yr for c in ids}, doc="fixed operating cost if built O_c [CNY/yr]")
    m.budget_cny = pyo.Param(m.BUDGETS, initialize=budgets, doc="capital budget B [CNY]")

    def available(_: pyo.ConcreteModel, c: str) -> tuple[float, float]:
        ok = cands[c].earliest_year is None or year is None or cands[c].earliest_year <= year
        return (0.0, 1.0 if ok else 0.0)

    m.build = pyo.Var(m.CANDIDATES, domain=pyo.Binary, bounds=available, doc="candidate built (1) or not (0)")
    m.built_t = pyo.Var(m.CANDIDATES, domain=pyo.NonNegativeReals, doc="capacity a candidate adds [t/yr]")
    m.modules = pyo.Var(m.MODULAR_CANDIDATES, domain=pyo.NonNegativeIntegers, bounds=lambda _, c: (0, cands[c].max_modules), doc="modules built")
    m.capital_total_cny = pyo.Expression(expr=sum(m.capital_cny[c] * m.build[c] + m.capital_cny_per_t[c] * m.built_t[c] for c in m.CANDIDATES), doc="capital of the builds [CNY]")


def add_candidate_size(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A built candidate adds between its least and most size; one not built adds nothing.

    .. math::
        s_c \ge m_c b_c \quad \forall c : m_c > 0, \qquad s_c \le M_c b_c \quad \forall c

    ``build``: m_c = M_c = ``size_t``; ``size``: ``min_size_t``, ``max_size_t``; ``modules``:
    one module and ``max_modules`` modules.
    """
    m.candidate_min_size = pyo.Constraint(m.MIN_SIZE_CANDIDATES, rule=lambda m, c: m.built_t[c] - m.min_size_t[c] * m.build[c] >= 0, doc="capacity added >= least size if built [t/yr]")
    m.candidate_max_size = pyo.Constraint(m.CANDIDATES, rule=lambda m, c: m.built_t[c] - m.max_size_t[c] * m.build[c] <= 0, doc="capacity added <= most size, 0 unless built [t/yr]")


def add_candidate_modules(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""A candidate built in modules adds whole modules.

    .. math:: s_c = u_c n_c \quad \forall c \in \mathrm{MODULAR\_CANDIDATES}
    """
    m.candidate_modules = pyo.Constraint(m.MODULAR_CANDIDATES, rule=lambda m, c: m.built_t[c] - m.module_t[c] * m.modules[c] == 0, doc="capacity added = modules x module size [t/yr]")


def add_exclusive_group(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""At most one candidate of an exclusive group is built.

    .. math:: \sum_{c \in g} b_c \le 1 \quad \forall g \in \mathrm{GROUPS}
    """
    members: dict[str, list[str]] = defaultdict(list)
    for c in m.CANDIDATES:
        group = _candidate(g, c).group
        if group is not None:
            members[group].append(c)
    m.exclusive_group = pyo.Constraint(m.GROUPS, rule=lambda m, grp: sum(m.build[c] for c in members[grp]) <= 1, doc="at most one alternative built")


def add_capital_budget(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""The builds' capital stays within each budget.

    Total, and per year: in the single-year model the same builds, all commissioned in the
    scenario's year.

    .. math:: \sum_c (K_c b_c + k_c s_c) \le B \quad \forall B \in \mathrm{BUDGETS}
    """
    m.capital_budget = pyo.Constraint(m.BUDGETS, rule=lambda m, k: m.capital_total_cny <= m.budget_cny[k], doc="capital of the builds <= budget [CNY]")


def add_objective(m: pyo.ConcreteModel, g: MaterialGraph) -> None:
    r"""Total yearly cost of the plan, to be minimized.

    .. math::
        \min\; \sum_{(l,o)} \tau_{l,o} x_{l,o}
        + \sum_p (\kappa_p - \beta_p) F_p
        + \sum_d f_d \sum_l x_{l,d}
        + \sum_k \eta_k r_k
        + \sum_l (\theta_{c(l)} + \psi) u_l
        - \sum_{p,m,k} P_{m,k} s_{p,m,k}
        - \sum_p \phi_p \Big(\beta_p F_p + \sum_{m,k} P_{m,k} s_{p,m,k}\Big)

    transport :math:`\tau` (CNY/t), processing cost :math:`\kappa` and revenue :math:`\beta`
    per tonne of feed, sink fee :math:`f`, reclaim cost :math:`\eta`, environmental tax
    :math:`\theta` by category and unmanaged penalty :math:`\psi`; :math:`P_{m,k}` the price of
    tier k of market m (``revenue_cny`` holds both revenues) and :math:`\phi_p` the project's
    incentives per CNY of revenue (``incentive_rate``, 0 unless ``policy.apply_incentives``;
    ``incentives_cny``). Each term is also an ``Expression`` so results can report the breakdown.
    """
    s = g.scenario
    category = {x.id: x.category for x in s.streams}
    tax = s.policy.environmental_tax_cny_per_t
    rc = {k.id: k.reclaim_cost_cny_per_t for k in s.stockpiles}
    m.transport_cny = pyo.Expression(expr=sum(a.transport_cny_per_t * m.flow_t[a.key] for a in g.arcs), doc="transport cost [CNY/yr]")
    m.processing_cny = pyo.Expression(expr=sum(x.processing_cost_cny_per_t * m.feed_t[p] for p, x in g.projects.items()), doc="processing cost [CNY/yr]")
    def revenue_of(p: str) -> Any:
        # β_p F_p plus the tier prices of what p sells in markets
        return g.projects[p].revenue_cny_per_t * m.feed_t[p] + sum(m.sale_price_cny_per_t[q, mk, k] * m.sold_t[q, mk, k] for (q, mk, k) in m.SALES if q == p)

    factor = {p: (x.incentive_factor if s.policy.apply_incentives else 0.0) for p, x in g.projects.items()}
    m.incentive_rate = pyo.Param(m.PROJECTS, initialize=factor, doc="incentives per CNY of revenue: VAT refunded + income tax saved [-]")
    m.revenue_cny = pyo.Expression(expr=sum(revenue_of(p) for p in g.projects), doc="product revenue [CNY/yr]")
    m.incentives_cny = pyo.Expression(expr=sum(m.incentive_rate[p] * revenue_of(p) for p in g.projects if factor[p]), doc="tax incentives: VAT refunded and income tax saved [CNY/yr]")
    m.disposal_fees_cny = pyo.Expression(expr=sum(x.fee_cny_per_t * m.inflow_t[d] for d, x in g.sinks.items() if x.counts_as == SinkBooking.disposal), doc="fees at disposal sinks [CNY/yr]")
    m.storage_fees_cny = pyo.Expression(expr=sum(x.fee_cny_per_t * m.inflow_t[d] for d, x in g.sinks.items() if x.counts_as == SinkBooking.storage), doc="fees at storage sinks [CNY/yr]")
    m.reclaim_cny = pyo.Expression(expr=sum(rc[k] * m.reclaim_t[k] for k in m.STOCKPILES), doc="stock reclaim cost [CNY/yr]")
    m.environmental_tax_cny = pyo.Expression(expr=sum(tax.rate(category[g.lots[lid].stream]) * m.unmanaged_t[lid] for lid in m.UNMANAGED_LOTS), doc="environmental tax on unmanaged tonnes [CNY/yr]")
    m.unmanaged_penalty_cny = pyo.Expression(expr=sum(s.policy.penalty_cny_per_t * m.unmanaged_t[lid] for lid in m.UNMANAGED_LOTS), doc="penalty on unmanaged tonnes [CNY/yr]")
    expr = m.transport_cny + m.processing_cny - m.revenue_cny - m.incentives_cny + m.disposal_fees_cny + m.storage_fees_cny + m.reclaim_cny + m.environmental_tax_cny + m.unmanaged_penalty_cny
    if hasattr(m, "build"):  # the investment model: annualized capital and fixed operating cost
        add_capital_terms(m)
        expr = expr + m.capital_annualized_cny + m.fixed_opex_cny
    m.total_cost = pyo.Objective(expr=expr, sense=pyo.minimize, doc="total yearly cost of the plan [CNY/yr]")


def add_capital_terms(m: pyo.Block) -> None:
    r"""The builds' yearly cost: annualized capital and fixed operating cost (expressions).

    .. math::
        \mathrm{capital\_annualized\_cny} = \sum_c \mathrm{CRF}_c (K_c b_c + k_c s_c), \qquad
        \mathrm{fixed\_opex\_cny} = \sum_c O_c b_c
    """
    m.capital_annualized_cny = pyo.Expression(expr=sum(m.crf[c] * (m.capital_cny[c] * m.build[c] + m.capital_cny_per_t[c] * m.built_t[c]) for c in m.CANDIDATES), doc="annualized capital of the builds [CNY/yr]")
    m.fixed_opex_cny = pyo.Expression(expr=sum(m.fixed_opex_cny_per_yr[c] * m.build[c] for c in m.CANDIDATES), doc="fixed operating cost of the builds [CNY/yr]")


def add_pathway_builds(m: pyo.ConcreteModel, years: list[tuple[int, MaterialGraph, float]]) -> None:
    r"""Add the candidates' builds to a pathway model (``models/README.md`` §11, "Builds in the pathway").

    Each year's block gets the investment decisions of its scenario (``build``, ``built_t``,
    ``modules``: builds commissioned that year, with their rows); a build gives capacity from its
    year on, is made at most once, and its annualized capital and fixed cost are paid in every
    operating year, discounted:

    .. math::
        F_{p,y} - \sum_{y' \le y} \sum_{c: p(c) = p} s_{c,y'} \le \overline{C}_{p,y}, \quad
        \sum_y b_{c,y} \le 1, \quad \sum_y \sum_{c \in g} b_{c,y} \le 1, \quad
        \sum_y \mathrm{capital\_total\_cny}_y \le B

        \min\; \sum_y w_y \mathrm{total\_cost}_y + \sum_y W_y (\mathrm{capital\_annualized\_cny}_y + \mathrm{fixed\_opex\_cny}_y), \quad W_y = \sum_{y' \ge y} w_{y'}

    Args:
        m: a model from :func:`build_pathway_model` on the same ``years``.
        years: ``(year, graph, weight)``; each graph's scenario holds the candidates that can be
            built that year (their projects in operation).
    """
    by_year = {y: (g, w) for y, g, w in years}
    order = list(m.YEARS)
    for y in order:
        b, g = m.year[y], by_year[y][0]
        add_investment_decisions(b, g)
        add_candidate_size(b, g)
        add_candidate_modules(b, g)
        add_exclusive_group(b, g)
        add_capital_budget(b, g)
        add_capital_terms(b)
    project_of = {c.id: c.project for y in order for c in by_year[y][0].scenario.candidates}
    group_of = {c.id: c.group for y in order for c in by_year[y][0].scenario.candidates if c.group is not None}
    for i, y in enumerate(order):
        b = m.year[y]
        for p in b.PROJECTS:
            built = [m.year[z].built_t[c] for z in order[: i + 1] for c in m.year[z].CANDIDATES if project_of[c] == p]
            if built:
                b.project_capacity[p].set_value(b.feed_t[p] - sum(built) <= b.capacity_t[p])
    m.BUILD_CANDIDATES = pyo.Set(initialize=sorted(project_of), ordered=True, doc="candidates that can be built in some year")
    m.build_once = pyo.Constraint(m.BUILD_CANDIDATES, rule=lambda m, c: sum(m.year[y].build[c] for y in order if c in m.year[y].CANDIDATES) <= 1, doc="a candidate is built at most once")
    m.BUILD_GROUPS = pyo.Set(initialize=sorted(set(group_of.values())), ordered=True, doc="exclusive groups over the years")
    m.group_once = pyo.Constraint(m.BUILD_GROUPS, rule=lambda m, grp: sum(m.year[y].build[c] for y in order for c in m.year[y].CANDIDATES if group_of.get(c) == grp) <= 1, doc="at most one of a group over the years")
    budget = by_year[order[0]][0].scenario.policy.capital_budget_cny
    m.PATHWAY_BUDGETS = pyo.Set(initialize=["total"] if budget is not None else [], ordered=True, doc="the capital budget over the years (when given)")
    m.pathway_capital_budget = pyo.Constraint(m.PATHWAY_BUDGETS, rule=lambda m, _: sum(m.year[y].capital_total_cny for y in order) <= budget, doc="capital of all builds <= budget [CNY]")
    weights = [by_year[y][1] for y in order]
    carried = {y: sum(weights[i:]) for i, y in enumerate(order)}
    expr = m.pathway_cost.expr + sum(carried[y] * (m.year[y].capital_annualized_cny + m.year[y].fixed_opex_cny) for y in order)
    m.del_component(m.pathway_cost)
    m.pathway_cost = pyo.Objective(expr=expr, sense=pyo.minimize, doc="present value of the years' costs, builds' yearly capital included [CNY]")


def build_saa_model(samples: list[tuple[int, MaterialGraph, dict[str, float]]], required: int) -> pyo.ConcreteModel:
    r"""Build the robust-build MILP over training samples (``models/README.md`` §11, "Robust builds").

    One set of build decisions (``build``, ``built_t``, ``modules`` and the candidates' rows, at
    the top) serves every training sample; each sample s is a block ``sample[s]`` holding the
    LP of its scenario, whose capacity rows count what is built at the sample's availability
    factor a_{p,s} and whose target may fall short by a share σ_s unless μ_s says it is met:

    .. math::
        F_{p,s} - \sum_{c: p(c) = p} a_{p,s} s_c \le \overline{C}_{p,s}, \quad
        N_s - T E_s + T G_s σ_s \ge T G_s, \quad
        σ_s + μ_s \le 1, \quad \sum_s μ_s \ge k

        \min\; \mathrm{capital\_annualized\_cny} + \mathrm{fixed\_opex\_cny} + \frac{1}{N} \sum_s \mathrm{total\_cost}_s

    Args:
        samples: ``(key, graph, availability factors by project)`` per training sample; the
            graphs share their candidates (the first one's records set the capital).
        required: k, the samples in which the target must be met.

    Returns:
        The model; its objective is ``expected_cost``.
    """
    m = pyo.ConcreteModel(name="robust_builds")
    g0 = samples[0][1]
    by_key = {s: (g, f) for s, g, f in samples}
    add_investment_decisions(m, g0)
    m.SAMPLES = pyo.Set(initialize=[s for s, _, _ in samples], ordered=True, doc="training samples")
    m.sample = pyo.Block(m.SAMPLES, rule=lambda b, s: populate(b, by_key[s][0]))
    project_of = {c: _candidate(g0, c).project for c in m.CANDIDATES}
    m.shortfall = pyo.Var(m.SAMPLES, bounds=(0.0, 1.0), doc="share of the target's tonnes a sample falls short by [-]")
    m.met = pyo.Var(m.SAMPLES, domain=pyo.Binary, doc="target met in the sample (1) or not (0)")
    for s in m.SAMPLES:
        b = m.sample[s]
        b.total_cost.deactivate()
        factors = by_key[s][1]
        for p in b.PROJECTS:
            built = [c for c in m.CANDIDATES if project_of[c] == p]
            if built:
                b.project_capacity[p].set_value(b.feed_t[p] - sum(factors.get(p, 1.0) * m.built_t[c] for c in built) <= b.capacity_t[p])
        need = pyo.value(b.target_rate) * generation_total_t(by_key[s][0])
        b.target.set_value(rate_numerator(b, by_key[s][0]) - b.target_rate * rate_extra_denominator(b, by_key[s][0]) + need * m.shortfall[s] >= b.target_rate * generation_total_t(by_key[s][0]))
    m.shortfall_link = pyo.Constraint(m.SAMPLES, rule=lambda m, s: m.shortfall[s] + m.met[s] <= 1, doc="no shortfall where the target is met [-]")
    m.chance = pyo.Constraint(expr=sum(m.met[s] for s in m.SAMPLES) >= required, doc="samples meeting the target >= k")
    add_candidate_size(m, g0)
    add_candidate_modules(m, g0)
    add_exclusive_group(m, g0)
    add_capital_budget(m, g0)
    add_capital_terms(m)
    weight = 1.0 / len(samples)
    m.expected_cost = pyo.Objective(expr=m.capital_annualized_cny + m.fixed_opex_cny + sum(weight * m.sample[s].total_cost.expr for s in m.SAMPLES), sense=pyo.minimize, doc="expected yearly cost over the training samples [CNY/yr]")
    return m


def build_pathway_model(years: list[tuple[int, MaterialGraph, float]], stock_t: dict[str, float]) -> pyo.ConcreteModel:
    r"""Build the multi-year pathway LP (``models/README.md`` section 9) as one Pyomo model.

    Each year y is a block ``year[y]`` holding the single-year formulation of its graph; the
    years share only the legacy stock:

    .. math::
        \min \sum_y w_y \,\mathrm{total\_cost}_y \quad\text{s.t.}\quad
        \mathrm{stock\_total}_k: \sum_y r_{k,y} \le H_k

    and, through the sinks: ``airspace_total`` (Σ_y I_{d,y} ≤ V_d) and, for a pile fed by
    reclaimable storage, ``storage_stock`` (Σ_{j≤i} r_{k,y_j} − Σ_{j<i} Σ_{d→k} I_{d,y_j} ≤ H_k)
    instead of ``stock_total``.

    Args:
        years: ``(year, graph, weight)`` with the year's graph (target included).
        stock_t: H_k, tonnes each stockpile holds at the start of the first year.

    Returns:
        The model; its objective is ``pathway_cost``.
    """
    m = pyo.ConcreteModel(name="pathway")
    by_year = {y: (g, w) for y, g, w in years}
    m.YEARS = pyo.Set(initialize=[y for y, _, _ in years], ordered=True, doc="years of the pathway")
    m.year = pyo.Block(m.YEARS, rule=lambda b, y: populate(b, by_year[y][0]))
    for y in m.YEARS:
        m.year[y].total_cost.deactivate()
    # sinks that link the years: airspace V_d (first year the sink operates) and reclaimable storage
    volume: dict[str, float] = {}
    feeds: dict[str, str] = {}
    for _, g, _ in years:
        for d, x in g.sinks.items():
            if x.remaining_volume_t is not None:
                volume.setdefault(d, x.remaining_volume_t)
            if x.reclaim_as is not None:
                feeds.setdefault(d, x.reclaim_as)
    fed = set(feeds.values())
    held = sorted(k for k in stock_t if k not in fed and any(k in m.year[y].STOCKPILES for y in m.YEARS))
    m.LINKED_STOCKPILES = pyo.Set(initialize=held, ordered=True, doc="stockpiles reclaimed in some year (not fed by storage)")
    m.stock_total = pyo.Constraint(m.LINKED_STOCKPILES, rule=lambda m, k: sum(m.year[y].reclaim_t[k] for y in m.YEARS if k in m.year[y].STOCKPILES) <= stock_t[k], doc="reclaim over the years <= stock at the start [t]")
    order = list(m.YEARS)

    def placed(m: pyo.ConcreteModel, d: str, upto: int) -> Any:
        """Tonnes placed in sink d in the years before position ``upto`` (all years: len(order))."""
        return sum(m.year[y].inflow_t[d] for y in order[:upto] if d in m.year[y].SINKS)

    m.AIRSPACE_LINKED_SINKS = pyo.Set(initialize=sorted(d for d in volume if any(d in m.year[y].SINKS and by_year[y][0].arcs_into(d) for y in order)), ordered=True, doc="sinks with a remaining volume that receive tonnes in some year")
    m.airspace_total = pyo.Constraint(m.AIRSPACE_LINKED_SINKS, rule=lambda m, d: placed(m, d, len(order)) <= volume[d], doc="tonnes placed over the years <= airspace at the start [t]")
    piles = sorted(k for k in fed if k in stock_t and any(k in m.year[y].STOCKPILES for y in order))
    m.STORAGE_LINKS = pyo.Set(initialize=[(k, y) for k in piles for y in order], dimen=2, ordered=True, doc="(stockpile fed by reclaimable storage, year)")

    def storage_stock(m: pyo.ConcreteModel, k: str, y: int) -> Any:
        i = order.index(y)
        taken = sum(m.year[z].reclaim_t[k] for z in order[: i + 1] if k in m.year[z].STOCKPILES)
        stored = sum(placed(m, d, i) for d, pile in sorted(feeds.items()) if pile == k)
        if isinstance(taken, int | float) and isinstance(stored, int | float):
            return pyo.Constraint.Skip  # nothing reclaimed or stored yet: an empty row
        return taken - stored <= stock_t[k]

    m.storage_stock = pyo.Constraint(m.STORAGE_LINKS, rule=storage_stock, doc="reclaim so far - tonnes stored in earlier years <= stock at the start [t]")
    m.pathway_cost = pyo.Objective(expr=sum(by_year[y][1] * m.year[y].total_cost.expr for y in m.YEARS), sense=pyo.minimize, doc="present value of the years' costs [CNY]")
    return m


#: Names of the cost terms, in the order results report them (revenue enters with a minus sign).
COST_TERMS = (
    "transport_cny",
    "processing_cny",
    "revenue_cny",
    "incentives_cny",
    "disposal_fees_cny",
    "storage_fees_cny",
    "reclaim_cny",
    "environmental_tax_cny",
    "unmanaged_penalty_cny",
)
