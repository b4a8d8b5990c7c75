"""Audit: (``Scenario``, flows, reclaim, reported objective) -> ``AuditReport``.

Every plan is checked against the *original* input records, not against the solver's matrix,
before anyone sees it: HiGHS can drop rows with extreme coefficients and still report
"optimal", so a status is not proof. The checks:

* ``non_negative``: no negative tonnes;
* ``permitted``: every flow goes to an outlet that accepts its stream, over a permitted route,
  and carries the transport cost the tariff gives;
* ``mass_balance``: each lot's outflow equals its supply (generation, reclaim, or residue
  fraction × project feed of the same origin);
* ``project_capacity``, ``project_min_intake``, ``sink_capacity``, ``route_capacity``,
  ``stock_reclaim``: limits hold;
* ``quality``: blended component fractions within limits; ``feed_share``: stream shares;
* ``sink_airspace``: no sink takes more than its remaining airspace; ``co2_cap``: the plan's
  CO2, recomputed from its flows and the records' factors, within ``policy.co2_cap_t``;
* ``market_demand``, ``market_revenue``, ``incentives``, ``firm_targets``: products sold within
  each market's demand, market revenue as the tiers give it, incentives as the projects' rates
  give them, firms' duties met (:func:`audit_markets_duties`);
* ``no_unmanaged_stock``: reclaimed material is never left unmanaged;
* ``unmanaged_allowed``: no tonne is left unmanaged unless ``policy.allow_unmanaged`` is true;
* ``target``: the chosen rate reaches the target;
* ``objective``: the reported objective equals the sum of the cost terms recomputed here.

Investment decisions (``flowopt invest``) are checked by :func:`audit_builds`: capacity used
only where built, sizes, availability and forced decisions, exclusive groups, budgets, and the
annualized capital recomputed from the candidates' rows.

Tolerances: tonnes ``TOL_REL × scale`` where scale is the largest tonnage in the plan (at least
1 t); money ``TOL_REL × max(1, |objective|, gross cost)``; rates ``1e-7``.
"""

from __future__ import annotations

from collections import defaultdict

from flowopt.airspace_carbon import carbon_summary
from flowopt.graph import Distances, matching_routes, route_index
from flowopt.results import (
    AuditCheck,
    AuditReport,
    FlowRow,
    cost_terms,
    kpis,
    lot_id,
    stream_fates,
    total_cost,
)
from flowopt.schema import Scenario

#: Relative tolerance of the audit (HiGHS's feasibility tolerance is 1e-7 on scaled data).
TOL_REL = 1e-6
#: Tolerance on the rate (fraction).
TOL_RATE = 1e-7


class _Check:
    def __init__(self, name: str, tol: float) -> None:
        self.name, self.tol = name, tol
        self.worst = 0.0
        self.where = ""
        self.count = 0

    def violation(self, amount: float, where: str) -> None:
        self.count += 1
        if amount > self.worst:
            self.worst, self.where = amount, where

    def result(self) -> AuditCheck:
        passed = self.worst <= self.tol
        detail = "ok" if passed else f"worst at {self.where}: {self.worst:.6g} beyond the limit"
        return AuditCheck(name=self.name, passed=passed, worst_violation=self.worst, detail=detail)


