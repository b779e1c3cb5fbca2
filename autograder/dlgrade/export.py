"""Grades out of the gradebook: one CSV row per student, one column per exercise (late penalties applied),
and with ``detail`` the raw score, days late and every test's score. Text cells that a spreadsheet would
take for a formula (OWASP's CSV injection: starting with ``= + - @``, a tab or a carriage return) get a
leading single quote; numbers are written as numbers."""
from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from dlgrade.exercise import LatePolicy, load_exercise
from dlgrade.gradebook import latest_submissions, open_gradebook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def days_late(submitted_at: datetime, due: datetime | None) -> int:
    """Whole days (rounded up) after the due date; 0 when on time or without a due date."""
    if due is None:
        return 0
    submitted = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=timezone.utc)
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


def export_grades(*, gradebook: Path, out_csv: Path, detail: bool = False) -> int:
    """Write the CSV; returns the number of students."""
    engine = open_gradebook(gradebook)
    with Session(engine) as session:
        submissions = latest_submissions(session)
        exercises = sorted({s.exercise_id for s in submissions})
        policies = {e: load_exercise(e).late_policy for e in exercises}
        rows: dict[str, dict] = {}
        columns = ["student"]
        for exercise in exercises:
            columns.append(exercise)
            if detail:
                columns += [f"{exercise}:raw", f"{exercise}:max", f"{exercise}:days_late"]
                tests = next(s.tests for s in submissions if s.exercise_id == exercise)
                columns += [f"{exercise}:{t.test_id}" for t in tests]
        for submission in submissions:
            row = rows.setdefault(submission.student_id, {"student": submission.student_id})
            policy = policies[submission.exercise_id]
            late = days_late(submission.submitted_at, policy.due)
            row[submission.exercise_id] = apply_late_policy(submission.score, late_days=late, policy=policy)
            if detail:
                row[f"{submission.exercise_id}:raw"] = submission.score
                row[f"{submission.exercise_id}:max"] = submission.max_score
                row[f"{submission.exercise_id}:days_late"] = late
                for test in submission.tests:
                    row[f"{submission.exercise_id}:{test.test_id}"] = test.score
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(column) for column in columns])
        for student in sorted(rows):
            writer.writerow([csv_cell(rows[student].get(column, "")) for column in columns])
    return len(rows)
