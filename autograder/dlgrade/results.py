"""Gradescope's results.json: total, and per test name, score, max_score, status, visibility, output.
Gradescope knows only passed and failed; ``extra_data.outcome`` tells a partial score and a check that was not
judged (it earns nothing, and ``extra_data.not_judged_points`` says how many points wait for a regrade).

Messages carry student text: each is capped and every string is made writable (no lone surrogates), so the
file stays small and any JSON reader, the feedback page and the gradebook can take it.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from dlgrade.judged import NOT_JUDGED, outcome_label
from dlgrade.runner import Outcome
from dlgrade.text import cap_text, clean_text, clean_tree

TEST_OUTPUT_CHARS = 4096
OUTPUT_CHARS = 16384


def build_results(*, outcomes: list[Outcome], exercise_id: str, seconds: float, notices: list[str],
                  grader_version: str, isolation: str) -> dict:
    """The results document, in Gradescope's autograder results schema (plus our extra_data)."""
    tests = [
        {
            "name": clean_text(o.name),
            "score": o.score,
            "max_score": o.max_score,
            "status": "passed" if o.passed else "failed",
            "visibility": o.visibility,
            "output": cap_text(clean_text(o.output), limit=TEST_OUTPUT_CHARS),
            "extra_data": {"test_id": o.test_id, "outcome": outcome_label(score=o.score, passed=o.passed,
                                                                          judged=o.judged),
                           **({"measured": [_finite(m) for m in o.measured]} if o.measured else {})},
        }
        for o in outcomes
    ]
    not_judged = [t for t in tests if t["extra_data"]["outcome"] == NOT_JUDGED]
    return {
        "score": round(sum(o.score for o in outcomes), 4),
        "max_score": sum(o.max_score for o in outcomes),
        "execution_time": round(seconds, 2),
        "output": cap_text(clean_text("\n".join(notices)), limit=OUTPUT_CHARS),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"exercise": exercise_id, "grader_version": grader_version, "isolation": isolation,
                       "not_judged": len(not_judged), "not_judged_points": sum(t["max_score"] for t in not_judged)},
    }


def _finite(measured: dict) -> dict:
    """A measurement for JSON: NaN or infinity (a diverged model's loss) is written as null (its text says nan)."""
    return dict(measured, value=measured["value"] if math.isfinite(measured["value"]) else None)


def write_results(results: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    path.write_text(json.dumps(clean_tree(results), indent=2))
    return path
