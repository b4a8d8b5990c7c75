"""Display names of a scenario's records, in Chinese and English, found by kind and id.

Stage: ``Scenario`` -> :class:`Labels` (one table built once per scenario). Every sentence
flowopt writes about a project, sink, route, stockpile, stream or firm takes its names here,
so a record without a name shows its id and never an empty string.
"""

from __future__ import annotations

from flowopt.schema import Scenario

#: Kind of subject -> the scenario table that holds it.
TABLES = {"project": "projects", "sink": "sinks", "stockpile": "stockpiles", "route": "routes", "stream": "streams", "firm": "firms", "site": "sites", "market": "markets"}


class Labels:
    """Names of a scenario's records.

    Args:
        scenario: the scenario.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._names: dict[tuple[str, str], tuple[str, str]] = {}
        for kind, table in TABLES.items():
            for r in getattr(scenario, table):
                self._names[(kind, r.id)] = (getattr(r, "name_zh", "") or r.id, getattr(r, "name_en", "") or r.id)

    def name(self, kind: str, ident: str) -> tuple[str, str]:
        """Return ``(name_zh, name_en)`` of a record (its id for both when unnamed or unknown)."""
        return self._names.get((kind, ident), (ident, ident))

    def outlet(self, ident: str) -> tuple[str, str]:
        """Names of a project or sink."""
        kind = "project" if ("project", ident) in self._names else "sink"
        return self.name(kind, ident)

    def firm_of(self, project: str) -> tuple[str, str] | None:
        """Names of the firm that runs a project, or ``None``."""
        if not hasattr(self, "_firm"):
            self._firm = {p.id: p.firm for p in self.scenario.projects}
        firm = self._firm.get(project)
        return self.name("firm", firm) if firm else None

    def where(self, kind: str, ident: str) -> str | None:
        """The input file and row a record comes from (``projects.csv row 4``), when known."""
        return self.scenario.where(TABLES[kind], ident)
