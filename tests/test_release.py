"""Student bundles: contents, the leak scan (each kind of leak planted), the public checks students run with
`dlgrade check` from the bundle alone (the reference's answers replayed, no solution), and release's own
guarantee: every exercise released by one command, each bundle ships only when the reference earns full public
marks through it."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from dlgrade import __version__
from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.mutants import load_patches, write_patched
from dlgrade.reference_weights import reference_files
from dlgrade.release import scan_for_leaks
from tiny_course import write_exercise

EXERCISE = load_exercise("ch04_xor")
DLGRADE = Path(sys.executable).parent / "dlgrade"  # the command a student runs


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """Every exercise released by one command (two at a time, each by its own process)."""
    out = tmp_path_factory.mktemp("release")
    done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "--out", str(out)], capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def check(notebook: Path, checks: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check", str(notebook), "--checks", str(checks)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bundle_contents(released):
    names = set(zipfile.ZipFile(released / "ch04_xor.zip").namelist())
    assert names == {"ch04_xor/ch04_xor.ipynb", "ch04_xor/README.md", "ch04_xor/checks/exercise.toml",
                     "ch04_xor/checks/test_public.py", "ch04_xor/checks/conftest.py",
                     "ch04_xor/checks/reference_answers.dlg", "ch04_xor/requirements.txt",
                     f"ch04_xor/dlgrade-{__version__}-py3-none-any.whl"}
    assert (released / "ch04_xor" / "ch04_xor.ipynb").read_text() == EXERCISE.template.read_text()
    assert scan_for_leaks(released / "ch04_xor", exercises=[EXERCISE]) == []


def plant(released: Path, tmp_path: Path, name: str, content: bytes) -> list[str]:
    copy = tmp_path / "copy"
    shutil.copytree(released / "ch04_xor", copy)
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
def test_each_planted_leak_is_found(released, tmp_path, name, content, expected):
    leaks = plant(released, tmp_path, name, content if content is not None else solution_in_template())
    assert any(expected in leak for leak in leaks), leaks


def test_public_checks_run_from_the_bundle_alone(released, tmp_path):
    checks = released / "ch04_xor" / "checks"
    output = check(released / "ch04_xor" / "ch04_xor.ipynb", checks)
    assert "total 0/9" in output and "hidden checks are worth 7 more points (total 16)" in " ".join(output.split())
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


def test_pack_builds_the_submission_warns_of_what_is_missing_and_refuses_what_is_too_large(released, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(released / "ch04_xor", student)
    config = student / "checks" / "exercise.toml"
    config.write_text(config.read_text().replace("files = []", 'files = ["xor.weights.h5"]')
                      .replace("submission_bytes = ", "submission_bytes = 4000000 #"))
    notebook = student / "ch04_xor.ipynb"
    missing = pack(notebook, student / "checks")
    assert missing.returncode == 0, missing.stderr
    assert "warning: xor.weights.h5 not found beside ch04_xor.ipynb" in missing.stderr
    assert zipfile.ZipFile(student / "ch04_xor-submission.zip").namelist() == ["ch04_xor.ipynb"]
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


def test_earlier_reference_weights_ship_only_when_asked(released, tmp_path):
    """ch10 may ship ch08's trained reference weights, when the instructor asks for it explicitly."""
    from dlgrade.reference_weights import trained_reference

    assert not (released / "ch10_transfer" / "fashion_cnn.weights.h5").exists()
    out = tmp_path / "release"
    done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "ch10_transfer", "--out", str(out),
                           "--release-weights-of", "ch08_fashion_cnn"], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    with_weights = out / "ch10_transfer"
    shipped = with_weights / "fashion_cnn.weights.h5"
    reference = trained_reference(load_exercise("ch08_fashion_cnn")) / "fashion_cnn.weights.h5"
    assert shipped.read_bytes() == reference.read_bytes()
    exercise = load_exercise("ch10_transfer")
    assert scan_for_leaks(with_weights, exercises=[exercise], released={reference}) == []
    assert "fashion_cnn.weights.h5 looks like weights or data" in scan_for_leaks(with_weights, exercises=[exercise])
    (with_weights / "transfer.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    assert "transfer.weights.h5 looks like weights or data" in scan_for_leaks(with_weights, exercises=[exercise],
                                                                               released={reference})


