"""An exercise's grading material: ``autograder/exercises/<id>/exercise.toml`` and the files beside it."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from dlgrade.sandbox.limits import SandboxLimits


def course_root() -> Path:
    """The folder holding assignments/, solutions/ and autograder/ (override with DLGRADE_COURSE_ROOT)."""
    override = os.environ.get("DLGRADE_COURSE_ROOT")
    return Path(override) if override else Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LatePolicy:
    """``[deadline]`` in exercise.toml: ``due`` (ISO 8601), ``policy`` none | zero | percent_per_day."""

    due: datetime | None = None
    kind: str = "none"
    percent_per_day: float = 0.0

    @classmethod
    def from_config(cls, config: dict) -> "LatePolicy":
        if not config:
            return cls()
        due = datetime.fromisoformat(str(config["due"]))
        kind = config.get("policy", "none")
        if kind not in ("none", "zero", "percent_per_day"):
            raise ValueError(f"unknown late policy {kind!r} (none, zero or percent_per_day)")
        return cls(due if due.tzinfo else due.replace(tzinfo=timezone.utc), kind, float(config.get("percent", 0)))


@dataclass(frozen=True)
class Exercise:
    """Where one exercise's notebooks and tests are, and how it is graded."""

    id: str
    title: str
    notebook: str
    graded_cells: tuple[str, ...]
    hidden_visibility: str
    limits: SandboxLimits
    root: Path
    late_policy: LatePolicy = field(default_factory=LatePolicy)

    @property
    def folder(self) -> Path:
        return self.root / "autograder" / "exercises" / self.id

    @property
    def public_tests(self) -> Path:
        return self.folder / "test_public.py"

    @property
    def hidden_tests(self) -> Path:
        return self.folder / "test_hidden.py"

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / self.id / self.notebook

    @property
    def template(self) -> Path:
        return self.root / "assignments" / self.id / self.notebook

    def hidden_paths(self) -> list[Path]:
        """What student code must never read: every exercise's tests, every solution."""
        return [self.root / "autograder" / "exercises", self.root / "solutions"]


def exercise_ids(*, root: Path | None = None) -> list[str]:
    root = root or course_root()
    return sorted(p.parent.name for p in (root / "autograder" / "exercises").glob("*/exercise.toml"))


def load_exercise(exercise_id: str, *, root: Path | None = None) -> Exercise:
    """Read an exercise's configuration; unknown ids name the ones that exist."""
    root = root or course_root()
    path = root / "autograder" / "exercises" / exercise_id / "exercise.toml"
    if not path.is_file():
        known = ", ".join(exercise_ids(root=root)) or "none"
        raise KeyError(f"unknown exercise {exercise_id!r} (known: {known})")
    config = tomllib.loads(path.read_text())
    known_limits = {f.name for f in fields(SandboxLimits)}
    limits = SandboxLimits(**{k: v for k, v in config.get("limits", {}).items() if k in known_limits})
    return Exercise(
        id=exercise_id,
        title=config["title"],
        notebook=config["notebook"],
        graded_cells=tuple(config["graded_cells"]),
        hidden_visibility=config.get("grading", {}).get("hidden_visibility", "after_published"),
        limits=limits,
        root=root,
        late_policy=LatePolicy.from_config(config.get("deadline", {})),
    )
