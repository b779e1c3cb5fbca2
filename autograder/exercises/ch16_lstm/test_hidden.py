"""Hidden checks for ch16_lstm: the submitted weights on the test part of the series (measurements in
exercise.toml)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, submitted_weights

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
    got = [as_array(w, what="weights after train") for w in model.get_weights()]
    reference.live("train", ours, x, y, epochs=2)
    expected = [np.asarray(w) for w in ours.get_weights()]
    worst = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected))
    moved = max(float(np.max(np.abs(e - s))) for e, s in zip(expected, start))
    assert worst < 0.05 * moved, (
        f"after 2 epochs from the grader's starting weights, your weights differ from the expected ones by up to "
        f"{worst:.2g} (training moved them by up to {moved:.2g}): fit one epoch at a time with batch_size=1 and "
        "shuffle=False, Adam and mean squared error, and reset the states after each epoch")
