"""The DL-aware checks fail for the right reason and with a readable message."""
import struct
import tracemalloc

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from dlgrade.checks import tensorboard as event_files
from dlgrade.checks import (
    as_array, as_arrays, assert_close, assert_gradients_close, assert_loss_decreases, assert_same_architecture,
    assert_trained_like_reference,
    numerical_gradients, read_scalars, relative_error,
)


def test_assert_close_names_shape_and_worst_element():
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]), what="x")
    with pytest.raises(AssertionError, match=r"expected shape \(2,\), got \(2, 1\)"):
        assert_close(np.ones((2, 1)), np.ones(2), what="x")
    with pytest.raises(AssertionError, match=r"worst at index \(1,\): got 3, expected 2"):
        assert_close(np.array([1.0, 3.0]), np.array([1.0, 2.0]), what="x")
    with pytest.raises(AssertionError, match="NaN or infinite"):
        assert_close(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), what="x")


def test_assert_close_on_a_scalar_names_the_values_not_an_index():
    for actual, expected in ((3.0, 2.0), (np.float32(3.0), np.array(2.0)), (np.array(3.0), 2.0)):
        with pytest.raises(AssertionError) as failure:
            assert_close(actual, expected, what="loss")
        assert str(failure.value) == "loss: got 3, expected 2 (beyond tolerance rtol=1e-05, atol=1e-06)"


def test_as_array_refuses_non_numeric_values():
    for value in ("text", {"a": 1}, object(), [["a"]], np.str_("1")):
        with pytest.raises(AssertionError, match="expected a numeric array"):
            as_array(value, what="v")


def test_as_array_takes_numpy_scalars():
    assert as_array(np.float32(1.5), what="v").shape == () and as_array(np.int64(2), what="v") == 2


def test_numerical_gradients_of_a_known_function():
    params = {"w": np.array([[1.0, -2.0]]), "b": np.array([0.5])}
    grads = numerical_gradients(lambda p: float(np.sum(p["w"] ** 2) + 3 * p["b"][0]), params)
    assert np.allclose(grads["w"], [[2.0, -4.0]], atol=1e-6) and np.allclose(grads["b"], [3.0], atol=1e-6)
    assert relative_error(1.0, 1.0) == 0.0


def test_gradient_check_catches_missing_and_wrong_gradients():
    expected = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    assert_gradients_close({"w": np.array([1.0, 2.0]), "b": np.array([0.5])}, expected, what="g")
    with pytest.raises(AssertionError, match="no gradient for b"):
        assert_gradients_close({"w": np.array([1.0, 2.0])}, expected, what="g")
    with pytest.raises(AssertionError, match="relative error"):
        assert_gradients_close({"w": np.array([1.0, 2.5]), "b": np.array([0.5])}, expected, what="g")


def test_loss_decrease_check():
    assert_loss_decreases([1.0, 0.5, 0.2], what="loss", min_relative_drop=0.5)
    with pytest.raises(AssertionError, match="expected a drop"):
        assert_loss_decreases([1.0, 0.95], what="loss", min_relative_drop=0.5)
    with pytest.raises(AssertionError, match="NaN"):
        assert_loss_decreases([1.0, np.nan], what="loss")


def test_trained_like_reference_measures_the_gap_against_how_far_training_moved():
    start = [np.zeros((2, 2)), np.zeros(2)]
    expected = [np.full((2, 2), 0.1), np.full(2, -0.2)]
    close = [expected[0] + 0.005, expected[1]]
    assert_trained_like_reference(close, expected, start, what="after 1 step", hint="h")
    with pytest.raises(AssertionError, match=r"after 1 step, your weights differ .* up to 0.02 .* up to 0.2\): h"):
        assert_trained_like_reference([expected[0] + 0.02, expected[1]], expected, start, what="after 1 step", hint="h")
    with pytest.raises(AssertionError, match="shapes"):
        assert_trained_like_reference([expected[0]], expected, start, what="after 1 step", hint="h")


def _summary(units, activation="relu", params=10):
    return {"params": params, "layers": [
        {"class_name": "InputLayer", "config": {}},
        {"class_name": "Dense", "config": {"units": units, "activation": activation, "name": "any"},
         "output_shape": [None, units], "params": params},
    ]}


