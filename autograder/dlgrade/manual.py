"""Questions graded by hand: the answers of every student's latest submission out to HTML pages and a CSV to fill
in, and the filled CSV back into the gradebook.

An exercise declares its questions in ``exercise.toml`` (``[manual.<id>]``: points, question, rubric); students
answer in the notebook's manual cells (``{"dlgrade": {"id": <id>, "role": "manual"}}``), which never run. A
batch keeps each submission's answers (:func:`submitted_answers`). ``export`` writes one self-contained page
per question and ``scores.csv`` (``student,question,points,max_points,comment``, points empty); with
``anonymise`` students are ``S001``, ``S002``... in a random order and ``key.csv`` beside the CSV maps them back.
``import`` checks every row before storing any, and a row imported again replaces the earlier score.
"""
from __future__ import annotations

import csv
import difflib
import getpass
import html
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlgrade.exercise import Exercise, load_exercise
from dlgrade.export import FORMULA_STARTS, csv_cell
from dlgrade.gradebook import ManualAnswer, ManualScore, Submission, latest_submissions, open_gradebook
from dlgrade.notebook import NotebookProblem, find_notebook, manual_answers, read_notebook
from dlgrade.roster import closest, resolve
from dlgrade.text import cap_text, clean_text

MAX_KEPT_CHARS = 100_000  # per answer, in the gradebook
MAX_SHOWN_CHARS = 20_000  # per answer, on a page
MAX_COMMENT_CHARS = 2_000
MAX_ROWS = 200_000
MAX_ERRORS_LISTED = 20
CSV_COLUMNS = ("student", "question", "points", "max_points", "comment")
KEY_COLUMNS = ("anonymous_id", "student")


def submitted_answers(*, submission: Path, exercise: Exercise) -> dict[str, str]:
    """A submission's answers to the exercise's manual questions, ``{question id: text}``, each bounded; empty
    when the notebook cannot be read (the grading has said why)."""
    if not exercise.manual:
        return {}
    try:
        answers = manual_answers(read_notebook(find_notebook(submission, exercise)))
    except (NotebookProblem, OSError):
        return {}
    return {question: cap_text(clean_text(answers[question]), limit=MAX_KEPT_CHARS)
            for question in exercise.manual if question in answers}


def _from_csv_cell(value: str) -> str:
    """A cell as :func:`dlgrade.export.csv_cell` wrote it, its protective ``'`` taken off."""
    value = value.strip()
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _latest(session: Session, exercise_id: str) -> dict[str, Submission]:
    """Every student's latest submission of the exercise, under the roster's id (as the exports count it)."""
    latest = {}
    for submission in sorted(latest_submissions(session), key=lambda s: (s.submitted_at or s.graded_at, s.id)):
        if submission.exercise_id == exercise_id:
            latest[resolve(session, submission.student_id) or submission.student_id] = submission
    return latest


