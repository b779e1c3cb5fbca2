"""How long a sandbox takes to start, engine only: a one-line graded cell, from ``StudentSession.start`` to the
cell's report (Python, TensorFlow and Keras imported inside the sandbox). Run it with two versions' Pythons
to see what a change to the sandbox costs per grading, free of any change to an exercise's tests.

Run: PYTHON bench/bench_sandbox_start.py [--repeat N]    (prints one line: medians and ranges, seconds)
"""
from __future__ import annotations

import argparse
import inspect
import statistics
import tempfile
import time
from pathlib import Path

from dlgrade.proxy import StudentSession
from dlgrade.sandbox.limits import SandboxLimits


def one_start(submission: Path) -> tuple[float, float]:
    """Seconds until ``start`` returns (for the default-deny view: the view is built) and until the cell ran."""
    extra = {"hidden_paths": []} if "hidden_paths" in inspect.signature(StudentSession).parameters else {}
    session = StudentSession(submission=submission, cells=[{"id": "one", "role": "graded", "source": "x = 1\n"}],
                             limits=SandboxLimits(), **extra)
    started = time.perf_counter()
    session.start()
    returned = time.perf_counter()
    session.live_sandbox()
    ready = time.perf_counter()
    session.close()
    return returned - started, ready - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        submission = Path(scratch) / "submission"
        submission.mkdir()
        (submission / "notebook.ipynb").write_text("{}")
        one_start(submission)  # warm the file cache
        runs = [one_start(submission) for _ in range(arguments.repeat)]
    for label, values in (("start returns", [r[0] for r in runs]), ("cell ran", [r[1] for r in runs])):
        print(f"{label}: {statistics.median(values):.3f} s median ({min(values):.3f}–{max(values):.3f}, "
              f"{len(values)} runs)")


if __name__ == "__main__":
    main()
