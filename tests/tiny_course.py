"""A throw-away course of small exercises, written into a temporary folder by the tests that need one
(`DLGRADE_COURSE_ROOT` points there): each exercise has a solution, a template and public tests of its own."""
from pathlib import Path

import nbformat

CONFIG = 'title = "{id}"\nnotebook = "{id}.ipynb"\ngraded_cells = ["answer"]\n'


def notebook(exercise_id: str, answer: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(answer, metadata={"dlgrade": {"id": "answer", "role": "graded"}})
    return nbformat.v4.new_notebook(cells=[cell], metadata={"dlgrade": {"exercise": exercise_id}})


def write_exercise(root: Path, exercise_id: str, *, answer: str, tests: str, conftest: str | None = None) -> None:
    """``answer`` is the solution's graded cell; the template's raises NotImplementedError."""
    folder = root / "autograder" / "exercises" / exercise_id
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text(CONFIG.format(id=exercise_id))
    (folder / "test_public.py").write_text(tests)
    if conftest is not None:
        (folder / "conftest.py").write_text(conftest)
    for kind, source in (("solutions", answer), ("assignments", "raise NotImplementedError()\n")):
        (root / kind / exercise_id).mkdir(parents=True)
        nbformat.write(notebook(exercise_id, source), root / kind / exercise_id / f"{exercise_id}.ipynb")


def graded_results(score: float) -> dict:
    """A one-check results.json of ``score`` out of 16, as a grading writes it (for gradebook tests)."""
    return {"score": score, "max_score": 16.0, "execution_time": 1.0, "output": "",
            "extra_data": {"grader_version": "test"},
            "tests": [{"name": "t", "score": score, "max_score": 16.0, "status": "passed", "visibility": "visible",
                       "output": "", "extra_data": {"test_id": "test_public.py::test_t"}}]}
