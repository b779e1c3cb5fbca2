"""The trusted side on a minimal course (tests/course): points, partial credit, visibility, messages,
graded cells with IPython syntax, exploratory cells that never run, and submission folders."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

COURSE = Path(__file__).resolve().parent / "course"
SOLUTION = COURSE / "solutions" / "demo" / "demo.ipynb"


def grade(submission: Path, out: Path) -> dict:
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(COURSE))
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(submission), "--exercise", "demo",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "results.json").read_text())


def by_name(results: dict) -> dict:
    return {t["extra_data"]["test_id"].split("::")[-1]: t for t in results["tests"]}


def with_answer(source: str, folder: Path) -> Path:
    notebook = nbformat.read(SOLUTION, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("dlgrade", {}).get("id") == "answer":
            cell.source = source
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "demo.ipynb")
    return folder / "demo.ipynb"


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory):
    return grade(SOLUTION, tmp_path_factory.mktemp("ref"))


def test_points_visibility_and_messages(reference_results):
    tests = by_name(reference_results)
    assert tests["test_add"]["max_score"] == 3 and tests["test_add"]["score"] == 3
    assert tests["test_secret_source_stays_hidden"]["visibility"] == "hidden"
    assert tests["test_hidden_default_visibility"]["visibility"] == "after_due_date"
    assert tests["test_add"]["visibility"] == "visible"
    secret = tests["test_secret_source_stays_hidden"]
    assert secret["output"] == "add(40, 2) is not what this check wanted"
    assert "secret_expected" not in json.dumps(reference_results)


def test_broken_test_code_is_reported_as_such(reference_results):
    output = by_name(reference_results)["test_broken_test_code"]["output"]
    assert output.startswith("the check could not run on your answer (ZeroDivisionError")


def test_ipython_syntax_runs_and_exploratory_cells_do_not(reference_results):
    assert by_name(reference_results)["test_matplotlib_magic_was_skipped"]["status"] == "passed"
    assert reference_results["execution_time"] < 60  # an exploratory `while True` would have hit the limit
    assert "exploratory cells never run" not in json.dumps(reference_results)


def test_partial_credit(tmp_path):
    results = grade(with_answer("def add(a, b):\n    return round(a + b, 1)\n", tmp_path / "sub"), tmp_path / "out")
    partial = by_name(results)["test_partial"]
    assert partial["score"] == 0.5 and partial["status"] == "failed"
    assert "close to 0.75" in partial["output"]


def test_submission_folder_with_extra_files_and_a_link(tmp_path):
    folder = tmp_path / "alice"
    answer = ("import os\n\ndef add(a, b):\n    return a + b\n\n"
              "after_magics = open('data.txt').read() if not os.path.lexists('link.txt') else 'link copied'\n")
    with_answer(answer, folder)
    (folder / "data.txt").write_text("ran")
    (folder / "link.txt").symlink_to("/etc/passwd")
    results = grade(folder, tmp_path / "out")
    assert by_name(results)["test_matplotlib_magic_was_skipped"]["status"] == "passed"


def test_folder_with_two_unnamed_notebooks_is_refused_with_a_message(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        nbformat.write(nbformat.read(SOLUTION, as_version=4), folder / name)
    results = grade(folder, tmp_path / "out")
    assert results["score"] == 0
    assert "several notebooks in the submission and none named demo.ipynb" in results["output"]
    assert all("several notebooks" in t["output"] for t in results["tests"])


GRADE_BOTH = """
import json, sys
from pathlib import Path
from dlgrade.exercise import load_exercise
from dlgrade.grade import grade_submission

root = Path(sys.argv[1])
for exercise_id in ("first", "second"):
    results = grade_submission(submission=root, exercise=load_exercise(exercise_id, root=root),
                               out_dir=root / exercise_id, problem="no submission: only which tests run matters here")
    print(json.dumps({t["extra_data"]["test_id"]: t["output"] for t in results["tests"]}))
"""


def test_exercises_graded_in_one_process_each_run_their_own_tests_and_fixtures(tmp_path):
    """Every exercise's tests are modules named test_public and conftest: the second exercise graded by the same
    process must not run the first one's (pytest's importlib mode reuses a module already imported by name)."""
    from tiny_course import write_exercise

    for exercise_id in ("first", "second"):
        write_exercise(tmp_path, exercise_id, answer="x = 1\n",
                       conftest=f"import pytest\n\n@pytest.fixture\ndef which():\n    return {exercise_id!r}\n",
                       tests=f"def test_{exercise_id}(which):\n    assert False, 'fixture of ' + which\n")
    done = subprocess.run([sys.executable, "-c", GRADE_BOTH, str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert first == {"test_public.py::test_first": "fixture of first"}
    assert second == {"test_public.py::test_second": "fixture of second"}
