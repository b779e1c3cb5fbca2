"""Inputs shared by the ch06_banknotes tests, injected as fixtures (trusted side only)."""
from types import SimpleNamespace

import numpy as np
import pytest


@pytest.fixture
def sorted_probe():
    """50 examples sorted by class like the banknote file; column 0 encodes each row's index and label, so
    a row that loses its label or is duplicated shows."""
    rng = np.random.default_rng(61)
    labels = np.repeat([0, 1], 25)
    features = rng.normal(size=(50, 4)) * [1.0, 5.0, 0.2, 30.0] + [0.0, 2.0, -1.0, 100.0]
    features[:, 0] = np.arange(50) + 1000 * labels
    return features, labels


@pytest.fixture
def skewed_probe():
    """Features whose scale differs per column and with a few far-out rows, so the statistics of a part
    differ clearly from those of all rows."""
    rng = np.random.default_rng(62)
    features = rng.normal(size=(40, 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 0.0]
    features[:4] += [50.0, -200.0, 3.0]
    return features, (rng.uniform(size=40) > 0.5).astype(np.int64)


@pytest.fixture
def probe_network():
    """A factory of networks as (W, b) numpy pairs with non-zero biases and mixed signs."""

    def make(sizes, seed, scale=1.0):
        rng = np.random.default_rng(seed)
        network = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            network.append((rng.normal(0, scale, size=(n_in, n_out)).astype(np.float32),
                            rng.normal(0, 0.5, size=n_out).astype(np.float32)))
        return network

    return make


@pytest.fixture
def start_network():
    """A factory of training starts drawn like chapter 6 (std 1/neurons, zero biases), by the grader."""

    def make(sizes, seed):
        rng = np.random.default_rng(seed)
        return [(rng.normal(0, 1 / n_out, size=(n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32))
                for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    return make


@pytest.fixture
def grader_math():
    """The grader's own numpy forward pass, loss and standardization, to judge what student code returns."""
    return SimpleNamespace(forward_logits=forward_logits, stable_loss=stable_loss, standardize_with=standardize_with,
                           accuracy=accuracy)


def leaky_relu(z, alpha=0.2):
    return np.where(z > 0, z, alpha * z)


def forward_logits(network, x):
    """The grader's own forward pass (float64): leaky ReLU hidden layers, linear output."""
    net = np.asarray(x, np.float64)
    for weights, bias in network[:-1]:
        net = leaky_relu(net @ np.asarray(weights, np.float64) + np.asarray(bias, np.float64))
    weights, bias = network[-1]
    return (net @ np.asarray(weights, np.float64) + np.asarray(bias, np.float64)).reshape(-1)


def stable_loss(logits, y):
    """Mean sigmoid cross-entropy from logits, in the overflow-free form max(z,0) - z y + log(1 + e^-|z|)."""
    logits, y = np.asarray(logits, np.float64), np.asarray(y, np.float64)
    return float(np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))))


def standardize_with(train_x, *others):
    mean, std = train_x.mean(axis=0), train_x.std(axis=0)
    return [((x - mean) / std).astype(np.float32) for x in (train_x, *others)]


def accuracy(network, x, y):
    return float(np.mean((forward_logits(network, x) > 0) == (np.asarray(y) > 0.5)))
