"""Public checks for ch10_transfer: students run these with `dlgrade check` (they need the
fashion_cnn.weights.h5 they start from beside the notebook)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, assert_same_architecture

FASHION = "fashion_cnn.weights.h5"


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
    layers = model.describe()["layers"]
    names = [layer["name"] for layer in layers]
    assert "features" in names, "the transfer model should reach the old model's 'features' layer"
    cut = names.index("features")
    thawed = [layer["name"] for layer in layers[:cut] if layer["trainable_params"]]
    assert not thawed, f"these layers of the old model still train: {thawed}; set layer.trainable = False"
    head = layers[cut + 1:]
    kinds = [layer["class_name"] for layer in head]
    assert kinds == ["Dense", "Activation", "BatchNormalization", "Dropout", "Dense", "Activation"], (
        f"the new head after 'features' is {kinds}")
    frozen_head = [layer["name"] for layer in head if layer["class_name"] == "Dense" and not layer["trainable_params"]]
    assert not frozen_head, f"the new head's dense layers do not train: {frozen_head}"
    assert head[0].get("config", {}).get("units") == 512 and head[-2].get("config", {}).get("units") == 10, (
        "the head should be Dense(512) ... Dense(10)")