def audit_plan(s: Scenario, flows: list[FlowRow], reclaim: dict[str, float], objective_cny: float, target_rate: float) -> AuditReport:
    """Check a plan against the scenario's own records.

    Args:
        s: the scenario the plan was made for.
        flows: the plan's flows (including unmanaged rows).
        reclaim: tonnes reclaimed per stockpile.
        objective_cny: the objective the solver reported.
        target_rate: the target the plan had to reach.

    Returns:
        The report; ``passed`` is true only if every check holds within tolerance.
    """
    scale = max([1.0, *(f.tonnes for f in flows), *(x.generation_t for x in s.streams), *reclaim.values()])
    tol_t = TOL_REL * scale
    gross = sum(abs(f.transport_cny) + abs(f.handling_cny) + abs(f.revenue_cny) + f.tax_cny + f.penalty_cny for f in flows)
    tol_cny = TOL_REL * max(1.0, abs(objective_cny), gross)
    checks: list[AuditCheck] = []

    c = _Check("non_negative", tol_t)
    for f in flows:
        c.violation(-f.tonnes, f"{f.stream} -> {f.destination}")
    for k, t in reclaim.items():
        c.violation(-t, f"reclaim {k}")
    checks.append(c.result())

    # permitted movements and their tariffs, read from the records (not from the graph the
    # model was built from, so a wrong arc in the graph cannot pass unnoticed)
    accepts: dict[str, set[str]] = defaultdict(set)
    for a in s.accepts:
        accepts[a.outlet].add(a.stream)
    site_of = {**{p.id: p.site for p in s.projects}, **{d.id: d.site for d in s.sinks}}
    dist = Distances(s)
    rules_by_sites = route_index(s.routes)
    c = _Check("permitted", tol_cny)
    for f in flows:
        if f.destination_kind == "unmanaged":
            continue
        where = f"{f.stream} from {f.source} -> {f.destination}"
        to_site = site_of.get(f.destination)
        if to_site is None or not accepts[f.destination] & {f.stream, "*"}:
            c.violation(float("inf"), f"{where} is not accepted there")
            continue
        rules = matching_routes(rules_by_sites, f.from_site, to_site, f.stream)
        if any(r.prohibited for r in rules):
            c.violation(float("inf"), f"{where} uses a prohibited route")
            continue
        override = next((r.distance_km for r in rules if r.distance_km is not None), None)
        explicit = next((r.cost_cny_per_t for r in rules if r.cost_cny_per_t is not None), None)
        km = override if override is not None else dist.km(f.from_site, to_site)
        if km is None and explicit is None:
            c.violation(float("inf"), f"{where} has no distance")
            continue
        tariff = explicit if explicit is not None else dist.cost(f.from_site, to_site, km or 0.0)
        c.violation(abs(tariff * f.tonnes - f.transport_cny), f"transport cost {where}")
    checks.append(c.result())

    outflow: dict[str, float] = defaultdict(float)
    feed_origin: dict[tuple[str, str], float] = defaultdict(float)
    feed: dict[str, float] = defaultdict(float)
    intake: dict[str, float] = defaultdict(float)
    for f in flows:
        outflow[lot_id(f)] += f.tonnes
        if f.destination_kind == "project":
            feed_origin[(f.destination, f.origin)] += f.tonnes
            feed[f.destination] += f.tonnes
        if f.destination_kind != "unmanaged":
            intake[f.destination] += f.tonnes
    supply: dict[str, float] = {}
    for st in s.streams:
        if st.generation_t > 0:
            supply[f"gen:{st.id}"] = st.generation_t
    for k in s.stockpiles:
        supply[f"stock:{k.id}"] = reclaim.get(k.id, 0.0)
    for r in s.residues:
        for origin in ("new", "legacy"):
            lid = f"res:{r.project}:{r.stream}:{origin}"
            supply[lid] = supply.get(lid, 0.0) + r.fraction * feed_origin[(r.project, origin)]
    c = _Check("mass_balance", tol_t)
    for lid in sorted(set(supply) | set(outflow)):
        c.violation(abs(supply.get(lid, 0.0) - outflow.get(lid, 0.0)), lid)
    checks.append(c.result())

    c = _Check("project_capacity", tol_t)
    cm = _Check("project_min_intake", tol_t)
    for p in s.projects:
        c.violation(feed[p.id] - p.capacity_t, p.id)
        cm.violation(p.min_intake_t - feed[p.id], p.id)
    checks += [c.result(), cm.result()]

    c = _Check("sink_capacity", tol_t)
    for d in s.sinks:
        if d.capacity_t is not None:
            c.violation(intake[d.id] - d.capacity_t, d.id)
    checks.append(c.result())

    c = _Check("sink_airspace", tol_t)
    for d in s.sinks:
        if d.remaining_volume_t is not None:
            c.violation(intake[d.id] - d.remaining_volume_t, f"{d.id} (remaining airspace {d.remaining_volume_t:g} t)")
    checks.append(c.result())

    c = _Check("route_capacity", tol_t)
    by_sites: dict[tuple[str, str], list[FlowRow]] = defaultdict(list)
    for f in flows:
        if f.destination_kind != "unmanaged":
            by_sites[(f.from_site, site_of[f.destination])].append(f)
    for r in s.routes:
        if r.capacity_t is None:
            continue
        carried = sum(f.tonnes for f in by_sites[(r.from_site, r.to_site)] if r.stream in (None, f.stream))
        c.violation(carried - r.capacity_t, r.id)
    checks.append(c.result())

    c = _Check("stock_reclaim", tol_t)
    for k in s.stockpiles:
        c.violation(reclaim.get(k.id, 0.0) - min(k.max_reclaim_t, k.stock_t), k.id)
    checks.append(c.result())

    comp = {(x.stream, x.component): x.fraction for x in s.composition}
    by_outlet: dict[str, list[FlowRow]] = defaultdict(list)
    for f in flows:
        by_outlet[f.destination].append(f)
    c = _Check("quality", tol_t)
    for q in s.quality:
        into = by_outlet[q.project]
        mass = sum(comp.get((f.stream, q.component), 0.0) * f.tonnes for f in into)
        total = sum(f.tonnes for f in into)
        if q.max_fraction is not None:
            c.violation(mass - q.max_fraction * total, f"{q.project} {q.component} max")
        if q.min_fraction is not None:
            c.violation(q.min_fraction * total - mass, f"{q.project} {q.component} min")
    checks.append(c.result())

    c = _Check("feed_share", tol_t)
    for a in s.accepts:
        if a.max_share < 1 and a.stream != "*":
            part = sum(f.tonnes for f in by_outlet[a.outlet] if f.stream == a.stream)
            c.violation(part - a.max_share * intake[a.outlet], f"{a.outlet} {a.stream}")
    checks.append(c.result())

    c = _Check("no_unmanaged_stock", tol_t)
    for f in flows:
        if f.destination_kind == "unmanaged" and f.origin == "legacy":
            c.violation(f.tonnes, f"{f.stream} from {f.source}")
    checks.append(c.result())

    # dumping is prohibited unless the scenario allows it explicitly
    c = _Check("unmanaged_allowed", tol_t)
    if not s.policy.allow_unmanaged:
        for f in flows:
            if f.destination_kind == "unmanaged":
                c.violation(f.tonnes, f"{f.stream} from {f.source} left unmanaged, but policy.allow_unmanaged is false")
    checks.append(c.result())

    # CO2 recomputed from the flows and the factors in the records (not from the LP's row)
    co2 = carbon_summary(s, flows)
    c = _Check("co2_cap", TOL_REL * max(1.0, co2.gross_tco2 + co2.avoided_tco2))
    if s.policy.co2_cap_t is not None:
        c.violation(co2.capped_tco2 - s.policy.co2_cap_t, f"{co2.cap_basis} CO2 {co2.capped_tco2:,.3f} t vs cap {s.policy.co2_cap_t:,.3f} t")
    checks.append(c.result())

    k = kpis(s, stream_fates(s, flows, reclaim))
    c = _Check("target", TOL_RATE)
    c.violation(target_rate - k.target_rate_value, f"{s.policy.rate_mode.value} rate {k.target_rate_value:.6f} vs target {target_rate:.6f}")
    checks.append(c.result())

    checks += audit_markets_duties(s, flows, tol_t, tol_cny)

    c = _Check("objective", tol_cny)
    c.violation(abs(total_cost(cost_terms(s, flows, reclaim)) - objective_cny), "reported objective vs sum of cost terms")
    checks.append(c.result())

    return AuditReport(passed=all(x.passed for x in checks), tolerance_t=tol_t, tolerance_cny=tol_cny, checks=checks)


