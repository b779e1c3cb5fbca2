"""Templates are generated from the master notebooks by nbgrader's preprocessors and kept in sync."""
import shutil
import subprocess
import sys

import nbformat

from dlgrade.assign import assign, build_template
from dlgrade.exercise import course_root, exercise_ids, load_exercise


def test_committed_templates_are_up_to_date():
    done = subprocess.run([sys.executable, "-m", "dlgrade", "assign", "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_template_keeps_graded_metadata_and_drops_solutions():
    for exercise_id in exercise_ids():
        template = build_template(load_exercise(exercise_id))
        text = nbformat.writes(template)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        graded = [c for c in template.cells if c.metadata.get("dlgrade", {}).get("role") == "graded"]
        assert graded and all("raise NotImplementedError()" in c.source for c in graded)
        setup = [c for c in template.cells if c.metadata.get("dlgrade", {}).get("role") == "setup"]
        assert all(c.metadata["nbgrader"]["locked"] and c.metadata["nbgrader"]["checksum"] for c in setup)


def test_check_reports_a_stale_template(tmp_path):
    root = tmp_path / "course"
    for folder in ("autograder/exercises/ch04_xor", "solutions/ch04_xor", "assignments/ch04_xor"):
        shutil.copytree(course_root() / folder, root / folder)
    solution = root / "solutions" / "ch04_xor" / "ch04_xor.ipynb"
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells[0].source += "\n\nA new sentence from the instructor."
    nbformat.write(notebook, solution)
    assert assign(ids=["ch04_xor"], check=True, root=root) == [root / "assignments" / "ch04_xor" / "ch04_xor.ipynb"]
    assign(ids=["ch04_xor"], root=root)
    assert assign(ids=["ch04_xor"], check=True, root=root) == []
