"""Resource limits and isolation settings for one sandbox, shared by spawn and boot."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandbox may use. Memory is RLIMIT_AS; leave it at None under CUDA (use the container's limit)."""

    memory_bytes: int | None = 4 << 30
    cpu_seconds: int = 1200
    processes: int = 512
    file_bytes: int = 64 << 20
    open_files: int = 256
    # Time budgets, in seconds charged by ``sandbox/clock.py`` (CPU time of the sandbox's processes, or its wall
    # time less its waits for a CPU when that is larger), so they mean the same on an idle and a busy machine:
    # the graded cells, one call, and the whole grading. A wait still under budget after backstop_factor times
    # its budget of wall time is the grader's fault (overloaded): the check is retried once, then not judged.
    startup_timeout_s: float = 120.0
    call_timeout_s: float = 60.0
    submission_timeout_s: float = 600.0
    backstop_factor: float = 5.0
    max_restarts: int = 2
    output_bytes: int = 64 << 10
    # What the trusted side accepts from student code, in one answer and over a whole grading (restarts
    # included). Measured: the largest answers are the ch08/ch10 CNN's weights (6.4 MiB; ch18's translator
    # 0.7 MiB, ch13's VAE 0.15 MiB), Student.files sends at most 16 MiB, and ch10 pulls those weights five
    # times (32 MiB); the reference gradings of ch04, ch06, ch16, ch18 and ch20 received 0.06-0.5 MiB in all.
    reply_bytes: int = 64 << 20
    transfer_bytes: int = 256 << 20
    submission_bytes: int = 512 << 20
    tmp_bytes: int = 256 << 20
    seed: int = 0


@dataclass(frozen=True)
class BootPlan:
    """Everything boot needs, passed as JSON on its command line (no secrets in it)."""

    workdir: str
    channel_fd: int
    report_fd: int
    uid: int | None
    stage_dir: str
    view: list[dict] = field(default_factory=list)
    require_isolation: bool = True
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def to_json_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict) -> "BootPlan":
        return cls(**{**data, "limits": SandboxLimits(**data["limits"])})
