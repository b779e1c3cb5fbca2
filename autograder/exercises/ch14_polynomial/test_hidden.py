"""Hidden checks for ch14_polynomial: run only by the grader (see exercise.toml for the measurements)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close

DATASET, DEGREE = "polynomial_generated", 3
EPOCHS, LEARNING_RATE = 300, 0.1
STARTS = (0, 1, 2)
FULL_MARKS_DISTANCE, FLOOR_DISTANCE = 0.01, 0.1
FULL_MARKS_R2, FLOOR_R2 = 0.92, 0.70


def prepared_student_points(student_data, poly_math):
    """The student split standardized (x and y, with its own statistics) and x expanded, by the grader."""
    x, y = student_data(DATASET)
    x_scaled, x_mean, x_std = poly_math.standardize(x)
    y_scaled, y_mean, y_std = poly_math.standardize(y)
    X = poly_math.expand(x_scaled, DEGREE).astype(np.float32)
    return X, y_scaled.astype(np.float32), (x_mean, x_std, y_mean, y_std)


def trained(result, what):
    weights = as_array(result["weights"], what=f"{what}['weights']").astype(np.float64).reshape(-1)
    bias = float(as_array(result["bias"], what=f"{what}['bias']").reshape(-1)[0])
    if weights.size != DEGREE:
        raise AssertionError(f"{what}['weights'] has {weights.size} values; expected {DEGREE} (shape ({DEGREE}, 1))")
    return weights, bias


def test_expand_data_higher_degree(student, poly_math):
    """expand_data for degree 6 on 40 points, and for a single point"""
    x = np.linspace(-1.8, 1.8, 40).astype(np.float32)
    assert_close(student.expand_data(x, 6), poly_math.expand(x, 6), rtol=1e-5, atol=1e-6,
                 what="expand_data(x, 6) on 40 points in [-1.8, 1.8]")
    assert_close(student.expand_data(np.array([2.0], np.float32), 2), [[2.0, 4.0]], rtol=1e-6, atol=1e-6,
                 what="expand_data([2.0], 2)")


@pytest.mark.points(3)
@pytest.mark.visibility("visible")  # students see their fitted curve over their own points
def test_training_reaches_least_squares(student, student_data, training_start, poly_math, credit, feedback):
    """train from the grader's starts reaches the closed-form least-squares fit of the cubic"""
    X, y, (x_mean, x_std, y_mean, y_std) = prepared_student_points(student_data, poly_math)
    best_weights, best_bias = poly_math.least_squares(X, y)
    distances = []
    for seed in STARTS:
        result = student.train(X, y, *training_start(seed), epochs=EPOCHS, learning_rate=LEARNING_RATE)
        weights, bias = trained(result, "train(...)")
        distances.append(float(np.max(np.abs(np.append(weights, bias) - np.append(best_weights, best_bias)))))
        if seed == STARTS[0]:
            x, y_raw = student_data(DATASET)
            grid = np.linspace(float(x.min()), float(x.max()), 200)
            grid_X = poly_math.expand((grid - x_mean) / x_std, DEGREE)
            feedback.line_plot(f"Your cubic after {EPOCHS} epochs on your {len(x)} points",
                               {"your fitted curve": poly_math.predict(grid_X, weights, bias) * y_std + y_mean,
                                "reference: least squares": poly_math.predict(grid_X, best_weights, best_bias) * y_std
                                + y_mean},
                               x=grid, points={"your points (data/)": (x, y_raw)}, xlabel="x", ylabel="y")
    worst = max(distances)
    feedback.report_measured("largest distance of a trained parameter from least squares", worst,
                             FULL_MARKS_DISTANCE, lower_is_better=True)
    message = (f"after {EPOCHS} epochs at learning rate {LEARNING_RATE} from {len(STARTS)} starts, the largest "
               f"distance of a parameter (weights and bias) from the least-squares solution is "
               f"{', '.join(f'{d:.3g}' for d in distances)}; at most {FULL_MARKS_DISTANCE} earns full marks")
    assert worst < FLOOR_DISTANCE, message + ". Check the gradient step, the learning rate and the bias"
    if worst > FULL_MARKS_DISTANCE:
        credit.give((FLOOR_DISTANCE - worst) / (FLOOR_DISTANCE - FULL_MARKS_DISTANCE), message)


@pytest.mark.points(2)
def test_fit_on_hidden_points(student, student_data, hidden_data, training_start, poly_math, credit, feedback):
    """the trained neuron explains the points the grader kept aside (R² from 0.92)"""
    X, y, (x_mean, x_std, y_mean, y_std) = prepared_student_points(student_data, poly_math)
    weights, bias = trained(student.train(X, y, *training_start(STARTS[0]), epochs=EPOCHS,
                                          learning_rate=LEARNING_RATE), "train(...)")
    hidden_x, hidden_y = hidden_data(DATASET)  # trusted side only: never an argument of student code
    hidden_X = poly_math.expand((hidden_x.astype(np.float64) - x_mean) / x_std, DEGREE)
    hidden_targets = (hidden_y.astype(np.float64) - y_mean) / y_std
    r2 = poly_math.r_squared(poly_math.predict(hidden_X, weights, bias), hidden_targets)
    feedback.report_measured(f"R² on the {len(hidden_x)} held-out points", r2, FULL_MARKS_R2)
    message = (f"R² of your trained neuron on {len(hidden_x)} held-out points: {r2:.3f}; "
               f"{FULL_MARKS_R2} earns full marks")
    assert r2 > FLOOR_R2, message + ". Check the training loop and that the neuron has no activation"
    if r2 < FULL_MARKS_R2:
        credit.give((r2 - FLOOR_R2) / (FULL_MARKS_R2 - FLOOR_R2), message)
