"""HTTP-only shapes: request envelopes and response documents (the library owns the rest).

The scenario (:class:`flowopt.schema.Scenario`), the plan (:class:`flowopt.results.Plan`) and
their rows are the library's models, reused unchanged so the API and ``flowopt solve --json``
keep one contract. Models here describe what only HTTP needs: the plan request, jobs, pages,
problem documents, health. ``PlanCreate`` is also used to validate requests (strict JSON types,
unknown fields rejected); the others document responses built by the routes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from flowopt.diagnosis import Diagnosis
from flowopt.results import Bottleneck, FlowRow, Plan
from flowopt.schema import Identifier

# nested in anyOf: pydantic resolves a top-level $ref against its own definitions
_SCENARIO_OR_NULL = {"anyOf": [{"$ref": "#/components/schemas/Scenario"}, {"type": "null"}]}


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class PlanCreate(_Doc):
    """Solve a stored scenario (``scenario_id``) or one sent inline (``scenario``).

    Exactly one of ``scenario_id`` and ``scenario`` is given. Identical requests (same
    scenario content and target) return the plan already stored instead of solving again.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        use_attribute_docstrings=True,
        json_schema_extra={"oneOf": [{"required": ["scenario_id"]}, {"required": ["scenario"]}]},
    )

    scenario_id: Identifier | None = None
    """Id of a stored scenario (``GET /v1/scenarios``); the bundled park is ``panzhihua_east_2025``."""
    scenario: Annotated[dict[str, Any] | None, WithJsonSchema(_SCENARIO_OR_NULL)] = None
    """A whole scenario, in the shape of ``GET /v1/scenarios/{id}``; validated like a stored one."""
    target: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Target for the scenario's rate as a fraction (0.72 = 72 %); default the scenario's
    ``policy.target_rate``."""

    @model_validator(mode="after")
    def _one_source(self) -> PlanCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


class ProblemItem(_Doc):
    """One located input problem (the library's ``Problem`` plus a JSON pointer)."""

    file: str | None
    """File or workbook sheet the problem is in, when the scenario came from a file."""
    table: str
    """Scenario table (``projects`` …), ``policy``/``transport`` for settings, ``request``
    for the request envelope, ``query``/``path``/``header`` for parameters."""
    row: int | None
    """1-based record number in the table (file line for CSV, sheet row for workbooks)."""
    column: str | None
    """Field name (dotted for nested fields)."""
    pointer: str | None
    """JSON pointer into the request body (``/scenario/projects/0/capacity_t``), when known."""
    message: str
    """What is wrong."""
    hint: str
    """How to fix it."""
    severity: Literal["error", "warning"]
    """``error`` stops the request; ``warning`` is informational."""


class ProblemDocument(BaseModel):
    """An error (RFC 9457 problem details, ``application/problem+json``)."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    type: str
    """``urn:flowopt:error:<code>``."""
    status: int
    """HTTP status."""
    code: str
    """Stable error code (see the error table in ``api/README.md``)."""
    title: str
    title_zh: str
    detail: str
    """What went wrong, where, and how to fix it."""
    detail_zh: str
    instance: str | None = None
    """Request path."""
    problems: list[ProblemItem] | None = None
    """Every input problem with its location (invalid input)."""
    diagnosis: Diagnosis | None = None
    """Why the target cannot be met and the cheapest fix (``infeasible``), as ``flowopt.diagnosis``."""
    job_id: str | None = None
    """The job that failed, when the error comes from a solve."""


class Link(_Doc):
    """Nothing but an URL."""

    url: str


class JobPublic(_Doc):
    """A solve request and its progress; ``result`` holds the plan once it succeeded."""

    id: str
    kind: Literal["plan"]
    """What the job computes (``plan``; what-ifs and sweeps will add kinds)."""
    status: Literal["queued", "running", "succeeded", "failed"]
    stage: str
    """Progress in words: waiting for a solver process, solving, done."""
    queue_position: int | None
    """1-based place in the queue while waiting."""
    scenario_id: str | None
    scenario_sha256: str
    target: float
    created_at: str
    started_at: str | None
    finished_at: str | None
    plan_id: str | None
    plan_url: str | None
    result: Plan | None
    """The plan (as ``GET /v1/plans/{id}``) once succeeded."""
    error: ProblemDocument | None
    """The problem document once failed."""
    url: str


class PlanSummary(_Doc):
    """One stored plan in a list."""

    id: str
    scenario_id: str
    scenario_sha256: str
    target: float
    status: str
    utilization_rate: float
    objective_cny: float
    created_at: str
    url: str


class PlanPage(_Doc):
    """A page of stored plans, newest first."""

    items: list[PlanSummary]
    total: int
    offset: int
    limit: int
    next: str | None


class ScenarioSummary(_Doc):
    """A stored scenario in a list, or the answer to storing one."""

    id: str
    name_zh: str
    name_en: str
    year: int | None
    sha256: str
    """SHA-256 of the canonical scenario JSON (sorted keys)."""
    builtin: bool
    """True for the bundled park scenario."""
    rows: dict[str, int]
    """Rows per table."""
    created_at: str
    url: str


class ScenarioPage(_Doc):
    """A page of stored scenarios, by id."""

    items: list[ScenarioSummary]
    total: int
    offset: int
    limit: int
    next: str | None


class ValidationReport(_Doc):
    """A valid scenario's summary (invalid ones get a 422 problem document)."""

    valid: Literal[True]
    scenario_id: str
    sha256: str
    rows: dict[str, int]
    lots: int
    """Sources of material in the network (streams, stockpiles, residues by origin)."""
    arcs: int
    """Permitted movements of material to outlets."""
    warnings: list[ProblemItem]


class BottleneckList(_Doc):
    """The binding constraints of a plan, most valuable first."""

    plan_id: str
    total: int
    items: list[Bottleneck]


class FlowPage(_Doc):
    """A page of a plan's flows (the plan's own order: stream, source, destination)."""

    plan_id: str
    total: int
    offset: int
    limit: int
    next: str | None
    items: list[FlowRow]


class SankeyNode(_Doc):
    """A node of the Sankey diagram."""

    id: str
    """``stream:W01``, ``stock:K1``, ``residue:R01:W09``, ``project:R02``, ``sink:L1``, ``unmanaged``."""
    label: str
    kind: str
    category: str | None


class SankeyLink(_Doc):
    """A link of the Sankey diagram, in tonnes per year."""

    source: str
    target: str
    stream: str
    value_t: float
    kind: str
    category: str


class Sankey(_Doc):
    """Nodes and links ready for a chart library (``flowopt.sankey.sankey_data``)."""

    nodes: list[SankeyNode]
    links: list[SankeyLink]


class DatabaseHealth(_Doc):
    """Database check."""

    ok: bool
    backend: str
    detail: str


class SolverHealth(_Doc):
    """Worker pool check."""

    ok: bool
    highs_version: str | None
    workers_configured: int
    workers_alive: int
    workers_ready: int
    busy: int
    queued: int
    queue_capacity: int
    detail: str


class Health(_Doc):
    """Liveness (always 200 while the process serves) with the state of solver and database."""

    status: Literal["ok", "degraded"]
    version: str
    uptime_s: float
    database: DatabaseHealth
    solver: SolverHealth
    writes_need_key: bool
    reads_need_key: bool


class Ready(_Doc):
    """Readiness: the database answers and a solver process can take work."""

    ready: Literal[True]
    database: DatabaseHealth
    solver: SolverHealth


PlanDocument = Plan
"""The plan document (``flowopt solve --json``)."""
