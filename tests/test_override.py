"""Per-student overrides and extensions: stored with who, when and why, kept as a history, used by every
export (the override's points count; --detail shows the graded score beside it). No grading needed."""
import csv
import getpass
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlgrade import export
from dlgrade.exercise import LatePolicy
from dlgrade.export import export_grades
from dlgrade.gradebook import Override, open_gradebook, record
from dlgrade.overrides import latest_overrides, set_override
from dlgrade.roster import UnknownStudent
from tiny_course import graded_results as results

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)


@pytest.fixture
def gradebook(tmp_path, monkeypatch) -> Path:
    """ada two days late (0 points under the zero policy), bob on time with 10, both of ch04_xor."""
    monkeypatch.setattr(export, "load_exercise",
                        lambda exercise: SimpleNamespace(late_policy=LatePolicy(DUE, "zero"), manual={}))
    path = tmp_path / "grades.sqlite"
    with Session(open_gradebook(path)) as session:
        record(session, student="ada", exercise="ch04_xor", content_hash="a", submitted_at=DUE + timedelta(days=2),
               results=results(14), time_source="nbgrader timestamp.txt")
        record(session, student="bob", exercise="ch04_xor", content_hash="b", submitted_at=DUE - timedelta(days=1),
               results=results(10), time_source="nbgrader timestamp.txt")
    return path


def exported(gradebook: Path, out: Path) -> dict[str, dict]:
    export_grades(gradebook=gradebook, out_csv=out, detail=True)
    with open(out, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_an_extension_makes_a_late_submission_on_time(gradebook, tmp_path):
    assert exported(gradebook, tmp_path / "before.csv")["ada"]["ch04_xor"] == "0.0"
    with Session(open_gradebook(gradebook)) as session:
        set_override(session, student="ada", exercise="ch04_xor", due=DUE + timedelta(days=3), note="illness")
    ada = exported(gradebook, tmp_path / "after.csv")["ada"]
    assert (ada["ch04_xor"], ada["ch04_xor:days_late"], ada["ch04_xor:status"]) == ("14.0", "0", "graded")
    assert ada["ch04_xor:override_due"] == "2026-12-04T23:59:00+00:00" and ada["ch04_xor:override_note"] == "illness"


def test_points_replace_the_score_and_detail_keeps_the_original(gradebook, tmp_path):
    with Session(open_gradebook(gradebook)) as session:
        set_override(session, student="bob", exercise="ch04_xor", points=12.5, note="regraded by hand", by="prof")
    bob = exported(gradebook, tmp_path / "grades.csv")["bob"]
    assert (bob["ch04_xor"], bob["ch04_xor:status"], bob["ch04_xor:graded"], bob["ch04_xor:raw"]) == \
        ("12.5", "override", "10.0", "10.0")
    assert (bob["ch04_xor:override_points"], bob["ch04_xor:override_by"]) == ("12.5", "prof")
    assert bob["ch04_xor:override_at"].startswith(str(datetime.now(timezone.utc).year))
    export_grades(gradebook=gradebook, out_csv=tmp_path / "canvas.csv", format="canvas")
    with open(tmp_path / "canvas.csv", newline="") as handle:
        assert [row[-1] for row in csv.reader(handle)][2:] == ["0.0", "12.5"]  # ada (late), bob (override)


def test_every_override_is_kept_and_the_latest_keeps_what_it_does_not_change(gradebook):
    with Session(open_gradebook(gradebook)) as session:
        set_override(session, student="ada", exercise="ch04_xor", points=8, note="partial credit")
        latest = set_override(session, student="ada", exercise="ch04_xor", due=DUE + timedelta(days=5), note="ext")
        assert (latest.points, latest.note, latest.by) == (8, "ext", getpass.getuser())
        assert session.scalar(select(func.count(Override.id))) == 2
        assert latest_overrides(session)[("ada", "ch04_xor")].id == latest.id


@pytest.mark.parametrize("change, error, message", [
    ({"student": "adda", "points": 1, "note": "x"}, UnknownStudent, "no student adda .*did you mean ada"),
    ({"student": "ada", "note": "x"}, ValueError, "--points and/or --due"),
    ({"student": "ada", "points": -1, "note": "x"}, ValueError, "0 or more"),
    ({"student": "ada", "points": 1, "note": " "}, ValueError, "--note"),
])
def test_bad_overrides_are_refused(gradebook, change, error, message):
    with Session(open_gradebook(gradebook)) as session, pytest.raises(error, match=message):
        set_override(session, exercise="ch04_xor", **change)


def test_cli_override(gradebook):
    def dlgrade(*args):
        return subprocess.run([sys.executable, "-m", "dlgrade", "override", *args, "--gradebook", str(gradebook)],
                              capture_output=True, text=True, timeout=120)

    done = dlgrade("ada", "ch04_xor", "--due", "2026-12-05T12:00:00-05:00", "--note", "family emergency")
    assert done.returncode == 0 and "ada ch04_xor: points as graded, due 2026-12-05T17:00:00" in done.stdout
    unknown = dlgrade("adaa", "ch04_xor", "--points", "3", "--note", "x")
    assert unknown.returncode == 2 and "did you mean ada" in unknown.stderr
    no_exercise = dlgrade("ada", "ch99_nope", "--points", "3", "--note", "x")
    assert no_exercise.returncode == 2 and "unknown exercise 'ch99_nope'" in no_exercise.stderr
