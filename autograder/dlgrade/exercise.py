"""An exercise's grading material: ``autograder/exercises/<id>/exercise.toml`` and the files beside it."""
from __future__ import annotations

import json
import ast
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from dlgrade.datasets.splits import SplitSpec
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
class ManualQuestion:
    """``[manual.<id>]`` in exercise.toml: a free-text question graded by hand, answered in the notebook's
    markdown cell ``{"dlgrade": {"id": <id>, "role": "manual"}}``."""

    id: str
    points: float
    question: str
    rubric: str


MANUAL_KEYS = ("points", "question", "rubric")
_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _manual_questions(config: dict) -> dict[str, ManualQuestion]:
    """The ``[manual.<id>]`` tables, each with positive ``points`` and a ``question`` and ``rubric`` text."""
    questions = {}
    for question_id, table in config.items():
        where = f"[manual.{question_id}]"
        if not _QUESTION_ID.fullmatch(question_id):
            raise ValueError(f"{where}: a question id is 1 to 100 letters, digits, _ or - (it names a page)")
        if not isinstance(table, dict):
            raise ValueError(f"{where} must be a table with {', '.join(MANUAL_KEYS)}")
        missing = [key for key in MANUAL_KEYS if key not in table]
        unknown = [key for key in table if key not in MANUAL_KEYS]
        if missing or unknown:
            raise ValueError(f"{where}: " + "; ".join(
                part for part in (missing and f"missing {', '.join(missing)}", unknown and f"unknown "
                                  f"{', '.join(unknown)}") if part) + f" (keys: {', '.join(MANUAL_KEYS)})")
        points = table["points"]
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
            raise ValueError(f"{where}: points must be a number above 0, not {points!r}")
        if not all(isinstance(table[key], str) and table[key].strip() for key in ("question", "rubric")):
            raise ValueError(f"{where}: question and rubric must be non-empty text")
        questions[question_id] = ManualQuestion(question_id, float(points), table["question"].strip(),
                                                table["rubric"].strip())
    return questions


def manual_cell_ids(notebook: Path) -> list[str]:
    """The ids of a notebook's manual cells (``role: manual``), in order; read with json alone (fast)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    tags = [cell.get("metadata", {}).get("dlgrade") for cell in cells if isinstance(cell, dict)]
    return [tag.get("id") for tag in tags if isinstance(tag, dict) and tag.get("role") == "manual"]


def _check_manual_cells(exercise: "Exercise") -> None:
    """Every manual cell of the master notebook (the solution; the template where there is none) has a
    ``[manual.<id>]`` table, and every table a cell. The template is generated from the solution (``dlgrade
    assign``; ``assign --check`` finds a stale one), so a new question is declared before the template has it."""
    masters = [path for path in (exercise.solution, exercise.template) if path is not None and path.is_file()]
    for notebook in masters[:1]:
        cells = manual_cell_ids(notebook)
        where = f"{exercise.id}: {notebook.parent.parent.name}/{exercise.id}/{notebook.name}"
        without_table = [str(cell) for cell in cells if cell not in exercise.manual]
        if without_table:
            raise ValueError(f"{where} has manual cell(s) {', '.join(without_table)} without a [manual.<id>] "
                             f"table in exercise.toml; declare points, question and rubric for each")
        without_cell = [question for question in exercise.manual if question not in cells]
        if without_cell:
            raise ValueError(f"{where} has no manual cell for [manual.{without_cell[0]}] in exercise.toml; add a "
                             f'markdown cell with metadata {{"dlgrade": {{"id": "{without_cell[0]}", "role": '
                             f'"manual"}}}} or remove the table')
        if len(set(cells)) != len(cells):
            raise ValueError(f"{where}: two manual cells share an id ({', '.join(cells)})")


@dataclass(frozen=True)
class Exercise:
    """Where one exercise's notebooks and tests are, and how it is graded.

    On the grader ``folder`` is ``autograder/exercises/<id>``; in a student bundle it is the bundle's
    ``checks/`` folder, with no solution and the reference's recorded answers instead.
    """

    id: str
    title: str
    notebook: str
    graded_cells: tuple[str, ...]
    hidden_visibility: str
    limits: SandboxLimits
    root: Path
    folder: Path
    solution: Path | None
    template: Path | None
    recorded_answers: Path | None = None
    submit_files: tuple[str, ...] = ()
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    data: tuple[SplitSpec, ...] = ()
    bundle_data: tuple[str, ...] = ()
    reference_weights: dict | None = None
    template_digests: dict[str, str] | None = None  # a bundle's graded cells as released (``[template]``)
    manual: dict[str, ManualQuestion] = field(default_factory=dict)  # questions graded by hand (``[manual]``)
    recorded_hidden_points: float | None = None  # a bundle's ``[grading] hidden_points`` (it has no hidden tests)

    @property
    def public_tests(self) -> Path:
        return self.folder / "test_public.py"

    @property
    def hidden_tests(self) -> Path:
        return self.folder / "test_hidden.py"

    @property
    def hidden_points(self) -> float | None:
        """What the hidden checks are worth: counted from ``test_hidden.py`` (each test's ``points`` mark, 1
        without one) on the grader, read from the exercise.toml of a bundle; None when neither says."""
        if self.hidden_tests.is_file():
            return sum(_points(test) for test in ast.parse(self.hidden_tests.read_text()).body
                       if isinstance(test, ast.FunctionDef) and test.name.startswith("test"))
        return self.recorded_hidden_points

    def student_data(self) -> dict[str, Path]:
        """The student split files the sandbox gets in ``data/``: made from the raw datasets on the grader,
        shipped in ``data/`` in a student bundle."""
        from dlgrade.datasets.splits import split_files, student_file_name

        if self.data:
            return {student_file_name(spec.dataset): split_files(spec)[0] for spec in self.data}
        shipped = {name: self.root / "data" / name for name in self.bundle_data}
        return {name: path for name, path in shipped.items() if path.is_file()}


def _points(test: ast.FunctionDef) -> float:
    """The n of a test's ``@pytest.mark.points(n)``, 1 without one."""
    for decorator in test.decorator_list:
        if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("mark.points")
                and decorator.args and isinstance(decorator.args[0], ast.Constant)):
            return float(decorator.args[0].value)
    return 1.0


