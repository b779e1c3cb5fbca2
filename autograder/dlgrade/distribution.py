"""What a student installs: the engine's wheel (built from this checkout, with its package data) and the pinned
requirements of the student side (``dlgrade check`` and ``pack``, and what the exercise's notebook imports).
The wheel and sdist are built through setuptools' PEP 517 hooks in a child process: no network, no build
isolation, the setuptools of the grading environment."""
from __future__ import annotations

import ast
import fcntl
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from dlgrade import __version__

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout holding pyproject.toml and grading_env/
# Distributions the student side imports (check, pack, the sandbox) or uses to open the notebook.
STUDENT_SIDE = ("tensorflow", "keras", "numpy", "nbformat", "ipython", "ipykernel", "notebook", "pytest", "rich",
                "click", "matplotlib")
# Engine functions student code may import that need a distribution of their own (imported lazily inside them).
ENGINE_NEEDS = {"load_translation_tokenizers": "tensorflow-text"}
BUILD = """import sys
from setuptools import build_meta
out = sys.argv[2]
print(build_meta.build_wheel(out) if sys.argv[1] == "wheel" else build_meta.build_sdist(out))
"""


class DistributionProblem(RuntimeError):
    """The student's wheel or requirements cannot be made; the message says why and what to do."""


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _source_files(root: Path) -> list[Path]:
    package = root / "autograder" / "dlgrade"
    return [root / "pyproject.toml", *(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)]


def build_distributions(*, out_dir: Path, kinds: tuple[str, ...] = ("wheel", "sdist"),
                        root: Path = SOURCE_ROOT) -> list[Path]:
    """Build the engine's wheel and/or sdist from ``root`` into ``out_dir`` (what ``make dist`` runs)."""
    if not (root / "pyproject.toml").is_file():
        raise DistributionProblem(f"{root} holds no pyproject.toml: the student wheel is built from a dlgrade "
                                  f"checkout (this engine is installed from a wheel; run release from the checkout)")
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for kind in kinds:
        done = subprocess.run([sys.executable, "-c", BUILD, kind, str(out_dir.resolve())], cwd=root,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise DistributionProblem(f"building the dlgrade {kind} failed: {done.stderr.strip()[-2000:]}")
        built.append(out_dir / done.stdout.strip().splitlines()[-1])
    return built


def engine_wheel(*, root: Path = SOURCE_ROOT) -> Path:
    """The wheel of this checkout's engine in ``root/dist``, rebuilt when a source file is newer. A lock keeps
    the exercises released at once from building in the same tree together."""
    dist = root / "dist"
    dist.mkdir(exist_ok=True)
    wheel = dist / f"dlgrade-{__version__}-py3-none-any.whl"
    with open(dist / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        newest = max(p.stat().st_mtime for p in _source_files(root))
        if not wheel.is_file() or wheel.stat().st_mtime < newest:
            wheel.unlink(missing_ok=True)
            [wheel] = build_distributions(out_dir=dist, kinds=("wheel",), root=root)
    return wheel


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pins[_normalised(name)] = f"{name}=={version}"
    return pins


def _code_of(path: Path) -> list[str]:
    """A Python file's text, or a notebook's code cells without shell and magic lines."""
    if path.suffix != ".ipynb":
        return [path.read_text()]
    return ["\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("!", "%")))
            for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def _imported_modules(paths: list[Path]) -> set[str]:
    """Top-level modules the files import, and ``dlgrade:NAME`` for each name imported from dlgrade (code that
    is not plain Python is skipped)."""
    modules = set()
    for source in (code for path in paths for code in _code_of(path)):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
                if node.module.startswith("dlgrade"):
                    modules |= {f"dlgrade:{alias.name}" for alias in node.names}
    return modules


def pinned_lines(*, sources: list[Path], base: tuple[str, ...], pins_file: Path, who: str) -> list[str]:
    """The pins (of ``pins_file``) of the distributions ``base`` names and of those ``sources`` import (the
    engine's modules by what they need); a distribution without a pin is a DistributionProblem naming ``who``."""
    pins = _pins(pins_file)
    by_module = importlib.metadata.packages_distributions()
    wanted = {_normalised(name) for name in base}
    for module in _imported_modules(sources) - {"dlgrade"}:
        engine, _, name = module.partition(":")
        needs = [ENGINE_NEEDS.get(name, "")] if engine == "dlgrade" else by_module.get(module, [])
        wanted |= {_normalised(dist) for dist in needs if dist}
    missing = sorted(wanted - set(pins) - {"dlgrade"})
    if missing:
        raise DistributionProblem(f"grading_env/requirements.txt pins no version of {', '.join(missing)}, which "
                                  f"{who} needs; pin it there")
    return [pins[name] for name in sorted(wanted - {"dlgrade"})]


def student_requirements(*, sources: list[Path], wheel_name: str, root: Path = SOURCE_ROOT) -> str:
    """requirements.txt of a bundle: the engine's wheel, then the grading environment's pins of the student side
    and of the distributions ``sources`` (the notebook, the public tests) import (e.g. gymnasium)."""
    lines = pinned_lines(sources=sources, base=STUDENT_SIDE, pins_file=root / "grading_env" / "requirements.txt",
                         who="the student side")
    return ("# Install in this folder: pip install -r requirements.txt\n"
            "# dlgrade (its checks and pack) from the wheel beside this file, and the versions the grader runs.\n"
            "# tensorflow: PyPI's wheel runs on the CPU (GPU libraries come only with tensorflow[and-cuda]).\n"
            f"./{wheel_name}\n" + "\n".join(lines) + "\n")
