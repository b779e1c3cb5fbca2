"""Wall time of grading the ch04_xor reference with dlgrade (TF import included; target <= 20 s),
against executing the same notebook top to bottom with nbclient, as nbgrader and Otter-Grader do.

Run: make bench   (or .venv/bin/python bench/bench_grade_xor.py [--repeat N])
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

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "ch04_xor" / "ch04_xor.ipynb"


def time_dlgrade(out_dir: Path) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(NOTEBOOK), "--exercise", "ch04_xor",
                    "--out", str(out_dir)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads((out_dir / "results.json").read_text())["score"]


def time_nbclient() -> float:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    grade_times, scores, nbclient_times = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(repeat):
            seconds, score = time_dlgrade(Path(scratch) / str(index))
            grade_times.append(seconds)
            scores.append(score)
            nbclient_times.append(time_nbclient())
    grade, run_all = statistics.median(grade_times), statistics.median(nbclient_times)
    print(f"dlgrade grade (reference, all 11 tests, TF import included): median {grade:.1f} s "
          f"over {repeat} runs {[round(t, 1) for t in grade_times]}; target <= 20 s")
    print(f"nbclient top-to-bottom execution of the same notebook:      median {run_all:.1f} s "
          f"{[round(t, 1) for t in nbclient_times]}")
    print(f"ratio nbclient / dlgrade: {run_all / grade:.2f}")
    print(f"scores of the {repeat} gradings: {scores} (identical: {len(set(scores)) == 1})")


if __name__ == "__main__":
    main()
