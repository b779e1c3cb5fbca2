import numpy as np
import pytest

from dlgrade.datasets.locate import dataset_folders


@pytest.mark.points(2)
def test_loader_gives_the_student_split(student, student_data):
    """load_banknotes() in the sandbox returns the student split"""
    features, labels = student.load()
    expected_features, expected_labels = student_data("banknotes")
    assert features.shape == expected_features.shape, f"shape {features.shape}, expected {expected_features.shape}"
    assert np.array_equal(features, expected_features) and np.array_equal(labels, expected_labels)


def test_raw_data_is_out_of_reach(student):
    """no raw dataset copy and no split cache is readable from the sandbox"""
    readable = student.readable([str(folder) for folder in dataset_folders()])
    assert readable == [], f"readable from the sandbox: {readable}"
