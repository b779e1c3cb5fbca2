"""Per-student overrides and extensions: points that replace a graded score, a due date of the student's own,
and the reason, with who (the OS user) and when. Every change adds a row, so the gradebook keeps the history;
the latest row counts, and what it does not change it keeps from the one before."""
from __future__ import annotations

import getpass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlgrade.exercise import load_exercise
from dlgrade.gradebook import Override
from dlgrade.roster import known_student


def latest_overrides(session: Session) -> dict[tuple[str, str], Override]:
    """The override that counts for each (student, exercise)."""
    latest = {}
    for override in session.scalars(select(Override).order_by(Override.at, Override.id)):
        latest[(override.student_id, override.exercise_id)] = override
    return latest


def set_override(session: Session, *, student: str, exercise: str, note: str, points: float | None = None,
                 due: datetime | None = None, by: str | None = None) -> Override:
    """Record an override of ``student``'s ``exercise`` and commit; returns the row that now counts. The
    student must be in the gradebook (an unknown name raises UnknownStudent with the closest names), the
    exercise must exist (KeyError), and a reason is required."""
    load_exercise(exercise)
    student = known_student(session, student)
    if points is None and due is None:
        raise ValueError("say what to override: --points and/or --due")
    if points is not None and points < 0:
        raise ValueError(f"--points must be 0 or more, not {points:g}")
    if not note.strip():
        raise ValueError("say why with --note (it is kept with the override)")
    earlier = latest_overrides(session).get((student, exercise))
    row = Override(student_id=student, exercise_id=exercise, note=note.strip(),
                   points=points if points is not None else earlier and earlier.points,
                   due=_utc(due) if due is not None else earlier and earlier.due,
                   by=by or getpass.getuser(), at=datetime.now(timezone.utc))
    session.add(row)
    session.commit()
    return row


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
