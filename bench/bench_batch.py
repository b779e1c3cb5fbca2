"""Batch throughput: the same class of ch04_xor submissions graded with --jobs 1 and --jobs 2 in one run
(target: at least 1.6x with two jobs on the 2-core machine); prints submissions per minute.

Run: .venv/bin/python bench/bench_batch.py [--students N]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))

from dlgrade.exercise import load_exercise  # noqa: E402
from dlgrade.grade import ensure_reference_answers  # noqa: E402
from dlgrade.mutants import load_patches, write_patched  # noqa: E402


def make_class(folder: Path, students: int) -> None:
    """Half reference copies, half mutants: the mix a real class gives."""
    exercise = load_exercise("ch04_xor")
    mutants = load_patches(exercise.folder / "mutants")
    for index in range(students):
        if index % 2 == 0:
            (folder / f"s{index:03d}").mkdir()
            shutil.copy(exercise.solution, folder / f"s{index:03d}" / exercise.notebook)
        else:
            write_patched(exercise=exercise, patch=mutants[index % len(mutants)], out_dir=folder / f"s{index:03d}")


def run(folder: Path, scratch: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(folder), "--exercise", "ch04_xor", "--jobs",
                    str(jobs), "--gradebook", str(scratch / f"jobs{jobs}.sqlite"), "--out", str(scratch / f"out{jobs}")],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=12)
    students = parser.parse_args().students
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        folder = scratch / "class"
        folder.mkdir()
        make_class(folder, students)
        started = time.perf_counter()
        ensure_reference_answers(load_exercise("ch04_xor"))  # once per solution version; both runs replay it
        print(f"reference answers ready in {time.perf_counter() - started:.1f} s")
        times = {jobs: run(folder, scratch, jobs) for jobs in (1, 2)}
    for jobs, seconds in times.items():
        print(f"--jobs {jobs}: {students} submissions in {seconds:.1f} s = {students * 60 / seconds:.1f} per minute")
    print(f"speed-up with 2 jobs: {times[1] / times[2]:.2f}x (target >= 1.6x)")


if __name__ == "__main__":
    main()
