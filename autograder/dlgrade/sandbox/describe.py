"""A structural summary of a Keras 3 model, as plain data (runs in the sandbox)."""
from __future__ import annotations

import math


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


def _layer_summary(layer) -> dict:
    try:
        output_shape = _shape(layer.output)
    except Exception:  # Keras 3 raises when a layer was never called symbolically
        output_shape = None
    try:
        config = _plain(layer.get_config())
    except Exception:
        config = {}
    summary = {
        "class_name": type(layer).__name__,
        "name": layer.name,
        "config": config,
        "output_shape": output_shape,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(sum(math.prod(w.shape) for w in layer.trainable_weights)),
    }
    if hasattr(layer, "layers"):
        summary["layers"] = [_layer_summary(inner) for inner in layer.layers]
    return summary


def describe_model(model) -> dict:
    """Class, input/output shapes, parameter counts and every layer's kind, config and output shape."""
    summary = _layer_summary(model)
    summary["input_shapes"] = [_shape(t) for t in getattr(model, "inputs", None) or []]
    summary["output_shapes"] = [_shape(t) for t in getattr(model, "outputs", None) or []]
    summary["compiled"] = _compiled(model)
    return summary


def _compiled(model) -> dict | None:
    """What ``compile`` set: the optimizer's class and config (a schedule appears as its config) and the loss."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        config = _plain(optimizer.get_config())
    except Exception:
        config = {}
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
    return {"optimizer": type(optimizer).__name__, "optimizer_config": config, "loss": _plain(loss_name)}
