"""Student and hidden splits of a dataset, fixed by an exercise's ``[data.<dataset>]`` configuration.

    [data.banknotes]
    hidden_fraction = 0.2   # a seeded share of the examples is hidden ...
    seed = 604
    [data.fashion_mnist]
    hidden_part = "test"    # ... or the publisher's own test part is
    hidden_size = 2000      # optional: keep only this many hidden examples (seeded), for fast grading

The split is made on distinct examples: identical rows always land on the same side (a fraction split) or
are dropped from the hidden side (a part split), so no example a student holds is ever graded as unseen.
Split files are ``.npz`` arrays ``x`` and ``y`` (no pickle), cached under ``<cache>/splits/`` by a key of
the configuration and the dataset's checksums. The student's file is ``<dataset>.student.npz``; it ships
in release bundles (``data/``) and is copied into every sandbox's ``data/``; the hidden one never leaves
the grader.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dlgrade.datasets.locate import cache_root, locate
from dlgrade.datasets.manifest import get_dataset
from dlgrade.datasets.readers import read_parts

SPLIT_FORMAT = 1


@dataclass(frozen=True)
class SplitSpec:
    dataset: str
    seed: int = 0
    hidden_fraction: float | None = None
    hidden_part: str | None = None
    hidden_size: int | None = None

    @classmethod
    def from_config(cls, dataset: str, config: dict) -> "SplitSpec":
        spec = cls(dataset=dataset, **config)
        if (spec.hidden_fraction is None) == (spec.hidden_part is None):
            raise ValueError(f"[data.{dataset}] needs exactly one of hidden_fraction and hidden_part")
        get_dataset(dataset)
        return spec

    def key(self) -> str:
        dataset = get_dataset(self.dataset)
        identity = {"spec": asdict(self), "format": SPLIT_FORMAT, "generator": dataset.generator,
                    "rows": dataset.rows, "files": [f.sha256 for f in dataset.files]}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def student_file_name(dataset: str) -> str:
    return f"{dataset}.student.npz"


def row_keys(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One digest per example (its input and target bytes), to compare examples across splits."""
    return np.array([hashlib.sha1(_bytes(a) + b"|" + _bytes(b)).hexdigest() for a, b in zip(x, y)])


def _bytes(value) -> bytes:
    array = np.asarray(value)
    return array.tobytes() if array.dtype.kind != "U" else str(value).encode()


def make_split(spec: SplitSpec, parts: dict) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(student, hidden) as (x, y) pairs."""
    rng = np.random.default_rng(spec.seed)
    if spec.hidden_part is not None:
        if spec.hidden_part not in parts:
            raise ValueError(f"{spec.dataset} has no part {spec.hidden_part!r} (parts: {', '.join(parts)})")
        student = _concat([p for name, p in parts.items() if name != spec.hidden_part])
        hidden = parts[spec.hidden_part]
        hidden = _take(hidden, ~np.isin(row_keys(*hidden), row_keys(*student)))
    else:
        pooled = _concat(list(parts.values()))
        keys = row_keys(*pooled)
        distinct = np.unique(keys)
        chosen = rng.permutation(len(distinct))[: round(spec.hidden_fraction * len(distinct))]
        in_hidden = np.isin(keys, distinct[chosen])
        student, hidden = _take(pooled, ~in_hidden), _take(pooled, in_hidden)
    if spec.hidden_size is not None and len(hidden[0]) > spec.hidden_size:
        hidden = _take(hidden, np.sort(rng.permutation(len(hidden[0]))[: spec.hidden_size]))
    return student, hidden


def _concat(parts: list) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])


def _take(pair, selection) -> tuple[np.ndarray, np.ndarray]:
    return pair[0][selection], pair[1][selection]


def _write(path: Path, pair) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial.npz")
    np.savez_compressed(partial, x=pair[0], y=pair[1])
    os.replace(partial, path)


def split_files(spec: SplitSpec, *, data_dir: Path | None = None) -> tuple[Path, Path]:
    """Paths of the cached (student, hidden) split files, made on first use; the cache is private (0700)."""
    folder = cache_root() / "splits" / spec.dataset / spec.key()
    student, hidden = folder / student_file_name(spec.dataset), folder / f"{spec.dataset}.hidden.npz"
    if not (student.exists() and hidden.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(cache_root() / "splits", 0o700)
        student_pair, hidden_pair = make_split(spec, read_parts(locate(spec.dataset, data_dir=data_dir)))
        _write(hidden, hidden_pair)
        _write(student, student_pair)
    return student, hidden


def read_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return data["x"], data["y"]


def hidden_split(spec: SplitSpec) -> tuple[np.ndarray, np.ndarray]:
    """The grader's held-out examples (trusted side only)."""
    return read_split(split_files(spec)[1])


def student_split(spec: SplitSpec) -> tuple[np.ndarray, np.ndarray]:
    return read_split(split_files(spec)[0])
