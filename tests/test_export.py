"""Late penalties and the CSV export, on a gradebook filled directly (no grading needed)."""
import csv
import sqlite3
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from dlgrade import export
from dlgrade.exercise import LatePolicy
from dlgrade.export import apply_late_policy, csv_cell, days_late, export_grades
from dlgrade.gradebook import Student, latest_submissions, open_gradebook, record
from tiny_course import graded_results as results

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)


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
        possible, *rows = list(csv.DictReader(handle))
    # 16 graded automatically and ch04_xor's 3 points of questions graded by hand
    assert (possible["student"], possible["ch04_xor"]) == ("Points Possible", "19.0")
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
    assert [row[:1] + row[4:] for row in rows] == [
        ["student", "ch04_xor"], ["Points Possible", "19.0"], ["'-bob", "12.5"], ["'=cmd|' /C calc'!A0", "12.5"],
        ["ada", "12.5"]]


@pytest.fixture
def due_zero_if_late(monkeypatch):
    """ch04_xor with a deadline (DUE) and 0 points when late: the course's exercises declare none."""
    monkeypatch.setattr(export, "load_exercise",
                        lambda exercise: SimpleNamespace(late_policy=LatePolicy(DUE, "zero"), manual={}))


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_submission_without_a_time_is_on_time_and_detail_names_each_source(tmp_path, due_zero_if_late):
    gradebook = tmp_path / "grades.sqlite"
    with Session(open_gradebook(gradebook)) as session:
        record(session, student="ada", exercise="ch04_xor", content_hash="a", submitted_at=None, results=results(10))
        record(session, student="bob", exercise="ch04_xor", content_hash="b", submitted_at=DUE + timedelta(hours=2),
               results=results(10), time_source="nbgrader timestamp.txt")
        record(session, student="cy", exercise="ch04_xor", content_hash="c", submitted_at=DUE - timedelta(hours=2),
               results=results(10), time_source="Gradescope :created_at 2026-12-01T13:59:00-08:00")
    export_grades(gradebook=gradebook, out_csv=tmp_path / "grades.csv", detail=True)
    rows = {row["student"]: row for row in read_rows(tmp_path / "grades.csv")}
    assert [rows[s]["ch04_xor"] for s in ("ada", "bob", "cy")] == ["10.0", "0.0", "10.0"]
    assert rows["ada"]["ch04_xor:time_source"] == "none: on time" and rows["ada"]["ch04_xor:submitted_at"] == ""
    assert rows["bob"]["ch04_xor:time_source"] == "nbgrader timestamp.txt"
    assert rows["bob"]["ch04_xor:submitted_at"] == "2026-12-02T01:59:00+00:00"
    assert rows["bob"]["ch04_xor:days_late"] == "1" and rows["bob"]["ch04_xor:raw"] == "10.0"
    assert rows["cy"]["ch04_xor:time_source"].endswith("-08:00")


OLD_SUBMISSIONS = """CREATE TABLE submissions (id INTEGER NOT NULL PRIMARY KEY, student_id VARCHAR(200) NOT NULL,
    exercise_id VARCHAR(100) NOT NULL, content_hash VARCHAR(64) NOT NULL, submitted_at DATETIME NOT NULL,
    graded_at DATETIME NOT NULL, score FLOAT NOT NULL, max_score FLOAT NOT NULL, seconds FLOAT NOT NULL,
    grader_version VARCHAR(40) NOT NULL, output VARCHAR NOT NULL, UNIQUE (student_id, exercise_id, content_hash),
    FOREIGN KEY(student_id) REFERENCES students (id), FOREIGN KEY(exercise_id) REFERENCES exercises (id))"""


def test_an_older_gradebook_gets_the_new_columns_and_takes_submissions_without_a_time(tmp_path):
    gradebook = tmp_path / "old.sqlite"
    with sqlite3.connect(gradebook) as old:
        old.execute("CREATE TABLE students (id VARCHAR(200) PRIMARY KEY)")
        old.execute("CREATE TABLE exercises (id VARCHAR(100) PRIMARY KEY)")
        old.execute(OLD_SUBMISSIONS)
        old.execute("INSERT INTO students VALUES ('ada')")
        old.execute("INSERT INTO exercises VALUES ('ch04_xor')")
        old.execute("INSERT INTO submissions VALUES (1, 'ada', 'ch04_xor', 'a', '2026-11-20 00:00:00.000000', "
                    "'2026-11-21 00:00:00.000000', 12.0, 16.0, 1.0, 'old', '')")
    with Session(open_gradebook(gradebook)) as session:
        assert session.get(Student, "ada").email is None
        record(session, student="bob", exercise="ch04_xor", content_hash="b", submitted_at=None, results=results(9))
        kept = {s.student_id: (s.score, s.submitted_at, s.time_source) for s in latest_submissions(session)}
    assert kept == {"ada": (12.0, datetime(2026, 11, 20), None), "bob": (9.0, None, None)}
    with sqlite3.connect(gradebook) as reopened:
        schema = reopened.execute("SELECT sql FROM sqlite_master WHERE name = 'test_results'").fetchone()[0]
    assert "REFERENCES submissions (id)" in schema.replace('"', "") and "submissions_with" not in schema
