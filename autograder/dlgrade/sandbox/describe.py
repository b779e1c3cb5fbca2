"""A structural and behavioural summary of a Keras 3 model, as plain data (runs in the sandbox, and on the
trusted side for the reference).

Names alone do not say what a model computes: ``loss="mse"``, ``keras.losses.mean_squared_error`` and
``MeanSquaredError(name="mse")`` are the same loss; ``Dense(activation="relu")`` and ``Dense`` +
``ReLU()`` the same layer. So besides names the summary records what things *do* on fixed probes
(:mod:`dlgrade.sandbox.probes`): each activation's identity found by its outputs, the loss's value on a
probe batch, the learning rate at probe steps, and every compiled metric resolved through Keras' registry.
The trusted side compares these (:mod:`dlgrade.checks.compiled`, :mod:`dlgrade.checks.architecture`).
"""
from __future__ import annotations

import math

from dlgrade.sandbox import probes


def _plain(value, depth: int = 0):
    """Config values reduced to JSON-friendly data; anything else becomes its type name."""
    if depth > 8:
        return "..."
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    return f"<{type(value).__name__}>"


def _shape(tensor) -> list | None:
    try:
        return [None if d is None else int(d) for d in tensor.shape]
    except Exception:
        return None


def _activation_of(layer) -> tuple[str | None, str | None]:
    """(activation of a layer that has one, what an activation-only layer computes), each a canonical name."""
    if isinstance(layer, probes.activation_layer_classes()):
        return None, probes.identify_activation(layer)
    function = getattr(layer, "activation", None)  # a function, or a layer such as keras.layers.ReLU()
    return (probes.identify_activation(function) if callable(function) else None), None


def _layer_summary(layer) -> dict:
    try:
        output_shape = _shape(layer.output)
    except Exception:  # Keras 3 raises when a layer was never called symbolically
        output_shape = None
    try:
        config = _plain(layer.get_config())
    except Exception:
        config = {}
    try:
        activation, acts_as = _activation_of(layer)
    except Exception:
        activation, acts_as = "unknown", None
    summary = {
        "class_name": type(layer).__name__,
        "name": layer.name,
        "config": config,
        "activation": activation,
        "acts_as": acts_as,
        "is_model": _is_model(layer),
        "output_shape": output_shape,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(sum(math.prod(w.shape) for w in layer.trainable_weights)),
    }
    if hasattr(layer, "layers"):
        summary["layers"] = [_layer_summary(inner) for inner in layer.layers]
    return summary


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def describe_model(model) -> dict:
    """Class, input/output shapes, parameter counts, every layer's kind, config, activation and output
    shape, and what ``compile`` set (see :func:`describe_compiled`)."""
    summary = _layer_summary(model)
    summary["input_shapes"] = [_shape(t) for t in getattr(model, "inputs", None) or []]
    summary["output_shapes"] = [_shape(t) for t in getattr(model, "outputs", None) or []]
    summary["compiled"] = describe_compiled(model)
    return summary


def describe_compiled(model) -> dict | None:
    """What ``compile`` set, by name and by behaviour: the optimizer's classes and config, its learning rate
    at the probe steps, the loss's name and value on the probe batch, and the metrics' canonical names."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        config = _plain(optimizer.get_config())
    except Exception:  # e.g. a learning-rate schedule without get_config: the settings are still attributes
        config = {name: value for name, value in vars(optimizer).items() if not name.startswith("_")
                  and isinstance(value, (int, float)) and not isinstance(value, bool)}
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", None) \
        or type(loss).__name__
    return {
        "optimizer": type(optimizer).__name__,
        "optimizer_classes": probes.optimizer_classes(optimizer),
        "optimizer_config": config,
        "learning_rates": probes.learning_rates(optimizer),
        "loss": _plain(loss_name),
        "loss_on_probe": probes.loss_on_probe(loss),
        "loss_on_regression_probe": probes.loss_on_probe(loss, regression=True),
        "metrics": probes.metric_names(model),
    }
