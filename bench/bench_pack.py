"""How long ``dlgrade pack`` takes a student, process start included: the ch04_xor template in a bundle-shaped
folder (the notebook and ``checks/exercise.toml``). Target: under 1 s; pack imports no TensorFlow.

Run: PYTHON bench/bench_pack.py [--repeat N]    (prints one line: median and range, seconds)
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlgrade.exercise import load_exercise
from dlgrade.release import _public_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    exercise = load_exercise("ch04_xor")
    with tempfile.TemporaryDirectory() as scratch:
        bundle = Path(scratch) / exercise.id
        (bundle / "checks").mkdir(parents=True)
        (bundle / "checks" / "exercise.toml").write_text(_public_config(exercise))
        shutil.copy(exercise.template, bundle / exercise.notebook)
        seconds = []
        for _ in range(arguments.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dlgrade", "pack", exercise.notebook], cwd=bundle, check=True,
                           capture_output=True)
            seconds.append(time.perf_counter() - started)
    print(f"dlgrade pack ({exercise.id} template): median {statistics.median(seconds):.2f} s "
          f"({min(seconds):.2f}-{max(seconds):.2f}, {arguments.repeat} runs)")


if __name__ == "__main__":
    main()
