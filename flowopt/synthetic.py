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

``candidates=K`` adds K investment candidates (``flowopt invest``): expansions of existing
projects and new projects (capacity 0 until built), in all three sizing modes, some in
exclusive groups and, for some seeds, a capital budget. They are drawn from a random stream
of their own, so the rest of the park is the same with or without them.
"""

from __future__ import annotations

import random
from typing import Any

CATEGORIES = ("smelting_slag", "tailings", "fly_ash", "byproduct_gypsum", "other")


def random_park(n_streams: int, seed: int = 7, *, accepts_per_project: int = 12, rich: bool = True, candidates: int = 0) -> dict[str, Any]:
    """Return a scenario as a plain dict (validate it with :func:`flowopt.checks.validated`).

    Args:
        n_streams: generated streams (>= 2).
        seed: random seed; the same arguments give the same park.
        accepts_per_project: streams each project accepts (fewer when there are fewer streams).
        rich: add stockpiles, minimum intakes, shares, quality minima, routes, disposal-booked
            projects and other rate modes (``False``: only generation, projects, TiO2 maxima,
            residues and sinks, as in a plain park).
        candidates: investment candidates to add (see :func:`add_candidates`).

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