@dataclass
class ManualExport:
    students: int
    pages: list[Path]
    scores_csv: Path
    key_csv: Path | None


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 60rem; }}
.rubric {{ background: #f4f4f4; padding: .5rem 1rem; white-space: pre-wrap; }}
.answer {{ white-space: pre-wrap; border-left: 3px solid #999; padding: .3rem .8rem; font-family: inherit; }}
.note {{ color: #a33; }}
</style></head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


def _escape(text: str) -> str:
    return html.escape(clean_text(text))


def _answer_html(answer: str | None, *, template: str | None) -> str:
    if answer is None:
        return ('<p class="note">no answer kept: the notebook had no answer cell for this question, or it was '
                "graded before dlgrade kept answers (grade again with --regrade)</p>")
    note = ""
    if template is not None and answer.strip() == template.strip():
        note = '<p class="note">unchanged from the template</p>'
    elif len(answer) > MAX_SHOWN_CHARS:
        note = (f'<p class="note">answer cut: the first {MAX_SHOWN_CHARS:,} of its {len(answer):,} characters are '
                "shown; read the rest in the notebook</p>")
    return f'{note}<pre class="answer">{_escape(answer[:MAX_SHOWN_CHARS])}</pre>'


def question_page(*, exercise: Exercise, question_id: str, answers: list[tuple[str, str | None]],
                  template: str | None) -> str:
    """One question's page: the question, rubric and points, then every student's answer as escaped text."""
    question = exercise.manual[question_id]
    body = [f"<p><b>Question</b> ({question.points:g} points): {_escape(question.question)}</p>",
            f'<p><b>Rubric</b></p><div class="rubric">{_escape(question.rubric)}</div>',
            f"<p>{len(answers)} answers. Fill in the points of question <code>{_escape(question_id)}</code> in "
            "scores.csv, then <code>dlgrade manual import</code> it.</p>"]
    for student, answer in answers:
        body.append(f"<h2>{_escape(student)}</h2>{_answer_html(answer, template=template)}")
    title = f"{exercise.id}: {question_id}"
    return PAGE.format(title=_escape(title), body="\n".join(body)).encode("ascii", "xmlcharrefreplace").decode()


def export_manual(*, exercise_id: str, gradebook: Path, out_dir: Path, anonymise: bool = False) -> ManualExport:
    """Write ``out_dir/<question>.html`` for each manual question and ``out_dir/scores.csv`` (one row per
    student and question, points empty) from every student's latest submission; with ``anonymise`` also
    ``out_dir/key.csv``, and a stale key is removed otherwise."""
    exercise = load_exercise(exercise_id)
    if not exercise.manual:
        raise ValueError(f"{exercise_id} has no questions graded by hand ([manual.<id>] in exercise.toml)")
    with Session(open_gradebook(gradebook)) as session:
        latest = _latest(session, exercise_id)
        kept = {student: {row.question_id: row.text for row in session.scalars(
            select(ManualAnswer).where(ManualAnswer.submission_id == submission.id))}
            for student, submission in latest.items()}
    names = {student: student for student in sorted(kept)}
    if anonymise:
        order = sorted(kept)
        random.SystemRandom().shuffle(order)  # the numbering says nothing about who is who
        width = max(3, len(str(len(order))))
        names = {student: f"S{number:0{width}d}" for number, student in enumerate(order, start=1)}
    out_dir.mkdir(parents=True, exist_ok=True)
    template = submitted_answers(submission=exercise.template, exercise=exercise) if exercise.template else {}
    pages = []
    for question_id in exercise.manual:
        answers = sorted(((names[s], kept[s].get(question_id)) for s in kept), key=lambda pair: pair[0])
        page = out_dir / f"{question_id}.html"
        page.write_text(question_page(exercise=exercise, question_id=question_id, answers=answers,
                                      template=template.get(question_id)), encoding="utf-8")
        pages.append(page)
    scores_csv = out_dir / "scores.csv"
    with open(scores_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for question_id, question in exercise.manual.items():
            for name in sorted(names.values()):
                writer.writerow([csv_cell(name), question_id, "", f"{question.points:g}", ""])
    key_csv = out_dir / "key.csv"
    if anonymise:
        with open(key_csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(KEY_COLUMNS)
            writer.writerows(sorted((anonymous, csv_cell(student)) for student, anonymous in names.items()))
    else:
        key_csv.unlink(missing_ok=True)
    return ManualExport(len(kept), pages, scores_csv, key_csv if anonymise else None)


@dataclass
class ManualImport:
    stored: int  # scores written (new or replacing)
    replaced: int  # of which replaced an earlier score
    skipped: int  # rows with empty points


class ManualImportError(ValueError):
    """A scores CSV with rows that cannot be imported; the message lists them by row number."""


def _read_key(key_csv: Path) -> dict[str, str]:
    with open(key_csv, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != KEY_COLUMNS:
            raise ManualImportError(f"{key_csv}: the first row must be {','.join(KEY_COLUMNS)}")
        return {row["anonymous_id"].strip(): _from_csv_cell(row["student"] or "") for row in reader}


def _hint(name: str, names) -> str:
    near = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(near)}?" if near else ""


def _points(text: str, *, maximum: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"points {text!r} are not a number") from None
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise ValueError(f"points {text} outside 0..{maximum:g}")
    return value


def _read_rows(scores_csv: Path) -> list[tuple[int, dict]]:
    with open(scores_csv, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in ("student", "question", "points") if name not in header]
        if missing:
            raise ManualImportError(f"{scores_csv}: no column {', '.join(missing)} in the first row (expected "
                                    f"{','.join(CSV_COLUMNS)}, as `dlgrade manual export` writes it)")
        reader.fieldnames = header
        rows = []
        for line, row in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise ManualImportError(f"{scores_csv}: more than {MAX_ROWS} rows")
            rows.append((line, {key: (value or "") for key, value in row.items() if isinstance(key, str)}))
    return rows


def import_manual(*, exercise_id: str, scores_csv: Path, gradebook: Path, key_csv: Path | None = None,
                  by: str | None = None) -> ManualImport:
    """Store the points of a filled ``scores.csv``; anonymous ids are read through ``key_csv`` (default:
    ``key.csv`` beside the CSV, when there). Every row is checked first; any error stores nothing."""
    exercise = load_exercise(exercise_id)
    if key_csv is None and (scores_csv.parent / "key.csv").is_file():
        key_csv = scores_csv.parent / "key.csv"
    key = _read_key(key_csv) if key_csv is not None else None
    rows = _read_rows(scores_csv)
    errors, scores, seen, skipped = [], {}, {}, 0
    with Session(open_gradebook(gradebook)) as session:
        latest = _latest(session, exercise_id)
        for line, row in rows:
            name, question_id = _from_csv_cell(row.get("student", "")), row.get("question", "").strip()
            try:
                if key is not None:
                    if name not in key:
                        raise ValueError(f"unknown student {name} (not in {key_csv.name}){_hint(name, key)}")
                    student = key[name]
                else:
                    student = resolve(session, name)
                    if student is None:
                        near = closest(session, name)
                        hint = f"; did you mean {', '.join(near)}?" if near else ""
                        raise ValueError(f"no student {name} in the gradebook{hint}")
                if student not in latest:
                    raise ValueError(f"{name} has no submission of {exercise_id} in the gradebook")
                if question_id not in exercise.manual:
                    known = _hint(question_id, exercise.manual) or f" (known: {', '.join(exercise.manual)})"
                    raise ValueError(f"unknown question {question_id} of {exercise_id}{known}")
                if (student, question_id) in seen:
                    raise ValueError(f"{name} {question_id} is also on row {seen[(student, question_id)]}")
                seen[(student, question_id)] = line
                text = row.get("points", "").strip()
                if not text:
                    skipped += 1
                    continue
                points = _points(text, maximum=exercise.manual[question_id].points)
            except ValueError as error:
                errors.append(f"row {line}: {error}")
                continue
            comment = cap_text(clean_text(_from_csv_cell(row.get("comment", ""))), limit=MAX_COMMENT_CHARS)
            scores[(student, question_id)] = (points, comment)
        if errors:
            more = len(errors) - MAX_ERRORS_LISTED
            listed = "\n".join(errors[:MAX_ERRORS_LISTED]) + (f"\n... and {more} more" if more > 0 else "")
            raise ManualImportError(f"{scores_csv}: nothing imported; fix these rows:\n{listed}")
        replaced, now, by = 0, datetime.now(timezone.utc), by or getpass.getuser()
        for (student, question_id), (points, comment) in scores.items():
            row = session.scalar(select(ManualScore).where(
                ManualScore.student_id == student, ManualScore.exercise_id == exercise_id,
                ManualScore.question_id == question_id))
            if row is None:
                row = ManualScore(student_id=student, exercise_id=exercise_id, question_id=question_id)
                session.add(row)
            else:
                replaced += 1
            row.points, row.comment, row.by, row.at = points, comment, by, now
        session.commit()
    return ManualImport(stored=len(scores), replaced=replaced, skipped=skipped)
