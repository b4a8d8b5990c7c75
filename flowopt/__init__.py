"""flowopt: least-cost allocation of industrial solid waste to reuse, disposal and storage.

The pipeline, one module per stage::

    io.load_scenario      files (folder of CSVs + scenario.yaml, or .xlsx) -> Scenario
    graph.build_graph     Scenario -> MaterialGraph (lots, arcs; structural checks)
    model.build_model     MaterialGraph -> Pyomo ConcreteModel
    solve.solve_model     ConcreteModel -> SolveOutcome (HiGHS through highspy)
    results / audit       -> Plan (pydantic, with pandas tables), audited against the input
    pipeline.run          all of the above in one call

Quick use::

    import flowopt
    plan = flowopt.run()            # the bundled Panzhihua East park data
    plan.utilization_rate, plan.objective_cny, plan.bottlenecks[:3]
"""

from flowopt.diagnosis import Diagnosis
from flowopt.errors import (
    AuditError,
    FlowoptError,
    GraphError,
    InfeasibleError,
    InputError,
    Problem,
    SolveError,
)
from flowopt.io import load_scenario, write_scenario, write_workbook
from flowopt.pipeline import run
from flowopt.results import Plan
from flowopt.schema import Scenario

__all__ = [
    "AuditError",
    "Diagnosis",
    "FlowoptError",
    "GraphError",
    "InfeasibleError",
    "InputError",
    "Plan",
    "Problem",
    "Scenario",
    "SolveError",
    "load_scenario",
    "run",
    "write_scenario",
    "write_workbook",
]
__version__ = "0.1.0"
