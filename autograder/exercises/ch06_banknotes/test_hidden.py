"""Hidden checks for ch06_banknotes: run only by the grader (see exercise.toml for the measurements)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close

# Training on the student split, judged on the grader's hidden banknotes (measured: exercise.toml). The student's
# train() sees student banknotes only: it trains on all but VALIDATION_NOTES of them (drawn with VALIDATION_SEED)
# and validates on those; the hidden banknotes are scored here, with the grader's own forward pass.
SIZES = [4, 16, 8, 1]
VALIDATION_NOTES, VALIDATION_SEED = 64, 606
STARTS = (0, 1, 2)
EPOCHS, BATCH_SIZE, LEARNING_RATE, MOMENTUM = 10, 32, 0.05, 0.9
FULL_MARKS_ACCURACY, FLOOR_ACCURACY = 0.97, 0.85


def test_split_other_fraction_and_seed(student):
    """split_train_validation with 7 columns, validation_fraction 0.3, and a seed that matters"""
    rng = np.random.default_rng(71)
    features = rng.normal(size=(30, 7))
    labels = np.arange(30) % 2
    parts = [as_array(p, what="part") for p in student.split_train_validation(features, labels, validation_fraction=0.3, seed=8)]
    assert [len(p) for p in parts] == [21, 21, 9, 9], f"part sizes {[len(p) for p in parts]}, expected 21, 21, 9, 9"
    assert sorted(map(tuple, np.concatenate([parts[0], parts[2]]))) == sorted(map(tuple, features)), (
        "the parts should hold every input row exactly once")
    other = as_array(student.split_train_validation(features, labels, validation_fraction=0.3, seed=9)[2], what="val_x")
    assert not np.array_equal(other, parts[2]), "seeds 8 and 9 give the same validation part: use the seed"


def test_standardized_validation_part(student):
    """prepare_data: the validation part standardized with the training statistics (another probe)"""
    rng = np.random.default_rng(72)
    features = rng.normal(size=(20, 2)) * [3.0, 0.5] + [10.0, -4.0]
    features[-5:] += 40.0
    data = student.prepare_data(features, np.zeros(20), validation_fraction=0.5, seed=2)
    mean, std = as_array(data["mean"], what="mean"), as_array(data["std"], what="std")
    val_x = as_array(data["val_x"], what="val_x").astype(np.float64)
    train_x = as_array(data["train_x"], what="train_x").astype(np.float64)
    assert_close(train_x.mean(axis=0), np.zeros(2), atol=1e-4, what="column means of the standardized training part")
    original_val = val_x * std + mean
    assert all(np.abs(features - row).max(axis=1).min() < 1e-3 for row in original_val), (
        "val_x is not the validation rows standardized with the training part's mean and std")


@pytest.mark.points(2)
def test_loss_finite_for_extreme_logits(student, probe_network, grader_math):
    """binary_loss stays finite and right when logits are in the thousands"""
    network = probe_network([4, 6, 1], seed=23)
    network[-1] = (network[-1][0] * 3000, network[-1][1])
    rng = np.random.default_rng(24)
    x, y = rng.normal(size=(12, 4)).astype(np.float32), (rng.uniform(size=12) > 0.5).astype(np.float32)
    expected = grader_math.stable_loss(grader_math.forward_logits(network, x), y)
    loss = float(as_array(student.binary_loss(network, x, y), what="binary_loss").reshape(-1)[0])
    assert np.isfinite(loss), (f"binary_loss returned {loss} for logits of about ±1000: compute it from the logits "
                               "with tf.nn.sigmoid_cross_entropy_with_logits, never as log(sigmoid(z))")
    assert_close(loss, expected, rtol=1e-4, atol=1e-3, what="binary_loss for large logits")


def test_scaled_start_statistics(student):
    """create_layer draws weights with standard deviation 1/neurons (and mean 0)"""
    network = student.create_network(400, [300, 2], seed=5)
    for index, neurons in enumerate((300, 2)):
        weights = as_array(network[index][0], what=f"layer {index} W").astype(np.float64)
        assert abs(weights.std() / (1 / neurons) - 1) < 0.15, (
            f"layer {index} ({neurons} neurons): weights have standard deviation {weights.std():.4g}, "
            f"expected about 1/{neurons} = {1 / neurons:.4g}")
        assert abs(weights.mean()) < 3 * (1 / neurons) / np.sqrt(weights.size) + 1e-9, f"layer {index}: weights are not centred on 0"


@pytest.mark.points(3)
@pytest.mark.visibility("visible")  # students see their accuracy, learning curves and confusion matrix
def test_training_reaches_accuracy_on_hidden_banknotes(student, student_data, hidden_data, start_network, grader_math,
                                                      credit, feedback):
    """train on the student banknotes reaches 97 % accuracy on banknotes the grader kept aside"""
    features, labels = student_data("banknotes")
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(features))
    validation, training = order[:VALIDATION_NOTES], order[VALIDATION_NOTES:]
    hidden_x, hidden_y = hidden_data("banknotes")  # trusted side only: never an argument of student code
    train_x, val_x, test_x = grader_math.standardize_with(features[training].astype(np.float64),
                                                          features[validation].astype(np.float64),
                                                          hidden_x.astype(np.float64))
    train_y, val_y = labels[training].astype(np.float32), labels[validation].astype(np.float32)
    accuracies = []
    for seed in STARTS:
        result = student.train(start_network(SIZES, seed), train_x, train_y, val_x, val_y, epochs=EPOCHS,
                               batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, momentum=MOMENTUM, seed=seed)
        trained = [(as_array(w, what="trained W"), as_array(b, what="trained b")) for w, b in result["network"]]
        accuracies.append(grader_math.accuracy(trained, test_x, hidden_y))
        if seed == STARTS[0]:
            feedback.line_plot(f"Your train() on the student banknotes ({VALIDATION_NOTES} of them for validation)",
                               {"training loss": result["train_loss"], "validation loss": result["validation_loss"]},
                               xlabel="epoch", ylabel="loss")
            predicted = (grader_math.forward_logits(trained, test_x) > 0).astype(int)
            matrix = np.array([[np.sum((hidden_y == t) & (predicted == p)) for p in (0, 1)] for t in (0, 1)])
            feedback.matrix("Held-out banknotes (rows: true class, columns: predicted)", matrix,
                            labels=["genuine", "forged"])
    worst = min(accuracies)
    feedback.report_measured(f"accuracy on the held-out banknotes (the lowest of {len(STARTS)} starts)", worst,
                             FULL_MARKS_ACCURACY)
    message = (f"accuracy on the held-out banknotes after {EPOCHS} epochs from {len(STARTS)} starting points: "
               f"{', '.join(f'{a:.3f}' for a in accuracies)}; {FULL_MARKS_ACCURACY} earns full marks")
    assert worst > FLOOR_ACCURACY, message + ". Check the gradient step, the shuffling and the loss"
    if worst < FULL_MARKS_ACCURACY:
        credit.give((worst - FLOOR_ACCURACY) / (FULL_MARKS_ACCURACY - FLOOR_ACCURACY), message)
