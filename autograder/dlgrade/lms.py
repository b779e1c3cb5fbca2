"""The gradebook-import CSVs of two LMSs, one row per student, one column per exercise.

Canvas ("How do I import grades in the Gradebook?", Canvas Instructor Guide,
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807, and the
layout of Canvas's own gradebook export, which its import reads back): the columns Student, ID, SIS User ID,
SIS Login ID, Section, then one per assignment; a second row "Points Possible" with the assignments' points.
Canvas finds a student by ID (its user id: the roster's lms_id) or SIS User ID (the roster's id); the SIS Login
ID is the roster's e-mail. An assignment column not named like an existing one ("Name (id)") becomes a new
assignment on import.

Moodle (grade import from a CSV file, gradeimport_csv; its own test file grade/tests/fixtures/grade_import.csv
reads ``First name,Last name,Email address,Manual item 1``): any columns, one of them chosen at import as
"Map from" to identify the user (Email address or ID number here), and a column per grade item. Moodle has no
points-possible row (a row that names no user is an error), so none is written.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlgrade.export import Gradebook

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Full name", "ID number", "Email address"]


def canvas_table(book: Gradebook) -> list[list]:
    """Canvas's import CSV: header, "Points Possible" row, one row per student."""
    possible = ["Points Possible", "", "", "", "", *(book.points_possible[e] for e in book.exercises)]
    rows = [[student.name or student.id, student.lms_id or "", student.id, student.email or "",
             student.section or "", *(book.grades[(student.id, e)].score for e in book.exercises)]
            for student in book.students]
    return [[*CANVAS_COLUMNS, *book.exercises], possible, *rows]


def moodle_table(book: Gradebook) -> list[list]:
    """Moodle's grade import CSV: header and one row per student (identified by ID number or e-mail)."""
    rows = [[student.name or student.id, student.id, student.email or "",
             *(book.grades[(student.id, e)].score for e in book.exercises)] for student in book.students]
    return [[*MOODLE_COLUMNS, *book.exercises], *rows]
