"""Read a submitted notebook, check it belongs to the exercise, and pick the cells that run when grading.

A cell runs at grading time when its metadata says ``{"dlgrade": {"id": ..., "role": "setup" | "graded"}}``;
every other cell (exploration, long training, plots) never runs. Cells are converted from IPython
syntax (magics, ``!pip``) to plain Python on the trusted side before they reach the sandbox.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from dlgrade.exercise import Exercise

MAX_NOTEBOOK_BYTES = 20 << 20
RUNNABLE_ROLES = ("setup", "graded")


class NotebookProblem(Exception):
    """The submission has no gradable notebook; the message tells the student what to do."""


def find_notebook(submission: Path, exercise: Exercise) -> Path:
    """The notebook in a submission: the file itself, the exercise's notebook name, or the only .ipynb."""
    if submission.is_file():
        return submission
    if not submission.is_dir():
        raise NotebookProblem(f"{submission} does not exist")
    named = submission / exercise.notebook
    if named.is_file() and not named.is_symlink():
        return named
    candidates = [p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.is_symlink()]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotebookProblem(f"no notebook found in the submission; submit {exercise.notebook}")
    raise NotebookProblem(f"several notebooks in the submission and none named {exercise.notebook}")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse and validate a notebook file, refusing oversized or malformed ones with a clear message."""
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(f"{path.name} is {size >> 20} MiB; the limit is {MAX_NOTEBOOK_BYTES >> 20} MiB "
                              "(clear large outputs before submitting)")
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for non-JSON or non-notebook input
        raise NotebookProblem(
            f"{path.name} is not a valid Jupyter notebook ({type(error).__name__}); "
            "submit the .ipynb file saved from Jupyter"
        ) from None
    return notebook


def to_python(source: str) -> str:
    """IPython syntax (``%magic``, ``!cmd``) to plain Python, as IPython itself converts it."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # leave it to the sandbox's compiler to report the syntax error
        return source


def runnable_cells(notebook: nbformat.NotebookNode, exercise: Exercise) -> list[dict]:
    """The setup and graded cells in notebook order, as ``{"id", "role", "source"}``."""
    declared = notebook.metadata.get("dlgrade", {}).get("exercise")
    if declared and declared != exercise.id:
        raise NotebookProblem(f"this notebook is for exercise {declared}, not {exercise.id}; "
                              f"submit your {exercise.notebook}")
    cells = []
    for cell in notebook.cells:
        tag = cell.metadata.get("dlgrade", {})
        if cell.cell_type == "code" and isinstance(tag, dict) and tag.get("role") in RUNNABLE_ROLES:
            cells.append({"id": str(tag.get("id", "?"))[:100], "role": tag["role"], "source": to_python(cell.source)})
    found = {c["id"] for c in cells}
    if not found & set(exercise.graded_cells):
        raise NotebookProblem(
            f"no graded cells of {exercise.id} found in this notebook. Work in the notebook we handed out: "
            "graded cells carry metadata that copying code into a new notebook loses"
        )
    return cells


def missing_graded_cells(cells: list[dict], exercise: Exercise) -> list[str]:
    found = {c["id"] for c in cells}
    return [name for name in exercise.graded_cells if name not in found]
