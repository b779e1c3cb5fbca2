"""One self-contained, offline HTML page per submission: the total (points not judged left out, and said so),
every visible check with its message and plots, and for hidden checks only their name and outcome (passed,
partial, failed or not judged). Plots are drawn here, on the trusted side, from data the tests collected
(``feedback`` fixture); nothing from the sandbox is rendered as HTML. The page is ASCII
(everything else as character references), so it can be written whatever the locale's encoding."""
from __future__ import annotations

import base64
import html
import io

import numpy as np

from dlgrade.judged import score_text
from dlgrade.text import clean_text

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }}
h1 {{ font-size: 1.4rem; }} .total {{ font-size: 1.2rem; margin-bottom: 1.5rem; }}
.check {{ border: 1px solid #ddd; border-left: 6px solid #c0392b; border-radius: 4px; padding: .6rem 1rem;
          margin: .6rem 0; }}
.check.passed {{ border-left-color: #27ae60; }} .check.partial {{ border-left-color: #e6a817; }}
.check.not-judged {{ border-left-color: #7f8c8d; border-left-style: dashed; }}
.score {{ float: right; font-weight: bold; }}
pre {{ white-space: pre-wrap; background: #f7f7f7; padding: .5rem; border-radius: 4px; }}
img {{ max-width: 100%; }} .hidden {{ color: #666; }}
.about {{ margin-bottom: 1rem; color: #444; }} .about th {{ text-align: left; padding-right: 1rem; font-weight: normal; }}
</style></head><body>
<h1>{title}</h1>
<table class="about">{about}</table>
<div class="total">{total}</div>
{notices}
{checks}
</body></html>
"""


class Feedback:
    """What a test hands to the feedback page: ``line_plot(...)``, ``image_grid(...)``, ``matrix(...)``, and
    ``report_measured(...)`` for a number it measured (the message of a check that passes; one that falls short
    says it in its own message)."""

    def __init__(self):
        self.figures: list[dict] = []
        self.measured: list[dict] = []

    def report_measured(self, name: str, value: float, threshold: float | None = None, *,
                        lower_is_better: bool = False) -> None:
        """``name`` measured as ``value`` (e.g. "accuracy on the held-out pictures", 0.91), and the value that earns
        full marks: at least ``threshold``, or at most with ``lower_is_better``."""
        self.measured.append({"name": name, "value": float(value),
                              "threshold": None if threshold is None else float(threshold),
                              "lower_is_better": lower_is_better})

    def clear(self) -> None:
        self.figures.clear()
        self.measured.clear()

    def line_plot(self, title: str, series: dict[str, list[float]], *, xlabel: str = "", ylabel: str = "",
                  x=None, points: dict[str, tuple] | None = None) -> None:
        """Curves drawn against their index, or against ``x`` when given (a fitted curve); ``points`` adds
        scattered (x, y) pairs under them, by label (only data the student holds)."""
        self.figures.append({"kind": "lines", "title": title, "xlabel": xlabel, "ylabel": ylabel,
                             "series": {k: np.asarray(v, dtype=float).ravel() for k, v in series.items()},
                             "x": None if x is None else np.asarray(x, dtype=float).ravel(),
                             "points": {k: (np.asarray(px, dtype=float).ravel(), np.asarray(py, dtype=float).ravel())
                                        for k, (px, py) in (points or {}).items()}})

    def matrix(self, title: str, values, *, labels: list[str] | None = None) -> None:
        self.figures.append({"kind": "matrix", "title": title, "values": np.asarray(values, dtype=float),
                             "labels": labels})

    def image_grid(self, title: str, images, *, captions: list[str] | None = None) -> None:
        self.figures.append({"kind": "images", "title": title, "images": np.asarray(images, dtype=float),
                             "captions": captions})


def measured_text(measured: dict) -> str:
    """``measured accuracy on ...: 0.9812 (full marks at least 0.97)``: one line of a check's message."""
    text = f"measured {measured['name']}: {measured['value']:.4g}"
    if measured["threshold"] is not None:
        text += f" (full marks at {'most' if measured['lower_is_better'] else 'least'} {measured['threshold']:g})"
    return text


def _draw(figure: dict) -> str:
    """One figure as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if figure["kind"] == "images":
        images = figure["images"][:32]
        columns = min(8, len(images))
        rows = -(-len(images) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
        for index, axis in enumerate(axes.ravel()):
            axis.axis("off")
            if index < len(images):
                axis.imshow(np.squeeze(images[index]), cmap="gray")
                if figure["captions"]:
                    axis.set_title(str(figure["captions"][index])[:20], fontsize=7)
    else:
        fig, axis = plt.subplots(figsize=(6, 3.5))
        if figure["kind"] == "lines":
            for label, (px, py) in figure.get("points", {}).items():
                axis.scatter(px, py, s=6, alpha=0.5, color="grey", label=label)
            for label, values in figure["series"].items():  # a reference's curve dashed, under the student's
                style = "--" if label.startswith("reference") else "-"
                if figure.get("x") is None:
                    axis.plot(values, label=label, linestyle=style)
                else:
                    axis.plot(figure["x"], values, label=label, linestyle=style)
            axis.set_xlabel(figure["xlabel"])
            axis.set_ylabel(figure["ylabel"])
            axis.legend(fontsize=8)
        else:
            axis.imshow(figure["values"], cmap="Blues")
            for (i, j), value in np.ndenumerate(figure["values"]):
                axis.text(j, i, f"{value:g}", ha="center", va="center", fontsize=7)
            if figure["labels"]:
                ticks = range(len(figure["labels"]))
                axis.set_xticks(ticks, figure["labels"], rotation=45, fontsize=7)
                axis.set_yticks(ticks, figure["labels"], fontsize=7)
    fig.suptitle(figure["title"])
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _escape(text: str) -> str:
    """Student-derived text as HTML text: escaped, lone surrogates replaced."""
    return html.escape(clean_text(text))


def render_feedback(*, results: dict, figures: dict[str, list[dict]], title: str, student: str = "",
                    graded_at: str = "") -> str:
    """The page for one graded submission; ``figures`` maps a test id to the figures its test made. Its head says
    whose work it is (``student``), the exercise, when it was graded (``graded_at``) and by which grader."""
    blocks = []
    for test in results["tests"]:
        visible = test["visibility"] == "visible"
        status = test.get("extra_data", {}).get("outcome", test["status"])
        head = (f'<span class="score">{score_text(test["score"], test["max_score"])}</span>'
                f"<strong>{_escape(test['name'])}</strong> — {html.escape(status)}")
        body = ""
        if visible:
            if test["output"]:
                body += f"<pre>{_escape(test['output'])}</pre>"
            for figure in figures.get(test["extra_data"]["test_id"], []):
                body += f'<img alt="{_escape(figure["title"])}" src="data:image/png;base64,{_draw(figure)}">'
        else:
            body = '<div class="hidden">hidden check: details after grades are published</div>'
        blocks.append(f'<div class="check {status.replace(" ", "-")}">{head}{body}</div>')
    notices = f"<pre>{_escape(results['output'])}</pre>" if results.get("output") else ""
    waiting = results.get("extra_data", {}).get("not_judged_points", 0)
    total = f"Total: <strong>{results['score']:g} / {results['max_score'] - waiting:g}</strong>"
    if waiting:
        total += f" judged; {waiting:g} points not judged"
    extra = results.get("extra_data", {})
    rows = [("Student", student), ("Exercise", extra.get("exercise", "")), ("Graded", graded_at),
            ("Grader", f"dlgrade {extra['grader_version']}" if extra.get("grader_version") else "")]
    about = "".join(f"<tr><th>{label}</th><td>{_escape(str(value))}</td></tr>" for label, value in rows if value)
    page = PAGE.format(title=_escape(title), about=about, total=total, notices=notices, checks="\n".join(blocks))
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")
