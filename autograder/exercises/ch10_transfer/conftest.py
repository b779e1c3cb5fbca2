"""Inputs shared by the ch10_transfer tests (trusted side only)."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits(student_data):
    """256 training digits scaled like the chapter 8 pictures, with one-hot labels."""
    images, labels = student_data("mnist_5k")
    return np.asarray(images[:256], np.float32).reshape(-1, 28, 28, 1) / 255.0, np.eye(10, dtype=np.float32)[labels[:256]]
