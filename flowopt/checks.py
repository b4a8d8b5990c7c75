"""Cross-record checks: ``Scenario`` -> list of ``Problem``.

Field-level rules are enforced by :mod:`flowopt.schema`; the rules here need several records at
once (unknown and duplicate ids, yields that must add up to 1, compositions above 1 (properties
named ``…_share`` or ``…_index`` aside), quality limits on undeclared components or broken by a
stream they must hold for on its own (``applies_to: each_stream``), streams nothing can take). Each problem is located by table,
1-based record number and field; :mod:`flowopt.io` turns record numbers into file rows.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from flowopt.errors import MAX_PROBLEMS, InputError, Problem
from flowopt.schema import (
    PROPERTY_SUFFIXES,
    REQUIRED_TABLES,
    TABLES,
    LimitScope,
    Record,
    Scenario,
    parse_market_links,
)

#: Mass fractions may exceed their bound by this much before it is an error (rounding in files).
FRACTION_TOLERANCE = 1e-6


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _ref(
    problems: list[Problem],
    table: str,
    index: int,
    column: str,
    value: str | None,
    known: Mapping[str, object] | set[str],
    target: str,
) -> None:
    """Record a problem if ``value`` is not an id of ``target``."""
    if value is None or value in known:
        return
    problems.append(
        Problem(
            table,
            index + 1,
            column,
            f"unknown {target} id '{value}'.{_suggest(value, known)}",
            f"use an id from {target}, or add a row for '{value}' to {target}.",
        )
    )


def _duplicates(problems: list[Problem], table: str, ids: Sequence[str], what: str = "id") -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in seen:
            problems.append(
                Problem(
                    table,
                    i + 1,
                    what,
                    f"duplicate {what} '{value}' (first used in record {seen[value]}).",
                    "give every row its own id, or delete the repeated row.",
                )
            )
        else:
            seen[value] = i + 1


def check_scenario(s: Scenario) -> list[Problem]:
    """Run every cross-record check on a scenario.

    Args:
        s: a scenario whose records already passed field validation.

    Returns:
        All problems found (errors and warnings), in table order; empty when the scenario is
        consistent. Locations use 1-based record numbers within each table.
    """
    p: list[Problem] = []
    for table in REQUIRED_TABLES:
        if not getattr(s, table):
            p.append(
                Problem(table, None, None, f"table '{table}' has no rows.", f"add at least one row to {table}.")
            )

    sites = {x.id for x in s.sites}
    firms = {x.id: x for x in s.firms}
    streams = {x.id: x for x in s.streams}
    projects = {x.id: x for x in s.projects}
    sinks = {x.id: x for x in s.sinks}
    outlets: dict[str, object] = {**projects, **sinks}

    for table in ("sites", "firms", "streams", "stockpiles", "projects", "sinks", "routes", "markets", "candidates"):
        _duplicates(p, table, [r.id for r in getattr(s, table)])
    # projects and sinks are both outlets; one id must name one outlet
    for i, sink in enumerate(s.sinks):
        if sink.id in projects:
            p.append(
                Problem("sinks", i + 1, "id", f"id '{sink.id}' is also a project id.", "rename the sink or the project; outlet ids must be unique across both tables.")
            )

    for i, f in enumerate(s.firms):
        _ref(p, "firms", i, "site", f.site, sites, "sites")
    for i, st in enumerate(s.streams):
        _ref(p, "streams", i, "firm", st.firm, firms, "firms")
        _ref(p, "streams", i, "site", st.site, sites, "sites")
        if st.generation_t > 0 and st.site is None and st.firm is None:
            p.append(
                Problem("streams", i + 1, "site", f"stream '{st.id}' is generated ({st.generation_t:g} t) but has neither a firm nor a site.", "fill in firm or site so transport distances are known.")
            )

    comp_seen: Counter[tuple[str, str]] = Counter()
    comp_sum: dict[str, float] = defaultdict(float)
    comp_first_row: dict[str, int] = {}
    for i, c in enumerate(s.composition):
        _ref(p, "composition", i, "stream", c.stream, streams, "streams")
        comp_seen[(c.stream, c.component)] += 1
        if comp_seen[(c.stream, c.component)] == 2:
            p.append(
                Problem("composition", i + 1, "component", f"component '{c.component}' of stream '{c.stream}' is given twice.", "keep one row per stream and component.")
            )
        # properties (a size share, a class indicator, a radioactivity index) describe the same
        # tonnes as the chemistry does: they are not part of the mass balance of components
        if not c.component.endswith(PROPERTY_SUFFIXES):
            comp_sum[c.stream] += c.fraction
        comp_first_row.setdefault(c.stream, i + 1)
    for stream_id, total in comp_sum.items():
        if total > 1 + FRACTION_TOLERANCE:
            p.append(
                Problem("composition", comp_first_row[stream_id], "fraction", f"the fractions of stream '{stream_id}' sum to {total:.4f}, above 1.", "mass fractions of one stream must add up to at most 1; check for double-counted components (e.g. TFe and FeO). A property that is not a mass fraction (a size share, a class indicator, an index) needs a name ending in _share or _index.")
            )

    for i, k in enumerate(s.stockpiles):
        _ref(p, "stockpiles", i, "stream", k.stream, streams, "streams")
        _ref(p, "stockpiles", i, "site", k.site, sites, "sites")

    for i, pr in enumerate(s.projects):
        _ref(p, "projects", i, "site", pr.site, sites, "sites")
        _ref(p, "projects", i, "firm", pr.firm, firms, "firms")
        if pr.min_intake_t > pr.capacity_t:
            p.append(
                Problem("projects", i + 1, "min_intake_t", f"minimum intake {pr.min_intake_t:g} t exceeds capacity {pr.capacity_t:g} t.", "lower min_intake_t or raise capacity_t.")
            )

    for i, sk in enumerate(s.sinks):
        _ref(p, "sinks", i, "site", sk.site, sites, "sites")

    accept_seen: set[tuple[str, str]] = set()
    for i, a in enumerate(s.accepts):
        _ref(p, "accepts", i, "outlet", a.outlet, outlets, "projects or sinks")
        if a.stream != "*":
            _ref(p, "accepts", i, "stream", a.stream, streams, "streams")
        if (a.outlet, a.stream) in accept_seen:
            p.append(
                Problem("accepts", i + 1, "stream", f"outlet '{a.outlet}' accepts '{a.stream}' twice.", "keep one row per outlet and stream.")
            )
        accept_seen.add((a.outlet, a.stream))

    residue_sum: dict[str, float] = defaultdict(float)
    for i, r in enumerate(s.residues):
        _ref(p, "residues", i, "project", r.project, projects, "projects")
        _ref(p, "residues", i, "stream", r.stream, streams, "streams")
        residue_sum[r.project] += r.fraction
    for i, pr in enumerate(s.projects):
        total = pr.product_fraction + pr.loss_fraction + residue_sum.get(pr.id, 0.0)
        if abs(total - 1) > FRACTION_TOLERANCE:
            p.append(
                Problem("projects", i + 1, "product_fraction", f"yields of project '{pr.id}' add up to {total:.6f} (product {pr.product_fraction:g} + loss {pr.loss_fraction:g} + residues {residue_sum.get(pr.id, 0.0):g}), not 1.", "make product_fraction + loss_fraction + the project's residues.csv fractions equal 1 so no mass is created or lost.")
            )

    composition = {(c.stream, c.component): c.fraction for c in s.composition}
    accepted_by: dict[str, list[str]] = defaultdict(list)
    for a in s.accepts:
        if a.stream == "*":
            accepted_by[a.outlet].extend(streams)
        else:
            accepted_by[a.outlet].append(a.stream)
    limit_seen: set[tuple[str, str]] = set()
    for i, q in enumerate(s.quality):
        _ref(p, "quality", i, "project", q.project, projects, "projects")
        if (q.project, q.component) in limit_seen:
            p.append(Problem("quality", i + 1, "component", f"a limit on '{q.component}' for project '{q.project}' is given twice.", "merge the rows into one with min_fraction and max_fraction."))
        limit_seen.add((q.project, q.component))
        if q.min_fraction is None and q.max_fraction is None:
            p.append(Problem("quality", i + 1, "max_fraction", "neither min_fraction nor max_fraction is given.", "fill in at least one of them, or delete the row."))
        if q.min_fraction is not None and q.max_fraction is not None and q.min_fraction > q.max_fraction:
            p.append(Problem("quality", i + 1, "min_fraction", f"min_fraction {q.min_fraction:g} is above max_fraction {q.max_fraction:g}.", "swap or correct the two limits."))
        for stream_id in sorted(set(accepted_by.get(q.project, []))):
            if stream_id in streams and (stream_id, q.component) not in composition:
                p.append(
                    Problem("quality", i + 1, "component", f"project '{q.project}' limits '{q.component}', but accepted stream '{stream_id}' has no '{q.component}' value in composition.", f"add a composition row ({stream_id}, {q.component}, fraction), using 0 if it is absent.")
                )
        p += _each_stream_problems(i, q, sorted(set(accepted_by.get(q.project, []))), composition)
        if q.clause and not q.standard:
            p.append(Problem("quality", i + 1, "clause", f"the limit on '{q.component}' for project '{q.project}' names clause '{q.clause}' but no standard.", "fill in standard (e.g. GB/T 14684-2022), or leave clause empty.", severity="warning"))

    pair_seen: set[frozenset[str]] = set()
    for i, d in enumerate(s.distances):
        _ref(p, "distances", i, "from_site", d.from_site, sites, "sites")
        _ref(p, "distances", i, "to_site", d.to_site, sites, "sites")
        key = frozenset((d.from_site, d.to_site))
        if key in pair_seen:
            p.append(Problem("distances", i + 1, "to_site", f"distance between '{d.from_site}' and '{d.to_site}' is given twice.", "keep one row per pair of sites (either direction)."))
        pair_seen.add(key)

    for i, rt in enumerate(s.routes):
        _ref(p, "routes", i, "from_site", rt.from_site, sites, "sites")
        _ref(p, "routes", i, "to_site", rt.to_site, sites, "sites")
        _ref(p, "routes", i, "stream", rt.stream, streams, "streams")

    p += candidate_problems(s)
    p += market_problems(s)
    p += incentive_and_duty_problems(s)
    p += airspace_carbon_problems(s)

    # a stream with supply but no outlet at all can only be left unmanaged: almost surely a gap
    accepting: dict[str, list[str]] = defaultdict(list)
    for a in s.accepts:
        if a.outlet in outlets:
            for sid in streams if a.stream == "*" else [a.stream]:
                accepting[sid].append(a.outlet)
    supplied = {st.id for st in s.streams if st.generation_t > 0}
    supplied |= {k.stream for k in s.stockpiles if k.max_reclaim_t > 0}
    supplied |= {r.stream for r in s.residues if r.fraction > 0}
    for i, st in enumerate(s.streams):
        if st.id in supplied and not accepting.get(st.id):
            p.append(
                Problem("streams", i + 1, "id", f"no project, sink or storage accepts stream '{st.id}'.", f"add an accepts row with stream '{st.id}' (or '*') for a project or sink.")
            )
    # the uncertainty table (read only by flowopt risk): a row's own errors are errors here;
    # what depends on other tables is a warning here (a what-if that removes a project it
    # names still solves) and an error when flowopt risk resolves the table
    from flowopt.uncertainty import uncertainty_problems

    p += uncertainty_problems(s)
    return p


def _each_stream_problems(index: int, q: Any, accepted: Sequence[str], composition: Mapping[tuple[str, str], float]) -> list[Problem]:
    """Streams an ``each_stream`` quality limit excludes but the project accepts (errors).

    A blend limit can be met by dilution; a per-stream limit (the free CaO of a steel-slag
    aggregate) cannot, so an accepted stream outside it contradicts the data.

    Args:
        index: 0-based record number of the quality row.
        q: the :class:`~flowopt.schema.QualityLimit`.
        accepted: ids of the streams the project accepts.
        composition: ``(stream, component) -> value``.

    Returns:
        One problem per accepted stream whose own value breaks the limit.
    """
    if q.applies_to != LimitScope.each_stream:
        return []
    out: list[Problem] = []
    law = f" ({q.standard}{', clause ' + q.clause if q.clause else ''})" if q.standard else ""
    for stream_id in accepted:
        value = composition.get((stream_id, q.component))
        if value is None:
            continue  # reported above: the value is missing
        low = q.min_fraction is not None and value < q.min_fraction - FRACTION_TOLERANCE
        high = q.max_fraction is not None and value > q.max_fraction + FRACTION_TOLERANCE
        if low or high:
            bound, word = (q.min_fraction, "below the minimum") if low else (q.max_fraction, "above the maximum")
            out.append(Problem("quality", index + 1, "applies_to", f"project '{q.project}' accepts stream '{stream_id}', whose {q.component} {value:g} is {word} {bound:g} that every stream must meet on its own{law}.", f"remove the accepts row ({q.project}, {stream_id}), correct the composition of '{stream_id}', or set applies_to to blend if the limit is on the blended feed."))
    return out


#: Fields of a candidate that belong to each sizing mode (the others must stay empty).
SIZING_FIELDS: dict[str, tuple[str, ...]] = {"build": ("size_t",), "size": ("min_size_t", "max_size_t"), "modules": ("module_t", "max_modules")}


def candidate_problems(s: Scenario) -> list[Problem]:
    """Problems of the ``candidates`` table (investment decisions), located by record number.

    Checked: the project exists; the sizing mode has its fields (a positive ``size_t`` to
    build, ``max_size_t`` above 0 and at least ``min_size_t`` to size, a positive ``module_t``
    and ``max_modules`` for modules) and no field of another mode; a candidate that can never
    be built (``earliest_year`` after the scenario's ``year``) and a group of one are warnings.

    Args:
        s: a scenario whose records passed field validation.

    Returns:
        The problems (errors and warnings), in record order.
    """
    p: list[Problem] = []
    projects = {x.id: x for x in s.projects}
    members: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(s.candidates):
        _ref(p, "candidates", i, "project", c.project, projects, "projects")
        mode = c.sizing.value
        for other, names in SIZING_FIELDS.items():
            if other == mode:
                continue
            for name in names:
                value = getattr(c, name)
                if value is not None and not (name == "min_size_t" and value == 0):
                    p.append(Problem("candidates", i + 1, name, f"{name} belongs to sizing '{other}', but candidate '{c.id}' has sizing '{mode}'.", f"leave {name} empty, or set sizing to '{other}' ({', '.join(SIZING_FIELDS[mode])} go with '{mode}')."))
        if mode == "build" and not c.size_t:
            p.append(Problem("candidates", i + 1, "size_t", f"candidate '{c.id}' is built at size_t, but size_t is {'missing' if c.size_t is None else '0'}.", "give the capacity it adds in t/yr (above 0)."))
        if mode == "size":
            if not c.max_size_t:
                p.append(Problem("candidates", i + 1, "max_size_t", f"candidate '{c.id}' is sized between min_size_t and max_size_t, but max_size_t is {'missing' if c.max_size_t is None else '0'}.", "give the largest capacity it may add in t/yr (above 0)."))
            elif c.min_size_t > c.max_size_t:
                p.append(Problem("candidates", i + 1, "min_size_t", f"min_size_t {c.min_size_t:g} t/yr of candidate '{c.id}' is above its max_size_t {c.max_size_t:g} t/yr.", "swap or correct the two sizes."))
        if mode == "modules":
            if not c.module_t:
                p.append(Problem("candidates", i + 1, "module_t", f"candidate '{c.id}' is built in modules, but module_t is {'missing' if c.module_t is None else '0'}.", "give the capacity of one module in t/yr (above 0)."))
            if c.max_modules is None:
                p.append(Problem("candidates", i + 1, "max_modules", f"candidate '{c.id}' is built in modules, but max_modules is missing.", "give the most modules that may be built (1 or more)."))
        if c.earliest_year is not None and s.year is not None and c.earliest_year > s.year:
            p.append(Problem("candidates", i + 1, "earliest_year", f"candidate '{c.id}' cannot be in operation before {c.earliest_year}, after the scenario's year {s.year}: it will not be built.", "change earliest_year or the scenario's year if it should be available.", severity="warning"))
        if c.group is not None:
            members[c.group].append(i)
    for group, rows in members.items():
        if len(rows) == 1:
            p.append(Problem("candidates", rows[0] + 1, "group", f"group '{group}' has only candidate '{s.candidates[rows[0]].id}', so it excludes nothing.", "give the alternatives the same group, or leave group empty.", severity="warning"))
    return p


def airspace_carbon_problems(s: Scenario) -> list[Problem]:
    """Problems of the airspace and carbon fields (issue 15), located by record number.

    Errors: ``sinks.reclaim_as`` naming no stockpile, or set on a sink that is not a storage
    sink (only stored tonnes can be taken out again). Warnings: a reclaimable sink that accepts
    a stream of another waste category than its stockpile's stream (the reclaimed tonnes take
    the pile's composition and category), and a CO2 cap with no emission factor at all (it
    limits nothing).

    Args:
        s: a scenario whose records passed field validation.

    Returns:
        The problems (errors and warnings), in table order.
    """
    p: list[Problem] = []
    piles = {k.id: k for k in s.stockpiles}
    category = {x.id: x.category for x in s.streams}
    for i, d in enumerate(s.sinks):
        if d.reclaim_as is None:
            continue
        _ref(p, "sinks", i, "reclaim_as", d.reclaim_as, piles, "stockpiles")
        if d.counts_as.value != "storage":
            p.append(Problem("sinks", i + 1, "reclaim_as", f"sink '{d.id}' is booked as {d.counts_as.value}, but reclaim_as makes its tonnes reclaimable: only stored tonnes (贮存) can be taken out again.", "set counts_as to storage, or leave reclaim_as empty."))
        pile = piles.get(d.reclaim_as)
        if pile is None or pile.stream not in category:
            continue
        accepted = sorted({a.stream for a in s.accepts if a.outlet == d.id and a.stream != "*"} | ({x.id for x in s.streams} if any(a.outlet == d.id and a.stream == "*" for a in s.accepts) else set()))
        other = [st for st in accepted if st in category and category[st] != category[pile.stream]]
        if other:
            p.append(Problem("sinks", i + 1, "reclaim_as", f"sink '{d.id}' accepts {', '.join(other[:5])} ({category[other[0]].value}), but its tonnes become stock of '{pile.id}', whose stream '{pile.stream}' is {category[pile.stream].value}: reclaimed tonnes take that stream's composition and category.", "let the sink accept only streams of the pile's kind, or give it a stockpile of its own.", severity="warning"))
    pol = s.policy
    if pol.co2_cap_t is not None:
        factors = s.transport.tco2_per_t_km > 0 or any(r.transport_tco2_per_t for r in s.routes) or any(x.process_tco2_per_t or (x.electricity_kwh_per_t and pol.grid_tco2_per_mwh) or x.product_avoided_tco2_per_t for x in s.projects)
        if not factors:
            p.append(Problem("policy", None, "co2_cap_t", f"policy.co2_cap_t is {pol.co2_cap_t:g} tCO2/yr, but no emission factor is given: the cap limits nothing.", "give transport.tco2_per_t_km, projects' process_tco2_per_t / electricity_kwh_per_t (with policy.grid_tco2_per_mwh) or product_avoided_tco2_per_t, or leave co2_cap_t empty.", severity="warning"))
    return p


def market_problems(s: Scenario) -> list[Problem]:
    """Problems of the product markets (``markets``, ``market_tiers``, ``projects.markets``).

    Errors: a tier or a project naming an unknown market; a market whose tiers have no open
    last tier (``upto_t`` empty) or more than one, or two tiers with the same ``upto_t``; a
    price that rises from one tier to the next (revenue must be concave: the first tonnes sell
    highest); a project selling into several markets without saying how much product goes to
    each. Warnings: a tier ending beyond the market's ``limit_t`` (its tonnes past the limit are
    never sold; kept so that a what-if may lower the limit), a market no project sells into.

    Args:
        s: a scenario whose records passed field validation.

    Returns:
        The problems, located by record number.
    """
    p: list[Problem] = []
    markets = {m.id: m for m in s.markets}
    tiers: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(s.market_tiers):
        _ref(p, "market_tiers", i, "market", t.market, markets, "markets")
        if t.market in markets:
            tiers[t.market].append(i)
    for mid, rows in tiers.items():
        limit = markets[mid].limit_t
        open_rows = [i for i in rows if s.market_tiers[i].upto_t is None]
        if not open_rows:
            last = max(rows, key=lambda i: s.market_tiers[i].upto_t or 0.0)
            p.append(Problem("market_tiers", last + 1, "upto_t", f"market '{mid}' has no open last tier: every tier has an upto_t, so tonnes beyond {s.market_tiers[last].upto_t:,.0f} t would have no price.", "leave upto_t empty on the last (cheapest) tier; the market's limit_t in markets bounds the tonnes."))
        for i in open_rows[1:]:
            p.append(Problem("market_tiers", i + 1, "upto_t", f"market '{mid}' has {len(open_rows)} tiers without upto_t; only its last tier may be open.", "give every tier but the last its upto_t (tonnes of product sold in the market up to which its price holds)."))
        seen: dict[float, int] = {}
        for i in rows:
            up = s.market_tiers[i].upto_t
            if up is None:
                continue
            if up in seen:
                p.append(Problem("market_tiers", i + 1, "upto_t", f"market '{mid}' has two tiers up to {up:,.0f} t (the other is record {seen[up] + 1}).", "keep one tier per upto_t."))
            seen.setdefault(up, i)
            if up <= 0:
                p.append(Problem("market_tiers", i + 1, "upto_t", f"a tier of market '{mid}' ends at {up:g} t and holds nothing.", "give upto_t a positive number of tonnes, or delete the row."))
            if limit is not None and up > limit:
                p.append(Problem("market_tiers", i + 1, "upto_t", f"a tier of market '{mid}' ends at {up:,.0f} t, beyond the market's limit_t of {limit:,.0f} t/yr: the tonnes past the limit are never sold, and later tiers never reached.", "lower upto_t to limit_t or below (or raise limit_t), or delete the tier.", severity="warning"))
        order = sorted(rows, key=lambda i: (s.market_tiers[i].upto_t is None, s.market_tiers[i].upto_t or 0.0, i))
        for a, b in itertools.pairwise(order):
            ta, tb = s.market_tiers[a], s.market_tiers[b]
            if tb.price_cny_per_t > ta.price_cny_per_t + 1e-9:
                until = "the rest" if tb.upto_t is None else f"up to {tb.upto_t:,.0f} t"
                p.append(Problem("market_tiers", b + 1, "price_cny_per_t", f"market '{mid}': the tier {until} sells at {tb.price_cny_per_t:g} CNY/t, above the {ta.price_cny_per_t:g} CNY/t of the tier before it; the first tonnes must sell at the highest price (a demand curve).", "order the prices so they fall (or stay) as more is sold; to model a price that rises, use one tier at the average price."))
    sold_in: set[str] = set()
    for i, pr in enumerate(s.projects):
        links = parse_market_links(pr.markets)
        for mid, _ in links:
            sold_in.add(mid)
            _ref(p, "projects", i, "markets", mid, markets, "markets")
        lone = [m for m, y in links if y is None]
        if len(links) > 1 and lone:
            p.append(Problem("projects", i + 1, "markets", f"project '{pr.id}' sells into {len(links)} markets but does not say how much product goes to {', '.join(repr(m) for m in lone)}.", "give each market its tonnes of product per tonne of feed, e.g. AGG=0.6;SAND=0.4."))
    for i, m in enumerate(s.markets):
        if m.id not in sold_in:
            p.append(Problem("markets", i + 1, "id", f"no project sells into market '{m.id}'.", "name it in a project's markets field, or delete the row.", severity="warning"))
    return p


def incentive_and_duty_problems(s: Scenario) -> list[Problem]:
    """Warnings about tax incentives that pay nothing and firms' duties on no waste.

    Args:
        s: a scenario whose records passed field validation.

    Returns:
        Warnings, located by record number.
    """
    p: list[Problem] = []
    priced = {t.market for t in s.market_tiers if t.price_cny_per_t != 0}
    for i, pr in enumerate(s.projects):
        if pr.vat_refund_rate > 0 and pr.vat_rate == 0:
            p.append(Problem("projects", i + 1, "vat_rate", f"project '{pr.id}' has a VAT refund rate of {pr.vat_refund_rate:g} but vat_rate 0: nothing is refunded.", "give vat_rate (VAT paid per CNY of revenue, e.g. 0.13), or set vat_refund_rate to 0.", severity="warning"))
        earns = pr.revenue_cny_per_t != 0 or any(m in priced for m in pr.market_yields)
        if pr.incentive_factor > 0 and not earns:
            p.append(Problem("projects", i + 1, "vat_refund_rate", f"project '{pr.id}' has tax incentives but no product revenue (revenue_cny_per_t 0, no priced market): they are worth 0.", "check revenue_cny_per_t and markets, or leave the incentives out.", severity="warning"))
    owners = {x.firm for x in s.streams if x.generation_t > 0}
    stream_firm = {x.id: x.firm for x in s.streams}
    owners |= {stream_firm.get(k.stream) for k in s.stockpiles if k.max_reclaim_t > 0}
    for i, f in enumerate(s.firms):
        if f.target_rate is not None and f.target_rate > 0 and f.id not in owners:
            p.append(Problem("firms", i + 1, "target_rate", f"firm '{f.id}' has a duty of {f.target_rate:.0%} but generates no waste and holds no reclaimable stock: the duty binds nothing.", "give the duty to the firm that generates the waste (streams.firm), or leave target_rate empty.", severity="warning"))
    return p


def raise_for_problems(problems: Sequence[Problem], what: str = "The scenario is invalid", *, uncollected: int = 0) -> None:
    """Raise :class:`InputError` if any problem is an error; warnings alone pass.

    Args:
        problems: findings from validation or checks.
        what: first line of the error message.
        uncollected: further errors that were counted but not collected (a reader stops
            building problems for a table once it has more than it could ever list).

    Raises:
        InputError: when at least one problem has severity ``error``; it lists the first
            :data:`~flowopt.errors.MAX_PROBLEMS` and counts the rest.
    """
    n = sum(x.severity == "error" for x in problems) + uncollected
    if n:
        msg = f"{what}: {n:,} problem{'s' if n != 1 else ''} found."
        if n > MAX_PROBLEMS:
            msg = f"{what}: {n:,} problems found; the first {MAX_PROBLEMS} are listed."
        raise InputError(msg, problems, total=n)


def validation_problems(exc: ValidationError, table: str, row: int | None = None) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` for one record into problems.

    Args:
        exc: the error raised while validating one record (or the manifest).
        table: table the record belongs to.
        row: 1-based record or line number, if any.

    Returns:
        One problem per pydantic error, with the field path as column and a fix hint.
    """
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = [str(x) for x in err["loc"]]
        column = ".".join(loc) if loc else None
        kind = err["type"]
        got = err.get("input")
        message = f"{err['msg']} (got {_short(got)})."
        out.append(Problem(table, row, column, message, VALIDATION_HINTS.get(kind, "correct the value.")))
    return out


