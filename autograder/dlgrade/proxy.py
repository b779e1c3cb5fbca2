"""What tests hold: the student's namespace and remote objects, reached only through the protocol.

``student.forward(params, X)`` looks up ``forward`` in the sandbox and calls it there; data comes back
as numpy arrays and plain values, anything else as a :class:`Remote` that tests can call, index, read
attributes of, or ``describe()`` when it is a Keras model. Nothing here runs student code.
"""
from __future__ import annotations

import numpy as np

from dlgrade.protocol import ProtocolError, Ref, TransferBudget, decode, encode
from dlgrade.sandbox.clock import SubmissionClock
from dlgrade.sandbox.limits import SandboxLimits
from dlgrade.sandbox.spawn import (GraderOverloaded, Sandbox, SandboxError, StudentError, SubmissionTooLarge,
                                   cell_failure)


class SubmissionProblem(Exception):
    """The submission cannot be graded at all (not a notebook, wrong exercise...); message for students."""


class StudentSession:
    """Owns the sandbox for one submission; restarts it after a crash or hang, within limits (a sandbox stopped
    because the grader was overloaded is restarted without counting against them)."""

    def __init__(self, *, submission, cells, limits: SandboxLimits, problem: str | None = None,
                 data_files: dict | None = None, allow_weaker_isolation: bool = False):
        self.submission, self.cells, self.limits = submission, cells, limits
        self.allow_weaker_isolation = allow_weaker_isolation
        self.data_files = data_files or {}
        self.problem = problem
        self.clock = SubmissionClock.start(budget_s=limits.submission_timeout_s,
                                           backstop_factor=limits.backstop_factor)
        self.sandbox: Sandbox | None = None
        self.generation = 0
        self.restarts = 0
        self.broken_reason: str | None = None
        self.broken_by_load = False
        self.cell_reports: list[dict] = []
        self.isolation = ""
        self.transfer = TransferBudget(reply_bytes=limits.reply_bytes, total_bytes=limits.transfer_bytes)

    def start(self) -> None:
        """Start the sandbox early so it imports TensorFlow while the trusted side sets up."""
        if self.problem is None and self.sandbox is None:
            try:
                self.sandbox = Sandbox(submission=self.submission, cells=self.cells, limits=self.limits,
                                       clock=self.clock, data_files=self.data_files,
                                       allow_weaker_isolation=self.allow_weaker_isolation,
                                       budget=self.transfer)  # one budget for every sandbox of this grading
                self.sandbox.start()
            except SubmissionTooLarge as error:
                self.problem = str(error)
                self.close()
                self.sandbox = None
                return
            self.generation += 1

    def live_sandbox(self) -> Sandbox:
        """The running sandbox, started or restarted as needed (raises when it cannot be)."""
        if self.problem is not None:
            raise SubmissionProblem(self.problem)
        if self.transfer.exhausted:
            raise SandboxError(f"not checked: {self.transfer.exhausted}")
        if self.broken_reason is not None:
            if not self.broken_by_load and (self.restarts >= self.limits.max_restarts or not self.cell_reports):
                raise SandboxError(f"not checked: an earlier check stopped your code ({self.broken_reason})")
            self.restarts += 0 if self.broken_by_load else 1
            self.sandbox.close()
            self.broken_reason, self.broken_by_load, self.sandbox = None, False, None
        self.start()
        if self.problem is not None:
            raise SubmissionProblem(self.problem)
        try:
            report = self.sandbox.ready()
        except SandboxError as error:
            self.broken_reason = str(error).split("\n")[0]
            self.broken_by_load = isinstance(error, GraderOverloaded)
            self.cell_reports = []
            self.isolation = self.isolation or self.sandbox.boot_isolation  # the cells never said: boot's report
            raise
        self.cell_reports, self.isolation = report["cells"], report.get("isolation", "")
        return self.sandbox

    def exchange(self, header: dict, *, payload: dict | None = None, what: str):
        """One request/reply; ``payload`` values may hold data and remotes. Returns the decoded value
        or raises StudentError (student code raised) or SandboxError (the process misbehaved)."""
        sandbox = self.live_sandbox()
        tree, arrays = encode(payload or {}, make_ref=_to_wire)
        self.transfer.refusal = None
        try:
            reply, reply_arrays = sandbox.request(dict(header, **tree), arrays, what=what)
            if not reply.get("ok"):
                error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
                raise StudentError(what, {k: str(v)[:4000] for k, v in error.items()})
            return self._wrap(decode(reply.get("value"), reply_arrays), what)
        except ProtocolError as error:
            self._mark_broken(sandbox, f"malformed reply: {error}")
            raise SandboxError(f"{what}: your code's reply could not be read ({error})") from None
        except SandboxError as error:
            self._mark_broken(sandbox, self.transfer.refusal or str(error).split("\n")[0])
            self.broken_by_load = isinstance(error, GraderOverloaded) and not self.transfer.refusal
            if self.transfer.refusal:
                raise SandboxError(f"{what}: {self.transfer.refusal}") from None
            raise

    def _mark_broken(self, sandbox: Sandbox, reason: str) -> None:
        sandbox.kill()
        self.broken_reason = reason

    def _wrap(self, value, label: str):
        if isinstance(value, Ref):
            return Remote(self, value, label)
        if isinstance(value, list):
            return [self._wrap(v, label) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v, label) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v, label) for k, v in value.items()}
        return value

    def missing_name_hint(self, name: str) -> str:
        failed = [c for c in self.cell_reports if not c.get("ok")]
        hint = f"`{name}` is not defined by your notebook's graded cells."
        for cell in failed:
            hint += "\n" + cell_failure(cell).replace("graded cell", "Graded cell", 1)
        return hint

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


