"""Uncertain inputs: what the ``uncertainty`` table means, its checks, and sampling from it.

Stage: ``Scenario`` (with an ``uncertainty`` table) -> :class:`Inputs` (every row resolved to the
records it changes) -> draws in the unit hypercube -> values -> one validated ``Scenario`` per
sample. Only ``flowopt risk`` (:mod:`flowopt.risk`) reads the table; plans use the values
written in the other tables.

**A row** names a field in the path syntax of what-ifs (:mod:`flowopt.overrides`):
``streams.W03.generation_t``, ``projects.R07.counts_as``,
``accepts[outlet=R02,stream=W03].max_share``, ``projects[*].revenue_cny_per_t`` (every
record) or ``transport.variable_cny_per_t_km``. A sample draws a value from the row's
distribution and sets the field to it (``apply: set``) or multiplies the field by it
(``apply: scale``, a factor).

**Distributions** (parameters in the columns of the same names): ``uniform`` (low, high),
``triangular`` (low, mode, high), ``normal`` (mean, sd; truncated to low/high where given),
``lognormal`` (mean and sd of the value itself, not of its logarithm; truncated likewise),
``discrete`` (numbers in ``values``, ``probabilities`` or equal) and ``alternatives`` (named
settings such as ``utilization;disposal`` for an enumerated field, or ``true;false``). Each is
applied as its inverse distribution function to a uniform draw u in (0, 1), so a draw near 0
gives a low value and one near 1 a high value (the order of ``values`` for the last two).

**Correlation groups.** Inputs with the same ``group`` take one draw per sample, mapped through
each member's own distribution: they move together (rank correlation 1). Ungrouped inputs are
independent.

**Yields.** A project's product fraction, loss fraction and residue fractions add up to 1. When
one of them is uncertain, another takes up the difference (``balance``): by default the loss
fraction for a product fraction (and the product fraction for the others); a stream id names
the project's residue of that stream, added when the base has none. Note that with
``policy.count_losses_as_utilized`` (the default) a loss is booked like the product, so a lower
product yield balanced by the loss leaves the rate alone: fines that are not sand and go on to
a tailings dam are a residue (e.g. ``balance: W13``), not a loss.

**Checks.** Every problem names the table ``uncertainty``, the row and the column. Problems of a
row on its own (an unknown table or field, a field that cannot be uncertain, parameters that do
not make a distribution) are errors whenever the scenario is loaded. Problems that depend on
the other tables (a record that does not exist, a range outside the field's allowed values, a
yield that would go negative) are warnings at load time, so that a what-if that removes a
project the table mentions still solves, and errors when ``flowopt risk`` resolves the table
(:func:`resolve`).
"""

from __future__ import annotations

import copy
import math
import re
import typing
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Literal

import numpy as np

from flowopt.errors import InputError, Problem
from flowopt.schema import (
    TABLES,
    Distribution,
    Policy,
    Record,
    Scenario,
    Tariff,
    UncertainApply,
    UncertainInput,
)

TABLE = "uncertainty"
#: Separator of the items of ``values`` and ``probabilities``.
SEPARATOR = ";"
#: Probabilities must add up to 1 within this.
PROBABILITY_TOLERANCE = 1e-6
#: Draws are kept this far inside (0, 1), so unbounded distributions give finite values.
U_MARGIN = 1e-12
#: Yields that must add up to 1 with their project's others: (table, field).
YIELDS = (("projects", "product_fraction"), ("projects", "loss_fraction"), ("residues", "fraction"))
#: Settings (manifest paths) that cannot be uncertain, and why.
_REFUSED_SETTINGS = {
    "policy.target_rate": "the target is what flowopt risk tests against, not an uncertain input; give it with --target.",
    "policy.rate_mode": "the rate's definition is the question asked, not an uncertain input.",
}
#: Sampling methods: Latin hypercube, scrambled Sobol' points, plain Monte Carlo.
Method = Literal["lhs", "sobol", "random"]
METHODS: tuple[str, ...] = ("lhs", "sobol", "random")

_HINT_PATH = "write table.id.field (streams.W03.generation_t), table[field=value].field, table[*].field or transport.<setting>."


# ---------------------------------------------------------------------------------------------
# Fields: what a path may name and which values the field allows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldKind:
    """What kind of value a field holds and which values it allows.

    Attributes:
        kind: ``number``, ``enum``, ``bool`` or ``other`` (ids, names: never uncertain).
        low: the smallest allowed number (``-inf`` when unbounded).
        high: the largest allowed number.
        low_open: True when ``low`` itself is not allowed (``gt``).
        optional: True when the field may be empty.
        choices: the allowed settings of an enumerated or true/false field.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    optional: bool = False
    choices: tuple[str, ...] = ()

    def allows(self, value: float) -> bool:
        """True when the number ``value`` is within the field's bounds (1e-9 of slack)."""
        slack = 1e-9 * max(1.0, abs(value))
        if self.low_open and value <= self.low:
            return False
        return self.low - slack <= value <= self.high + slack

    def bounds_text(self) -> str:
        """``between 0 and 1`` and the like."""
        lo = f"above {self.low:g}" if self.low_open else f"at least {self.low:g}" if math.isfinite(self.low) else ""
        hi = f"at most {self.high:g}" if math.isfinite(self.high) else ""
        return " and ".join(x for x in (lo, hi) if x) or "any number"


