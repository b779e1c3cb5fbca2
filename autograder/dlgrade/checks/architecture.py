"""Keras 3 architecture comparison on structural summaries (see ``Remote.describe``).

Compares what an exercise specifies — layer kinds in order, chosen config keys, output shapes
(``layer.output.shape``; Keras 3 has no ``output_shape``) and parameter counts — and nothing it leaves
free, such as layer names or initialisers.
"""
from __future__ import annotations

DEFAULT_KEYS = ("units", "filters", "kernel_size", "strides", "padding", "activation", "pool_size", "rate",
                "return_sequences", "stateful")
PASS_THROUGH = ("InputLayer",)


def _layers(summary: dict) -> list[dict]:
    return [layer for layer in summary.get("layers", []) if layer.get("class_name") not in PASS_THROUGH]


def assert_same_architecture(actual: dict, expected: dict, *, what: str = "your model",
                             keys: tuple[str, ...] = DEFAULT_KEYS, check_params: bool = True) -> None:
    """Fail with the first difference between two model summaries, in the course's words."""
    if not isinstance(actual, dict) or "layers" not in actual:
        raise AssertionError(f"{what}: expected a Keras model")
    got, want = _layers(actual), _layers(expected)
    got_kinds = [layer["class_name"] for layer in got]
    want_kinds = [layer["class_name"] for layer in want]
    if got_kinds != want_kinds:
        raise AssertionError(f"{what}: layers are {got_kinds}; the exercise asks for {want_kinds}")
    for index, (g, w) in enumerate(zip(got, want)):
        label = f"{what}: layer {index} ({w['class_name']})"
        for key in keys:
            if key in w.get("config", {}) and g.get("config", {}).get(key) != w["config"][key]:
                raise AssertionError(f"{label}: {key} is {g.get('config', {}).get(key)!r}, expected {w['config'][key]!r}")
        if w.get("output_shape") and g.get("output_shape") != w["output_shape"]:
            raise AssertionError(f"{label}: output shape {g.get('output_shape')}, expected {w['output_shape']}")
        if check_params and g.get("params") != w.get("params"):
            raise AssertionError(f"{label}: {g.get('params')} parameters, expected {w.get('params')}")
    if check_params and actual.get("params") != expected.get("params"):
        raise AssertionError(f"{what}: {actual.get('params')} parameters in total, expected {expected.get('params')}")
