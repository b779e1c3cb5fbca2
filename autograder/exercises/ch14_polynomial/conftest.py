"""Inputs shared by the ch14_polynomial tests, and the grader's own float64 model (trusted side only)."""
from types import SimpleNamespace

import numpy as np
import pytest

DEGREE = 3


@pytest.fixture
def probe_batch():
    """Nine expanded points of degree 3 with targets that no polynomial fits exactly (float32)."""
    rng = np.random.default_rng(141)
    x = rng.uniform(-1.5, 1.5, size=9)
    X = expand(x, DEGREE).astype(np.float32)
    y = (rng.normal(size=9) * 2 + 0.5).astype(np.float32)
    return X, y


@pytest.fixture
def probe_weights():
    """A factory of (weights (degree, 1), bias) with mixed signs and a non-zero bias, float32."""

    def make(seed: int, degree: int = DEGREE):
        rng = np.random.default_rng(seed)
        return rng.normal(size=(degree, 1)).astype(np.float32), np.float32(rng.normal())

    return make


@pytest.fixture
def training_start():
    """A factory of training starts: weights from N(0, 0.5²) drawn by the grader, bias 0 (see exercise.toml)."""

    def make(seed: int, degree: int = DEGREE):
        rng = np.random.default_rng(seed)
        return rng.normal(0, 0.5, size=(degree, 1)).astype(np.float32), np.float32(0)

    return make


@pytest.fixture
def poly_math():
    """The grader's own expansion, standardization, neuron, loss, gradients, descent and least squares."""
    return SimpleNamespace(expand=expand, standardize=standardize, predict=predict, loss=loss, gradients=gradients,
                           descend=descend, least_squares=least_squares, r_squared=r_squared)


def expand(x, degree: int) -> np.ndarray:
    """Columns x, x², ..., x^degree (float64)."""
    x = np.asarray(x, np.float64).reshape(-1)
    return np.column_stack([x ** power for power in range(1, degree + 1)])


def standardize(values, mean=None, std=None):
    """(values - mean) / std, with the values' own mean and population std unless given."""
    values = np.asarray(values, np.float64)
    mean = values.mean() if mean is None else mean
    std = values.std() if std is None else std
    return (values - mean) / std, mean, std


def predict(X, weights, bias) -> np.ndarray:
    return np.asarray(X, np.float64) @ np.asarray(weights, np.float64).reshape(-1) + float(bias)


def loss(X, y, weights, bias) -> float:
    return float(np.mean((predict(X, weights, bias) - np.asarray(y, np.float64)) ** 2))


def gradients(X, y, weights, bias) -> dict:
    """d loss / d weights (degree, 1) and d loss / d bias, by the formula 2/n Xᵀe and 2/n Σe."""
    X = np.asarray(X, np.float64)
    error = predict(X, weights, bias) - np.asarray(y, np.float64)
    return {"weights": (2 * X.T @ error / len(error)).reshape(-1, 1), "bias": np.float64(2 * error.mean())}


def descend(X, y, weights, bias, *, steps: int, learning_rate: float):
    """``steps`` full-batch gradient-descent steps on the mean squared error: (weights (degree,), bias, losses)."""
    weights, bias, losses = np.asarray(weights, np.float64).reshape(-1, 1), float(bias), []
    for _ in range(steps):
        losses.append(loss(X, y, weights, bias))
        step = gradients(X, y, weights, bias)
        weights, bias = weights - learning_rate * step["weights"], bias - learning_rate * float(step["bias"])
    return weights.reshape(-1), bias, losses


def least_squares(X, y):
    """The closed-form least-squares weights (degree,) and bias of a linear neuron on X."""
    X = np.asarray(X, np.float64)
    solution = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), np.asarray(y, np.float64), rcond=None)[0]
    return solution[:-1], float(solution[-1])


def r_squared(predicted, y) -> float:
    y = np.asarray(y, np.float64)
    return float(1 - np.mean((np.asarray(predicted, np.float64) - y) ** 2) / np.var(y))
