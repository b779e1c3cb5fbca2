"""Student bundles: contents, the leak scan (each kind of leak planted), and the public checks students
run with `dlgrade check` from the bundle alone (the reference's answers replayed, no solution)."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from dlgrade.exercise import load_exercise
from dlgrade.mutants import load_patches, write_patched
from dlgrade.release import scan_for_leaks

EXERCISE = load_exercise("ch04_xor")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    subprocess.run([sys.executable, "-m", "dlgrade", "release", "ch04_xor", "--out", str(out)], check=True,
                   capture_output=True)
    return out


def check(notebook: Path, checks: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check", str(notebook), "--checks", str(checks)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bundle_contents(bundle):
    names = set(zipfile.ZipFile(bundle / "ch04_xor.zip").namelist())
    assert names == {"ch04_xor/ch04_xor.ipynb", "ch04_xor/README.md", "ch04_xor/checks/exercise.toml",
                     "ch04_xor/checks/test_public.py", "ch04_xor/checks/conftest.py",
                     "ch04_xor/checks/reference_answers.dlg"}
    assert (bundle / "ch04_xor" / "ch04_xor.ipynb").read_text() == EXERCISE.template.read_text()
    assert scan_for_leaks(bundle / "ch04_xor", exercises=[EXERCISE]) == []


def plant(bundle: Path, tmp_path: Path, name: str, content: bytes) -> list[str]:
    copy = tmp_path / "copy"
    shutil.copytree(bundle / "ch04_xor", copy)
    (copy / name).parent.mkdir(parents=True, exist_ok=True)
    (copy / name).write_bytes(content)
    return scan_for_leaks(copy, exercises=[EXERCISE])


def solution_in_template() -> bytes:
    template = nbformat.read(EXERCISE.template, as_version=4)
    solution = nbformat.read(EXERCISE.solution, as_version=4)
    template.cells = [s if s.metadata.get("dlgrade", {}).get("id") == "xor_model" else t
                      for t, s in zip(template.cells, solution.cells)]
    return nbformat.writes(template).encode()


@pytest.mark.parametrize("name, content, expected", [
    ("extra/ch04_xor.ipynb", EXERCISE.solution.read_bytes(), "is a copy of solutions/ch04_xor/ch04_xor.ipynb"),
    ("checks/test_hidden.py", EXERCISE.hidden_tests.read_bytes(), "hidden material by its name"),
    ("checks/more_checks.py", b"def test_training_solves_xor(student):\n    pass\n", "names the hidden test"),
    ("notes.txt", b"### BEGIN SOLUTION\nreturn 1\n### END SOLUTION\n", "'### BEGIN SOLUTION' region"),
    ("xor.weights.h5", b"\x89HDF\r\n", "looks like weights or data"),
    ("ch04_xor.ipynb", None, "holds a solution cell"),
    ("mutant.toml", (EXERCISE.folder / "mutants" / "neuron_per_row.toml").read_bytes(), "is a copy of"),
])
def test_each_planted_leak_is_found(bundle, tmp_path, name, content, expected):
    leaks = plant(bundle, tmp_path, name, content if content is not None else solution_in_template())
    assert any(expected in leak for leak in leaks), leaks


def test_public_checks_run_from_the_bundle_alone(bundle, tmp_path):
    checks = bundle / "ch04_xor" / "checks"
    assert "total 0/9" in check(bundle / "ch04_xor" / "ch04_xor.ipynb", checks)
    solved = tmp_path / "solved.ipynb"
    shutil.copy(EXERCISE.solution, solved)
    assert "total 9/9" in check(solved, checks)
    mutant = next(p for p in load_patches(EXERCISE.folder / "mutants") if p.name == "neuron_per_row")
    wrong = write_patched(exercise=EXERCISE, patch=mutant, out_dir=tmp_path / "mutant")
    output = check(wrong, checks)
    assert "total 9/9" not in output and "differ beyond tolerance" in output


def pack(notebook: Path, checks: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlgrade", "pack", str(notebook), "--checks", str(checks)],
                          capture_output=True, text=True)


def test_pack_builds_the_submission_and_refuses_what_is_missing_or_too_large(bundle, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(bundle / "ch04_xor", student)
    config = student / "checks" / "exercise.toml"
    config.write_text(config.read_text().replace("files = []", 'files = ["xor.weights.h5"]')
                      .replace("submission_bytes = ", "submission_bytes = 4000000 #"))
    notebook = student / "ch04_xor.ipynb"
    missing = pack(notebook, student / "checks")
    assert missing.returncode != 0
    assert "xor.weights.h5 not found beside ch04_xor.ipynb; save it" in missing.stderr
    (student / "xor.weights.h5").write_bytes(b"0" * 1000)
    done = pack(notebook, student / "checks")
    assert done.returncode == 0, done.stderr
    assert set(zipfile.ZipFile(student / "ch04_xor-submission.zip").namelist()) == {"ch04_xor.ipynb", "xor.weights.h5"}
    (student / "xor.weights.h5").write_bytes(b"0" * 5_000_000)
    too_large = pack(notebook, student / "checks")
    assert too_large.returncode != 0 and "the limit is 3 MiB" in too_large.stderr
    (student / "broken.ipynb").write_text("{not json")
    broken = pack(student / "broken.ipynb", student / "checks")
    assert broken.returncode != 0 and "not a valid Jupyter notebook" in broken.stderr


def test_earlier_reference_weights_ship_only_when_asked(tmp_path):
    """ch10 may ship ch08's trained reference weights, when the instructor asks for it explicitly."""
    from dlgrade.reference_weights import trained_reference

    def release(*extra):
        out = tmp_path / f"release{len(extra)}"
        done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "ch10_transfer", "--out", str(out), *extra],
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-2000:]
        return out / "ch10_transfer"

    plain = release()
    assert not (plain / "fashion_cnn.weights.h5").exists()
    with_weights = release("--release-weights-of", "ch08_fashion_cnn")
    shipped = with_weights / "fashion_cnn.weights.h5"
    reference = trained_reference(load_exercise("ch08_fashion_cnn")) / "fashion_cnn.weights.h5"
    assert shipped.read_bytes() == reference.read_bytes()
    exercise = load_exercise("ch10_transfer")
    assert scan_for_leaks(with_weights, exercises=[exercise], released={reference}) == []
    assert "fashion_cnn.weights.h5 looks like weights or data" in scan_for_leaks(with_weights, exercises=[exercise])
    (with_weights / "transfer.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    assert "transfer.weights.h5 looks like weights or data" in scan_for_leaks(with_weights, exercises=[exercise],
                                                                               released={reference})
