"""HTTP-only shapes: request envelopes and response documents (the library owns the rest).

The scenario (:class:`flowopt.schema.Scenario`), the plan (:class:`flowopt.results.Plan`) and
their rows are the library's models, reused unchanged so the API and ``flowopt solve --json``
keep one contract. Models here describe what only HTTP needs: the plan request, jobs, pages,
problem documents, health. ``PlanCreate``, ``WhatIfCreate``, ``SweepCreate`` and ``InvestmentCreate`` are also used
to validate requests (strict JSON types, unknown fields rejected); the others document
responses built by the routes. The comparison (:class:`flowopt.compare.Comparison`) and the
target–cost curve (:class:`flowopt.sweep.CostCurve`) are the library's too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from flowopt.compare import Comparison
from flowopt.diagnosis import Diagnosis
from flowopt.invest import InvestmentResult
from flowopt.results import Bottleneck, FlowRow, Plan
from flowopt.risk import RiskResult
from flowopt.schema import Identifier, RateMode
from flowopt.sweep import CostCurve

# nested in anyOf: pydantic resolves a top-level $ref against its own definitions
_SCENARIO_OR_NULL = {"anyOf": [{"$ref": "#/components/schemas/Scenario"}, {"type": "null"}]}


def _absent_by_default(schema: dict[str, Any]) -> None:
    """Declare a ``X | None = None`` field as ``X`` that may be omitted but is never null.

    The Python type stays ``X | None`` (so validation errors keep the field's own location,
    ``/scenario``), while the JSON schema loses its ``null`` branch and ``"default": null``.
    """
    schema.pop("default", None)
    kept = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(kept) == 1 and "$ref" in kept[0]:
        schema["allOf"] = kept  # a $ref beside other keywords, valid in any JSON Schema draft
    elif len(kept) == 1:
        schema.update(kept[0])
    elif kept:
        schema["anyOf"] = kept


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class _ScenarioSource(_Doc):
    """A request naming a stored scenario (``scenario_id``) or sending one inline (``scenario``)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        use_attribute_docstrings=True,
        json_schema_extra={"oneOf": [{"required": ["scenario_id"]}, {"required": ["scenario"]}]},
    )

    # None stands for "absent" only: an explicit null is refused (see _not_null), and the schema
    # declares neither field nullable, so the OpenAPI oneOf and the server agree on
    # {"scenario_id": "x", "scenario": null} (invalid for both)
    scenario_id: Annotated[Identifier | None, Field(json_schema_extra=_absent_by_default)] = None
    """Id of a stored scenario (``GET /v1/scenarios``; for a what-if, the base); the bundled park
    is ``panzhihua_east_2025``. Omit it (not ``null``) when sending ``scenario``."""
    scenario: Annotated[dict[str, Any] | None, WithJsonSchema(_SCENARIO_OR_NULL), Field(json_schema_extra=_absent_by_default)] = None
    """A whole scenario, in the shape of ``GET /v1/scenarios/{id}``; validated like a stored one.
    Omit it (not ``null``) when sending ``scenario_id``."""

    @field_validator("scenario_id", "scenario", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # runs only for fields present in the request (defaults are not validated)
        if value is None:
            msg = "null is not accepted here; leave the field out instead (give exactly one of scenario_id or scenario)"
            raise ValueError(msg)
        return value


class PlanCreate(_ScenarioSource):
    """Solve a stored scenario (``scenario_id``) or one sent inline (``scenario``).

    Exactly one of ``scenario_id`` and ``scenario`` is given. Identical requests (same
    scenario content and target) return the plan already stored instead of solving again.
    """

    target: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Target for the scenario's rate as a fraction (0.72 = 72 %); default the scenario's
    ``policy.target_rate``."""
    rate_mode: Annotated[RateMode, Field(strict=False)] | None = None  # a JSON string naming the mode
    """Which rate the target applies to (``flowopt solve --rate-mode``): ``utilization``
    (综合利用率, U / (G + U_prior)), ``utilization_plus_disposal`` or ``disposal_only``;
    default the scenario's ``policy.rate_mode``. Every plan reports all three rates."""

    @model_validator(mode="after")
    def _one_source(self) -> PlanCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


#: Most changes in one what-if request.
MAX_CHANGES = 500
#: Most grid points of one sweep (``(to - from) / step + 1``); breakpoints come on top.
MAX_SWEEP_POINTS = 401
#: Finest sweep step (0.01 percentage point); below it, rounding tolerances alone would make a
#: grid of millions of points even over an empty range (``from == to``).
MIN_SWEEP_STEP = 1e-4

_CHANGE_SCHEMA = {
    "type": "object",
    "description": "One change, as in `flowopt/overrides.py`: exactly one of `set` (with `value`), `scale` (with `factor`), `add` (with `record`), `remove`, `disable`.",
    "properties": {
        "set": {"type": "string", "description": "`table.id.field`, `table[field=value,…].field`, `table[*].field` or a setting such as `policy.target_rate`."},
        "scale": {"type": "string", "description": "Path of a numeric field to multiply by `factor`."},
        "add": {"type": "string", "description": "Table to add `record` to."},
        "remove": {"type": "string", "description": "`table.id` or `table[field=value,…]` of the record(s) to remove (rows naming it go too)."},
        "disable": {"type": "string", "description": "`table.id` of a project, sink, stockpile, route or stream to switch off."},
        "value": {"description": "New value for `set`."},
        "factor": {"type": "number", "minimum": 0, "maximum": 1e6, "description": "Multiplier for `scale`."},
        "record": {"type": "object", "description": "The record for `add`."},
    },
    "additionalProperties": False,
}


class WhatIfCreate(_ScenarioSource):
    """A what-if: a stored (``scenario_id``) or inline (``scenario``) base plus changes.

    The base is solved at its own target and the what-if (base + ``changes``) at ``target``;
    both plans are stored (identical stored plans are reused) and compared. The changes are
    the format of ``flowopt/overrides.py`` (``flowopt compare`` reads the same in YAML).
    """

    changes: Annotated[list[Annotated[dict[str, Any], WithJsonSchema(_CHANGE_SCHEMA)]], Field(max_length=MAX_CHANGES)] = []
    """The changes, applied in order (at most 500); ``[]`` compares the base with itself at
    another ``target``."""
    target: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Target of the what-if as a fraction (0.72 = 72 %); default the what-if scenario's
    ``policy.target_rate`` (the base's unless a change sets it). The base keeps its own."""
    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)] | None = None
    """Id of the what-if scenario (its plan's ``scenario_id``); default the base's id."""
    description: Annotated[str, Field(max_length=5000)] | None = None
    """What the what-if asks (kept in the what-if scenario)."""

    @model_validator(mode="after")
    def _one_source(self) -> WhatIfCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


