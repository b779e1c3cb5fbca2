"""Inputs shared by the ch10_transfer tests (trusted side only)."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits(student_data):
    """256 training digits scaled like the chapter 8 pictures, with one-hot labels."""
    images, labels = student_data("mnist_5k")
    return np.asarray(images[:256], np.float32).reshape(-1, 28, 28, 1) / 255.0, np.eye(10, dtype=np.float32)[labels[:256]]


@pytest.fixture
def weights_of():
    """Arrays of a student's Keras model, with a message for the student when a file cannot be loaded."""
    from dlgrade.checks import as_array
    from dlgrade.sandbox.spawn import StudentError

    def load(model, filename: str) -> list:
        try:
            model.load_weights(filename)
        except StudentError as error:
            if "FileNotFound" in error.report.get("type", "") or "No such file" in error.report.get("message", ""):
                raise AssertionError(f"{filename} is not in your submission: submit it with the notebook") from None
            raise AssertionError(f"{filename} does not fit your model: {error.report.get('type')}: "
                                 f"{error.report.get('message', '')[:300]}") from None
        return [as_array(w, what=f"{filename} array {i}") for i, w in enumerate(model.get_weights())]

    return load