def short_value(value: Any) -> str:
    """A user's value as shown in a message (at most 60 characters)."""
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


VALIDATION_HINTS: dict[str, str] = {
    "extra_forbidden": "remove the field or check its spelling against the documented field names.",
    "missing": "fill in the field; it is required.",
    "finite_number": "use a finite number; NaN and infinity are not allowed.",
    "greater_than_equal": "use a value within the allowed range (negative or absurdly large values are typing errors).",
    "less_than_equal": "use a value within the allowed range; magnitudes above the limit are treated as typing errors.",
    "greater_than": "use a value within the allowed range.",
    "float_parsing": "write a plain number such as 1200000 or 0.25 (no units or thousands separators).",
    "int_parsing": "write a whole number.",
    "bool_parsing": "write true or false.",
    "enum": "use one of the listed values.",
    "string_pattern_mismatch": "ids start with a letter and contain only letters, digits and underscores.",
    "string_too_long": "shorten the text.",
    "market_links": "write market ids separated by ';', each optionally with '=' and the tonnes of product per tonne of feed, e.g. AGG=0.6;SAND=0.4.",
}


def validated(data: Mapping[str, Any]) -> Scenario:
    """Validate a scenario given as one JSON-like mapping and run every cross-record check.

    Args:
        data: mapping with the manifest fields and one list of row mappings per table.

    Returns:
        The validated scenario.

    Raises:
        InputError: listing every problem found, located by table, record number and field.
    """
    problems: list[Problem] = []
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        bad: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            table = str(loc[0]) if loc else "scenario"
            row = loc[1] + 1 if len(loc) > 1 and isinstance(loc[1], int) else None
            rest = loc[2:] if row is not None else loc[1:]
            if row is not None and table in TABLES:
                bad[table][row - 1].add(str(rest[0]) if rest else "")
            problems.append(
                Problem(
                    table,
                    row,
                    ".".join(str(x) for x in rest) or None,
                    f"{err['msg']} (got {_short(err.get('input'))}).",
                    VALIDATION_HINTS.get(err["type"], "correct the value."),
                )
            )
        # the later stages too, on the valid part, so that every problem shows in one answer
        problems += _later_on_partial(data, bad)
        raise_for_problems(problems)
        raise  # pragma: no cover - raise_for_problems always raises here
    return cross_checked(scenario)


