"""The assembled LP: arrays HiGHS solves, with every row and column addressed by family.

Stage: produced by :func:`flowopt.formulation.assemble`, consumed by the solver gateway
(:mod:`flowopt.solve`) and by everything that reads a solution (results, explanations,
analyses). Consumers find rows and columns by *family and position* (``lp.rows["target"]``,
``lp.col_of("flow_t", (lot, outlet))``), never by parsing names; names are made only on
demand (exports, messages) and follow Pyomo's spelling, so ``project_capacity[R04]`` is the
same string in the array LP, the Pyomo reference model and the JSON a user reads.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Infinity as HiGHS reads it (any value >= 1e20 is infinite to HiGHS).
INF = float("inf")

_SPECIAL = re.compile(r"[()\[\],.'\":\\]")
_NUMBER = re.compile(r"(?:[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|-?inf|nan)")


def _name_part(x: Any) -> str:
    """One index element as Pyomo writes it in a component name (quoted when it must be)."""
    if not isinstance(x, str):
        return repr(x)
    quoted = repr(x)
    inner = quoted[1:-1]
    if _SPECIAL.search(inner) or _NUMBER.fullmatch(inner):
        return quoted
    return inner


def component_name(family: str, key: Hashable) -> str:
    """Return the name of one row or column, spelled as Pyomo spells it.

    Args:
        family: the family (``flow_t``, ``project_capacity``, ``target`` …).
        key: its index (a string, a tuple of strings, or ``None`` for a scalar family).

    Returns:
        ``family`` for a scalar, else ``family[k1,k2]`` with Pyomo's quoting rules
        (``flow_t['gen:W01',R01]``).
    """
    if key is None:
        return family
    if isinstance(key, tuple):
        return f"{family}[{','.join(_name_part(k) for k in key)}]"
    return f"{family}[{_name_part(key)}]"


@dataclass
class FamilyBlock:
    """Where one family sits in the LP: a contiguous range of rows or columns, and its keys.

    Attributes:
        name: the family's name (the Pyomo component name).
        start: first position.
        keys: one key per row/column, in order; position = ``start + i``.
    """

    name: str
    start: int
    keys: list[Hashable]
    _pos: dict[Hashable, int] | None = field(default=None, repr=False)

    @property
    def stop(self) -> int:
        """One past the last position."""
        return self.start + len(self.keys)

    @property
    def slice(self) -> slice:
        """The family's positions as a slice."""
        return slice(self.start, self.stop)

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, key: Hashable) -> int:
        """Return the absolute position of ``key`` (a dict built on first use).

        Raises:
            KeyError: when the family has no such key.
        """
        if self._pos is None:
            self._pos = {k: self.start + i for i, k in enumerate(self.keys)}
        return self._pos[key]

    def get(self, key: Hashable) -> int | None:
        """Return the position of ``key``, or ``None`` when the family has no such key."""
        try:
            return self.position(key)
        except KeyError:
            return None


