"""Grade a class: many submissions in parallel, each in its own ``dlgrade grade`` process (and so its own
sandbox), recorded in the gradebook the moment it finishes. A rerun skips what is already graded, so a
killed batch resumes where it stopped; one failing submission never stops the others.

A submission collected with a problem (files over the bounds, an unreadable timestamp, a link) is graded by
``dlgrade grade --problem MESSAGE``: every test fails with the message, no sandbox starts, nothing of the
submission is read, and the student is recorded with 0 out of the exercise's maximum. Each student's results
go to their own folder, ``out_root/safe_name(id)``, which is distinct for distinct ids and inside out_root.
A grading with checks not judged (the grader was overloaded) is recorded, listed, and graded again by the next run.

A collected name that the roster knows as an e-mail or alias is recorded under the student's roster id; one the
roster lacks (when there is a roster) is graded under its own name and listed. Times the instructor gives
(``submitted_at`` for everyone, ``times`` by student) replace the collected ones and are recorded with their
source, in the gradebook and in the student's results.json (``extra_data``).

Each submission's graded cells (and its answers to the questions graded by hand) are recorded with it, and students graded with the same code (beyond the
template, after normalising; see :mod:`dlgrade.similarity`) are listed."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from dlgrade.collect import FoundSubmission, collect_submissions, with_times
from dlgrade.exercise import Exercise, load_exercise
from dlgrade.grade import ensure_reference_answers
from dlgrade.gradebook import is_graded, open_gradebook, record
from dlgrade.manual import submitted_answers
from dlgrade.roster import closest, known_student, resolve, roster
from dlgrade.similarity import identical_groups, submitted_cells

MAX_SLUG_CHARS = 80


@dataclass
class BatchSummary:
    found: int = 0
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    not_judged: dict[str, float] = field(default_factory=dict)  # student -> points not judged, to regrade
    not_on_roster: dict[str, list[str]] = field(default_factory=dict)  # student -> closest roster names
    identical: list[list[str]] = field(default_factory=list)  # groups with the same graded code, one graded now
    interrupted: bool = False


class _Runner:
    """Runs one grading process per submission and can stop all of them at once."""

    def __init__(self, *, exercise: Exercise, out_root: Path, extra_args: list[str]):
        self.exercise, self.exercise_id, self.out_root, self.extra_args = exercise, exercise.id, out_root, extra_args
        self.running: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def grade(self, item: FoundSubmission) -> tuple[dict, dict[str, str], dict[str, str]]:
        out_dir = student_folder(out_root=self.out_root, student=item.student)
        command = [sys.executable, "-m", "dlgrade", "grade", str(item.path), "--exercise", self.exercise_id,
                   "--out", str(out_dir), f"--student={item.student}", *self.extra_args,
                   *(["--problem", item.problem] if item.problem else [])]
        environment = dict(os.environ, PYTHONIOENCODING="utf-8:backslashreplace")  # paths need not be UTF-8
        with self.lock:
            if self.stopping:
                raise InterruptedError("batch stopped")
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                       errors="backslashreplace", env=environment, start_new_session=True)
            self.running.add(process)
        _, stderr = process.communicate()
        with self.lock:
            self.running.discard(process)
        if process.returncode != 0:
            raise RuntimeError(f"grader exit code {process.returncode}: {stderr.strip()[-500:]}")
        results = json.loads((out_dir / "results.json").read_text())
        results["extra_data"]["submitted_at"] = item.submitted_at and item.submitted_at.isoformat()
        results["extra_data"]["time_source"] = item.time_source or "none: on time"
        (out_dir / "results.json").write_text(json.dumps(results, indent=2))
        if item.problem:
            return results, {}, {}
        return (results, submitted_cells(submission=item.path, exercise=self.exercise),
                submitted_answers(submission=item.path, exercise=self.exercise))

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for process in self.running:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def safe_name(student: str) -> str:
    """A folder name for a student id, distinct for distinct ids: a plain id (lower-case letters, digits,
    ``._@+-``, not starting with a dot or a dash, at most 80 characters) is its own name; any other id gets a
    readable slug, ``~`` and 12 hex digits of its SHA-256. No plain id holds ``~`` or a capital, so names stay
    distinct on case-insensitive disks too."""
    slug = re.sub(r"[^A-Za-z0-9._@+-]", "_", student).lstrip(".-")[:MAX_SLUG_CHARS]
    if slug and slug == student and student == student.lower():
        return slug
    return f"{slug or '_'}~{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def student_folder(*, out_root: Path, student: str) -> Path:
    """The student's own results folder, refused unless it resolves to a folder directly inside ``out_root``."""
    folder = out_root / safe_name(student)
    if folder.resolve().parent != out_root.resolve():
        raise RuntimeError(f"{folder} leads out of {out_root} (a link?); remove it and grade again")
    return folder