def field_kind(annotation: Any, metadata: Sequence[Any] = ()) -> FieldKind:
    """The :class:`FieldKind` of a pydantic field from its annotation and metadata."""
    optional = False
    bounds = list(metadata)
    ann = annotation
    args = typing.get_args(ann)
    if args and type(None) in args:  # X | None
        optional = True
        ann = next(a for a in args if a is not type(None))
    if typing.get_origin(ann) is typing.Annotated:
        inner, *extra = typing.get_args(ann)
        for item in extra:
            bounds += list(getattr(item, "metadata", []) or [item])
        ann = inner
    if ann is bool:
        return FieldKind("bool", optional=optional, choices=("true", "false"))
    if isinstance(ann, type) and issubclass(ann, Enum):
        return FieldKind("enum", optional=optional, choices=tuple(str(m.value) for m in ann))
    if ann is float:
        lo, hi, low_open = -math.inf, math.inf, False
        for b in bounds:
            if getattr(b, "ge", None) is not None:
                lo = max(lo, float(b.ge))
            if getattr(b, "gt", None) is not None:
                lo, low_open = max(lo, float(b.gt)), True
            if getattr(b, "le", None) is not None:
                hi = min(hi, float(b.le))
            if getattr(b, "lt", None) is not None:
                hi = min(hi, float(b.lt))
        return FieldKind("number", lo, hi, low_open, optional)
    return FieldKind("other", optional=optional)