def _to_wire(value):
    """Trusted values headed for the sandbox: remotes become references, tensors become arrays."""
    if isinstance(value, Remote):
        if value._session.generation != value._generation:
            raise SandboxError("this object belonged to an earlier run of your code that was restarted")
        return value._ref
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    raise ProtocolError(f"tests can only send data to student code, not {type(value).__name__}")


class Remote:
    """An object that lives in the sandbox. Call it, read attributes, index it; equality is identity."""

    def __init__(self, session: StudentSession, ref: Ref, label: str):
        self._session, self._ref, self._label = session, ref, label
        self._generation = session.generation

    @property
    def type_name(self) -> str:
        return self._ref.type_name

    def __call__(self, *args, **kwargs):
        return self._session.exchange({"op": "call", "target": self._ref.id},
                                      payload={"args": args, "kwargs": kwargs}, what=f"{self._label}(...)")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.exchange({"op": "getattr", "target": self._ref.id, "name": name},
                                      what=f"{self._label}.{name}")

    def __getitem__(self, key):
        return self._session.exchange({"op": "getitem", "target": self._ref.id}, payload={"key": key},
                                      what=f"{self._label}[{key!r}]")

    def __iter__(self):
        raise TypeError(f"{self._label} is a {self.type_name} in your code, not a list or tuple; the grader does "
                        "not loop over objects of your code (return a list where a check expects one)")

    def describe(self) -> dict:
        """Structural summary of a Keras model: layers, configs, output shapes, parameter counts."""
        return self._session.exchange({"op": "describe", "target": self._ref.id}, what=f"describing {self._label}")

    def __repr__(self) -> str:
        return f"<student {self._ref.type_name} {self._label}>"


class Student:
    """The student's notebook namespace: ``student.name`` is the value or a Remote for that global."""

    def __init__(self, session: StudentSession):
        self._session = session

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._session.exchange({"op": "get", "name": name}, what=f"`{name}`")
        except StudentError as error:
            if error.report.get("type") == "NameError":
                raise StudentMissing(self._session.missing_name_hint(name)) from None
            raise

    def files(self, folder: str) -> dict:
        """The files your code wrote under ``folder`` (relative to its working directory), as bytes by
        relative path; read inside the sandbox, links skipped, 16 MiB at most."""
        raw = self._session.exchange({"op": "files", "folder": folder}, what=f"reading the files under {folder!r}")
        return {name: np.asarray(data, dtype=np.uint8).tobytes() for name, data in raw.items()}

    def has(self, name: str) -> bool:
        try:
            getattr(self, name)
        except StudentMissing:
            return False
        return True

    @property
    def cell_reports(self) -> list[dict]:
        self._session.live_sandbox()
        return self._session.cell_reports


class StudentMissing(Exception):
    """A name the tests need is not defined by the notebook; the message says which cell failed."""
