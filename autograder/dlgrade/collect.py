"""Find the submissions in what an instructor hands to ``dlgrade grade``.

Accepted, per PATH: a notebook; a folder holding one student's notebook (the folder names the student);
a folder of such student folders; nbgrader's ``submitted/<student>/<exercise>/`` layout (its
``timestamp.txt`` gives the submission time); Gradescope's submission export (``submission_metadata.yml``
with ``submission_<id>/`` folders; every submitter of a group is a student, named by e-mail or sid, and a
student in several entries keeps the latest ``:created_at``, whose text with its UTC offset is kept as the
time's source); or a zip of any of these. A submission without such a time has none and is on time: file
modification times change with any copy, so they are used only when asked (``times_from_mtime``); times the
instructor gives (``--submitted-at``, a CSV of times) replace all of these. Times are kept in UTC.

Nothing inside a student's folder stops the collection: a submission that cannot be read within the bounds
of :mod:`dlgrade.scan` (or whose nbgrader timestamp cannot be read, or that is a link) is found with a
``problem``, which the batch records as that student's failed submission. Student ids are printable.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from dlgrade.exercise import Exercise
from dlgrade.scan import Unreadable, printable, read_small_file, scan_submission

MAX_UNZIPPED_BYTES = 4 << 30
MAX_CLASS_ENTRIES = 100_000
MAX_TIMESTAMP_BYTES = 1024
MAX_ID_CHARS = 200
TIME_EXAMPLE = "e.g. 2026-12-01 10:30:00.000000 UTC or 2026-12-01 10:30:00 -08:00"
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*"
                   r"(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?", re.ASCII)


@dataclass(frozen=True)
class FoundSubmission:
    """One student's submission; ``problem`` says (to the student) why its files cannot be graded at all."""

    student: str
    path: Path
    submitted_at: datetime | None
    content_hash: str
    problem: str | None = None
    time_source: str | None = None  # where submitted_at came from; None: no time known (on time)
    modified_at: datetime | None = None  # the notebooks' modification time, used only with times_from_mtime


def student_id(name: object) -> str:
    """A printable student id for a folder name, e-mail or sid: undecodable bytes and control characters
    escaped (distinct names stay distinct), at most MAX_ID_CHARS characters (a hash keeps long ones apart)."""
    text = printable(str(name), limit=None)
    if len(text) <= MAX_ID_CHARS:
        return text
    return f"{text[:MAX_ID_CHARS - 13]}~{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def parse_time(value: object) -> datetime:
    """A submission time, in UTC, from a datetime (what PyYAML gives) or text: ISO 8601, nbgrader's
    ``2026-12-01 10:30:00.000000 UTC`` (seconds optional), Gradescope's ``2026-03-01 10:22:32.365935000 -08:00`` (or ``-0800``).
    A time without a zone is UTC. Raises ValueError for anything else."""
    if isinstance(value, datetime):
        moment = value
    else:
        match = _TIME.fullmatch(str(value).strip())
        if match is None:
            raise ValueError(f"'{printable(str(value), limit=60)}' is not a time")
        day, clock, seconds, fraction, zone = match.groups()
        moment = datetime.fromisoformat(f"{day}T{clock}:{seconds or '00'}.{(fraction or '')[:6]:0<6}")
        if zone and zone[0] in "+-":
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            moment = moment.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _found(student: str, path: Path, *, exercise: Exercise, submitted_at: datetime | None = None,
           time_source: str | None = None, problem: str | None = None) -> FoundSubmission:
    """Scan ``path`` within the exercise's size limit; a problem is kept with a hash of its message."""
    if problem is None:
        try:
            scan = scan_submission(path=path, max_bytes=exercise.limits.submission_bytes)
        except Unreadable as error:
            problem = str(error)
    if problem is not None:
        digest = hashlib.sha256(b"problem\0" + problem.encode("utf-8", "backslashreplace")).hexdigest()
        modified = datetime.fromtimestamp(path.lstat().st_mtime, timezone.utc)
        return FoundSubmission(student, path, submitted_at, digest, problem, time_source, modified)
    modified = datetime.fromtimestamp(scan.notebooks_mtime or path.stat().st_mtime, timezone.utc)
    return FoundSubmission(student, path, submitted_at, scan.content_hash, None, time_source, modified)


def with_times(found: list[FoundSubmission], *, times: dict[str, datetime], source: str) -> list[FoundSubmission]:
    """The submissions with the instructor's times (by student) in place of the collected ones."""
    return [dataclasses.replace(item, submitted_at=times[item.student], time_source=source)
            if item.student in times else item for item in found]


def read_times_csv(path: Path) -> dict[str, datetime]:
    """``student,time`` rows (a header row ``student,time`` is allowed) as {student: UTC time}; a row that is
    not two cells or a time that cannot be read is an error naming its line."""
    times = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or (line == 1 and [cell.strip().lower() for cell in row] == ["student", "time"]):
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{line}: expected two cells, student,time ({TIME_EXAMPLE})")
            try:
                times[student_id(row[0].strip())] = parse_time(row[1])
            except ValueError as error:
                raise ValueError(f"{path}:{line}: {error} ({TIME_EXAMPLE})") from None
    return times


def _link_problem(path: Path) -> str | None:
    if path.is_symlink():
        return f"{printable(path.name)} is a link, and links are not followed; put the files themselves there"
    return None


