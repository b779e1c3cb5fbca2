"""A check that could not run is "not judged", never failed: the grader lacked something (a reference answer a
student's bundle does not carry, hidden data) or the machine was too busy to time student code fairly. It earns
no points, is labelled so everywhere (``check``, ``grade``, results.json, feedback.html) and is not counted in
what the student is told they lost; a batch lists such gradings for regrading."""
from __future__ import annotations

NOT_JUDGED = "not judged"
PARTIAL = "partial"


class NotJudged(Exception):
    """Raised by the grader's side when a check cannot be judged; the message says why and what to do."""


def outcome_label(*, score: float, passed: bool, judged: bool) -> str:
    """passed | partial | failed | not judged: what a check's result is called wherever it is shown."""
    if not judged:
        return NOT_JUDGED
    if passed:
        return "passed"
    return PARTIAL if score > 0 else "failed"


def score_text(score: float, max_score: float) -> str:
    """``1.33/2`` for a partial score (two decimals), ``2/2`` or ``0/2`` otherwise."""
    return f"{score:.2f}/{max_score:g}" if 0 < score < max_score else f"{score:g}/{max_score:g}"


def total_text(results: dict) -> str:
    """The total as a student or the staff read it: points not judged are left out, and said so."""
    waiting = results.get("extra_data", {}).get("not_judged_points", 0)
    if not waiting:
        return f"total {results['score']:g}/{results['max_score']:g}"
    points = "point" if waiting == 1 else "points"
    return f"total {results['score']:g}/{results['max_score'] - waiting:g} judged, {waiting:g} {points} not judged"
