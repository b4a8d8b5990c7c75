"""The README's excerpts of command output are the real output (``scripts/readme_excerpts.py``)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("readme_excerpts", ROOT / "scripts" / "readme_excerpts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_excerpts_match_the_real_output():
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    _, drift = script.regenerate(text, check=True)
    assert not drift, "README excerpts drifted; run: python scripts/readme_excerpts.py\n" + "".join(drift)


def test_every_excerpt_has_a_block_and_every_block_an_excerpt():
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [m.group("name").strip() for m in script._BLOCK.finditer(text)]
    assert sorted(names) == sorted(script.EXCERPTS)
    with pytest.raises(KeyError, match="no entry"):
        script.regenerate(text.replace("<!-- excerpt: flowopt explain -->", "<!-- excerpt: flowopt nothing -->"))


def test_lines_are_cut_and_gaps_marked_as_in_the_readme():
    script = _script()
    lines = [f"line {i}" for i in range(10)] + ["x" * 500, "Bottlenecks:", "  1", "  2", "tail"]
    out = script.select(lines, ((0, 2), (r"^Bottlenecks", 2)))
    assert out == ["line 0", "line 1", "…", "Bottlenecks:", "  1", "…"]
    assert script.select(lines, ((10, 1),)) == ["…", "x" * (script.WIDTH - 3) + "...", "…"]
    assert script.select(lines[:3], ((0, 3),)) == ["line 0", "line 1", "line 2"]
    with pytest.raises(LookupError):
        script.select(lines, ((r"^nothing", 1),))


def test_check_mode_reports_drift_and_ignores_solve_times(tmp_path, capsys):
    script = _script()
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # a changed solve time is not drift
    timed = re.sub(r"\): [\d.,]+ ms", "): 123.4 ms", text, count=1)
    assert timed != text
    readme.write_text(timed, encoding="utf-8")
    assert script.main(["--check", "--readme", str(readme)]) == 0
    readme.write_text(text.replace("========================================================================\n", "=====\n", 1), encoding="utf-8")
    assert script.main(["--check", "--readme", str(readme)]) == 1
    assert "drifted" in capsys.readouterr().out
    assert script.main(["--readme", str(readme)]) == 0  # regenerating fixes it
    assert script.main(["--check", "--readme", str(readme)]) == 0
