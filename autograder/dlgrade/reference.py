"""The reference solution as tests see it: every value it gives back is plain data (tensors become numpy).

On the grader, :class:`Reference` runs the hidden solution notebook's cells on the trusted side (never in
a sandbox). A release records the answers the public tests ask of it (:class:`RecordingReference`), so
students can run the public tests with :class:`RecordedReference` and no solution at all.
"""
from __future__ import annotations

import copy
import hashlib
import os
import types
from pathlib import Path

import numpy as np

from dlgrade.judged import NotJudged
from dlgrade.protocol import encode, pack, read_message, decode


DESCRIBED = "described:"


def to_data(value):
    """Tensors and variables become numpy arrays, recursively through lists, tuples and dicts."""
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_data(v) for v in value)
    if hasattr(value, "numpy") and callable(value.numpy):
        return np.asarray(value.numpy())
    return value


def call_key(name: str, args: tuple, kwargs: dict) -> str:
    """A stable key for one call: the function's name and the exact bytes of its arguments."""
    tree, arrays = encode({"args": to_data(args), "kwargs": to_data(kwargs)})
    return hashlib.sha256(pack({"name": name, "call": tree}, arrays)).hexdigest()


class Reference:
    """Attribute access on the solution's namespace; callables return data."""

    def __init__(self, namespace: types.SimpleNamespace):
        self.namespace = namespace  # the solution's globals (trusted code only)

    def _call(self, name: str, args: tuple, kwargs: dict):
        return to_data(getattr(self.namespace, name)(*args, **kwargs))

    def live(self, name: str, *args, **kwargs):
        """What ``name(*args, **kwargs)`` returns, as the live object (e.g. a Keras model to load weights
        into and evaluate on the trusted side). Never recorded: hidden checks only."""
        return getattr(self.namespace, name)(*args, **kwargs)

    def described(self, name: str, *args, **kwargs) -> dict:
        """The structural summary (``describe``) of the Keras model that ``name(*args, **kwargs)`` returns:
        data, so a bundle can carry it."""
        from dlgrade.sandbox.describe import describe_model

        return describe_model(getattr(self.namespace, name)(*args, **kwargs))

    def __getattr__(self, name: str):
        value = getattr(self.namespace, name)
        if callable(value):
            return lambda *args, **kwargs: self._call(name, args, kwargs)
        return to_data(value)


class RecordingReference(Reference):
    """A Reference that remembers every call's answer, for a student bundle."""

    def __init__(self, namespace: types.SimpleNamespace):
        super().__init__(namespace)
        self.answers: dict[str, object] = {}

    def _call(self, name: str, args: tuple, kwargs: dict):
        value = super()._call(name, args, kwargs)
        self.answers[call_key(name, args, kwargs)] = value
        return value

    def described(self, name: str, *args, **kwargs) -> dict:
        value = super().described(name, *args, **kwargs)
        self.answers[call_key(DESCRIBED + name, args, kwargs)] = value
        return value

    def save(self, path: Path) -> None:
        tree, arrays = encode(self.answers)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pack({"answers": tree}, arrays))
        os.replace(partial, path)  # parallel graders never read a half-written file


class ReferenceAnswerMissing(NotJudged, LookupError):
    """A student's bundle holds no recorded answer for this call: the check is not judged there."""


class RecordedReference:
    """Replays recorded answers. A call that was not recorded goes to ``fallback()`` (the real reference,
    loaded on first need) or, without one, says so instead of guessing."""

    def __init__(self, path: Path, *, fallback=None):
        with open(path, "rb") as handle:
            header, arrays = read_message(handle.read)
        self._answers = decode(header["answers"], arrays)
        self._fallback, self._real = fallback, None

    def _replay(self, key_name: str, args: tuple, kwargs: dict, real_call):
        key = call_key(key_name, args, kwargs)
        if key in self._answers:
            return copy.deepcopy(self._answers[key])
        if self._fallback is None:
            raise ReferenceAnswerMissing(f"this check needs the grader's reference answer for {key_name}(...); "
                                         "it runs when your notebook is graded")
        if self._real is None:
            self._real = self._fallback()
        return real_call(self._real)

    def live(self, name: str, *args, **kwargs):
        if self._fallback is None:
            raise ReferenceAnswerMissing(f"this check needs the grader's reference {name}(...); it runs when your "
                                         "notebook is graded")
        if self._real is None:
            self._real = self._fallback()
        return self._real.live(name, *args, **kwargs)

    def described(self, name: str, *args, **kwargs) -> dict:
        return self._replay(DESCRIBED + name, args, kwargs, lambda real: real.described(name, *args, **kwargs))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._replay(name, args, kwargs,
                                                    lambda real: getattr(real, name)(*args, **kwargs))


def answers_cache_path(exercise) -> Path:
    """Where the grader keeps the reference's answers to every test's calls, keyed by the content of the
    solution, the tests and the engine (inside the hidden exercise folder, never in a sandbox's view)."""
    from dlgrade import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in (exercise.solution, exercise.public_tests, exercise.hidden_tests, exercise.folder / "conftest.py"):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return exercise.folder / ".answers" / f"{digest.hexdigest()[:32]}.dlg"


def load_reference(exercise) -> Reference:
    """Run the solution notebook's setup and graded cells in a fresh namespace (trusted side only)."""
    from dlgrade.notebook import read_notebook, runnable_cells

    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)  # as in the sandbox: full float32 on GPUs
    namespace: dict = {"__name__": f"dlgrade_reference_{exercise.id}"}
    for cell in runnable_cells(read_notebook(exercise.solution), exercise):
        exec(compile(cell["source"], f"<reference {exercise.id}:{cell['id']}>", "exec"), namespace)
    return Reference(types.SimpleNamespace(**namespace))