class WhatIfSolve(_Doc):
    """How the what-if plan was obtained."""

    warm: bool
    """True when the what-if was solved in a live LP of the base (``flowopt.whatif``): numbers
    written into it and re-solved from the previous optimal basis. False for a cold solve (the
    network changed) or when the plan was already stored (``reused``)."""
    seconds: float
    """Seconds the solver process spent on the what-if plan (LP update, re-solve, plan,
    explanation and audit); 0 when reused."""
    lp_seconds: float | None
    """Of which the LP update and the HiGHS re-solve (``null`` when reused)."""
    simplex_iterations: int | None
    """Simplex iterations of the what-if solve (``null`` when reused)."""
    session_reused: bool
    """The solver process already held this base scenario's live model (from an earlier
    what-if, or loaded at startup for the bundled park)."""
    reused: bool
    """An identical plan (same scenario content and target) was already stored; nothing was
    solved for it."""


class WhatIfResult(_Doc):
    """A what-if answered: both plans (stored, with ids), the what-if plan and the comparison."""

    job_id: str
    """The what-if job (``GET /v1/jobs/{id}`` shows it again)."""
    base_plan_id: str
    """The base plan (``GET /v1/plans/{id}``), at the base scenario's own target."""
    whatif_plan_id: str
    """The what-if plan; ``/sankey``, ``/flows`` and ``/bottlenecks`` work on it like on any plan."""
    base_plan_url: str
    whatif_plan_url: str
    whatif: Plan
    """The what-if plan (as ``GET /v1/plans/{whatif_plan_id}``)."""
    comparison: Comparison
    """Base vs what-if: KPIs side by side, flows that moved, bottlenecks that appeared,
    vanished or changed price, and the cost difference by term (``flowopt.compare``)."""
    solve: WhatIfSolve


class SweepCreate(_ScenarioSource):
    """The target–cost curve of a stored or inline scenario between two targets."""

    from_: Annotated[float, Field(alias="from", ge=0, le=1, allow_inf_nan=False)]
    """First target (fraction, 0 ≤ from ≤ to)."""
    to: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    """Last target (fraction, ≤ 1); the curve stops at the highest reachable rate."""
    step: Annotated[float, Field(ge=MIN_SWEEP_STEP, le=1, allow_inf_nan=False)] = 0.005
    """Spacing of the plotting grid (fraction, at least 0.0001); at most 401 grid points.
    Breakpoints are exact whatever the step."""

    @model_validator(mode="after")
    def _one_source(self) -> SweepCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


#: Most forced decisions (``build`` plus ``skip``) in one investment request.
MAX_FORCED = 500

_Forced = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_]*(=[^\s=]{1,40})?$")]