def cross_checked(scenario: Scenario) -> Scenario:
    """Run every cross-record check on a scenario whose fields are valid already.

    The second half of :func:`validated`, for callers that validated the fields themselves
    (the API validates with strict JSON types and keeps that result).

    Args:
        scenario: a scenario built by ``Scenario.model_validate``.

    Returns:
        ``scenario``, unchanged.

    Raises:
        InputError: listing every cross-record (and, after an error, network) problem.
    """
    cross = check_scenario(scenario)
    if any(p.severity == "error" for p in cross):
        cross += later_stage_problems(scenario, cross_record=False, earlier=cross)[1]
    raise_for_problems(cross)
    return scenario


def _later_on_partial(data: Mapping[str, Any], bad: Mapping[str, Mapping[int, set[str]]]) -> list[Problem]:
    """The cross-record and network problems of the valid rows of ``data`` (rows as in ``data``).

    Rows with invalid numbers are kept with stand-ins (:func:`stand_in`), other invalid rows
    are left out; see :func:`later_stage_problems`.
    """
    tables: dict[str, list[Any]] = {}
    numbers: dict[str, list[int]] = {}  # record number in the partial scenario -> row in data
    dropped: dict[str, list[Mapping[str, Any]]] = {}
    patched: set[tuple[str, int]] = set()
    for table, model in TABLES.items():
        rows = data.get(table)
        if not isinstance(rows, list | tuple):
            continue
        keep, where, gone = [], [], []
        for i, r in enumerate(rows):
            if not isinstance(r, Mapping):
                continue
            if i in bad.get(table, {}):
                fixed = stand_in(model, dict(r), bad[table][i])
                if fixed is None:
                    gone.append(r)
                    continue
                r = fixed
                patched.add((table, i + 1))
            keep.append(r)
            where.append(i + 1)
        tables[table], numbers[table], dropped[table] = keep, where, gone
    head = {k: v for k, v in data.items() if k not in TABLES}
    partial = None
    for manifest in (head, {}):
        try:
            partial = Scenario.model_validate({**manifest, **tables})
            break
        except ValidationError:
            continue
    if partial is None:
        return []
    cross, network = later_stage_problems(partial, dropped)
    out: list[Problem] = []
    for p in cross:
        row = numbers[p.table][p.row - 1] if p.row is not None and p.table in numbers and 1 <= p.row <= len(numbers[p.table]) else p.row
        if (p.table, row) not in patched:
            out.append(Problem(p.table, row, p.column, p.message, p.hint, p.file, p.severity))
    return out + network


