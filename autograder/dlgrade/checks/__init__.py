"""DL-aware assertions shared by the exercises' tests. Each failure message says what was expected,
what came back and where to look, without revealing the expected values' source."""

from dlgrade.checks.architecture import assert_same_architecture
from dlgrade.checks.arrays import as_array, as_arrays, assert_close
from dlgrade.checks.gradients import assert_gradients_close, numerical_gradients, relative_error
from dlgrade.checks.tensorboard import read_scalars
from dlgrade.checks.training import assert_loss_decreases, assert_trained_like_reference
from dlgrade.checks.weights import submitted_weights

__all__ = [
    "as_array", "as_arrays", "assert_close", "assert_gradients_close", "assert_loss_decreases", "assert_same_architecture",
    "assert_trained_like_reference",
    "numerical_gradients", "read_scalars", "relative_error", "submitted_weights",
]