def student_check(exercise_id: str, *, released: Path, tmp_path: Path) -> dict:
    """What a student who solved the exercise sees: the zip unpacked, the solved notebook (and the trained files
    it asks for) in place of the template, `dlgrade check` run there with no course in reach."""
    exercise = load_exercise(exercise_id)
    student = tmp_path / exercise_id
    with zipfile.ZipFile(released / f"{exercise_id}.zip") as bundle:
        bundle.extractall(student)
    folder = student / exercise_id
    shutil.copy(exercise.solution, folder / exercise.notebook)
    for path in reference_files(exercise):
        shutil.copy(path, folder / path.name)
    (tmp_path / "no-course").mkdir(exist_ok=True)
    done = subprocess.run([str(DLGRADE), "check", exercise.notebook, "--out", str(student / "results")], cwd=folder,
                          env=dict(os.environ, DLGRADE_COURSE_ROOT=str(tmp_path / "no-course")), capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((student / "results" / "results.json").read_text())


def test_every_reference_earns_full_public_marks_from_its_unpacked_bundle(released, tmp_path):
    """`dlgrade release` of all exercises in one command: each bundle carries its own exercise's answers (the
    second of two exercises once shipped the first one's tests' answers: 0 answers, 5/10 for correct work)."""
    ids = exercise_ids()
    assert len(ids) >= 8 and sorted(p.name for p in released.glob("*.zip")) == [f"{i}.zip" for i in ids]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(ids, pool.map(lambda i: student_check(i, released=released, tmp_path=tmp_path), ids)))
    lost = {i: [f"{t['name']}: {t['output']}" for t in r["tests"] if t["status"] != "passed"]
            for i, r in results.items()}
    assert not any(lost.values()), lost
    assert all(r["score"] == r["max_score"] > 0 for r in results.values()), {i: r["score"] for i, r in results.items()}


PROBE_TESTS = """import numpy as np


def test_doubles_a_probe(student, reference):
    \"\"\"double(x) equals the reference's on a probe\"\"\"
    x = np.random.default_rng({seed}).normal(size=3)
    assert np.allclose(student.double(x), reference.double(x)), "double(x) differs from the reference's"


def test_doubles_one(student):
    \"\"\"double(1.0) is 2.0\"\"\"
    assert student.double(1.0) == 2.0, "double(1.0) is not 2.0"
"""


def test_release_refuses_a_bundle_through_which_the_reference_loses_points(tmp_path):
    """'fickle' probes with a new random input on every run, so its bundle's recorded answers never hold the one a
    student's check asks for: the reference would lose that check through the bundle, which must not ship.
    'steady' (a seeded probe) ships from the same command."""
    course = tmp_path / "course"
    for exercise_id, seed in (("steady", 7), ("fickle", None)):
        write_exercise(course, exercise_id, answer="def double(x):\n    return 2 * x\n",
                       tests=PROBE_TESTS.format(seed=seed))
    out = tmp_path / "release"
    done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "--out", str(out)], capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, DLGRADE_COURSE_ROOT=str(course)))
    assert done.returncode != 0
    assert "fickle: not shipped: the reference earns 1/2 public points through its bundle" in done.stderr, done.stderr
    assert "double(x) equals the reference's on a probe (0/1" in done.stderr
    assert "1 of 2 bundles not shipped: fickle" in done.stderr
    assert f"wrote {out / 'steady.zip'} (the reference earns 2/2 public points through it)" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["steady", "steady.zip"]
