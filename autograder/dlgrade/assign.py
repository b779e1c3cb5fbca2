"""Generate student templates from the master notebooks with nbgrader's own preprocessors.

``solutions/<id>/<notebook>`` is the master in nbgrader's source format (``### BEGIN SOLUTION`` /
``### END SOLUTION`` regions, ``metadata.nbgrader``); ``assignments/<id>/<notebook>`` is generated from it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from dlgrade.exercise import Exercise, exercise_ids, load_exercise


def build_template(exercise: Exercise) -> nbformat.NotebookNode:
    """The student template of one exercise, as nbgrader's ``generate_assignment`` would make it."""
    from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, LockCells

    notebook = nbformat.read(exercise.solution, as_version=nbformat.NO_CONVERT)
    resources: dict = {}
    # ComputeChecksums must run last: its checksums cover the cells as the student receives them.
    for step in (ClearSolutions(), LockCells(), ClearOutput(), ComputeChecksums()):
        notebook, resources = step.preprocess(notebook, resources)
    return notebook


def assign(*, ids: list[str] | None = None, check: bool = False, root: Path | None = None) -> list[Path]:
    """Write each exercise's template, or with ``check`` only list the committed ones that are stale."""
    stale = []
    for exercise_id in ids or exercise_ids(root=root):
        exercise = load_exercise(exercise_id, root=root)
        text = nbformat.writes(build_template(exercise)) + "\n"
        current = exercise.template.read_text() if exercise.template.exists() else None
        if current == text:
            continue
        stale.append(exercise.template)
        if not check:
            exercise.template.parent.mkdir(parents=True, exist_ok=True)
            exercise.template.write_text(text)
    return stale
