"""Sankey data: ``Plan`` -> nodes and links ready for a chart library.

Stage: results -> presentation. Nodes are the plan's sources (generated streams, reclaimed
stockpiles), residue streams, outlets (projects, sinks) and ``unmanaged``; links carry tonnes.
A residue appears as its own node, fed by its project and feeding the outlets it goes to, so
the diagram follows material through the park. With ``by="firm"`` the diagram starts one column
earlier, at the firms: firm -> stream (or its reclaimed stockpile) -> outlet, so it shows who
sends what where (residues follow from the projects they come from, as before). Node and link
order is deterministic.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowopt._render import (
    FONT_FAMILY,
    category_name,
    check_lang,
    esc,
    fit,
    num,
    percent,
    pick,
    text_px,
    thousands,
    tonnes_short,
)
from flowopt.io import atomic_path
from flowopt.results import FIRM_GROUP_NAMES, NO_FIRM, Plan

#: What a Sankey can start at: the streams (and stockpiles), or the firms that generate them.
SANKEY_BY = ("stream", "firm")
#: Colour of firm nodes.
FIRM_COLOUR = "#3949ab"

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


def check_by(by: str) -> str:
    """Return ``by`` if a Sankey can start there (:data:`SANKEY_BY`), else raise ValueError."""
    if by not in SANKEY_BY:
        msg = f"A Sankey starts at {' or '.join(SANKEY_BY)}, not {by!r}."
        raise ValueError(msg)
    return by


def sankey_data(plan: Plan, names: dict[str, tuple[str, str]] | None = None, lang: str = "en", *, by: str = "stream") -> dict[str, list[dict[str, Any]]]:
    """Return ``{"nodes": [...], "links": [...]}`` for the plan's material flows.

    Args:
        plan: an optimal plan.
        names: id -> (name_zh, name_en) labels; defaults to the plan's own ``labels``.
        lang: ``en`` or ``zh`` labels (falls back to ids).
        by: ``stream`` (the diagram starts at streams and stockpiles) or ``firm`` (it starts at
            the firms: ``firm:<id>`` nodes, kind ``firm``, feed their streams and stockpiles by
            links of kind ``generated`` or ``reclaimed``; streams without a firm hang from
            ``firm:(none)``).

    Returns:
        Nodes ``{id, label, kind, category}`` and links ``{source, target, value_t, stream,
        category, kind}`` with ``source``/``target`` node ids; tonnes per year as values.

    Raises:
        ValueError: an unknown ``by``.
    """
    check_by(by)
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
        elif by == "firm":
            # a stream or reclaimed stockpile is fed by the firm it belongs to
            start = (f"firm:{f.firm or NO_FIRM}", _source_node(f), f.stream)
            links[start] += f.tonnes
            kinds[start] = "generated" if f.source_kind == "generation" else "reclaimed"
    node_ids = sorted({k[0] for k in links} | {k[1] for k in links})

    def label(node: str) -> str:
        parts = node.split(":")
        ident = parts[-1] if parts[0] != "residue" else parts[2]
        if parts[0] == "firm" and ident in FIRM_GROUP_NAMES:
            return pick(FIRM_GROUP_NAMES[ident], lang)
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


# ---------------------------------------------------------------------------------------------
# Layout and renderers: dependency-free SVG (static) and one self-contained HTML file
# ---------------------------------------------------------------------------------------------

#: Colour of outlet nodes per fate of the tonnes they receive.
FATE_COLOURS = {
    "reuse": "#2e7d32",
    "disposal": "#455a64",
    "storage": "#ef8f00",
    "unmanaged": "#c62828",
}

_KIND_RANK = {"firm": -1, "stream": 0, "stock": 1, "residue": 2, "project": 3, "sink": 4, "unmanaged": 5}
_CATEGORY_RANK = {c: i for i, c in enumerate(CATEGORY_COLOURS)}


@dataclass(frozen=True)
class SankeyNode:
    """A placed node: a rectangle ``width`` x ``height`` px at (``x``, ``y``), top-left corner."""

    id: str
    label: str
    kind: str
    category: str | None
    colour: str
    column: int
    x: float
    y: float
    width: float
    height: float
    value_t: float
    """Throughput in t/yr: the larger of inflow and outflow."""
    in_t: float
    out_t: float


@dataclass(frozen=True)
class SankeyLink:
    """A placed band from (``x0``, ``y0``) to (``x1``, ``y1``), centre line, ``width`` px thick."""

    source: str
    target: str
    stream: str
    category: str
    kind: str
    colour: str
    value_t: float
    x0: float
    y0: float
    x1: float
    y1: float
    width: float
    backward: bool
    """True for a band closing a residue cycle (drawn as a loop back to the left)."""

    def path(self) -> str:
        """SVG path data of the band's centre line (draw it with ``stroke-width`` = width)."""
        if self.backward:
            dx = max(60.0, (self.x0 - self.x1) / 3)
            c0, c1 = self.x0 + dx, self.x1 - dx
        else:
            c0 = c1 = (self.x0 + self.x1) / 2
        return f"M{num(self.x0)},{num(self.y0)}C{num(c0)},{num(self.y0)} {num(c1)},{num(self.y1)} {num(self.x1)},{num(self.y1)}"


