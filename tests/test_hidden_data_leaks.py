"""Held-out examples never reach student code or what students read (issue 11).

- A hostile ch06_banknotes submission whose every graded function raises an error listing the arrays it was
  given (tests/hostile/leaks/, the attack that once printed 64 held-out notes) is graded by the real command; no
  held-out banknote may appear in results.json or feedback.html, whatever scaling a check applied before handing
  data over (each printed block of rows is tested as a per-column affine image of held-out rows, which covers raw,
  standardized with any statistics and min-max scaled data).
- The reference submission of every exercise with a held-out split is graded while everything the tests send to
  the sandbox, every message and every figure of the feedback page is recorded: no held-out example (a picture in
  0-255 or 0-1 scale, a sentence, a banknote in any per-column scaling, a point (x, y) of a curve) may be sent to
  student code, no message may show one, and no visible figure may draw one.
"""
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlgrade.datasets.splits import hidden_split, read_split, student_file_name, student_split
from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.mutants import load_patches, write_patched
from dlgrade.reference_weights import trained_reference

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


def distinct_pairs(candidates):
    """Index pairs (a, b) of candidate rows that differ by at least DISTINCT of the range in every column."""
    spread = candidates.max(axis=0) - candidates.min(axis=0)
    a, b = np.meshgrid(np.arange(len(candidates)), np.arange(len(candidates)), indexing="ij")
    distinct = np.all(np.abs(candidates[a] - candidates[b]) >= DISTINCT * spread, axis=2)
    return a[distinct], b[distinct]


def affine_source(block, candidates, candidate_pairs=None):
    """Pairs (a, b) of candidate rows under which the block's rows are x -> (x - m) / s of candidate rows (per
    column, any m, s != 0), with the block rows ``first`` and ``second`` mapping onto a and b: those two rows
    (the ones that differ most in every column) fix m and s for each pair of candidates that differs clearly in
    every column (a pair of near-duplicates would map every row onto itself); every other row must then map onto
    a candidate. Returns (first, second, a, b) arrays, or None."""
    spread = candidates.max(axis=0) - candidates.min(axis=0)
    tolerance = TOLERANCE * np.where(spread > 0, spread, 1.0)
    block_spread = np.maximum(block.max(axis=0) - block.min(axis=0), 1e-300)
    pairs = [(i, j) for i in range(len(block)) for j in range(i + 1, len(block))]
    first, second = max(pairs, key=lambda p: np.min(np.abs(block[p[0]] - block[p[1]]) / block_spread))
    if np.any(block[first] == block[second]):
        return None
    a, b = candidate_pairs if candidate_pairs is not None else distinct_pairs(candidates)
    column = np.sort(candidates[:, 0])
    for k in (k for k in range(len(block)) if k not in (first, second)):
        share = (block[k, 0] - block[first, 0]) / (block[second, 0] - block[first, 0])
        mapped = candidates[a, 0] + (candidates[b, 0] - candidates[a, 0]) * share  # the first column alone first
        near = (np.searchsorted(column, mapped + tolerance[0], side="right")
                > np.searchsorted(column, mapped - tolerance[0], side="left"))
        a, b = a[near], b[near]
        found = matches(map_rows(block[k], block[first], block[second], candidates[a], candidates[b]), candidates,
                        tolerance)
        a, b = a[found], b[found]
        if not len(a):
            return None
    return first, second, a, b


def map_rows(rows, first, second, image_of_first, image_of_second):
    """The rows mapped by the per-column affine map that takes ``first`` to ``image_of_first`` and ``second`` to
    ``image_of_second``."""
    return image_of_first + (image_of_second - image_of_first) * (rows - first) / (second - first)


def matches(rows, candidates, tolerance):
    """For each row, whether a candidate row lies within ``tolerance`` in every column."""
    order = np.argsort(candidates[:, 0])
    ordered, column = candidates[order], candidates[order, 0]
    rows = np.atleast_2d(rows)
    low = np.searchsorted(column, rows[:, 0] - tolerance[0], side="left")
    high = np.searchsorted(column, rows[:, 0] + tolerance[0], side="right")
    found = np.zeros(len(rows), bool)
    near = np.flatnonzero(high > low)  # rows with a candidate close in the first column: few
    for offset in range(int((high - low).max(initial=0))):
        index = np.minimum(low[near] + offset, len(ordered) - 1)
        close = np.all(np.abs(ordered[index] - rows[near]) <= tolerance, axis=1)
        found[near] |= (low[near] + offset < high[near]) & close
    return found


def is_affine_image(block, candidates):
    return affine_source(block, candidates) is not None


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
    (accuracy_check,) = [test["output"] for test in results["tests"] if test["extra_data"]["test_id"].endswith(
        "::test_training_reaches_accuracy_on_hidden_banknotes")]
    assert blocks_of([accuracy_check], student_x), (
        "the attack did not show the banknotes the accuracy check gave it: the check below would prove nothing")
    leaked = blocks_of(texts, hidden_x)
    assert not leaked, f"{leaked} printed arrays of held-out banknotes (in some scaling) appear in what students read"


# --- every exercise's reference grading, recorded ---------------------------------------------------------------

PIXELS = 28 * 28
RECORDER = Path(__file__).resolve().parent / "record_grading.py"