def audit_markets_duties(s: Scenario, flows: list[FlowRow], tol_t: float, tol_cny: float) -> list[AuditCheck]:
    """The markets, incentives and firms' duties of a plan, recomputed from its flows and the records.

    * ``market_demand``: the product each market sells (Σ_p y_{p,m} F_p) within its ``limit_t``;
    * ``market_revenue``: the flows' revenue beyond ``revenue_cny_per_t`` equals, in all, the
      markets' revenue with their tiers filled in order (R_m(Q_m), from ``market_tiers``);
    * ``incentives``: each flow's incentive is its project's VAT refund plus income tax saved on
      the flow's revenue (0 unless ``policy.apply_incentives``);
    * ``firm_targets``: every firm with a duty reaches it by its ledger.

    Args:
        s: the scenario.
        flows: the plan's flows.
        tol_t: tolerance on tonnes.
        tol_cny: tolerance on money.

    Returns:
        The four checks.
    """
    from flowopt.markets_duties import firm_ledger, market_revenue_cny, market_tonnes, tiers_of

    out: list[AuditCheck] = []
    tonnes = market_tonnes(s, flows) if s.markets else {}
    limits = {m.id: m.limit_t for m in s.markets}
    c = _Check("market_demand", tol_t)
    for m, by_project in sorted(tonnes.items()):
        limit = limits.get(m)
        if limit is not None:
            c.violation(sum(by_project.values()) - limit, f"market {m}: {sum(by_project.values()):,.3f} t sold vs limit {limit:,.3f} t")
    out.append(c.result())
    projects = {p.id: p for p in s.projects}
    c = _Check("market_revenue", tol_cny)
    reported = sum(f.revenue_cny - projects[f.destination].revenue_cny_per_t * f.tonnes for f in flows if f.destination_kind == "project") if s.markets else 0.0
    tiers = tiers_of(s)
    expected = sum(market_revenue_cny(tiers[m], sum(by_project.values())) for m, by_project in tonnes.items() if m in tiers)
    c.violation(abs(reported - expected), f"market revenue of the flows {reported:,.2f} vs the tiers filled in order {expected:,.2f}")
    out.append(c.result())
    c = _Check("incentives", tol_cny)
    for f in flows:
        if f.destination_kind != "project":
            c.violation(abs(getattr(f, "incentive_cny", 0.0)), f"{f.stream} -> {f.destination} carries an incentive")
            continue
        p = projects[f.destination]
        factor = p.vat_refund_rate * p.vat_rate + (1.0 - p.taxable_revenue_share) * p.income_tax_rate if s.policy.apply_incentives else 0.0
        c.violation(abs(getattr(f, "incentive_cny", 0.0) - factor * f.revenue_cny), f"incentive of {f.stream} -> {f.destination}")
    out.append(c.result())
    c = _Check("firm_targets", TOL_RATE)
    ledger = firm_ledger(s, flows) if any(f.target_rate is not None for f in s.firms) else {}
    for firm in s.firms:
        if firm.target_rate is None:
            continue
        n, e, g = ledger[firm.id]
        # N − T (G + E) ≥ 0, measured as a rate over the firm's denominator
        c.violation((firm.target_rate * (g + e) - n) / max(g + e, 1.0), f"firm {firm.id}: {n:,.3f} t delivered vs duty {firm.target_rate:.6f} × {g + e:,.3f} t")
    out.append(c.result())
    return out


