"""Inputs shared by the ch16_lstm tests (trusted side only)."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def passengers(student_data):
    """The series in time order (thousands of passengers), as float32."""
    months, values = student_data("airline_passengers")
    return np.asarray(values, np.float32)[np.argsort(months)]
