"""Run an exercise's pytest modules on the trusted side and collect one outcome per test.

Tests ask for fixtures by name: ``student`` (the proxy), ``reference`` (the hidden solution, as data),
``exercise`` (its config), ``credit`` (partial credit), ``feedback`` (plots for the feedback page), and
``hidden_data`` / ``student_data`` (a declared dataset's held-out and student splits, as arrays).
Points come from ``@pytest.mark.points(n)`` (default 1), visibility from ``@pytest.mark.visibility(...)``
or the file (public tests are visible, hidden tests get the exercise's ``hidden_visibility``). Assertion rewriting is off, so a failure shows
the test's own message and never the test's source. A test stopped because the grader was overloaded runs once
more (with a fresh sandbox); a test that could not run (``NotJudged``) is recorded as not judged, not failed.
"""
from __future__ import annotations

import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dlgrade.datasets.splits import hidden_split, read_split, student_file_name
from dlgrade.exercise import Exercise
from dlgrade.feedback import Feedback, measured_text
from dlgrade.judged import NotJudged
from dlgrade.proxy import Student, StudentMissing, StudentSession, SubmissionProblem
from dlgrade.reference import RecordedReference, RecordingReference, answers_cache_path, load_reference
from dlgrade.sandbox.spawn import GraderOverloaded, SandboxError, StudentError


@dataclass
class Outcome:
    """One test's result, ready for results.json."""

    name: str
    test_id: str
    max_score: float
    score: float
    passed: bool
    visibility: str
    output: str
    figures: list[dict] = field(default_factory=list)
    judged: bool = True
    measured: list[dict] = field(default_factory=list)


class Credit:
    """Partial credit: ``credit.give(fraction, message)`` inside a test that then returns normally."""

    def __init__(self):
        self.fraction, self.message = 1.0, ""

    def give(self, fraction: float, message: str) -> None:
        self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message


def failure_message(error: BaseException) -> str:
    """What a student reads when a check fails: never the test's source or the expected answer's code."""
    if isinstance(error, NotJudged):
        text = str(error) or "the check could not run"
        return text if text.startswith("not judged") else f"not judged: {text}"
    if isinstance(error, (AssertionError, StudentMissing, SubmissionProblem, SandboxError, StudentError)):
        return str(error) or "check failed"
    return f"the check could not run on your answer ({type(error).__name__}: {str(error)[:300]})"