def _from_config(config: dict, *, exercise_id: str, root: Path, folder: Path, **paths) -> Exercise:
    known_limits = {f.name for f in fields(SandboxLimits)}
    return Exercise(
        id=exercise_id,
        title=config["title"],
        notebook=config["notebook"],
        graded_cells=tuple(config["graded_cells"]),
        hidden_visibility=config.get("grading", {}).get("hidden_visibility", "after_published"),
        limits=SandboxLimits(**{k: v for k, v in config.get("limits", {}).items() if k in known_limits}),
        root=root,
        folder=folder,
        late_policy=LatePolicy.from_config(config.get("deadline", {})),
        submit_files=tuple(config.get("submission", {}).get("files", [])),
        reference_weights=config.get("reference_weights"),
        bundle_data=tuple(config.get("student_data", {}).get("files", [])),
        data=tuple(SplitSpec.from_config(name, spec) for name, spec in config.get("data", {}).items()),
        template_digests=config.get("template"),
        manual=_manual_questions(config.get("manual", {})),
        recorded_hidden_points=config.get("grading", {}).get("hidden_points"),
        **paths,
    )


def exercise_ids(*, root: Path | None = None) -> list[str]:
    root = root or course_root()
    return sorted(p.parent.name for p in (root / "autograder" / "exercises").glob("*/exercise.toml"))


def load_exercise(exercise_id: str, *, root: Path | None = None) -> Exercise:
    """Read an exercise's configuration on the grader; unknown ids name the ones that exist."""
    root = root or course_root()
    folder = root / "autograder" / "exercises" / exercise_id
    if not (folder / "exercise.toml").is_file():
        known = ", ".join(exercise_ids(root=root)) or "none"
        raise KeyError(f"unknown exercise {exercise_id!r} (known: {known})")
    config = tomllib.loads((folder / "exercise.toml").read_text())
    try:
        exercise = _from_config(
            config, exercise_id=exercise_id, root=root, folder=folder,
            solution=root / "solutions" / exercise_id / config["notebook"],
            template=root / "assignments" / exercise_id / config["notebook"],
        )
    except ValueError as error:
        raise ValueError(f"{exercise_id}: exercise.toml: {error}") from None
    _check_manual_cells(exercise)
    return exercise


def course_exercise_of(notebook: Path) -> Exercise | None:
    """The exercise of ``notebook`` in the course checkout it sits in (e.g. ``assignments/<id>/<id>.ipynb``,
    whose public tests are the instructor's); None outside a course checkout."""
    for folder in notebook.resolve().parents:
        for config in sorted((folder / "autograder" / "exercises").glob("*/exercise.toml")):
            if tomllib.loads(config.read_text()).get("notebook") == notebook.name:
                return load_exercise(config.parent.name, root=folder)
    return None


def load_bundle_exercise(checks: Path) -> Exercise:
    """The exercise as a student bundle describes it: public checks and recorded reference answers."""
    config = tomllib.loads((checks / "exercise.toml").read_text())
    return _from_config(config, exercise_id=config["id"], root=checks.parent, folder=checks, solution=None,
                        template=None, recorded_answers=checks / "reference_answers.dlg")
