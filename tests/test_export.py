"""Late penalties and the CSV export, on a gradebook filled directly (no grading needed)."""
import csv
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from dlgrade.exercise import LatePolicy
from dlgrade.export import apply_late_policy, csv_cell, days_late, export_grades
from dlgrade.gradebook import latest_submissions, open_gradebook, record

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)


def results(score: float) -> dict:
    return {"score": score, "max_score": 16.0, "execution_time": 1.0, "output": "",
            "extra_data": {"grader_version": "test"},
            "tests": [{"name": "t", "score": score, "max_score": 16.0, "status": "passed", "visibility": "visible",
                       "output": "", "extra_data": {"test_id": "test_public.py::test_t"}}]}


def test_days_late_rounds_up_and_ignores_early_work():
    assert days_late(DUE - timedelta(hours=1), DUE) == 0
    assert days_late(DUE + timedelta(minutes=1), DUE) == 1
    assert days_late(DUE + timedelta(days=2, hours=1), DUE) == 3
    assert days_late(DUE + timedelta(days=9), None) == 0


@pytest.mark.parametrize("policy, late, expected", [
    (LatePolicy(DUE, "none"), 3, 10.0),
    (LatePolicy(DUE, "zero"), 1, 0.0),
    (LatePolicy(DUE, "zero"), 0, 10.0),
    (LatePolicy(DUE, "percent_per_day", 10), 2, 8.0),
    (LatePolicy(DUE, "percent_per_day", 40), 3, 0.0),
])
def test_late_policies(policy, late, expected):
    assert apply_late_policy(10.0, late_days=late, policy=policy) == expected


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown late policy"):
        LatePolicy.from_config({"due": "2026-12-01T23:59:00", "policy": "half"})


def test_gradebook_keeps_one_row_per_version_and_exports_the_latest(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    engine = open_gradebook(gradebook)
    early = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with Session(engine) as session:
        record(session, student="ada", exercise="ch04_xor", content_hash="a1", submitted_at=early, results=results(8))
        record(session, student="ada", exercise="ch04_xor", content_hash="a1", submitted_at=early, results=results(9))
        record(session, student="ada", exercise="ch04_xor", content_hash="a2", submitted_at=early + timedelta(days=1),
               results=results(16))
        record(session, student="bob", exercise="ch04_xor", content_hash="b1", submitted_at=early, results=results(4))
        latest = {s.student_id: s.score for s in latest_submissions(session)}
    assert latest == {"ada": 16, "bob": 4}
    out = tmp_path / "grades.csv"
    assert export_grades(gradebook=gradebook, out_csv=out, detail=True) == 2
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student"], float(r["ch04_xor"])) for r in rows] == [("ada", 16.0), ("bob", 4.0)]
    assert rows[0]["ch04_xor:test_public.py::test_t"] == "16.0" and rows[0]["ch04_xor:days_late"] == "0"


def test_a_time_with_a_utc_offset_keeps_it_in_the_gradebook(tmp_path):
    engine = open_gradebook(tmp_path / "grades.sqlite")
    four_hours_late = (DUE + timedelta(hours=4)).astimezone(timezone(-timedelta(hours=8)))
    with Session(engine) as session:
        record(session, student="ada", exercise="ch04_xor", content_hash="a1", submitted_at=four_hours_late,
               results=results(16))
        stored = latest_submissions(session)[0].submitted_at
    assert stored.replace(tzinfo=timezone.utc) == DUE + timedelta(hours=4)
    assert days_late(stored, DUE) == 1


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"a\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    assert csv_cell(text) == "'" + text
    assert csv_cell("ada@uni.edu") == "ada@uni.edu" and csv_cell(-1.5) == -1.5 and csv_cell(0) == 0


def test_export_neutralises_formulas_in_student_ids_and_keeps_numbers(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    with Session(open_gradebook(gradebook)) as session:
        for student in ("=cmd|' /C calc'!A0", "-bob", "ada"):
            record(session, student=student, exercise="ch04_xor", content_hash="h",
                   submitted_at=DUE - timedelta(days=1), results=results(12.5))
    out = tmp_path / "grades.csv"
    export_grades(gradebook=gradebook, out_csv=out)
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["student", "ch04_xor"], ["'-bob", "12.5"], ["'=cmd|' /C calc'!A0", "12.5"], ["ada", "12.5"]]
