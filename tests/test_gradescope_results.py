"""results.json for Gradescope: HTML outputs with student text escaped, the visible checks' plots embedded as PNGs
within bounds, the instructor's visibility settings, and no leaderboard unless asked for."""
import base64
import json
import re

import pytest

from dlgrade.feedback import Feedback
from dlgrade.gradescope_results import MAX_FIGURES, GradescopeSettings, figures_html, gradescope_results

STUDENT_TEXT = "expected (4,), got <script>alert('x')</script> & more"


def results_with_two_checks():
    tests = [{"name": "visible check", "score": 0.0, "max_score": 1.0, "status": "failed", "visibility": "visible",
              "output": STUDENT_TEXT, "extra_data": {"test_id": "v"}},
             {"name": "hidden check", "score": 1.0, "max_score": 1.0, "status": "passed",
              "visibility": "after_published", "output": "", "extra_data": {"test_id": "h"}}]
    return {"score": 1.0, "max_score": 2.0, "output": "graded cell 'net' raised ValueError: <b>bad</b>",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_html_outputs_escaped_with_the_visible_checks_plots():
    feedback = Feedback()
    feedback.line_plot("loss <of> yours", {"train": [1.0, 0.5, 0.2]}, xlabel="epoch")
    results = results_with_two_checks()
    shaped = gradescope_results(results=results, figures={"v": feedback.figures, "h": feedback.figures},
                                settings=GradescopeSettings())
    json.dumps(shaped)
    assert shaped["output_format"] == "html" and all(t["output_format"] == "html" for t in shaped["tests"])
    visible, hidden = shaped["tests"]
    assert "<script>" not in visible["output"] and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" \
        in visible["output"]
    assert "&lt;b&gt;bad&lt;/b&gt;" in shaped["output"] and "<b>" not in shaped["output"]
    [png] = embedded_pngs(visible["output"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 'alt="loss &lt;of&gt; yours"' in visible["output"]
    assert embedded_pngs(hidden["output"]) == []  # a hidden check's plots may show held-out data
    assert results["tests"][0]["output"] == STUDENT_TEXT  # the plain results (gradebook, feedback page) unchanged


def test_settings_go_to_the_top_level_keys():
    results = results_with_two_checks()
    default = gradescope_results(results=results, figures={}, settings=GradescopeSettings())
    assert (default["stdout_visibility"], default["visibility"]) == ("hidden", "visible")
    assert "leaderboard" not in default
    chosen = gradescope_results(results=results, figures={}, settings=GradescopeSettings(
        stdout_visibility="after_published", visibility="after_due_date", leaderboard=True))
    assert (chosen["stdout_visibility"], chosen["visibility"]) == ("after_published", "after_due_date")
    assert chosen["leaderboard"] == [{"name": "Score", "value": 1.0, "order": "desc"}]
    with pytest.raises(ValueError, match="stdout_visibility must be one of"):
        GradescopeSettings(stdout_visibility="students")


def test_plots_are_bounded_and_what_was_left_out_is_said():
    drawn = []

    def fake_draw(figure):
        drawn.append(figure["title"])
        return b"\x89PNG" + bytes(figure["size"])

    many = [{"title": f"plot {i}", "size": 1000} for i in range(MAX_FIGURES + 2)]
    text = figures_html(figures=many, draw=fake_draw)
    assert len(embedded_pngs(text)) == MAX_FIGURES and len(drawn) == MAX_FIGURES
    assert f"2 plot(s) left out (at most {MAX_FIGURES} per check" in text and f"plot {MAX_FIGURES + 1}" in text
    huge = [{"title": "big <one>", "size": 10_000_000}, {"title": "small", "size": 10}]
    text = figures_html(figures=huge, draw=fake_draw)
    assert len(embedded_pngs(text)) == 1 and "1 plot(s) left out" in text and "big &lt;one&gt;" in text
