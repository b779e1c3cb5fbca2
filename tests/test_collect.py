"""Finding submissions in the layouts instructors hand over (no grading needed)."""
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dlgrade.collect import collect_submissions
from dlgrade.exercise import load_exercise

EXERCISE = load_exercise("ch04_xor")


def notebook_in(folder: Path, name: str = "ch04_xor.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXERCISE.template, folder / name)
    return folder / name


def found(tmp_path, *paths):
    return {f.student: f for f in collect_submissions(paths=list(paths), exercise=EXERCISE, scratch=tmp_path)}


def test_single_notebook_and_single_student_folder(tmp_path):
    alone = notebook_in(tmp_path / "x", "carol.ipynb")
    assert list(found(tmp_path, alone)) == ["carol"]
    notebook_in(tmp_path / "dave")
    assert list(found(tmp_path, tmp_path / "dave")) == ["dave"]
    assert list(found(tmp_path, tmp_path / "dave" / "ch04_xor.ipynb")) == ["dave"]


def test_folder_of_student_folders_with_content_hashes(tmp_path):
    for student in ("ada", "bob"):
        notebook_in(tmp_path / "class" / student)
    (tmp_path / "class" / "bob" / "extra.txt").write_text("more")
    submissions = found(tmp_path, tmp_path / "class")
    assert sorted(submissions) == ["ada", "bob"]
    assert submissions["ada"].content_hash != submissions["bob"].content_hash


def test_nbgrader_submitted_layout_with_timestamps(tmp_path):
    submitted = tmp_path / "submitted"
    notebook_in(submitted / "ada" / "ch04_xor")
    (submitted / "ada" / "ch04_xor" / "timestamp.txt").write_text("2026-12-01 10:30:00.000000 UTC")
    notebook_in(submitted / "bob" / "ch04_xor")
    notebook_in(submitted / "bob" / "ch06_banknotes")
    submissions = found(tmp_path, submitted)
    assert sorted(submissions) == ["ada", "bob"]
    assert submissions["ada"].submitted_at == datetime(2026, 12, 1, 10, 30, tzinfo=timezone.utc)
    assert submissions["bob"].path == submitted / "bob" / "ch04_xor"


def test_gradescope_export_layout(tmp_path):
    export = tmp_path / "export"
    notebook_in(export / "submission_111")
    notebook_in(export / "submission_222")
    (export / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Ada\n    :sid: '1'\n    :email: ada@uni.edu\n"
        "  :created_at: 2026-12-01 09:00:00.000000000 +01:00\n"
        "submission_222:\n  :submitters:\n  - :name: Bob\n    :sid: '2'\n"
    )
    submissions = found(tmp_path, export)
    assert sorted(submissions) == ["2", "ada@uni.edu"]
    assert submissions["ada@uni.edu"].submitted_at == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def test_zip_of_student_folders_and_unsafe_zips(tmp_path):
    for student in ("ada", "bob"):
        notebook_in(tmp_path / "class" / student)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in (tmp_path / "class").rglob("*.ipynb"):
            bundle.write(path, str(path.relative_to(tmp_path)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert sorted(found(scratch, archive)) == ["ada", "bob"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.writestr("../../outside.ipynb", "{}")
    with pytest.raises(ValueError, match="unsafe name"):
        found(scratch, evil)