@dataclass(frozen=True)
class SankeyLayout:
    """Positions of every node and band inside the box given to :func:`sankey_layout`."""

    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]
    columns: int
    px_per_t: float


@dataclass
class _Box:
    node: dict[str, Any]
    column: int = 0
    y: float = 0.0
    h: float = 0.0
    value: float = 0.0
    ins: list[dict[str, Any]] = field(default_factory=list)
    outs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def centre(self) -> float:
        return self.y + self.h / 2


def _node_colour(node: dict[str, Any], ins: list[dict[str, Any]], outs: list[dict[str, Any]]) -> str:
    kind = node.get("kind")
    if kind == "firm":
        return FIRM_COLOUR
    if kind in ("stream", "residue", "stock"):
        cat = node.get("category") or next((lk.get("category") for lk in outs + ins), None) or "other"
        return CATEGORY_COLOURS.get(cat, CATEGORY_COLOURS["other"])
    fates: dict[str, float] = defaultdict(float)
    for lk in ins:
        fates[lk.get("kind", "reuse")] += lk["value_t"]
    fate = max(sorted(fates), key=lambda k: fates[k]) if fates else "reuse"
    if kind == "unmanaged":
        fate = "unmanaged"
    return FATE_COLOURS.get(fate, FATE_COLOURS["reuse"])


