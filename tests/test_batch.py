"""Grading a class: 40 generated ch04_xor submissions (correct, partly wrong, broken, hostile) graded with
two jobs, killed midway, resumed; the gradebook ends with exactly one result per submission and the CSV
export matches it."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlgrade.collect import collect_submissions
from dlgrade.exercise import load_exercise
from dlgrade.gradebook import Submission, TestResult, open_gradebook
from dlgrade.mutants import load_patches, write_patched

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
BROKEN = ["not_json", "syntax_error", "missing_function", "empty_graded_cells", "returns_nan",
          "wrong_shapes_and_types", "other_exercise", "exception_at_import", "always_equal", "sys_exit"]
ATTACKS = ["os_exit", "fork_bomb", "memory_bomb", "read_hidden", "fake_results", "kill_parent", "network",
           "monkeypatch", "huge_output", "infinite_loop_at_top_level"]
TIMEOUTS = ["--call-timeout", "10", "--startup-timeout", "30"]


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory) -> Path:
    """40 student folders: 10 correct, 10 mutants, 10 broken, 10 hostile."""
    exercise = load_exercise("ch04_xor")
    folder = tmp_path_factory.mktemp("class")
    for index in range(10):
        student = folder / f"correct{index:02d}"
        student.mkdir()
        shutil.copy(exercise.solution, student / exercise.notebook)
    mutants = load_patches(exercise.folder / "mutants")
    for index in range(10):
        write_patched(exercise=exercise, patch=mutants[index % len(mutants)], out_dir=folder / f"mutant{index:02d}")
    for prefix, names in (("broken", BROKEN), ("hostile", ATTACKS)):
        for name in names:
            student = folder / f"{prefix}-{name}"
            student.mkdir()
            shutil.copy(HOSTILE / f"{name}.ipynb", student / exercise.notebook)
    return folder


def batch(folder: Path, gradebook: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dlgrade", "grade", str(folder), "--exercise", "ch04_xor",
                             "--gradebook", str(gradebook), "--out", str(out), "--jobs", "2", *TIMEOUTS, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def graded_count(gradebook: Path) -> int:
    if not gradebook.exists():
        return 0
    with Session(open_gradebook(gradebook)) as session:
        return session.scalar(select(func.count(Submission.id)))


def test_collects_every_student(class_folder):
    found = collect_submissions(paths=[class_folder], exercise=load_exercise("ch04_xor"), scratch=class_folder)
    assert len(found) == 40 and len({f.student for f in found}) == 40


def test_killed_batch_resumes_and_keeps_one_result_per_submission(class_folder, tmp_path):
    gradebook, out = tmp_path / "grades.sqlite", tmp_path / "out"
    first = batch(class_folder, gradebook, out)
    deadline = time.monotonic() + 600
    while graded_count(gradebook) < 6 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    partial = graded_count(gradebook)
    assert 6 <= partial < 40, f"{partial} graded before the kill"
    time.sleep(2)  # gradings orphaned by the kill end with their parent (PR_SET_PDEATHSIG)

    second = batch(class_folder, gradebook, out)
    output, _ = second.communicate(timeout=1800)
    assert second.returncode == 0, output[-3000:]
    assert f"40 submissions: {40 - partial} graded, {partial} already in the gradebook, 0 failed" in output

    with Session(open_gradebook(gradebook)) as session:
        submissions = session.scalars(select(Submission)).all()
        assert sorted(s.student_id for s in submissions) == sorted(p.name for p in class_folder.iterdir())
        assert all(len(s.tests) == 11 for s in submissions)
        scores = {s.student_id: s.score for s in submissions}
        assert session.scalar(select(func.count(TestResult.id))) == 40 * 11
    assert all(scores[f"correct{i:02d}"] == 16 for i in range(10))
    assert all(scores[f"mutant{i:02d}"] < 16 for i in range(10))
    assert all(scores[f"hostile-{name}"] < 16 for name in ATTACKS)

    rerun = batch(class_folder, gradebook, out)
    output, _ = rerun.communicate(timeout=600)
    assert "0 graded, 40 already in the gradebook" in output
    assert graded_count(gradebook) == 40

    csv_path = tmp_path / "grades.csv"
    subprocess.run([sys.executable, "-m", "dlgrade", "export", "--gradebook", str(gradebook), str(csv_path),
                    "--detail"], check=True, capture_output=True)
    with open(csv_path) as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert float(rows.pop("Points Possible")["ch04_xor"]) == 16 + 3  # 3 points of manual questions, none graded yet
    assert {student: float(row["ch04_xor"]) for student, row in rows.items()} == scores
    for student, row in rows.items():
        results = json.loads((out / student / "results.json").read_text())
        assert float(row["ch04_xor:raw"]) == results["score"]


def demo_class(tmp_path: Path, students: int) -> tuple[Path, list[str], dict]:
    """A class of demo-course submissions (fast to grade) and the batch command and environment for it."""
    course = ROOT / "tests" / "course"
    folder = tmp_path / "class"
    for index in range(students):
        (folder / f"student{index}").mkdir(parents=True)
        shutil.copy(course / "solutions" / "demo" / "demo.ipynb", folder / f"student{index}" / "demo.ipynb")
    command = [sys.executable, "-m", "dlgrade", "grade", str(folder), "--exercise", "demo", "--gradebook",
               str(tmp_path / "grades.sqlite"), "--out", str(tmp_path / "out")]
    return folder, command, dict(os.environ, DLGRADE_COURSE_ROOT=str(course))


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path):
    folder, command, env = demo_class(tmp_path, 8)
    command += ["--jobs", "2"]
    gradebook = tmp_path / "grades.sqlite"
    # Ctrl-C as at a terminal, even when the suite runs in the background (where SIGINT is inherited ignored)
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while graded_count(gradebook) < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 130 and "stopped: run the same command again" in output, output[-2000:]
    stopped_at = graded_count(gradebook)
    assert 1 <= stopped_at < 8
    leftovers = subprocess.run(["pgrep", "-f", f"dlgrade grade .*{folder}"], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0 and f"{8 - stopped_at} graded, {stopped_at} already in the gradebook" in second.stdout
    assert graded_count(gradebook) == 8


def test_regrade_all_or_one_student(tmp_path):
    _, command, env = demo_class(tmp_path, 2)

    def run(*extra):
        done = subprocess.run([*command, *extra], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    assert "2 graded, 0 already in the gradebook" in run()
    extra = json.loads((tmp_path / "out" / "student0" / "results.json").read_text())["extra_data"]
    assert (extra["submitted_at"], extra["time_source"]) == (None, "none: on time")  # a plain folder: no mtimes
    assert "0 graded, 2 already in the gradebook" in run()
    assert "1 graded, 1 already in the gradebook" in run("--regrade-student", "student1")
    unknown = subprocess.run([*command, "--regrade-student", "studnet1"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert unknown.returncode == 2 and "no student studnet1 in the gradebook; did you mean student1" in unknown.stderr
    assert "2 graded, 0 already in the gradebook" in run("--regrade", "--submitted-at", "2026-12-03T09:00+01:00")
    extra = json.loads((tmp_path / "out" / "student1" / "results.json").read_text())["extra_data"]
    assert (extra["submitted_at"], extra["time_source"]) == ("2026-12-03T08:00:00+00:00", "--submitted-at")
    assert graded_count(tmp_path / "grades.sqlite") == 2


def test_each_grading_of_a_batch_names_its_student_on_the_feedback_page(tmp_path, monkeypatch):
    from dlgrade import batch
    from dlgrade.collect import FoundSubmission

    started = []

    class Refused(Exception):
        pass

    def popen(command, **_):
        started.append(command)
        raise Refused

    monkeypatch.setattr(batch.subprocess, "Popen", popen)
    runner = batch._Runner(exercise=load_exercise("ch04_xor"), out_root=tmp_path, extra_args=[])
    item = FoundSubmission(student="-bob smith", path=tmp_path / "submitted" / "ch04_xor", submitted_at=None,
                           content_hash="")
    with pytest.raises(Refused):
        runner.grade(item)
    assert "--student=-bob smith" in started[0]  # one argument: a name starting with '-' is not an option
