"""The reference solution, loaded on the trusted side only (never copied into a sandbox)."""
from __future__ import annotations

import types

from dlgrade.exercise import Exercise
from dlgrade.notebook import read_notebook, runnable_cells


def load_reference(exercise: Exercise) -> types.SimpleNamespace:
    """Run the solution notebook's setup and graded cells in a fresh namespace and return it."""
    namespace: dict = {"__name__": f"dlgrade_reference_{exercise.id}"}
    for cell in runnable_cells(read_notebook(exercise.solution), exercise):
        exec(compile(cell["source"], f"<reference {exercise.id}:{cell['id']}>", "exec"), namespace)
    return types.SimpleNamespace(**namespace)
