"""Trusted side of a sandbox: start it, exchange messages under deadlines, and stop it for good."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlgrade.judged import NotJudged
from dlgrade.protocol import Channel, ChannelClosed, ProtocolError, TransferBudget
from dlgrade.sandbox.clock import POLL_S, SubmissionClock, WaitClock
from dlgrade.sandbox.entry import engine_command
from dlgrade.sandbox.limits import BootPlan, SandboxLimits
from dlgrade.sandbox.uids import UidLease, lease_uid
from dlgrade.sandbox.view import file_view, to_json
from dlgrade.scan import Unreadable, check_total, list_files, open_regular

INNER_UID = 1000  # student code's uid in its nested user namespace when the grader is not root (see boot)
_EXIT_HINTS = {
    1: "exit code 1: often code that replaced parts of Python or of a library the grader needs",
    128 + signal.SIGXCPU: "it used up its CPU-time limit",
    128 + signal.SIGKILL: "it was killed (memory or process limits, or a kill from inside)",
    128 + signal.SIGSEGV: "it crashed (segmentation fault)",
    128 + signal.SIGABRT: "it aborted (often: out of memory while importing or allocating)",
}


class SandboxError(Exception):
    """The student's process misbehaved (died, hung, or broke the protocol); the message is for students."""


class SandboxTimeout(SandboxError):
    pass


class SandboxDied(SandboxError):
    pass


class GraderOverloaded(SandboxError, NotJudged):
    """A wait on student code passed its wall-clock backstop while still under its time budget: the machine was
    too busy to judge it (the grader's problem, never the student's)."""


class SubmissionTooLarge(Exception):
    """The submission's files exceed the sandbox's size or count limits; the message is for students."""


class IsolationUnavailable(Exception):
    """The kernel refused a layer of the sandbox and weaker isolation was not allowed (a grader problem)."""


class StudentError(Exception):
    """Student code raised an exception; carries the sandbox's report (type, message, traceback)."""

    def __init__(self, what: str, report: dict):
        self.what, self.report = what, report
        super().__init__(self.describe())

    def describe(self) -> str:
        stub = not_attempted(self.report, what=self.what)
        if stub:
            return stub
        text = f"{self.what} raised {self.report.get('type', 'an error')}: {self.report.get('message', '')}"
        trace = self.report.get("traceback", "").strip()
        return f"{text}\n{trace}" if trace else text


def cell_failure(cell: dict) -> str:
    """What a graded cell that raised while the notebook ran reports: its error, or that it is not attempted."""
    error = cell.get("error", {})
    stub = not_attempted(error)
    if stub:
        return f"graded cell '{cell.get('id')}': {stub}"
    return f"graded cell '{cell.get('id')}' raised {error.get('type')}: {error.get('message')}"


def not_attempted(report: dict, *, what: str = "") -> str | None:
    """The message for an error that is a template's stub, ``raise NotImplementedError()`` (no message): "not
    attempted: <function> still raises ...", naming the innermost function of the student's code (``what``, the
    call the check made, when the traceback names none). None for any other error, a library's
    NotImplementedError included (those carry a message)."""
    if report.get("type") != "NotImplementedError" or str(report.get("message", "")).strip():
        return None
    functions = re.findall(r", in ([A-Za-z_][A-Za-z0-9_]*)\n", str(report.get("traceback", "")) + "\n")
    function = functions[-1] if functions else what.removesuffix("(...)").strip("`")
    return f"not attempted: {function or 'your code'} still raises NotImplementedError (the template's stub)"


def _copy_submission(source: Path, target: Path, *, max_bytes: int) -> None:
    """Copy regular files only (no links, devices or fifos), bounded as ``scan`` bounds every submission:
    nesting, number of entries and total size (also while copying: a file may grow)."""
    try:
        if source.is_dir():
            root, files = source, list_files(source)
        else:
            root, files = source.parent, [((source.name,), source.stat().st_size, 0.0)]
        check_total(files, max_bytes=max_bytes)
        target.mkdir()
        copied = 0
        for parts, _, _ in files:
            descriptor = open_regular(root.joinpath(*parts))
            if descriptor is None:
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(descriptor, "rb") as handle, open(destination, "wb") as copy:
                while chunk := handle.read(1 << 20):
                    copied += len(chunk)
                    if copied > max_bytes:
                        raise Unreadable(f"the submission grew past {max_bytes >> 20} MiB of files while it was copied")
                    copy.write(chunk)
    except Unreadable as problem:
        raise SubmissionTooLarge(str(problem)) from None
    except OSError as error:
        raise SubmissionTooLarge(f"the submission's files cannot be read: {error.strerror}") from None


