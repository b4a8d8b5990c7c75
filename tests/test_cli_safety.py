"""Nothing lost, nothing crashes: outputs never delete, bad input is exit 2, signals end quietly.

Every test writes into pytest's tmp_path (the bundled data is copied there first); the CLI runs
in-process through ``flowopt.cli.main`` except for the two tests whose point is a real process
(a closed pipe, Ctrl-C).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import PARK_2025

from flowopt.batch import load_batch
from flowopt.cli import EXIT_BROKEN_PIPE, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, main, plan_files
from flowopt.errors import InputError, OutputError
from flowopt.io import load_scenario, write_scenario
from flowopt.outputs import OUTPUTS_MANIFEST, OutputFolder, atomic_file
from flowopt.overrides import load_overrides
from flowopt.pathway import load_pathway
from flowopt.sweep import MAX_GRID_POINTS, target_cost_curve

FOREIGN = "notes from the district engineer\n"

# nine levels of nine aliases: 9**9 (387 million) strings when expanded
LAUGHS = 'id: laughs\na0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def park(tmp_path: Path) -> Path:
    """A copy of the bundled 2025 park data (never write into the repository's data)."""
    return Path(shutil.copytree(PARK_2025, tmp_path / "park"))


def _foreign_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text(FOREIGN, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Outputs never delete
# ---------------------------------------------------------------------------------------------


def test_solve_out_onto_its_own_data_is_refused_and_keeps_every_file(park, capsys, monkeypatch):
    before = _snapshot(park)
    # refused before any solving: the solver is never reached
    import flowopt.pipeline

    monkeypatch.setattr(flowopt.pipeline, "run", lambda *a, **k: pytest.fail("solved before checking --out"))
    assert main(["solve", str(park), "--out", str(park)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "holds a scenario (scenario.yaml)" in err and str(park) in err
    assert _snapshot(park) == before
    assert not (park / OUTPUTS_MANIFEST).exists()


def test_a_foreign_file_with_an_output_name_is_refused_and_kept(tmp_path, capsys):
    out = _foreign_folder(tmp_path / "out")
    (out / "plan.json").write_text("my own plan", encoding="utf-8")
    assert main(["solve", str(PARK_2025), "--out", str(out)]) == EXIT_INPUT
    assert "flowopt did not write" in capsys.readouterr().err
    assert (out / "plan.json").read_text(encoding="utf-8") == "my own plan"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "plan.json"]  # nothing written


@pytest.mark.slow
def test_second_solve_replaces_its_own_files_and_keeps_the_foreign_one(tmp_path, capsys):
    out = _foreign_folder(tmp_path / "out")
    assert main(["solve", str(PARK_2025), "--out", str(out)]) == EXIT_OK
    manifest = json.loads((out / OUTPUTS_MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(plan_files())
    assert {p.name for p in out.iterdir()} == {*plan_files(), OUTPUTS_MANIFEST, "notes.txt"}
    (out / "plan.json").write_text("stale", encoding="utf-8")
    assert main(["solve", str(PARK_2025), "--out", str(out)]) == EXIT_OK
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["status"] == "optimal"
    assert (out / "notes.txt").read_text(encoding="utf-8") == FOREIGN


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["solve", "{data}", "--out", "{out}"],
        ["compare", "{data}", "{data}/whatifs/target_72.yaml", "--out", "{out}"],
        ["compare", "{data}", "{data}/whatifs/target_72.yaml", "--write-scenario", "{out}"],
        ["sweep", "{data}", "--from", "0.6", "--to", "0.7", "--step", "0.05", "--out", "{out}"],
        ["pathway", "{data}", "--out", "{out}"],
        ["convert", "{data}", "{out}"],
    ],
    ids=["solve", "compare-out", "compare-write-scenario", "sweep", "pathway", "convert"],
)
def test_a_foreign_file_survives_every_command_that_writes_a_folder(park, tmp_path, capsys, command):
    out = _foreign_folder(tmp_path / "out")
    data_before = _snapshot(park)
    args = [a.format(data=park, out=out) for a in command]
    assert main(args) == EXIT_OK, capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == FOREIGN
    written = set(json.loads((out / OUTPUTS_MANIFEST).read_text(encoding="utf-8"))["files"])
    assert written and "notes.txt" not in written
    assert _snapshot(park) == data_before
    # and the same command again replaces only its own files
    assert main(args) == EXIT_OK, capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == FOREIGN


@pytest.mark.parametrize(
    "command",
    [
        ["compare", "{data}", "{data}/whatifs/target_72.yaml", "--out", "{data}"],
        ["compare", "{data}", "{data}/whatifs/target_72.yaml", "--write-scenario", "{data}"],
        ["sweep", "{data}", "--out", "{data}"],
        ["pathway", "{data}", "--out", "{data}"],
        ["convert", "{data}", "{data}"],
    ],
    ids=["compare-out", "compare-write-scenario", "sweep", "pathway", "convert"],
)
def test_every_command_refuses_to_write_into_the_scenario_it_reads(park, capsys, command):
    before = _snapshot(park)
    assert main([a.format(data=park) for a in command]) == EXIT_INPUT
    assert "Fix:" in capsys.readouterr().err
    assert _snapshot(park) == before


def test_out_onto_an_existing_file_exits_2(tmp_path, capsys):
    target = tmp_path / "plan.txt"
    target.write_text("mine", encoding="utf-8")
    assert main(["solve", str(PARK_2025), "--out", str(target)]) == EXIT_INPUT
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine"


def test_unwritable_out_exits_2(tmp_path, capsys):
    if os.geteuid() == 0:  # root ignores permission bits: use a path below a file instead
        (tmp_path / "a_file").write_text("x", encoding="utf-8")
        out = tmp_path / "a_file" / "out"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        out = locked / "out"
    assert main(["solve", str(PARK_2025), "--out", str(out)]) == EXIT_INPUT
    assert "Cannot write in" in capsys.readouterr().err


def test_a_system_error_while_writing_exits_2_naming_the_reason(tmp_path, capsys, monkeypatch):
    out = _foreign_folder(tmp_path / "out")
    (out / OUTPUTS_MANIFEST).write_text(json.dumps({"files": ["plan.json"]}), encoding="utf-8")
    (out / "plan.json").write_text("previous run", encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import flowopt.planfiles

    monkeypatch.setattr(flowopt.planfiles, "write_plan_workbook", disk_full)
    assert main(["solve", str(PARK_2025), "--out", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Internal error" not in err
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["status"] == "optimal"  # replaced whole
    assert (out / "notes.txt").read_text(encoding="utf-8") == FOREIGN
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != OUTPUTS_MANIFEST]  # no temporary files


def test_an_interrupted_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("previous", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as work:
        work.write_text("half of the ne", encoding="utf-8")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_an_output_folder_records_its_files_before_writing_them(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), OutputFolder(out, ["a.csv", "b.csv"]) as folder:
        (folder.path("a.csv")).write_text("a", encoding="utf-8")
        raise KeyboardInterrupt  # before b.csv
    # a.csv is flowopt's, so the next run may replace it; b.csv was never written
    assert json.loads((out / OUTPUTS_MANIFEST).read_text(encoding="utf-8"))["files"] == ["a.csv"]
    with OutputFolder(out, ["a.csv", "b.csv"]) as folder:
        folder.path("a.csv").write_text("new", encoding="utf-8")


def test_convert_onto_a_folder_named_xlsx_exits_2(park, tmp_path, capsys):
    book = tmp_path / "park.xlsx"
    book.mkdir()
    (book / "notes.txt").write_text(FOREIGN, encoding="utf-8")
    assert main(["convert", str(park), str(book)]) == EXIT_INPUT
    assert "is a folder" in capsys.readouterr().err
    assert (book / "notes.txt").read_text(encoding="utf-8") == FOREIGN


@pytest.mark.parametrize("command", [["template", "{p}"], ["report", "--out", "{p}"]], ids=["template", "report"])
def test_single_file_outputs_refuse_a_folder(tmp_path, capsys, command):
    target = _foreign_folder(tmp_path / ("t.xlsx" if command[0] == "template" else "r.html"))
    assert main([a.format(p=target) for a in command]) == EXIT_INPUT
    assert "is a folder" in capsys.readouterr().err
    assert (target / "notes.txt").read_text(encoding="utf-8") == FOREIGN


def test_write_scenario_refuses_a_scenario_it_did_not_write(park):
    before = _snapshot(park)
    with pytest.raises(OutputError, match="did not write"):
        write_scenario(load_scenario(park), park)
    assert _snapshot(park) == before


# ---------------------------------------------------------------------------------------------
# YAML and CSV input errors
# ---------------------------------------------------------------------------------------------


def test_billion_laughs_scenario_exits_2_quickly(park, capsys):
    (park / "scenario.yaml").write_text(LAUGHS, encoding="utf-8")
    start = time.perf_counter()
    assert main(["validate", str(park)]) == EXIT_INPUT
    assert time.perf_counter() - start < 1.0
    err = capsys.readouterr().err
    assert "aliases" in err and "scenario.yaml, row" in err
    assert len(err) < 1000  # the expansion is never echoed


@pytest.mark.parametrize("loader", [load_overrides, load_batch, load_pathway], ids=["overrides", "batch", "pathway"])
def test_every_yaml_reader_refuses_alias_bombs_and_duplicate_keys(tmp_path, loader):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(LAUGHS, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError, match="aliases"):
        loader(bomb)
    assert time.perf_counter() - start < 1.0
    dup = tmp_path / "dup.yaml"
    dup.write_text("base: .\nchanges: []\nwhatifs: []\nbase: ..\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        loader(dup)
    assert info.value.problems[0].row == 4
    assert "'base' is given twice" in str(info.value)


def test_a_5000_deep_yaml_list_exits_2(park, capsys):
    (park / "scenario.yaml").write_text("id: deep\nsources: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert main(["validate", str(park)]) == EXIT_INPUT
    assert "nested more than" in capsys.readouterr().err
    (park / "scenario.yaml").write_text("id: deep\nsources:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), encoding="utf-8")
    assert main(["validate", str(park)]) == EXIT_INPUT


def test_duplicate_yaml_keys_exit_2_naming_the_key_and_line(park, capsys):
    text = (park / "scenario.yaml").read_text(encoding="utf-8")
    (park / "scenario.yaml").write_text(text + "\npolicy: {target_rate: 0.9}\n", encoding="utf-8")
    assert main(["validate", str(park), "--json"]) == EXIT_INPUT
    doc = json.loads(capsys.readouterr().out)
    (problem,) = doc["problems"]
    assert "'policy' is given twice" in problem["message"]
    assert problem["row"] == len(text.splitlines()) + 2


def test_a_5000_digit_year_exits_2(park, capsys):
    text = (park / "scenario.yaml").read_text(encoding="utf-8")
    (park / "scenario.yaml").write_text(text.replace("year: 2025", "year: " + "9" * 5000), encoding="utf-8")
    assert main(["validate", str(park)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "integer of 5000 characters" in err and "9" * 100 not in err


def test_an_unterminated_csv_quote_exits_2_with_file_and_line(park, capsys):
    sites = park / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    sites.write_text("\n".join(lines) + '\nS99,"Unclosed', encoding="utf-8")
    assert main(["validate", str(park)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"sites.csv, row {len(lines) + 1}" in err and "malformed CSV" in err


# ---------------------------------------------------------------------------------------------
# Numbers on the command line and in the sweep
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "--time-limit", "nan"],
        ["solve", "--time-limit", "-1"],
        ["solve", "--time-limit", "inf"],
        ["explain", "--target", "nan"],
        ["solve", "--target", "1.5"],
        ["sweep", "--from", "-0.1"],
        ["sweep", "--step", "0"],
        ["pathway", "--time-limit", "0"],
        ["batch", "x.yaml", "--workers", "0"],
    ],
)
def test_bad_numbers_on_the_command_line_exit_2(args, capsys):
    assert main(args) == EXIT_INPUT
    assert "error: argument" in capsys.readouterr().err


@pytest.mark.parametrize("step", ["1e-20", "5e-324"])
def test_a_sweep_step_that_makes_too_many_points_exits_2_quickly(step, capsys):
    start = time.perf_counter()
    assert main(["sweep", str(PARK_2025), "--step", step]) == EXIT_INPUT
    assert time.perf_counter() - start < 1.0
    assert f"at most {MAX_GRID_POINTS:,}" in capsys.readouterr().err


def test_the_sweep_validates_its_range_before_any_work(monkeypatch):
    import flowopt.sweep as sweep

    monkeypatch.setattr(sweep, "_Parametric", lambda *a, **k: pytest.fail("worked before validating"))
    scenario = load_scenario(PARK_2025)
    for args, column in [((0.5, 0.9, 1e-20), "step"), ((0.5, 0.9, 5e-324), "step"), ((0.5, 0.9, float("nan")), "step"), ((0.9, 0.5, 0.01), "to_target"), ((float("inf"), 0.9, 0.01), "from_target")]:
        with pytest.raises(InputError) as info:
            target_cost_curve(scenario, args[0], args[1], step=args[2])
        assert [p.column for p in info.value.problems] == [column]


# ---------------------------------------------------------------------------------------------
# Pipes and Ctrl-C (real processes)
# ---------------------------------------------------------------------------------------------


def test_a_closed_stdout_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "flowopt.cli", "solve", str(PARK_2025)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -0`: the reader goes away before flowopt prints
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_BROKEN_PIPE
    assert err == b""


def test_ctrl_c_exits_130_with_a_short_message():
    script = textwrap.dedent(
        """
        import sys, time
        import flowopt.cli as cli
        import flowopt.pipeline as pipeline

        def slow_solve(*args, **kwargs):
            sys.stderr.write("solving\\n")
            sys.stderr.flush()
            time.sleep(60)

        pipeline.run = slow_solve
        sys.exit(cli.main(["solve"]))
        """
    )
    # A shell that starts jobs in the background (CI runners do) leaves SIGINT ignored in the
    # child, and then Python never turns Ctrl-C into KeyboardInterrupt: give the child the
    # default disposition, as a terminal would.
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    # inside the command, past the imports (a busy machine may print other lines first)
    early = []
    while (line := proc.stderr.readline()) and line != "solving\n":
        early.append(line)
    assert line == "solving\n", early
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, (early, err)
    assert err.endswith("Interrupted.\n") and "Traceback" not in err and out == ""


def test_a_one_point_sweep_with_a_tiny_step_builds_no_huge_grid():
    # from == to passes the grid check (one point); the grid must still be one point
    import time

    from flowopt.io import load_scenario
    from flowopt.sweep import target_cost_curve

    s = load_scenario(PARK_2025)
    start = time.perf_counter()
    curve = target_cost_curve(s, 0.6, 0.6, step=1e-20)
    assert time.perf_counter() - start < 5
    assert len(curve.points) == 1
