"""The reference as tests see it: data only; recorded answers replayed (copies), with or without a
fallback; the grader's answer cache spares the trusted side from loading the solution and TensorFlow."""
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dlgrade.exercise import load_exercise
from dlgrade.reference import RecordedReference, RecordingReference, answers_cache_path

ROOT = Path(__file__).resolve().parents[1]


def solution_namespace(calls):
    def double(x, *, offset=0.0):
        calls.append(x)
        return {"y": np.asarray(x) * 2 + offset}

    return types.SimpleNamespace(double=double)


def test_recorded_answers_replay_copies_and_fall_back(tmp_path):
    calls = []
    recorder = RecordingReference(solution_namespace(calls))
    recorder.double(np.arange(3.0), offset=1.0)
    recorder.save(tmp_path / "answers.dlg")

    replay = RecordedReference(tmp_path / "answers.dlg")
    first = replay.double(np.arange(3.0), offset=1.0)
    first["y"][0] = 99
    assert replay.double(np.arange(3.0), offset=1.0)["y"].tolist() == [1.0, 3.0, 5.0]
    with pytest.raises(LookupError, match="runs when your notebook is graded"):
        replay.double(np.arange(4.0))

    calls.clear()
    with_fallback = RecordedReference(tmp_path / "answers.dlg", fallback=lambda: RecordingReference(solution_namespace(calls)))
    assert with_fallback.double(np.arange(3.0), offset=1.0)["y"].tolist() == [1.0, 3.0, 5.0] and calls == []
    assert with_fallback.double(np.arange(2.0))["y"].tolist() == [0.0, 2.0] and len(calls) == 1


def test_cache_key_follows_the_tests(tmp_path):
    exercise = load_exercise("ch04_xor")
    assert answers_cache_path(exercise) == answers_cache_path(load_exercise("ch04_xor"))
    assert answers_cache_path(exercise).is_relative_to(exercise.folder)  # hidden from every sandbox


def test_grading_with_the_cache_matches_and_skips_tensorflow(tmp_path):
    script = """
import json, sys
from pathlib import Path
from dlgrade.exercise import load_exercise
from dlgrade.grade import ensure_reference_answers, grade_submission
exercise = load_exercise("ch04_xor")
if sys.argv[1] == "record":
    ensure_reference_answers(exercise)
    sys.exit(0)
results = grade_submission(submission=Path(sys.argv[2]), exercise=exercise, out_dir=Path(sys.argv[3]))
print(json.dumps({"tests": [(t["name"], t["score"], t["output"]) for t in results["tests"]],
                  "tensorflow": "tensorflow" in sys.modules}))
"""
    mutant = ROOT / "tests" / "hostile" / "missing_function.ipynb"
    runs = {}
    answers_cache_path(load_exercise("ch04_xor")).unlink(missing_ok=True)
    for mode in ("uncached", "record", "cached"):
        done = subprocess.run([sys.executable, "-c", script, mode, str(mutant), str(tmp_path / mode)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        if mode != "record":
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["cached"]["tests"] == runs["uncached"]["tests"]
    assert runs["uncached"]["tensorflow"] is True and runs["cached"]["tensorflow"] is False
