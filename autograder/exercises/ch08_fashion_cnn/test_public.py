"""Public checks for ch08_fashion_cnn: students run these with `dlgrade check`."""
import numpy as np
import pytest

from dlgrade.checks import (as_array, assert_close, assert_learning_rates, assert_loss, assert_metric,
                            assert_optimizer, assert_same_architecture)


def test_prepare_images(student, small_batch, scale_images):
    """prepare_images: (n, 28, 28, 1) float32 in [0, 1] and one-hot labels of 10"""
    images, labels = small_batch
    x, y = student.prepare_images(images[:20], labels[:20])
    x, y = as_array(x, what="x"), as_array(y, what="y")
    assert x.shape == (20, 28, 28, 1), f"x has shape {x.shape}; Conv2D wants (n, 28, 28, 1)"
    assert x.dtype == np.float32, f"x has dtype {x.dtype}; use float32"
    assert_close(x, scale_images(images[:20]), atol=1e-6, what="x: the pictures divided by 255")
    assert y.shape == (20, 10), f"y has shape {y.shape}; one-hot labels have shape (n, 10)"
    assert np.array_equal(y.argmax(axis=1), labels[:20]) and np.array_equal(y.sum(axis=1), np.ones(20)), (
        "y is not the one-hot form of the labels (keras.utils.to_categorical(labels, 10))")


@pytest.mark.points(3)
def test_architecture(student, reference):
    """build_model: exercise 8.4's layers, filters, kernels, padding, pooling, dropout, shapes, parameters"""
    assert_same_architecture(student.build_model().describe(), reference.described("build_model"),
                             what="build_model()")


def test_compile_settings(student):
    """compile_model: categorical cross-entropy, SGD with momentum 0.9, the accuracy metric"""
    compiled = student.compile_model(student.build_model(), learning_rate=0.02, epochs=10).describe()["compiled"]
    what = "compile_model(build_model(), learning_rate=0.02, epochs=10)"
    assert_loss(compiled, "categorical_crossentropy", words="categorical cross-entropy", what=what)
    assert_optimizer(compiled, "SGD", words="stochastic gradient descent (keras.optimizers.SGD) with momentum 0.9",
                     what=what, momentum=0.9)
    assert_metric(compiled, {"accuracy", "categorical_accuracy"}, words="the accuracy metric", what=what)


def test_learning_rate_decays_as_the_template_says(student, template_learning_rates):
    """compile_model: the learning rate decays as InverseTimeDecay(learning_rate, 1, learning_rate / epochs)"""
    compiled = student.compile_model(student.build_model(), learning_rate=0.02, epochs=10).describe()["compiled"]
    assert_learning_rates(compiled, template_learning_rates(learning_rate=0.02, epochs=10),
                          words="the optimizer's learning rate should be the schedule keras.optimizers.schedules."
                                "InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=learning_rate / epochs), "
                                "here with learning_rate=0.02 and epochs=10 (Keras 3 has no decay= argument)",
                          what="compile_model(build_model(), learning_rate=0.02, epochs=10)")


@pytest.mark.points(2)
def test_training_lowers_the_loss(student, small_batch, scale_images):
    """train_model lowers the loss on 512 pictures in 3 epochs and returns the history as a dict"""
    images, labels = small_batch
    x = scale_images(images)
    y = np.eye(10, dtype=np.float32)[labels]
    model = student.compile_model(student.build_model(), learning_rate=0.01, epochs=3)
    history = student.train_model(model, x, y, epochs=3, batch_size=64)
    assert isinstance(history, dict) and "loss" in history, "train_model should return history.history (a dict)"
    losses = [float(v) for v in history["loss"]]
    assert len(losses) == 3, f"expected one loss per epoch (3), got {len(losses)}"
    assert losses[-1] < 0.6 * losses[0], f"the loss went from {losses[0]:.3f} to {losses[-1]:.3f} in 3 epochs"
