"""Hidden checks for ch10_transfer (see exercise.toml for the measurements)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, submitted_weights
from dlgrade.sandbox.describe import describe_model

FASHION, TRANSFER = "fashion_cnn.weights.h5", "transfer.weights.h5"
FROZEN_ARRAYS = 24  # 4 convolutions (kernel, bias) and 4 batch normalizations (4 arrays each) before 'features'
FULL_MARKS, FLOOR = 0.93, 0.60


def same_arrays(first, second) -> bool:
    return len(first) == len(second) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, second))


@pytest.mark.points(2)
def test_training_leaves_the_fashion_weights_as_loaded(student, digits):
    """after train_model, the frozen layers hold exactly the fashion_cnn.weights.h5 values"""
    fashion = submitted_weights(student.build_old_model(), FASHION)[:FROZEN_ARRAYS]
    model = student.build_transfer_model(student.load_old_model(FASHION))
    student.train_model(model, digits[0], digits[1], epochs=1, batch_size=64)
    after = [as_array(w, what="weights after training") for w in model.get_weights()][:FROZEN_ARRAYS]
    assert same_arrays(after, fashion), (
        "after training, the layers before 'features' no longer hold the Fashion-MNIST weights: load "
        "them in load_old_model and freeze every old layer")


@pytest.mark.points(2)
def test_submitted_transfer_weights_keep_the_fashion_features(student):
    """transfer.weights.h5 holds, before 'features', exactly the submitted fashion_cnn.weights.h5"""
    fashion = submitted_weights(student.build_old_model(), FASHION)[:FROZEN_ARRAYS]
    transfer = submitted_weights(student.build_transfer_model(student.build_old_model()), TRANSFER)[:FROZEN_ARRAYS]
    assert same_arrays(transfer, fashion), (
        "the frozen part of transfer.weights.h5 differs from fashion_cnn.weights.h5: train with the old layers "
        "frozen, starting from the Fashion weights you submit")


def test_parameter_counts_match_the_exercise(student, reference):
    """the transfer model's trainable and non-trainable parameter counts are the exercise's"""
    # Both in the state the notebook asks for: the old model frozen (as load_old_model leaves it), so a
    # model that freezes the old layers again, or a second time elsewhere, counts the same.
    got = student.build_transfer_model(student.load_old_model(FASHION)).describe()
    old_model = reference.live("build_old_model")
    for layer in old_model.layers:
        layer.trainable = False
    expected = describe_model(reference.live("build_transfer_model", old_model))
    for summary in (got, expected):
        summary["trainable"] = sum(layer["trainable_params"] for layer in summary["layers"])
    assert (got["params"], got["trainable"]) == (expected["params"], expected["trainable"]), (
        f"{got['params']} parameters of which {got['trainable']} train; the exercise's transfer model has "
        f"{expected['params']} of which {expected['trainable']} train (the old layers frozen, the new head trainable)")


@pytest.mark.points(3)
@pytest.mark.visibility("visible")
def test_submitted_weights_on_held_out_digits(student, reference, hidden_data, credit, feedback):
    """transfer.weights.h5 reaches 93 % accuracy on the digits the grader kept aside"""
    arrays = submitted_weights(student.build_transfer_model(student.build_old_model()), TRANSFER)
    model = reference.live("build_transfer_model", reference.live("build_old_model"))
    expected = [w.shape for w in model.get_weights()]
    assert [a.shape for a in arrays] == expected, "transfer.weights.h5 does not have the exercise's weight shapes"
    model.set_weights(arrays)
    images, labels = hidden_data("mnist_5k")
    predicted = model.predict(np.asarray(images, np.float32).reshape(-1, 28, 28, 1) / 255.0, batch_size=250,
                              verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == labels))
    feedback.matrix("Held-out digits: true (rows) against predicted",
                    [[np.sum((labels == t) & (predicted == p)) for p in range(10)] for t in range(10)],
                    labels=[str(d) for d in range(10)])
    feedback.report_measured(f"accuracy on {len(labels)} held-out digits", accuracy, FULL_MARKS)
    message = f"accuracy of transfer.weights.h5 on the held-out digits: {accuracy:.3f}; {FULL_MARKS} earns full marks"
    assert accuracy > FLOOR, message
    if accuracy < FULL_MARKS:
        credit.give((accuracy - FLOOR) / (FULL_MARKS - FLOOR), message)