def _is_folder(path: Path) -> bool:
    """A real folder (not a link to one)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


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


def _listing(folder: Path) -> list[Path]:
    """The entries of a folder the instructor named, in name order."""
    with os.scandir(folder) as entries:
        names = [entry.name for entry in itertools.islice(entries, MAX_CLASS_ENTRIES + 1)]
    if len(names) > MAX_CLASS_ENTRIES:
        raise ValueError(f"{printable(str(folder))} holds more than {MAX_CLASS_ENTRIES} entries; "
                         "grade the class in several folders")
    return [folder / name for name in sorted(names)]


def _submitters(entry: dict, *, default: str) -> list[str]:
    """Every member of a (group) submission: e-mail, else sid, else the submission's folder name."""
    people = entry.get(":submitters")
    people = [person for person in people if isinstance(person, dict)] if isinstance(people, list) else []
    ids = [student_id(person.get(":email") or person.get(":sid") or default) for person in people]
    return list(dict.fromkeys(ids)) or [student_id(default)]


def _gradescope(folder: Path, exercise: Exercise) -> list[FoundSubmission]:
    metadata = yaml.safe_load((folder / "submission_metadata.yml").read_text()) or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{folder / 'submission_metadata.yml'} is not a Gradescope submission export")
    latest: dict[str, FoundSubmission] = {}
    for key, entry in sorted(metadata.items(), key=lambda item: str(item[0])):
        entry, name = entry if isinstance(entry, dict) else {}, str(key)
        path = folder / name
        if name in ("", ".", "..") or "/" in name or not (_is_folder(path) or path.is_symlink()):
            continue
        submitted_at, source, problem = None, None, _link_problem(path)
        if entry.get(":created_at") is not None:
            try:
                submitted_at = parse_time(entry[":created_at"])
                source = f"Gradescope :created_at {_as_given(entry[':created_at'])}"
            except ValueError as error:
                problem = problem or f"Gradescope's :created_at of {printable(name)} cannot be read: {error}"
        submission = _found("", path, exercise=exercise, submitted_at=submitted_at, time_source=source,
                            problem=problem)
        for student in _submitters(entry, default=name):
            earlier = latest.get(student)
            if earlier is None or _order(submission) >= _order(earlier):
                latest[student] = dataclasses.replace(submission, student=student)
    return list(latest.values())


def _as_given(value: object) -> str:
    """A time as Gradescope gave it, with its own UTC offset (PyYAML reads most of them as datetimes)."""
    return value.isoformat() if isinstance(value, datetime) else printable(str(value), limit=60)


def _order(submission: FoundSubmission) -> datetime:
    """A Gradescope entry without :created_at counts as the earliest."""
    return submission.submitted_at or datetime.min.replace(tzinfo=timezone.utc)


def _nbgrader_time(submission: Path) -> tuple[datetime | None, str | None]:
    """The time in nbgrader's ``timestamp.txt`` (None without one), or a problem with it."""
    stamp = submission / "timestamp.txt"
    why = f"nbgrader writes the submission time there ({TIME_EXAMPLE}); restore it or remove it"
    try:
        data = read_small_file(stamp, max_bytes=MAX_TIMESTAMP_BYTES)
        return (None if data is None else parse_time(data.decode("utf-8"))), None
    except Unreadable as error:
        return None, f"{error}; {why}"
    except UnicodeDecodeError:
        return None, f"timestamp.txt is not UTF-8 text; {why}"
    except ValueError as error:
        return None, f"timestamp.txt: {error}; {why}"


def _nbgrader(students: list[Path], exercise: Exercise) -> list[FoundSubmission]:
    found = []
    for student in students:
        submission = student / exercise.id
        if student.is_symlink() and student.is_dir():
            submission = student
        elif not _is_folder(student) or not (_is_folder(submission) or submission.is_symlink()):
            continue
        problem = _link_problem(submission)
        submitted_at, time_problem = (None, None) if problem else _nbgrader_time(submission)
        found.append(_found(student_id(student.name), submission, exercise=exercise, submitted_at=submitted_at,
                            time_source="nbgrader timestamp.txt" if submitted_at else None,
                            problem=problem or time_problem))
    return found


def _folder(folder: Path, exercise: Exercise) -> list[FoundSubmission]:
    if (folder / "submission_metadata.yml").is_file():
        return _gradescope(folder, exercise)
    entries = _listing(folder)
    if any(_is_folder(entry / exercise.id) for entry in entries if _is_folder(entry)):
        return _nbgrader(entries, exercise)
    if any(entry.suffix == ".ipynb" for entry in entries):
        return [_found(student_id(Path(os.path.abspath(folder)).name), folder, exercise=exercise)]
    students = [entry for entry in entries if not entry.name.startswith(".")
                and (_is_folder(entry) or (entry.is_symlink() and entry.is_dir()))]
    return [_found(student_id(entry.name), entry, exercise=exercise, problem=_link_problem(entry))
            for entry in students]


def collect_submissions(*, paths: list[Path], exercise: Exercise, scratch: Path,
                        times_from_mtime: bool = False) -> list[FoundSubmission]:
    """Every submission under ``paths``, in a stable order; a student named twice keeps the last. One without a
    time from its layout has none (on time), or with ``times_from_mtime`` its notebooks' modification time."""
    found: dict[str, FoundSubmission] = {}
    for path in paths:
        if path.suffix == ".zip" and path.is_file():
            path = _unzip(path, scratch)
        if path.is_file():
            named = Path(os.path.abspath(path))
            student = named.parent.name if path.name == exercise.notebook else named.stem
            items = [_found(student_id(student), path, exercise=exercise)]
        else:
            items = _folder(path, exercise)
        found.update((item.student, item) for item in items)
    if times_from_mtime:
        found = {student: item if item.submitted_at else dataclasses.replace(
            item, submitted_at=item.modified_at, time_source="file modification time")
            for student, item in found.items()}
    return sorted(found.values(), key=lambda item: item.student)
