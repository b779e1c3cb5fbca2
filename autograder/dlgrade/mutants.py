"""Known-wrong variants (mutants) and honest variants of a reference solution, kept as small TOML patches.

A patch file names the tests it must fail and replaces whole graded cells by id::

    description = "..."
    must_fail = ["test_xor_forward"]
    [cells]
    xor_model = '''def xor_logits(...): ...'''
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlgrade.exercise import Exercise


@dataclass(frozen=True)
class Patch:
    """A mutant (must_fail non-empty) or an honest variant (must earn full marks)."""

    name: str
    description: str
    must_fail: tuple[str, ...]
    cells: dict[str, str]


def load_patches(folder: Path) -> list[Patch]:
    patches = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        patches.append(Patch(path.stem, data.get("description", ""), tuple(data.get("must_fail", [])),
                             {k: v.strip("\n") + "\n" for k, v in data["cells"].items()}))
    return patches


def write_patched(*, exercise: Exercise, patch: Patch, out_dir: Path) -> Path:
    """Write the reference notebook with the patch's cells replaced; fails on an unknown cell id."""
    notebook = nbformat.read(exercise.solution, as_version=4)
    patched = copy.deepcopy(notebook)
    found = set()
    for cell in patched.cells:
        cell_id = cell.metadata.get("dlgrade", {}).get("id")
        if cell_id in patch.cells:
            cell.source = patch.cells[cell_id]
            found.add(cell_id)
    unknown = set(patch.cells) - found
    if unknown:
        raise KeyError(f"{exercise.id}/{patch.name}: no graded cell named {sorted(unknown)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / exercise.notebook
    nbformat.write(patched, path)
    return path
