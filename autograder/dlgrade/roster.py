"""The class roster in the gradebook: who is enrolled, under which names their submissions arrive, and the
closest roster names when a command is given a name that is not there.

``students.csv`` has a header row; ``id`` is required, ``name``, ``email``, ``lms_id``, ``section`` and
``aliases`` (other names separated by ``;``: a Gradescope e-mail, an nbgrader id, a folder name) are optional.
A student's e-mail and every alias find the student; importing again updates the rows it names.
"""
from __future__ import annotations

import csv
import difflib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlgrade.collect import student_id
from dlgrade.gradebook import Alias, Student

COLUMNS = ("id", "name", "email", "lms_id", "section", "aliases")
MAX_ROSTER_ROWS = 100_000


class UnknownStudent(KeyError):
    """A name that is neither a student nor an alias; the message lists the closest roster names."""

    def __str__(self) -> str:
        return str(self.args[0])


def import_roster(session: Session, *, roster_csv: Path) -> int:
    """Add or update every student of ``roster_csv``; returns the number of students read."""
    with open(roster_csv, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        if "id" not in header:
            raise ValueError(f"{roster_csv}: the first row must name the columns, with at least id "
                             f"(known: {', '.join(COLUMNS)})")
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise ValueError(f"{roster_csv}: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
        reader.fieldnames = header
        count = 0
        for line, row in enumerate(reader, start=2):
            if count >= MAX_ROSTER_ROWS:
                raise ValueError(f"{roster_csv}: more than {MAX_ROSTER_ROWS} students")
            ident = student_id((row.get("id") or "").strip())
            if not ident:
                raise ValueError(f"{roster_csv}:{line}: the id is empty")
            student = session.get(Student, ident) or Student(id=ident)
            session.add(student)
            student.rostered = True
            for field in ("name", "email", "lms_id", "section"):
                value = (row.get(field) or "").strip()
                if value:
                    setattr(student, field, value)
            names = [student.email or "", *(row.get("aliases") or "").split(";")]
            for alias in {student_id(name.strip()) for name in names if name.strip()} - {ident}:
                _add_alias(session, alias=alias, student=ident, where=f"{roster_csv}:{line}")
            count += 1
            session.flush()
    session.commit()
    return count


def _add_alias(session: Session, *, alias: str, student: str, where: str) -> None:
    other = session.get(Student, alias)
    if other is not None and other.rostered and other.id != student:
        raise ValueError(f"{where}: alias {alias} is the id of another student on the roster")
    known = session.get(Alias, alias)
    if known is not None and known.student_id != student:
        raise ValueError(f"{where}: alias {alias} already names {known.student_id}")
    if known is None:
        session.add(Alias(alias=alias, student_id=student))


def roster(session: Session) -> list[Student]:
    """The rostered students, by id."""
    return list(session.scalars(select(Student).where(Student.rostered.is_(True)).order_by(Student.id)))


def resolve(session: Session, name: str) -> str | None:
    """The student id that ``name`` stands for (a roster id, an e-mail or an alias, else a name graded before
    any roster named it), or None."""
    student, alias = session.get(Student, name), session.get(Alias, name)
    if student is not None and (student.rostered or alias is None):
        return name
    return None if alias is None else alias.student_id


def closest(session: Session, name: str, *, also: tuple[str, ...] = (), count: int = 3) -> list[str]:
    """The gradebook's student ids and aliases (and ``also``) nearest to ``name`` (difflib's ratio), best first."""
    names = {*session.scalars(select(Student.id)), *session.scalars(select(Alias.alias)), *also}
    return difflib.get_close_matches(name, sorted(names), n=count, cutoff=0.5)


def known_student(session: Session, name: str, *, also: tuple[str, ...] = ()) -> str:
    """The student id for ``name`` (or ``name`` itself when it is one of ``also``, e.g. students just
    collected); an unknown name raises UnknownStudent naming the closest matches."""
    found = resolve(session, name)
    if found is not None:
        return found
    if name in also:
        return name
    near = closest(session, name, also=also)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `dlgrade roster import` adds students"
    raise UnknownStudent(f"no student {name} in the gradebook{hint}")
