"""Shared test data: small scenarios built from plain dicts, and the bundled park paths.

Imported by the tests as ``from support import …`` (a module name that no conftest shadows).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from flowopt.checks import validated
from flowopt.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
PARK_2025 = ROOT / "data" / "panzhihua_east"
PARK_2023 = ROOT / "data" / "panzhihua_east_2023"

#: A one-site network: stream s1 (100 t) feeds project P (60 t, 60 % product, 40 % residue s2),
#: s2 and legacy stock "old" may go to project Q (50 t) or landfill L (5 CNY/t). Transport free.
TINY: dict[str, Any] = {
    "id": "tiny",
    "policy": {"target_rate": 0.5},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [
        {"id": "s1", "site": "A", "category": "tailings", "generation_t": 100},
        {"id": "s2", "category": "tailings"},
        {"id": "old", "category": "smelting_slag"},
    ],
    "stockpiles": [{"id": "k", "stream": "old", "site": "A", "stock_t": 1000, "max_reclaim_t": 30, "reclaim_cost_cny_per_t": 1}],
    "projects": [
        {"id": "P", "site": "A", "capacity_t": 60, "processing_cost_cny_per_t": 10, "product_fraction": 0.6},
        {"id": "Q", "site": "A", "capacity_t": 50, "processing_cost_cny_per_t": 20, "product_fraction": 1},
    ],
    "residues": [{"project": "P", "stream": "s2", "fraction": 0.4}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [
        {"outlet": "P", "stream": "s1"},
        {"outlet": "L", "stream": "*"},
        {"outlet": "Q", "stream": "old"},
        {"outlet": "Q", "stream": "s2"},
    ],
}

#: Two slags and a cement line with TiO2 <= 10 %: the optimum blends 100 t B with 50 t A and
#: landfills the other 50 t of A (20 CNY/t, cheaper than the 25 CNY/t tax on unmanaged slag).
BLEND: dict[str, Any] = {
    "id": "blend",
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [
        {"id": "slag_a", "site": "A", "category": "smelting_slag", "generation_t": 100},
        {"id": "slag_b", "site": "A", "category": "smelting_slag", "generation_t": 100},
    ],
    "composition": [
        {"stream": "slag_a", "component": "TiO2", "fraction": 0.20},
        {"stream": "slag_b", "component": "TiO2", "fraction": 0.05},
    ],
    "projects": [{"id": "cement", "site": "A", "capacity_t": 1000, "revenue_cny_per_t": 30, "product_fraction": 1}],
    "quality": [{"project": "cement", "component": "TiO2", "max_fraction": 0.10}],
    "sinks": [{"id": "landfill", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 20}],
    "accepts": [{"outlet": "cement", "stream": "*"}, {"outlet": "landfill", "stream": "*"}],
}


def make(base: dict[str, Any] | None = None, **changes: Any) -> Scenario:
    """Return a validated scenario from ``base`` (default TINY) with top-level keys replaced."""
    data = copy.deepcopy(base if base is not None else TINY)
    data.update(copy.deepcopy(changes))
    return validated(data)
