"""How long two everyday commands take, process start included: ``dlgrade release ch04_xor`` (the reference's
trained files already cached; the bundle is checked by grading the reference through it) and, in the
unpacked bundle, ``dlgrade check`` of the untouched template as a student runs it. Targets: release of one
exercise <= 30 s, check <= 10 s (issue 13, on the idle 2-core machine).

Run: PYTHON bench/bench_release_check.py [--repeat N]    (prints one line per command: median and range, seconds)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

EXERCISE = "ch04_xor"


def timed(command: list[str], *, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def line(what: str, seconds: list[float]) -> str:
    return (f"{what}: median {statistics.median(seconds):.1f} s ({min(seconds):.1f}-{max(seconds):.1f}, "
            f"{len(seconds)} runs; load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    dlgrade = [sys.executable, "-m", "dlgrade"]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        release = [timed([*dlgrade, "release", EXERCISE, "--out", str(scratch / f"release{i}")], cwd=scratch)
                   for i in range(arguments.repeat)]
        print(line(f"dlgrade release {EXERCISE}", release))
        student = scratch / "student"
        with zipfile.ZipFile(scratch / "release0" / f"{EXERCISE}.zip") as bundle:
            bundle.extractall(student)
        folder = next(p.parent for p in student.rglob(f"{EXERCISE}.ipynb"))
        check = [timed([*dlgrade, "check", f"{EXERCISE}.ipynb"], cwd=folder) for _ in range(arguments.repeat)]
        print(line(f"dlgrade check ({EXERCISE} template, in its bundle)", check))


if __name__ == "__main__":
    main()