def _setting_kind(path: str) -> tuple[FieldKind | None, str]:
    """The kind of a manifest setting (``transport.x``, ``policy.y``, nested), or an error text."""
    parts = path.split(".")
    model: type[Record] = {"policy": Policy, "transport": Tariff}[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        info = model.model_fields.get(part)
        if info is None:
            return None, f"unknown setting '{path}' ({parts[0]} has: {', '.join(model.model_fields)})."
        ann = info.annotation
        if i < len(parts) - 1:
            if not (isinstance(ann, type) and issubclass(ann, Record)):
                return None, f"unknown setting '{path}'."
            model = ann
            continue
        return field_kind(ann, info.metadata), ""
    return None, f"'{path}' names a group of settings, not one; add the setting's name."


_SELECT = re.compile(r"^(?P<table>[a-z_]+)(?:\[(?P<where>[^\]]*)\])?(?:\.(?P<rest>.+))?$")


def _path_parts(path: str) -> tuple[str, str | None, str]:
    """``(table, field, error)`` of a record path (the records are found later), or of a setting (table ``policy``/``transport``)."""
    head = path.split(".", 1)[0]
    if head in ("policy", "transport"):
        return head, path, ""
    m = _SELECT.match(path)
    if not m or m.group("table") not in TABLES:
        return "", None, f"'{path}' does not start with a table name ({', '.join(t for t in TABLES if t != TABLE)}) or a setting (policy.…, transport.…)."
    table, where, rest = m.group("table"), m.group("where"), m.group("rest")
    if table == TABLE:
        return "", None, "an uncertain input cannot name the uncertainty table itself."
    if where is not None:
        return table, rest, "" if rest else f"'{path}' names records but no field; add .<field>."
    if rest is None or "." not in rest:
        return table, None, f"'{path}' names a record but no field; write {table}.<id>.<field>."
    return table, rest.split(".", 1)[1], ""


# ---------------------------------------------------------------------------------------------
# One row: its distribution, parsed and checked on its own
# ---------------------------------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """The items of a ``values`` or ``probabilities`` cell (``"0.6; 0.8;1"`` -> three items)."""
    return [x.strip() for x in text.split(SEPARATOR)] if text.strip() else []


@dataclass(frozen=True)
class Spec:
    """One uncertain input, parsed: the row's distribution as numbers, ready to sample.

    Attributes:
        id: the row's id.
        row: its 1-based record number in the table.
        record: the row as read.
        table: the table it changes (``policy``/``transport`` for a setting).
        field: the field it changes (the whole dotted path for a setting).
        kind: the field's :class:`FieldKind`.
        values: the possible values of ``discrete`` and ``alternatives`` (numbers or settings).
        probabilities: their probabilities.
    """

    id: str
    row: int
    record: UncertainInput
    table: str
    field: str
    kind: FieldKind
    values: tuple[Any, ...] = ()
    probabilities: tuple[float, ...] = ()

    @property
    def distribution(self) -> Distribution:
        """The row's distribution."""
        return self.record.distribution

    @property
    def is_yield(self) -> bool:
        """True when the field is a project yield (product, loss or residue fraction)."""
        return (self.table, self.field) in YIELDS

    @property
    def balance(self) -> str:
        """Which yield takes up the difference: ``loss``, ``product`` or a residue stream id."""
        if self.record.balance:
            return self.record.balance
        return "loss" if (self.table, self.field) == ("projects", "product_fraction") else "product"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at the draws ``u`` in (0, 1) (the inverse distribution function).

        Returns:
            Floats, or an object array of settings for ``alternatives`` of a non-numeric field.
        """
        r = self.record
        u = np.clip(np.asarray(u, dtype=float), U_MARGIN, 1 - U_MARGIN)
        d = r.distribution
        if d in (Distribution.discrete, Distribution.alternatives):
            cum = np.cumsum(self.probabilities)
            idx = np.minimum(np.searchsorted(cum, u, side="right"), len(self.values) - 1)
            out = np.empty(len(u), dtype=object) if self.kind.kind != "number" else np.empty(len(u))
            for i, k in enumerate(idx):
                out[i] = self.values[int(k)]
            return out
        lo, hi = float(r.low) if r.low is not None else None, float(r.high) if r.high is not None else None
        if d == Distribution.uniform:
            assert lo is not None and hi is not None
            return lo + u * (hi - lo)
        from scipy import stats  # only sampling needs scipy's distributions

        if d == Distribution.triangular:
            assert lo is not None and hi is not None and r.mode is not None
            if hi == lo:
                return np.full(len(u), lo)
            return np.asarray(stats.triang.ppf(u, (float(r.mode) - lo) / (hi - lo), loc=lo, scale=hi - lo), dtype=float)
        dist = self._scipy()
        f_lo = float(dist.cdf(lo)) if lo is not None else 0.0
        f_hi = float(dist.cdf(hi)) if hi is not None else 1.0
        out = np.asarray(dist.ppf(f_lo + u * (f_hi - f_lo)), dtype=float)
        # the far tails of a truncation can round just outside it
        return np.clip(out, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)

    def _scipy(self) -> Any:
        from scipy import stats

        r = self.record
        mean, sd = float(r.mean or 0.0), float(r.sd or 0.0)
        if r.distribution == Distribution.normal:
            return stats.norm(loc=mean, scale=sd)
        sigma2 = math.log1p((sd / mean) ** 2)
        return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))

    def support(self) -> tuple[float, float]:
        """The smallest and largest value the distribution can give (numbers only)."""
        r = self.record
        if r.distribution in (Distribution.discrete, Distribution.alternatives):
            nums = [float(v) for v in self.values]
            return min(nums), max(nums)
        if r.distribution in (Distribution.uniform, Distribution.triangular):
            return float(r.low or 0.0), float(r.high or 0.0)
        lo = float(r.low) if r.low is not None else (-math.inf if r.distribution == Distribution.normal else 0.0)
        hi = float(r.high) if r.high is not None else math.inf
        return lo, hi

    def quantile(self, q: float) -> Any:
        """The value at probability ``q`` (0.5: the median)."""
        return self.ppf(np.array([q]))[0]

    def describe(self, lang: str = "en") -> str:
        """The distribution in a few words: ``triangular 7,000,000–10,000,000–13,000,000`` (``zh``: in Chinese)."""
        from flowopt.i18n import value

        r = self.record
        zh = lang == "zh"
        d = value("distribution", r.distribution.value, lang) if zh else r.distribution.value
        if r.distribution == Distribution.uniform:
            text = f"{d} {_g(r.low)}–{_g(r.high)}"
        elif r.distribution == Distribution.triangular:
            text = f"{d} {_g(r.low)}–{_g(r.mode)}–{_g(r.high)}"
        elif r.distribution in (Distribution.normal, Distribution.lognormal):
            cut = f" [{_g(r.low) if r.low is not None else '−∞'}, {_g(r.high) if r.high is not None else '∞'}]" if r.low is not None or r.high is not None else ""
            text = f"{d} 均值 {_g(r.mean)} 标准差 {_g(r.sd)}{cut}" if zh else f"{d} mean {_g(r.mean)} sd {_g(r.sd)}{cut}"
        else:
            text = f"{d} " + ", ".join(f"{str(v).lower() if isinstance(v, bool) else v} ({p:.0%})" for v, p in zip(self.values, self.probabilities, strict=True))
        return f"× {text}" if r.apply == UncertainApply.scale else text


def _g(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 and float(x).is_integer() else f"{x:g}"


def _row_problem(i: int, column: str | None, message: str, hint: str, severity: Literal["error", "warning"] = "error") -> Problem:
    return Problem(TABLE, i, column, message, hint, None, severity)


def _parse_values(rec: UncertainInput, kind: FieldKind, i: int, out: list[Problem]) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    """Values and probabilities of a discrete or alternatives row (problems appended to ``out``)."""
    items = split_list(rec.values)
    if not items:
        out.append(_row_problem(i, "values", f"{rec.distribution.value} needs its possible values in 'values'.", "list them separated by semicolons, e.g. 0.6;0.8;1 or utilization;disposal."))
        return (), ()
    values: list[Any] = []
    if kind.kind == "number":
        for item in items:
            try:
                v = float(item)
            except ValueError:
                out.append(_row_problem(i, "values", f"'{item[:40]}' is not a number, and the field holds numbers.", "write plain numbers separated by semicolons, e.g. 0.6;0.8;1."))
                return (), ()
            if not math.isfinite(v):
                out.append(_row_problem(i, "values", f"'{item[:40]}' is not a finite number.", "write finite numbers."))
                return (), ()
            values.append(v)
    else:
        for item in items:
            if item.lower() not in kind.choices:
                out.append(_row_problem(i, "values", f"'{item[:40]}' is not a setting of this field (allowed: {', '.join(kind.choices)}).", "use the field's own settings, separated by semicolons."))
                return (), ()
            values.append(item.lower() == "true" if kind.kind == "bool" else item.lower())
    if len(set(map(str, values))) != len(values):
        out.append(_row_problem(i, "values", "a value is listed twice.", "list each value once and give it its probability."))
    probs_text = split_list(rec.probabilities)
    if not probs_text:
        return tuple(values), tuple(1.0 / len(values) for _ in values)
    if len(probs_text) != len(values):
        out.append(_row_problem(i, "probabilities", f"{len(probs_text)} probabilities for {len(values)} values.", "give one probability per value, in the same order, or none for equal ones."))
        return tuple(values), ()
    probs: list[float] = []
    for item in probs_text:
        try:
            p = float(item)
        except ValueError:
            p = math.nan
        if not (math.isfinite(p) and 0 <= p <= 1):
            out.append(_row_problem(i, "probabilities", f"'{item[:40]}' is not a probability between 0 and 1.", "write numbers such as 0.7;0.3."))
            return tuple(values), ()
        probs.append(p)
    if abs(sum(probs) - 1) > PROBABILITY_TOLERANCE:
        out.append(_row_problem(i, "probabilities", f"the probabilities add up to {sum(probs):.6g}, not 1.", "make them add up to 1."))
        return tuple(values), ()
    return tuple(values), tuple(probs)


_PARAMS = {
    Distribution.uniform: ("low", "high"),
    Distribution.triangular: ("low", "mode", "high"),
    Distribution.normal: ("mean", "sd"),
    Distribution.lognormal: ("mean", "sd"),
    Distribution.discrete: ("values",),
    Distribution.alternatives: ("values",),
}
_OPTIONAL = {Distribution.normal: ("low", "high"), Distribution.lognormal: ("low", "high"), Distribution.discrete: ("probabilities",), Distribution.alternatives: ("probabilities",)}


def parse_row(rec: UncertainInput, i: int) -> tuple[Spec | None, list[Problem]]:
    """Check one row on its own and parse it.

    Args:
        rec: the row.
        i: its 1-based record number.

    Returns:
        The parsed input (``None`` when the row has an error) and every problem of the row.
    """
    out: list[Problem] = []
    table, fieldname, err = _path_parts(rec.path)
    if err:
        out.append(_row_problem(i, "path", err, _HINT_PATH))
        return None, out
    assert fieldname is not None
    if table in ("policy", "transport"):
        if fieldname in _REFUSED_SETTINGS:
            out.append(_row_problem(i, "path", f"'{fieldname}' cannot be uncertain: {_REFUSED_SETTINGS[fieldname]}", "remove the row."))
            return None, out
        kind, err = _setting_kind(fieldname)
        if kind is None:
            out.append(_row_problem(i, "path", err, _HINT_PATH))
            return None, out
    else:
        model = TABLES[table]
        info = model.model_fields.get(fieldname)
        if info is None:
            out.append(_row_problem(i, "path", f"{table} has no field '{fieldname}' (fields: {', '.join(model.model_fields)}).", "use one of the table's fields."))
            return None, out
        kind = field_kind(info.annotation, info.metadata)
    if kind.kind == "other":
        out.append(_row_problem(i, "path", f"'{fieldname}' holds an id or a text, which cannot be uncertain; only numbers and settings (an enumerated or true/false field) can.", "choose a numeric field or a setting such as counts_as."))
        return None, out
    d = rec.distribution
    if kind.kind != "number":
        if d != Distribution.alternatives:
            out.append(_row_problem(i, "distribution", f"'{fieldname}' is a setting ({', '.join(kind.choices)}), so its distribution is 'alternatives', not '{d.value}'.", "write distribution alternatives and list the settings in values."))
            return None, out
        if rec.apply == UncertainApply.scale:
            out.append(_row_problem(i, "apply", "a setting cannot be scaled.", "use apply set."))
            return None, out
    if rec.balance and (table, fieldname) not in YIELDS:
        out.append(_row_problem(i, "balance", "'balance' applies to yields only (projects.*.product_fraction, projects.*.loss_fraction, residues[…].fraction).", "leave it empty."))
    if rec.balance and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", rec.balance):
        out.append(_row_problem(i, "balance", f"'{rec.balance[:40]}' is neither loss, product nor a stream id.", "write loss, product or the id of the residue stream."))
    if (rec.balance == "product" and fieldname == "product_fraction") or (rec.balance == "loss" and fieldname == "loss_fraction"):
        out.append(_row_problem(i, "balance", f"the {rec.balance} fraction cannot balance itself.", "name another yield: loss, product or a residue stream id."))
    for name in _PARAMS[d]:
        if name != "values" and getattr(rec, name) is None:
            out.append(_row_problem(i, name, f"{d.value} needs '{name}'.", f"fill in {', '.join(p for p in _PARAMS[d])}."))
    for name in ("low", "mode", "high", "mean", "sd", "values", "probabilities"):
        given = getattr(rec, name) not in (None, "")
        if given and name not in _PARAMS[d] and name not in _OPTIONAL.get(d, ()):
            out.append(_row_problem(i, name, f"'{name}' is not used by the {d.value} distribution and is ignored.", f"{d.value} reads {', '.join((*_PARAMS[d], *_OPTIONAL.get(d, ())))}; empty the others.", "warning"))
    if any(p.severity == "error" for p in out):
        return None, out
    values: tuple[Any, ...] = ()
    probs: tuple[float, ...] = ()
    low, mode, high, mean, sd = rec.low, rec.mode, rec.high, rec.mean, rec.sd
    if d == Distribution.uniform:
        if low is not None and high is not None and low > high:
            out.append(_row_problem(i, "low", f"low {low:g} is above high {high:g}.", "swap the two."))
    elif d == Distribution.triangular and low is not None and high is not None and mode is not None:
        if low > high:
            out.append(_row_problem(i, "low", f"low {low:g} is above high {high:g}.", "swap the two."))
        elif not low <= mode <= high:
            out.append(_row_problem(i, "mode", f"mode {mode:g} is outside [{low:g}, {high:g}].", "the most likely value lies between low and high."))
    elif d in (Distribution.normal, Distribution.lognormal):
        if sd is not None and sd <= 0:
            out.append(_row_problem(i, "sd", f"sd must be above 0 (got {sd:g}).", "give the standard deviation, or use a discrete value."))
        if d == Distribution.lognormal and mean is not None and mean <= 0:
            out.append(_row_problem(i, "mean", f"a lognormal value is positive; its mean must be above 0 (got {mean:g}).", "use a positive mean, or the normal distribution."))
        if d == Distribution.lognormal and low is not None and low < 0:
            out.append(_row_problem(i, "low", f"a lognormal value is positive; low {low:g} is below 0.", "use low ≥ 0 or leave it empty."))
        if low is not None and high is not None and low >= high:
            out.append(_row_problem(i, "low", f"low {low:g} is not below high {high:g}.", "give a range with low below high."))
    else:
        values, probs = _parse_values(rec, kind, i, out)
    if any(p.severity == "error" for p in out):
        return None, out
    spec = Spec(rec.id, i, rec, table, fieldname, kind, values, probs)
    if d in (Distribution.normal, Distribution.lognormal) and (low is not None or high is not None):
        dist = spec._scipy()
        mass = float((dist.cdf(high) if high is not None else 1.0) - (dist.cdf(low) if low is not None else 0.0))
        if not mass > 1e-9:
            out.append(_row_problem(i, "low", f"the truncation [{_g(low)}, {_g(high)}] holds no probability of this {d.value} distribution (mean {mean:g}, sd {sd:g}).", "put low and high around the mean."))
            return None, out
    if rec.apply == UncertainApply.scale and spec.support()[0] < 0:
        out.append(_row_problem(i, "apply", f"a scale factor cannot be negative; this distribution reaches {spec.support()[0]:g}.", "give factors of 0 or more (e.g. low 0.8, high 1.2)."))
        return None, out
    if rec.apply == UncertainApply.set and kind.kind == "number":
        lo, hi = spec.support()
        for bound, end in (("low", lo), ("high", hi)):
            if not kind.allows(end):
                column = bound if getattr(rec, bound) is not None else "distribution"
                out.append(_row_problem(i, column, f"'{fieldname}' must be {kind.bounds_text()}, but this distribution reaches {end:g}.", "keep the range within the field's allowed values (truncate a normal with low/high)."))
                return None, out
    if not rec.source:
        out.append(_row_problem(i, "source", "no source or reasoning is given for this range.", "say where the range comes from (a citation, or 'estimate: …' and why).", "warning"))
    return spec, out


# ---------------------------------------------------------------------------------------------
# The table against the scenario: records found, ranges within the field's values, yields
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one uncertain input writes: records of a table (by position), or a setting."""

    table: str
    rows: tuple[int, ...] = ()
    setting: tuple[str, ...] = ()


def _base_data(s: Scenario) -> dict[str, Any]:
    data = s.model_dump(mode="json")
    data[TABLE] = []  # samples are plain scenarios; the table is read once, here
    return data


def _targets(data: dict[str, Any], spec: Spec) -> tuple[Target | None, str]:
    """Resolve a spec's path against the scenario's records."""
    from flowopt.overrides import _select  # one path syntax for what-ifs and uncertain inputs

    if spec.table in ("policy", "transport"):
        return Target(spec.table, setting=tuple(spec.field.split("."))), ""
    table, hits, _, err = _select(data, spec.record.path)
    if err:
        return None, err
    rows = tuple(k for k, r in enumerate(data[table]) if any(r is h for h in hits))
    return Target(table, rows=rows), ""


def _current(data: dict[str, Any], spec: Spec, target: Target) -> list[Any]:
    """The field's current values in the scenario (one per record written)."""
    if target.setting:
        node: Any = data
        for part in target.setting:
            node = node.get(part) if isinstance(node, dict) else None
        return [node]
    return [data[target.table][k].get(spec.field) for k in target.rows]


def _yield_of(data: dict[str, Any], project: str, which: str) -> tuple[float, int | None]:
    """The current value of a project's yield (``product``, ``loss`` or a residue stream) and, for a residue, its row."""
    if which in ("product", "loss"):
        rec = next(r for r in data["projects"] if r["id"] == project)
        return float(rec[f"{which}_fraction"]), None
    for k, r in enumerate(data["residues"]):
        if r["project"] == project and r["stream"] == which:
            return float(r["fraction"]), k
    return 0.0, None


def _project_of(data: dict[str, Any], table: str, row: int) -> str:
    rec = data[table][row]
    return str(rec["id"] if table == "projects" else rec["project"])


def _own_yield(spec: Spec, data: dict[str, Any], row: int) -> str:
    """Which yield of its project a yield spec writes: ``product``, ``loss`` or a residue stream id."""
    if spec.table == "projects":
        return spec.field.split("_", 1)[0]
    return str(data["residues"][row]["stream"])


def scenario_problems(s: Scenario, specs: Sequence[Spec]) -> tuple[list[Problem], dict[str, Target]]:
    """Check the parsed rows against the scenario's records.

    Args:
        s: the scenario.
        specs: its rows, parsed (:func:`parse_row`).

    Returns:
        The problems (located by record number, all errors) and where each row writes, by id.
    """
    data = _base_data(s)
    out: list[Problem] = []
    found: dict[str, Target] = {}
    written: dict[tuple[str, int | str, str], str] = {}
    yields_of: dict[str, str] = {}
    streams = {x.id for x in s.streams}
    for spec in specs:
        i = spec.row
        target, err = _targets(data, spec)
        if target is None:
            out.append(_row_problem(i, "path", err, _HINT_PATH))
            continue
        current = _current(data, spec, target)
        if target.setting and current == [None] and spec.kind.kind == "number" and spec.record.apply == UncertainApply.scale:
            out.append(_row_problem(i, "apply", f"'{spec.record.path}' is empty, so it cannot be scaled.", "use apply set, or give the setting a value."))
            continue
        keys = [(target.table, ".".join(target.setting), spec.field)] if target.setting else [(target.table, k, spec.field) for k in target.rows]
        clash = next((written[k] for k in keys if k in written), None)
        if clash is not None:
            out.append(_row_problem(i, "path", f"this field is already made uncertain by row '{clash}'.", "give each field one uncertain input (a group makes several move together)."))
            continue
        written.update(dict.fromkeys(keys, spec.id))
        if spec.kind.kind == "number" and spec.record.apply == UncertainApply.scale:
            lo, hi = spec.support()
            if any(v is None for v in current):
                out.append(_row_problem(i, "apply", f"'{spec.record.path}' is empty for some records (no limit), so it cannot be scaled.", "use apply set, or name only records with a value."))
                continue
            ends = [float(v) * f for v in current for f in (lo, hi) if math.isfinite(f)] + ([math.inf] if not math.isfinite(hi) and any(float(v) > 0 for v in current) else [])
            off = next((e for e in ends if not spec.kind.allows(e)), None)
            if off is not None:
                out.append(_row_problem(i, "high", f"scaled, '{spec.field}' would reach {off:g}, but it must be {spec.kind.bounds_text()}.", "narrow the factor's range."))
                continue
        if spec.is_yield:
            problem = _yield_problem(data, spec, target, streams, yields_of)
            if problem:
                out.append(_row_problem(i, "balance", problem, "keep every yield of the project between 0 and 1: narrow the range, or name a yield with room (balance)."))
                continue
        found[spec.id] = target
    return out, found


def _yield_problem(data: dict[str, Any], spec: Spec, target: Target, streams: set[str], yields_of: dict[str, str]) -> str:
    """Why a yield row cannot keep its projects' yields adding up to 1, or ''."""
    lo, hi = spec.support()
    bal = spec.balance
    for row in target.rows:
        project = _project_of(data, target.table, row)
        if project in yields_of:
            return f"project '{project}' already has an uncertain yield (row '{yields_of[project]}'); only one of a project's yields can be uncertain."
        yields_of[project] = spec.id
        own = _own_yield(spec, data, row)
        if bal == own:
            return f"the {own} yield of '{project}' cannot balance itself."
        if bal not in ("product", "loss") and bal not in streams:
            return f"'{bal}' is neither loss, product nor a stream id."
        base, _ = _yield_of(data, project, own)
        room, _ = _yield_of(data, project, bal)
        for f in (lo, hi):
            new = base * f if spec.record.apply == UncertainApply.scale else f
            balanced = room + base - new
            if balanced < -1e-9 or balanced > 1 + 1e-9 or not -1e-9 <= new <= 1 + 1e-9:
                name = f"residue {bal}" if bal not in ("product", "loss") else f"{bal} fraction"
                return f"at {own} yield {new:g} the {name} of '{project}' would be {balanced:g} (it is {room:g} and takes up the change from {base:g})."
    return ""


def uncertainty_problems(s: Scenario, *, strict: bool = False) -> list[Problem]:
    """Every problem of a scenario's ``uncertainty`` table, located by record number and column.

    Args:
        s: the scenario.
        strict: report problems that depend on the other tables as errors (``flowopt risk``);
            otherwise as warnings, so that the scenario still loads and solves.

    Returns:
        The problems, in row order.
    """
    if not s.uncertainty:
        return []
    out: list[Problem] = []
    specs: list[Spec] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(s.uncertainty, 1):
        if rec.id in seen:
            out.append(_row_problem(i, "id", f"duplicate id '{rec.id}' (first used in record {seen[rec.id]}).", "give every row its own id."))
        seen.setdefault(rec.id, i)
        spec, problems = parse_row(rec, i)
        out += problems
        if spec is not None:
            specs.append(spec)
    cross, _ = scenario_problems(s, specs)
    if not strict:
        cross = [replace(p, message=f"{p.message} (flowopt risk refuses this row)", severity="warning") for p in cross]
    return sorted(out + cross, key=lambda p: (p.row or 0, p.severity != "error"))


# ---------------------------------------------------------------------------------------------
# Resolved inputs: draws, values and sample scenarios
# ---------------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """A scenario's uncertain inputs, resolved against its records; samples from them.

    Picklable: it travels to worker processes and cluster workers with each block of samples.

    Attributes:
        specs: the inputs, in table order.
        targets: where each input writes, by id.
        drivers: the independent draws: a group name, or an input id for an ungrouped input.
        driver_of: per input (in ``specs`` order), its column among ``drivers``.
        base_data: the scenario as a mapping (without its uncertainty table).
    """

    specs: list[Spec]
    targets: dict[str, Target]
    drivers: list[str]
    driver_of: list[int]
    base_data: dict[str, Any] = field(repr=False)

    @property
    def ids(self) -> list[str]:
        """The inputs' ids."""
        return [s.id for s in self.specs]

    def members(self, driver: int) -> list[Spec]:
        """The inputs that one driver (draw) moves."""
        return [s for s, d in zip(self.specs, self.driver_of, strict=True) if d == driver]

    def with_target(self, target: float) -> Inputs:
        """The same inputs on the scenario with ``policy.target_rate`` set to ``target``."""
        data = dict(self.base_data)
        data["policy"] = {**data["policy"], "target_rate": float(target)}
        return replace(self, base_data=data)

    def values(self, u: np.ndarray) -> list[list[Any]]:
        """Values of every input for draws ``u`` (one row per sample, one column per driver)."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        cols = [spec.ppf(u[:, d]) for spec, d in zip(self.specs, self.driver_of, strict=True)]
        return [[_plain(c[k]) for c in cols] for k in range(u.shape[0])]

    def quantile_values(self, q: float) -> list[Any]:
        """Every input at probability ``q`` (0.5: the medians, the scenario the samples are near)."""
        return self.values(np.full((1, len(self.drivers)), q))[0]

    def current_values(self) -> list[Any]:
        """Every input's value as the scenario has it (a factor of 1 for ``scale``; the first record's value)."""
        out: list[Any] = []
        for spec in self.specs:
            if spec.record.apply == UncertainApply.scale:
                out.append(1.0)
                continue
            cur = _current(self.base_data, spec, self.targets[spec.id])
            out.append(cur[0] if cur else None)
        return out

    def data_of(self, values: Sequence[Any]) -> dict[str, Any]:
        """The scenario mapping with ``values`` written in (nothing shared with the base that changed).

        Args:
            values: one value per input, in ``specs`` order.

        Returns:
            A mapping :func:`flowopt.checks.validated` turns into the sample's scenario.
        """
        base = self.base_data
        data = dict(base)
        copied: dict[str, set[int]] = {}

        def rec(table: str, k: int) -> dict[str, Any]:
            if table not in copied:
                data[table] = list(data[table])
                copied[table] = set()
            if k not in copied[table]:
                data[table][k] = dict(data[table][k])
                copied[table].add(k)
            return data[table][k]  # type: ignore[no-any-return]

        for spec, value in zip(self.specs, values, strict=True):
            target = self.targets[spec.id]
            scale = spec.record.apply == UncertainApply.scale
            if target.setting:
                head, *mid, leaf = target.setting
                data[head] = node = copy.deepcopy(data[head])
                for part in mid:
                    node = node[part]
                node[leaf] = float(node[leaf]) * float(value) if scale else value
                continue
            for k in target.rows:
                old = base[target.table][k][spec.field]
                new = float(old) * float(value) if scale else value
                rec(target.table, k)[spec.field] = _tidy(new) if isinstance(new, float) else new
                if spec.is_yield:
                    self._balance(spec, target.table, k, float(old), float(new), data, rec)
        return data

    def _balance(self, spec: Spec, table: str, k: int, old: float, new: float, data: dict[str, Any], rec: Any) -> None:
        """Let the balancing yield of the project take up ``old - new``."""
        project = _project_of(self.base_data, table, k)
        bal = spec.balance
        delta = old - new
        if bal in ("product", "loss"):
            j = next(n for n, r in enumerate(self.base_data["projects"]) if r["id"] == project)
            field_name = f"{bal}_fraction"
            rec("projects", j)[field_name] = _tidy(float(self.base_data["projects"][j][field_name]) + delta)
            return
        current, j_row = _yield_of(self.base_data, project, bal)
        if j_row is not None:
            rec("residues", j_row)["fraction"] = _tidy(current + delta)
        elif delta > 0:
            data["residues"] = [*data["residues"], {"project": project, "stream": bal, "fraction": _tidy(delta), "source": f"flowopt risk: takes up the change of {spec.id}"}]

    def capacity_factors(self, values: Sequence[Any]) -> dict[str, float]:
        """Project id -> the factor its ``capacity_t`` is scaled by in a sample (``apply: scale``).

        A built candidate adds its capacity to the project's and is available to the same share
        (a first-year availability factor applies to what is built too); a capacity that is
        *set* is the existing capacity only, the builds come on top. Projects not scaled are
        absent (factor 1).
        """
        out: dict[str, float] = {}
        for spec, value in zip(self.specs, values, strict=True):
            target = self.targets[spec.id]
            if target.table != "projects" or spec.field != "capacity_t" or spec.record.apply != UncertainApply.scale:
                continue
            for k in target.rows:
                pid = str(self.base_data["projects"][k]["id"])
                out[pid] = out.get(pid, 1.0) * float(value)
        return out

    def scenario_of(self, values: Sequence[Any]) -> Scenario:
        """The validated scenario of one sample.

        Raises:
            InputError: the values make an invalid scenario (e.g. a capacity below a minimum intake).
        """
        from flowopt.checks import validated

        return validated(self.data_of(values))


def _tidy(x: float) -> float:
    """Round-off of a balance kept out of the validators' way (-1e-17 is 0, 1 + 1e-16 is 1)."""
    if abs(x) < 1e-12:
        return 0.0
    if abs(x - 1) < 1e-12:
        return 1.0
    return x


