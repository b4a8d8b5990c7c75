"""Sankey data: ``Plan`` -> nodes and links ready for a chart library.

Stage: results -> presentation. Nodes are the plan's sources (generated streams, reclaimed
stockpiles), residue streams, outlets (projects, sinks) and ``unmanaged``; links carry tonnes.
A residue appears as its own node, fed by its project and feeding the outlets it goes to, so
the diagram follows material through the park. Node and link order is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flowopt.results import Plan

#: Colour per waste category (used by renderers; any chart library can ignore it).
CATEGORY_COLOURS = {
    "smelting_slag": "#8c564b",
    "tailings": "#bcbd22",
    "fly_ash": "#7f7f7f",
    "coal_gangue": "#17becf",
    "byproduct_gypsum": "#e377c2",
    "other": "#9467bd",
}


def _source_node(f: Any) -> str:
    if f.source_kind == "generation":
        return f"stream:{f.stream}"
    if f.source_kind == "stock":
        return f"stock:{f.source}"
    return f"residue:{f.source}:{f.stream}"


def _target_node(f: Any) -> str:
    if f.destination_kind == "unmanaged":
        return "unmanaged"
    return f"{f.destination_kind}:{f.destination}"


def sankey_data(plan: Plan, names: dict[str, tuple[str, str]] | None = None, lang: str = "en") -> dict[str, list[dict[str, Any]]]:
    """Return ``{"nodes": [...], "links": [...]}`` for the plan's material flows.

    Args:
        plan: an optimal plan.
        names: id -> (name_zh, name_en) labels; defaults to the plan's own ``labels``.
        lang: ``en`` or ``zh`` labels (falls back to ids).

    Returns:
        Nodes ``{id, label, kind, category}`` and links ``{source, target, value_t, stream,
        category, kind}`` with ``source``/``target`` node ids; tonnes per year as values.
    """
    names = names or {k: (v.get("name_zh", ""), v.get("name_en", "")) for k, v in plan.labels.items()}
    category = {f.stream: f.category for f in plan.flows}
    links: dict[tuple[str, str, str], float] = defaultdict(float)
    kinds: dict[tuple[str, str, str], str] = {}
    for f in plan.flows:
        key = (_source_node(f), _target_node(f), f.stream)
        links[key] += f.tonnes
        kinds[key] = f.kind
        if f.source_kind == "residue":
            # the residue node is fed by its project
            feed = (f"project:{f.source}", _source_node(f), f.stream)
            links[feed] += f.tonnes
            kinds[feed] = "residue"
    node_ids = sorted({k[0] for k in links} | {k[1] for k in links})

    def label(node: str) -> str:
        parts = node.split(":")
        ident = parts[-1] if parts[0] != "residue" else parts[2]
        zh, en = names.get(ident, ("", ""))
        text = (zh if lang == "zh" else en) or ident
        if parts[0] == "residue":
            text = f"{text} ← {parts[1]}"
        return "未妥善处置" if node == "unmanaged" and lang == "zh" else ("unmanaged" if node == "unmanaged" else text)

    def node_category(node: str) -> str | None:
        parts = node.split(":")
        if parts[0] in ("stream", "residue"):
            return category.get(parts[-1])
        return None

    nodes = [{"id": n, "label": label(n), "kind": n.split(":")[0], "category": node_category(n)} for n in node_ids]
    out_links = [
        {"source": s, "target": t, "stream": st, "value_t": v, "kind": kinds[(s, t, st)], "category": category.get(st, "other")}
        for (s, t, st), v in sorted(links.items())
        if v > 0
    ]
    return {"nodes": nodes, "links": out_links}
