"""DL-aware assertions shared by the exercises' tests. Each failure message says what was expected,
what came back and where to look, without revealing the expected values' source."""

from dlgrade.checks.architecture import assert_same_architecture, canonical_layers
from dlgrade.checks.arrays import as_array, as_arrays, assert_close
from dlgrade.checks.compiled import assert_learning_rates, assert_loss, assert_metric, assert_optimizer
from dlgrade.checks.gradients import assert_gradients_close, numerical_gradients, relative_error
from dlgrade.checks.tensorboard import logged_per_epoch, read_scalars
from dlgrade.checks.training import assert_loss_decreases, assert_trained_like_reference
from dlgrade.checks.weights import submitted_weights

__all__ = [
    "as_array", "as_arrays", "assert_close", "assert_gradients_close", "assert_learning_rates", "assert_loss",
    "assert_loss_decreases", "assert_metric", "assert_optimizer", "assert_same_architecture",
    "assert_trained_like_reference", "canonical_layers", "logged_per_epoch",
    "numerical_gradients", "read_scalars", "relative_error", "submitted_weights",
]
