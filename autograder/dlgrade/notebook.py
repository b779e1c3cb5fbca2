"""Read a submitted notebook, check it belongs to the exercise, and pick the cells that run when grading.

A cell runs at grading time when its metadata says ``{"dlgrade": {"id": ..., "role": "setup" | "graded"}}``;
every other cell (exploration, long training, plots) never runs, nor does a manual cell (``"role": "manual"``: a
free-text answer graded by hand, read only by :func:`manual_answers`). Cells leave here as the student wrote them:
IPython syntax (magics, ``!pip``) is converted inside the sandbox (``dlgrade.sandbox.cells``), where its cost
is bounded, never on the trusted side.
"""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from dlgrade.exercise import Exercise
from dlgrade.text import mib

if TYPE_CHECKING:
    import nbformat

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_CODE_BYTES = 1 << 20  # the setup and graded cells as sent to the sandbox (its start message holds 4 MiB)
RUNNABLE_ROLES = ("setup", "graded")
SAVED_FROM_JUPYTER = "submit the .ipynb file saved from Jupyter"


class NotebookProblem(Exception):
    """The submission has no gradable notebook; the message tells the student what to do."""


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def find_notebook(submission: Path, exercise: Exercise) -> Path:
    """The notebook in a submission: the file itself, the exercise's notebook name, or the only .ipynb.

    Only regular files count (never a link, a folder or a named pipe that would block the reader)."""
    if not submission.is_dir():
        if not os.path.lexists(submission):
            raise NotebookProblem(f"{submission} does not exist")
        return submission  # read_notebook refuses anything but a regular file, with a message
    named = submission / exercise.notebook
    candidates = [p for p in sorted(submission.rglob("*.ipynb"))
                  if ".ipynb_checkpoints" not in p.parts and _is_regular_file(p)]
    if named in candidates:
        return named
    if len(candidates) == 1:
        return candidates[0]
    if not candidates and os.path.lexists(named):
        raise NotebookProblem(f"{exercise.notebook} in the submission is not a regular file (a link, a folder or a "
                              f"pipe); {SAVED_FROM_JUPYTER}")
    if not candidates:
        raise NotebookProblem(f"no notebook found in the submission; submit {exercise.notebook}")
    raise NotebookProblem(f"several notebooks in the submission and none named {exercise.notebook}")


def _read_capped(path: Path, *, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path``, which must be a regular file: opened without following a
    link and without blocking, so a named pipe or a device is refused instead of waited on."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as error:
        reason = "it is a link" if error.errno == errno.ELOOP else error.strerror
        raise NotebookProblem(f"{path.name} cannot be read ({reason}); {SAVED_FROM_JUPYTER}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotebookProblem(f"{path.name} is not a regular file (a folder, pipe or device); "
                                  f"{SAVED_FROM_JUPYTER}")
        return handle.read(limit + 1)


class _Node(dict):
    """A dict with attribute access, as nbformat's NotebookNode."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _plain_v4(text: str) -> _Node | None:
    """A version-4 notebook of the usual shape, parsed with json alone (importing nbformat takes seconds: its
    jsonschema); None when it needs nbformat (another version or shape). For the student's ``pack`` only."""
    notebook = json.loads(text, object_hook=_Node)
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        return None
    if not isinstance(notebook.get("cells"), list) or not isinstance(notebook.get("metadata"), dict):
        return None
    for cell in notebook.cells:
        if not (isinstance(cell, dict) and isinstance(cell.get("cell_type"), str)
                and isinstance(cell.get("metadata"), dict) and isinstance(cell.get("source"), (str, list))):
            return None
        if isinstance(cell.source, list):
            if not all(isinstance(line, str) for line in cell.source):
                return None
            cell["source"] = "".join(cell.source)
    return notebook


def read_notebook(path: Path, *, validate: bool = True) -> nbformat.NotebookNode:
    """Parse and validate a notebook file, refusing oversized or malformed ones with a clear message.
    ``validate=False`` (the student's ``pack``; the grader validates again) skips nbformat where it can."""
    data = _read_capped(path, limit=MAX_NOTEBOOK_BYTES)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB, the limit "
                              "(clear large outputs before submitting)")
    try:
        plain = None if validate else _plain_v4(data.decode("utf-8"))
        if plain is not None:
            return plain
        import nbformat

        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for non-JSON or non-notebook input
        raise NotebookProblem(
            f"{path.name} is not a valid Jupyter notebook ({type(error).__name__}); {SAVED_FROM_JUPYTER}"
        ) from None
    return notebook


def _declared_exercise(notebook: nbformat.NotebookNode, exercise: Exercise) -> str | None:
    """The exercise the notebook's metadata names, if any; metadata of another shape is refused."""
    tag = notebook.metadata.get("dlgrade", {})
    if isinstance(tag, dict) and isinstance(tag.get("exercise"), (str, type(None))):
        return tag.get("exercise")
    raise NotebookProblem(
        f'this notebook\'s metadata "dlgrade" is not the one we handed out (it should be {{"exercise": '
        f'"{exercise.id}"}}); work in the notebook we handed out, or paste your code into a fresh copy of it'
    )


def _cell_tag(cell) -> dict | None:
    """A code cell's ``{"id", "role"}`` when it runs at grading time; a tag of the wrong shape never runs."""
    tag = cell.metadata.get("dlgrade")
    if cell.cell_type != "code" or not isinstance(tag, dict):
        return None
    role, cell_id = tag.get("role"), tag.get("id", "?")
    if not isinstance(role, str) or role not in RUNNABLE_ROLES or not isinstance(cell_id, str):
        return None
    return {"id": cell_id[:100], "role": role}


def runnable_cells(notebook: nbformat.NotebookNode, exercise: Exercise) -> list[dict]:
    """The setup and graded cells in notebook order, as ``{"id", "role", "source"}``."""
    declared = _declared_exercise(notebook, exercise)
    if declared and declared != exercise.id:
        raise NotebookProblem(f"this notebook is for exercise {declared[:100]}, not {exercise.id}; "
                              f"submit your {exercise.notebook}")
    cells = [dict(tag, source=cell.source) for cell in notebook.cells if (tag := _cell_tag(cell)) is not None]
    if not {c["id"] for c in cells} & set(exercise.graded_cells):
        raise NotebookProblem(
            f"no graded cells of {exercise.id} found in this notebook. Work in the notebook we handed out: "
            "graded cells carry metadata that copying code into a new notebook loses"
        )
    size = len(json.dumps(cells))
    if size > MAX_CODE_BYTES:
        raise NotebookProblem(f"the setup and graded cells hold {mib(size)} of code, more than the "
                              f"{mib(MAX_CODE_BYTES)} limit; keep data and long outputs out of graded cells")
    return cells


def missing_graded_cells(cells: list[dict], exercise: Exercise) -> list[str]:
    found = {c["id"] for c in cells}
    return [name for name in exercise.graded_cells if name not in found]


def manual_answers(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The answers in the manual cells (``"role": "manual"``) as ``{question id: text}``, first cell of an id
    first; any cell type counts (a student may have turned the markdown cell into another kind)."""
    answers: dict[str, str] = {}
    for cell in notebook.cells:
        tag = cell.metadata.get("dlgrade")
        if isinstance(tag, dict) and tag.get("role") == "manual" and isinstance(tag.get("id"), str):
            answers.setdefault(tag["id"][:100], cell.source if isinstance(cell.source, str) else "")
    return answers
