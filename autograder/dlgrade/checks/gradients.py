"""Gradient checks by central differences in float64 (CS231n-style relative error)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlgrade.checks.arrays import as_array


def relative_error(a, b) -> np.ndarray:
    """|a − b| / max(1e-8, |a| + |b|), elementwise."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def numerical_gradients(loss: Callable[[dict], float], params: dict[str, np.ndarray], *,
                        epsilon: float = 1e-5) -> dict[str, np.ndarray]:
    """d loss / d param for every element of every parameter, by central differences in float64."""
    params = {k: np.asarray(v, np.float64) for k, v in params.items()}
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = value[index] + epsilon
            plus = float(loss(shifted))
            shifted[name][index] = value[index] - epsilon
            minus = float(loss(shifted))
            grad[index] = (plus - minus) / (2 * epsilon)
        grads[name] = grad
    return grads


def assert_gradients_close(actual: dict, expected: dict, *, what: str, max_relative_error: float = 1e-4,
                           atol: float = 1e-7) -> None:
    """Every expected gradient is present with the right shape and within ``max_relative_error``."""
    if not isinstance(actual, dict):
        raise AssertionError(f"{what}: expected a dict from variable name to gradient, got {type(actual).__name__}")
    missing = [name for name in expected if name not in actual or actual[name] is None]
    if missing:
        raise AssertionError(f"{what}: no gradient for {', '.join(missing)}; every variable needs one")
    for name, reference in expected.items():
        value = as_array(actual[name], what=f"{what}[{name!r}]")
        reference = np.asarray(reference, np.float64)
        if value.shape != reference.shape:
            raise AssertionError(f"{what}[{name!r}]: expected shape {reference.shape}, got {value.shape}")
        close = np.abs(value - reference) <= atol
        error = np.where(close, 0.0, relative_error(value, reference))
        if not np.all(np.isfinite(value)) or error.max(initial=0.0) > max_relative_error:
            worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
            raise AssertionError(
                f"{what}[{name!r}]: relative error {float(error[worst]):.2g} at index "
                f"{tuple(int(i) for i in worst)} (allowed {max_relative_error:g}); "
                f"got {float(value[worst]):.6g}, expected {float(reference[worst]):.6g}"
            )
