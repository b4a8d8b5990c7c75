"""The checked-in OpenAPI description ``api/openapi.json``: generate, write, check.

    python -m api.openapi            # rewrite api/openapi.json from the code
    python -m api.openapi --check    # exit 1 if api/openapi.json is out of date
    python -m api.openapi --examples # also re-solve the examples (api/example_plan.json, example_whatif.json, example_invest.json)

The document is generated with default settings (no environment), so it is the same on
every machine; a test regenerates it and compares.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().with_name("openapi.json")
EXAMPLE_PLAN_PATH = Path(__file__).resolve().with_name("example_plan.json")
EXAMPLE_WHATIF_PATH = Path(__file__).resolve().with_name("example_whatif.json")
EXAMPLE_INVEST_PATH = Path(__file__).resolve().with_name("example_invest.json")
EXAMPLE_RISK_PATH = Path(__file__).resolve().with_name("example_risk.json")


def generate() -> str:
    """Return the OpenAPI JSON text of the app built with default settings."""
    from api.main import create_app
    from api.settings import Settings

    return json.dumps(create_app(Settings()).openapi(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_example_plan() -> None:
    """Solve :data:`api.examples.EXAMPLE_SCENARIO` and write its plan to ``example_plan.json``."""
    from api.examples import EXAMPLE_SCENARIO
    from flowopt.checks import validated
    from flowopt.pipeline import run

    plan = run(validated(EXAMPLE_SCENARIO))
    EXAMPLE_PLAN_PATH.write_text(json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    write_example_whatif()
    write_example_risk()


def write_example_risk() -> None:
    """Run :data:`api.examples.RISK_REQUEST_INLINE` into ``example_risk.json`` (the answer as ``POST /v1/risks`` gives it)."""
    from api.examples import RISK_REQUEST_INLINE
    from flowopt.checks import validated
    from flowopt.risk import run_risk

    req = RISK_REQUEST_INLINE
    result = run_risk(validated(req["scenario"]), target=float(req["target"]), samples=int(req["samples"]), seed=int(req["seed"]), tolerance=float(req["tolerance"]), workers=1)
    doc = {**result.summary(), "rows": [], "seconds": 0.42}  # rows only when asked for; a fixed time keeps the file stable
    EXAMPLE_RISK_PATH.write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_example_whatif() -> None:
    """Solve the example what-if and sweep of :mod:`api.examples` into ``example_whatif.json``."""
    from api.examples import EXAMPLE_SCENARIO, SWEEP_REQUEST_INLINE, WHATIF_REQUEST_INLINE
    from flowopt.checks import validated
    from flowopt.compare import compare_plans
    from flowopt.overrides import apply_overrides, parse_overrides
    from flowopt.pipeline import run
    from flowopt.sweep import target_cost_curve

    base = validated(EXAMPLE_SCENARIO)
    req = WHATIF_REQUEST_INLINE
    whatif = apply_overrides(base, parse_overrides({k: req[k] for k in ("id", "description", "changes")}))
    base_plan, whatif_plan = run(base), run(whatif, target_rate=float(req["target"]))
    curve = target_cost_curve(base, SWEEP_REQUEST_INLINE["from"], SWEEP_REQUEST_INLINE["to"], step=SWEEP_REQUEST_INLINE["step"])
    doc = {"whatif": whatif_plan.model_dump(mode="json"), "comparison": compare_plans(base_plan, whatif_plan).model_dump(mode="json"), "curve": curve.model_dump(mode="json")}
    EXAMPLE_WHATIF_PATH.write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    write_example_investment()


def write_example_investment() -> None:
    """Solve :data:`api.examples.INVESTMENT_REQUEST_INLINE` into ``example_invest.json``."""
    from api.examples import INVESTMENT_REQUEST_INLINE
    from flowopt.checks import validated
    from flowopt.invest import solve_investment

    result = solve_investment(validated(INVESTMENT_REQUEST_INLINE["scenario"]), target_rate=float(INVESTMENT_REQUEST_INLINE["target"]))
    EXAMPLE_INVEST_PATH.write_text(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write or check ``api/openapi.json``; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m api.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    parser.add_argument("--examples", action="store_true", help="re-solve the example scenario first")
    args = parser.parse_args(argv)
    if args.examples:
        write_example_plan()
    text = generate()
    current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    if args.check:
        if current != text:
            sys.stderr.write(f"{OPENAPI_PATH} is out of date; run: python -m api.openapi\n")
            return 1
        return 0
    if current != text:
        OPENAPI_PATH.write_text(text, encoding="utf-8")
        sys.stderr.write(f"Written: {OPENAPI_PATH}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
