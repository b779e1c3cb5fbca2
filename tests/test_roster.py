"""The roster: import, aliases, closest names for unknown ones, and exports that list every rostered student
(in dlgrade's CSV and in Canvas's and Moodle's import CSVs). No grading needed: the gradebook is filled
directly."""
import csv
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dlgrade.batch import BatchSummary, _given_times, _on_roster
from dlgrade.collect import FoundSubmission
from dlgrade.export import export_grades
from dlgrade.gradebook import Student, open_gradebook, record
from dlgrade.roster import UnknownStudent, import_roster, known_student, roster
from tiny_course import graded_results as results

ROSTER = """id,name,email,lms_id,section,aliases
s001,Ada Lovelace,ada@uni.edu,1001,Mon,ada_l;gs-ada@uni.edu
s002,Bob Byron,bob@uni.edu,1002,Tue,
s003,Cy Cole,cy@uni.edu,1003,Tue,
"""
WHEN = datetime(2026, 11, 30, tzinfo=timezone.utc)


@pytest.fixture
def gradebook(tmp_path) -> Path:
    """A gradebook with the three-student roster; Ada and Bob graded, Cy missing."""
    path, roster_csv = tmp_path / "grades.sqlite", tmp_path / "students.csv"
    roster_csv.write_text(ROSTER)
    with Session(open_gradebook(path)) as session:
        assert import_roster(session, roster_csv=roster_csv) == 3
        record(session, student="s001", exercise="ch04_xor", content_hash="a", submitted_at=WHEN, results=results(16))
        record(session, student="s002", exercise="ch04_xor", content_hash="b", submitted_at=None, results=results(7.5))
    return path


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_import_keeps_names_emails_lms_ids_and_aliases(gradebook, tmp_path):
    with Session(open_gradebook(gradebook)) as session:
        assert [s.id for s in roster(session)] == ["s001", "s002", "s003"]
        ada = session.get(Student, "s001")
        assert (ada.name, ada.email, ada.lms_id, ada.section) == ("Ada Lovelace", "ada@uni.edu", "1001", "Mon")
        assert [known_student(session, name) for name in ("s001", "ada@uni.edu", "ada_l", "gs-ada@uni.edu")] == \
            ["s001"] * 4
        (tmp_path / "again.csv").write_text("id,email\ns002,bob.byron@uni.edu\n")
        import_roster(session, roster_csv=tmp_path / "again.csv")
        assert session.get(Student, "s002").name == "Bob Byron"  # kept: the new file has no name column
        assert known_student(session, "bob.byron@uni.edu") == "s002"


@pytest.mark.parametrize("content, message", [
    ("name,email\nAda,ada@uni.edu\n", "at least id"),
    ("id,mail\ns1,x\n", "unknown column.*mail"),
    ("id,name\n,Ada\n", "students.csv:2: the id is empty"),
    ("id,aliases\ns1,ada\ns2,ada\n", "students.csv:3: alias ada already names s1"),
])
def test_a_roster_that_cannot_be_read_says_where(tmp_path, content, message):
    (tmp_path / "students.csv").write_text(content)
    with Session(open_gradebook(tmp_path / "grades.sqlite")) as session, pytest.raises(ValueError, match=message):
        import_roster(session, roster_csv=tmp_path / "students.csv")


def test_an_unknown_name_lists_the_closest_roster_names(gradebook):
    with Session(open_gradebook(gradebook)) as session, pytest.raises(UnknownStudent) as raised:
        known_student(session, "ada@uni.ed")
    assert str(raised.value).startswith("no student ada@uni.ed in the gradebook; did you mean ada@uni.edu")


def test_collected_names_become_roster_ids_and_strangers_are_listed(gradebook):
    found = [FoundSubmission(name, Path(name), None, "h") for name in ("gs-ada@uni.edu", "s002", "s0003")]
    summary = BatchSummary()
    with Session(open_gradebook(gradebook)) as session:
        placed = _on_roster(session, found, summary)
        assert [item.student for item in placed] == ["s001", "s002", "s0003"]
        assert "s003" in summary.not_on_roster["s0003"]
        times = {"ada@uni.edu": WHEN, "s0003": WHEN}
        timed = _given_times(session, placed, submitted_at=None, times=times, times_source="times CSV t.csv")
        assert [(item.submitted_at, item.time_source) for item in timed] == \
            [(WHEN, "times CSV t.csv"), (None, None), (WHEN, "times CSV t.csv")]
        everyone = _given_times(session, placed, submitted_at=WHEN, times=None, times_source="")
        assert {(item.submitted_at, item.time_source) for item in everyone} == {(WHEN, "--submitted-at")}
        with pytest.raises(UnknownStudent, match="no student s009 .*did you mean"):
            _given_times(session, placed, submitted_at=None, times={"s009": WHEN}, times_source="t")


