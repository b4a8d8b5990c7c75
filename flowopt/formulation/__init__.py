"""Formulation: the material graph as a linear program, each family defined once.

``assemble(graph) -> AssembledLP`` builds the LP flowopt solves from arrays; the registry in
:mod:`flowopt.formulation.families` says what each row and column family is; the readable
Pyomo model of the same LP is :func:`flowopt.model.build_model` (``flowopt.to_pyomo``).
"""

from flowopt.formulation.assemble import assemble
from flowopt.formulation.families import (
    COLUMNS,
    COST_TERMS,
    FAMILIES,
    INVESTMENT_COLUMNS,
    INVESTMENT_ROWS,
    INVESTMENT_TERMS,
    ROWS,
    TERMS,
    ColumnFamily,
    CostTerm,
    RowFamily,
)
from flowopt.formulation.lp import AssembledLP, FamilyBlock, SparseVector, component_name
from flowopt.formulation.network import Network

__all__ = ["COLUMNS", "COST_TERMS", "FAMILIES", "INVESTMENT_COLUMNS", "INVESTMENT_ROWS", "INVESTMENT_TERMS", "ROWS", "TERMS", "AssembledLP", "ColumnFamily", "CostTerm", "FamilyBlock", "Network", "RowFamily", "SparseVector", "assemble", "component_name"]
