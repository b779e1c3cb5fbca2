"""Compile settings compared by meaning (trusted side), on the ``compiled`` part of a model summary.

Equal means: the loss gives the same value on the probe batch as the loss the exercise names (so an alias,
the class, an instance or the function all pass, and ``from_logits`` or ``reduction`` changes fail); the
optimizer is, or derives from, the named Keras class with the named settings; the learning rate takes the
expected values at the probe steps (a float or any schedule that computes them); a metric resolves through
Keras' registry to one of the accepted names. Every message says what was expected in the exercise's words.
"""
from __future__ import annotations

import numpy as np

from dlgrade.sandbox import probes


def _compiled(compiled: dict | None, what: str) -> dict:
    if not isinstance(compiled, dict) or not compiled:
        raise AssertionError(f"{what} is not compiled: call model.compile(...) and return the model")
    return compiled


def expected_loss_on_probe(loss) -> float:
    """What the loss the exercise names (anything ``keras.losses.get`` takes, or an instance) gives on the
    probe batch, computed here with Keras."""
    value = probes.loss_on_probe(loss)
    if value is None:
        raise ValueError(f"the expected loss {loss!r} gives no value on the probe batch")
    return value


REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error", "huber", "log_cosh")


def _regression_loss(loss) -> bool:
    try:
        function = probes.resolve_loss(loss)
    except Exception:
        return False
    return getattr(getattr(function, "fn", function), "__name__", None) in REGRESSION_LOSSES


def assert_loss(compiled: dict | None, expected, *, words: str, what: str = "your model",
                rtol: float = 1e-5) -> None:
    """The compiled loss computes ``expected`` (e.g. ``"categorical_crossentropy"``), however it was written:
    equal values on the probe batch of one-hot targets and probabilities and, for a regression loss (squared,
    absolute, Huber, log-cosh errors), on the regression batch with errors up to 6."""
    compiled = _compiled(compiled, what)
    want = expected_loss_on_probe(expected)
    got = compiled.get("loss_on_probe")
    if got is None or not np.isclose(got, want, rtol=rtol, atol=1e-7):
        shown = "no value" if got is None else f"{got:.6g}"
        raise AssertionError(
            f"{what}: the loss {compiled.get('loss')!r} does not compute {words}: on a probe batch of one-hot "
            f"targets and predicted probabilities it gives {shown}, {words} gives {want:.6g}")
    if not _regression_loss(expected):
        return  # cross-entropies are defined on probabilities only: the regression batch is outside their domain
    want = probes.loss_on_probe(expected, regression=True)
    got = compiled.get("loss_on_regression_probe")
    if want is not None and (got is None or not np.isclose(got, want, rtol=rtol, atol=1e-7)):
        shown = "no value" if got is None else f"{got:.6g}"
        raise AssertionError(
            f"{what}: the loss {compiled.get('loss')!r} does not compute {words}: on a probe batch with errors "
            f"from 0.1 to 6 it gives {shown}, {words} gives {want:.6g}")


def assert_optimizer(compiled: dict | None, kind: str, *, words: str, what: str = "your model",
                     learning_rate: float | None = None, rtol: float = 1e-6, **settings: float) -> None:
    """The optimizer is (or derives from) Keras' ``kind`` with the given settings (e.g. ``momentum=0.9``)
    and, when given, a constant ``learning_rate``."""
    compiled = _compiled(compiled, what)
    if kind not in (compiled.get("optimizer_classes") or [compiled.get("optimizer")]):
        raise AssertionError(f"{what}: the optimizer is {compiled.get('optimizer')}; the exercise uses {words}")
    config = compiled.get("optimizer_config") or {}
    for name, want in settings.items():
        got = config.get(name)
        # relative only: numpy's default atol (1e-8) would make epsilon=1e-8 equal 1e-9
        if not isinstance(got, (int, float)) or isinstance(got, bool) or not np.isclose(got, want, rtol=rtol, atol=0.0):
            raise AssertionError(f"{what}: the optimizer's {name} is {got!r}; the exercise uses {words}")
    if learning_rate is not None:
        assert_learning_rates(compiled, [learning_rate] * len(probes.PROBE_STEPS), words=words, what=what)


def assert_learning_rates(compiled: dict | None, expected: list[float | None], *, words: str,
                          what: str = "your model", rtol: float = 1e-5) -> None:
    """The learning rate takes the ``expected`` values at the probe steps (e.g. the reference's
    ``compiled["learning_rates"]``): a float or any schedule that computes them passes."""
    compiled = _compiled(compiled, what)
    got = compiled.get("learning_rates") or []
    for step, g, w in zip(probes.PROBE_STEPS, got, expected):
        if w is None:
            continue
        if g is None or not np.isclose(g, w, rtol=rtol, atol=1e-12):
            raise AssertionError(f"{what}: at step {step} the learning rate is {g}, expected {w:.6g} ({words})")
    if len(got) < len(expected):
        raise AssertionError(f"{what}: the learning rate could not be read at every step ({words})")


def assert_metric(compiled: dict | None, accepted: set[str] | tuple[str, ...], *, words: str,
                  what: str = "your model") -> None:
    """One of the compiled metrics resolves to an accepted canonical name (see
    :func:`dlgrade.sandbox.probes.canonical_metric`), e.g. ``{"accuracy", "categorical_accuracy"}``."""
    compiled = _compiled(compiled, what)
    names = compiled.get("metrics") or []
    if not set(names) & set(accepted):
        raise AssertionError(f"{what}: compiled with metrics {names or 'none'}; the exercise asks for {words} "
                             "(metrics=[...] in compile)")