def _on_roster(session: Session, found: list[FoundSubmission], summary: BatchSummary) -> list[FoundSubmission]:
    """Collected names replaced by roster ids; names the roster lacks listed in the summary."""
    has_roster = bool(roster(session))
    placed = []
    for item in found:
        student = resolve(session, item.student)
        if student is None and has_roster:
            summary.not_on_roster[item.student] = closest(session, item.student)
        placed.append(item if student in (None, item.student) else dataclasses.replace(item, student=student))
    return placed


def _given_times(session: Session, found: list[FoundSubmission], *, submitted_at: datetime | None,
                 times: dict[str, datetime] | None, times_source: str) -> list[FoundSubmission]:
    """The instructor's times in place of the collected ones; a name in ``times`` that is neither collected
    nor in the gradebook raises UnknownStudent."""
    if submitted_at is not None:
        found = with_times(found, times={item.student: submitted_at for item in found}, source="--submitted-at")
    if times:
        collected = tuple(item.student for item in found)
        by_student = {known_student(session, name, also=collected): moment for name, moment in times.items()}
        found = with_times(found, times=by_student, source=times_source)
    return found


def grade_batch(*, paths: list[Path], exercise_id: str, gradebook: Path, out_root: Path, jobs: int = 1,
                regrade: bool = False, regrade_student: str | None = None, extra_args: list[str] = (),
                show_progress: bool = True, times_from_mtime: bool = False, submitted_at: datetime | None = None,
                times: dict[str, datetime] | None = None, times_source: str = "times CSV") -> BatchSummary:
    """Grade every submission under ``paths`` with ``jobs`` in parallel, recording each in ``gradebook``."""
    exercise = load_exercise(exercise_id)
    ensure_reference_answers(exercise)
    summary = BatchSummary()
    engine = open_gradebook(gradebook)
    with tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as scratch, Session(engine) as session:
        found = collect_submissions(paths=paths, exercise=exercise, scratch=Path(scratch),
                                    times_from_mtime=times_from_mtime)
        found = _on_roster(session, found, summary)
        found = _given_times(session, found, submitted_at=submitted_at, times=times, times_source=times_source)
        if regrade_student is not None:
            regrade_student = known_student(session, regrade_student, also=tuple(item.student for item in found))
        summary.found = len(found)
        todo = []
        for item in found:
            again = regrade or regrade_student == item.student
            if not again and is_graded(session, student=item.student, exercise=exercise_id,
                                       content_hash=item.content_hash):
                summary.skipped.append(item.student)
            else:
                todo.append(item)
        runner = _Runner(exercise=exercise, out_root=out_root, extra_args=list(extra_args))
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(), TextColumn("ETA"),
                   TimeRemainingColumn())
        with Progress(*columns, disable=not show_progress) as progress, ThreadPoolExecutor(max_workers=jobs) as pool:
            task = progress.add_task(f"grading {exercise_id}", total=len(todo), failed=0)
            pending: dict[Future, FoundSubmission] = {pool.submit(runner.grade, item): item for item in todo}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = pending.pop(future)
                        try:
                            results, cells, answers = future.result()
                        except Exception as error:  # a grader failure for one submission never stops the batch
                            summary.failed[item.student] = str(error)
                        else:
                            record(session, student=item.student, exercise=exercise_id,
                                   content_hash=item.content_hash, submitted_at=item.submitted_at, results=results,
                                   time_source=item.time_source, cells=cells, answers=answers)
                            summary.graded.append(item.student)
                            if item.problem:
                                summary.problems[item.student] = item.problem
                            if results["extra_data"].get("not_judged_points"):
                                summary.not_judged[item.student] = results["extra_data"]["not_judged_points"]
                        progress.update(task, advance=1, failed=len(summary.failed))
            except KeyboardInterrupt:
                summary.interrupted = True
                runner.stop()
                for future in pending:
                    future.cancel()
    graded = set(summary.graded)
    summary.identical = [group for group in identical_groups(gradebook=gradebook, exercise_id=exercise_id)
                         if graded & set(group)]
    return summary
