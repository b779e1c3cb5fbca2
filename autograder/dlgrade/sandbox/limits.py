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
    startup_timeout_s: float = 120.0
    call_timeout_s: float = 60.0
    submission_timeout_s: float = 600.0
    max_restarts: int = 2
    output_bytes: int = 64 << 10
    submission_bytes: int = 512 << 20
    seed: int = 0


@dataclass(frozen=True)
class BootPlan:
    """Everything boot needs, passed as JSON on its command line (no secrets in it)."""

    workdir: str
    channel_fd: int
    uid: int | None
    stage_dir: str
    hidden_paths: list[str] = field(default_factory=list)
    readable_paths: list[str] = field(default_factory=list)
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def to_json_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict) -> "BootPlan":
        return cls(**{**data, "limits": SandboxLimits(**data["limits"])})
