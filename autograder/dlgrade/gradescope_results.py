"""results.json as Gradescope shows it to students: every output as HTML (student text escaped), each visible
check's plots embedded as base64 PNGs (bounded per check), and the instructor's visibility and leaderboard settings
(``gradescope.json`` in the autograder zip, written by ``dlgrade gradescope``)."""
from __future__ import annotations

import base64
import copy
import html
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dlgrade.text import clean_text

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
MAX_FIGURES = 4  # per check
MAX_FIGURE_BYTES = 300_000  # all of one check's PNGs together, before base64


@dataclass(frozen=True)
class GradescopeSettings:
    """The top-level keys of Gradescope's results.json that the instructor chooses."""

    stdout_visibility: str = "hidden"
    visibility: str = "visible"
    leaderboard: bool = False

    def __post_init__(self):
        for key in ("stdout_visibility", "visibility"):
            if getattr(self, key) not in VISIBILITIES:
                raise ValueError(f"{key} must be one of {', '.join(VISIBILITIES)}, not {getattr(self, key)!r}")

    @classmethod
    def read(cls, path: Path) -> "GradescopeSettings":
        return cls(**json.loads(path.read_text()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def png_of(figure: dict) -> bytes:
    """One figure a test made, as a PNG drawn the way the feedback page draws it."""
    from dlgrade.feedback import _draw

    return base64.b64decode(_draw(figure))


def _pre(text: str) -> str:
    return f"<pre>{html.escape(clean_text(text))}</pre>" if text else ""


def figures_html(*, figures: list[dict], draw=png_of) -> str:
    """``<img>`` tags for the first plots that fit the bounds (only those are drawn), and a note naming the plots
    left out."""
    shown, used, dropped = [], 0, []
    for figure in figures:
        title = clean_text(str(figure["title"]))
        png = draw(figure) if len(shown) < MAX_FIGURES else b""
        if png and used + len(png) <= MAX_FIGURE_BYTES:
            used += len(png)
            encoded = base64.b64encode(png).decode()
            shown.append(f'<img alt="{html.escape(title)}" src="data:image/png;base64,{encoded}">')
        else:
            dropped.append(html.escape(title))
    if dropped:
        shown.append(f"<p>{len(dropped)} plot(s) left out (at most {MAX_FIGURES} per check and "
                     f"{MAX_FIGURE_BYTES // 1000} KB of images): {', '.join(dropped)}</p>")
    return "".join(shown)


def gradescope_results(*, results: dict, figures: dict[str, list[dict]], settings: GradescopeSettings) -> dict:
    """A copy of ``results`` for Gradescope: HTML outputs, plots of visible checks, the chosen settings.
    ``figures`` maps a test id to the figures its test made; hidden checks' plots are never embedded."""
    shaped = copy.deepcopy(results)
    shaped["output"] = _pre(shaped.get("output", ""))
    shaped["output_format"] = "html"
    shaped["stdout_visibility"] = settings.stdout_visibility
    shaped["visibility"] = settings.visibility
    for test in shaped["tests"]:
        body = _pre(test.get("output", ""))
        if test["visibility"] == "visible":
            body += figures_html(figures=figures.get(test["extra_data"]["test_id"], []))
        test["output"] = body
        test["output_format"] = "html"
    if settings.leaderboard:
        shaped["leaderboard"] = [{"name": "Score", "value": shaped["score"], "order": "desc"}]
    return shaped
