"""Wall time of grading each exercise's reference submission (the notebook plus, where the exercise asks
for them, the reference weights CI trains), TF import included; target <= 30 s each on the 2-core machine.
Also prints each trained reference's measurements (training time, accuracy).

Run: .venv/bin/python bench/bench_grade_exercises.py [ID...] [--repeat N]
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


def time_grading(submission: Path, exercise_id: str, out_dir: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(submission), "--exercise", exercise_id,
                    "--out", str(out_dir)], check=True, capture_output=True)
    return time.perf_counter() - started, json.loads((out_dir / "results.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    for exercise_id in arguments.ids or exercise_ids():
        exercise = load_exercise(exercise_id)
        files = reference_files(exercise)
        if files:
            print(f"{exercise_id}: reference training {json.loads((files[0].parent / 'measurements.json').read_text())}")
        with tempfile.TemporaryDirectory() as scratch:
            submission = _with_files(exercise.solution, files, Path(scratch) / "submission")
            runs = [time_grading(submission, exercise_id, Path(scratch) / f"out{i}") for i in range(arguments.repeat)]
        seconds = [s for s, _ in runs]
        results = runs[-1][1]
        print(f"{exercise_id}: grading the reference {statistics.median(seconds):.1f} s median "
              f"({min(seconds):.1f}-{max(seconds):.1f}, {len(seconds)} runs), score {results['score']:g}/{results['max_score']:g}")


if __name__ == "__main__":
    main()
