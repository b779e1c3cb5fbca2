"""Exercises graded on submitted weights: a missing weights file costs only the checks that need it, with
a message that says how to produce it."""
import json
import subprocess
import sys

from dlgrade.exercise import load_exercise


def test_missing_weights_cost_only_the_weights_check(tmp_path):
    exercise = load_exercise("ch08_fashion_cnn")
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(exercise.solution), "--exercise", exercise.id,
                    "--out", str(tmp_path)], check=True, capture_output=True, timeout=600)
    results = json.loads((tmp_path / "results.json").read_text())
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    assert [t["extra_data"]["test_id"].split("::")[-1] for t in failed] == ["test_submitted_weights_on_held_out_pictures"]
    assert "fashion_cnn.weights.h5 is not in your submission" in failed[0]["output"]
    assert "model.save_weights" in failed[0]["output"]
    assert results["score"] == results["max_score"] - failed[0]["max_score"]
