import numpy as np
import pytest


@pytest.mark.points(2)
def test_nearest_mean_accuracy_on_hidden_split(student, student_data, hidden_data):
    """a nearest-class-mean classifier fitted on the student split does well on the hidden split"""
    train_x, train_y = student_data("banknotes")
    test_x, test_y = hidden_data("banknotes")
    predictions = np.asarray(student.nearest_mean(train_x, train_y, test_x))
    accuracy = float(np.mean(predictions == test_y))
    assert accuracy >= 0.6, f"accuracy {accuracy:.3f} on held-out banknotes, expected at least 0.6"
