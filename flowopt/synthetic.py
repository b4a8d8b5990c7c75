"""Synthetic parks: random but valid scenarios that exercise every constraint family.

Used by the tests (random parks checked against a second formulation) and by the scale
benchmark (``benchmarks/bench_scale.py --write-park N DIR``). The same ``(n_streams, seed)``
always gives the same scenario.

A park has ``n_streams`` generated streams at random sites on a square, about one project per
four streams, three sinks (an uncapped landfill, a capped tailings dam, a storage yard) and,
depending on ``seed``: legacy stockpiles, residues passed from project to project, TiO2
maxima and CaO minima, feed-share caps, minimum intakes, capacity-limited and prohibited
routes, projects booked as disposal, losses, and any of the three rate modes. Parks of odd
seeds allow unmanaged tonnes (``policy.allow_unmanaged``, penalty 300 CNY/t), parks of even
seeds prohibit them, so both forms of the lot balance are exercised.

``markets=True`` adds product markets (demand limits, price tiers), tax incentives and firms
with duties (:func:`add_markets_duties`), also from a random stream of their own.

``candidates=K`` adds K investment candidates (``flowopt invest``): expansions of existing
projects and new projects (capacity 0 until built), in all three sizing modes, some in
exclusive groups and, for some seeds, a capital budget. They are drawn from a random stream
of their own, so the rest of the park is the same with or without them.
"""

from __future__ import annotations

import random
from typing import Any

CATEGORIES = ("smelting_slag", "tailings", "fly_ash", "byproduct_gypsum", "other")