def _plain(x: Any) -> Any:
    """A numpy scalar as a plain Python value (pickles small, compares exactly, prints plainly)."""
    if isinstance(x, np.generic):
        return x.item()
    return x


def resolve(s: Scenario) -> Inputs:
    """Resolve a scenario's uncertainty table for sampling.

    Args:
        s: the scenario.

    Returns:
        The inputs, ready to sample.

    Raises:
        InputError: the table is empty, or any row has an error (every problem at once, with
            the file and line it was read from).
    """
    if not s.uncertainty:
        msg = "The scenario has no uncertain inputs: its 'uncertainty' table is empty or missing."
        raise InputError(msg, [Problem(TABLE, None, None, msg, "add uncertainty.csv (or an 'uncertainty' sheet) with one row per uncertain estimate; see flowopt/uncertainty.py and data/panzhihua_east/uncertainty.csv.")])
    problems: list[Problem] = []
    specs: list[Spec] = []
    seen: set[str] = set()
    for i, rec in enumerate(s.uncertainty, 1):
        spec, found = parse_row(rec, i)
        problems += found
        if rec.id in seen:
            problems.append(_row_problem(i, "id", f"duplicate id '{rec.id}'.", "give every row its own id."))
        seen.add(rec.id)
        if spec is not None:
            specs.append(spec)
    cross, targets = scenario_problems(s, specs)
    problems = [_located(s, p) for p in sorted(problems + cross, key=lambda p: (p.row or 0, p.severity != "error"))]
    if any(p.severity == "error" for p in problems):
        from flowopt.checks import raise_for_problems

        raise_for_problems(problems, "The uncertainty table cannot be used")
    drivers: list[str] = []
    driver_of: list[int] = []
    for spec in specs:
        name = spec.record.group or spec.id
        if name not in drivers:
            drivers.append(name)
        driver_of.append(drivers.index(name))
    return Inputs(specs, targets, drivers, driver_of, _base_data(s))


