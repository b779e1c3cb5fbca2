"""ch04_xor specifics: its mutants and variants exist, a regrade gives the same results, results.json
follows Gradescope's schema, and the CLI's exit codes. (test_verify.py grades the reference, the
template, the mutants and the variants.)"""
import json
import subprocess
import sys

import pytest

from dlgrade.exercise import load_exercise
from dlgrade.mutants import load_patches
from dlgrade.verify import grade_in_subprocess


def test_there_are_at_least_four_mutants_and_a_variant():
    exercise = load_exercise("ch04_xor")
    assert len(load_patches(exercise.folder / "mutants")) >= 4
    assert all(p.must_fail for p in load_patches(exercise.folder / "mutants"))
    assert load_patches(exercise.folder / "variants")


def test_regrading_gives_identical_results(tmp_path):
    exercise = load_exercise("ch04_xor")
    runs = [grade_in_subprocess(notebook=exercise.solution, exercise_id="ch04_xor", out_dir=tmp_path / str(i))
            for i in range(3)]
    per_test = [[(t["name"], t["score"], t["output"]) for t in run["tests"]] for run in runs]
    assert per_test[0] == per_test[1] == per_test[2]


def test_results_follow_gradescope_schema(tmp_path):
    exercise = load_exercise("ch04_xor")
    results = grade_in_subprocess(notebook=exercise.template, exercise_id="ch04_xor", out_dir=tmp_path)
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], float)
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "visibility", "output"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    visible = {t["visibility"] for t in results["tests"]}
    assert visible == {"visible", "after_published"}


def test_cli_exits_zero_for_a_zero_score_and_nonzero_for_an_unknown_exercise(tmp_path):
    exercise = load_exercise("ch04_xor")
    ok = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(exercise.template), "--exercise", "ch04_xor",
                         "--out", str(tmp_path / "a"), "--public-only"], capture_output=True, text=True)
    assert ok.returncode == 0 and "total 0/9" in ok.stdout
    assert json.loads((tmp_path / "a" / "results.json").read_text())["max_score"] == 9
    bad = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(exercise.template), "--exercise", "ch99_nope",
                          "--out", str(tmp_path / "b")], capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown exercise" in bad.stderr
