"""Held-out examples never reach what students read (issue 11). A hostile ch06_banknotes submission whose every
graded function raises an error listing the arrays it was given (tests/hostile/leaks/) is graded by the real
command; no held-out banknote may appear in results.json or feedback.html, whatever scaling a check applied
before handing data over (each printed block of rows is tested as a per-column affine image of held-out rows,
which covers raw, standardized with any statistics, and min-max scaled data)."""
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from dlgrade.datasets.splits import hidden_split, read_split, student_file_name
from dlgrade.exercise import load_exercise
from dlgrade.mutants import load_patches, write_patched

LEAKS = Path(__file__).resolve().parent / "hostile" / "leaks"
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# A mapped row matches a candidate when every column is within this share of the column's range. Printed float32
# values (9 significant digits) of standardized notes map back to within 1e-6 of it; a random match of one row in
# four columns has odds below 1e-12, and a block needs every row but the two that fix the map to match.
TOLERANCE = 1e-4
# The two rows that fix the map come from candidates that differ by at least this share of every column's range.
DISTINCT = 0.01


def printed_blocks(texts, width):
    """Runs of consecutive 'row: ...' lines with ``width`` numbers each (an array the hostile code printed)."""
    blocks = []
    for text in texts:
        run = []
        for line in text.splitlines() + [""]:
            numbers = NUMBER.findall(line) if line.strip().startswith("row:") else []
            if len(numbers) == width:
                run.append([float(n) for n in numbers])
                continue
            if len(run) >= 3:
                blocks.append(np.array(run))
            run = []
    return blocks


def is_affine_image(block, candidates):
    """True when the block's rows are x -> (x - m) / s (per column, any m, s != 0) of candidate rows: the two rows
    of the block that differ most in every column fix m and s for each pair of candidates that differs clearly in
    every column (a pair of near-duplicates would map every row onto itself); every other row must then map onto
    a candidate."""
    spread = candidates.max(axis=0) - candidates.min(axis=0)
    tolerance = TOLERANCE * np.where(spread > 0, spread, 1.0)
    block_spread = np.maximum(block.max(axis=0) - block.min(axis=0), 1e-300)
    pairs = [(i, j) for i in range(len(block)) for j in range(i + 1, len(block))]
    first, second = max(pairs, key=lambda p: np.min(np.abs(block[p[0]] - block[p[1]]) / block_spread))
    if np.any(block[first] == block[second]):
        return False
    order = np.argsort(candidates[:, 0])
    ordered, column = candidates[order], candidates[order, 0]
    a, b = np.meshgrid(np.arange(len(candidates)), np.arange(len(candidates)), indexing="ij")
    distinct = np.all(np.abs(candidates[a] - candidates[b]) >= DISTINCT * spread, axis=2)
    a, b = a[distinct], b[distinct]
    for k in (k for k in range(len(block)) if k not in (first, second)):
        share = (block[k] - block[first]) / (block[second] - block[first])
        mapped = candidates[a] + (candidates[b] - candidates[a]) * share
        low = np.searchsorted(column, mapped[:, 0] - tolerance[0], side="left")
        high = np.searchsorted(column, mapped[:, 0] + tolerance[0], side="right")
        found = np.zeros(len(mapped), bool)
        for offset in range(int((high - low).max(initial=0))):
            index = np.minimum(low + offset, len(ordered) - 1)
            found |= (low + offset < high) & np.all(np.abs(ordered[index] - mapped) <= tolerance, axis=1)
        a, b = a[found], b[found]
        if not len(a):
            return False
    return True


def blocks_of(texts, candidates):
    return sum(is_affine_image(block, candidates) for block in printed_blocks(texts, candidates.shape[1]))


def banknote_splits():
    exercise = load_exercise("ch06_banknotes")
    (spec,) = [spec for spec in exercise.data if spec.dataset == "banknotes"]
    student_x, _ = read_split(exercise.student_data()[student_file_name("banknotes")])
    hidden_x, _ = hidden_split(spec)
    return exercise, np.asarray(student_x, np.float64), np.asarray(hidden_x, np.float64)


def printed(rows):
    return "an array of rows:\n" + "\n".join("row: " + " ".join(f"{v:.9g}" for v in row) for row in rows)


def test_the_detector_sees_scaled_rows_and_only_those():
    """Held-out rows standardized with someone else's statistics are found; student rows are not held-out rows."""
    _, student_x, hidden_x = banknote_splits()
    shuffled = hidden_x[np.random.default_rng(1).permutation(len(hidden_x))[:6]]
    standardized = ((shuffled - student_x[:500].mean(axis=0)) / student_x[:500].std(axis=0)).astype(np.float32)
    assert blocks_of([printed(standardized)], hidden_x) == 1
    assert blocks_of([printed(hidden_x[:6] / 255.0 + 3.0)], hidden_x) == 1
    assert blocks_of([printed(standardized)], student_x) == 0
    assert blocks_of([printed(student_x[:6]), printed((student_x[100:106] - 1.0) * 4.0)], hidden_x) == 0


def test_hostile_banknotes_submission_shows_no_held_out_note(tmp_path):
    exercise, student_x, hidden_x = banknote_splits()
    (patch,) = load_patches(LEAKS)
    notebook = write_patched(exercise=exercise, patch=patch, out_dir=tmp_path / "submission")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(notebook), "--exercise", exercise.id,
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    texts = [results["output"]] + [test["output"] for test in results["tests"]]
    texts.append(html.unescape((out / "feedback.html").read_text()))
    assert results["score"] == 0
    (accuracy_check,) = [test["output"] for test in results["tests"]
                         if test["extra_data"]["test_id"].endswith("::test_training_reaches_accuracy_on_hidden_banknotes")]
    assert blocks_of([accuracy_check], student_x), (
        "the attack did not show the banknotes the accuracy check gave it: the check below would prove nothing")
    leaked = blocks_of(texts, hidden_x)
    assert not leaked, f"{leaked} printed arrays of held-out banknotes (in some scaling) appear in what students read"
