"""The gradebook: SQLite through SQLAlchemy. One row per graded submission, one per test result.

A submission is identified by (student, exercise, content hash): regrading the same files replaces the
earlier result, a new version of the files adds a row, and the latest one counts. A test's status is its
outcome (passed, partial, failed, not judged); a grading with a check not judged counts as not graded yet, so the
next run of the batch grades it again. Times are stored in UTC
(SQLite keeps no UTC offset: a time stored with its offset dropped would move by that many hours); a
submission without a known time (``submitted_at`` NULL) is on time, and ``time_source`` says where a time came
from. The roster (students' names, e-mails, LMS ids and aliases) and the instructors' overrides live here too.
The graded cells of a submission are kept too (for ``dlgrade similarity``), in a table of their own, and so are
its answers to the questions graded by hand, with the instructors' scores for them (``dlgrade manual``).
A gradebook written by an older dlgrade gets the new columns and tables (empty) when opened.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import ForeignKey, String, UniqueConstraint, create_engine, delete, func, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from dlgrade.judged import NOT_JUDGED


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    lms_id: Mapped[str | None] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(200))
    rostered: Mapped[bool | None]  # on the roster (not only seen in a submission)


class Alias(Base):
    """Another name a student goes by in a submission: a Gradescope e-mail, an nbgrader id, a folder name."""
    __tablename__ = "aliases"
    alias: Mapped[str] = mapped_column(String(300), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))


class Override(Base):
    """An instructor's decision about one student's exercise: points that replace the graded score, a due date
    of their own (an extension), and why; who made it and when. Rows are only added (an audit trail); the
    latest counts."""
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    points: Mapped[float | None]
    due: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(default="")
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class Exercise(Base):
    __tablename__ = "exercises"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "exercise_id", "content_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    time_source: Mapped[str | None] = mapped_column(String(300))
    graded_at: Mapped[datetime]
    score: Mapped[float]
    max_score: Mapped[float]
    seconds: Mapped[float]
    grader_version: Mapped[str] = mapped_column(String(40))
    output: Mapped[str] = mapped_column(default="")
    tests: Mapped[list["TestResult"]] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                     order_by="TestResult.position")


class TestResult(Base):
    __test__ = False  # a gradebook row, not a pytest test class
    __tablename__ = "test_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    position: Mapped[int]
    test_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    score: Mapped[float]
    max_score: Mapped[float]
    status: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(20))
    output: Mapped[str] = mapped_column(default="")
    submission: Mapped[Submission] = relationship(back_populates="tests")


class GradedCell(Base):
    """A graded cell's source as submitted (bounded by the notebook reader)."""
    __tablename__ = "graded_cells"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    position: Mapped[int]
    cell_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(default="")


class ManualAnswer(Base):
    """A submission's answer to a question graded by hand (a manual cell's text, bounded when recorded)."""
    __tablename__ = "manual_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(default="")