def picture_keys(array):
    """One key per 28x28 picture in the array, in 0-255 or 0-1 scale (nothing for arrays that are not pictures)."""
    array = np.asarray(array)
    if array.dtype.kind not in "uif" or array.size < PIXELS or array.size % PIXELS:
        return set()
    rows = array.reshape(-1, PIXELS).astype(np.float64)
    if 0.0 <= rows.min() and rows.max() <= 1.0:
        rows = rows * 255.0
    rounded = np.rint(rows)
    whole = np.all(np.abs(rows - rounded) < 1e-3, axis=1) & np.all((rounded >= 0) & (rounded <= 255), axis=1)
    return {row.astype(np.uint8).tobytes() for row in rounded[whole]}


class HeldOut:
    """One dataset's held-out examples, and how to find them in data sent to student code or shown to students."""

    def __init__(self, spec):
        (self.x, y), (self.student_x, student_y) = hidden_split(spec), student_split(spec)
        if self.x.dtype.kind in "US":  # sentence pairs: an input and its translation are both held out
            self.kind = "text"
            self.sentences = ({str(s) for s in self.x} | {str(s) for s in y}) - (
                {str(s) for s in self.student_x} | {str(s) for s in student_y})
        elif self.x[0].size == PIXELS:
            self.kind = "pictures"
            self.keys = picture_keys(self.x) - picture_keys(self.student_x)
        else:
            self.kind = "rows"
            if self.x.ndim == 1:  # one number per example (a point of a curve): the example is the pair (x, y)
                self.x, self.student_x = np.column_stack([self.x, y]), np.column_stack([self.student_x, student_y])
            self.rows = np.asarray(self.x, np.float64)
            pool = np.concatenate([self.rows, np.asarray(self.student_x, np.float64)])
            spread = pool.max(axis=0) - pool.min(axis=0)
            self.pool, self.tolerance = pool, TOLERANCE * np.where(spread > 0, spread, 1.0)
            self.pairs = distinct_pairs(pool)
            # held-out rows with a student near-duplicate (closer than the tolerance) cannot be told apart
            self.alone = ~matches(self.rows, np.asarray(self.student_x, np.float64), self.tolerance)

    def in_array(self, array) -> int:
        """How many held-out examples the array holds."""
        if self.kind == "pictures":
            return len(picture_keys(array) & self.keys)
        array = np.asarray(array, np.float64) if np.asarray(array).dtype.kind in "uif" else None
        if self.kind != "rows" or array is None or array.ndim != 2 or array.shape[1] != self.rows.shape[1]:
            return 0
        if len(array) < 3:  # too few rows to fix a scaling
            return 0
        source = affine_source(array[:6], self.pool, self.pairs)
        if source is None:  # not banknotes in any per-column scaling (or the first rows are not)
            return 0
        first, second, a, b = source
        raw = map_rows(array, array[first], array[second], self.pool[a[0]], self.pool[b[0]])
        return int(np.sum(matches(self.rows[self.alone], raw, self.tolerance)))

    def in_value(self, value) -> int:
        """How many held-out examples a value sent to student code (an array or a string) holds."""
        if isinstance(value, str):
            return int(self.kind == "text" and value in self.sentences)
        return self.in_array(value)

    def in_text(self, text) -> int:
        """How many held-out examples a message shows (sentences, or banknotes printed as 'row:' lines)."""
        if self.kind == "text":
            return sum(sentence in text for sentence in self.sentences)
        if self.kind == "rows":
            return sum(self.in_array(block) for block in printed_blocks([text], self.rows.shape[1]))
        return 0


def graded_exercises_with_held_out_data():
    return [exercise_id for exercise_id in exercise_ids() if load_exercise(exercise_id).data]


@pytest.mark.parametrize("exercise_id", graded_exercises_with_held_out_data())
def test_held_out_examples_stay_on_the_trusted_side(exercise_id, tmp_path):
    """Grading the reference sends no held-out example to student code and shows none to the student."""
    exercise = load_exercise(exercise_id)
    held_out = [HeldOut(spec) for spec in exercise.data if len(hidden_split(spec)[0])]
    if not held_out:
        pytest.skip(f"{exercise_id} holds nothing back")
    submission, out = tmp_path / "submission", tmp_path / "out"
    submission.mkdir()
    shutil.copy(exercise.solution, submission / exercise.notebook)
    if exercise.reference_weights:
        for name in exercise.reference_weights["files"]:
            shutil.copy(trained_reference(exercise) / name, submission / name)
    done = subprocess.run([sys.executable, str(RECORDER), exercise_id, str(submission), str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    recorded = json.loads((out / "recorded.json").read_text())
    with np.load(out / "recorded.npz") as arrays:
        sent = [(request["what"], request["strings"] + [arrays[name] for name in request["arrays"]])
                for request in recorded["requests"]]
        visible = {t["extra_data"]["test_id"] for t in results["tests"] if t["visibility"] == "visible"}
        drawn = [(figure["title"], arrays[figure["data"]]) for figure in recorded["figures"]
                 if figure["kind"] in ("images", "lines") and figure["test_id"] in visible]
    assert results["score"] == results["max_score"], "the reference should earn full marks"
    assert sent, "nothing was recorded: the recorder no longer sees what the tests send"

    read = [results["output"]] + [t["output"] for t in results["tests"] if t["visibility"] != "hidden"]
    for data in held_out:
        to_student = [(what, n) for what, values in sent for n in [sum(map(data.in_value, values))] if n]
        assert not to_student, f"held-out examples sent to student code: {to_student[:5]}"
        in_messages = sum(data.in_text(text) for text in read)
        assert not in_messages, f"{in_messages} held-out examples appear in messages students read"
        in_figures = [(title, n) for title, images in drawn for n in [data.in_array(images)] if n]
        assert not in_figures, f"held-out examples drawn on the feedback page: {in_figures}"
