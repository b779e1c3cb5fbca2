"""Public checks for ch06_banknotes: students run these with `dlgrade check`."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, logged_per_epoch, read_scalars


def rows_as_set(x):
    return sorted(map(tuple, np.asarray(x, np.float64)))


def match_rows(rows, candidates, *, tol):
    """For each row, the index of the candidate row it equals within ``tol``; None unless that pairs
    every row with a different candidate."""
    distances = np.abs(np.asarray(rows, np.float64)[:, None, :] - np.asarray(candidates, np.float64)[None]).max(axis=2)
    nearest = distances.argmin(axis=1)
    if len(set(nearest)) != len(rows) or distances[np.arange(len(rows)), nearest].max() > tol:
        return None
    return nearest


@pytest.mark.points(2)
def test_split_keeps_rows_with_labels_and_shuffles(student, sorted_probe):
    """split_train_validation: 40/10 rows, every row once with its label, a shuffled validation part"""
    features, labels = sorted_probe
    train_x, train_y, val_x, val_y = (as_array(a, what=f"split_train_validation(...)[{i}]") for i, a in
                                      enumerate(student.split_train_validation(features, labels,
                                                                               validation_fraction=0.2, seed=3)))
    assert len(train_x) == len(train_y) == 40 and len(val_x) == len(val_y) == 10, (
        f"50 rows with validation_fraction 0.2 should give 40 training and 10 validation rows; got "
        f"{len(train_x)}/{len(train_y)} and {len(val_x)}/{len(val_y)}")
    assert rows_as_set(np.concatenate([train_x, val_x])) == rows_as_set(features), (
        "the two parts together should hold every input row exactly once (rows, not columns, are examples)")
    for x, y, part in ((train_x, train_y, "training"), (val_x, val_y, "validation")):
        assert np.array_equal(x[:, 0] >= 1000, np.asarray(y) == 1), f"in the {part} part some rows lost their labels"
    assert 0 < np.mean(val_y) < 1, (
        "the validation part holds one class only: the data is sorted by class, so shuffle the rows "
        "(np.random.default_rng(seed).permutation) before splitting")


@pytest.mark.points(2)
def test_prepare_data_uses_training_statistics(student, skewed_probe):
    """prepare_data standardizes both parts with the mean and std of the training part only"""
    features, labels = skewed_probe
    data = student.prepare_data(features, labels, validation_fraction=0.25, seed=5)
    mean = as_array(data["mean"], what="prepare_data(...)['mean']").astype(np.float64)
    std = as_array(data["std"], what="prepare_data(...)['std']").astype(np.float64)
    train_x = as_array(data["train_x"], what="train_x").astype(np.float64)
    val_x = as_array(data["val_x"], what="val_x").astype(np.float64)
    assert train_x.shape == (30, 3) and val_x.shape == (10, 3), f"shapes {train_x.shape} and {val_x.shape}"
    assert mean.shape == std.shape == (3,), f"mean and std should have one value per column, got {mean.shape}, {std.shape}"
    expected = (features - mean) / std
    in_train = match_rows(train_x, expected, tol=1e-3)
    in_validation = match_rows(val_x, expected, tol=1e-3)
    assert in_train is not None and in_validation is not None and not set(in_train) & set(in_validation), (
        "the returned train_x and val_x are not the input rows standardized with the returned mean and std: "
        "standardize both parts with the same numbers")
    train_rows = features[in_train]
    assert_close(mean, train_rows.mean(axis=0), atol=1e-6, rtol=1e-6,
                 what="mean: it should be the training part's column means (validation rows must not leak into it)")
    sample_std = train_rows.std(axis=0, ddof=1)  # either definition of the standard deviation is fine
    assert_close(std, sample_std if np.allclose(std, sample_std, rtol=1e-6) else train_rows.std(axis=0),
                 atol=1e-6, rtol=1e-6, what="std: it should be the training part's column standard deviations")
    assert_close(train_x.mean(axis=0), np.zeros(3), atol=1e-4, what="column means of the standardized train_x")


def test_create_network_shapes_and_start(student):
    """create_network(4, [16, 8, 1]): (W, b) shapes, zero biases, weights scaled by 1/neurons, seeded"""
    network = student.create_network(4, [16, 8, 1], seed=3)
    again, other = student.create_network(4, [16, 8, 1], seed=3), student.create_network(4, [16, 8, 1], seed=4)
    assert len(network) == 3, f"expected 3 layers, got {len(network)}"
    for index, ((weights, bias), shape) in enumerate(zip(network, [(4, 16), (16, 8), (8, 1)])):
        weights, bias = as_array(weights, what=f"layer {index} W"), as_array(bias, what=f"layer {index} b")
        assert weights.shape == shape and bias.shape == (shape[1],), (
            f"layer {index}: W {weights.shape}, b {bias.shape}; expected W {shape} (one neuron per column), b {(shape[1],)}")
        assert not bias.any(), f"layer {index}: biases should start at zero"
        assert np.abs(weights).max() < 6 / shape[1], (
            f"layer {index}: weights as large as {np.abs(weights).max():.3g}; draw them with standard deviation "
            f"1/neurons = {1 / shape[1]:.3g}")
        assert np.array_equal(weights, as_array(again[index][0], what="W")), "the same seed must give the same weights"
    assert not np.array_equal(as_array(network[0][0], what="W"), as_array(other[0][0], what="W")), (
        "seeds 3 and 4 give the same weights")


@pytest.mark.points(2)
def test_logits_and_probabilities(student, probe_network, grader_math):
    """network_logits (leaky ReLU hidden layers, linear output) and network_probabilities on given weights"""
    network = probe_network([3, 5, 4, 1], seed=11)
    x = np.random.default_rng(12).normal(size=(9, 3)).astype(np.float32)
    expected = grader_math.forward_logits(network, x)
    logits = as_array(student.network_logits(network, x), what="network_logits(network, x)")
    assert logits.shape == (9,), f"network_logits should return shape (9,) for 9 examples, got {logits.shape}"
    assert_close(logits, expected, atol=1e-4, rtol=1e-4,
                 what="network_logits: leaky ReLU (slope 0.2) on hidden layers, no activation on the output")
    probabilities = as_array(student.network_probabilities(network, x), what="network_probabilities(network, x)")
    assert_close(probabilities.reshape(-1), 1 / (1 + np.exp(-expected)), atol=1e-5, what="network_probabilities")


def test_loss_matches_reference(student, reference, probe_network):
    """binary_loss equals the reference's mean sigmoid cross-entropy on given weights"""
    network = probe_network([4, 6, 1], seed=21)
    rng = np.random.default_rng(22)
    x, y = rng.normal(size=(16, 4)).astype(np.float32), (rng.uniform(size=16) > 0.4).astype(np.float32)
    loss = as_array(student.binary_loss(network, x, y), what="binary_loss(network, x, y)").reshape(-1)
    assert loss.size == 1, f"binary_loss should return one number (the mean), got shape {loss.shape}"
    assert_close(loss[0], as_array(reference.binary_loss(network, x, y), what="reference loss").reshape(-1)[0], atol=1e-5, rtol=1e-5,
                 what="binary_loss: compute it from the logits with tf.nn.sigmoid_cross_entropy_with_logits")