class ManualScore(Base):
    """An instructor's points for one student's answer to one question graded by hand, with a comment, who
    imported them and when; importing again replaces the row."""
    __tablename__ = "manual_scores"
    __table_args__ = (UniqueConstraint("student_id", "exercise_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(100))
    points: Mapped[float]
    comment: Mapped[str] = mapped_column(default="")
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


def open_gradebook(path: Path):
    """An engine for the gradebook file, creating its tables on first use."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    _add_new_columns(engine)
    _allow_unknown_times(engine)
    return engine


def _allow_unknown_times(engine) -> None:
    """A gradebook from before submissions could lack a time has ``submitted_at NOT NULL``; SQLite cannot drop
    a constraint, so the table is copied into one without it (the legacy rename keeps test_results' foreign
    key pointing at ``submissions``)."""
    column = next(c for c in inspect(engine).get_columns("submissions") if c["name"] == "submitted_at")
    if column["nullable"]:
        return
    with engine.begin() as connection:
        names = ", ".join(f'"{c["name"]}"' for c in inspect(connection).get_columns("submissions"))
        connection.exec_driver_sql("PRAGMA legacy_alter_table=ON")
        connection.exec_driver_sql("ALTER TABLE submissions RENAME TO submissions_with_required_times")
        Submission.__table__.create(connection)
        connection.exec_driver_sql(
            f"INSERT INTO submissions ({names}) SELECT {names} FROM submissions_with_required_times")
        connection.exec_driver_sql("DROP TABLE submissions_with_required_times")
        connection.exec_driver_sql("PRAGMA legacy_alter_table=OFF")


def _add_new_columns(engine) -> None:
    """Columns added since a gradebook was created, added empty (SQLite's ADD COLUMN; nothing is rewritten)."""
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            have = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def is_graded(session: Session, *, student: str, exercise: str, content_hash: str) -> bool:
    """Whether these files are in the gradebook with every check judged."""
    query = select(Submission.id).where(Submission.student_id == student, Submission.exercise_id == exercise,
                                        Submission.content_hash == content_hash)
    graded = session.scalar(query)
    if graded is None:
        return False
    waiting = select(TestResult.id).where(TestResult.submission_id == graded, TestResult.status == NOT_JUDGED)
    return session.scalar(waiting) is None


def record(session: Session, *, student: str, exercise: str, content_hash: str, submitted_at: datetime | None,
           results: dict, time_source: str | None = None, cells: dict[str, str] | None = None,
           answers: dict[str, str] | None = None) -> None:
    """Store one graded submission (replacing an earlier grading of the same files) and commit at once, with
    its graded ``cells`` ({cell id: source}) and manual ``answers`` ({question id: text}) when given. A
    ``submitted_at`` without a zone is taken as UTC; None means no time is known (on time)."""
    for model, key in ((Student, student), (Exercise, exercise)):
        if session.get(model, key) is None:
            session.add(model(id=key))
    earlier = session.scalar(select(Submission).where(
        Submission.student_id == student, Submission.exercise_id == exercise, Submission.content_hash == content_hash))
    if earlier is not None:
        session.execute(delete(GradedCell).where(GradedCell.submission_id == earlier.id))
        session.execute(delete(ManualAnswer).where(ManualAnswer.submission_id == earlier.id))
        session.delete(earlier)
        session.flush()
    submission = Submission(
        student_id=student, exercise_id=exercise, content_hash=content_hash,
        submitted_at=None if submitted_at is None else _utc(submitted_at), time_source=time_source,
        graded_at=datetime.now(timezone.utc), score=results["score"], max_score=results["max_score"],
        seconds=results.get("execution_time", 0.0), grader_version=results["extra_data"]["grader_version"],
        output=results.get("output", ""),
        tests=[TestResult(position=i, test_id=t["extra_data"]["test_id"], name=t["name"], score=t["score"],
                          max_score=t["max_score"], status=t["extra_data"].get("outcome", t["status"]),
                          visibility=t["visibility"],
                          output=t.get("output", "")) for i, t in enumerate(results["tests"])],
    )
    session.add(submission)
    session.flush()
    session.add_all(GradedCell(submission_id=submission.id, position=i, cell_id=cell_id, source=source)
                    for i, (cell_id, source) in enumerate((cells or {}).items()))
    session.add_all(ManualAnswer(submission_id=submission.id, question_id=question, text=answer)
                    for question, answer in (answers or {}).items())
    session.commit()


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def latest_submissions(session: Session) -> list[Submission]:
    """The latest submission of every student for every exercise (a version without a time counts from when it
    was graded)."""
    latest: dict[tuple[str, str], Submission] = {}
    ordered = select(Submission).order_by(func.coalesce(Submission.submitted_at, Submission.graded_at), Submission.id)
    for submission in session.scalars(ordered):
        latest[(submission.student_id, submission.exercise_id)] = submission
    return list(latest.values())


def manual_scores(session: Session) -> dict[tuple[str, str], dict[str, float]]:
    """Every student's points per question graded by hand: ``{(student, exercise): {question: points}}``."""
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for row in session.scalars(select(ManualScore)):
        scores.setdefault((row.student_id, row.exercise_id), {})[row.question_id] = row.points
    return scores
