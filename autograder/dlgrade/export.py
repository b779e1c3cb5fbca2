"""Grades out of the gradebook: one CSV row per student (every rostered student and everyone graded), one
column per exercise (the autograded score plus the points of the questions graded by hand, late penalties
applied to that total, an override's points in place of it, 0 for a missing submission), a points-possible row
(the exercise's manual points included); with ``detail`` the status, raw (autograded) score, manual points in all
and per question, days late, submission time and its source, the override (points, due, note, who, when) and
every test's score. ``format`` canvas or moodle writes the gradebook-import CSV of that LMS instead
(:mod:`dlgrade.lms`). Text cells that a spreadsheet would take for a formula (OWASP's CSV injection: starting with ``= + - @``, a tab or a carriage return) get a
leading single quote; numbers are written as numbers."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from dlgrade.exercise import LatePolicy, load_exercise
from dlgrade.gradebook import Override, Student, Submission, latest_submissions, manual_scores, open_gradebook
from dlgrade.lms import canvas_table, moodle_table
from dlgrade.overrides import latest_overrides
from dlgrade.roster import resolve, roster

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
POINTS_POSSIBLE = "Points Possible"
FORMATS = {"dlgrade": None, "canvas": canvas_table, "moodle": moodle_table}


def days_late(submitted_at: datetime, due: datetime | None) -> int:
    """Whole days (rounded up) after the due date; 0 when on time or without a due date. A time without a zone
    (as SQLite gives them back) is UTC."""
    if due is None:
        return 0
    submitted, due = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (submitted_at, due))
    return max(0, math.ceil((submitted - due).total_seconds() / 86400))


def csv_cell(value):
    """``value`` as a spreadsheet will read it safely: text that could start a formula is quoted with ``'``."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def apply_late_policy(score: float, *, late_days: int, policy: LatePolicy) -> float:
    """The score after the exercise's late policy: none, zero, or a percentage off per day late."""
    if late_days == 0 or policy.kind == "none":
        return score
    if policy.kind == "zero":
        return 0.0
    return round(max(0.0, score * (1 - policy.percent_per_day / 100 * late_days)), 4)


@dataclass
class Grade:
    """One student's grade for one exercise, as the exports write it."""

    score: float  # what counts: the override's points, else the graded score after the late policy
    status: str  # graded, missing (no submission: 0 points) or override
    submission: Submission | None = None
    late_days: int = 0
    graded: float = 0.0  # the score after the late policy, before an override
    override: Override | None = None
    manual: dict[str, float] = field(default_factory=dict)  # points per question graded by hand


@dataclass
class Gradebook:
    """Everything an export writes: the students (rostered ones first known), exercises and their points."""

    students: list[Student]
    exercises: list[str]
    points_possible: dict[str, float]
    grades: dict[tuple[str, str], Grade] = field(default_factory=dict)
    manual_questions: dict[str, list[str]] = field(default_factory=dict)  # exercise -> questions graded by hand


def _due(override: Override | None, policy: LatePolicy) -> datetime | None:
    return override.due if override is not None and override.due is not None else policy.due


def collect_grades(session: Session) -> Gradebook:
    """Every rostered or graded student's grade for every graded exercise; a rostered student without a
    submission is missing (0 points) unless an override gives points."""
    submissions = {}  # graded under an alias before the roster named it: the roster's student, latest counts
    for submission in sorted(latest_submissions(session), key=lambda s: (s.submitted_at or s.graded_at, s.id)):
        owner = resolve(session, submission.student_id) or submission.student_id
        submissions[(owner, submission.exercise_id)] = submission
    overrides, hand_graded = latest_overrides(session), manual_scores(session)
    exercises = sorted({exercise for _, exercise in submissions})
    points = {e: max(s.max_score for (_, x), s in submissions.items() if x == e) for e in exercises}
    wanted = {student for student, _ in submissions} | {s.id for s in roster(session)}
    students = [session.get(Student, student) for student in sorted(wanted)]
    book = Gradebook(students=students, exercises=exercises, points_possible=points)
    for exercise in exercises:
        config = load_exercise(exercise)
        policy, book.manual_questions[exercise] = config.late_policy, list(config.manual)
        book.points_possible[exercise] += sum(question.points for question in config.manual.values())
        for student in students:
            submission, override = submissions.get((student.id, exercise)), overrides.get((student.id, exercise))
            if submission is None:
                grade = Grade(score=0.0, status="missing", override=override)
            else:
                late = 0 if submission.submitted_at is None else days_late(submission.submitted_at,
                                                                             _due(override, policy))
                manual = {question: points for question, points in hand_graded.get((student.id, exercise), {}).items()
                          if question in config.manual}
                graded = apply_late_policy(submission.score + sum(manual.values()), late_days=late, policy=policy)
                grade = Grade(score=graded, status="graded", submission=submission, late_days=late, graded=graded,
                              override=override, manual=manual)
            if override is not None and override.points is not None:
                grade.score, grade.status = override.points, "override"
            book.grades[(student.id, exercise)] = grade
    return book