# ---------------------------------------------------------------------------------------------
# Every stage at once: what the later stages find on the valid part of an invalid scenario
# ---------------------------------------------------------------------------------------------

#: Fields that name another table's record: (table, field, tables the value must be an id of).
REFERENCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("firms", "site", ("sites",)),
    ("streams", "firm", ("firms",)),
    ("streams", "site", ("sites",)),
    ("composition", "stream", ("streams",)),
    ("stockpiles", "stream", ("streams",)),
    ("stockpiles", "site", ("sites",)),
    ("projects", "site", ("sites",)),
    ("projects", "firm", ("firms",)),
    ("sinks", "site", ("sites",)),
    ("accepts", "outlet", ("projects", "sinks")),
    ("accepts", "stream", ("streams",)),
    ("residues", "project", ("projects",)),
    ("residues", "stream", ("streams",)),
    ("quality", "project", ("projects",)),
    ("distances", "from_site", ("sites",)),
    ("distances", "to_site", ("sites",)),
    ("routes", "from_site", ("sites",)),
    ("routes", "to_site", ("sites",)),
    ("routes", "stream", ("streams",)),
    ("candidates", "project", ("projects",)),
    ("market_tiers", "market", ("markets",)),
)
_ID_TABLES = ("sites", "firms", "streams", "stockpiles", "projects", "sinks", "routes", "markets", "candidates")
_ID_FIELDS = ("id", *sorted({f for _, f, _ in REFERENCES}))