def _back_edges(ids: list[str], succ: dict[str, list[str]], has_in: set[str]) -> set[tuple[str, str]]:
    """Edges closing a cycle, found by a depth-first search in id order (deterministic)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    roots = [n for n in ids if n not in has_in] + ids
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            u, it = stack[-1]
            v = next(it, None)
            if v is None:
                state[u] = 2
                stack.pop()
            elif state.get(v) == 1:
                back.add((u, v))
            elif v not in state:
                state[v] = 1
                stack.append((v, iter(succ[v])))
    return back


def sankey_layout(data: dict[str, list[dict[str, Any]]], *, left: float, top: float, right: float, bottom: float, node_width: float = 14.0, node_pad: float = 30.0, iterations: int = 32) -> SankeyLayout:
    """Place the nodes and bands of :func:`sankey_data` output in a box (px).

    Columns follow the material: a node's column is its longest path from a source, and nodes
    without outgoing bands (outlets that end the material's journey) go to the last column.
    Residue cycles are broken by a depth-first search in id order; their closing bands are
    marked ``backward``. Vertical positions come from a few rounds of relaxation towards the
    weighted centre of each node's neighbours (as in d3-sankey), then collision resolution.

    Args:
        data: ``{"nodes": [...], "links": [...]}`` as returned by :func:`sankey_data`.
        left: x of the box's left edge (the first column's nodes start here).
        top: y of the box's top edge.
        right: x of the box's right edge (the last column's nodes end here).
        bottom: y of the box's bottom edge.
        node_width: node rectangle width in px.
        node_pad: least vertical gap between two nodes of a column, in px.
        iterations: relaxation rounds.

    Returns:
        The layout; the same data always gives the same layout.

    Raises:
        ValueError: a band names a node that is not in ``nodes``, carries a negative or
            non-finite tonnage, or the box is too small.
    """
    nodes = {n["id"]: n for n in data.get("nodes", [])}
    links = [lk for lk in data.get("links", []) if lk.get("value_t", 0) > 0]
    for lk in data.get("links", []):
        v = lk.get("value_t")
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            msg = f"Sankey link {lk.get('source')} -> {lk.get('target')} has an invalid value_t {v!r}; expected tonnes >= 0."
            raise ValueError(msg)
        for end in ("source", "target"):
            if lk.get(end) not in nodes:
                msg = f"Sankey link {end} {lk.get(end)!r} is not a node id."
                raise ValueError(msg)
    if right - left <= node_width or bottom - top <= 0:
        msg = f"Sankey box too small: {right - left:.0f} x {bottom - top:.0f} px."
        raise ValueError(msg)
    boxes = {nid: _Box(node) for nid, node in nodes.items()}
    for lk in links:
        boxes[lk["source"]].outs.append(lk)
        boxes[lk["target"]].ins.append(lk)
    boxes = {k: b for k, b in sorted(boxes.items()) if b.ins or b.outs}
    if not boxes:
        return SankeyLayout((), (), 0, 0.0)
    ids = list(boxes)
    succ = {n: sorted({lk["target"] for lk in boxes[n].outs}) for n in ids}
    back = _back_edges(ids, succ, {lk["target"] for lk in links})
    # longest path depth over the acyclic edges (Kahn's order, ready queue kept sorted)
    dag = {n: [v for v in succ[n] if (n, v) not in back] for n in ids}
    indeg = dict.fromkeys(ids, 0)
    for n in ids:
        for v in dag[n]:
            indeg[v] += 1
    ready = sorted(n for n in ids if indeg[n] == 0)
    depth = dict.fromkeys(ids, 0)
    while ready:
        u = ready.pop(0)
        for v in dag[u]:
            depth[v] = max(depth[v], depth[u] + 1)
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
                ready.sort()
    last = max(depth.values())
    for n in ids:
        boxes[n].column = last if not dag[n] and boxes[n].ins else depth[n]
        boxes[n].value = max(sum(lk["value_t"] for lk in boxes[n].ins), sum(lk["value_t"] for lk in boxes[n].outs))
    ncols = last + 1
    columns: list[list[_Box]] = [[] for _ in range(ncols)]

    def rank(b: _Box) -> tuple[int, int, int, str]:
        # sources grouped by waste category (stock beside its fresh stream), others by kind
        cat = b.node.get("category") or next((lk.get("category", "other") for lk in b.outs + b.ins), "other")
        kind, crank = _KIND_RANK.get(b.node.get("kind", ""), 9), _CATEGORY_RANK.get(cat, 99)
        if kind < 0:  # firms, in their own first column, by id
            return (kind, 0, 0, b.node["id"])
        return (0, crank, kind, b.node["id"]) if kind <= 1 else (kind, crank, 0, b.node["id"])

    for b in sorted(boxes.values(), key=rank):
        columns[b.column].append(b)
    height = bottom - top
    ky = min((height - (len(col) - 1) * node_pad) / sum(b.value for b in col) for col in columns if col)
    if ky <= 0:
        msg = f"Sankey box too small: {height:.0f} px cannot hold {max(len(c) for c in columns)} nodes {node_pad:.0f} px apart."
        raise ValueError(msg)
    for col in columns:
        y = top
        for b in col:
            b.h = max(b.value * ky, 1.5)
            b.y = y
            y += b.h + node_pad
        shift = (bottom - (y - node_pad)) / 2
        for b in col:
            b.y += shift

    def resolve(col: list[_Box], keep_order: bool) -> None:
        if not keep_order:
            col.sort(key=lambda b: (b.centre, b.node["id"]))
        y = top
        for b in col:
            b.y = max(b.y, y)
            y = b.y + b.h + node_pad
        y = bottom
        for b in reversed(col):
            b.y = min(b.y, y - b.h)
            y = b.y - node_pad
        y = top
        for b in col:  # only if the column is over-full (minimum heights): top wins
            b.y = max(b.y, y)
            y = b.y + b.h + node_pad

    def relax(order: range, upstream: bool, alpha: float) -> None:
        for c in order:
            col = columns[c]
            for b in col:
                total = weight = 0.0
                for lk in b.ins if upstream else b.outs:
                    other = boxes[lk["source"] if upstream else lk["target"]]
                    w = lk["value_t"] * max(1, abs(b.column - other.column))
                    total += other.centre * w
                    weight += w
                if weight > 0:
                    b.y += (total / weight - b.centre) * alpha
            resolve(col, keep_order=c == 0)

    for i in range(iterations):
        alpha = 0.99**i
        relax(range(ncols - 2, -1, -1), upstream=False, alpha=alpha)
        relax(range(1, ncols), upstream=True, alpha=alpha)
    x_step = (right - left - node_width) / (ncols - 1) if ncols > 1 else 0.0
    x_of = {n: left + boxes[n].column * x_step for n in ids}
    # band offsets inside each node: ordered by the other end's height, cycle bands last
    offsets_out: dict[int, float] = {}
    offsets_in: dict[int, float] = {}
    for n in ids:
        b = boxes[n]
        y = b.y
        for lk in sorted(b.outs, key=lambda lk: ((lk["source"], lk["target"]) in back, boxes[lk["target"]].centre, lk["target"], lk.get("stream", ""))):
            w = lk["value_t"] * ky
            offsets_out[id(lk)] = y + w / 2
            y += w
        y = b.y
        for lk in sorted(b.ins, key=lambda lk: ((lk["source"], lk["target"]) in back, boxes[lk["source"]].centre, lk["source"], lk.get("stream", ""))):
            w = lk["value_t"] * ky
            offsets_in[id(lk)] = y + w / 2
            y += w
    out_nodes = tuple(
        SankeyNode(id=n, label=str(boxes[n].node.get("label") or n), kind=str(boxes[n].node.get("kind", "")), category=boxes[n].node.get("category"), colour=_node_colour(boxes[n].node, boxes[n].ins, boxes[n].outs), column=boxes[n].column, x=x_of[n], y=boxes[n].y, width=node_width, height=boxes[n].h, value_t=boxes[n].value, in_t=sum(lk["value_t"] for lk in boxes[n].ins), out_t=sum(lk["value_t"] for lk in boxes[n].outs))
        for n in sorted(ids, key=lambda n: (boxes[n].column, boxes[n].y, n))
    )
    out_links = tuple(
        SankeyLink(source=lk["source"], target=lk["target"], stream=str(lk.get("stream", "")), category=str(lk.get("category") or "other"), kind=str(lk.get("kind", "")), colour=CATEGORY_COLOURS.get(str(lk.get("category") or "other"), CATEGORY_COLOURS["other"]), value_t=float(lk["value_t"]), x0=x_of[lk["source"]] + node_width, y0=offsets_out[id(lk)], x1=x_of[lk["target"]], y1=offsets_in[id(lk)], width=lk["value_t"] * ky, backward=(lk["source"], lk["target"]) in back)
        for lk in sorted(links, key=lambda lk: (-lk["value_t"], lk["source"], lk["target"], lk.get("stream", "")))
    )
    return SankeyLayout(out_nodes, out_links, ncols, ky)


_KIND_NAMES = {
    "reuse": ("利用", "reuse"),
    "disposal": ("处置", "disposal"),
    "storage": ("贮存", "storage"),
    "unmanaged": ("未妥善处置", "unmanaged"),
    "residue": ("残渣", "residue"),
    "generated": ("产生", "generated"),
    "reclaimed": ("回采", "reclaimed"),
}
_LEGEND_FATES = {
    "reuse": ("综合利用项目", "reuse project"),
    "disposal": ("处置", "disposal"),
    "storage": ("贮存", "storage"),
    "unmanaged": ("未妥善处置", "unmanaged"),
}
_NAME_PX, _SUB_PX = 12.0, 10.5


def _ident(node_id: str) -> str:
    parts = node_id.split(":")
    if parts[0] == "residue" and len(parts) == 3:
        return f"{parts[2]} ← {parts[1]}"
    return "" if node_id == "unmanaged" else parts[-1]


def _node_lines(n: SankeyNode, lang: str, note: str, max_px: float) -> tuple[str, str]:
    ident = _ident(n.id)
    name = n.label.rsplit(" ← ", 1)[0] if n.kind == "residue" else n.label
    sub = " · ".join(x for x in (ident if name not in (ident, ident.split(" ")[0]) else "", tonnes_short(n.value_t, lang), note) if x)
    return fit(name, max_px, _NAME_PX), fit(sub, max_px, _SUB_PX)


def _label_width(lines: tuple[str, str]) -> float:
    return max(text_px(lines[0], _NAME_PX), text_px(lines[1], _SUB_PX))


def render_sankey_svg(data: dict[str, list[dict[str, Any]]], *, lang: str = "en", title: str = "", subtitle: str = "", notes: dict[str, str] | None = None, width: float = 1200.0, height: float | None = None, label_px: float = 240.0, interactive: bool = False) -> str:
    """Render :func:`sankey_data` output as a standalone SVG document (no scripts, no links).

    Args:
        data: ``{"nodes": [...], "links": [...]}`` from :func:`sankey_data` (or the API).
        lang: ``en`` or ``zh``: language of units, legend and tooltips (labels come from data).
        title: heading drawn at the top; empty for none.
        subtitle: smaller line under the title; empty for none.
        notes: extra text per node id, appended to the node's second label line.
        width: picture width in px.
        height: picture height in px; ``None`` sizes it to the busiest column.
        label_px: widest node label in px (longer names are shortened with an ellipsis; the
            full name stays in the tooltip).
        interactive: add ``data-*`` attributes (tooltips, coordinates) for :func:`sankey_html`'s
            script instead of SVG ``<title>`` tooltips.

    Returns:
        The SVG text (UTF-8, deterministic). Bands are ``stroke-width`` = tonnes x scale,
        coloured by waste category; every node and band has a tooltip with exact tonnes.

    Raises:
        ValueError: on an unknown ``lang`` or invalid data (see :func:`sankey_layout`).
    """
    lang = check_lang(lang)
    notes = notes or {}
    node_pad, node_w = 30.0, 14.0
    head = 20.0 + (28.0 if title else 0.0) + (20.0 if subtitle else 0.0)
    # first pass: columns and labels at a nominal size, to size the margins
    probe = sankey_layout(data, left=0, top=0, right=1000, bottom=(len(data.get("nodes", [])) + 10) * node_pad * 4, node_width=node_w, node_pad=node_pad, iterations=0)
    if not probe.nodes:
        h = height or 200.0
        return _svg_doc(width, h, title or "Sankey", [*_svg_head(title, subtitle), f'<text x="{num(width / 2)}" y="{num(h / 2)}" text-anchor="middle" font-size="14" fill="#666">{esc("没有物料流" if lang == "zh" else "No material flows")}</text>'])
    ncols = probe.columns
    first = [n for n in probe.nodes if n.column == 0]
    last_col = [n for n in probe.nodes if n.column == ncols - 1] if ncols > 1 else []
    left_w = max((_label_width(_node_lines(n, lang, notes.get(n.id, ""), label_px)) for n in first), default=0.0) + 10
    right_w = max((_label_width(_node_lines(n, lang, notes.get(n.id, ""), label_px)) for n in last_col), default=0.0) + 10
    left, right = 16.0 + left_w, width - 16.0 - right_w
    gap = (right - left - node_w) / max(ncols - 1, 1)
    if gap < 60:
        msg = f"Sankey width {width:.0f} px is too small for {ncols} columns with labels; give a larger width."
        raise ValueError(msg)
    n_max = max(sum(1 for n in probe.nodes if n.column == c) for c in range(ncols))
    inner = height - head - 100 if height else max(320.0, (n_max - 1) * node_pad * 1.9)
    lay = sankey_layout(data, left=left, top=head + 10, right=right, bottom=head + 10 + inner, node_width=node_w, node_pad=node_pad)
    legend, legend_h = _svg_legend(lay, lang, width, head + inner + 44)
    total_h = height or head + inner + 44 + legend_h + 12
    names = {n.id: n.label for n in lay.nodes}
    parts = _svg_head(title, subtitle)
    parts.append('<g class="links" fill="none" stroke-opacity="0.45">')
    for lk in lay.links:
        tip = f"{names[lk.source]} → {names[lk.target]}\n{lk.stream} ({category_name(lk.category, lang)}, {pick(_KIND_NAMES.get(lk.kind, (lk.kind, lk.kind)), lang)}): {thousands(lk.value_t)} {'吨/年' if lang == 'zh' else 't/yr'}"
        attrs = f'class="link" data-source="{esc(lk.source)}" data-target="{esc(lk.target)}" data-stream="{esc(lk.stream)}" data-value-t="{num(lk.value_t, 3)}"'
        if interactive:
            attrs += f' data-x0="{num(lk.x0)}" data-y0="{num(lk.y0)}" data-x1="{num(lk.x1)}" data-y1="{num(lk.y1)}" data-back="{int(lk.backward)}" data-tip="{esc(tip)}"'
        body = "" if interactive else f"<title>{esc(tip)}</title>"
        parts.append(f'<path {attrs} d="{lk.path()}" stroke="{lk.colour}" stroke-width="{num(max(lk.width, 1.0))}">{body}</path>')
    parts.append("</g>")
    parts.append('<g class="nodes">')
    unit = "吨/年" if lang == "zh" else "t/yr"
    for n in lay.nodes:
        mid = 0 < n.column < ncols - 1
        max_px = min(label_px, gap * 0.8) if mid else label_px
        l1, l2 = _node_lines(n, lang, notes.get(n.id, ""), max_px)
        io_text = f"{'流入' if lang == 'zh' else 'in'} {thousands(n.in_t)} {unit}; {'流出' if lang == 'zh' else 'out'} {thousands(n.out_t)} {unit}"
        tip = f"{n.label}\n{_ident(n.id)}\n{io_text}".replace("\n\n", "\n")
        at_left = n.column == 0 and ncols > 1
        tx = n.x - 6 if at_left else n.x + n.width + 6
        anchor = "end" if at_left else "start"
        cy = n.y + n.height / 2
        attrs = f'class="node" data-id="{esc(n.id)}" data-kind="{esc(n.kind)}"'
        if interactive:
            attrs += f' data-tip="{esc(tip)}"'
        stroke = ' stroke="#333" stroke-dasharray="3,2"' if n.kind == "stock" else ""
        parts.append(f"<g {attrs}>" + ("" if interactive else f"<title>{esc(tip)}</title>"))
        parts.append(f'<rect x="{num(n.x)}" y="{num(n.y)}" width="{num(n.width)}" height="{num(n.height)}" fill="{n.colour}"{stroke}/>')
        parts.append(f'<text x="{num(tx)}" y="{num(cy - 2)}" text-anchor="{anchor}" font-size="{num(_NAME_PX)}" fill="#222" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round">{esc(l1)}</text>')
        parts.append(f'<text x="{num(tx)}" y="{num(cy + 11)}" text-anchor="{anchor}" font-size="{num(_SUB_PX)}" fill="#555" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round">{esc(l2)}</text>')
        parts.append("</g>")
    parts.append("</g>")
    parts.extend(legend)
    return _svg_doc(width, total_h, title or "Sankey", parts)


def _svg_head(title: str, subtitle: str) -> list[str]:
    out = []
    y = 20.0
    if title:
        y += 16
        out.append(f'<text x="16" y="{num(y)}" font-size="18" font-weight="bold" fill="#111">{esc(title)}</text>')
        y += 12
    if subtitle:
        y += 12
        out.append(f'<text x="16" y="{num(y)}" font-size="12.5" fill="#555">{esc(subtitle)}</text>')
    return out


def _svg_legend(lay: SankeyLayout, lang: str, width: float, y0: float) -> tuple[list[str], float]:
    cats = sorted({lk.category for lk in lay.links}, key=lambda c: (_CATEGORY_RANK.get(c, 99), c))
    fates = [k for k, c in FATE_COLOURS.items() if any(n.colour == c and n.kind in ("project", "sink", "unmanaged") for n in lay.nodes)]
    items = [("cat", c, CATEGORY_COLOURS.get(c, CATEGORY_COLOURS["other"]), category_name(c, lang)) for c in cats]
    items += [("fate", f, FATE_COLOURS[f], pick(_LEGEND_FATES[f], lang)) for f in fates]
    if any(n.kind == "stock" for n in lay.nodes):
        items.append(("stock", "stock", "#ffffff", "历史存量（回采）" if lang == "zh" else "legacy stock (reclaimed)"))
    if any(n.kind == "firm" for n in lay.nodes):
        items.append(("firm", "firm", FIRM_COLOUR, "产废企业" if lang == "zh" else "generating firm"))
    heads = {"cat": "固废类别：" if lang == "zh" else "Waste category:", "fate": "去向：" if lang == "zh" else "Outlets:", "stock": "", "firm": ""}
    out = ['<g class="legend" font-size="12" fill="#333">']
    x, y, row_h = 16.0, y0, 22.0
    group = ""
    for kind, key, colour, text in items:
        head = heads[kind] if kind != group else ""
        group = kind
        need = (text_px(head, 12) + 8 if head else 0) + 18 + text_px(text, 12) + 18
        if x + need > width - 16 and x > 16:
            x, y = 16.0, y + row_h
        if head:
            out.append(f'<text x="{num(x)}" y="{num(y + 10)}" font-weight="bold">{esc(head)}</text>')
            x += text_px(head, 12) + 8
        dash = ' stroke="#333" stroke-dasharray="3,2"' if kind == "stock" else ""
        out.append(f'<rect class="swatch" data-key="{esc(key)}" x="{num(x)}" y="{num(y)}" width="12" height="12" fill="{colour}"{dash}/>')
        out.append(f'<text x="{num(x + 18)}" y="{num(y + 10)}">{esc(text)}</text>')
        x += 18 + text_px(text, 12) + 18
    out.append("</g>")
    return out, y - y0 + row_h


def _svg_doc(width: float, height: float, label: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sankey" viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" '
        f'font-family="{esc(FONT_FAMILY)}" role="img" aria-label="{esc(label)}">\n'
        f'<rect width="100%" height="100%" fill="#ffffff"/>\n' + "\n".join(parts) + "\n</svg>\n"
    )


def _plan_text(plan: Plan, lang: str, by: str = "stream") -> tuple[str, str, dict[str, str]]:
    """Title, subtitle and node notes (full projects) of a plan's Sankey."""
    k = plan.kpis
    if lang == "zh":
        title = f"{plan.scenario_id} 工业固废流向：产生 {tonnes_short(k.generated_t, lang)}，综合利用率 {percent(k.utilization_rate)}"
        subtitle = "带宽 = 年吨数；颜色 = 固废类别；残渣从所属项目继续流向去处"
        if by == "firm":
            title = f"{plan.scenario_id} 各企业工业固废流向：产生 {tonnes_short(k.generated_t, lang)}，综合利用率 {percent(k.utilization_rate)}"
            subtitle = "企业 → 固废 → 去向；" + subtitle
        full = "满负荷"
    else:
        title = f"Material flows, {plan.scenario_id}: {tonnes_short(k.generated_t, lang)} generated, utilization rate {percent(k.utilization_rate)}"
        subtitle = "Band width = tonnes per year; colour = waste category; residues flow on from the project that produces them"
        if by == "firm":
            title = f"Material flows by firm, {plan.scenario_id}: {tonnes_short(k.generated_t, lang)} generated, utilization rate {percent(k.utilization_rate)}"
            subtitle = "Firm → stream → outlet. " + subtitle
        full = "full"
    notes = {f"project:{o.outlet}": full for o in plan.outlet_loads if o.kind == "project" and o.load_share is not None and o.load_share >= 1 - 1e-6}
    notes.update({f"sink:{o.outlet}": full for o in plan.outlet_loads if o.kind == "sink" and o.load_share is not None and o.load_share >= 1 - 1e-6})
    notes.update({f"stock:{s}": ("历史存量" if lang == "zh" else "legacy stock") for s, t in plan.reclaim_t.items() if t > 0})
    return title, subtitle, notes


