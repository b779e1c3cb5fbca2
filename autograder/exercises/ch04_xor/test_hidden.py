"""Hidden checks for ch04_xor: run only by the grader."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, assert_gradients_close, numerical_gradients

# See exercise.toml for the measurements behind these numbers.
XOR_STARTS = (0, 1, 3, 4, 5, 6, 7, 8, 9, 10)
XOR_EPOCHS, XOR_LEARNING_RATE, XOR_MOMENTUM = 150, 1.0, 0.9
SOLVED_FOR_FULL_MARKS, SOLVED_FLOOR = 8, 4
NEURON_STEPS, NEURON_LEARNING_RATE = 3, 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def xor_logits(p, X):
    """The grader's own forward pass of the 2-2-1 network (float64)."""
    return (sigmoid(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).ravel()


def mean_cross_entropy(logits, y) -> float:
    return float(np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))))


def solves_xor(params, X, y) -> bool:
    """Judge trained parameters with our own numpy forward pass (never the student's predict)."""
    p = {name: as_array(params[name], what=f"trained params[{name!r}]").astype(np.float64)
         for name in ("W1", "b1", "W2", "b2")}
    return bool(np.all((sigmoid(xor_logits(p, X)) > 0.5) == (y > 0.5)))


def test_init_xor_params(student):
    """init_xor_params gives W1 (2,2), b1 (2,), W2 (2,1), b2 (1,), repeatable for a seed"""
    first, again, other = student.init_xor_params(11), student.init_xor_params(11), student.init_xor_params(12)
    assert isinstance(first, dict), f"init_xor_params(11) should return a dict, got {type(first).__name__}"
    for name, shape in {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}.items():
        assert name in first, f"init_xor_params(11) has no entry {name!r}"
        value = as_array(first[name], what=f"init_xor_params(11)[{name!r}]")
        assert value.shape == shape, f"init_xor_params(11)[{name!r}]: expected shape {shape}, got {value.shape}"
        assert np.array_equal(value, as_array(again[name], what=name)), "init_xor_params(11) differs between two calls"
    assert not np.array_equal(first["W1"], other["W1"]), "init_xor_params gives the same W1 for seeds 11 and 12"


@pytest.mark.points(2)
def test_gradients_central_differences(student, probe_params):
    """xor_gradients agree with central differences of the mean binary cross-entropy (float64)"""
    # The loss is differentiated here, in numpy: a loss that computes in float32 inside (as Keras's
    # BinaryCrossentropy() does) has exact gradients, but central differences of it would be noise.
    X = np.array([[0.3, -1.2], [1.5, 0.4], [-0.7, 0.9]], np.float64)
    y = np.array([1.0, 0.0, 1.0])
    params = probe_params(8, dtype=np.float64)
    assert_gradients_close(student.xor_gradients(params, X, y),
                           numerical_gradients(lambda p: mean_cross_entropy(xor_logits(p, X), y), params),
                           what="xor_gradients(params, X, y) with float64 inputs vs central differences of the mean "
                                "binary cross-entropy", max_relative_error=1e-4, atol=1e-6)


def test_or_solved(student, corners, or_labels, probe_batch, neuron_math):
    """train_neuron takes gradient steps of the mean cross-entropy, and its neuron classifies OR correctly"""
    X, y = probe_batch
    start = student.train_neuron(X, y, epochs=1, learning_rate=0.0, seed=9)  # learning rate 0: the start itself
    again = student.train_neuron(X, y, epochs=1, learning_rate=0.0, seed=9)
    weights = as_array(start["weights"], what="train_neuron(...)['weights']").reshape(-1)
    bias = as_array(start["bias"], what="train_neuron(...)['bias']").reshape(-1)[0]
    assert np.array_equal(weights, as_array(again["weights"], what="weights").reshape(-1)), (
        "train_neuron with seed=9 started from different weights in two calls; draw them with "
        "tf.random.normal(..., seed=seed)")
    expected_weights, expected_bias = neuron_math.descend(X, y, weights, bias, steps=NEURON_STEPS,
                                                          learning_rate=NEURON_LEARNING_RATE)
    trained = student.train_neuron(X, y, epochs=NEURON_STEPS, learning_rate=NEURON_LEARNING_RATE, seed=9)
    where = (f"after {NEURON_STEPS} epochs at learning rate {NEURON_LEARNING_RATE} from the start train_neuron "
             "draws for seed 9, compared with SGD on the mean binary cross-entropy")
    assert_close(as_array(trained["weights"], what="train_neuron(...)['weights']").reshape(-1), expected_weights,
                 rtol=1e-4, atol=1e-5, what=f"the weights {where}")
    assert_close(as_array(trained["bias"], what="train_neuron(...)['bias']").reshape(-1)[0], expected_bias,
                 rtol=1e-4, atol=1e-5, what=f"the bias {where}")

    result = student.train_neuron(corners, or_labels, epochs=100, learning_rate=1.0, seed=1)
    weights = as_array(result["weights"], what="train_neuron(...)['weights']").astype(np.float32).reshape(2, 1)
    bias = np.float32(as_array(result["bias"], what="train_neuron(...)['bias']").reshape(-1)[0])
    predicted = sigmoid(corners @ weights + bias).ravel() > 0.5
    assert np.array_equal(predicted, or_labels > 0.5), (
        f"after 100 epochs at learning rate 1.0 the neuron predicts {predicted.astype(int).tolist()} for OR; "
        "expected [0, 1, 1, 1]. Check the gradient step and that the loss uses the logits")


@pytest.mark.points(3)
def test_training_solves_xor(student, credit, corners, xor_labels, xor_start):
    """train_xor solves XOR from at least 8 of 10 given starting points"""
    solved = 0
    for seed in XOR_STARTS:
        result = student.train_xor(corners, xor_labels, xor_start(seed), epochs=XOR_EPOCHS,
                                   learning_rate=XOR_LEARNING_RATE, momentum=XOR_MOMENTUM)
        solved += solves_xor(result["params"], corners, xor_labels)
    assert solved > SOLVED_FLOOR, (
        f"train_xor solved XOR from {solved} of {len(XOR_STARTS)} starting points ({XOR_EPOCHS} epochs, learning "
        f"rate {XOR_LEARNING_RATE}, momentum {XOR_MOMENTUM}); at least {SOLVED_FOR_FULL_MARKS} are expected. "
        "Check that every parameter gets its gradient and is updated each epoch")
    if solved < SOLVED_FOR_FULL_MARKS:
        credit.give((solved - SOLVED_FLOOR) / (SOLVED_FOR_FULL_MARKS - SOLVED_FLOOR),
                    f"train_xor solved XOR from {solved} of {len(XOR_STARTS)} starting points; "
                    f"{SOLVED_FOR_FULL_MARKS} earn full marks")
