"""The gradebook: SQLite through SQLAlchemy. One row per graded submission, one per test result.

A submission is identified by (student, exercise, content hash): regrading the same files replaces the
earlier result, a new version of the files adds a row, and the latest one counts. A test's status is its
outcome (passed, partial, failed, not judged); a grading with a check not judged counts as not graded yet, so the
next run of the batch grades it again. The graded cells of a submission are kept too (for ``dlgrade
similarity``), in a table of their own so that a gradebook made before them still opens. Times are stored in UTC
(SQLite keeps no UTC offset: a time stored with its offset dropped would move by that many hours).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import ForeignKey, String, UniqueConstraint, create_engine, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from dlgrade.judged import NOT_JUDGED


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)


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
    submitted_at: Mapped[datetime]
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


def open_gradebook(path: Path):
    """An engine for the gradebook file, creating its tables on first use."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return engine


def is_graded(session: Session, *, student: str, exercise: str, content_hash: str) -> bool:
    """Whether these files are in the gradebook with every check judged."""
    query = select(Submission.id).where(Submission.student_id == student, Submission.exercise_id == exercise,
                                        Submission.content_hash == content_hash)
    graded = session.scalar(query)
    if graded is None:
        return False
    waiting = select(TestResult.id).where(TestResult.submission_id == graded, TestResult.status == NOT_JUDGED)
    return session.scalar(waiting) is None


def record(session: Session, *, student: str, exercise: str, content_hash: str, submitted_at: datetime,
           results: dict, cells: dict[str, str] | None = None) -> None:
    """Store one graded submission (replacing an earlier grading of the same files) and commit at once,
    with its graded ``cells`` ({cell id: source}) when given. A ``submitted_at`` without a zone is taken as UTC."""
    for model, key in ((Student, student), (Exercise, exercise)):
        if session.get(model, key) is None:
            session.add(model(id=key))
    earlier = session.scalar(select(Submission).where(
        Submission.student_id == student, Submission.exercise_id == exercise, Submission.content_hash == content_hash))
    if earlier is not None:
        session.execute(delete(GradedCell).where(GradedCell.submission_id == earlier.id))
        session.delete(earlier)
        session.flush()
    submission = Submission(
        student_id=student, exercise_id=exercise, content_hash=content_hash, submitted_at=_utc(submitted_at),
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
    session.commit()


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def latest_submissions(session: Session) -> list[Submission]:
    """The latest submission of every student for every exercise."""
    latest: dict[tuple[str, str], Submission] = {}
    for submission in session.scalars(select(Submission).order_by(Submission.submitted_at, Submission.id)):
        latest[(submission.student_id, submission.exercise_id)] = submission
    return list(latest.values())
