"""Public checks for ch14_polynomial: students run these themselves before submitting."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, assert_gradients_close

STEPS, STEP_LEARNING_RATE = 5, 0.05


@pytest.mark.points(2)
def test_expand_data(student, poly_math):
    """expand_data(x, degree) has the columns x, x², ..., x^degree"""
    x = np.array([-2.0, -0.5, 0.0, 1.5, 3.0], np.float32)
    for degree in (3, 1, 4):
        assert_close(student.expand_data(x, degree), poly_math.expand(x, degree), rtol=1e-6, atol=1e-6,
                     what=f"expand_data(x, {degree}) for x = {x.tolist()} (columns x, x**2, ..., x**{degree}, "
                          "no column of ones)")


def test_standardize(student, poly_math):
    """standardize returns the values scaled to mean 0 and (population) standard deviation 1, the mean and the std"""
    values = np.array([3.0, 7.5, -1.0, 12.0, 4.0, 0.5], np.float32)
    result = student.standardize(values)
    assert isinstance(result, (tuple, list)) and len(result) == 3, (
        "standardize(values) should return a tuple (scaled values, mean, std)")
    expected, mean, std = poly_math.standardize(values)
    assert_close(result[1], mean, rtol=1e-5, atol=1e-5, shape=False, what="the mean standardize returns")
    assert_close(result[2], std, rtol=1e-5, atol=1e-5, shape=False,
                 what="the std standardize returns (the population standard deviation, np.std's default)")
    assert_close(result[0], expected, rtol=1e-5, atol=1e-5, what="the scaled values standardize returns")


@pytest.mark.points(2)
def test_predict_and_loss(student, probe_batch, probe_weights, poly_math):
    """predict is X·w + b with no activation, and mse_loss is the mean squared error, for given weights"""
    X, y = probe_batch
    for seed in (1, 2):
        weights, bias = probe_weights(seed)
        assert_close(student.predict(X, weights, bias), poly_math.predict(X, weights, bias), rtol=1e-5, atol=1e-5,
                     what=f"predict(X, weights, bias) (weight set {seed}; shape (n,), no activation)")
        assert_close(student.mse_loss(X, y, weights, bias), poly_math.loss(X, y, weights, bias), rtol=1e-5,
                     atol=1e-5, shape=False,
                     what=f"mse_loss(X, y, weights, bias) (weight set {seed}; the mean over the batch)")


@pytest.mark.points(2)
def test_gradients(student, probe_batch, probe_weights, poly_math):
    """gradients returns d loss / d weights and d loss / d bias for given weights"""
    X, y = probe_batch
    weights, bias = probe_weights(3)
    got = student.gradients(X, y, weights, bias)
    if isinstance(got, dict) and got.get("bias") is not None:
        got = dict(got, bias=as_array(got["bias"], what="gradients(...)['bias']").reshape(()))
    expected = poly_math.gradients(X, y, weights, bias)
    assert_gradients_close(got, expected, what="gradients(X, y, weights, bias)", max_relative_error=1e-4, atol=1e-5)


@pytest.mark.points(2)
def test_training_steps(student, probe_batch, training_start, poly_math, feedback):
    """train takes plain gradient-descent steps on the mean squared error from the given start"""
    X, y = probe_batch
    weights, bias = training_start(7)
    result = student.train(X, y, weights, bias, epochs=STEPS, learning_rate=STEP_LEARNING_RATE)
    expected_weights, expected_bias, expected_losses = poly_math.descend(X, y, weights, bias, steps=STEPS,
                                                                         learning_rate=STEP_LEARNING_RATE)
    losses = as_array(result["losses"], what="train(...)['losses']").reshape(-1)
    feedback.line_plot(f"train from a given start ({STEPS} steps)",
                       {"your loss": losses, "reference loss from the same start": expected_losses},
                       xlabel="step", ylabel="mean squared error")
    where = f"after {STEPS} steps at learning rate {STEP_LEARNING_RATE} from the grader's start"
    assert_close(losses, expected_losses, rtol=1e-4, atol=1e-5,
                 what=f"train(...)['losses'] ({STEPS} values: the loss before each step)")
    assert_close(as_array(result["weights"], what="train(...)['weights']").reshape(-1), expected_weights,
                 rtol=1e-4, atol=1e-5, what=f"the weights {where}, compared with plain gradient descent")
    assert_close(as_array(result["bias"], what="train(...)['bias']").reshape(-1)[0], expected_bias,
                 rtol=1e-4, atol=1e-5, what=f"the bias {where}, compared with plain gradient descent")