def ids_in(table: str, rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """The records a set of (raw or validated) rows of ``table`` stands for.

    A row with an id stands for its record (``id``); a row without one (an accepts, residues,
    composition, quality or distances row) stands for the records it links, since a problem
    its absence causes names those (``outlet 'O' can receive nothing``).
    """
    fields = ("id",) if table in _ID_TABLES else _ID_FIELDS
    out: set[str] = set()
    for r in rows:
        for f in fields:
            v = r.get(f)
            if isinstance(v, str) and v and v != "*":
                out.add(v)
    return out


_QUOTED = re.compile(r"'([A-Za-z][A-Za-z0-9_]*)'")


def _mentions(p: Problem, ids: set[str]) -> bool:
    """True when a problem's message names one of ``ids`` (messages quote ids: ``'R01'``)."""
    return not ids.isdisjoint(_QUOTED.findall(p.message))


def _whole(s: Scenario) -> tuple[Scenario | None, set[str]]:
    """The scenario without the rows that name unknown records (repeatedly), and their ids.

    The network stage assumes every reference resolves; the rows that break that are already
    reported by :func:`check_scenario`, so they are left out here and what they name is
    returned, so that problems about those records are not reported twice in other words.
    """
    data = {t: [r.model_dump() for r in getattr(s, t)] for t in TABLES}
    removed: set[str] = set()
    changed = True
    while changed:
        changed = False
        known = {t: {r["id"] for r in data[t]} for t in _ID_TABLES}
        for table, fieldname, targets in REFERENCES:
            keep = []
            for r in data[table]:
                v = r.get(fieldname)
                if v is None or (fieldname == "stream" and table == "accepts" and v == "*") or any(v in known[t] for t in targets):
                    keep.append(r)
                else:
                    removed |= ids_in(table, [r])
            if len(keep) != len(data[table]):
                data[table] = keep
                changed = True
    manifest = s.model_dump(exclude=set(TABLES))
    try:
        return Scenario.model_validate({**manifest, **data}), removed
    except ValidationError:  # pragma: no cover - valid records stay valid when others go
        return None, removed


def later_stage_problems(partial: Scenario, dropped: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, *, cross_record: bool = True, earlier: Sequence[Problem] = ()) -> tuple[list[Problem], list[Problem]]:
    """What the cross-record and network checks find on the valid part of an invalid scenario.

    Input is checked in stages: each record's fields, then the rules across records
    (:func:`check_scenario`), then the network (:func:`flowopt.graph.build_graph`). So that a
    user sees every problem in one run, not in rounds, the later stages also run when an
    earlier one failed: on the rows that passed (``partial``), without the rows that name
    unknown records. A network problem that names a record whose row was left out
    (``dropped``, or left out for an unknown reference) or that a cross-record error names
    is not reported, nor a cross-record problem naming a dropped record: each may be only an
    echo of the problem already reported for that record.

    Args:
        partial: the scenario made of the rows that passed field validation.
        dropped: per table, the rows left out of ``partial`` (raw values) because they are invalid.
        cross_record: run :func:`check_scenario` (``False`` when the caller has already).
        earlier: problems the caller found already (their ids are not reported on again).

    Returns:
        ``(cross_record_problems, network_errors)``: the first located by record number
        within ``partial`` (map them to file rows), the second by table only.
    """
    dropped = dropped or {}
    tainted = {i for table, rows in dropped.items() for i in ids_in(table, rows)}
    emptied = {t for t, rows in dropped.items() if rows}
    cross: list[Problem] = []
    if cross_record:
        for p in check_scenario(partial):
            if _mentions(p, tainted) or (p.table in emptied and p.row is None and "has no rows" in p.message):
                continue
            cross.append(p)
    whole, removed = _whole(partial)
    if whole is None:
        return cross, []
    # the network stage (imported here: the graph is a later stage than these checks)
    from flowopt.graph import build_graph

    try:
        found = build_graph(whole, strict=False).warnings
    except Exception:  # the network stage on a partial scenario must never hide the problems found
        return cross, []
    tainted |= removed | {m for p in [*earlier, *cross] if p.severity == "error" for m in _QUOTED.findall(p.message)}
    # errors only: a warning about a network with rows left out may be about what is missing
    network = [p for p in found if p.severity == "error" and not _mentions(p, tainted)]
    return cross, network


#: Stand-ins tried for an invalid number, in order (see :func:`stand_in`).
_STAND_INS = (1.0, 0.0, 0.5)


def stand_in(model: type[Record], record: dict[str, Any], fields: set[str]) -> dict[str, Any] | None:
    """``record`` with its invalid fields replaced by values that validate, or ``None``.

    Used to run the later stages on an invalid scenario (:func:`later_stage_problems`): a
    row kept with stand-ins keeps its record and links in the network.

    Each invalid field gets the first of :data:`_STAND_INS` that makes the row valid (a
    tonnage stays a positive tonnage, so the record keeps its place in the network); failing
    that, optional fields fall back to their defaults. Only numbers can be stood in for.
    """
    if "" in fields or any(name not in model.model_fields for name in fields):
        return None
    optional = {name for name in fields if not model.model_fields[name].is_required()}
    for drop in (set(), optional):
        base = {k: v for k, v in record.items() if k not in drop}
        rest = [name for name in fields if name not in drop]
        for value in _STAND_INS if rest else (None,):
            trial = {**base, **dict.fromkeys(rest, value)}
            try:
                model.model_validate(trial)
            except ValidationError:
                continue
            return trial
    return None
