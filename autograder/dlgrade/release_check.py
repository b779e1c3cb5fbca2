"""Grade the reference through a finished student bundle exactly as a student would: unpack the zip into a
fresh folder, put the solved notebook (and the reference's trained files) where the template was, and run
``dlgrade check`` there, with no course, solution or grader cache in reach. A bundle ships only when the
reference earns full public marks this way."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from dlgrade.exercise import Exercise
from dlgrade.reference_weights import reference_files


class BundleRefused(RuntimeError):
    """The reference does not earn full public marks through the bundle: the bundle must not ship."""


def check_through_bundle(*, archive: Path, exercise: Exercise) -> dict:
    """results.json of ``dlgrade check`` on the solution, run from the unpacked ``archive``."""
    trained = reference_files(exercise)
    with tempfile.TemporaryDirectory(prefix=f"dlgrade-release-check-{exercise.id}-") as scratch:
        scratch = Path(scratch)
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(scratch / "student")
        folder = scratch / "student" / exercise.id
        shutil.copy(exercise.solution, folder / exercise.notebook)  # the student's solved notebook
        for path in trained:
            shutil.copy(path, folder / path.name)
        nowhere = scratch / "no-course"
        nowhere.mkdir()
        # The engine is the installed one; the course (solutions, hidden tests, answer caches) and the grader's
        # data cache are out of reach, as on a student's machine. -P: the bundle's folder is not on sys.path.
        env = dict(os.environ, DLGRADE_COURSE_ROOT=str(nowhere), DLGRADE_CACHE=str(nowhere))
        done = subprocess.run([sys.executable, "-P", "-m", "dlgrade", "check", exercise.notebook,
                               "--out", str(scratch / "results")], cwd=folder, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BundleRefused(f"{exercise.id}: not shipped: `dlgrade check` of the reference from the unpacked "
                                f"bundle failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        return json.loads((scratch / "results" / "results.json").read_text())


def refusal(*, results: dict, exercise_id: str) -> str | None:
    """Why a bundle must not ship (the checks that lost points), or None when the reference earns full marks."""
    lost = [test for test in results["tests"] if test["score"] < test["max_score"]]
    if not lost and results["score"] == results["max_score"]:
        return None
    details = "; ".join(f"{test['name']} ({test['score']:g}/{test['max_score']:g}: {test['output'][:300]})"
                        for test in lost)
    notices = f" Notices: {results['output'][:600]}" if results.get("output") else ""
    return (f"{exercise_id}: not shipped: the reference earns {results['score']:g}/{results['max_score']:g} public "
            f"points through its bundle (`dlgrade check` from the unpacked zip). Checks that lost points: "
            f"{details}.{notices}")