def sankey_svg(plan: Plan, lang: str = "en", *, width: float = 1200.0, height: float | None = None, title: str | None = None, by: str = "stream") -> str:
    """Return a static SVG Sankey diagram of a plan (no browser, no scripts, no network).

    Args:
        plan: an optimal plan.
        lang: ``en`` or ``zh`` labels.
        width: picture width in px.
        height: picture height in px; ``None`` to size it to the plan.
        title: heading; ``None`` for the default (scenario, tonnes generated, rate), ``""`` for
            no heading.
        by: ``stream`` (starts at streams) or ``firm`` (firm -> stream -> outlet).

    Returns:
        SVG text; tooltips (``<title>``) give exact tonnes per node and band.

    Raises:
        ValueError: an unknown ``lang`` or ``by``.
    """
    lang = check_lang(lang)
    t, sub, notes = _plan_text(plan, lang, check_by(by))
    return render_sankey_svg(sankey_data(plan, lang=lang, by=by), lang=lang, title=t if title is None else title, subtitle=sub if title is None else "", notes=notes, width=width, height=height)


_HTML_CSS = """
body{margin:0;background:#fafafa;color:#222;font-family:%s}
main{max-width:1260px;margin:0 auto;padding:16px}
.chart{background:#fff;border:1px solid #ddd;overflow-x:auto}
.chart svg{display:block;max-width:100%%;height:auto}
svg.focus .link{stroke-opacity:.08}
svg.focus .link.on{stroke-opacity:.75}
svg.focus .node{opacity:.35}
svg.focus .node.on{opacity:1}
.link:hover{stroke-opacity:.8}
.node rect{cursor:ns-resize}
#tip{position:fixed;pointer-events:none;background:rgba(20,20,20,.92);color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;white-space:pre-line;max-width:420px;z-index:10}
table{border-collapse:collapse;font-size:13px;margin-top:8px}
th,td{border-bottom:1px solid #e3e3e3;padding:3px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.hint{color:#666;font-size:13px}
"""

