"""The class report, on a gradebook filled directly: what it counts, that student text stays text, the terminal
table, and the page as headless Chromium draws it."""
import io
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from rich.console import Console
from sqlalchemy.orm import Session

from dlgrade.gradebook import open_gradebook, record
from dlgrade.report import class_report, print_class_summary, render_report, write_report

WHEN = datetime(2026, 11, 20, tzinfo=timezone.utc)
HOSTILE = "<img src=x onerror=alert(1)>"
# student: (seconds, outcome of each check as (status, score, message))
CLASS = {
    "ada": (3.0, [("passed", 4, ""), ("passed", 4, ""), ("passed", 8, "")]),
    "bob": (40.0, [("passed", 4, ""), ("failed", 0, "shape (4, 1) instead of (4,)\nat line 2"),
                   ("partial", 4, "loss did not fall far enough")]),
    "cy": (9.0, [("failed", 0, "NotImplementedError"), ("failed", 0, "shape (4, 1) instead of (4,)"),
                 ("not judged", 0, "the grader was overloaded")]),
    HOSTILE: (12.0, [("failed", 0, f"{HOSTILE} NotImplementedError"), ("passed", 4, ""),
                     ("not judged", 0, "the grader was overloaded")]),
}
# "$" starts maths for matplotlib
CHECKS = ["neuron computes X.w + b", "logits have shape (n,)", "training lowers the loss $x^$"]


def results(seconds: float, outcomes: list) -> dict:
    tests = [{"name": name, "score": score, "max_score": 8.0 if index == 2 else 4.0, "status": status,
              "visibility": "visible", "output": message,
              "extra_data": {"test_id": f"test_public.py::test_{index}", "outcome": status}}
             for index, (name, (status, score, message)) in enumerate(zip(CHECKS, outcomes))]
    return {"score": float(sum(t["score"] for t in tests)), "max_score": 16.0, "execution_time": seconds, "output": "",
            "extra_data": {"grader_version": "test"}, "tests": tests}


@pytest.fixture
def gradebook(tmp_path):
    path = tmp_path / "grades.sqlite"
    with Session(open_gradebook(path)) as session:
        for student, (seconds, outcomes) in CLASS.items():
            record(session, student=student, exercise="ch04_xor", content_hash=student, submitted_at=WHEN,
                   results=results(seconds, outcomes))
        record(session, student="zed", exercise="ch05_other", content_hash="z", submitted_at=WHEN,
               results=results(1.0, CLASS["ada"][1]))
    return path


def test_the_report_counts_checks_failures_and_regrades(gradebook):
    report = class_report(gradebook=gradebook, exercise_id="ch04_xor")
    assert sorted(report.scores) == [0.0, 4.0, 8.0, 16.0]
    assert dict(report.checks[CHECKS[1]]) == {"passed": 2, "failed": 2}
    assert dict(report.checks[CHECKS[2]]) == {"passed": 1, "partial": 1, "not judged": 2}
    assert report.failures[0] == (CHECKS[1], "shape (4, 1) instead of (4,)", 2)  # first lines alike
    assert sorted(row.student for row in report.rows if row.not_judged) == sorted(["cy", HOSTILE])


def test_the_page_escapes_student_text_and_embeds_its_plots(gradebook):
    page = render_report(class_report(gradebook=gradebook, exercise_id="ch04_xor"))
    assert page.isascii() and "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("data:image/png;base64,") == 2  # the score histogram and the pass rates
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<td>logits have shape (n,)</td><td>2</td><td>0</td><td>2</td><td>0</td><td>50%</td>" in page
    assert "<td>training lowers the loss $x^$</td><td>1</td><td>1</td><td>0</td><td>2</td><td>50%</td>" in page
    slowest = page[page.index("Slowest"):page.index("Regrade")]
    assert slowest.index("bob") < slowest.index("&lt;img") < slowest.index("cy") < slowest.index("ada")


def test_the_terminal_table_lists_lowest_first_and_summarises(gradebook):
    console = Console(file=io.StringIO(), width=200)
    print_class_summary(class_report(gradebook=gradebook, exercise_id="ch04_xor"), console=console)
    text = console.file.getvalue()
    assert text.index("cy") < text.index("bob") < text.index("ada")
    assert "4 students: mean 7.00, median 6, min 0, max 16 of 16; 1 with full marks; 2 to regrade" in text


def test_an_empty_class_gives_a_page_and_a_line(tmp_path):
    path = tmp_path / "empty.sqlite"
    page = render_report(class_report(gradebook=path, exercise_id="ch04_xor"))
    assert "no graded submissions" in page and "data:image/png" not in page


def test_report_command_writes_the_page(gradebook, tmp_path):
    out = tmp_path / "site" / "report.html"
    done = subprocess.run([sys.executable, "-m", "dlgrade", "report", "ch04_xor", "--gradebook", str(gradebook),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "4 students" in done.stdout and out.read_text().startswith("<!DOCTYPE html>")
    wrong = subprocess.run([sys.executable, "-m", "dlgrade", "report", "ch99_nothing", "--gradebook", str(gradebook)],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "unknown exercise" in wrong.stderr


def test_page_renders_in_headless_chromium(gradebook, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    page = tmp_path / "report.html"
    write_report(gradebook=gradebook, exercise_id="ch04_xor", out=page)
    screenshot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1800",
                    f"--screenshot={screenshot}", page.as_uri()], check=True, capture_output=True, timeout=120)
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