def test_export_lists_every_rostered_student_with_a_points_possible_row(gradebook, tmp_path):
    assert export_grades(gradebook=gradebook, out_csv=tmp_path / "grades.csv", detail=True) == 3
    header, possible, *rows = rows_of(tmp_path / "grades.csv")
    column = {name: index for index, name in enumerate(header)}
    assert header[:5] == ["student", "name", "email", "lms_id", "ch04_xor"]
    # 16 graded automatically and ch04_xor's 3 points of questions graded by hand
    assert (possible[0], possible[column["ch04_xor"]]) == ("Points Possible", "19.0")
    by_id = {row[0]: row for row in rows}
    assert [by_id[s][column["ch04_xor"]] for s in ("s001", "s002", "s003")] == ["16.0", "7.5", "0.0"]
    assert [by_id[s][column["ch04_xor:status"]] for s in ("s001", "s002", "s003")] == ["graded", "graded", "missing"]
    assert by_id["s003"][column["name"]] == "Cy Cole"


def test_canvas_csv_has_canvas_columns_and_points_possible_row(gradebook, tmp_path):
    # Canvas's import guide's example: Student,ID,SIS User ID,SIS Login ID,Section,<assignment>... then a
    # "Points Possible" row with the assignments' points.
    export_grades(gradebook=gradebook, out_csv=tmp_path / "canvas.csv", format="canvas")
    assert rows_of(tmp_path / "canvas.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch04_xor"],
        ["Points Possible", "", "", "", "", "19.0"],  # with ch04_xor's 3 points graded by hand
        ["Ada Lovelace", "1001", "s001", "ada@uni.edu", "Mon", "16.0"],
        ["Bob Byron", "1002", "s002", "bob@uni.edu", "Tue", "7.5"],
        ["Cy Cole", "1003", "s003", "cy@uni.edu", "Tue", "0.0"],
    ]


def test_moodle_csv_matches_the_shape_of_moodles_own_import_example(gradebook, tmp_path):
    # Moodle's grade/tests/fixtures/grade_import.csv: "First name,Last name,Email address,Manual item 1" with one
    # row per user; the user column is picked at import ("Map from": Email address or ID number).
    export_grades(gradebook=gradebook, out_csv=tmp_path / "moodle.csv", format="moodle")
    header, *rows = rows_of(tmp_path / "moodle.csv")
    assert header == ["Full name", "ID number", "Email address", "ch04_xor"]
    assert rows == [["Ada Lovelace", "s001", "ada@uni.edu", "16.0"], ["Bob Byron", "s002", "bob@uni.edu", "7.5"],
                    ["Cy Cole", "s003", "cy@uni.edu", "0.0"]]
    assert all(float(row[3]) >= 0 for row in rows)  # no points-possible row: Moodle would take it for a user


def test_cli_roster_import_and_export_format(tmp_path):
    (tmp_path / "students.csv").write_text(ROSTER)
    gradebook = tmp_path / "grades.sqlite"
    done = dlgrade("roster", "import", str(tmp_path / "students.csv"), "--gradebook", str(gradebook))
    assert done.returncode == 0 and "3 students on the roster" in done.stdout
    with Session(open_gradebook(gradebook)) as session:
        record(session, student="s001", exercise="ch04_xor", content_hash="a", submitted_at=WHEN, results=results(16))
    done = dlgrade("export", "--gradebook", str(gradebook), str(tmp_path / "c.csv"), "--format", "canvas")
    assert done.returncode == 0 and "3 students written" in done.stdout
    refused = dlgrade("export", "--gradebook", str(gradebook), str(tmp_path / "c.csv"), "--format", "moodle",
                      "--detail")
    assert refused.returncode == 2 and "--detail is for dlgrade's own format" in refused.stderr


def dlgrade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlgrade", *args], capture_output=True, text=True, timeout=120)


def test_a_grade_recorded_under_an_alias_before_the_roster_counts_for_the_rostered_student(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    with Session(open_gradebook(gradebook)) as session:
        record(session, student="gs-ada@uni.edu", exercise="ch04_xor", content_hash="a", submitted_at=WHEN,
               results=results(11))
        (tmp_path / "students.csv").write_text(ROSTER)
        import_roster(session, roster_csv=tmp_path / "students.csv")
        assert known_student(session, "gs-ada@uni.edu") == "s001"
    export_grades(gradebook=gradebook, out_csv=tmp_path / "grades.csv")
    _, _, *rows = rows_of(tmp_path / "grades.csv")
    assert [(row[0], row[4]) for row in rows] == [("s001", "11.0"), ("s002", "0.0"), ("s003", "0.0")]
