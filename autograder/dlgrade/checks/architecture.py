"""Keras 3 architectures compared as canonical layer sequences (trusted side, on ``describe`` summaries).

Canonical means: input layers dropped; nested models (Sequential inside Sequential, a functional
sub-model) inlined; an activation is a property of what precedes it, so ``Dense(activation="relu")``,
``Dense`` + ``Activation("relu")``, ``Dense`` + ``ReLU()`` and ``Dense(activation=tf.nn.relu)`` are the same
layer; activations are named by what they compute (:func:`dlgrade.sandbox.probes.identify_activation`).
Then compared: layer kinds in order, chosen config keys, activations, output shapes (``layer.output.shape``)
and parameter counts — and nothing the exercise leaves free, such as layer names or initialisers.
"""
from __future__ import annotations

DEFAULT_KEYS = ("units", "filters", "kernel_size", "strides", "padding", "pool_size", "rate",
                "return_sequences", "stateful")
PASS_THROUGH = ("InputLayer",)
NO_ACTIVATION = (None, "linear")


def _flattened(layers: list[dict]) -> list[dict]:
    out = []
    for layer in layers:
        if layer.get("is_model") and "layers" in layer:
            out.extend(_flattened(layer["layers"]))
        elif layer.get("class_name") not in PASS_THROUGH:
            out.append(layer)
    return out


def canonical_layers(summary: dict) -> list[dict]:
    """The model's layers as a canonical sequence: each activation-only layer folded into the layer before
    it when that layer has a linear activation, otherwise kept as an ``Activation`` step."""
    sequence: list[dict] = []
    for layer in _flattened(summary.get("layers", [])):
        acts_as = layer.get("acts_as")
        if acts_as is not None:
            previous = sequence[-1] if sequence else None
            if previous is not None and "activation" in previous and previous["activation"] in NO_ACTIVATION:
                previous["activation"] = acts_as
                previous["output_shape"] = layer.get("output_shape") or previous.get("output_shape")
                continue
            sequence.append({"class_name": "Activation", "activation": acts_as, "config": {},
                             "output_shape": layer.get("output_shape"), "params": 0, "trainable_params": 0})
            continue
        entry = dict(layer)
        if "activation" not in entry and isinstance((layer.get("config") or {}).get("activation"), str):
            entry["activation"] = layer["config"]["activation"]  # a summary made before activations were probed
        if entry.get("activation") is None:
            entry.pop("activation", None)
        sequence.append(entry)
    return sequence


def _kind(layer: dict) -> str:
    activation = layer.get("activation")
    if activation in NO_ACTIVATION or activation is None:
        return layer["class_name"]
    return f"{layer['class_name']}({activation})"


def assert_same_architecture(actual: dict, expected: dict, *, what: str = "your model",
                             keys: tuple[str, ...] = DEFAULT_KEYS, check_params: bool = True) -> None:
    """Fail with the first difference between two model summaries' canonical sequences, in the course's
    words (``Dense(relu)`` is a Dense layer followed by, or with, a ReLU activation)."""
    if not isinstance(actual, dict) or "layers" not in actual:
        raise AssertionError(f"{what}: expected a Keras model")
    got, want = canonical_layers(actual), canonical_layers(expected)
    got_kinds, want_kinds = [_kind(layer) for layer in got], [_kind(layer) for layer in want]
    if [layer["class_name"] for layer in got] != [layer["class_name"] for layer in want]:
        raise AssertionError(f"{what}: layers are {got_kinds}; the exercise asks for {want_kinds}")
    for index, (g, w) in enumerate(zip(got, want)):
        label = f"{what}: layer {index} ({_kind(w)})"
        if g.get("activation", "linear") != w.get("activation", "linear"):
            raise AssertionError(f"{label}: activation {g.get('activation') or 'linear'}, expected "
                                 f"{w.get('activation') or 'linear'} (as activation= or as the layer after it)")
        for key in keys:
            if key in w.get("config", {}) and g.get("config", {}).get(key) != w["config"][key]:
                raise AssertionError(f"{label}: {key} is {g.get('config', {}).get(key)!r}, expected {w['config'][key]!r}")
        if w.get("output_shape") and g.get("output_shape") != w["output_shape"]:
            raise AssertionError(f"{label}: output shape {g.get('output_shape')}, expected {w['output_shape']}")
        if check_params and g.get("params") != w.get("params"):
            raise AssertionError(f"{label}: {g.get('params')} parameters, expected {w.get('params')}")
    if check_params and actual.get("params") != expected.get("params"):
        raise AssertionError(f"{what}: {actual.get('params')} parameters in total, expected {expected.get('params')}")
