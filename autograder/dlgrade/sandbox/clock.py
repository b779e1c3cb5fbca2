"""How long student code has taken, counted so that a budget means the same on an idle and on an overloaded
machine. A wait on the sandbox is charged the larger of two load-independent times, both read from /proc for
its process tree: the CPU time of all its processes and threads, and the wall time minus the time its threads
spent waiting for a CPU (run-queue delay, ``schedstat``) — what a sleeping or blocked program is charged. A wall
clock backstop (``backstop_factor`` × the budget) ends a wait that is still under budget: the machine was too
busy to time the student fairly, so the check is not judged."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

POLL_S = 0.2
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_SCHEDSTAT = os.path.exists("/proc/self/schedstat")


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it (one pass over /proc); empty when /proc cannot tell."""
    parents: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree if _stat_fields(root) else []


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state, ppid, ..., utime, stime, cutime, cstime (fields 3-17)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes (all their threads) and of their children already reaped."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += sum(int(value) for value in fields[11:15])
    return total / _TICKS


def run_delays(pids: list[int]) -> dict[int, float] | None:
    """Seconds each thread of these processes has waited on a run queue (None: the kernel keeps no schedstat)."""
    if not _SCHEDSTAT:
        return None
    delays: dict[int, float] = {}
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as handle:
                    delays[int(tid)] = int(handle.read().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                pass  # the thread ended meanwhile
    return delays


@dataclass
class SubmissionClock:
    """The time budget of one grading, shared by its sandboxes (restarts included): ``budget_s`` charged
    seconds in all, and a wall-clock backstop ``wall_deadline`` (a ``time.monotonic()`` value)."""

    budget_s: float
    wall_deadline: float
    spent_s: float = 0.0

    @classmethod
    def start(cls, *, budget_s: float, backstop_factor: float) -> "SubmissionClock":
        return cls(budget_s=budget_s, wall_deadline=time.monotonic() + budget_s * backstop_factor)

    @property
    def left_s(self) -> float:
        return self.budget_s - self.spent_s


class WaitClock:
    """One wait on the sandbox rooted at ``root``: charged time against ``budget_s``, and a wall backstop.

    ``verdict()`` says why a wait ended early: ``"cpu"`` (the student's code computed past the budget, mostly
    on a CPU), ``"waiting"`` (mostly asleep or blocked: a sleeping student is judged like a computing one, at
    the budget), ``"overloaded"`` (still under budget when the wall backstop passed), ``"wall"`` (no /proc to
    read: the wall time is charged, as before)."""

    def __init__(self, *, root: int, budget_s: float, backstop_factor: float, submission: SubmissionClock):
        self.root, self.budget_s, self.submission = root, budget_s, submission
        self.started = time.monotonic()
        self.pids = process_tree(root)
        self.measured = bool(self.pids)
        self.cpu_start = cpu_seconds(self.pids) if self.measured else 0.0
        self.delays_start = run_delays(self.pids) if self.measured else None
        self.delays_seen = dict(self.delays_start or {})
        self.cpu_s, self.delay_s, self.settled = 0.0, 0.0, False
        backstop = budget_s * backstop_factor if self.measured else budget_s
        self.wall_deadline = min(self.started + backstop, submission.wall_deadline)

    def wall_s(self) -> float:
        return time.monotonic() - self.started

    def update(self) -> None:
        """Read the tree's CPU time and run-queue delay now (a thread that ended keeps what it had waited)."""
        if not self.measured:
            return
        self.pids = process_tree(self.root) or self.pids
        self.cpu_s = max(self.cpu_s, cpu_seconds(self.pids) - self.cpu_start)
        if self.delays_start is not None:
            self.delays_seen.update(run_delays(self.pids) or {})
            self.delay_s = sum(self.delays_seen[tid] - self.delays_start.get(tid, 0.0) for tid in self.delays_seen)

    def charged_s(self) -> float:
        """CPU time, or wall time less run-queue waits, whichever is larger (wall time without /proc)."""
        if not self.measured:
            return self.wall_s()
        return max(self.cpu_s, self.wall_s() - self.delay_s if self.delays_start is not None else 0.0)

    def over_budget(self) -> bool:
        self.update()
        return self.charged_s() >= self.budget_s or time.monotonic() >= self.wall_deadline

    def verdict(self) -> str:
        self.update()
        if not self.measured:
            return "wall"
        if self.charged_s() >= self.budget_s:
            return "cpu" if self.cpu_s >= self.charged_s() / 2 else "waiting"
        if self.delays_start is None and os.getloadavg()[0] <= (os.cpu_count() or 1):
            return "waiting"  # no schedstat: only a load average above the core count counts as overload
        return "overloaded"

    def settle(self) -> float:
        """Charge this wait to the submission once; returns the seconds charged."""
        if not self.settled:
            self.update()
            self.settled = True
            self.submission.spent_s += self.charged_s()
        return self.charged_s()
