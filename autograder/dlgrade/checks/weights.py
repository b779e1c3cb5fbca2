"""Submitted weight files: parsed only inside the sandbox, taken out as plain arrays."""
import numpy as np

from dlgrade.checks.arrays import as_arrays
from dlgrade.sandbox.spawn import StudentError


def submitted_weights(model, filename: str, *, how_to_make_it: str = "") -> list[np.ndarray]:
    """Load `filename` into the student's remote Keras `model` (in the sandbox) and return its arrays.

    A missing file or one that does not fit the model fails the calling check with a message for the
    student; `how_to_make_it` (e.g. "run the training cell, which saves it") is added to the missing-file one.
    """
    try:
        model.load_weights(filename)
    except StudentError as error:
        kind, message = error.report.get("type", ""), error.report.get("message", "")
        if "FileNotFound" in kind or "No such file" in message:
            hint = f"{how_to_make_it}, and submit it with the notebook" if how_to_make_it else "submit it with the notebook"
            raise AssertionError(f"{filename} is not in your submission: {hint}") from None
        raise AssertionError(f"{filename} does not fit the model your code builds: {kind}: {message[:300]}") from None
    return as_arrays(model.get_weights(), what=f"{filename} array")