class InvestmentCreate(_ScenarioSource):
    """Which candidate projects to build (``flowopt invest``), for a stored or inline scenario with candidates.

    The answer is the document ``flowopt invest --json`` prints: ``status`` (``optimal``,
    ``feasible`` when a limit stopped the solve with a gap above ``gap``, ``infeasible`` with a
    diagnosis), ``builds``, ``mip_gap``, the ``plan`` given the chosen builds, the
    ``decision_values`` and the ``build_break_even``.
    """

    target: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Target for the scenario's rate as a fraction; default the scenario's ``policy.target_rate``."""
    budget_cny: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)] | None = None
    """Total capital budget in CNY; default the scenario's ``policy.capital_budget_cny``."""
    build: Annotated[list[_Forced], Field(max_length=MAX_FORCED)] = []
    """Candidates that must be built: ``ID``, or ``ID=SIZE_T`` at a size in t/yr its sizing allows."""
    skip: Annotated[list[Identifier], Field(max_length=MAX_FORCED)] = []
    """Candidates that must not be built."""
    gap: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 1e-4
    """Relative MIP gap at which a solve counts as optimal (0.0001 = 0.01 %)."""
    explain: bool = True
    """Compute the decision values, capital break-evens and the plan's ranges and why-not (more
    MILP solves); ``false`` returns the build set and the plan only."""

    @model_validator(mode="after")
    def _one_source(self) -> InvestmentCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


#: Most samples of one risk request: the bundled park takes about 10 ms a sample in a solver process,
#: and the whole run must fit FLOWOPT_SOLVE_WALL_LIMIT_S (90 s by default).
MAX_RISK_SAMPLES = 2000


class RiskCreate(_ScenarioSource):
    """How likely the target is (``flowopt risk``), for a stored or inline scenario with an ``uncertainty`` table.

    The samples are solved in one solver process; the job reports its progress
    (``progress.done`` of ``progress.total`` samples) while it runs. The answer is the document
    ``flowopt risk --json`` prints, without the per-sample rows unless ``rows`` is true.
    """

    samples: Annotated[int, Field(ge=1, le=MAX_RISK_SAMPLES)] = 500
    """Most samples (at most 2,000, so a run fits the solve wall-clock limit; fewer when it stops early)."""
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    """Seed: the same seed gives the same samples and answer."""
    target: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Target as a fraction; default the scenario's ``policy.target_rate``."""
    method: Literal["lhs", "sobol", "random"] = "lhs"
    """Sampling: Latin-hypercube blocks, scrambled Sobol' points or independent draws."""
    tolerance: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.04
    """Stop early once the 95 % interval of the probability is narrower than this (after 256
    samples); 0 never stops early."""
    rows: bool = False
    """Include one row per sample in the answer (large: about 1 kB a sample)."""

    @model_validator(mode="after")
    def _one_source(self) -> RiskCreate:
        if (self.scenario_id is None) == (self.scenario is None):
            msg = "give exactly one of scenario_id (a stored scenario) or scenario (inline)"
            raise ValueError(msg)
        return self


class JobProgress(_Doc):
    """How far a running job is (risk runs report it after each block of samples)."""

    done: int
    """Samples solved so far."""
    total: int
    """Samples asked for (the run may stop earlier)."""
    what: str
    """The last step (``block 3 of 8``)."""

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
    """Every input problem with its location (invalid input); at most 100, see
    ``problems_total``."""
    problems_total: int | None = None
    """How many problems were found, when more than the 100 listed in ``problems`` (absent
    otherwise)."""
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
    kind: Literal["plan", "whatif", "sweep", "investment", "risk"]
    """What the job computes: a ``plan`` (``POST /v1/plans``), a ``whatif``
    (``POST /v1/whatifs``), a ``sweep`` (``POST /v1/sweeps``), an ``investment``
    (``POST /v1/investments``) or a ``risk`` analysis (``POST /v1/risks``)."""
    status: Literal["queued", "running", "succeeded", "failed"]
    stage: str
    """Progress in words: waiting for a solver process, solving, done."""
    queue_position: int | None
    """1-based place in the queue while waiting."""
    scenario_id: str | None
    scenario_sha256: str
    """SHA-256 of the scenario solved (for a what-if: the what-if scenario)."""
    target: float | None
    """Target of the plan (of the what-if plan for a what-if; ``null`` for a sweep)."""
    created_at: str
    started_at: str | None
    finished_at: str | None
    plan_id: str | None
    """The plan (for a what-if: the what-if plan) once succeeded."""
    plan_url: str | None
    result: Plan | WhatIfResult | CostCurve | InvestmentResult | RiskResult | None
    """Once succeeded: the plan (as ``GET /v1/plans/{id}``), the what-if answer (as
    ``POST /v1/whatifs``), the target–cost curve (as ``POST /v1/sweeps``) or the investment
    decisions (as ``POST /v1/investments``) or the risk analysis (as ``POST /v1/risks``)."""
    progress: JobProgress | None = None
    """Samples solved so far while a risk analysis runs (absent for other kinds and once done)."""
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

CostCurveDocument = CostCurve
"""The target–cost curve (``flowopt sweep --json``)."""

InvestmentDocument = InvestmentResult
"""The investment decisions (``flowopt invest --json``)."""

RiskDocument = RiskResult
"""The risk analysis (``flowopt risk --json``; ``rows`` only when asked for)."""
