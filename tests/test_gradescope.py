"""The Gradescope autograder zip: its scripts, its contents, and run_autograder run outside Gradescope."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from dlgrade.exercise import load_exercise
from dlgrade.gradescope import build_gradescope_zip


def test_zip_holds_scripts_engine_and_exercise(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "autograder.zip")
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
    assert {"setup.sh", "run_autograder", "pyproject.toml", "grading_env/requirements.txt",
            "autograder/dlgrade/cli.py", "autograder/exercises/ch04_xor/test_hidden.py",
            "solutions/ch04_xor/ch04_xor.ipynb"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any("__pycache__" in name for name in names)
    for script in ("setup.sh", "run_autograder"):
        extracted = tmp_path / script
        extracted.write_bytes(zipfile.ZipFile(archive).read(script))
        assert subprocess.run(["bash", "-n", str(extracted)]).returncode == 0
    assert b"--allow-weaker-isolation" not in zipfile.ZipFile(archive).read("run_autograder")
    weaker = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "weaker.zip", allow_weaker_isolation=True)
    assert b"--out \"$ROOT/results\" --allow-weaker-isolation" in zipfile.ZipFile(weaker).read("run_autograder")


def test_run_autograder_grades_a_submission_into_results(tmp_path):
    exercise = load_exercise("ch04_xor")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "ag.zip")) as bundle:
        bundle.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    (root / "source" / ".venv").symlink_to(sys.prefix)
    (root / "submission").mkdir()
    shutil.copy(exercise.solution, root / "submission" / "ch04_xor.ipynb")
    done = subprocess.run([str(root / "source" / "run_autograder")], env=dict(os.environ, AUTOGRADER_ROOT=str(root)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 16
