"""Shared fixtures (test data lives in support.py)."""

from __future__ import annotations

import pytest
from support import PARK_2025


@pytest.fixture(scope="session")
def park_plan():
    from flowopt.pipeline import run

    return run(PARK_2025)