def random_park(n_streams: int, seed: int = 7, *, accepts_per_project: int = 12, rich: bool = True, candidates: int = 0, markets: bool = False, airspace_carbon: bool = False) -> dict[str, Any]:
    """Return a scenario as a plain dict (validate it with :func:`flowopt.checks.validated`).

    Args:
        n_streams: generated streams (>= 2).
        seed: random seed; the same arguments give the same park.
        accepts_per_project: streams each project accepts (fewer when there are fewer streams).
        rich: add stockpiles, minimum intakes, shares, quality minima, routes, disposal-booked
            projects and other rate modes (``False``: only generation, projects, TiO2 maxima,
            residues and sinks, as in a plain park).
        candidates: investment candidates to add (see :func:`add_candidates`).
        markets: add product markets with demand limits and price tiers, tax incentives and
            firms with duties (see :func:`add_markets_duties`).
        airspace_carbon: add sinks' airspace, a reclaimable storage yard and emission factors
            with, for some seeds, a CO2 cap (see :func:`add_airspace_carbon`).

    Returns:
        The scenario dict (``id`` = ``synthetic_<n>_<seed>``).
    """
    rng = random.Random(seed)
    n_proj = max(3, n_streams // 4)
    n_sites = max(4, n_streams // 10)
    sites = [{"id": f"N{i}", "x_km": round(rng.uniform(0, 60), 3), "y_km": round(rng.uniform(0, 60), 3)} for i in range(n_sites)]
    streams: list[dict[str, Any]] = []
    comp: list[dict[str, Any]] = []
    for i in range(n_streams):
        streams.append({"id": f"W{i}", "site": rng.choice(sites)["id"], "category": rng.choice(CATEGORIES), "generation_t": round(rng.uniform(1e4, 5e5))})
        comp.append({"stream": f"W{i}", "component": "TiO2", "fraction": round(rng.uniform(0, 0.25), 3)})
        comp.append({"stream": f"W{i}", "component": "CaO", "fraction": round(rng.uniform(0.05, 0.45), 3)})
    total = sum(s["generation_t"] for s in streams)
    projects: list[dict[str, Any]] = []
    accepts: list[dict[str, Any]] = []
    residues: list[dict[str, Any]] = []
    quality: list[dict[str, Any]] = []
    stockpiles: list[dict[str, Any]] = []
    for j in range(n_proj):
        pid = f"R{j}"
        has_residue = j % 4 == 0
        product = 0.8 if has_residue else (round(rng.uniform(0.85, 1.0), 3) if rich else 1.0)
        loss = round(1 - product - (0.2 if has_residue else 0.0), 6) if rich and not has_residue else 0.0
        if has_residue:
            product = 0.8
        project: dict[str, Any] = {
            "id": pid,
            "site": rng.choice(sites)["id"],
            "capacity_t": round(total * 0.9 / n_proj * rng.uniform(0.6, 1.4)),
            "processing_cost_cny_per_t": round(rng.uniform(10, 80)),
            "revenue_cny_per_t": round(rng.uniform(0, 90)),
            "product_fraction": product,
            "loss_fraction": max(loss, 0.0),
        }
        if rich and rng.random() < 0.15:
            project["counts_as"] = "disposal"
        projects.append(project)
        if has_residue:
            rid = f"WR{j}_res"
            streams.append({"id": rid, "category": "tailings"})
            comp.append({"stream": rid, "component": "TiO2", "fraction": 0.05})
            comp.append({"stream": rid, "component": "CaO", "fraction": 0.2})
            residues.append({"project": pid, "stream": rid, "fraction": 0.2})
        chosen = sorted(rng.sample(range(n_streams), min(accepts_per_project, n_streams)))
        for sid in chosen:
            row: dict[str, Any] = {"outlet": pid, "stream": f"W{sid}"}
            if rich and rng.random() < 0.1:
                row["max_share"] = round(rng.uniform(0.2, 0.9), 3)
            accepts.append(row)
        quality.append({"project": pid, "component": "TiO2", "max_fraction": round(rng.uniform(0.1, 0.2), 3)})
        if rich and rng.random() < 0.3:
            quality.append({"project": pid, "component": "CaO", "min_fraction": round(rng.uniform(0.05, 0.2), 3)})
        if rich and rng.random() < 0.1:
            project["min_intake_t"] = round(min(project["capacity_t"], 2e4) * rng.uniform(0.1, 0.5))
    # residues may feed the next project in line (never back to themselves)
    for j in range(0, n_proj, 4):
        accepts.append({"outlet": f"R{(j + 1) % n_proj}", "stream": f"WR{j}_res"})
    if rich:
        for i in range(max(1, n_streams // 20)):
            sid = rng.randrange(n_streams)
            held = round(rng.uniform(2e5, 5e6))
            stockpiles.append({"id": f"SP{i}", "stream": f"W{sid}", "site": rng.choice(sites)["id"], "stock_t": held, "max_reclaim_t": round(held * rng.uniform(0.05, 0.5)), "reclaim_cost_cny_per_t": round(rng.uniform(2, 20))})
    sinks = [
        {"id": "landfill", "site": sites[0]["id"], "counts_as": "disposal", "fee_cny_per_t": 50},
        {"id": "dam", "site": sites[1]["id"], "counts_as": "disposal", "fee_cny_per_t": 10, "capacity_t": round(total * 0.3)},
        {"id": "yard", "site": sites[2]["id"], "counts_as": "storage", "fee_cny_per_t": 15},
    ]
    accepts += [{"outlet": "landfill", "stream": "*"}, {"outlet": "yard", "stream": "*"}]
    accepts += [{"outlet": "dam", "stream": s["id"]} for s in streams if s["category"] == "tailings"]
    routes: list[dict[str, Any]] = []
    if rich:
        for i in range(max(1, n_sites // 4)):
            a, b = rng.sample(sites, 2)
            route: dict[str, Any] = {"id": f"RT{i}", "from_site": a["id"], "to_site": b["id"]}
            pick = rng.random()
            if pick < 0.5:
                route["capacity_t"] = round(rng.uniform(1e4, 3e5))
            elif pick < 0.75:
                route["cost_cny_per_t"] = round(rng.uniform(5, 40), 2)
            elif b["id"] != sites[0]["id"]:  # never cut a stream off from the landfill
                route["prohibited"] = True
            routes.append(route)
    mode = "utilization"
    if rich:
        mode = rng.choice(["utilization", "utilization", "utilization_plus_disposal", "disposal_only"])
    park = {
        "id": f"synthetic_{n_streams}_{seed}",
        # decided by the seed, not by a random draw, so the rest of the park does not change
        "policy": {"target_rate": round(rng.uniform(0.3, 0.7), 3) if rich else 0.7, "allow_unmanaged": seed % 2 == 1, "unmanaged_penalty_cny_per_t": 300, "rate_mode": mode},
        "sites": sites,
        "streams": streams,
        "composition": comp,
        "stockpiles": stockpiles,
        "projects": projects,
        "sinks": sinks,
        "accepts": accepts,
        "residues": residues,
        "quality": quality,
        "routes": routes,
    }
    if candidates:
        add_candidates(park, candidates, seed)
    if markets:
        add_markets_duties(park, seed)
    if airspace_carbon:
        add_airspace_carbon(park, seed)
    return park


def add_markets_duties(park: dict[str, Any], seed: int) -> dict[str, Any]:
    """Add product markets, tax incentives and firms' duties to a park dict (in place; also returned).

    About one market per three projects, each with a demand limit (or none, for some seeds) and
    one to three price tiers falling in price; about half the projects sell into one or two of
    them (with explicit tonnes of product per tonne of feed when two), some with revenue of
    their own besides. A third of the projects get tax incentives (a VAT refund rate of the
    catalogue's 30–100 %, some the 90 % income-tax rule). Three firms take over the generated
    streams; one or two of them get a modest duty (5–25 %). Drawn from a random stream of their
    own, so the rest of the park is the same with or without them; every fifth seed turns the
    incentives off (``policy.apply_incentives``), so both forms of the objective are exercised.

    Args:
        park: a dict from :func:`random_park`.
        seed: random seed.

    Returns:
        ``park``.
    """
    rng = random.Random(seed * 104729 + 29)
    streams = [st for st in park["streams"] if st.get("generation_t")]
    total = sum(st["generation_t"] for st in streams)
    projects = park["projects"]
    sites = park["sites"]
    markets: list[dict[str, Any]] = []
    tiers: list[dict[str, Any]] = []
    for i in range(max(1, len(projects) // 3)):
        mid = f"M{i}"
        limit = round(total * rng.uniform(0.03, 0.25)) if rng.random() < 0.8 else None
        market: dict[str, Any] = {"id": mid, "name_en": f"product {i}", "name_zh": f"产品{i}"}
        if limit is not None:
            market["limit_t"] = limit
        markets.append(market)
        n_tiers = rng.randint(0, 3)
        prices = sorted((round(rng.uniform(0, 120), 2) for _ in range(n_tiers)), reverse=True)
        span = limit if limit is not None else round(total * 0.3)
        uptos = sorted(round(span * f) for f in rng.sample([0.2, 0.35, 0.5, 0.7, 0.85], max(n_tiers - 1, 0)))
        for k, price in enumerate(prices):
            tier: dict[str, Any] = {"market": mid, "price_cny_per_t": price}
            if k < len(prices) - 1:
                tier["upto_t"] = uptos[k]
            tiers.append(tier)
    for p in projects:
        pick = rng.random()
        if pick < 0.35:
            p["markets"] = rng.choice(markets)["id"]
        elif pick < 0.5 and len(markets) > 1:
            a, b = rng.sample(markets, 2)
            p["markets"] = f"{a['id']}={round(rng.uniform(0.2, 0.8), 3)};{b['id']}={round(rng.uniform(0.1, 1.2), 3)}"
        if rng.random() < 0.35:
            p["vat_refund_rate"] = rng.choice([0.3, 0.5, 0.7, 0.9, 1.0])
            p["vat_rate"] = rng.choice([0.13, 0.13, 0.03])
            if rng.random() < 0.5:
                p["taxable_revenue_share"] = 0.9
                p["income_tax_rate"] = rng.choice([0.25, 0.15])
    firms = [{"id": f"F{i}", "site": rng.choice(sites)["id"]} for i in range(3)]
    for st in streams:
        st["firm"] = rng.choice(firms)["id"]
    for f in rng.sample(firms, rng.randint(1, 2)):
        f["target_rate"] = round(rng.uniform(0.05, 0.25), 3)
    park["firms"] = firms
    park["markets"] = markets
    park["market_tiers"] = tiers
    park.setdefault("policy", {})["apply_incentives"] = seed % 5 != 0
    return park


def add_candidates(park: dict[str, Any], count: int, seed: int) -> dict[str, Any]:
    """Add ``count`` investment candidates to a park dict (in place; also returned).

    About half expand an existing project, the others build a new one (a project record with
    capacity 0 at a random site, accepting a few generated streams, with a TiO2 maximum like the
    others). Sizing cycles through ``build``, ``size`` and ``modules``; capital is drawn so that
    the annualized capital per t/yr (discount rate 8 %, lifetimes 10–25 years) is of the order of
    the operating margins, so that some candidates pay and others do not. Every third pair of
    candidates is an exclusive group; seeds divisible by 3 get a total capital budget of about
    40 % of what building everything at its largest would cost.

    Args:
        park: a dict from :func:`random_park`.
        count: candidates to add.
        seed: random seed (a stream of its own: the park's other draws are unchanged).

    Returns:
        ``park``.
    """
    rng = random.Random(seed * 7919 + 17)
    streams = [s for s in park["streams"] if s.get("generation_t")]
    total = sum(s["generation_t"] for s in streams)
    existing = list(park["projects"])
    sites = park["sites"]
    cands: list[dict[str, Any]] = []
    largest = 0.0
    for k in range(count):
        size = round(total / max(4, len(existing)) * rng.uniform(0.3, 1.2))
        if k % 2 == 0 and existing:
            project = rng.choice(existing)["id"]
        else:
            project = f"RN{k}"
            park["projects"].append({"id": project, "site": rng.choice(sites)["id"], "capacity_t": 0, "processing_cost_cny_per_t": round(rng.uniform(10, 60)), "revenue_cny_per_t": round(rng.uniform(20, 110)), "product_fraction": 1.0})
            chosen = sorted(rng.sample(range(len(streams)), min(6, len(streams))))
            park["accepts"] += [{"outlet": project, "stream": streams[i]["id"]} for i in chosen]
            park["quality"].append({"project": project, "component": "TiO2", "max_fraction": round(rng.uniform(0.12, 0.22), 3)})
        per_t = round(rng.uniform(20, 250), 2)
        fixed = round(per_t * size * rng.uniform(0.0, 0.4))
        cand: dict[str, Any] = {"id": f"C{k}", "project": project, "capital_cny": fixed, "capital_cny_per_t": per_t, "lifetime_yr": rng.choice([10, 15, 20, 25]), "fixed_opex_cny_per_yr": round(fixed * rng.uniform(0, 0.05))}
        mode = ("build", "size", "modules")[k % 3]
        cand["sizing"] = mode
        if mode == "build":
            cand["size_t"] = size
            largest += fixed + per_t * size
        elif mode == "size":
            cand["min_size_t"] = round(size * rng.uniform(0.1, 0.5))
            cand["max_size_t"] = size
            largest += fixed + per_t * size
        else:
            n = rng.randint(1, 4)
            cand["module_t"] = max(1, round(size / n))
            cand["max_modules"] = n
            largest += fixed + per_t * cand["module_t"] * n
        if k % 6 in (4, 5):
            cand["group"] = f"G{k // 6}"
        cands.append(cand)
    park["candidates"] = cands
    park.setdefault("policy", {})["discount_rate"] = 0.08
    if seed % 3 == 0 and largest > 0:
        park["policy"]["capital_budget_cny"] = round(0.4 * largest)
    return park


def add_airspace_carbon(park: dict[str, Any], seed: int) -> dict[str, Any]:
    """Add airspace, reclaimable storage and carbon to a park dict (in place; also returned).

    Every sink gets a remaining volume (the landfill about a year and a half of generation, the
    dam and the yard less, so some bind), the storage yard feeds a new empty stockpile ``SPY``
    (``reclaim_as``), trucking, the grid and every project get emission factors, one route in two
    a factor of its own, and even seeds a CO2 cap on gross (seeds 0, 4, 8 …) or net CO2. Drawn
    from a random stream of their own, so the rest of the park is the same with or without them.

    Args:
        park: a dict from :func:`random_park`.
        seed: random seed.

    Returns:
        ``park``.
    """
    rng = random.Random(seed * 104729 + 3)
    total = sum(s.get("generation_t", 0) for s in park["streams"])
    share = {"landfill": 1.5, "dam": rng.uniform(0.1, 0.6), "yard": rng.uniform(0.05, 0.5)}
    for sink in park["sinks"]:
        sink["remaining_volume_t"] = round(total * share.get(sink["id"], 1.0))
    generated = [s["id"] for s in park["streams"] if s.get("generation_t")]
    yard = next((d for d in park["sinks"] if d["id"] == "yard"), None)
    if yard is not None and generated:
        park["stockpiles"].append({"id": "SPY", "stream": rng.choice(generated), "site": yard["site"], "stock_t": 0, "max_reclaim_t": round(total * rng.uniform(0.02, 0.1)), "reclaim_cost_cny_per_t": round(rng.uniform(2, 15))})
        yard["reclaim_as"] = "SPY"
    park.setdefault("transport", {})["tco2_per_t_km"] = round(rng.uniform(4e-5, 1.2e-4), 7)
    policy = park.setdefault("policy", {})
    policy["grid_tco2_per_mwh"] = round(rng.uniform(0.1, 0.9), 3)
    for p in park["projects"]:
        p["process_tco2_per_t"] = round(rng.choice([0.0, rng.uniform(0, 0.3)]), 4)
        p["electricity_kwh_per_t"] = round(rng.uniform(0, 60), 1)
        p["product_avoided_tco2_per_t"] = round(rng.choice([0.0, rng.uniform(0, 0.5)]), 4)
    for i, r in enumerate(park.get("routes", [])):
        if i % 2 == 0 and not r.get("prohibited"):
            r["transport_tco2_per_t"] = round(rng.uniform(0, 0.004), 5)
    if seed % 2 == 0:
        policy["co2_cap_t"] = round(total * rng.uniform(0.005, 0.05))
        policy["co2_cap_basis"] = "gross" if seed % 4 == 0 else "net"
    return park

