"""Compile settings and architectures compared by meaning: every legitimate way to write the same thing
compares equal, and a different thing does not (the summaries are made here, in-process, as the sandbox
and the reference make them)."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dlgrade.checks import (assert_learning_rates, assert_loss, assert_metric, assert_optimizer,  # noqa: E402
                            assert_same_architecture, logged_per_epoch)
from dlgrade.sandbox.describe import describe_model  # noqa: E402
from dlgrade.sandbox.probes import identify_activation  # noqa: E402

layers = keras.layers


def compiled(loss, optimizer="sgd", metrics=None):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return describe_model(model)["compiled"]


@pytest.mark.parametrize("loss", ["mse", "MSE", "mean_squared_error", keras.losses.mean_squared_error,
                                  keras.losses.MeanSquaredError, keras.losses.MeanSquaredError(name="mse"),
                                  lambda y, p: keras.ops.mean((y - p) ** 2, axis=-1)],
                         ids=["alias", "upper", "name", "function", "class", "instance", "hand-written"])
def test_every_way_to_write_mse_is_mse(loss):
    assert_loss(compiled(loss), "mean_squared_error", words="mean squared error")


@pytest.mark.parametrize("loss", ["mae", "huber", keras.losses.CategoricalCrossentropy(),
                                  keras.losses.MeanSquaredError(reduction="sum")])
def test_other_losses_are_not_mse(loss):
    with pytest.raises(AssertionError, match="mean squared error"):
        assert_loss(compiled(loss), "mse", words="mean squared error")


@pytest.mark.parametrize("loss", ["categorical_crossentropy", keras.losses.categorical_crossentropy,
                                  keras.losses.CategoricalCrossentropy()])
def test_categorical_cross_entropy_in_every_form(loss):
    assert_loss(compiled(loss), "categorical_crossentropy", words="categorical cross-entropy")


def test_huber_needs_its_linear_part_and_delta():
    assert_loss(compiled(keras.losses.Huber()), "huber", words="the Huber loss")
    half_squares = lambda y, p: keras.ops.mean(0.5 * (y - p) ** 2, axis=-1)  # noqa: E731 (Huber below 1 only)
    for loss in (half_squares, keras.losses.Huber(delta=2.0)):
        with pytest.raises(AssertionError, match="errors from 0.1 to 6"):
            assert_loss(compiled(loss), "huber", words="the Huber loss")


def test_from_logits_changes_the_loss():
    with pytest.raises(AssertionError):
        assert_loss(compiled(keras.losses.CategoricalCrossentropy(from_logits=True)), "categorical_crossentropy",
                    words="categorical cross-entropy")


def test_optimizer_by_class_settings_and_rate():
    summary = compiled("mse", optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9))
    assert_optimizer(summary, "SGD", words="SGD, momentum 0.9", momentum=0.9, learning_rate=0.01)
    with pytest.raises(AssertionError, match="momentum"):
        assert_optimizer(summary, "SGD", words="SGD", momentum=0.5)
    with pytest.raises(AssertionError, match="Adam"):
        assert_optimizer(summary, "Adam", words="Adam")

    class MySGD(keras.optimizers.SGD):
        pass

    assert_optimizer(compiled("mse", optimizer=MySGD(momentum=0.9)), "SGD", words="SGD", momentum=0.9)


def test_schedules_compared_by_their_values():
    decay = keras.optimizers.schedules.InverseTimeDecay(0.02, decay_steps=100, decay_rate=0.5)
    reference = compiled("mse", optimizer=keras.optimizers.SGD(learning_rate=decay))

    class Hand(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.02 / (1 + 0.5 * keras.ops.cast(step, "float32") / 100)

    assert_learning_rates(compiled("mse", optimizer=keras.optimizers.SGD(learning_rate=Hand())),
                          reference["learning_rates"], words="inverse-time decay from 0.02")
    with pytest.raises(AssertionError, match="learning rate"):
        assert_learning_rates(compiled("mse", optimizer=keras.optimizers.SGD(learning_rate=0.02)),
                              reference["learning_rates"], words="inverse-time decay from 0.02")



def test_small_settings_compared_relatively():
    summary = compiled("mse", optimizer=keras.optimizers.Adam(beta_2=0.98, epsilon=1e-9))
    assert_optimizer(summary, "Adam", words="Adam, epsilon 1e-9", beta_2=0.98, epsilon=1e-9)
    with pytest.raises(AssertionError, match="epsilon"):
        assert_optimizer(compiled("mse", optimizer=keras.optimizers.Adam(epsilon=1e-8)), "Adam", words="Adam",
                         epsilon=1e-9)


def test_settings_read_when_the_schedule_has_no_config():
    class NoConfig(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.01 / (1.0 + keras.ops.cast(step, "float32"))

    summary = compiled("mse", optimizer=keras.optimizers.Adam(NoConfig(), beta_1=0.8, epsilon=1e-9))
    assert_optimizer(summary, "Adam", words="Adam, beta_1 0.8", beta_1=0.8, epsilon=1e-9)
    assert summary["learning_rates"][:2] == pytest.approx([0.01, 0.005])

@pytest.mark.parametrize("metric", ["accuracy", "acc", "categorical_accuracy", keras.metrics.CategoricalAccuracy(),
                                    keras.metrics.CategoricalAccuracy])
def test_accuracy_in_every_form(metric):
    assert_metric(compiled("categorical_crossentropy", metrics=[metric]), {"accuracy", "categorical_accuracy"},
                  words="accuracy")


@pytest.mark.parametrize("metric", ["mae", keras.metrics.Accuracy()], ids=["another", "exact-match"])
def test_a_missing_metric_fails(metric):
    with pytest.raises(AssertionError, match="accuracy"):
        assert_metric(compiled("categorical_crossentropy", metrics=[metric]), {"accuracy", "categorical_accuracy"},
                      words="accuracy")


def build(style):
    if style == "argument":
        return keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                                 layers.Dense(3, activation="softmax")])
    if style == "layers":
        return keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.ReLU(), layers.Dense(3),
                                 layers.Softmax()])
    if style == "activation":
        model = keras.Sequential()
        model.add(keras.Input((4,)))
        model.add(layers.Dense(8))
        model.add(layers.Activation("relu"))
        model.add(layers.Dense(3, activation=keras.activations.softmax))
        return model
    if style == "functional":
        inputs = keras.Input((4,))
        hidden = layers.Dense(8, activation=lambda x: keras.ops.maximum(x, 0.0))(inputs)
        return keras.Model(inputs, layers.Activation("softmax")(layers.Dense(3)(hidden)))
    if style == "nested":
        return keras.Sequential([keras.Input((4,)), keras.Sequential([layers.Dense(8, activation="relu")]),
                                 layers.Dense(3, activation="softmax")])
    if style == "tanh":
        return keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="tanh"),
                                 layers.Dense(3, activation="softmax")])
    raise ValueError(style)


@pytest.mark.parametrize("style", ["layers", "activation", "functional", "nested"])
def test_activation_as_argument_or_layer_is_the_same_architecture(style):
    assert_same_architecture(describe_model(build(style)), describe_model(build("argument")))


def test_a_different_activation_is_named_in_the_message():
    with pytest.raises(AssertionError, match="activation tanh, expected relu"):
        assert_same_architecture(describe_model(build("tanh")), describe_model(build("argument")))


def test_activations_are_named_by_what_they_compute():
    assert identify_activation(layers.LeakyReLU(negative_slope=0.1)) == "leaky_relu(0.1)"
    assert identify_activation(lambda x: 1 / (1 + keras.ops.exp(-x))) == "sigmoid"
    assert identify_activation(lambda x: x * 2) == "custom"


def test_tensorboard_tags_exact_first_and_any_consecutive_steps():
    scalars = {"train_accuracy": {1: 0.5, 2: 0.6}, "train_loss": {1: 0.9, 2: 0.7}, "validation_loss": {0: 1.0}}
    assert logged_per_epoch(scalars, names=("train_loss",), hint=("train", "loss"), epochs=2,
                            words="the training loss") == ("train_loss", [0.9, 0.7])
    with pytest.raises(AssertionError, match="steps 0..1"):
        logged_per_epoch(scalars, names=("train_loss",), hint=("train", "loss"), epochs=2, words="x", first_step=0)
    with pytest.raises(AssertionError, match="one value per epoch"):
        logged_per_epoch({"loss": {0: 1.0, 2: 0.5}}, names=("loss",), hint=("loss",), epochs=2, words="x")
    assert np.allclose(logged_per_epoch({"my_train_loss": {3: 1.0, 4: 0.5}}, names=("train_loss",),
                                        hint=("train", "loss"), epochs=2, words="x")[1], [1.0, 0.5])
