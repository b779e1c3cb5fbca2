"""Student bundles: the template, the public checks, the reference's recorded answers to those checks and
a README, the student splits of the exercise's datasets (``data/``); a leak scan proving a bundle holds
no solution, hidden test, hidden example or weights; and the reference graded through the finished bundle
(``release_check``), which must earn full public marks. Each exercise is released by its own process."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np

from dlgrade.datasets.splits import SplitSpec, hidden_split, read_split, row_keys, student_file_name
from dlgrade.distribution import engine_wheel, student_requirements
from dlgrade.exercise import Exercise, load_exercise
from dlgrade.grade import grade_submission
from dlgrade.notebook import read_notebook, runnable_cells
from dlgrade.pack import graded_cell_digests
from dlgrade.release_check import BundleRefused, check_through_bundle, refusal

STUDENT_README = """# {title} ({id})

0. Install dlgrade and what the checks need (once, in this folder; a virtual environment is best):

       pip install -r requirements.txt

1. Open `{notebook}` in Jupyter and fill in every cell that says `raise NotImplementedError()`.
   Keep the function names and arguments; do not delete or copy the graded cells into a new notebook.
2. Save the notebook, then check it against the public checks:

       dlgrade check {notebook}

   (from a notebook cell: `!dlgrade check {notebook}`). Each check prints pass or fail and a hint.
   The grader runs more checks than these, with other inputs.
{data_note}3. Submit `{notebook}`{extra}: `dlgrade pack {notebook}` checks that everything is there and writes
   the zip to upload.
"""
DATA_NOTE = """   `data/` holds the examples you train and validate on; the loaders in the notebook
   (`from dlgrade.datasets import ...`) read them from there. The grader tests on other examples.
"""
SECRET_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")
WEIGHT_SUFFIXES = (".h5", ".keras", ".pb", ".ckpt", ".npz", ".pkl", ".pt")


def _public_config(exercise: Exercise) -> str:
    """The bundle's exercise.toml: what the checks need, without the grader's notes on hidden tests."""
    limits = exercise.limits
    released = graded_cell_digests(runnable_cells(read_notebook(exercise.template), exercise), exercise)
    return "\n".join([
        f"id = {json.dumps(exercise.id)}",
        f"title = {json.dumps(exercise.title)}",
        f"notebook = {json.dumps(exercise.notebook)}",
        f"graded_cells = [{', '.join(json.dumps(c) for c in exercise.graded_cells)}]",
        "",
        "[grading]  # what the grader's hidden checks are worth: `dlgrade check` says so after the public total",
        f"hidden_points = {exercise.hidden_points or 0:g}",
        "",
        "[submission]",
        f"files = [{', '.join(json.dumps(f) for f in exercise.submit_files)}]",
        "",
        "[student_data]",
        f"files = [{', '.join(json.dumps(name) for name in exercise.student_data())}]",
        "",
        "[template]  # SHA-256 of the graded cells as released: pack warns about a cell left as it was",
        *(f"{json.dumps(cell)} = {json.dumps(digest)}" for cell, digest in released.items()),
        "",
        "[limits]",
        f"call_timeout_s = {limits.call_timeout_s}",
        f"startup_timeout_s = {limits.startup_timeout_s}",
        f"submission_timeout_s = {limits.submission_timeout_s}",
        f"submission_bytes = {limits.submission_bytes}",
        "",
    ])


def released_weights(exercise_ids: list[str]) -> dict[str, Path]:
    """The trained reference weights of earlier exercises an instructor chose to release (e.g. ch08's
    fashion_cnn.weights.h5 with ch10, after ch08's deadline), by file name."""
    from dlgrade.reference_weights import trained_reference

    files = {}
    for earlier in exercise_ids:
        exercise = load_exercise(earlier)
        if not exercise.reference_weights:
            raise ValueError(f"{earlier} has no reference weights to release")
        folder = trained_reference(exercise)
        files.update({name: folder / name for name in exercise.reference_weights["files"]})
    return files


def build_bundle(*, exercise_id: str, out_dir: Path, release_weights_of: tuple[str, ...] = ()) -> tuple[Path, dict]:
    """Write ``out_dir/<id>/`` and ``out_dir/<id>.zip``; returns the zip and the reference's results through it.
    Refuses to ship (BundleRefused, no zip) a bundle that leaks (its folder stays, to inspect) or through which
    the reference loses public points (folder and zip removed). ``release_weights_of`` names earlier
    exercises whose reference weights ship too (only when asked)."""
    exercise = load_exercise(exercise_id)
    folder, archive = out_dir / exercise.id, out_dir / f"{exercise.id}.zip"
    archive.unlink(missing_ok=True)  # a refused release never leaves an earlier zip looking shipped
    if folder.exists():
        shutil.rmtree(folder)
    checks = folder / "checks"
    checks.mkdir(parents=True)
    shutil.copy(exercise.template, folder / exercise.notebook)
    extra = "".join(f" and `{name}`" for name in exercise.submit_files)
    data_note = DATA_NOTE if exercise.data else ""
    (folder / "README.md").write_text(STUDENT_README.format(id=exercise.id, title=exercise.title, data_note=data_note,
                                                            notebook=exercise.notebook, extra=extra))
    wheel = engine_wheel()
    shutil.copy(wheel, folder / wheel.name)
    shutil.copy(exercise.public_tests, checks / "test_public.py")
    if (exercise.folder / "conftest.py").exists():
        shutil.copy(exercise.folder / "conftest.py", checks / "conftest.py")
    sources = [exercise.solution, *checks.glob("*.py")]
    (folder / "requirements.txt").write_text(student_requirements(sources=sources, wheel_name=wheel.name))
    (checks / "exercise.toml").write_text(_public_config(exercise))
    for name, split in exercise.student_data().items():
        (folder / "data").mkdir(exist_ok=True)
        shutil.copy(split, folder / "data" / name)
    with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as scratch:
        grade_submission(submission=exercise.solution, exercise=exercise, out_dir=Path(scratch),
                         include_hidden=False, record_answers_to=checks / "reference_answers.dlg")
    released = released_weights(list(release_weights_of))
    for name, path in released.items():
        shutil.copy(path, folder / name)
    leaks = scan_for_leaks(folder, exercises=[exercise], released=set(released.values()))
    if leaks:
        raise BundleRefused(f"{exercise.id}: the bundle would leak: " + "; ".join(leaks))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, str(path.relative_to(out_dir)))
    try:
        results = check_through_bundle(archive=archive, exercise=exercise)
        reason = refusal(results=results, exercise_id=exercise.id)
        if reason:
            raise BundleRefused(f"{reason} The bundle was removed.")
    except BaseException:
        archive.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return archive, results


