"""Inputs shared by the ch04_xor tests, injected as fixtures (trusted side only)."""
from types import SimpleNamespace

import numpy as np
import pytest


@pytest.fixture
def corners():
    """The four corners of the unit square, one example per row."""
    return np.array([(0, 0), (0, 1), (1, 0), (1, 1)], dtype=np.float32)


@pytest.fixture
def or_labels():
    return np.array([0, 1, 1, 1], dtype=np.float32)


@pytest.fixture
def xor_labels():
    return np.array([0, 1, 1, 0], dtype=np.float32)


@pytest.fixture
def probe_batch():
    """Seven points off the corners with arbitrary labels: answers cannot be memorised per corner."""
    rng = np.random.default_rng(7)
    X = rng.uniform(-2, 2, size=(7, 2)).astype(np.float32)
    y = (rng.uniform(size=7) > 0.5).astype(np.float32)
    return X, y


@pytest.fixture
def probe_params():
    """A factory of non-symmetric parameters, so a transposed weight layout gives different answers."""

    def make(seed: int, dtype=np.float32) -> dict:
        rng = np.random.default_rng(seed)
        return {
            "W1": rng.normal(size=(2, 2)).astype(dtype),
            "b1": rng.normal(size=2).astype(dtype),
            "W2": rng.normal(size=(2, 1)).astype(dtype),
            "b2": rng.normal(size=1).astype(dtype),
        }

    return make


@pytest.fixture
def xor_start():
    """A factory of training starts: N(0, 1) weights, zero biases (measurements in exercise.toml)."""

    def make(seed: int) -> dict:
        rng = np.random.default_rng(seed)
        return {
            "W1": rng.normal(size=(2, 2)).astype(np.float32),
            "b1": np.zeros(2, np.float32),
            "W2": rng.normal(size=(2, 1)).astype(np.float32),
            "b2": np.zeros(1, np.float32),
        }

    return make


@pytest.fixture
def neuron_math():
    """The grader's own float64 neuron: its mean binary cross-entropy and plain gradient descent on it."""
    return SimpleNamespace(loss=neuron_loss, descend=neuron_descent)


def neuron_loss(X, y, weights, bias) -> float:
    """Mean sigmoid cross-entropy from the logits, in the overflow-free form max(z,0) - z y + log(1 + e^-|z|)."""
    z = np.asarray(X, np.float64) @ np.asarray(weights, np.float64).reshape(-1) + float(bias)
    y = np.asarray(y, np.float64)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def neuron_descent(X, y, weights, bias, *, steps, learning_rate):
    """``steps`` full-batch gradient-descent steps on neuron_loss; returns the weights (2,) and the bias."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    weights, bias = np.asarray(weights, np.float64).reshape(-1).copy(), float(bias)
    for _ in range(steps):
        error = 1 / (1 + np.exp(-(X @ weights + bias))) - y
        weights, bias = weights - learning_rate * X.T @ error / len(y), bias - learning_rate * error.mean()
    return weights, bias
