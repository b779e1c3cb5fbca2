"""Inputs shared by the ch08_fashion_cnn tests (trusted side only)."""
import numpy as np
import pytest

from dlgrade.sandbox import probes


@pytest.fixture(scope="session")
def small_batch(student_data):
    """512 training pictures (as the student split holds them) with their labels, a few of each class."""
    images, labels = student_data("fashion_mnist")
    return images[:512], labels[:512]


def scaled(images):
    return np.asarray(images, np.float32).reshape(-1, 28, 28, 1) / 255.0


@pytest.fixture
def scale_images():
    """The grader's own preprocessing (float32, (n, 28, 28, 1), [0, 1]), to judge the student's."""
    return scaled


@pytest.fixture
def template_learning_rates():
    """The learning rates at the probe steps of the schedule the template names (the reference's schedule):
    InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=learning_rate / epochs), computed with Keras."""
    def rates(*, learning_rate, epochs):
        import keras

        schedule = keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1,
                                                               decay_rate=learning_rate / epochs)
        return probes.learning_rates(keras.optimizers.SGD(learning_rate=schedule))
    return rates
