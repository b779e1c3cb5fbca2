"""Test the tests: reference = full marks, template = zero, each mutant fails what it declares,
each honest variant keeps full marks. Every grading runs as its own ``dlgrade grade`` process."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dlgrade.exercise import load_exercise
from dlgrade.grade import ensure_reference_answers
from dlgrade.mutants import load_patches, write_patched
from dlgrade.reference_weights import reference_files


@dataclass
class Check:
    exercise: str
    subject: str
    expectation: str
    score: float
    max_score: float
    ok: bool
    detail: str


def grade_in_subprocess(*, notebook: Path, exercise_id: str, out_dir: Path) -> dict:
    """Grade through the CLI, as course staff would, and read back results.json."""
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(notebook), "--exercise", exercise_id,
                    "--out", str(out_dir)], check=True, capture_output=True)
    return json.loads((out_dir / "results.json").read_text())


def _failed_tests(results: dict) -> set[str]:
    return {t["extra_data"]["test_id"].split("::")[-1] for t in results["tests"] if t["status"] != "passed"}


def _why(results: dict, names: set[str]) -> str:
    """For each named test that did not pass: its outcome and the start of its message (what CI shows)."""
    lines = []
    for test in results["tests"]:
        name = test["extra_data"]["test_id"].split("::")[-1]
        if name in names:
            message = " ".join(test.get("output", "").split())[:400]
            lines.append(f"{name} ({test['extra_data'].get('outcome', test['status'])}): {message}")
    return "; ".join(lines)


def _with_files(notebook: Path, files: list[Path], folder: Path) -> Path:
    """A submission: the notebook alone, or a folder with the notebook and the given files."""
    if not files:
        return notebook
    folder.mkdir(parents=True, exist_ok=True)
    if notebook.parent != folder:
        shutil.copy(notebook, folder / notebook.name)
    for path in files:
        shutil.copy(path, folder / path.name)
    return folder


def verify_exercise(*, exercise_id: str, work_dir: Path, jobs: int = 1) -> list[Check]:
    """Grade the reference, the template, every mutant and every variant of one exercise in ``work_dir``.

    ``jobs`` gradings run at once (each is its own grader and sandbox process); the checks keep their order.
    The reference's answers are recorded first, as a batch does, so that the gradings replay them instead of
    each running the solution (and importing TensorFlow) on the trusted side again.
    """
    exercise = load_exercise(exercise_id)
    trained_files = reference_files(exercise)
    ensure_reference_answers(exercise)

    def grade(notebook: Path, label: str) -> dict:
        return grade_in_subprocess(notebook=notebook, exercise_id=exercise_id, out_dir=work_dir / label)

    def reference_check() -> Check:
        ref = grade(_with_files(exercise.solution, trained_files, work_dir / "reference-submission"), "reference")
        return Check(exercise_id, "reference", "full marks", ref["score"], ref["max_score"],
                     ref["score"] == ref["max_score"], _why(ref, _failed_tests(ref)))

    def template_check() -> Check:
        tpl = grade(exercise.template, "template")
        return Check(exercise_id, "template", "zero", tpl["score"], tpl["max_score"], tpl["score"] == 0, "")

    def patch_check(kind: str, patch) -> Check:
        notebook = write_patched(exercise=exercise, patch=patch, out_dir=work_dir / f"{kind}-{patch.name}")
        notebook = _with_files(notebook, trained_files, notebook.parent)
        results = grade(notebook, f"{kind}-{patch.name}-results")
        failed = _failed_tests(results)
        if patch.must_fail:
            missed = sorted(set(patch.must_fail) - failed)
            ok = not missed and results["score"] < results["max_score"]
            detail = f"still passes {', '.join(missed)}" if missed else f"fails {', '.join(sorted(failed))}"
            expectation = "loses points"
        else:
            ok = results["score"] == results["max_score"]
            detail = _why(results, failed)
            expectation = "full marks"
        return Check(exercise_id, f"{kind[:-1]} {patch.name}", expectation, results["score"],
                     results["max_score"], ok, detail)

    tasks = [reference_check, template_check]
    for kind in ("mutants", "variants"):
        tasks += [lambda kind=kind, patch=patch: patch_check(kind, patch)
                  for patch in load_patches(exercise.folder / kind)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda task: task(), tasks))