class Sandbox:
    """One student process. ``start`` returns once the sandbox is isolated (before any student code runs);
    ``ready`` waits for the graded cells to finish. ``budget`` bounds the bytes read from it and ``clock`` the
    time charged to it (a grading shares both across restarts)."""

    def __init__(self, *, submission: Path, cells: list[dict], limits: SandboxLimits, clock: SubmissionClock,
                 data_files: dict[str, Path] | None = None, allow_weaker_isolation: bool = False,
                 budget: TransferBudget | None = None):
        self.limits, self.cells, self.clock, self.budget = limits, cells, clock, budget
        self.allow_weaker_isolation = allow_weaker_isolation
        self.current = "starting Python and TensorFlow"
        self.process: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.start_report: dict | None = None
        self.boot_isolation = ""  # what boot applied before any student code ran (its report)
        self.sequence = 0
        self.init = -1  # a pidfd of the sandbox's PID 1 (killing it ends its whole PID namespace)
        self.uid_lease: UidLease | None = lease_uid() if os.getuid() == 0 else None
        self.scratch = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-"))
        self.workdir = self.scratch / "work"
        self.log_path = self.scratch / "output.log"
        try:
            self._copy_and_own(submission, data_files or {})
        except BaseException:
            self.close()
            raise

    @property
    def uid(self) -> int | None:
        return self.uid_lease.uid if self.uid_lease else None

    def _copy_and_own(self, submission: Path, data_files: dict[str, Path]) -> None:
        """The copy belongs to the sandbox uid alone. The exercise's student data is ``data/``: whatever the
        submission holds under that name (a file, a folder, links) is replaced by it."""
        _copy_submission(submission, self.workdir, max_bytes=self.limits.submission_bytes)
        if data_files:
            data = self.workdir / "data"
            if data.is_dir() and not data.is_symlink():
                shutil.rmtree(data)
            elif data.is_symlink() or data.exists():
                data.unlink()
            data.mkdir()
            for name, source in data_files.items():
                shutil.copyfile(source, data / name)
        os.chmod(self.scratch, 0o711)
        if self.uid is not None:
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)
                os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def start(self) -> None:
        """Spawn the process, wait for its isolation report and hand it the graded cells."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        report_read, report_write = os.pipe()
        limits = self.limits
        gpu = gpu_visible()
        if gpu:
            limits = dataclasses.replace(limits, memory_bytes=None)  # CUDA reserves far more address space
        view = file_view(workdir=self.workdir, tmp_bytes=limits.tmp_bytes, gpu=gpu, masked=_dataset_folders(),
                         uid=self.uid if self.uid is not None else INNER_UID)
        plan = BootPlan(
            workdir=str(self.workdir), channel_fd=theirs.fileno(), report_fd=report_write, uid=self.uid,
            stage_dir=str(self.scratch / "root"), view=to_json(view),
            require_isolation=not self.allow_weaker_isolation, limits=limits,
        )
        env = {
            "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": str(limits.seed), "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_DETERMINISTIC_OPS": "1", "MPLBACKEND": "Agg", "TF_FORCE_GPU_ALLOW_GROWTH": "true", "LANG": "C.UTF-8",
        }
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        with open(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as log:
            self.process = subprocess.Popen(
                engine_command("dlgrade.sandbox.boot", json.dumps(plan.to_json_dict())),
                pass_fds=[theirs.fileno(), report_write], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=env, start_new_session=True, cwd=self.scratch,
            )
        theirs.close()
        os.close(report_write)
        self.channel = Channel(ours, budget=self.budget)
        report = self._read_boot_report(report_read)
        if "refused" in report:
            self.kill()
            fix = "Run the grader as root in a kernel or container that allows namespaces (Docker: --cap-add SYS_ADMIN)"
            if not self.allow_weaker_isolation:
                fix += (", or pass --allow-weaker-isolation to grade with what is available (results.json's "
                        "isolation then says what was applied)")
            raise IsolationUnavailable(f"cannot isolate student code: {report['refused']}. {fix}")
        try:
            self.channel.send({"op": "start", "cells": self.cells})
        except ProtocolError as error:
            self.kill()
            raise SubmissionTooLarge(f"the graded cells are too large to run ({error})") from None
        except OSError:
            pass  # the process already ended: ``ready`` reports why

    def _read_boot_report(self, descriptor: int) -> dict:
        """The boot process's one JSON line (it writes it before any student code runs)."""
        deadline = time.monotonic() + min(self.limits.startup_timeout_s, 60.0) * self.limits.backstop_factor
        data = b""
        with os.fdopen(descriptor, "rb", buffering=0) as pipe:
            while time.monotonic() < deadline:
                readable, _, _ = select.select([pipe], [], [], max(deadline - time.monotonic(), 0.0))
                chunk = pipe.read(4096) if readable else b""
                if not chunk:
                    break
                data += chunk
        try:
            report = json.loads(data)
        except ValueError:
            return {}  # boot failed before reporting; ``ready`` says how it ended
        layers = report.get("isolation")
        if isinstance(layers, list) and all(isinstance(layer, str) for layer in layers):
            # the uid and rlimits are applied in the child after this report, before it runs anything else
            self.boot_isolation = ",".join([*layers, *([f"uid={self.uid}"] if self.uid is not None else [])])
        if isinstance(report.get("pid"), int):
            try:
                self.init = os.pidfd_open(report["pid"])
            except OSError:
                pass
        return report

    def ready(self) -> dict:
        """Wait for the graded cells; returns the sandbox's report of each cell."""
        if self.start_report is None:
            self.start_report = self._await_reply(self._wait_clock(self.limits.startup_timeout_s, None), None)
            self.current = "idle"
        return self.start_report

    def request(self, header: dict, arrays: list, *, what: str) -> tuple[dict, list]:
        """Send one request and wait for its reply under the per-call and per-submission deadlines."""
        self.ready()
        self.current = what
        self.sequence += 1
        header = dict(header, seq=self.sequence)
        clock = self._wait_clock(self.limits.call_timeout_s, what)
        try:
            self.channel.send(header, arrays, deadline=clock.wall_deadline)
        except TimeoutError:
            self._raise_timeout(what, clock)
        except OSError:
            self._raise_died(what)
        return self._await_reply(clock, what, with_arrays=True)

    def _wait_clock(self, budget_s: float, what: str | None) -> WaitClock:
        """A clock for one wait: ``budget_s`` or what is left of the grading's budget, whichever is less."""
        if self.clock.left_s <= 0:
            self.kill()
            raise SandboxTimeout(f"{self._label(what)} was not run: your code used up the whole grading's "
                                 f"{self.clock.budget_s:.0f} s of time")
        if time.monotonic() >= self.clock.wall_deadline:
            self.kill()
            raise GraderOverloaded(f"{self._label(what)} was not run: the grading's wall-clock backstop passed "
                                   "while your code was still under its time budget")
        return WaitClock(root=self.process.pid, budget_s=min(budget_s, self.clock.left_s),
                         backstop_factor=self.limits.backstop_factor, submission=self.clock)

    def _await_reply(self, clock: WaitClock, what: str | None, with_arrays: bool = False):
        """Wait for the reply to the last request (``what``), or for the start report (``what`` None), polling
        the clock while nothing arrives."""
        while True:
            try:
                while not select.select([self.channel.sock], [], [], POLL_S)[0]:
                    if clock.over_budget():
                        self._raise_timeout(what, clock)
                header, arrays = self.channel.receive(deadline=clock.wall_deadline)
            except TimeoutError:
                self._raise_timeout(what, clock)
            except (ChannelClosed, ConnectionError):  # a reset: it died with our message unread
                self._raise_died(what)
            except ProtocolError as error:
                self.kill()
                raise SandboxError(f"{self._label(what)}: the sandbox sent malformed data ({error})") from None
            if header.get("event") == "cell":
                self.current = f"graded cell '{header.get('id')}'"
                continue
            clock.settle()
            expected_seq = self.sequence if with_arrays else None
            if header.get("reply") is not True or header.get("seq") != expected_seq:
                self.kill()
                raise SandboxError(f"{self._label(what)}: the sandbox sent a message out of turn "
                                   "(does your code start processes or write to file descriptors it did not open?)")
            return (header, arrays) if with_arrays else _start_value(header)

    def _label(self, what: str | None) -> str:
        """What was running: the call being made, or during start-up the graded cell being run."""
        return what or self.current

    def _raise_timeout(self, what: str | None, clock: WaitClock):
        """Stop the sandbox and say why: the student's code computed or waited past its budget, or the machine
        was too busy to tell (overloaded: never the student's failure)."""
        verdict = clock.verdict()
        charged = clock.settle()
        wall = clock.wall_s()
        self.kill()
        label = self._label(what)
        if verdict == "overloaded":
            raise GraderOverloaded(
                f"not judged: the grader was overloaded ({label} had used {charged:.1f} s of its "
                f"{clock.budget_s:.0f} s when {wall:.0f} s had passed on the clock); regrade"
            )
        if verdict == "waiting":
            raise SandboxTimeout(
                f"{label} did not finish within {clock.budget_s:.0f} s and was stopped: it used {clock.cpu_s:.1f} s "
                "of CPU time and spent the rest waiting (time.sleep, input(), a lock, a process that never answers)"
            )
        raise SandboxTimeout(
            f"{label} did not finish within {clock.budget_s:.0f} s{' of CPU time' if verdict == 'cpu' else ''} and was "
            "stopped; look for an endless loop or training that runs longer than the budget the check asks for"
        )

    def _raise_died(self, what: str | None):
        try:
            code = self.process.wait(timeout=5) if self.process else None
        except subprocess.TimeoutExpired:
            code = "none: it closed its end of the channel but kept running"
        self.kill()
        hint = _EXIT_HINTS.get(code, f"exit code {code}")
        tail = self.output_tail(800)
        message = (
            f"your code's process ended while {self._label(what)} ({hint}). "
            "Graded code must not exit, kill processes or exhaust memory."
        )
        if tail:
            message += f"\nLast output:\n{tail}"
        raise SandboxDied(message)

    def output_tail(self, size: int = 2000) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(self.log_path) - size))
                lines = log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        noise = ("cuda", "cuInit", "absl::", "oneDNN", "rebuild TensorFlow", "cpu_feature_guard", "E0000", "I0000", "W0000")
        return "\n".join(line for line in lines if not any(n in line for n in noise))[-size:]

    def kill(self) -> None:
        """Stop every process of this sandbox: its PID namespace (through its PID 1), the boot process and, when
        there was no PID namespace, every process of its own uid."""
        if self.init >= 0:
            try:
                signal.pidfd_send_signal(self.init, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(self.init)
            self.init = -1
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process:
            self.process.wait()
        if self.uid is not None:
            _kill_all_of_uid(self.uid)
            _wait_until_gone(self.uid)
        if self.channel:
            self.channel.sock.close()

    def close(self) -> None:
        if self.process and self.process.poll() is None and self.start_report is not None:
            try:
                self.channel.send({"op": "exit"}, deadline=time.monotonic() + 5)
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.uid_lease:
            self.uid_lease.release()


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is there for TensorFlow (device files present and not hidden by the environment)."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1")
    return os.path.exists("/dev/nvidiactl") and not hidden


def _start_value(header: dict) -> dict:
    if not header.get("ok"):
        raise SandboxError("the sandbox could not start: " + str(header.get("error", {}).get("message", "")))
    value = header.get("value")
    if not isinstance(value, dict) or not isinstance(value.get("cells"), list):
        raise SandboxError("the sandbox sent a malformed start report")
    return value


def _dataset_folders() -> list[Path]:
    """Raw dataset copies and dlgrade's caches: covered in the view where a library folder holds them."""
    from dlgrade.datasets.locate import dataset_folders

    return dataset_folders()


def _kill_all_of_uid(uid: int) -> None:
    """As root: fork, become the sandbox uid, and kill(-1) — reaches escaped and forked processes too."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _processes_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except FileNotFoundError:
                pass
    return pids


def _wait_until_gone(uid: int, timeout_s: float = 10.0) -> None:
    """Killed processes linger while the kernel tears them down; wait (and kill again) until none is left."""
    end = time.monotonic() + timeout_s
    while _processes_of_uid(uid) and time.monotonic() < end:
        time.sleep(0.05)
        _kill_all_of_uid(uid)
