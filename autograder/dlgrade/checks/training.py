"""Checks on training behaviour with small budgets."""
from __future__ import annotations

import numpy as np

from dlgrade.checks.arrays import as_array


def assert_loss_decreases(losses, *, what: str, min_relative_drop: float = 0.1, min_steps: int = 2) -> None:
    """The loss history is finite and its last value is at least ``min_relative_drop`` below the first."""
    history = as_array(losses, what=what).astype(np.float64).ravel()
    if history.size < min_steps:
        raise AssertionError(f"{what}: expected at least {min_steps} loss values, got {history.size}")
    if not np.all(np.isfinite(history)):
        raise AssertionError(f"{what}: the loss became NaN or infinite at step {int(np.argmin(np.isfinite(history)))}")
    first, last = history[0], history[-1]
    if not last <= first * (1 - min_relative_drop):
        raise AssertionError(
            f"{what}: the loss went from {first:.4g} to {last:.4g} over {history.size} steps; "
            f"expected a drop of at least {min_relative_drop:.0%}"
        )


def assert_trained_like_reference(got, expected, start, *, what: str, hint: str, share: float = 0.05) -> None:
    """Weights after the student's training (`got`) equal the reference's (`expected`) from the same `start`,
    within `share` of how far the reference's training moved them (largest element over all arrays).

    `what` names the training ("after 2 epochs from the grader's starting weights"); `hint` says what the
    training must do, for the failure message.
    """
    got = [as_array(g, what=f"weight array {i}").astype(np.float64) for i, g in enumerate(got)]
    expected = [np.asarray(e, np.float64) for e in expected]
    start = [np.asarray(s, np.float64) for s in start]
    shapes, expected_shapes = [g.shape for g in got], [e.shape for e in expected]
    if shapes != expected_shapes:
        raise AssertionError(f"{what}, the weights have shapes {shapes}; expected {expected_shapes}")
    worst = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected))
    moved = max(float(np.max(np.abs(e - s))) for e, s in zip(expected, start))
    if not worst < share * moved:
        raise AssertionError(f"{what}, your weights differ from the expected ones by up to {worst:.2g} (training "
                             f"moved them by up to {moved:.2g}): {hint}")
