"""Hidden checks for ch16_lstm: the submitted weights on the test part of the series (measurements in
exercise.toml)."""
import numpy as np
import pytest

from dlgrade.checks import assert_trained_like_reference, submitted_weights

WEIGHTS, LOOK_BACK = "airline_lstm.weights.h5", 3
FULL_MARKS_RMSE, FLOOR_RMSE = 75.0, 150.0


@pytest.mark.points(3)
@pytest.mark.visibility("visible")
def test_submitted_weights_test_rmse(student, reference, passengers, credit, feedback):
    """airline_lstm.weights.h5 predicts the last third of the series within the measured error"""
    arrays = submitted_weights(student.build_model(LOOK_BACK), WEIGHTS,
                               how_to_make_it="run the training cell, which saves it")
    size = int(len(passengers) * 0.67)
    minimum, maximum = float(passengers[:size].min()), float(passengers[:size].max())
    test = (passengers[size:] - minimum) / (maximum - minimum)
    x = np.stack([test[i:i + LOOK_BACK] for i in range(len(test) - LOOK_BACK)]).reshape(-1, LOOK_BACK, 1)
    targets = passengers[size + LOOK_BACK:]
    ours = reference.live("build_model", LOOK_BACK)
    ours.set_weights(arrays)
    predicted = ours.predict(x, batch_size=1, verbose=0).reshape(-1) * (maximum - minimum) + minimum
    rmse = float(np.sqrt(np.mean((predicted - targets) ** 2)))
    feedback.line_plot("Test part: passengers and your predictions", {"passengers": targets, "predicted": predicted},
                       xlabel="month of the test part", ylabel="thousands")
    feedback.report_measured("test RMSE (thousands of passengers)", rmse, FULL_MARKS_RMSE, lower_is_better=True)
    message = f"test RMSE of your weights: {rmse:.1f} thousand passengers; {FULL_MARKS_RMSE} or less earns full marks"
    assert rmse < FLOOR_RMSE, message
    if rmse > FULL_MARKS_RMSE:
        credit.give((FLOOR_RMSE - rmse) / (FLOOR_RMSE - FULL_MARKS_RMSE), message)


@pytest.mark.points(2)
def test_training_follows_time_order(student, reference, passengers):
    """train: epochs of batch size 1 in time order change the weights exactly as the reference's do"""
    size = int(len(passengers) * 0.67)
    scaled = (passengers[:40] - passengers[:size].min()) / (passengers[:size].max() - passengers[:size].min())
    x = np.stack([scaled[i:i + LOOK_BACK] for i in range(40 - LOOK_BACK)]).reshape(-1, LOOK_BACK, 1)
    y = scaled[LOOK_BACK:]
    ours = reference.live("build_model", LOOK_BACK)
    start = [np.asarray(w) for w in ours.get_weights()]
    model = student.build_model(LOOK_BACK)
    model.set_weights(start)
    student.train(model, x, y, epochs=2)
    reference.live("train", ours, x, y, epochs=2)
    assert_trained_like_reference(
        model.get_weights(), ours.get_weights(), start, what="after 2 epochs from the grader's starting weights",
        hint="fit one epoch at a time with batch_size=1 and shuffle=False, Adam and mean squared error, and reset "
             "the states after each epoch")