def test_architecture_comparison_ignores_names_but_not_spec():
    assert_same_architecture(_summary(4), _summary(4))
    with pytest.raises(AssertionError, match="units is 5, expected 4"):
        assert_same_architecture(_summary(5), _summary(4))
    with pytest.raises(AssertionError, match="activation"):
        assert_same_architecture(_summary(4, "tanh"), _summary(4))
    with pytest.raises(AssertionError, match="parameters"):
        assert_same_architecture(_summary(4, params=12), _summary(4))


def test_as_arrays_takes_only_a_list_or_tuple_and_never_loops_over_anything_else():
    asked = []

    class Endless:
        """What a remote object that answers every index looks like to Python's legacy iteration."""

        type_name = "__main__.Endless"

        def __getitem__(self, index):
            asked.append(index)
            if index > 10:
                raise IndexError(index)
            return np.zeros(3)

    assert [a.shape for a in as_arrays((np.zeros(2), [1.0, 2.0]), what="w")] == [(2,), (2,)]
    with pytest.raises(AssertionError, match="weights: expected a list of numeric arrays, got __main__.Endless"):
        as_arrays(Endless(), what="weights")
    assert asked == []


def event_record(event: event_pb2.Event) -> bytes:
    """One TFRecord (the CRCs are not checked by the reader)."""
    payload = event.SerializeToString()
    return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4


def scalar_event(tag: str, step: int, **tensor) -> event_pb2.Event:
    event = event_pb2.Event(step=step)
    event.summary.value.add(tag=tag, tensor=tensor_pb2.TensorProto(**tensor))
    return event


def test_read_scalars_decodes_one_value_and_never_a_declared_giant():
    giant = scalar_event("loss", 1, dtype=types_pb2.DT_FLOAT, float_val=[1.0],
                         tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[{"size": 1 << 30}]))
    assert len(giant.SerializeToString()) < 40  # a few bytes that claim 4 GiB of floats
    odd_shape = scalar_event("loss", 2, dtype=types_pb2.DT_FLOAT, float_val=[2.0],
                             tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[{"size": -1}, {"size": -1}]))
    too_much_content = scalar_event("loss", 3, dtype=types_pb2.DT_DOUBLE, tensor_content=np.zeros(2).tobytes())
    text = scalar_event("loss", 4, dtype=types_pb2.DT_STRING, string_val=[b"1.0"])
    good = [scalar_event("loss", 0, dtype=types_pb2.DT_FLOAT, float_val=[0.5]),
            scalar_event("accuracy", 0, dtype=types_pb2.DT_DOUBLE, tensor_content=np.float64(0.75).tobytes(),
                         tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[{"size": 1}])),
            scalar_event("half", 0, dtype=types_pb2.DT_HALF, half_val=[int(np.float16(1.5).view(np.uint16))]),
            scalar_event("steps", 0, dtype=types_pb2.DT_INT64, int64_val=[7])]
    legacy = event_pb2.Event(step=5)
    legacy.summary.value.add(tag="loss", simple_value=0.25)
    data = b"".join(event_record(e) for e in [giant, odd_shape, too_much_content, text, *good, legacy])
    tracemalloc.start()
    try:
        scalars = read_scalars({"events.out.tfevents.1": data, "notes.txt": b"x" * 100})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated to read a few scalars"
    assert scalars == {"loss": {0: 0.5, 5: 0.25}, "accuracy": {0: 0.75}, "half": {0: 1.5}, "steps": {0: 7.0}}


def test_read_scalars_caps_the_records_it_reads(monkeypatch):
    monkeypatch.setattr(event_files, "MAX_RECORDS", 3)
    record = event_record(scalar_event("loss", 0, dtype=types_pb2.DT_FLOAT, float_val=[0.5]))
    assert read_scalars({"a.tfevents": record * 3}) == {"loss": {0: 0.5}}
    with pytest.raises(AssertionError, match="more than 3 records"):
        read_scalars({"a.tfevents": record * 4})
