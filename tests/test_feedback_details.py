"""What the feedback page and results.json tell beyond pass/fail: whose work, which exercise, when and by which
grader (escaped), and what a check measured, also when it passed."""
import html
import json
import os
import re
import subprocess
import sys

from tiny_course import write_exercise

from dlgrade import __version__

TESTS = '''
import pytest


def test_accuracy(student, feedback):
    """accuracy on held-out data reaches 0.9"""
    feedback.report_measured("accuracy on held-out data", student.accuracy, 0.9)
    assert student.accuracy >= 0.9, "accuracy too low"


@pytest.mark.points(2)
def test_rmse(student, feedback):
    """RMSE on held-out data stays under 75"""
    feedback.report_measured("RMSE on held-out data", float("nan"), 75, lower_is_better=True)
    assert False, "the RMSE is not a number"
'''


def grade(root, out, *extra):
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(root))
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "solutions" / "m" / "m.ipynb"),
                           "--exercise", "m", "--out", str(out), *extra], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "results.json").read_text()), (out / "feedback.html").read_text(), done.stdout


def test_measured_values_name_and_time_on_the_page(tmp_path):
    write_exercise(tmp_path, "m", answer="accuracy = 0.9312\n", tests=TESTS)
    results, page, printed = grade(tmp_path, tmp_path / "out", "--student", "Zoë <b>&</b> co")
    passed, failed = results["tests"]
    assert passed["status"] == "passed"
    assert passed["output"] == "measured accuracy on held-out data: 0.9312 (full marks at least 0.9)"
    assert passed["extra_data"]["measured"] == [{"name": "accuracy on held-out data", "value": 0.9312,
                                                 "threshold": 0.9, "lower_is_better": False}]
    assert failed["output"] == "the RMSE is not a number"  # a check that falls short says it in its own words
    assert failed["extra_data"]["measured"][0]["value"] is None  # JSON has no NaN
    assert html.escape("measured accuracy on held-out data: 0.9312 (full marks at least 0.9)") in page
    assert "measured accuracy on held-out data: 0.9312" in printed  # the table's messages, passed checks too

    assert "<th>Student</th><td>Zo&#235; &lt;b&gt;&amp;&lt;/b&gt; co</td>" in page and "<b>&" not in page
    assert "<th>Exercise</th><td>m</td>" in page
    assert f"<th>Grader</th><td>dlgrade {html.escape(__version__)}</td>" in page
    assert re.search(r"<th>Graded</th><td>20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00</td>", page)


def test_a_single_grading_names_the_submission_and_a_class_refuses_student(tmp_path):
    write_exercise(tmp_path, "m", answer="accuracy = 0.95\n", tests=TESTS)
    _, page, _ = grade(tmp_path, tmp_path / "out")
    assert "<th>Student</th><td>m.ipynb</td>" in page
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(tmp_path))
    refused = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(tmp_path / "solutions"), "--exercise", "m",
                              "--gradebook", str(tmp_path / "g.sqlite"), "--student", "x"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "--student" in refused.stderr


SERIES_OF_PLOTS = """
import json, sys
from pathlib import Path
import dlgrade.grade

drawn = {}
render = dlgrade.grade.render_feedback

def recording_render(*, figures, **options):
    for test_id, made in figures.items():
        for figure in made:
            if figure["kind"] == "lines":
                drawn[test_id.split("::")[-1]] = {k: v.tolist() for k, v in figure["series"].items()}
    return render(figures=figures, **options)

dlgrade.grade.render_feedback = recording_render
dlgrade.grade.grade_submission(submission=Path(sys.argv[1]), exercise="ch04_xor", out_dir=Path(sys.argv[2]),
                               include_hidden=False)
print(json.dumps(drawn))
"""


def test_the_training_plot_shows_the_reference_from_the_same_start(tmp_path):
    from dlgrade.exercise import load_exercise

    done = subprocess.run([sys.executable, "-c", SERIES_OF_PLOTS, str(load_exercise("ch04_xor").solution),
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    series = json.loads(done.stdout.splitlines()[-1])["test_training_loss_decreases"]
    assert set(series) == {"your loss", "reference loss from the same start"}
    yours, reference = series["your loss"], series["reference loss from the same start"]
    assert len(yours) == len(reference) == 100 and abs(yours[0] - reference[0]) < 1e-5  # the reference graded


def test_check_says_what_the_hidden_checks_are_worth(tmp_path):
    from dlgrade.exercise import load_bundle_exercise, load_exercise
    from dlgrade.release import _public_config

    exercise = load_exercise("ch04_xor")
    assert exercise.hidden_points == 7  # 1 + 2 + 1 + 3 in test_hidden.py; the public checks are worth 9 of 16
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "exercise.toml").write_text(_public_config(exercise))
    bundle = load_bundle_exercise(tmp_path / "checks")
    assert not bundle.hidden_tests.exists() and bundle.hidden_points == 7
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check", str(exercise.template)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "total 0/9" in done.stdout
    assert ("public checks only: 0/9; at grading, hidden checks are worth 7 more points (total 16)"
            in " ".join(done.stdout.split()))
