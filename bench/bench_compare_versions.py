"""Grading time of every exercise's reference under two versions of dlgrade, interleaved (A, B, A, B, ...)
so that a change of load on the machine hits both alike. Used for the default-deny file view (issue 11):
the view must not cost more than 1 s per grading.

The earlier version is another Python environment whose ``dlgrade`` is an earlier commit, e.g.:

    git worktree add /tmp/old-dlgrade <commit>
    cp -a .venv /tmp/old-venv && echo /tmp/old-dlgrade/autograder > \\
        /tmp/old-venv/lib/python3.11/site-packages/__editable__.dlgrade-0.1.0.pth

Run: .venv/bin/python bench/bench_compare_versions.py --before /tmp/old-venv/bin/python [ID...] [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.reference_weights import reference_files
from dlgrade.verify import _with_files


def time_grading(python: str, submission: Path, exercise_id: str, out_dir: Path) -> tuple[float, float]:
    """Wall time of one CLI grading and the score it gave."""
    started = time.perf_counter()
    subprocess.run([python, "-m", "dlgrade", "grade", str(submission), "--exercise", exercise_id, "--out", str(out_dir)],
                   check=True, capture_output=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - started, json.loads((out_dir / "results.json").read_text())["score"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--before", required=True, help="python of the earlier dlgrade")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    print("| exercise | before (median, range) | after (median, range) | after − before (median of pairs) | scores |")
    print("|---|---|---|---|---|")
    for exercise_id in arguments.ids or exercise_ids():
        exercise = load_exercise(exercise_id)
        with tempfile.TemporaryDirectory() as scratch:
            submission = _with_files(exercise.solution, reference_files(exercise), Path(scratch) / "submission")
            for python in (arguments.before, sys.executable):  # untimed: the first grading records the answer cache
                time_grading(python, submission, exercise_id, Path(scratch) / "warm-up")
            pairs = []
            for run in range(arguments.repeat):
                before = time_grading(arguments.before, submission, exercise_id, Path(scratch) / f"before{run}")
                after = time_grading(sys.executable, submission, exercise_id, Path(scratch) / f"after{run}")
                pairs.append((before, after))
        b = [p[0][0] for p in pairs]
        a = [p[1][0] for p in pairs]
        scores = sorted({f"{p[0][1]:g}/{p[1][1]:g}" for p in pairs})
        print(f"| {exercise_id} | {statistics.median(b):.1f} s ({min(b):.1f}–{max(b):.1f}) | "
              f"{statistics.median(a):.1f} s ({min(a):.1f}–{max(a):.1f}) | "
              f"{statistics.median(x - y for y, x in zip(b, a)):+.2f} s | {', '.join(scores)} |", flush=True)


if __name__ == "__main__":
    main()