def _detail(grade: Grade, exercise: str, *, questions: list[str]) -> dict:
    submission, override = grade.submission, grade.override
    row = {f"{exercise}:status": grade.status, f"{exercise}:graded": grade.graded if submission else "",
           f"{exercise}:raw": submission.score if submission else "",
           f"{exercise}:days_late": grade.late_days if submission else "",
           f"{exercise}:submitted_at": _time(submission.submitted_at) if submission else "",
           f"{exercise}:time_source": (submission.time_source or "none: on time") if submission else ""}
    if override is not None:
        row |= {f"{exercise}:override_points": "" if override.points is None else override.points,
                f"{exercise}:override_due": _time(override.due), f"{exercise}:override_note": override.note,
                f"{exercise}:override_by": override.by, f"{exercise}:override_at": _time(override.at)}
    if questions:
        row[f"{exercise}:manual"] = sum(grade.manual.values()) if submission else ""
        row |= {f"{exercise}:manual:{question}": grade.manual.get(question, "") for question in questions}
    for test in submission.tests if submission else ():
        row[f"{exercise}:{test.test_id}"] = test.score
    return row


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.replace(tzinfo=timezone.utc).isoformat()


DETAIL_COLUMNS = ("status", "graded", "raw", "days_late", "submitted_at", "time_source", "override_points",
                  "override_due", "override_note", "override_by", "override_at")


def _dlgrade_table(book: Gradebook, *, detail: bool) -> list[list]:
    """dlgrade's own CSV: student, name, email, lms_id, one column per exercise (and its detail), a
    points-possible row first."""
    columns = ["student", "name", "email", "lms_id"]
    rows = []
    for student in book.students:
        row = {"student": student.id, "name": student.name or "", "email": student.email or "",
               "lms_id": student.lms_id or ""}
        for exercise in book.exercises:
            grade = book.grades[(student.id, exercise)]
            row[exercise] = grade.score
            if detail:
                row |= _detail(grade, exercise, questions=book.manual_questions.get(exercise, []))
        rows.append(row)
    for exercise in book.exercises:
        columns.append(exercise)
        if detail:
            questions = book.manual_questions.get(exercise, [])
            fixed = [f"{exercise}:{name}" for name in DETAIL_COLUMNS]
            if questions:
                fixed += [f"{exercise}:manual", *(f"{exercise}:manual:{question}" for question in questions)]
            columns += fixed
            columns += sorted({key for row in rows for key in row if key.startswith(f"{exercise}:")} - set(fixed))
    possible = {"student": POINTS_POSSIBLE, **book.points_possible}
    return [columns] + [[row.get(column, "") for column in columns] for row in (possible, *rows)]


def export_grades(*, gradebook: Path, out_csv: Path, detail: bool = False, format: str = "dlgrade") -> int:
    """Write the CSV in ``format`` (dlgrade, canvas or moodle); returns the number of students."""
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r} ({', '.join(FORMATS)})")
    if detail and format != "dlgrade":
        raise ValueError("--detail is for dlgrade's own format; an LMS import takes only the grades")
    with Session(open_gradebook(gradebook)) as session:
        book = collect_grades(session)
        table = _dlgrade_table(book, detail=detail) if format == "dlgrade" else FORMATS[format](book)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for row in table:
            writer.writerow([csv_cell(cell) for cell in row])
    return len(book.students)
