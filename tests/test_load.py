"""Scores do not depend on the machine's load (issue 12): time budgets are charged CPU time (or wall time less the
sandbox's waits for a CPU), a wait the machine was too busy to time is retried once and otherwise not judged,
never failed; not judged and partial checks are labelled so in every report."""
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlgrade.exercise import load_exercise
from dlgrade.mutants import load_patches, write_patched
from dlgrade.proxy import Student, StudentSession
from dlgrade.reference import RecordingReference
from dlgrade.sandbox.limits import SandboxLimits
from dlgrade.sandbox.spawn import GraderOverloaded, SandboxTimeout

CORES = len(os.sched_getaffinity(0))
CELLS = [{"id": "answer", "role": "graded", "source": '''
import time

def spin(seconds):
    """Computes for this many seconds of CPU time."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds

def nap(seconds):
    time.sleep(seconds)
    return seconds
'''}]


@contextlib.contextmanager
def cpu_hogs(count: int = 3 * CORES):
    """``count`` busy processes (6 on the 2-core machine), killed however the block ends. Each in a session of
    its own: with the kernel's autogroup scheduling (on by default) the CPU is shared between sessions first, so
    hogs in the test's one session would take no more than one share from the sandbox (its own session)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def session_with(tmp_path: Path, **limits) -> StudentSession:
    submission = tmp_path / "submission"
    submission.mkdir()
    session = StudentSession(submission=submission, cells=CELLS, limits=SandboxLimits(**limits))
    session.start()
    return session


def test_an_honest_ch04_variant_keeps_its_idle_score_next_to_cpu_hogs(tmp_path):
    """The observation of issue 12: eager_operators earned 13/16 at load 8, full marks when the machine was idle."""
    exercise = load_exercise("ch04_xor")
    variant = next(p for p in load_patches(exercise.folder / "variants") if p.name == "eager_operators")
    notebook = write_patched(exercise=exercise, patch=variant, out_dir=tmp_path / "variant")
    with cpu_hogs():
        done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(notebook), "--exercise", "ch04_xor",
                               "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    failed = {t["name"]: t["output"] for t in results["tests"] if t["status"] != "passed"}
    assert results["score"] == results["max_score"] and not failed, failed


def test_a_call_is_charged_cpu_time_whatever_the_load(tmp_path):
    session = session_with(tmp_path, call_timeout_s=3)
    student = Student(session)
    try:
        with cpu_hogs():
            assert student.spin(2) == 2  # about 8 s on the clock next to the hogs: over 3 s of wall time
        with pytest.raises(SandboxTimeout, match=r"`spin`\(...\) did not finish within 3 s of CPU time"):
            student.spin(1000)
        with pytest.raises(SandboxTimeout, match=r"`nap`\(...\) did not finish within 3 s and was stopped: it used "
                                                 r"0\.\d s of CPU time and spent the rest waiting"):
            student.nap(1000)
        assert student.nap(0) == 0 and session.restarts == 2
    finally:
        session.close()


def test_a_wait_the_machine_was_too_busy_to_time_is_not_judged_and_costs_no_restart(tmp_path):
    """With the backstop at the budget itself, a hog-starved call passes it long before its CPU time."""
    session = session_with(tmp_path, call_timeout_s=3, backstop_factor=1.0, max_restarts=0)
    student = Student(session)
    try:
        with cpu_hogs(), pytest.raises(GraderOverloaded, match=r"not judged: the grader was overloaded \(`spin`"):
            student.spin(2.9)
        assert student.spin(0.1) == 0.1 and session.restarts == 0
    finally:
        session.close()


LABEL_TESTS = '''
import pytest

from dlgrade.judged import NotJudged
from dlgrade.sandbox.spawn import GraderOverloaded

attempts = []


def test_passes(student):
    """a passing check"""
    assert student.add(2, 3) == 5


@pytest.mark.points(2)
def test_partial(student, credit):
    """a third of the credit"""
    credit.give(1 / 3, "one of three parts")


@pytest.mark.points(3)
def test_cannot_run(student):
    """a check the grader cannot run"""
    raise NotJudged("the grader has no reference answer for this check")


def test_overloaded_once(student):
    """overloaded on its first run only"""
    attempts.append(1)
    if len(attempts) == 1:
        raise GraderOverloaded("not judged: the grader was overloaded (a test's own stand-in)")
    assert student.add(1, 1) == 2
'''


def write_course(root: Path, exercise_id: str, *, tests: str) -> Path:
    """A one-exercise course (solution, template, public tests); returns the solution notebook."""
    folder = root / "autograder" / "exercises" / exercise_id
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text(f'title = "{exercise_id}"\nnotebook = "{exercise_id}.ipynb"\n'
                                          'graded_cells = ["answer"]\n')
    (folder / "test_public.py").write_text(tests)
    for kind, source in (("solutions", "def add(a, b):\n    return a + b\n"), ("assignments", "add = None\n")):
        cell = nbformat.v4.new_code_cell(source, metadata={"dlgrade": {"id": "answer", "role": "graded"}})
        notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"dlgrade": {"exercise": exercise_id}})
        (root / kind / exercise_id).mkdir(parents=True)
        nbformat.write(notebook, root / kind / exercise_id / f"{exercise_id}.ipynb")
    return root / "solutions" / exercise_id / f"{exercise_id}.ipynb"


def dlgrade(*args: str, root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(root), COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "dlgrade", *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_not_judged_and_partial_are_labelled_everywhere_and_a_batch_regrades_them(tmp_path):
    root = tmp_path / "course"
    solution = write_course(root, "labels", tests=LABEL_TESTS)
    printed = dlgrade("grade", str(solution), "--exercise", "labels", "--out", str(tmp_path / "out"), root=root).stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    outcomes = {t["extra_data"]["test_id"].split("::")[-1]: t for t in results["tests"]}
    assert {name: t["extra_data"]["outcome"] for name, t in outcomes.items()} == {
        "test_passes": "passed", "test_partial": "partial", "test_cannot_run": "not judged",
        "test_overloaded_once": "passed"}
    assert {t["status"] for t in results["tests"]} == {"passed", "failed"}  # what Gradescope knows
    assert outcomes["test_cannot_run"]["output"] == "not judged: the grader has no reference answer for this check"
    assert results["score"] == pytest.approx(1 + 2 / 3 + 1, abs=1e-4) and results["max_score"] == 7
    assert results["extra_data"]["not_judged_points"] == 3
    assert "0.67/2" in printed and "partial" in printed and "not judged" in printed
    assert "total 2.6667/4 judged, 3 points not judged" in printed
    page = (tmp_path / "out" / "feedback.html").read_text()
    assert 'class="check not-judged"' in page and 'class="check partial"' in page and "0.67/2" in page
    assert "3 points not judged" in page

    class_folder = tmp_path / "class"
    (class_folder / "ana").mkdir(parents=True)
    nbformat.write(nbformat.read(solution, as_version=4), class_folder / "ana" / "labels.ipynb")
    batch = ["grade", str(class_folder), "--exercise", "labels", "--gradebook", str(tmp_path / "grades.sqlite"),
             "--out", str(tmp_path / "class-out")]
    first = dlgrade(*batch, root=root).stdout
    assert "1 recorded with checks not judged" in first and "ana: 3 points not judged" in first
    again = dlgrade(*batch, root=root).stdout
    assert "1 graded, 0 already in the gradebook" in again  # not judged is never taken for graded


def test_a_bundle_without_a_reference_answer_leaves_that_check_not_judged(tmp_path):
    """``dlgrade check`` on a student's machine: the bundle recorded add's answer but not mul's."""
    root = tmp_path / "course"
    tests = ('def test_add(student, reference):\n    """add"""\n    assert student.add(2, 3) == reference.add(2, 3)\n'
             '\n\ndef test_mul(student, reference):\n    """mul"""\n    assert student.add(2, 3) == reference.mul(2, 3)\n')
    solution = write_course(root, "bundled", tests=tests)
    checks = tmp_path / "release" / "checks"
    checks.mkdir(parents=True)
    (checks / "exercise.toml").write_text('id = "bundled"\ntitle = "bundled"\nnotebook = "bundled.ipynb"\n'
                                          'graded_cells = ["answer"]\n')
    (checks / "test_public.py").write_text(tests)
    recording = RecordingReference(type("Solution", (), {"add": staticmethod(lambda a, b: a + b)}))
    assert recording.add(2, 3) == 5
    recording.save(checks / "reference_answers.dlg")
    printed = dlgrade("check", str(solution), "--checks", str(checks), root=root).stdout
    assert "not judged" in printed and "total 1/1 judged, 1 point not judged" in printed
    assert "grader's reference answer for mul" in printed