def _located(s: Scenario, p: Problem) -> Problem:
    """A record-numbered problem with the file and line the record was read from."""
    locs = s._locations.get(TABLE) or []
    if p.row is not None and 1 <= p.row <= len(locs):
        file, line = locs[p.row - 1]
        return Problem(p.table, line, p.column, p.message, p.hint, file, p.severity)
    return p


# ---------------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------------


def draws(n: int, d: int, seed: int, block: int, method: Method = "lhs", stream: int = 0) -> np.ndarray:
    """``n`` points in the unit hypercube of dimension ``d``, for block ``block`` of a run.

    Each block is a design of its own: a Latin hypercube (``lhs``), scrambled Sobol' points
    (``sobol``; balanced when ``n`` is a power of two) or independent uniform draws
    (``random``), randomized by ``(seed, block)``. The same arguments always give the same
    points, on any machine and engine; blocks are independent of one another.

    ``stream`` 0 is the samples of ``flowopt risk``; another stream (the training samples of
    robust builds, :mod:`flowopt.robust`, use 1) gives draws independent of those for the
    same seed, so a build set chosen on one stream is checked on fresh samples of the other.

    Returns:
        An ``(n, d)`` array in (0, 1).
    """
    rng = np.random.default_rng([int(seed), int(block)] if stream == 0 else [int(seed), int(block), int(stream)])
    if d == 0 or n == 0:
        return np.zeros((n, d))
    if method == "random":
        return rng.random((n, d))
    from scipy.stats import qmc

    engine_class = qmc.LatinHypercube if method == "lhs" else qmc.Sobol
    try:
        engine = engine_class(d, rng=rng)
    except TypeError:  # SciPy before 1.15 names it seed
        engine = engine_class(d, seed=rng)
    with warnings.catch_warnings():
        # Sobol' warns when n is not a power of two (only the last, shorter block of a run)
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(engine.random(n), dtype=float)
