"""The feedback page: self-contained, visible checks with messages and plots, hidden checks reduced to
name and pass/fail, student text escaped; and it renders in real headless Chromium."""
import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.feedback import Feedback, render_feedback

ROOT = Path(__file__).resolve().parents[1]


def results_with(tests):
    return {"score": sum(t["score"] for t in tests), "max_score": sum(t["max_score"] for t in tests),
            "output": "graded cell 'neuron' raised ValueError: <b>bad</b>", "tests": tests}


def a_test(name, visibility, status="failed", output="", test_id=None):
    return {"name": name, "score": 1.0 if status == "passed" else 0.0, "max_score": 1.0, "status": status,
            "visibility": visibility, "output": output, "extra_data": {"test_id": test_id or name}}


def test_visible_and_hidden_checks_and_escaping():
    feedback = Feedback()
    feedback.line_plot("loss", {"train": [1.0, 0.5, 0.2]}, xlabel="epoch")
    feedback.matrix("confusion", [[5, 1], [0, 6]], labels=["a", "b"])
    feedback.image_grid("digits", [[[0.0, 1.0], [1.0, 0.0]]] * 3, captions=["x", "y", "z"])
    tests = [a_test("visible check", "visible", output="expected <shape> (4,)", test_id="v"),
             a_test("secret check", "after_published", output="expected 41, the secret", test_id="h")]
    page = render_feedback(results=results_with(tests), figures={"v": feedback.figures, "h": feedback.figures},
                           title="demo")
    assert page.count("data:image/png;base64,") == 3  # the hidden check's figures are not drawn
    assert html.escape("expected <shape> (4,)") in page and "<shape>" not in page
    assert "secret check" in page and "the secret" not in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_page_renders_in_headless_chromium(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(ROOT / "solutions" / "ch04_xor" / "ch04_xor.ipynb"),
                    "--exercise", "ch04_xor", "--out", str(out)], check=True, capture_output=True)
    page = (out / "feedback.html").read_text()
    results = json.loads((out / "results.json").read_text())
    assert f"{results['score']:g} / {results['max_score']:g}" in page
    screenshot = tmp_path / "feedback.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400",
                    f"--screenshot={screenshot}", (out / "feedback.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
    assert page.count("data:image/png;base64,") == 1  # the public learning curve