def test_training_lowers_the_loss(student, start_network, grader_math):
    """train lowers the loss on 64 examples in 15 epochs and returns the network it trained"""
    rng = np.random.default_rng(31)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 2] > 0).astype(np.float32)
    start = start_network([4, 8, 1], seed=32)
    result = student.train(start, x[:48], y[:48], x[48:], y[48:], epochs=15, batch_size=16, learning_rate=0.1,
                           momentum=0.9, seed=0)
    losses = [float(v) for v in result["train_loss"]]
    assert len(losses) == 15 and len(result["validation_loss"]) == 15, "one training and one validation loss per epoch"
    assert losses[-1] < 0.7 * grader_math.stable_loss(grader_math.forward_logits(start, x[:48]), y[:48]), (
        f"the training loss went from {losses[0]:.4f} to {losses[-1]:.4f} in 15 epochs; it should fall clearly")
    trained = [(as_array(w, what="trained W"), as_array(b, what="trained b")) for w, b in result["network"]]
    assert_close(grader_math.stable_loss(grader_math.forward_logits(trained, x[:48]), y[:48]), losses[-1],
                 atol=1e-4, rtol=1e-3, what="the last train_loss vs the loss of the returned network on all training rows")


@pytest.mark.points(2)
def test_tensorboard_scalars_every_epoch(student, start_network):
    """train writes a training and a validation loss scalar to TensorBoard for every epoch"""
    rng = np.random.default_rng(41)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 1] > 0).astype(np.float32)
    result = student.train(start_network([4, 4, 1], seed=42), x[:30], y[:30], x[30:], y[30:], epochs=4,
                           batch_size=10, seed=1, log_dir="tensorboard_check")
    scalars = read_scalars(student.files("tensorboard_check"))
    assert scalars, "no TensorBoard scalars were found under log_dir: use tf.summary.create_file_writer(log_dir)"
    # Exact tag names first, else the one tag holding the words; any run of 4 consecutive steps (0..3 or 1..4).
    for key, names, hint, words in (("train_loss", ("train_loss",), ("train", "loss"), "the training loss"),
                                    ("validation_loss", ("validation_loss", "val_loss"), ("val", "loss"),
                                     "the validation loss")):
        tag, logged = logged_per_epoch(scalars, names=names, hint=hint, epochs=4, words=words)
        assert_close(logged, [float(v) for v in result[key]], atol=1e-5, rtol=1e-4,
                     what=f"{tag!r} in TensorBoard, epoch by epoch, vs the {key} that train returned")