@dataclass
class SparseVector:
    """A linear form over the LP's columns: ``sum(coef[i] * x[index[i]])``."""

    index: np.ndarray
    coef: np.ndarray

    @classmethod
    def empty(cls) -> SparseVector:
        """The zero form."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0))

    def dot(self, x: np.ndarray) -> float:
        """Value at the column values ``x``."""
        if not len(self.index):
            return 0.0
        return float(self.coef @ x[self.index])

    def dense(self, n: int) -> np.ndarray:
        """The form as a dense vector of length ``n`` (duplicates summed)."""
        out = np.zeros(n)
        np.add.at(out, self.index, self.coef)
        return out

    def __add__(self, other: SparseVector) -> SparseVector:
        return SparseVector(np.concatenate([self.index, other.index]), np.concatenate([self.coef, other.coef]))

    def scaled(self, factor: float) -> SparseVector:
        """The form times ``factor``."""
        return SparseVector(self.index, self.coef * factor)


@dataclass
class AssembledLP:
    """A linear program in column-wise (CSC) form, minimised, with its family layout.

    Rows read ``row_lower <= A x <= row_upper`` (equal bounds for equalities, ``-inf`` or
    ``inf`` for one-sided rows); columns ``col_lower <= x <= col_upper``; the objective is
    ``col_cost @ x + offset`` in CNY/yr.

    Attributes:
        col_cost: cost per column.
        col_lower: lower bounds of the columns.
        col_upper: upper bounds of the columns.
        row_lower: lower bounds of the rows.
        row_upper: upper bounds of the rows.
        a_start: CSC column starts (length ``n_cols + 1``).
        a_index: CSC row indices.
        a_value: CSC values.
        cols: column families by name, in column order.
        rows: row families by name, in row order.
        terms: the objective's cost terms (``transport_cny`` …) as linear forms, so a
            breakdown is read from a solution without knowing how it was assembled.
        forms: other named linear forms (the rate's numerator and denominator parts).
        constants: named constants of the formulation (``generation_t`` = G).
        offset: constant added to the objective.
        network: the :class:`~flowopt.formulation.network.Network` it was assembled from
            (``None`` for LPs stacked from several, such as the pathway's).
        integrality: per column, 1 where it must take a whole value (the investment model's
            build decisions and modules), else 0; ``None`` for an LP (every column continuous).
    """

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    cols: dict[str, FamilyBlock]
    rows: dict[str, FamilyBlock]
    terms: dict[str, SparseVector] = field(default_factory=dict)
    forms: dict[str, SparseVector] = field(default_factory=dict)
    constants: dict[str, float] = field(default_factory=dict)
    offset: float = 0.0
    network: Any = field(default=None, repr=False)
    integrality: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_mip(self) -> bool:
        """True when some column must take a whole value (a mixed-integer program)."""
        return self.integrality is not None and bool(np.any(self.integrality))

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.col_cost)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lower)

    @property
    def nnz(self) -> int:
        """Number of stored non-zeros."""
        return len(self.a_value)

    def col_of(self, family: str, key: Hashable) -> int:
        """Column position of ``family[key]``."""
        return self.cols[family].position(key)

    def row_of(self, family: str, key: Hashable = None) -> int:
        """Row position of ``family[key]`` (``key=None`` for a scalar family)."""
        return self.rows[family].position(key)

    def has_row(self, family: str, key: Hashable = None) -> bool:
        """True when the LP has the row ``family[key]``."""
        block = self.rows.get(family)
        return block is not None and block.get(key) is not None

    def row_family(self, i: int) -> tuple[str, Hashable]:
        """Return ``(family, key)`` of row ``i``."""
        return _locate(self.rows, i)

    def col_family(self, j: int) -> tuple[str, Hashable]:
        """Return ``(family, key)`` of column ``j``."""
        return _locate(self.cols, j)

    def row_name(self, i: int) -> str:
        """Name of row ``i`` (made on demand)."""
        return component_name(*self.row_family(i))

    def column_name(self, j: int) -> str:
        """Name of column ``j`` (made on demand)."""
        return component_name(*self.col_family(j))

    def row_names(self) -> list[str]:
        """Every row's name, in order (for exports)."""
        return [component_name(f, k) for f, b in self.rows.items() for k in b.keys]

    def column_names(self) -> list[str]:
        """Every column's name, in order (for exports)."""
        return [component_name(f, k) for f, b in self.cols.items() for k in b.keys]

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(columns, values)`` of the non-zeros of row ``i`` (a scan of A; for small uses)."""
        hit = np.flatnonzero(self.a_index == i)
        cols = np.searchsorted(self.a_start, hit, side="right") - 1
        return cols, self.a_value[hit]

    def activity(self, x: np.ndarray) -> np.ndarray:
        """Row activities ``A x``."""
        out = np.zeros(self.n_rows)
        counts = np.diff(self.a_start)
        np.add.at(out, self.a_index, self.a_value * np.repeat(x, counts))
        return out

    def copy(self) -> AssembledLP:
        """A deep copy of the numbers (the family layout is shared; it is never edited)."""
        return AssembledLP(
            self.col_cost.copy(), self.col_lower.copy(), self.col_upper.copy(), self.row_lower.copy(), self.row_upper.copy(),
            self.a_start.copy(), self.a_index.copy(), self.a_value.copy(), self.cols, self.rows, dict(self.terms), dict(self.forms), dict(self.constants), self.offset, self.network,
            None if self.integrality is None else self.integrality.copy(),
        )


def _locate(blocks: dict[str, FamilyBlock], pos: int) -> tuple[str, Hashable]:
    for name, b in blocks.items():
        if b.start <= pos < b.stop:
            return name, b.keys[pos - b.start]
    msg = f"position {pos} is outside the LP"
    raise IndexError(msg)


def csc_from_coo(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum duplicate entries, drop zeros, and return CSC arrays ``(start, index, value)``.

    Args:
        rows: row index per entry.
        cols: column index per entry.
        vals: value per entry.
        n_rows: number of rows.
        n_cols: number of columns.

    Returns:
        Column starts (``n_cols + 1``), row indices and values, rows ascending within a column.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    vals = np.asarray(vals, dtype=float)
    if len(vals):
        key = cols * max(n_rows, 1) + rows
        order = np.argsort(key, kind="stable")
        key, vals = key[order], vals[order]
        first = np.concatenate(([True], key[1:] != key[:-1]))
        group = np.cumsum(first) - 1
        summed = np.bincount(group, weights=vals)
        key = key[first]
        keep = summed != 0.0
        key, summed = key[keep], summed[keep]
        out_cols = key // max(n_rows, 1)
        out_rows = key - out_cols * max(n_rows, 1)
    else:
        out_cols = out_rows = np.zeros(0, dtype=np.int64)
        summed = np.zeros(0)
    start = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(out_cols, minlength=n_cols), out=start[1:])
    return start, out_rows.astype(np.int32), summed


def blocks_from_keys(families: Sequence[tuple[str, list[Hashable]]]) -> dict[str, FamilyBlock]:
    """Lay families out one after another: ``[(name, keys), ...]`` -> blocks by name."""
    out: dict[str, FamilyBlock] = {}
    start = 0
    for name, keys in families:
        out[name] = FamilyBlock(name, start, list(keys))
        start += len(keys)
    return out
