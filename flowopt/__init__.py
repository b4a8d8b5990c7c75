"""flowopt: least-cost allocation of industrial solid waste to reuse, disposal and storage.

The pipeline, one module per stage::

    io.load_scenario      files (folder of CSVs + scenario.yaml, or .xlsx) -> Scenario
    graph.build_graph     Scenario -> MaterialGraph (lots, arcs; structural checks)
    formulation.assemble  MaterialGraph -> AssembledLP (arrays, every family from one registry)
    solve.Session         AssembledLP -> SolveOutcome (the one gateway to HiGHS)
    results / audit       -> Plan (pydantic, with pandas tables), audited against the input
    pipeline.run          all of the above in one call

Quick use::

    import flowopt
    plan = flowopt.run()            # the bundled Panzhihua East park data
    plan.utilization_rate, plan.objective_cny, plan.bottlenecks[:3]
    m = flowopt.to_pyomo(flowopt.load_scenario("data/panzhihua_east"))  # the readable model

``flowopt.model`` is the same LP written in Pyomo: the formulation of record (``models/README.md``),
checked equal to the assembled LP by the tests; extend it, or solve it with any Pyomo solver.
"""

from typing import Any

from flowopt.errors import (
    AuditError,
    FlowoptError,
    GraphError,
    InfeasibleError,
    InputError,
    OutputError,
    Problem,
    SolveError,
)

# the rest is imported on first use, so that `import flowopt` (and the command line's --help)
# does not pay for pandas, pydantic models and HiGHS
_LAZY = {
    "Diagnosis": "flowopt.diagnosis",
    "load_scenario": "flowopt.io",
    "write_scenario": "flowopt.io",
    "write_workbook": "flowopt.io",
    "run": "flowopt.pipeline",
    "Plan": "flowopt.results",
    "Scenario": "flowopt.schema",
    "to_pyomo": "flowopt.formulation.reference",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (``flowopt.run``, ``flowopt.Scenario`` …)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'flowopt' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "AuditError",
    "Diagnosis",
    "FlowoptError",
    "GraphError",
    "InfeasibleError",
    "InputError",
    "OutputError",
    "Plan",
    "Problem",
    "Scenario",
    "SolveError",
    "load_scenario",
    "run",
    "to_pyomo",
    "write_scenario",
    "write_workbook",
]
__version__ = "0.1.0"
