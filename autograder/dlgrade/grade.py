"""Grade one submission: validate, extract graded cells, start the sandbox, run trusted tests, score,
and write results.json and feedback.html."""
from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from dlgrade import __version__
from dlgrade.exercise import Exercise, load_exercise
from dlgrade.feedback import render_feedback
from dlgrade.gradescope_results import GradescopeSettings, gradescope_results
from dlgrade.notebook import NotebookProblem, find_notebook, missing_graded_cells, read_notebook, runnable_cells
from dlgrade.proxy import StudentSession
from dlgrade.results import build_results, write_results
from dlgrade.runner import run_tests
from dlgrade.sandbox.spawn import cell_failure


def _prepare(submission: Path, exercise) -> tuple[list[dict], list[str]]:
    notebook = read_notebook(find_notebook(submission, exercise))
    cells = runnable_cells(notebook, exercise)
    notices = [f"graded cell '{name}' is missing from your notebook" for name in missing_graded_cells(cells, exercise)]
    return cells, notices


def grade_submission(*, submission: Path, exercise: Exercise | str, out_dir: Path, include_hidden: bool = True,
                     problem: str | None = None,
                     limit_overrides: dict | None = None, record_answers_to: Path | None = None,
                     allow_weaker_isolation: bool = False, gradescope: GradescopeSettings | None = None,
                     student: str | None = None) -> dict:
    """Grade ``submission`` (a notebook or a folder) and write ``out_dir/results.json``; returns the results.

    ``exercise`` is an id (grader) or a loaded Exercise (e.g. a student bundle's). ``limit_overrides``
    replaces fields of its sandbox limits (e.g. ``call_timeout_s``). Grading refuses to run student code
    when the kernel refuses part of the sandbox's isolation, unless ``allow_weaker_isolation``.
    ``problem`` (a message for the student, e.g. from a batch that could not read the files) fails every test
    with it, without reading the submission or starting a sandbox. ``gradescope`` (GradescopeSettings) writes
    results.json as Gradescope shows it: HTML outputs with the plots, the instructor's visibility settings.
    ``student`` names the student on the feedback page (default: the submission's file or folder name).
    """
    started = time.monotonic()
    if isinstance(exercise, str):
        exercise = load_exercise(exercise)
    limits = dataclasses.replace(exercise.limits, **(limit_overrides or {}))
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    submission = submission.resolve()
    cells, notices = [], [problem] if problem else []
    try:
        if problem is None:
            cells, notices = _prepare(submission, exercise)
    except NotebookProblem as error:
        problem = str(error)
        notices.append(problem)
    session = StudentSession(
        submission=submission, cells=cells, limits=limits, problem=problem,
        data_files=exercise.student_data(), allow_weaker_isolation=allow_weaker_isolation,
    )
    try:
        session.start()
        outcomes = run_tests(exercise=exercise, session=session, include_hidden=include_hidden,
                             record_answers_to=record_answers_to)
    finally:
        session.close()
    if session.problem and session.problem not in notices:  # found while copying the files into the sandbox
        notices.append(session.problem)
    notices += [cell_failure(cell) for cell in session.cell_reports if not cell.get("ok")]
    results = build_results(outcomes=outcomes, exercise_id=exercise.id, seconds=time.monotonic() - started,
                            notices=notices, grader_version=__version__, isolation=session.isolation)
    figures = {o.test_id: o.figures for o in outcomes}
    write_results(results if gradescope is None else
                  gradescope_results(results=results, figures=figures, settings=gradescope), out_dir)
    page = render_feedback(results=results, figures=figures, title=f"{exercise.id}: {exercise.title}",
                           student=student or submission.name,
                           graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    (out_dir / "feedback.html").write_text(page)
    return results


def ensure_reference_answers(exercise: Exercise) -> Path:
    """Record the reference's answers to every test's calls once (by grading the solution), so that later
    gradings replay them instead of loading the solution and TensorFlow on the trusted side."""
    from dlgrade.reference import answers_cache_path

    cache = answers_cache_path(exercise)
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dlgrade-answers-") as scratch:
            grade_submission(submission=exercise.solution, exercise=exercise, out_dir=Path(scratch),
                             record_answers_to=cache)
    return cache
