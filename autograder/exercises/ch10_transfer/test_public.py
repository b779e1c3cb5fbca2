"""Public checks for ch10_transfer: students run these with `dlgrade check` (they need the
fashion_cnn.weights.h5 they start from beside the notebook)."""
import numpy as np
import pytest

from dlgrade.checks import (as_array, assert_close, assert_learning_rates, assert_loss, assert_metric,
                            assert_optimizer, assert_same_architecture, canonical_layers)
from dlgrade.sandbox.probes import PROBE_STEPS

FASHION = "fashion_cnn.weights.h5"
# The new head in the notes' words, each layer with the activation it applies (canonical_layers folds an
# Activation, ReLU() or Softmax() layer into the layer before it, as activation= does).
HEAD = ["Dense(512, relu)", "BatchNormalization", "Dropout(0.5)", "Dense(10, softmax)"]


def head_step(layer: dict) -> str:
    """A canonical layer as the head's list names it: kind, the setting the exercise fixes, activation."""
    config = layer.get("config") or {}
    settings = [str(config[key]) for key in ("units", "rate") if key in config]
    activation = layer.get("activation")
    if activation not in (None, "linear"):
        settings.append(activation)
    return f"{layer['class_name']}({', '.join(settings)})" if settings else layer["class_name"]


def test_prepare_digits(student, digits, student_data):
    """prepare_digits scales like chapter 8: (n, 28, 28, 1) float32 in [0, 1], one-hot labels"""
    images, labels = student_data("mnist_5k")
    x, y = student.prepare_digits(images[:16], labels[:16])
    x, y = as_array(x, what="x"), as_array(y, what="y")
    assert x.shape == (16, 28, 28, 1), f"x has shape {x.shape}, expected (16, 28, 28, 1)"
    assert_close(x, digits[0][:16], atol=1e-6, what="x: the digits divided by 255, as the frozen layers expect")
    assert np.array_equal(y, digits[1][:16]), "y is not the one-hot form of the labels"


@pytest.mark.points(2)
def test_old_model_rebuilt_with_names(student, reference):
    """build_old_model: the chapter 8 network as a functional model, input 'inputs', Flatten 'features'"""
    summary = student.build_old_model().describe()
    names = {layer["name"]: layer["class_name"] for layer in summary.get("layers", [])}
    assert names.get("inputs") == "InputLayer", f"no input layer named 'inputs' (layers: {sorted(names)})"
    assert names.get("features") == "Flatten", "the Flatten layer should be named 'features'"
    assert_same_architecture(summary, reference.described("build_old_model"), what="build_old_model()")


@pytest.mark.points(3)
def test_only_the_new_head_trains(student):
    """build_transfer_model(load_old_model(...)): every layer up to 'features' frozen, the new head trainable"""
    model = student.build_transfer_model(student.load_old_model(FASHION))
    sequence = canonical_layers(model.describe())
    names = [layer.get("name") for layer in sequence]
    assert "features" in names, "the transfer model should reach the old model's 'features' layer"
    cut = names.index("features")
    thawed = [layer.get("name") for layer in sequence[:cut] if layer.get("trainable_params")]
    assert not thawed, f"these layers of the old model still train: {thawed}; set layer.trainable = False"
    head = sequence[cut + 1:]
    got = [head_step(layer) for layer in head]
    assert got == HEAD, (f"the new head after 'features' is {', '.join(got) or 'empty'}; the exercise asks for "
                         f"{', '.join(HEAD)} (Dense(512), ReLU, batch normalization, Dropout(0.5), Dense(10), "
                         "softmax; an activation may be its own layer or the activation= of the layer before it)")
    frozen_head = [step for step, layer in zip(got, head) if layer.get("params") and not layer.get("trainable_params")]
    assert not frozen_head, f"these layers of the new head do not train: {frozen_head}; only the old layers are frozen"


def test_compile_settings(student):
    """build_transfer_model compiles for categorical cross-entropy with SGD (momentum 0.9) and the accuracy metric"""
    what = "build_transfer_model(build_old_model(), learning_rate=0.02)"
    compiled = student.build_transfer_model(student.build_old_model(), learning_rate=0.02).describe()["compiled"]
    assert_loss(compiled, "categorical_crossentropy", words="categorical cross-entropy", what=what)
    assert_optimizer(compiled, "SGD", words="SGD (keras.optimizers.SGD) with momentum 0.9", what=what, momentum=0.9)
    first = [0.02] + [None] * (len(PROBE_STEPS) - 1)  # the start; the notes name no schedule
    assert_learning_rates(compiled, first, what=what,
                          words="SGD should start at the learning_rate given to build_transfer_model")
    assert_metric(compiled, {"accuracy", "categorical_accuracy"}, words="the accuracy metric", what=what)