class GradingPlugin:
    """Pytest plugin: provides the fixtures and records an Outcome per test."""

    def __init__(self, *, exercise: Exercise, session: StudentSession, record_answers: bool = False):
        self._exercise, self._session = exercise, session
        self.outcomes: list[Outcome] = []
        self._record_answers = record_answers
        self.reference_in_use = None

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): points the test is worth")
        config.addinivalue_line("markers", "visibility(v): Gradescope visibility of the test")

    @pytest.fixture(scope="session")
    def student(self):
        return Student(self._session)

    @pytest.fixture(scope="session")
    def reference(self):
        if self.reference_in_use is None:
            cache = answers_cache_path(self._exercise) if self._exercise.solution else None
            if self._exercise.recorded_answers is not None:
                self.reference_in_use = RecordedReference(self._exercise.recorded_answers)
            elif self._record_answers:
                self.reference_in_use = RecordingReference(load_reference(self._exercise).namespace)
            elif cache is not None and cache.exists():
                self.reference_in_use = RecordedReference(cache, fallback=lambda: load_reference(self._exercise))
            else:
                self.reference_in_use = load_reference(self._exercise)
        return self.reference_in_use

    @pytest.fixture(scope="session")
    def exercise(self):
        return self._exercise

    @pytest.fixture(scope="session")
    def hidden_data(self):
        """``hidden_data("banknotes")`` → (x, y): the grader's held-out split of a dataset the exercise
        declares in ``[data.<name>]`` (never in a sandbox or a bundle)."""
        return lambda name: hidden_split(self._spec(name))

    @pytest.fixture(scope="session")
    def student_data(self):
        """``student_data("banknotes")`` → (x, y): the split students train on (the sandbox's data/)."""
        def load(name):
            files = self._exercise.student_data()
            if student_file_name(name) not in files:
                raise LookupError(f"this exercise has no student data '{name}'")
            return read_split(files[student_file_name(name)])
        return load

    def _spec(self, name: str):
        for spec in self._exercise.data:
            if spec.dataset == name:
                return spec
        raise HiddenDataMissing(f"this check needs the grader's hidden '{name}' data; it runs when your notebook is graded")

    @pytest.fixture
    def feedback(self, request):
        request.node.dlgrade_feedback = Feedback()
        return request.node.dlgrade_feedback

    @pytest.fixture
    def credit(self, request):
        request.node.dlgrade_credit = Credit()
        return request.node.dlgrade_credit

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """Run the test function, and once more when the grader was overloaded during it (its sandbox was
        stopped and is restarted), so that a busy machine costs no points; its credit and plots start afresh."""
        test = pyfuncitem.obj
        arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(test).parameters}
        try:
            test(**arguments)
        except GraderOverloaded:
            if hasattr(pyfuncitem, "dlgrade_credit"):
                pyfuncitem.dlgrade_credit.__init__()
            if hasattr(pyfuncitem, "dlgrade_feedback"):
                pyfuncitem.dlgrade_feedback.clear()
            test(**arguments)
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self.outcomes.append(self._outcome(item, call))

    def _outcome(self, item, call) -> Outcome:
        marker = item.get_closest_marker("points")
        max_score = float(marker.args[0]) if marker else 1.0
        visibility_marker = item.get_closest_marker("visibility")
        hidden = os.path.basename(str(item.path)) == self._exercise.hidden_tests.name
        visibility = visibility_marker.args[0] if visibility_marker else (
            self._exercise.hidden_visibility if hidden else "visible")
        doc = (item.function.__doc__ or "").strip().splitlines()
        name = doc[0] if doc else item.name
        credit = getattr(item, "dlgrade_credit", None)
        feedback = getattr(item, "dlgrade_feedback", Feedback())
        figures, measured = feedback.figures, feedback.measured
        if call.excinfo is not None:
            return Outcome(name, item.nodeid, max_score, 0.0, False, visibility, failure_message(call.excinfo.value),
                           figures, judged=not isinstance(call.excinfo.value, NotJudged), measured=measured)
        fraction = credit.fraction if credit else 1.0
        lines = [credit.message] if credit and credit.message else []
        if fraction >= 1.0:  # a check that falls short says what it measured in its own message
            lines += [measured_text(m) for m in measured]
        output = "\n".join(lines)
        return Outcome(name, item.nodeid, max_score, round(max_score * fraction, 4), fraction >= 1.0, visibility,
                       output, figures, measured=measured)


class HiddenDataMissing(NotJudged, LookupError):
    """A check needs the grader's held-out data, which a student's bundle never has."""


def run_tests(*, exercise: Exercise, session: StudentSession, include_hidden: bool = True,
              record_answers_to: Path | None = None) -> list[Outcome]:
    """Run the exercise's tests against the student session; returns outcomes in file order.

    With ``record_answers_to`` the reference's answers are saved there (for a student bundle).
    """
    files = [exercise.public_tests] + ([exercise.hidden_tests] if include_hidden and exercise.hidden_tests.exists() else [])
    plugin = GradingPlugin(exercise=exercise, session=session, record_answers=record_answers_to is not None)
    args = [str(f) for f in files] + [
        "--assert=plain", "--import-mode=importlib", "-p", "no:cacheprovider", "-p", "no:terminal",
        "-c", os.devnull, "--rootdir", str(exercise.folder), "-W", "ignore::DeprecationWarning",
    ]
    _forget_test_modules(exercise.folder)
    try:
        code = pytest.main(args, plugins=[plugin])
    finally:
        _forget_test_modules(exercise.folder)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the tests of {exercise.id} could not run (pytest exit code {int(code)})")
    if record_answers_to is not None and isinstance(plugin.reference_in_use, RecordingReference):
        plugin.reference_in_use.save(record_answers_to)
    return plugin.outcomes


def _forget_test_modules(folder: Path) -> None:
    """Every exercise's tests are modules named ``test_public``, ``test_hidden``, ``conftest`` (importlib mode,
    rooted at the exercise's folder), and pytest reuses a module already imported under its name: forget them,
    so that a second exercise graded in the same process runs its own tests and fixtures, not the first's."""
    for name in {path.stem for path in folder.glob("*.py")}:
        sys.modules.pop(name, None)
