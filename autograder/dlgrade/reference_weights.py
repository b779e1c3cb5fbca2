"""Reference weights trained by the project's own code, for exercises whose submissions include weights.

In exercise.toml::

    [reference_weights]
    script = "train_reference.py"      # beside the tests (hidden), defines train(*, reference, data, out_dir)
    files = ["fashion_cnn.weights.h5"]  # what it writes; verify adds them to the reference's submission

``train`` gets the solution's namespace (``reference``), ``data(name)`` → the student split (x, y) of a
dataset the exercise declares, and the folder to write into; it returns measurements (a dict), kept as
``measurements.json``. Results are cached outside the clone in ``<cache>/reference-weights/<id>/<key>/``,
keyed by the solution, the script, the data splits and the engine version; a fresh machine trains anew.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from dlgrade import __version__
from dlgrade.datasets.locate import cache_root
from dlgrade.datasets.splits import student_split


def weights_key(exercise) -> str:
    digest = hashlib.sha256(__version__.encode())
    config = exercise.reference_weights
    for path in (exercise.solution, exercise.folder / config["script"]):
        digest.update(path.read_bytes())
    for spec in exercise.data:
        digest.update(spec.key().encode())
    for dependency in config.get("after", []):
        from dlgrade.exercise import load_exercise

        digest.update(weights_key(load_exercise(dependency, root=exercise.root)).encode())
    return digest.hexdigest()[:24]


def trained_reference(exercise) -> Path:
    """The folder holding the exercise's trained reference files (trained now if not cached)."""
    config = exercise.reference_weights
    folder = cache_root() / "reference-weights" / exercise.id / weights_key(exercise)
    if all((folder / name).is_file() for name in config["files"]):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(cache_root() / "reference-weights", 0o700)
    with open(folder.parent / ".training.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent release or verify waits for this training, then reuses it
        if not all((folder / name).is_file() for name in config["files"]):
            _train_into(exercise, folder)
    return folder


def _train_into(exercise, folder: Path) -> None:
    config = exercise.reference_weights
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=folder.parent))
    try:
        measurements = _run_script(exercise, scratch)
        missing = [name for name in config["files"] if not (scratch / name).is_file()]
        if missing:
            raise RuntimeError(f"{exercise.id}: {config['script']} did not write {', '.join(missing)}")
        (scratch / "measurements.json").write_text(json.dumps(measurements, indent=2))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def reference_files(exercise) -> list[Path]:
    """The trained reference files (weights) a full-marks submission includes beside the solution notebook;
    trained if not cached."""
    if not exercise.reference_weights:
        return []
    folder = trained_reference(exercise)
    return [folder / name for name in exercise.reference_weights["files"]]


def _run_script(exercise, out_dir: Path) -> dict:
    from dlgrade.reference import load_reference

    path = exercise.folder / exercise.reference_weights["script"]
    spec = importlib.util.spec_from_file_location(f"dlgrade_train_{exercise.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    specs = {s.dataset: s for s in exercise.data}
    started = time.monotonic()
    measurements = module.train(reference=load_reference(exercise).namespace, data=lambda name: student_split(specs[name]),
                                out_dir=out_dir) or {}
    return {"seconds": round(time.monotonic() - started, 1), **measurements}