_HTML_JS = """
(function(){
var svg=document.querySelector('svg.sankey');if(!svg)return;
var links=Array.prototype.slice.call(svg.querySelectorAll('.link'));
var nodes=Array.prototype.slice.call(svg.querySelectorAll('.node'));
var tip=document.getElementById('tip');var pinned=null;var offset={};
function focus(id){
  svg.classList.toggle('focus',!!id);var near={};
  links.forEach(function(l){var on=!!id&&(l.dataset.source===id||l.dataset.target===id);
    l.classList.toggle('on',on);if(on){near[l.dataset.source]=1;near[l.dataset.target]=1;}});
  nodes.forEach(function(n){n.classList.toggle('on',!!near[n.dataset.id]||n.dataset.id===id);});
}
function focusLink(l){svg.classList.add('focus');links.forEach(function(x){x.classList.toggle('on',x===l);});
  nodes.forEach(function(n){n.classList.toggle('on',n.dataset.id===l.dataset.source||n.dataset.id===l.dataset.target);});}
function show(e,text){tip.textContent=text;tip.hidden=false;
  tip.style.left=Math.min(e.clientX+14,window.innerWidth-430)+'px';tip.style.top=(e.clientY+14)+'px';}
function hide(){tip.hidden=true;if(pinned)focus(pinned);else focus(null);}
links.forEach(function(l){
  l.addEventListener('mousemove',function(e){show(e,l.dataset.tip);if(!pinned)focusLink(l);});
  l.addEventListener('mouseleave',hide);});
nodes.forEach(function(n){
  n.addEventListener('mousemove',function(e){if(!drag)show(e,n.dataset.tip);if(!pinned)focus(n.dataset.id);});
  n.addEventListener('mouseleave',hide);
  n.addEventListener('click',function(){if(moved){moved=false;return;}pinned=pinned===n.dataset.id?null:n.dataset.id;focus(pinned);});});
function f(v){return Math.round(v*100)/100;}
function redraw(l){var dy0=offset[l.dataset.source]||0,dy1=offset[l.dataset.target]||0;
  var x0=+l.dataset.x0,y0=+l.dataset.y0+dy0,x1=+l.dataset.x1,y1=+l.dataset.y1+dy1,c0,c1;
  if(l.dataset.back==='1'){var dx=Math.max(60,(x0-x1)/3);c0=x0+dx;c1=x1-dx;}else{c0=c1=(x0+x1)/2;}
  l.setAttribute('d','M'+f(x0)+','+f(y0)+'C'+f(c0)+','+f(y0)+' '+f(c1)+','+f(y1)+' '+f(x1)+','+f(y1));}
var drag=null,moved=false;
function svgY(e){var m=svg.getScreenCTM();return m?(e.clientY-m.f)/m.d:e.clientY;}
nodes.forEach(function(n){n.addEventListener('pointerdown',function(e){
  drag={node:n,y:svgY(e),base:offset[n.dataset.id]||0};moved=false;tip.hidden=true;e.preventDefault();});});
window.addEventListener('pointermove',function(e){if(!drag)return;var id=drag.node.dataset.id;
  var dy=drag.base+svgY(e)-drag.y;if(Math.abs(dy-drag.base)>2)moved=true;offset[id]=dy;
  drag.node.setAttribute('transform','translate(0,'+f(dy)+')');
  links.forEach(function(l){if(l.dataset.source===id||l.dataset.target===id)redraw(l);});});
window.addEventListener('pointerup',function(){drag=null;});
})();
"""


