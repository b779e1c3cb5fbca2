"""results.json stays small and writable whatever student text it carries, and what the batch reads back from
it goes into the gradebook (lone surrogates once made the grader crash and the batch never record the student)."""
import json
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from dlgrade.feedback import render_feedback
from dlgrade.gradebook import latest_submissions, open_gradebook, record
from dlgrade.results import OUTPUT_CHARS, TEST_OUTPUT_CHARS, build_results, write_results
from dlgrade.runner import Outcome


def outcome(output: str) -> Outcome:
    return Outcome("neuron_predict gives sigmoid(X·w + b)", "test_public.py::test_neuron_predict", 2.0, 0.0, False,
                   "visible", output)


def student_results(output: str, notices: list[str]) -> dict:
    return build_results(outcomes=[outcome(output)], exercise_id="ch04_xor", seconds=1.0, notices=notices,
                         grader_version="test", isolation="")


def test_messages_are_capped_with_what_was_cut():
    results = student_results("x" * 100_000, ["graded cell 'neuron' raised ValueError: " + "y" * 100_000] * 50)
    output = results["tests"][0]["output"]
    assert len(output) < TEST_OUTPUT_CHARS + 100 and "characters cut" in output and output.startswith("xxx")
    assert len(results["output"]) < OUTPUT_CHARS + 100 and results["output"].startswith("graded cell 'neuron'")
    assert len(json.dumps(results)) < 30_000


def test_lone_surrogates_are_written_as_replacement_characters_everywhere(tmp_path):
    results = student_results("neuron_predict(...) raised ValueError: \ud800", ["graded cell 'x\udcff' is missing"])
    raw = write_results(results, tmp_path).read_bytes()
    read_back = json.loads(raw.decode("utf-8", errors="strict"))
    assert read_back["tests"][0]["output"].endswith("ValueError: \ufffd")
    assert "\ud800" not in raw.decode() and "\\ud800" not in raw.decode()
    page = render_feedback(results={**results, "output": "cell '\udcff'"}, figures={}, title="ch04_xor \ud800")
    (tmp_path / "feedback.html").write_text(page, encoding="ascii")
    assert "ValueError: &#65533;" in page and "X&#183;w" in page
    engine = open_gradebook(tmp_path / "gradebook.sqlite")
    with Session(engine) as session:
        record(session, student="ana", exercise="ch04_xor", content_hash="0" * 64,
               submitted_at=datetime(2026, 12, 1, tzinfo=timezone.utc), results=read_back)
        (stored,) = latest_submissions(session)
        assert stored.tests[0].output.endswith("ValueError: \ufffd")
