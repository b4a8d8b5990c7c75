"""Example documents for the OpenAPI description, the README and the worker's warm-up solve.

``EXAMPLE_SCENARIO`` is a complete, valid one-site park small enough to read: stream s1
(100 t/yr) feeds a sand line P (60 t/yr, 60 % product, 40 % residue s2); s2 and legacy slag may
go to a brick line Q or the landfill L. ``example_plan.json`` beside this file is its solved plan
(regenerate it with ``python -m api.openapi --examples`` after the library's output changes).
``example_whatif.json`` holds, made the same way, a what-if of the example park (its plan and
comparison with the base) and the example park's target–cost curve; ``example_invest.json`` the
investment decisions of the example park with two candidates.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

BUNDLED_ID = "panzhihua_east_2025"

EXAMPLE_SCENARIO: dict[str, Any] = {
    "id": "example_park",
    "name_zh": "示例园区",
    "name_en": "Example park",
    "year": 2025,
    "policy": {"target_rate": 0.5},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A", "name_zh": "园区", "name_en": "Park site"}],
    "streams": [
        {"id": "s1", "name_en": "Tailings", "site": "A", "category": "tailings", "generation_t": 100},
        {"id": "s2", "name_en": "Sand-line residue", "category": "tailings"},
        {"id": "old", "name_en": "Legacy slag", "category": "smelting_slag"},
    ],
    "stockpiles": [{"id": "k", "stream": "old", "site": "A", "stock_t": 1000, "max_reclaim_t": 30, "reclaim_cost_cny_per_t": 1}],
    "projects": [
        {"id": "P", "name_en": "Sand line", "site": "A", "capacity_t": 60, "processing_cost_cny_per_t": 10, "product_fraction": 0.6},
        {"id": "Q", "name_en": "Brick line", "site": "A", "capacity_t": 50, "processing_cost_cny_per_t": 20, "product_fraction": 1},
    ],
    "residues": [{"project": "P", "stream": "s2", "fraction": 0.4}],
    "sinks": [{"id": "L", "name_en": "Landfill", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [
        {"outlet": "P", "stream": "s1"},
        {"outlet": "L", "stream": "*"},
        {"outlet": "Q", "stream": "old"},
        {"outlet": "Q", "stream": "s2"},
    ],
}


@cache
def example_plan() -> dict[str, Any]:
    """Return the solved plan of :data:`EXAMPLE_SCENARIO` (``example_plan.json``)."""
    loaded: dict[str, Any] = json.loads((Path(__file__).with_name("example_plan.json")).read_text(encoding="utf-8"))
    return loaded


PLAN_ID = "3f2b8c1e9d4a4f6b8e0c7a5d2b1f9e3c"
JOB_ID = "b7e4d2a19c3f4e8a9d6b5c4e3f2a1b0d"
SHA = "5c0a3b2e7f1d9c8b6a5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19080"
CREATED = "2025-11-26T08:30:00.000Z"

WHATIF_ID = "c4a1e8f2b3d94e7a8f6b5c2d1e0f9a8b"
BASE_PLAN_ID = "9e8d7c6b5a4f4e3d8c2b1a0f9e8d7c6b"

PLAN_REQUEST_STORED = {"scenario_id": BUNDLED_ID, "target": 0.72}
PLAN_REQUEST_INLINE = {"scenario": EXAMPLE_SCENARIO, "target": 0.5}
PLAN_REQUEST_DEFAULT_TARGET = {"scenario_id": BUNDLED_ID}


#: What-if requests: the two the plan viewer sends, and one with an inline base.
WHATIF_REQUEST_TARGET = {"scenario_id": BUNDLED_ID, "changes": [], "target": 0.72}
WHATIF_REQUEST_CAPACITY = {"scenario_id": BUNDLED_ID, "changes": [{"set": "projects.R06.capacity_t", "value": 3500000}]}
WHATIF_REQUEST_INLINE = {
    "scenario": EXAMPLE_SCENARIO,
    "id": "example_more_bricks",
    "description": "The brick line grows to 80 t/yr and the target rises to 62 %.",
    "changes": [{"set": "projects.Q.capacity_t", "value": 80}],
    "target": 0.62,
}
WHATIF_REQUEST_SEVERAL = {
    "scenario_id": BUNDLED_ID,
    "id": "slag_prices_down",
    "changes": [
        {"scale": "projects.R01.revenue_cny_per_t", "factor": 0.7},
        {"set": "accepts[outlet=R02,stream=W03].max_share", "value": 0.4},
        {"disable": "projects.R12"},
    ],
}
SWEEP_REQUEST = {"scenario_id": BUNDLED_ID, "from": 0.5, "to": 0.9, "step": 0.005}
SWEEP_REQUEST_INLINE = {"scenario": EXAMPLE_SCENARIO, "from": 0.3, "to": 0.7, "step": 0.1}

#: The example park with two investment candidates: a second sand line (all or nothing) and
#: brick-line modules; ``example_invest.json`` beside this file is its answer at 65 %.
EXAMPLE_INVEST_SCENARIO: dict[str, Any] = {
    **EXAMPLE_SCENARIO,
    "id": "example_invest",
    "name_en": "Example park with candidates",
    "policy": {"target_rate": 0.65, "discount_rate": 0.08},
    "candidates": [
        {"id": "Px", "name_en": "Second sand line", "project": "P", "sizing": "build", "size_t": 30, "capital_cny": 900, "lifetime_yr": 10},
        {"id": "Qx", "name_en": "Brick line modules", "project": "Q", "sizing": "modules", "module_t": 20, "max_modules": 3, "capital_cny_per_t": 60, "lifetime_yr": 10},
    ],
}
#: Investment requests: an inline park, decisions forced ("what if we must build Qx"), a stored scenario.
INVESTMENT_REQUEST_INLINE = {"scenario": EXAMPLE_INVEST_SCENARIO, "target": 0.65}
INVESTMENT_REQUEST_FORCED = {"scenario": EXAMPLE_INVEST_SCENARIO, "target": 0.65, "build": ["Qx=40"], "skip": ["Px"]}
INVESTMENT_REQUEST_STORED = {"scenario_id": "panzhihua_east_invest", "budget_cny": 1.0e9, "gap": 0.0001}


#: The example park with two uncertain inputs: the generation of s1 and the sand line's yield
#: (its residue takes up the change); ``example_risk.json`` beside this file is its answer.
EXAMPLE_RISK_SCENARIO: dict[str, Any] = {
    **EXAMPLE_SCENARIO,
    "id": "example_risk",
    "name_en": "Example park with uncertain inputs",
    "uncertainty": [
        {"id": "G", "name_en": "Tailings generation", "path": "streams.s1.generation_t", "distribution": "triangular", "low": 80, "mode": 100, "high": 130, "source": "estimate: ±20–30 % around the ledger value"},
        {"id": "Y", "name_en": "Sand-line product yield", "path": "projects.P.product_fraction", "distribution": "uniform", "low": 0.5, "high": 0.7, "balance": "s2", "source": "estimate: fines vary with the ore"},
    ],
}
#: Risk requests: the example park inline (with its rows), the bundled park as the viewer asks.
RISK_REQUEST_INLINE = {"scenario": EXAMPLE_RISK_SCENARIO, "target": 0.65, "samples": 64, "seed": 1, "tolerance": 0}
RISK_REQUEST_STORED = {"scenario_id": BUNDLED_ID, "samples": 500, "seed": 0}


@cache
def risk_example() -> dict[str, Any]:
    """Return the answer to :data:`RISK_REQUEST_INLINE` (``POST /v1/risks``, ``example_risk.json``)."""
    loaded: dict[str, Any] = json.loads((Path(__file__).with_name("example_risk.json")).read_text(encoding="utf-8"))
    return loaded


@cache
def _whatif_examples() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((Path(__file__).with_name("example_whatif.json")).read_text(encoding="utf-8"))
    return loaded


def whatif_example() -> dict[str, Any]:
    """Return the answer to :data:`WHATIF_REQUEST_INLINE` (``POST /v1/whatifs``)."""
    ex = _whatif_examples()
    return {
        "job_id": JOB_ID,
        "base_plan_id": BASE_PLAN_ID,
        "whatif_plan_id": WHATIF_ID,
        "base_plan_url": f"/v1/plans/{BASE_PLAN_ID}",
        "whatif_plan_url": f"/v1/plans/{WHATIF_ID}",
        "whatif": ex["whatif"],
        "comparison": ex["comparison"],
        "solve": {"warm": True, "seconds": 0.0123, "lp_seconds": 0.0011, "simplex_iterations": 2, "session_reused": True, "reused": False},
    }


def curve_example() -> dict[str, Any]:
    """Return the answer to :data:`SWEEP_REQUEST_INLINE` (``POST /v1/sweeps``)."""
    curve: dict[str, Any] = _whatif_examples()["curve"]
    return curve


@cache
def investment_example() -> dict[str, Any]:
    """Return the answer to :data:`INVESTMENT_REQUEST_INLINE` (``POST /v1/investments``, ``example_invest.json``)."""
    loaded: dict[str, Any] = json.loads((Path(__file__).with_name("example_invest.json")).read_text(encoding="utf-8"))
    return loaded


def job_example(status: str, kind: str = "plan") -> dict[str, Any]:
    """Return an example job document in ``status`` (queued, running, succeeded, failed) of ``kind``."""
    done = status in ("succeeded", "failed")
    doc: dict[str, Any] = {
        "id": JOB_ID,
        "kind": kind,
        "status": status,
        "stage": {"queued": "waiting for a solver process", "running": "solving", "succeeded": "done", "failed": "done"}[status],
        "queue_position": 2 if status == "queued" else None,
        "scenario_id": BUNDLED_ID,
        "scenario_sha256": SHA,
        "target": 0.72,
        "created_at": CREATED,
        "started_at": None if status == "queued" else "2025-11-26T08:30:00.412Z",
        "finished_at": "2025-11-26T08:30:00.981Z" if done else None,
        "plan_id": PLAN_ID if status == "succeeded" else None,
        "plan_url": f"/v1/plans/{PLAN_ID}" if status == "succeeded" else None,
        "result": None,
        "error": None,
        "url": f"/v1/jobs/{JOB_ID}",
    }
    if kind == "whatif":
        doc["scenario_id"], doc["target"] = "example_more_bricks", 0.62
        doc["plan_id"] = WHATIF_ID if status == "succeeded" else None
        doc["plan_url"] = f"/v1/plans/{WHATIF_ID}" if status == "succeeded" else None
    if kind == "sweep":
        doc["scenario_id"], doc["target"], doc["plan_id"], doc["plan_url"] = "example_park", None, None, None
    if kind == "investment":
        doc["scenario_id"], doc["target"], doc["plan_id"], doc["plan_url"] = "example_invest", 0.65, None, None
    if kind == "risk":
        doc["scenario_id"], doc["target"], doc["plan_id"], doc["plan_url"] = "example_risk", 0.65, None, None
        if status == "running":
            doc["progress"] = {"done": 192, "total": 500, "what": "block 3 of 8"}
    if status == "succeeded":
        doc["result"] = {"plan": example_plan, "whatif": whatif_example, "sweep": curve_example, "investment": investment_example, "risk": risk_example}[kind]()
    if status == "failed":
        doc["error"] = INFEASIBLE_PROBLEM
    return doc


INFEASIBLE_PROBLEM: dict[str, Any] = {
    "type": "urn:flowopt:error:infeasible",
    "status": 422,
    "code": "infeasible",
    "title": "Target not reachable",
    "title_zh": "目标无法实现",
    "detail": "The 95.0% utilization target cannot be met: the highest rate this network can reach is 73.68%. More reuse capacity, more reclaimable stock or a lower target is needed.",
    "detail_zh": "95.0% 的目标（utilization）无法实现：现有网络最高只能达到 73.68%。需要增加综合利用产能、可回采存量，或降低目标。",
    "instance": "/v1/plans",
    "diagnosis": {"target": 0.95, "rate_mode": "utilization", "max_rate": 0.7368, "statement": "The 95.0% utilization target cannot be met: the highest rate this network can reach is 73.68%. More reuse capacity, more reclaimable stock or a lower target is needed.", "statement_zh": "95.0% 的目标（utilization）无法实现：现有网络最高只能达到 73.68%。需要增加综合利用产能、可回采存量，或降低目标。"},
    "job_id": JOB_ID,
}

INPUT_PROBLEM: dict[str, Any] = {
    "type": "urn:flowopt:error:input_invalid",
    "status": 422,
    "code": "input_invalid",
    "title": "Invalid input",
    "title_zh": "输入无效",
    "detail": "The scenario is invalid: 2 problems found.",
    "detail_zh": "输入数据有误，请按 problems 中列出的位置逐条修改后重新提交。",
    "instance": "/v1/plans",
    "problems": [
        {"file": None, "table": "accepts", "row": 2, "column": "outlet", "pointer": "/scenario/accepts/1/outlet", "message": "unknown projects or sinks id 'LL'. Did you mean 'L'?", "hint": "use an id from projects or sinks, or add a row for 'LL' to projects or sinks.", "severity": "error"},
        {"file": None, "table": "projects", "row": 1, "column": "capacity_t", "pointer": "/scenario/projects/0/capacity_t", "message": "Input should be greater than or equal to 0 (got -60).", "hint": "use a value within the allowed range (negative or absurdly large values are typing errors).", "severity": "error"},
    ],
}