def sankey_html(plan: Plan, lang: str = "en", *, width: float = 1200.0, height: float | None = None, by: str = "stream") -> str:
    """Return a self-contained interactive HTML page with the plan's Sankey diagram.

    The page needs no network: the SVG, styles and a small script are inline (no CDN, no
    external ``src``/``href``). Hovering a band or node highlights it and shows exact tonnes;
    clicking a node keeps its bands highlighted; nodes can be dragged up and down. A table of
    every band follows the diagram. Without JavaScript the diagram still shows.

    Args:
        plan: an optimal plan.
        lang: ``en`` or ``zh``.
        width: diagram width in px (the page scales it down to the window).
        height: diagram height in px; ``None`` to size it to the plan.
        by: ``stream`` (starts at streams) or ``firm`` (firm -> stream -> outlet).

    Returns:
        The HTML text (UTF-8, deterministic).

    Raises:
        ValueError: an unknown ``lang`` or ``by``.
    """
    lang = check_lang(lang)
    title, subtitle, notes = _plan_text(plan, lang, check_by(by))
    data = sankey_data(plan, lang=lang, by=by)
    svg = render_sankey_svg(data, lang=lang, title="", notes=notes, width=width, height=height, interactive=True)
    labels = {n["id"]: n["label"] for n in data["nodes"]}
    zh = lang == "zh"
    heads = ("来源", "去向", "物料流", "类别", "去向类型", "吨/年") if zh else ("From", "To", "Stream", "Category", "Kind", "t/yr")
    rows = "\n".join(
        f"<tr><td>{esc(labels[lk['source']])}</td><td>{esc(labels[lk['target']])}</td><td>{esc(lk['stream'])}</td><td>{esc(category_name(lk['category'], lang))}</td><td>{esc(pick(_KIND_NAMES.get(lk['kind'], (lk['kind'], lk['kind'])), lang))}</td><td class=\"n\">{thousands(lk['value_t'])}</td></tr>"
        for lk in sorted(data["links"], key=lambda lk: (-lk["value_t"], lk["source"], lk["target"], lk["stream"]))
    )
    hint = "悬停查看吨数；点击节点固定高亮；可上下拖动节点。" if zh else "Hover a band or node for its tonnes; click a node to keep its flows highlighted; drag nodes up and down."
    table_head = "全部物料流（吨/年）" if zh else "All flows (t/yr)"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if zh else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_HTML_CSS % FONT_FAMILY}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{esc(title)}</h1>\n<p>{esc(subtitle)}</p>\n"
        f'<div class="chart">\n{svg}</div>\n<p class="hint">{esc(hint)}</p>\n'
        f'<div id="tip" role="tooltip" hidden></div>\n'
        f"<details>\n<summary>{esc(table_head)}</summary>\n<table>\n<thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in heads)
        + f"</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</details>\n"
        f"</main>\n<script>{_HTML_JS}</script>\n</body>\n</html>\n"
    )


def write_sankey(plan: Plan, path: str | os.PathLike[str], *, lang: str = "en", by: str = "stream") -> Path:
    """Write the plan's Sankey as ``.svg`` (static) or ``.html`` (interactive), atomically.

    Args:
        plan: an optimal plan.
        path: target file; its suffix (``.svg``, ``.html``/``.htm``) picks the format.
        lang: ``en`` or ``zh``.
        by: ``stream`` (starts at streams) or ``firm`` (firm -> stream -> outlet).

    Returns:
        The path written.

    Raises:
        ValueError: the suffix is neither ``.svg`` nor ``.html``.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".svg":
        text = sankey_svg(plan, lang, by=by)
    elif suffix in (".html", ".htm"):
        text = sankey_html(plan, lang, by=by)
    else:
        msg = f"Cannot write a Sankey to '{target.name}': use a .svg or .html file name."
        raise ValueError(msg)
    with atomic_path(target) as work:
        work.write_text(text, encoding="utf-8")
    return target
