"""Inputs shared by the ch13_vae tests (trusted side only)."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits(student_data):
    """The first 64 training digits as float32 (64, 28, 28, 1) in [0, 1]."""
    images, _ = student_data("mnist_5k")
    return np.asarray(images[:64], np.float32).reshape(-1, 28, 28, 1) / 255.0


@pytest.fixture(scope="session")
def loss_terms():
    """(reconstruction, KL) per picture, in numpy: pixel-mean binary cross-entropy (Keras' clipping) and
    the KL divergence to N(0, 1) summed over the latent axis."""
    def terms(images, decoded, z_mean, z_log_var):
        decoded = np.clip(np.asarray(decoded, np.float64), 1e-7, 1 - 1e-7)
        images = np.asarray(images, np.float64)
        cross_entropy = -(images * np.log(decoded) + (1 - images) * np.log(1 - decoded))
        z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
        kl = -0.5 * np.sum(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var), axis=-1)
        return cross_entropy.reshape(len(images), -1).mean(axis=1), kl

    return terms
