"""The sandbox's copy of a submission is bounded, and ``data/`` is the grader's: what a student sends under
that name (a file, a folder named like a split file) never breaks a grading, and an oversized or deeply
nested submission is a message, with no sandbox folder left behind (graded with the real command)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.exercise import load_exercise
from dlgrade.sandbox.limits import SandboxLimits

ROOT = Path(__file__).resolve().parents[1]


def grade(submission: Path, exercise_id: str, tmp_path: Path) -> dict:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(submission), "--exercise", exercise_id,
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, TMPDIR=str(scratch)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(scratch.iterdir()) == [], "the grading left files in its temporary folder"
    return json.loads((tmp_path / "out" / "results.json").read_text())


def reference_folder(exercise_id: str, folder: Path) -> Path:
    exercise = load_exercise(exercise_id)
    folder.mkdir()
    shutil.copy(exercise.solution, folder / exercise.notebook)
    return folder


@pytest.mark.parametrize("shape", ["sparse_file", "deep_folders"])
def test_an_oversized_submission_is_a_message(shape, tmp_path):
    submission = reference_folder("ch04_xor", tmp_path / "submission")
    if shape == "sparse_file":
        with open(submission / "weights.bin", "wb") as handle:
            handle.truncate(SandboxLimits().submission_bytes * 12)  # 6 GiB that occupy no disk
        expected = "MiB; submit the notebook and the files the exercise asks for"
    else:
        deep = submission / "a"
        for _ in range(40):
            deep = deep / "a"
        deep.mkdir(parents=True)
        expected = "nested more than"
    results = grade(submission, "ch04_xor", tmp_path)
    assert results["score"] == 0 and expected in results["output"]
    assert all(expected in test["output"] for test in results["tests"])


def test_what_the_student_sends_as_data_is_replaced_by_the_student_split(tmp_path):
    submission = reference_folder("ch06_banknotes", tmp_path / "submission")
    (submission / "data").mkdir()
    (submission / "data" / "banknotes.student.npz").mkdir()  # a folder named like the split file
    (submission / "data" / "banknotes.student.npz" / "planted.txt").write_text("not data")
    results = grade(submission, "ch06_banknotes", tmp_path)
    assert results["score"] == results["max_score"], [t["output"] for t in results["tests"] if t["output"]]
    shutil.rmtree(submission / "data")
    (submission / "data").write_text("a file where the data folder goes")
    shutil.rmtree(tmp_path / "out")
    shutil.rmtree(tmp_path / "scratch")
    results = grade(submission, "ch06_banknotes", tmp_path)
    assert results["score"] == results["max_score"], [t["output"] for t in results["tests"] if t["output"]]
