"""Public checks for ch16_lstm."""
import numpy as np
import pytest

from dlgrade.checks import (as_array, assert_close, assert_loss, assert_optimizer, assert_same_architecture,
                            canonical_layers)


@pytest.mark.points(2)
def test_windows_on_a_probe_series(student):
    """make_windows: every window of look_back values with the value that follows it, shape (samples, look_back, 1)"""
    series = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0], np.float32)
    x, y = (as_array(a, what=name) for a, name in zip(student.make_windows(series, 3), ("x", "y")))
    assert x.shape == (4, 3, 1), f"x has shape {x.shape}; 7 values with look_back 3 give 4 windows of shape (3, 1)"
    assert np.array_equal(x[:, :, 0], [[3, 1, 4], [1, 4, 1], [4, 1, 5], [1, 5, 9]]), f"windows {x[:, :, 0].tolist()}"
    assert np.array_equal(y.reshape(-1), [1, 5, 9, 2]), f"targets {y.reshape(-1).tolist()}, expected [1, 5, 9, 2]"


def test_split_and_scaler_use_the_training_part(student):
    """chronological_split keeps time order; the scaler comes from the training part only"""
    series = np.arange(1, 101, dtype=np.float32) * 2.0
    train, test = (as_array(a, what=n) for a, n in zip(student.chronological_split(series), ("train", "test")))
    assert np.array_equal(train, series[:67]) and np.array_equal(test, series[67:]), "split in time order at int(0.67 n)"
    scaler = student.fit_scaler(train)
    scaled_test = as_array(student.scale(test, scaler), what="scale(test, scaler)")
    assert_close(scaled_test, (series[67:] - 2.0) / (134.0 - 2.0), atol=1e-5,
                 what="the test part scaled with the training minimum and maximum (values above 1 are expected)")
    assert_close(as_array(student.unscale(scaled_test, scaler), what="unscale"), series[67:], atol=1e-3, what="unscale")


def test_rmse_in_passengers(student):
    """rmse_passengers: the error in passengers, after undoing the scaling of predictions and targets"""
    scaler = (100.0, 600.0)
    predictions, targets = np.array([0.1, 0.5, 0.9]), np.array([0.2, 0.5, 0.7])
    expected = float(np.sqrt(np.mean(((predictions - targets) * 500.0) ** 2)))
    got = float(as_array(student.rmse_passengers(predictions, targets, scaler), what="rmse_passengers").reshape(-1)[0])
    assert_close(got, expected, rtol=1e-5, what="rmse_passengers (in thousands of passengers, not in scaled units)")


@pytest.mark.points(2)
def test_model_is_a_stateful_lstm_with_batch_size_one(student, reference):
    """build_model: keras.Input(batch_shape=(1, look_back, 1)), a stateful LSTM(4), Dense(1), mean squared error and Adam"""
    summary = student.build_model(5).describe()
    assert summary["input_shapes"] == [[1, 5, 1]], (
        f"input shape {summary['input_shapes']}; a stateful model needs keras.Input(batch_shape=(1, look_back, 1))")
    lstms = [layer for layer in canonical_layers(summary) if layer["class_name"] == "LSTM"]
    assert lstms and all(layer["config"].get("stateful") is True for layer in lstms), (
        "the LSTM layer should be stateful: layers.LSTM(4, stateful=True)")
    assert_same_architecture(summary, reference.described("build_model", 5),
                             what="build_model(5): keras.Input(batch_shape=(1, 5, 1)), LSTM(4, stateful=True), Dense(1)")
    compiled = summary["compiled"]
    assert_loss(compiled, "mean_squared_error", words="mean squared error")
    assert_optimizer(compiled, "Adam", words="Adam")


def test_prediction_starts_from_fresh_states(student, passengers):
    """predict_series resets the LSTM states first: predicting twice gives the same values"""
    x = np.stack([passengers[i:i + 3] for i in range(20)]).reshape(20, 3, 1) / 600.0
    model = student.build_model(3)
    first = as_array(student.predict_series(model, x), what="predict_series")
    second = as_array(student.predict_series(model, x), what="predict_series again")
    assert first.shape == (20,), f"predict_series should return one value per window, shape (20,), got {first.shape}"
    assert_close(second, first, atol=1e-6, what="a second predict_series on the same windows (states must be reset)")
