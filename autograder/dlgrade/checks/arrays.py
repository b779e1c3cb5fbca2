"""Array comparison with tolerances and a readable difference."""
from __future__ import annotations

import numpy as np


def as_array(value, *, what: str) -> np.ndarray:
    """Accept only numeric data from student code (never a remote object or an odd type)."""
    if isinstance(value, (bool, int, float)) and not isinstance(value, bool):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    if isinstance(value, np.generic) and np.dtype(value.dtype).kind in "biuf":
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = None
        if array is not None and array.dtype.kind in "biuf":
            return array
    kind = getattr(value, "type_name", type(value).__name__)
    raise AssertionError(f"{what}: expected a numeric array or number, got {kind}")


def assert_close(actual, expected, *, what: str, rtol: float = 1e-5, atol: float = 1e-6,
                 shape: bool = True) -> None:
    """Assert ``actual`` matches ``expected`` elementwise; the message gives shape, dtype and the worst element."""
    actual = as_array(actual, what=what)
    expected = np.asarray(expected)
    if shape and actual.shape != expected.shape:
        raise AssertionError(f"{what}: expected shape {expected.shape}, got {actual.shape} (dtype {actual.dtype})")
    if not shape:
        actual = actual.reshape(expected.shape) if actual.size == expected.size else actual
        if actual.shape != expected.shape:
            raise AssertionError(f"{what}: expected {expected.size} values, got {actual.size}")
    actual64 = actual.astype(np.float64)
    expected64 = expected.astype(np.float64)
    if not np.all(np.isfinite(actual64)):
        bad = int(np.sum(~np.isfinite(actual64)))
        raise AssertionError(f"{what}: {bad} of {actual.size} values are NaN or infinite")
    error = np.abs(actual64 - expected64) - (atol + rtol * np.abs(expected64))
    if np.any(error > 0):
        if error.ndim == 0:
            raise AssertionError(f"{what}: got {float(actual64):.6g}, expected {float(expected64):.6g} "
                                 f"(beyond tolerance rtol={rtol:g}, atol={atol:g})")
        worst = np.unravel_index(int(np.argmax(error)), error.shape)
        count = int(np.sum(error > 0))
        raise AssertionError(
            f"{what}: {count} of {actual.size} values differ beyond tolerance (rtol={rtol:g}, atol={atol:g}); "
            f"worst at index {tuple(int(i) for i in worst)}: got {actual64[worst]:.6g}, expected {expected64[worst]:.6g}"
        )


def as_arrays(values, *, what: str) -> list[np.ndarray]:
    """Each of ``values``, a list or tuple (e.g. what a remote model's ``get_weights()`` returns), as a numpy
    array; anything else is refused before it is looped over (a remote object would be asked item by item)."""
    if not isinstance(values, (list, tuple)):
        kind = getattr(values, "type_name", type(values).__name__)
        raise AssertionError(f"{what}: expected a list of numeric arrays, got {kind}")
    return [as_array(value, what=f"{what} [{index}]") for index, value in enumerate(values)]
