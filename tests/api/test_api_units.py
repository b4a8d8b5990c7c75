"""Unit tests without a running app: settings, the error table, strict JSON parsing."""

from __future__ import annotations

import json
import math

import pytest

import flowopt.errors as fe
from api.bodies import MAX_DEPTH, parse_json
from api.errors import ERRORS, ApiError, Code, finite, from_library, problem_item
from api.settings import Settings, SettingsError
from flowopt.errors import InputError, Problem


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


# -- settings -------------------------------------------------------------------------------


def test_settings_from_env_reads_every_kind_of_value(tmp_path):
    env = {
        "FLOWOPT_PORT": "9001",
        "FLOWOPT_API_KEYS": "aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2 ,",
        "FLOWOPT_READ_REQUIRES_KEY": "true",
        "FLOWOPT_CORS_ORIGINS": "https://dash.example.cn,http://localhost:5173",
        "FLOWOPT_MAX_BODY_BYTES": "2048",
        "FLOWOPT_DATA_DIR": str(tmp_path),
        "FLOWOPT_SOLVE_TIME_LIMIT_S": "5",
        "FLOWOPT_HOST": "",  # empty means default
    }
    s = Settings.from_env(env, port=None)
    assert s.port == 9001 and s.host == "127.0.0.1"
    assert s.api_keys == ("aaaaaaaaaaaaaaaa1", "bbbbbbbbbbbbbbbb2")
    assert s.read_requires_key and s.max_body_bytes == 2048
    assert s.cors_origins == ("https://dash.example.cn", "http://localhost:5173")
    assert s.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'flowopt-api.db'}"
    assert s.effective_wall_limit_s == 2 * 5 + 30
    assert Settings.from_env(env, port=7000).port == 7000
    assert Settings.from_env({}).writes_open


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"FLOWOPT_PORT": "eighty"}, "FLOWOPT_PORT"),
        ({"FLOWOPT_CORS_ORIGINS": "*"}, "FLOWOPT_CORS_ORIGINS"),
        ({"FLOWOPT_SOLVE_TIME_LIMIT_S": "nan"}, "FLOWOPT_SOLVE_TIME_LIMIT_S"),
        ({"FLOWOPT_WORKERS": "0"}, "FLOWOPT_WORKERS"),
        ({"FLOWOPT_LOG_LEVEL": "loud"}, "FLOWOPT_LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_a_short_key_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"FLOWOPT_API_KEYS": "sekrit"})
    assert "FLOWOPT_API_KEYS" in str(info.value)
    assert "sekrit" not in str(info.value)


# -- error table ----------------------------------------------------------------------------


def test_every_library_error_code_is_in_the_table():
    codes = {cls.code for cls in _subclasses(fe.FlowoptError)} | {fe.FlowoptError.code}
    assert codes <= set(ERRORS)


def test_error_table_is_complete_and_bilingual():
    assert set(ERRORS) == set(Code)
    for code, spec in ERRORS.items():
        assert 400 <= spec.status <= 599, code
        assert spec.title and spec.title_zh and spec.detail_zh, code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.title_zh + spec.detail_zh), code
    # bad input is never a server error
    for code in ("input_invalid", "graph_invalid", "json_invalid", "body_too_large", "scenario_too_large", "unsupported_media_type", "infeasible", "unbounded", "solver_limit", "solve_timeout"):
        assert ERRORS[Code(code)].status < 500, code


def test_unknown_code_is_a_programming_error():
    with pytest.raises(KeyError):
        ApiError("no_such_code", "x")


@pytest.mark.parametrize(
    ("exc", "code", "status"),
    [
        (fe.InputError("bad", [Problem("projects", 2, "capacity_t", "negative", "fix it")]), "input_invalid", 422),
        (fe.GraphError("no outlet", [Problem("streams", 1, "id", "no outlet")]), "graph_invalid", 422),
        (fe.InfeasibleError("too high"), "infeasible", 422),
        (fe.UnboundedError("loop"), "unbounded", 422),
        (fe.SolverLimitError("time"), "solver_limit", 422),
        (fe.SolverFailure("highs"), "solver_failure", 500),
        (fe.AuditError("broken", ["capacity R01"]), "audit_failed", 500),
        (fe.SolveError("other"), "solve_failed", 422),
    ],
)
def test_library_errors_map_through_the_table(exc, code, status):
    err = from_library(exc, "/scenario")
    doc = err.document("/v1/plans")
    assert (err.status, doc["code"], doc["status"]) == (status, code, status)
    json.dumps(doc, allow_nan=False)
    if isinstance(exc, InputError):
        assert doc["problems"][0]["pointer"] == "/scenario/" + {"input_invalid": "projects/1/capacity_t", "graph_invalid": "streams/0/id"}[code]
    if code == "audit_failed":
        assert doc["findings"] == ["capacity R01"]


def test_problem_pointers_follow_table_row_column():
    assert problem_item(Problem("policy", None, "target_rate", "m"), "")["pointer"] == "/policy/target_rate"
    assert problem_item(Problem("sites", None, None, "empty"), "/scenario")["pointer"] == "/scenario/sites"
    assert problem_item(Problem("streams", 3, "x", "m", file="streams.csv"), "")["pointer"] is None


def test_error_documents_never_hold_non_finite_numbers():
    doc = ApiError(Code.input_invalid, "x", problems=[{"got": float("nan")}], worst=[float("inf"), -float("inf")]).document()
    text = json.dumps(doc, allow_nan=False)
    assert "nan" in text and "inf" in text
    assert finite({"a": (1.0, math.inf)}) == {"a": [1.0, "inf"]}


# -- strict JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_located(literal):
    raw = f'{{"scenario": {{"projects": [{{"id": "P"}}, {{"capacity_t": {literal}}}]}}, "target": 0.5}}'.encode()
    with pytest.raises(ApiError) as info:
        parse_json(raw, ["scenario"])
    err = info.value
    assert err.code == "input_invalid" and err.status == 422
    (p,) = err.problems or []
    assert (p["table"], p["row"], p["column"], p["pointer"]) == ("projects", 2, "capacity_t", "/scenario/projects/1/capacity_t")
    json.dumps(err.document(), allow_nan=False)


def test_repeated_keys_are_located():
    with pytest.raises(ApiError) as info:
        parse_json(b'{"target": 0.5, "scenario_id": "a", "target": 0.9}')
    (p,) = info.value.problems or []
    assert p["pointer"] == "/target" and "more than once" in p["message"]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"scenario_id": "x",, }', "line 1, column 21"),
        (b'{"a": 1}\n{"b": 2}', "line 2, column 1"),
        (b"", "empty"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested deeper"),
    ],
)
def test_malformed_json_is_400_with_position(raw, where):
    with pytest.raises(ApiError) as info:
        parse_json(raw)
    assert info.value.code == "json_invalid" and info.value.status == 400
    assert where in info.value.detail


def test_valid_json_passes_through():
    assert parse_json(b'{"a": [1, 2.5, "x", null, true], "b": {"c": -0.0}}') == {"a": [1, 2.5, "x", None, True], "b": {"c": -0.0}}
    # brackets inside strings do not count as nesting
    assert parse_json(('{"s": "' + "[" * 100 + '"}').encode()) == {"s": "[" * 100}
