"""Build the file a student submits: the notebook plus the files the exercise asks for (trained weights),
refusing with a clear message when it is too large or the notebook is not gradable, and warning when graded
cells are still the template's or a file the exercise asks for is missing (the notebook is still worth its
other points: the checks of a missing file earn none and say why). Imports no TensorFlow: packing takes well under a second."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from dlgrade.exercise import Exercise
from dlgrade.notebook import NotebookProblem, read_notebook, runnable_cells


class PackProblem(Exception):
    """Why the submission cannot be packed; the message says what to do."""


def graded_cell_digests(cells: list[dict], exercise: Exercise) -> dict[str, str]:
    """SHA-256 of each graded cell's code (from ``runnable_cells``), by cell id."""
    return {c["id"]: hashlib.sha256(c["source"].strip().encode()).hexdigest() for c in cells
            if c["role"] == "graded" and c["id"] in exercise.graded_cells}


def untouched_cells(*, notebook: Path, exercise: Exercise) -> list[str]:
    """The graded cells of ``notebook`` still as the template released them (none when that is not known)."""
    if exercise.template_digests is not None:
        released = exercise.template_digests
    elif exercise.template is not None and exercise.template.is_file():
        template = read_notebook(exercise.template, validate=False)
        released = graded_cell_digests(runnable_cells(template, exercise), exercise)
    else:
        return []
    try:
        digests = graded_cell_digests(runnable_cells(read_notebook(notebook, validate=False), exercise), exercise)
    except NotebookProblem:
        return []
    return [cell for cell, digest in digests.items() if released.get(cell) == digest]


def missing_files(*, notebook: Path, exercise: Exercise) -> list[str]:
    """The files the exercise asks for that are not beside the notebook."""
    return [name for name in exercise.submit_files if not (notebook.parent / name).is_file()]


def pack_submission(*, notebook: Path, exercise: Exercise, out: Path | None = None) -> Path:
    """Write ``<notebook stem>-submission.zip`` beside the notebook (or ``out``), with the notebook and the
    asked-for files that exist, and return its path."""
    try:
        runnable_cells(read_notebook(notebook, validate=False), exercise)
    except NotebookProblem as problem:
        raise PackProblem(str(problem)) from None
    missing = missing_files(notebook=notebook, exercise=exercise)
    files = [notebook] + [notebook.parent / name for name in exercise.submit_files if name not in missing]
    total = sum(p.stat().st_size for p in files)
    if total > exercise.limits.submission_bytes:
        raise PackProblem(f"{exercise.id}: the submission is {total >> 20} MiB; the limit is "
                          f"{exercise.limits.submission_bytes >> 20} MiB")
    out = out or notebook.parent / f"{notebook.stem}-submission.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            bundle.write(path, path.name)
    return out
