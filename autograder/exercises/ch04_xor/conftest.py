"""Shared inputs for the ch04_xor tests (trusted side only)."""
import numpy as np
import pytest

X_CORNERS = np.array([(0, 0), (0, 1), (1, 0), (1, 1)], dtype=np.float32)
Y_OR = np.array([0, 1, 1, 1], dtype=np.float32)
Y_XOR = np.array([0, 1, 1, 0], dtype=np.float32)


def make_probe_params(seed: int, dtype=np.float32, scale: float = 1.0) -> dict:
    """Non-symmetric parameters, so a transposed weight layout gives different answers."""
    rng = np.random.default_rng(seed)
    return {
        "W1": (scale * rng.normal(size=(2, 2))).astype(dtype),
        "b1": rng.normal(size=2).astype(dtype),
        "W2": (scale * rng.normal(size=(2, 1))).astype(dtype),
        "b2": rng.normal(size=1).astype(dtype),
    }


def make_xor_start(seed: int) -> dict:
    """A starting point for training: N(0, 1) weights, zero biases (see exercise.toml for measurements)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(2, 2)).astype(np.float32),
        "b1": np.zeros(2, np.float32),
        "W2": rng.normal(size=(2, 1)).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }


@pytest.fixture
def probe_batch():
    rng = np.random.default_rng(7)
    X = rng.uniform(-2, 2, size=(7, 2)).astype(np.float32)
    y = (rng.uniform(size=7) > 0.5).astype(np.float32)
    return X, y


@pytest.fixture
def corners():
    """The four corners of the unit square and the OR and XOR labels."""
    return X_CORNERS, Y_OR, Y_XOR


@pytest.fixture
def probe_params():
    return make_probe_params


@pytest.fixture
def xor_start():
    return make_xor_start