def audit_builds(s: Scenario, decisions: dict[str, tuple[bool, float, int | None]], flows: list[FlowRow], forced: dict[str, str], *, total_cny: float, operating_cny: float, capital_annualized_cny: float, fixed_opex_cny: float) -> AuditReport:
    """Check investment decisions (``flowopt invest``) against the scenario's own records.

    Independently of the model: capacities, sizes and capital are recomputed here from the
    ``projects`` and ``candidates`` rows and ``policy``.

    * ``build_capacity``: every project's feed is within what exists plus what is built (so a
      project that exists only as a candidate takes nothing unless built);
    * ``build_sizes``: a candidate not built adds nothing; one built adds ``size_t``, a size from
      ``min_size_t`` to ``max_size_t``, or whole modules (1 to ``max_modules``);
    * ``build_available``: nothing built before its ``earliest_year``; forced decisions held;
    * ``exclusive_groups``: at most one candidate of a group built;
    * ``capital_budget``: the builds' capital within ``capital_budget_cny`` and
      ``capital_budget_cny_per_yr``;
    * ``capital_cost``: the annualized capital (capital recovery factor of the discount rate and
      lifetime), the fixed cost and the total reported equal their recomputation.

    Args:
        s: the scenario with its candidates.
        decisions: candidate id -> (built, capacity added t/yr, modules or ``None``).
        flows: the plan's flows (given the builds).
        forced: candidate id -> ``build`` or ``skip`` for imposed decisions.
        total_cny: reported total annual cost (operating + capital + fixed), CNY/yr.
        operating_cny: the plan's objective, CNY/yr.
        capital_annualized_cny: reported annualized capital, CNY/yr.
        fixed_opex_cny: reported fixed operating cost of the builds, CNY/yr.

    Returns:
        The report; ``passed`` only if every check holds within tolerance.
    """
    sizes = {cid: (size if built else 0.0) for cid, (built, size, _) in decisions.items()}
    scale = max([1.0, *(f.tonnes for f in flows), *(p.capacity_t for p in s.projects), *sizes.values()])
    tol_t = TOL_REL * scale
    rate = s.policy.discount_rate
    checks: list[AuditCheck] = []

    feed: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.destination_kind == "project":
            feed[f.destination] += f.tonnes
    added: dict[str, float] = defaultdict(float)
    for c in s.candidates:
        added[c.project] += sizes.get(c.id, 0.0)
    c = _Check("build_capacity", tol_t)
    for p in s.projects:
        c.violation(feed[p.id] - p.capacity_t - added[p.id], f"{p.id}: feed {feed[p.id]:,.3f} t vs {p.capacity_t:,.3f} existing + {added[p.id]:,.3f} built")
    checks.append(c.result())

    c = _Check("build_sizes", tol_t)
    ca = _Check("build_available", 0.0)
    for cand in s.candidates:
        built, size, modules = decisions.get(cand.id, (False, 0.0, None))
        mode = cand.sizing.value
        if not built:
            c.violation(abs(size), f"{cand.id} not built but adds {size:,.3f} t")
        elif mode == "build":
            c.violation(abs(size - float(cand.size_t or 0.0)), f"{cand.id} adds {size:,.3f} t, not its size_t")
        elif mode == "size":
            c.violation(max(float(cand.min_size_t) - size, size - float(cand.max_size_t or 0.0)), f"{cand.id} adds {size:,.3f} t outside [{cand.min_size_t:g}, {cand.max_size_t or 0:g}]")
        else:
            n = modules or 0
            c.violation(abs(size - n * float(cand.module_t or 0.0)), f"{cand.id} adds {size:,.3f} t, not {n} whole modules")
            if not 1 <= n <= (cand.max_modules or 0):
                c.violation(float("inf"), f"{cand.id} built with {n} modules, outside 1..{cand.max_modules}")
        if built and cand.earliest_year is not None and s.year is not None and cand.earliest_year > s.year:
            ca.violation(1.0, f"{cand.id} built in {s.year}, before its earliest year {cand.earliest_year}")
        how = forced.get(cand.id)
        if (how == "build" and not built) or (how == "skip" and built):
            ca.violation(1.0, f"{cand.id} was forced to {how}")
    checks += [c.result(), ca.result()]

    c = _Check("exclusive_groups", 0.0)
    groups: dict[str, list[str]] = defaultdict(list)
    for cand in s.candidates:
        if cand.group is not None and decisions.get(cand.id, (False, 0.0, None))[0]:
            groups[cand.group].append(cand.id)
    for g, ids in groups.items():
        c.violation(float(len(ids) - 1), f"group {g}: {', '.join(ids)} all built")
    checks.append(c.result())

    capital = {cand.id: cand.capital_cny + cand.capital_cny_per_t * sizes.get(cand.id, 0.0) if decisions.get(cand.id, (False, 0.0, None))[0] else 0.0 for cand in s.candidates}
    total_capital = sum(capital.values())
    tol_cny = TOL_REL * max(1.0, abs(total_cny), total_capital, abs(operating_cny))
    c = _Check("capital_budget", tol_cny)
    for name, budget in (("capital_budget_cny", s.policy.capital_budget_cny), ("capital_budget_cny_per_yr", s.policy.capital_budget_cny_per_yr)):
        if budget is not None:
            c.violation(total_capital - budget, f"capital {total_capital:,.0f} CNY vs policy.{name} {budget:,.0f}")
    checks.append(c.result())

    def crf(years: int) -> float:
        # the capital recovery factor, computed here independently of the model
        return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)

    annual = sum(crf(cand.lifetime_yr) * capital[cand.id] for cand in s.candidates)
    fixed = sum(cand.fixed_opex_cny_per_yr for cand in s.candidates if decisions.get(cand.id, (False, 0.0, None))[0])
    c = _Check("capital_cost", tol_cny)
    c.violation(abs(annual - capital_annualized_cny), f"annualized capital {capital_annualized_cny:,.2f} vs recomputed {annual:,.2f}")
    c.violation(abs(fixed - fixed_opex_cny), f"fixed operating cost {fixed_opex_cny:,.2f} vs recomputed {fixed:,.2f}")
    c.violation(abs(operating_cny + annual + fixed - total_cny), f"total {total_cny:,.2f} vs operating + capital + fixed {operating_cny + annual + fixed:,.2f}")
    checks.append(c.result())
    return AuditReport(passed=all(x.passed for x in checks), tolerance_t=tol_t, tolerance_cny=tol_cny, checks=checks)