def release_in_processes(*, exercise_ids: list[str], out_dir: Path, jobs: int,
                         release_weights_of: tuple[str, ...] = (), report) -> list[str]:
    """Release each exercise by its own ``dlgrade release ID`` process, ``jobs`` at a time, so each one's tests
    are imported as its own modules in a fresh TensorFlow. ``report(id, shipped, message)`` hears of each as
    it ends; returns the ids not shipped."""
    def release_one(exercise_id: str) -> bool:
        command = [sys.executable, "-m", "dlgrade", "release", exercise_id, "--out", str(out_dir)]
        for earlier in release_weights_of:
            command += ["--release-weights-of", earlier]
        done = subprocess.run(command, capture_output=True, text=True)
        error = done.stderr[done.stderr.rfind("Error: "):] if "Error: " in done.stderr else done.stderr[-3000:]
        report(exercise_id, done.returncode == 0, done.stdout.strip() if done.returncode == 0 else error.strip())
        return done.returncode == 0

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        shipped = list(pool.map(release_one, exercise_ids))
    return [exercise_id for exercise_id, ok in zip(exercise_ids, shipped) if not ok]


def _hidden_fingerprints(exercise: Exercise) -> dict[str, str]:
    """SHA-256 of every file that must never ship: solutions, hidden tests, mutants, variants."""
    files = [p for p in exercise.solution.parent.rglob("*") if p.is_file()]
    files += [exercise.hidden_tests] if exercise.hidden_tests.exists() else []
    for kind in ("mutants", "variants"):
        files += [p for p in (exercise.folder / kind).glob("*") if p.is_file()]
    return {hashlib.sha256(p.read_bytes()).hexdigest(): str(p.relative_to(exercise.root)) for p in files}


def _solution_cells(exercise: Exercise) -> set[str]:
    """The solution's cells that must never ship: solution regions, and model answers to manual questions."""
    notebook = nbformat.read(exercise.solution, as_version=4)
    return {c.source.strip() for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.source.strip()
            and ("BEGIN SOLUTION" in c.source or c.metadata.get("dlgrade", {}).get("role") == "manual")}


def _hidden_test_names(exercise: Exercise) -> set[str]:
    if not exercise.hidden_tests.exists():
        return set()
    public = exercise.public_tests.read_text()
    return {line.split("(")[0][4:] for line in exercise.hidden_tests.read_text().splitlines()
            if line.startswith("def test_") and line.split("(")[0][4:] not in public}


def _hidden_examples_in(path: Path, name: str, spec: SplitSpec) -> list[str]:
    """A shipped student split must hold no example of the grader's hidden split."""
    try:
        shipped = read_split(path)
    except (OSError, ValueError, KeyError) as error:
        return [f"{name} is not a readable split file ({error})"]
    overlap = np.isin(row_keys(*shipped), row_keys(*hidden_split(spec))).sum()
    return [f"{name} holds {overlap} examples of the hidden split"] if overlap else []


def scan_for_leaks(folder: Path, *, exercises: list[Exercise], released: set[Path] = frozenset()) -> list[str]:
    """Every way ``folder`` (an unpacked bundle) gives away hidden material; empty when it is clean.
    ``released`` are files an instructor released on purpose (earlier exercises' reference weights): a
    bundle file identical to one of them is allowed; any other weights file is a leak."""
    released_hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in released}
    leaks = []
    fingerprints, solution_cells, hidden_names = {}, set(), set()
    student_files = {f"data/{student_file_name(spec.dataset)}": spec for e in exercises for spec in e.data}
    for exercise in exercises:
        fingerprints.update(_hidden_fingerprints(exercise))
        solution_cells |= _solution_cells(exercise)
        hidden_names |= _hidden_test_names(exercise)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() in fingerprints:
            leaks.append(f"{name} is a copy of {fingerprints[hashlib.sha256(data).hexdigest()]}")
        if path.name == "test_hidden.py" or path.parts[-2:-1] == ("solutions",):
            leaks.append(f"{name} is hidden material by its name")
        if name in student_files:
            leaks += _hidden_examples_in(path, name, student_files[name])
        elif hashlib.sha256(data).hexdigest() in released_hashes:
            continue
        elif path.suffix in WEIGHT_SUFFIXES:
            leaks.append(f"{name} looks like weights or data")
        text = data.decode("utf-8", "replace")
        leaks += [f"{name} holds a {marker!r} region" for marker in SECRET_MARKERS if marker in text]
        leaks += [f"{name} names the hidden test {test}" for test in sorted(hidden_names) if test in text]
        if path.suffix == ".ipynb":
            try:
                cells = {c.source.strip() for c in nbformat.reads(text, as_version=4).cells}
            except Exception:
                cells = set()
            if cells & solution_cells:
                leaks.append(f"{name} holds a solution cell")
    return leaks
