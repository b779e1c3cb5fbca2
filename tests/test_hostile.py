"""Hostile and broken submissions are contained: a clear message, no points for the attack, no damage."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
REFERENCE = ROOT / "solutions" / "ch04_xor" / "ch04_xor.ipynb"
FULL_MARKS = 16
NEURON_POINTS = 2  # what a submission loses when its 'neuron' cell is replaced

# file -> (text that must appear in results.json, the highest score it may earn)
CASES = {
    "not_json": ("is not a valid Jupyter notebook", 0),
    "not_a_notebook": ("is not a valid Jupyter notebook", 0),
    "other_exercise": ("this notebook is for exercise ch06_banknotes", 0),
    "empty_graded_cells": ("`neuron_predict` is not defined by your notebook", 0),
    "syntax_error": ("SyntaxError", FULL_MARKS - 10),
    "exception_at_import": ("ModuleNotFoundError", FULL_MARKS - 1),
    "missing_function": ("`xor_gradients` is not defined by your notebook", FULL_MARKS - 4),
    "infinite_loop": ("did not finish within", FULL_MARKS - 4),
    "infinite_loop_at_top_level": ("did not finish within", 0),
    "memory_bomb": ("MemoryError", FULL_MARKS - 4),
    "fork_bomb": ("graded cell 'neuron'", FULL_MARKS - NEURON_POINTS),
    "huge_output": ("", FULL_MARKS - NEURON_POINTS),
    "network": ("Network is unreachable", FULL_MARKS - NEURON_POINTS),
    "read_hidden": ("", FULL_MARKS - NEURON_POINTS),
    "fake_results": ("", FULL_MARKS - NEURON_POINTS),
    "os_exit": ("process ended", 0),
    "sys_exit": ("sys.exit", FULL_MARKS - NEURON_POINTS),
    "kill_parent": ("", FULL_MARKS - NEURON_POINTS),
    "monkeypatch": ("differ beyond tolerance", FULL_MARKS - 8),
    "returns_nan": ("NaN", FULL_MARKS - 8),
    "wrong_shapes_and_types": ("expected", FULL_MARKS - 8),
    "always_equal": ("expected a numeric array", FULL_MARKS - 8),
    "metadata_wrong_types": ("graded cell 'neuron' is missing from your notebook", 0),
    "huge_error_messages": ("characters cut", FULL_MARKS - NEURON_POINTS),
    "surrogate_message": ("graded cell 'neuron' raised ValueError: bad \ufffd value \ufffd",
                          FULL_MARKS - NEURON_POINTS),
    "ansi_message": ("mtotal 16/16", FULL_MARKS - NEURON_POINTS),
    "fifo_notebook": ("ch04_xor.ipynb in the submission is not a regular file", 0),
    "shell_lines": ("converting its IPython syntax (!shell commands, %magics) took more than",
                    FULL_MARKS - NEURON_POINTS),
    "escape_to_git": ("", FULL_MARKS - NEURON_POINTS),
    "classmates_files": ("", FULL_MARKS - NEURON_POINTS),
}
# what the grade command must print (student text with its control characters escaped)
PRINTED = {"ansi_message": "raised ValueError: \\x1b[2J\\x1b[H"}


def fifo_notebook(folder: Path) -> Path:
    """A submission folder whose notebook is a named pipe (no writer: a reader that opens it waits forever)."""
    folder.mkdir()
    os.mkfifo(folder / "ch04_xor.ipynb")
    return folder


def shell_lines(folder: Path) -> Path:
    """The reference with about 440 KB of shell lines in its 'neuron' cell (IPython's conversion of them takes
    minutes)."""
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("dlgrade", {}).get("id") == "neuron":
            cell["source"] = "".join(cell["source"]) + "".join(f"!echo {i} {'x' * 24}\n" for i in range(12_500))
    folder.mkdir()
    path = folder / "ch04_xor.ipynb"
    path.write_text(json.dumps(notebook))
    return path


# made at test time: a named pipe cannot be committed, and 440 KB of shell lines need not be
MADE = {"fifo_notebook": fifo_notebook, "shell_lines": shell_lines}


def snapshot(root: Path) -> dict:
    """Path -> (size, mtime) of every file outside the virtual environment, caches and ``build/`` (what make
    writes while the tests run: the grading image's background build, the Docker engine's log)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".venv", ".git", "__pycache__", ".pytest_cache")
                       and not (Path(dirpath) == root and d == "build")]
        for name in filenames:
            path = Path(dirpath) / name
            stat = path.lstat()
            state[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return state


def sandbox_processes(isolation: str) -> list[str]:
    """Processes left of the grading's sandbox uid (results.json names it, also when its cells never reported),
    or, when none is named, of any sandbox uid (the caller leaves out those that ran before the grading)."""
    uids = [int(layer[4:]) for layer in isolation.split(",") if layer.startswith("uid=")]
    output = subprocess.run(["ps", "-eo", "uid=,pid=,comm="], capture_output=True, text=True).stdout
    return [line for line in output.splitlines()
            if (int(line.split()[0]) in uids if uids else 61000 <= int(line.split()[0]) < 62000)]


def test_every_hostile_file_has_a_case():
    assert sorted([*(p.stem for p in HOSTILE.glob("*.ipynb")), *MADE]) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_is_contained(name, tmp_path):
    expected_text, max_allowed = CASES[name]
    out = tmp_path / "out"
    submission = MADE[name](tmp_path / "submission") if name in MADE else HOSTILE / f"{name}.ipynb"
    before = snapshot(ROOT)
    stray = Path("/tmp/results.json")
    stray_before = stray.exists() and stray.stat().st_mtime_ns
    shm_before = sorted(os.listdir("/dev/shm"))
    sandboxes_before = set(sandbox_processes(""))  # another grading on this machine is not this one's
    scratch = tmp_path / "tmp"  # the grader's temporary folder: it must be empty again afterwards
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "dlgrade", "grade", str(submission), "--exercise", "ch04_xor",
         "--out", str(out), "--call-timeout", "10", "--startup-timeout", "30"],
        capture_output=True, text=True, timeout=400, env=dict(os.environ, TMPDIR=str(scratch)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "\x1b" not in done.stdout and PRINTED.get(name, "") in done.stdout
    assert "LEAKED" not in done.stdout and "BEGIN SOLUTION" not in done.stdout
    assert list(scratch.iterdir()) == [] and sorted(os.listdir("/dev/shm")) == shm_before
    raw = (out / "results.json").read_bytes()
    results = json.loads(raw.decode("utf-8", errors="strict"))
    text = json.dumps(results, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate: any JSON reader and the gradebook can take it
    assert results["extra_data"]["exercise"] == "ch04_xor"
    assert results["max_score"] == FULL_MARKS and len(results["tests"]) == 11
    assert results["score"] <= max_allowed, f"{name} earned {results['score']}"
    assert expected_text in text, f"{name}: {expected_text!r} not in results: {text[:3000]}"
    assert "LEAKED" not in text and "BEGIN SOLUTION" not in text and "def test_" not in text
    assert len(text) < 200_000
    assert snapshot(ROOT) == before, "grading changed files outside its output folder"
    assert (stray.exists() and stray.stat().st_mtime_ns) == stray_before
    assert set(sandbox_processes(results["extra_data"]["isolation"])) - sandboxes_before == set()
    assert sorted(p.name for p in out.iterdir()) == ["feedback.html", "results.json"]
    page = (out / "feedback.html").read_text(encoding="ascii")
    assert "LEAKED" not in page and "<script" not in page
