"""The Gradescope autograder zip: its scripts, its contents and settings, and run_autograder run outside Gradescope
(its paths from its own location) into an HTML results.json with the plots."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli import main
from dlgrade.exercise import load_exercise
from dlgrade.gradescope import build_gradescope_zip

ROOT = Path(__file__).resolve().parents[1]


def test_zip_holds_scripts_engine_and_exercise(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "autograder.zip")
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "gradescope.json", "grading_env/requirements.txt",
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
    assert b"--gradescope \"$SOURCE/gradescope.json\" --allow-weaker-isolation" in \
        zipfile.ZipFile(weaker).read("run_autograder")
    for script in ("setup.sh", "run_autograder"):  # Gradescope's paths come from the scripts' own location
        lines = zipfile.ZipFile(archive).read(script).decode().splitlines()
        assert not [line for line in lines if re.search(r"(^|[\s\"'=:(])/autograder", line.split("#")[0])]


def test_cli_writes_the_settings_into_the_zip(tmp_path):
    out = tmp_path / "ag.zip"
    done = CliRunner().invoke(main, ["gradescope", "ch04_xor", "--out", str(out), "--stdout-visibility", "visible",
                                     "--leaderboard"])
    assert done.exit_code == 0, done.output
    assert json.loads(zipfile.ZipFile(out).read("gradescope.json")) == {
        "stdout_visibility": "visible", "visibility": "visible", "leaderboard": True}
    refused = CliRunner().invoke(main, ["gradescope", "ch04_xor", "--out", str(out), "--stdout-visibility", "all"])
    assert refused.exit_code == 2 and "'all' is not one of" in refused.output


@pytest.fixture
def autograder_root():
    """A folder to lay out as /autograder, outside /tmp: the sandbox gets a fresh /tmp, which would hide the engine."""
    (ROOT / "build").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="gradescope-", dir=ROOT / "build"))
    folder.chmod(0o755)  # mkdtemp's 0700 would shut out the sandbox's user
    yield folder / "autograder"
    shutil.rmtree(folder)


def test_run_autograder_grades_a_submission_into_results(tmp_path, autograder_root):
    """Laid out as Gradescope does: the zip in autograder/source, run_autograder copied to autograder/."""
    exercise = load_exercise("ch04_xor")
    root = autograder_root
    archive = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "ag.zip")
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    venv_python = root / "source" / ".venv" / "bin" / "python"  # what setup.sh makes; here, this interpreter
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/bash\nexec {sys.executable} "$@"\n')
    venv_python.chmod(0o755)
    (root / "submission").mkdir()
    submission = json.loads(exercise.solution.read_text())
    for cell in submission["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "xor_training":  # after its definitions
            cell["source"] = "".join(cell["source"]) + "\nraise ValueError('<script>alert(1)</script>')\n"
    (root / "submission" / "ch04_xor.ipynb").write_text(json.dumps(submission))
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_ROOT", "PYTHONPATH")}
    done = subprocess.run([str(root / "run_autograder")], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 16
    assert (results["output_format"], results["stdout_visibility"], results["visibility"]) == \
        ("html", "hidden", "visible")
    assert "leaderboard" not in results
    assert all(test["output_format"] == "html" for test in results["tests"])
    [plotted] = [t for t in results["tests"] if t["extra_data"]["test_id"].endswith("test_training_loss_decreases")]
    assert '<img alt="train_xor from a given start (100 epochs)" src="data:image/png;base64,iVBORw0KGgo' \
        in plotted["output"]
    assert "ValueError: &lt;script&gt;alert(1)&lt;/script&gt;" in results["output"]
    assert "<script>" not in json.dumps(results)
