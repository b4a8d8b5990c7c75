"""Exceptions raised by flowopt, each with a stable ``code``.

The tree::

    FlowoptError
    ├── InputError (ValueError)           input files or records are invalid; carries ``problems``
    │   └── GraphError                    the material network is structurally unusable
    ├── SolveError (RuntimeError)         the solver ended without an optimal plan
    │   ├── InfeasibleError               the constraints (usually the target) cannot all hold
    │   ├── UnboundedError                the cost can fall without limit (a data error)
    │   ├── SolverLimitError              a time or iteration limit stopped the solver
    │   └── SolverFailure                 HiGHS reported an internal error
    └── AuditError (RuntimeError)         a returned plan broke a constraint of the input data

Every message says what is wrong, where, and how to fix it. The CLI maps ``InputError`` to exit
code 2 and ``SolveError`` to exit code 1; the API will map ``code`` to an HTTP status in one table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

Severity = Literal["error", "warning"]


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


class InputError(FlowoptError, ValueError):
    """The scenario's input data is invalid or inconsistent; ``problems`` lists every finding."""

    code: ClassVar[str] = "input_invalid"

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems: list[Problem] = sorted(
            problems, key=lambda p: (p.file or p.table, p.row or 0, p.column or "", p.message)
        )
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [message] + [f"  - {p}" for p in errors]
        super().__init__("\n".join(lines))
        self.message = message


class GraphError(InputError):
    """The material network built from valid records cannot carry a plan (e.g. no outlet)."""

    code: ClassVar[str] = "graph_invalid"


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


class AuditError(FlowoptError, RuntimeError):
    """A plan returned by the solver breaks a constraint of the original input data."""

    code: ClassVar[str] = "audit_failed"

    def __init__(self, message: str, findings: Sequence[str] = ()) -> None:
        self.findings = list(findings)
        super().__init__("\n".join([message, *[f"  - {f}" for f in self.findings]]))
