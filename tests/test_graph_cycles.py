"""Mass-creating residue cycles are found exactly as a brute-force cycle enumeration finds them."""

from __future__ import annotations

import random
from collections import defaultdict

import networkx as nx
import pytest

from flowopt.graph import CYCLE_GAIN_LIMIT, _cycle_problems


def _brute_force(accepts, residues, projects) -> bool:
    g = nx.DiGraph()
    for sid, outs in accepts.items():
        for o in outs:
            if o in projects:
                g.add_edge(("s", sid), ("p", o), gain=1.0)
    for pid, outs in residues.items():
        for sid, frac in outs:
            g.add_edge(("p", pid), ("s", sid), gain=frac)
    for cycle in nx.simple_cycles(g):
        gain = 1.0
        for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            gain *= g.edges[u, v]["gain"]
        if gain >= CYCLE_GAIN_LIMIT:
            return True
    return False


@pytest.mark.parametrize("seed", range(300))
def test_cycle_check_agrees_with_enumerating_every_cycle(seed):
    rng = random.Random(seed)
    streams = [f"s{i}" for i in range(rng.randint(1, 7))]
    projects = {f"p{j}": None for j in range(rng.randint(1, 5))}
    accepts: dict[str, list[str]] = defaultdict(list)
    for sid in streams:
        for p in projects:
            if rng.random() < 0.4:
                accepts[sid].append(p)
    residues: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for p in projects:
        for sid in streams:
            if rng.random() < 0.3:
                residues[p].append((sid, rng.choice([1.0, 1.0, 0.999, 0.5, 1 - 1e-12])))
    found = _cycle_problems(None, accepts, residues, projects)  # type: ignore[arg-type]
    assert bool(found) == _brute_force(accepts, residues, projects)
    for problem in found:
        assert problem.message.startswith("residue cycle ")
