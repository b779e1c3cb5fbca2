"""Find the submissions in what an instructor hands to ``dlgrade grade``.

Accepted, per PATH: a notebook; a folder holding one student's notebook (the folder names the student);
a folder of such student folders; nbgrader's ``submitted/<student>/<exercise>/`` layout (its
``timestamp.txt`` gives the submission time); Gradescope's submission export (``submission_metadata.yml``
with ``submission_<id>/`` folders; the student is the first submitter's email or sid); or a zip of any
of these. Otherwise the submission time is the notebook's modification time.
"""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from dlgrade.exercise import Exercise

MAX_UNZIPPED_BYTES = 4 << 30


@dataclass(frozen=True)
class FoundSubmission:
    student: str
    path: Path
    submitted_at: datetime
    content_hash: str


def content_hash(path: Path) -> str:
    """SHA-256 over every regular file's relative name and bytes (links are not followed)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _mtime(path: Path) -> datetime:
    notebooks = [path] if path.is_file() else list(path.rglob("*.ipynb")) or [path]
    return datetime.fromtimestamp(max(p.stat().st_mtime for p in notebooks), timezone.utc)


def _parse_time(text: str) -> datetime | None:
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%Y-%m-%d %H:%M:%S.%f %Z")):
        try:
            moment = parse(text.strip())
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def _found(student: str, path: Path, submitted_at: datetime | None = None) -> FoundSubmission:
    return FoundSubmission(student, path, submitted_at or _mtime(path), content_hash(path))


def _unzip(archive: Path, scratch: Path) -> Path:
    """Extract safely: no absolute names, no '..', a size cap."""
    target = scratch / archive.stem
    with zipfile.ZipFile(archive) as bundle:
        if sum(info.file_size for info in bundle.infolist()) > MAX_UNZIPPED_BYTES:
            raise ValueError(f"{archive.name} unpacks to more than {MAX_UNZIPPED_BYTES >> 30} GiB")
        for info in bundle.infolist():
            destination = (target / info.filename).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise ValueError(f"{archive.name} holds an unsafe name: {info.filename}")
        bundle.extractall(target)
    children = [p for p in target.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    return children[0] if len(children) == 1 and children[0].is_dir() else target


def _gradescope(folder: Path) -> list[FoundSubmission]:
    metadata = yaml.safe_load((folder / "submission_metadata.yml").read_text()) or {}
    found = []
    for key, entry in sorted(metadata.items()):
        submitters = (entry or {}).get(":submitters") or [{}]
        who = submitters[0].get(":email") or submitters[0].get(":sid") or key
        created = _parse_time(str((entry or {}).get(":created_at", "")))
        if (folder / key).is_dir():
            found.append(_found(str(who), folder / key, created))
    return found


def _nbgrader(folder: Path, exercise: Exercise) -> list[FoundSubmission]:
    found = []
    for student in sorted(p for p in folder.iterdir() if (p / exercise.id).is_dir()):
        stamp = student / exercise.id / "timestamp.txt"
        found.append(_found(student.name, student / exercise.id,
                            _parse_time(stamp.read_text()) if stamp.exists() else None))
    return found


def _folder(folder: Path, exercise: Exercise) -> list[FoundSubmission]:
    if (folder / "submission_metadata.yml").exists():
        return _gradescope(folder)
    if any((p / exercise.id).is_dir() for p in folder.iterdir() if p.is_dir()):
        return _nbgrader(folder, exercise)
    if any(p.suffix == ".ipynb" for p in folder.iterdir()):
        return [_found(folder.name, folder)]
    return [_found(p.name, p) for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def collect_submissions(*, paths: list[Path], exercise: Exercise, scratch: Path) -> list[FoundSubmission]:
    """Every submission under ``paths``, in a stable order; a student named twice keeps the last."""
    found: dict[str, FoundSubmission] = {}
    for path in paths:
        if path.suffix == ".zip" and path.is_file():
            path = _unzip(path, scratch)
        if path.is_file():
            student = path.parent.name if path.name == exercise.notebook else path.stem
            items = [_found(student, path)]
        else:
            items = _folder(path, exercise)
        found.update((item.student, item) for item in items)
    return sorted(found.values(), key=lambda item: item.student)
