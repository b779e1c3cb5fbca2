"""A hostile class graded end to end: ids that would share or leave the results folder, a folder tree
thousands of levels deep, a sparse 6 GiB file, 10,000 files, nbgrader timestamps that are a fifo or not
UTF-8, and a folder name that is not UTF-8. Each hostile student is recorded with a message and 0 points, the
honest ones get full marks, and nothing is written outside --out."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_class import deep_tree, fifo, many_files, remove_deep_tree, sparse_file, undecodable_folder
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlgrade.batch import safe_name, student_folder
from dlgrade.exercise import load_exercise
from dlgrade.gradebook import Submission, open_gradebook
from dlgrade.scan import MAX_DEPTH, MAX_ENTRIES

EXERCISE = load_exercise("ch04_xor")
HONEST = ["ada", "caf\\xe9", "..", "bob smith", "bob_smith"]
HOSTILE = {
    "deep": f"nested more than {MAX_DEPTH} levels deep",
    "huge": "the submission holds 6144 MiB of files (data.bin: 6144 MiB)",
    "crowded": f"more than {MAX_ENTRIES} files and folders",
    "fifo": "timestamp.txt is not a regular file",
    "latin1": "timestamp.txt is not UTF-8 text",
}


@pytest.mark.parametrize("student, folder", [
    ("ada", "ada"), ("ada@uni.edu", "ada@uni.edu"), ("ada+dl@uni.edu", "ada+dl@uni.edu"),
    ("bob smith", "bob_smith~"), ("Ada", "Ada~"), ("..", "_~"), (".", "_~"), ("", "_~"), (".hidden", "hidden~"),
    ("-rf", "rf~"), ("../../etc", "_.._etc~"), ("caf\\xe9", "caf_xe9~"), ("x" * 300, "x" * 80 + "~"),
])
def test_folder_names_are_plain_ids_or_a_slug_and_a_hash(student, folder):
    name = safe_name(student)
    assert name.startswith(folder) and len(name) == len(folder) + (12 if folder.endswith("~") else 0)
    assert "/" not in name and not name.startswith((".", "-"))


def test_folder_names_stay_distinct_even_on_case_insensitive_disks():
    students = ["bob smith", "bob_smith", "bob-smith", "Bob_smith", "BOB_SMITH", "..", ".", "", "_", "...",
                "a" * 81, "a" * 80, "a" * 80 + "b", "caf\\xe9", "caf\\xe8"]
    assert len({safe_name(student).lower() for student in students}) == len(students)


def test_a_results_folder_that_leads_out_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert student_folder(out_root=out, student="..") == out / safe_name("..")
    (out / "ada").symlink_to(tmp_path)
    with pytest.raises(RuntimeError, match="leads out of"):
        student_folder(out_root=out, student="ada")


def honest(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXERCISE.solution, folder / EXERCISE.notebook)
    return folder


@pytest.fixture
def hostile_class(tmp_path):
    """A plain class folder, a Gradescope export and an nbgrader ``submitted/`` folder, side by side."""
    plain, export, submitted = tmp_path / "class", tmp_path / "export", tmp_path / "submitted"
    honest(plain / "ada")
    honest(undecodable_folder(plain, b"caf\xe9"))
    deep_tree(honest(plain / "deep"), levels=3000)
    sparse_file(honest(plain / "huge") / "data.bin", gib=6)
    many_files(honest(plain / "crowded") / "logs", count=MAX_ENTRIES)
    honest(export / "submission_1")
    honest(export / "submission_2")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :email: ..\n  - :email: bob smith\n"
        "  :created_at: 2026-03-01 10:22:32.365935000 -08:00\n"
        "submission_2:\n  :submitters:\n  - :email: bob_smith\n  :created_at: 2026-03-01 10:22:32.365935000 -0800\n")
    fifo(honest(submitted / "fifo" / "ch04_xor") / "timestamp.txt")
    (honest(submitted / "latin1" / "ch04_xor") / "timestamp.txt").write_bytes(b"2026-03-01 10:00:00 \xe9t\xe9")
    yield [plain, export, submitted]
    remove_deep_tree(plain / "deep")


def snapshot(root: Path, *, skip: set[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of everything under ``root`` but ``skip``, without following links."""
    seen, stack = {}, [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                seen[entry.path] = (info.st_size, info.st_mtime_ns)
                if entry.is_dir(follow_symlinks=False) and Path(entry.path) not in skip:
                    stack.append(Path(entry.path))
    return seen


def test_hostile_class_is_graded_student_by_student_inside_out(hostile_class, tmp_path):
    out, gradebook = tmp_path / "out", tmp_path / "grades.sqlite"
    skip = {tmp_path / "class" / "deep" / "d"}
    before = snapshot(tmp_path, skip=skip)
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", *map(str, hostile_class), "--exercise", "ch04_xor",
                           "--gradebook", str(gradebook), "--out", str(out), "--jobs", "2"],
                          capture_output=True, text=True, errors="backslashreplace", timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "10 submissions: 10 graded, 0 already in the gradebook, 0 failed to grade" in done.stdout, done.stdout
    assert "5 recorded with 0 points (their files could not be graded):" in done.stdout

    with Session(open_gradebook(gradebook)) as session:
        recorded = {s.student_id: s for s in session.scalars(select(Submission))}
        assert sorted(recorded) == sorted([*HONEST, *HOSTILE])
        for student in HONEST:
            assert recorded[student].score == recorded[student].max_score == 16, (student, recorded[student].output)
        for student, message in HOSTILE.items():
            assert (recorded[student].score, recorded[student].max_score) == (0, 16)
            assert message in recorded[student].output and all(message in t.output for t in recorded[student].tests)

    folders = {student: out / safe_name(student) for student in recorded}
    assert len(set(folders.values())) == len(folders) == 10
    assert sorted(out.iterdir()) == sorted(folders.values())
    for student, folder in folders.items():
        assert folder.resolve().parent == out.resolve() and not folder.is_symlink()
        results = json.loads((folder / "results.json").read_text())
        assert results["max_score"] == 16
        if student in HOSTILE:
            assert results["score"] == 0 and HOSTILE[student] in results["output"]

    after = snapshot(tmp_path, skip=skip)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert {Path(path) for path in changed} <= {out, gradebook, *out.rglob("*")} | {
        Path(f"{gradebook}-journal"), Path(f"{gradebook}-wal")}
