"""Fixed probes that say what a Keras object computes, whatever it is called (runs in the sandbox and,
for the reference and the expected values, on the trusted side).

- an activation (function, string, ``Activation`` layer, ``ReLU()``, ``Softmax()``, a lambda) is named by
  the Keras activation whose outputs it reproduces on :data:`ACTIVATION_PROBE`;
- a loss (alias, class, instance, function) is summarised by its mean value on a probe batch;
- a learning rate (float or schedule) by its values at :data:`PROBE_STEPS`;
- a metric by the canonical name Keras' registry resolves it to.
"""
from __future__ import annotations

import functools
import math
import re

import numpy as np

ACTIVATION_PROBE = np.array([[-3.0, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 3.0],
                             [2.0, -2.0, 0.25, -0.25, 1.5, -1.5, 0.75, -0.75, 0.0]], dtype=np.float32)
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus",
               "softsign", "silu", "gelu", "exponential", "hard_sigmoid", "hard_silu", "relu6", "mish")

# a batch of 4 examples, 3 outputs: one-hot targets and predicted probabilities (rows sum to 1), so that
# cross-entropies, squared and absolute errors, Huber and KL all give different, finite values
PROBE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
PROBE_PRED = np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.05, 0.15, 0.8], [0.6, 0.3, 0.1]], dtype=np.float32)

# a regression batch whose errors range from 0.1 to 6, so losses that differ only for large errors (Huber's
# linear part, its delta, log-cosh) differ here
REGRESSION_TRUE = np.array([[0.0, 1.0], [2.0, -1.0], [5.0, 0.5], [-3.0, 4.0]], dtype=np.float32)
REGRESSION_PRED = np.array([[0.1, 0.5], [-1.0, -1.3], [0.0, 0.4], [-0.5, -2.0]], dtype=np.float32)

PROBE_STEPS = (0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000, 100000)


def _numpy(value) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def _finite(number: float) -> float | None:
    return number if math.isfinite(number) else None


def activation_layer_classes() -> tuple[type, ...]:
    """Layers that only apply an activation (no weights): each is an activation, not a layer, in a
    canonical architecture."""
    import keras

    names = ("Activation", "ReLU", "Softmax", "LeakyReLU", "ELU")
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))


@functools.cache  # a constant of the installed Keras: computed once, not once per layer described
def _reference_outputs() -> dict[str, np.ndarray]:
    import keras

    outputs = {}
    for name in ACTIVATIONS:
        try:
            outputs[name] = _numpy(keras.activations.get(name)(ACTIVATION_PROBE))
        except Exception:
            continue
    return outputs


def identify_activation(function) -> str:
    """The canonical name of what ``function`` computes: a Keras activation's name, ``leaky_relu(a)`` with
    its slope, or ``custom`` when it matches none."""
    try:
        got = _numpy(function(ACTIVATION_PROBE))
    except Exception:
        return "custom"
    if got.shape != ACTIVATION_PROBE.shape or not np.all(np.isfinite(got)):
        return "custom"
    for name, expected in _reference_outputs().items():
        if np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            return name
    x = ACTIVATION_PROBE.astype(np.float64)
    positive, negative = x > 0, x < 0
    if np.allclose(got[positive], x[positive], rtol=1e-5, atol=1e-6):
        slopes = got[negative] / x[negative]
        if np.allclose(slopes, slopes[0], rtol=1e-4, atol=1e-6) and 0 < slopes[0] < 1:
            return f"leaky_relu({slopes[0]:.4g})"
    return "custom"


def loss_on_probe(loss, *, regression: bool = False) -> float | None:
    """The mean value of the loss (alias, dict config, class, instance or function) on the probe batch of
    one-hot targets and probabilities (or, with ``regression``, on the regression batch); None when there
    is none, several (one per output) or it fails or is not finite on the probe."""
    if loss is None or isinstance(loss, (list, tuple)) or (isinstance(loss, dict) and "class_name" not in loss):
        return None
    y_true, y_pred = (REGRESSION_TRUE, REGRESSION_PRED) if regression else (PROBE_TRUE, PROBE_PRED)
    try:
        return _finite(float(np.mean(_numpy(resolve_loss(loss)(y_true, y_pred)))))
    except Exception:
        return None


def resolve_loss(loss):
    """The callable a loss given as an alias, dict config, class, instance or function stands for."""
    import keras

    function = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
    return function() if isinstance(function, type) else function


def learning_rates(optimizer) -> list[float | None]:
    """The optimizer's learning rate at each of :data:`PROBE_STEPS` (a constant repeats)."""
    import keras

    rate = getattr(optimizer, "_learning_rate", None)
    try:
        if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or (
                callable(rate) and not isinstance(rate, keras.Variable)):
            return [_finite(float(_numpy(rate(step)))) for step in PROBE_STEPS]
        value = _finite(float(_numpy(optimizer.learning_rate)))
    except Exception:
        return [None] * len(PROBE_STEPS)
    return [value] * len(PROBE_STEPS)


def optimizer_classes(optimizer) -> list[str]:
    """The optimizer's class and its bases, so a subclass of ``SGD`` still counts as SGD."""
    return [cls.__name__ for cls in type(optimizer).__mro__ if cls.__module__.startswith("keras")]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def canonical_metric(metric) -> str:
    """A metric's canonical name: ``"acc"`` and ``"accuracy"`` are ``accuracy`` (Keras picks categorical,
    sparse or binary accuracy from the targets), while ``keras.metrics.Accuracy`` and the function
    ``keras.metrics.accuracy`` count exact matches; ``"categorical_accuracy"``, the function and the class
    are ``categorical_accuracy``."""
    import keras

    if isinstance(metric, str):
        if metric.lower() in ("acc", "accuracy"):
            return "accuracy"
        try:
            metric = keras.metrics.get(metric)
        except Exception:
            return f"custom:{metric[:40]}"
    cls = metric if isinstance(metric, type) else type(metric)
    if issubclass(cls, keras.metrics.Accuracy) or metric is getattr(keras.metrics, "accuracy", None):
        return "exact_match_accuracy"  # Accuracy() compares y_pred == y_true: not accuracy on probabilities
    if isinstance(metric, type) or isinstance(metric, keras.metrics.Metric):
        return _snake(cls.__name__)
    return getattr(metric, "__name__", None) or f"custom:{type(metric).__name__}"


def _flat(value) -> list:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flat(v)]
    if isinstance(value, (list, tuple)):
        return [m for v in value for m in _flat(v)]
    return [] if value is None else [value]


def metric_names(model) -> list[str]:
    """The canonical names of the metrics given to ``compile`` (not the loss tracker)."""
    compiled = getattr(model, "_compile_metrics", None)
    given = getattr(compiled, "_user_metrics", None)
    try:
        return [canonical_metric(metric) for metric in _flat(given)][:50]
    except Exception:
        return []
