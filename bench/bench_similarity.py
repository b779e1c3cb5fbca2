"""Similarity of a large class: MAX_SUBMISSIONS (600) ch04_xor students, each the reference or an honest
variant with some lines of their own, compared pair by pair (target: under 30 s on the 2-core machine).

Run: .venv/bin/python bench/bench_similarity.py [--students N]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))

from dlgrade.exercise import load_exercise  # noqa: E402
from dlgrade.mutants import load_patches  # noqa: E402
from dlgrade.similarity import (MAX_SUBMISSIONS, compare, student_code, submitted_cells, template_cells,  # noqa: E402
                                template_names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=MAX_SUBMISSIONS)
    students = parser.parse_args().students
    exercise = load_exercise("ch04_xor")
    template = template_cells(exercise)
    kept = template_names(list(template.values()))
    reference = submitted_cells(submission=exercise.solution, exercise=exercise)
    bases = [reference] + [dict(reference, **p.cells) for p in load_patches(exercise.folder / "variants")]
    chance = random.Random(0)
    codes = {}
    started = time.monotonic()
    for index in range(students):
        raw = dict(chance.choice(bases))
        raw["xor_training"] += "\n".join(f"x{j} = {chance.randint(0, 99)} * y" for j in range(chance.randint(0, 30)))
        codes[f"s{index:03d}"] = student_code(raw, template=template, graded_cells=exercise.graded_cells, kept=kept)
    normalised = time.monotonic()
    pairs = compare(codes)
    done = time.monotonic()
    print(f"{students} students: normalised in {normalised - started:.1f} s, {students * (students - 1) // 2} pairs "
          f"compared in {done - normalised:.1f} s, {len(pairs)} flagged")


if __name__ == "__main__":
    main()
