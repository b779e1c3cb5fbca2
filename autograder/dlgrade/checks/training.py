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
