"""Exceptions raised by flowopt, each with a stable ``code``.

The tree::

    FlowoptError
    ├── InputError (ValueError)           input files or records are invalid; carries ``problems``
    │   ├── GraphError                    the material network is structurally unusable
    │   └── ScenarioTooLargeError         the input is larger than the reader accepts (rows, bytes)
    ├── SolveError (RuntimeError)         the solver ended without an optimal plan
    │   ├── InfeasibleError               the constraints (usually the target) cannot all hold
    │   ├── UnboundedError                the cost can fall without limit (a data error)
    │   ├── SolverLimitError              a time or iteration limit stopped the solver
    │   └── SolverFailure                 HiGHS reported an internal error
    ├── AuditError (RuntimeError)         a returned plan broke a constraint of the input data
    └── OutputError                       an output file or folder cannot be written safely

Every message says what is wrong, where, and how to fix it. The CLI maps ``InputError`` to exit
code 2 and ``SolveError`` to exit code 1; the API will map ``code`` to an HTTP status in one table.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

Severity = Literal["error", "warning"]

#: Most problems an :class:`InputError` keeps (errors first, in location order); the rest are
#: only counted, so a file with a million bad rows cannot make an error of a million lines.
MAX_PROBLEMS = 100


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows.

    Attributes:
        table: scenario table the problem is in (``streams``, ``projects``, ``policy`` …).
        row: 1-based line number in the file (header is line 1), or 1-based record number
            when the scenario did not come from a file; ``None`` for whole-table problems.
        column: field name, or ``None`` when the problem concerns the whole row.
        message: what is wrong.
        hint: how to fix it.
        file: file the table was read from, when known.
        severity: ``error`` stops the run; ``warning`` is reported and the run goes on.
    """

    table: str
    row: int | None
    column: str | None
    message: str
    hint: str = ""
    file: str | None = None
    severity: Severity = "error"

    def where(self) -> str:
        """Return a human-readable location such as ``projects.csv row 4, column capacity_t``."""
        parts = [self.file or self.table]
        if self.row is not None:
            # overrides files list changes, not rows
            parts.append(f"change {self.row}" if self.table == "changes" else f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.hint:
            text += f" Fix: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dict."""
        return {
            "file": self.file,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


class FlowoptError(Exception):
    """Base class of all flowopt errors; catch this to handle any of them."""

    code: ClassVar[str] = "flowopt_error"


def _location(p: Problem) -> tuple[str, int, str, str]:
    return (p.file or p.table, p.row or 0, p.column or "", p.message)


class InputError(FlowoptError, ValueError):
    """The scenario's input data is invalid or inconsistent; ``problems`` lists the findings.

    ``problems`` holds at most :data:`MAX_PROBLEMS` findings, in location order (file or table,
    row, column): the first errors, then warnings if room is left. ``problems_total`` counts
    every finding and ``errors_total`` every error, listed or not; when some are left out the
    message says so ("… the first 100 are listed").

    Args:
        message: the first line: what could not be done and how many problems were found.
        problems: the findings (any number; only the first are kept).
        total: errors found by a caller that stopped collecting them (``None``: the errors in
            ``problems``).
    """

    code: ClassVar[str] = "input_invalid"

    def __init__(self, message: str, problems: Iterable[Problem] = (), *, total: int | None = None) -> None:
        found = list(problems)
        errors = [p for p in found if p.severity == "error"]
        # nsmallest equals sorted(...)[:n] (stable), without sorting a million findings
        kept = heapq.nsmallest(MAX_PROBLEMS, errors, key=_location)
        if len(kept) < MAX_PROBLEMS:
            kept += heapq.nsmallest(MAX_PROBLEMS - len(kept), (p for p in found if p.severity != "error"), key=_location)
        self.problems: list[Problem] = sorted(kept, key=_location)
        self.errors_total = max(len(errors), total or 0)
        self.problems_total = len(found) + self.errors_total - len(errors)
        listed = sum(p.severity == "error" for p in self.problems)
        if self.errors_total > listed and "are listed" not in message:
            message = f"{message} The first {listed} of {self.errors_total:,} problems are listed."
        lines = [message] + [f"  - {p}" for p in self.problems if p.severity == "error"]
        super().__init__("\n".join(lines))
        self.message = message


class GraphError(InputError):
    """The material network built from valid records cannot carry a plan (e.g. no outlet)."""

    code: ClassVar[str] = "graph_invalid"


class ScenarioTooLargeError(InputError):
    """The input is larger than the reader accepts (rows, columns, cells, unzipped bytes).

    Raised while reading, as soon as a limit is passed: nothing beyond it is read. The API
    answers it with 413; the CLI exits 2 like any invalid input.
    """

    code: ClassVar[str] = "scenario_too_large"


class SolveError(FlowoptError, RuntimeError):
    """The solver ended without an optimal plan; ``outcome`` holds what it reported."""

    code: ClassVar[str] = "solve_failed"

    def __init__(self, message: str, outcome: object | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class InfeasibleError(SolveError):
    """The constraints cannot all hold, typically because the utilization target is too high."""

    code: ClassVar[str] = "infeasible"


class UnboundedError(SolveError):
    """The objective can fall without limit; a cost or revenue in the input is wrong."""

    code: ClassVar[str] = "unbounded"


class SolverLimitError(SolveError):
    """The solver stopped at a time or iteration limit before proving optimality."""

    code: ClassVar[str] = "solver_limit"


class SolverFailure(SolveError):
    """HiGHS reported an internal or numerical error."""

    code: ClassVar[str] = "solver_failure"


class OutputError(FlowoptError):
    """An output cannot be written without losing a file, or writing it failed (``OSError``).

    Raised before anything is written when a target would replace a file flowopt did not write
    (a scenario's input, a user's file) or is the wrong kind (a folder where a file is wanted),
    and when the system refuses a write (permission denied, disk full, read-only). ``path``
    is the file or folder concerned; ``problems`` holds one located :class:`Problem` so the
    CLI's JSON error document has the same shape as for invalid input. The CLI exits 2.
    """

    code: ClassVar[str] = "output_invalid"

    def __init__(self, message: str, path: str | None = None, hint: str = "") -> None:
        self.message = message
        self.path = path
        self.hint = hint
        self.problems: list[Problem] = [Problem("output", None, None, message, hint, path)]
        super().__init__(f"{message} Fix: {hint}" if hint else message)


class AuditError(FlowoptError, RuntimeError):
    """A plan returned by the solver breaks a constraint of the original input data."""

    code: ClassVar[str] = "audit_failed"

    def __init__(self, message: str, findings: Sequence[str] = ()) -> None:
        self.findings = list(findings)
        super().__init__("\n".join([message, *[f"  - {f}" for f in self.findings]]))
