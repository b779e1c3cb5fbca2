"""Finding submissions in the layouts instructors hand over, hostile folders included (no grading needed)."""
import dataclasses
import hashlib
import os
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hostile_class import deep_tree, fifo, many_files, remove_deep_tree, sparse_file, undecodable_folder

from dlgrade.collect import MAX_ID_CHARS, collect_submissions, parse_time, read_times_csv, student_id, with_times
from dlgrade import collect, scan
from dlgrade.exercise import load_exercise
from dlgrade.scan import MAX_DEPTH, MAX_ENTRIES

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


def test_student_ids_are_printable_and_distinct(tmp_path):
    notebook_in(undecodable_folder(tmp_path / "class", b"caf\xe9"))
    notebook_in(tmp_path / "class" / "caf\\xe9")
    notebook_in(tmp_path / "class" / "evil\x1b[31m\u202e")
    submissions = found(tmp_path, tmp_path / "class")
    assert sorted(submissions) == ["caf\\\\xe9", "caf\\xe9", "evil\\x1b[31m\\u202e"]
    assert all(student.isprintable() for student in submissions)
    assert len(student_id("x" * 1000)) == MAX_ID_CHARS and student_id("x" * 1000) != student_id("x" * 999)


def test_content_hash_is_the_sha256_of_names_and_bytes_and_skips_links_and_fifos(tmp_path):
    student = tmp_path / "ada"
    notebook = notebook_in(student)
    (student / "weights").mkdir()
    (student / "weights" / "w.h5").write_bytes(b"\x00\x01")
    expected = hashlib.sha256()
    for name, path in (("ch04_xor.ipynb", notebook), ("weights/w.h5", student / "weights" / "w.h5")):
        expected.update(name.encode() + b"\0" + path.read_bytes())
    assert found(tmp_path, student)["ada"].content_hash == expected.hexdigest()
    (student / "outside").symlink_to(tmp_path.parent)
    (student / "linked.ipynb").symlink_to(notebook)
    fifo(student / "pipe")
    submission = found(tmp_path, student)["ada"]
    assert submission.problem is None and submission.content_hash == expected.hexdigest()


def test_deep_huge_or_crowded_folders_become_that_students_problem(tmp_path):
    folder = tmp_path / "class"
    for student in ("ada", "deep", "huge", "crowded", "linked"):
        notebook_in(folder / student)
    deep_tree(folder / "deep", levels=3000)
    sparse_file(folder / "huge" / "data.bin", gib=6)
    many_files(folder / "crowded" / "logs", count=MAX_ENTRIES)
    (folder / "linked").rename(tmp_path / "elsewhere")
    (folder / "linked").symlink_to(tmp_path / "elsewhere")
    try:
        submissions = found(tmp_path, folder)
    finally:
        remove_deep_tree(folder / "deep")
    assert submissions["ada"].problem is None
    assert f"nested more than {MAX_DEPTH} levels deep (at d/d/d/…)" in submissions["deep"].problem
    limit = EXERCISE.limits.submission_bytes >> 20
    assert submissions["huge"].problem.startswith(
        f"the submission holds 6144 MiB of files (data.bin: 6144 MiB); the limit is {limit} MiB")
    assert f"more than {MAX_ENTRIES} files and folders" in submissions["crowded"].problem
    assert submissions["linked"].problem.startswith("linked is a link, and links are not followed")
    hashes = {item.content_hash for item in submissions.values()}
    assert len(hashes) == 5 and all(len(digest) == 64 for digest in hashes)


def test_files_that_grow_after_the_walk_are_still_capped_while_hashed(tmp_path, monkeypatch):
    notebook_in(tmp_path / "ada")
    walked_before_growing = lambda root, real=scan.list_files: [(parts, 0, mtime) for parts, _, mtime in real(root)]
    monkeypatch.setattr(scan, "list_files", walked_before_growing)
    small = dataclasses.replace(EXERCISE, limits=dataclasses.replace(EXERCISE.limits, submission_bytes=1000))
    submission = collect_submissions(paths=[tmp_path / "ada"], exercise=small, scratch=tmp_path)[0]
    assert submission.problem.startswith("the submission grew past 0.0009537 MiB of files while it was read "
                                         "(ch04_xor.ipynb)")


@pytest.mark.parametrize("make_stamp, message", [
    (lambda path: fifo(path), "timestamp.txt is not a regular file"),
    (lambda path: path.write_bytes(b"2026-12-01 10:30:00 \xff\xfe"), "timestamp.txt is not UTF-8 text"),
    (lambda path: path.write_text("next tuesday"), "timestamp.txt: 'next tuesday' is not a time"),
    (lambda path: path.write_text("2026-12-01 10:30:00 UTC" * 100), "timestamp.txt is larger than 1024 bytes"),
    (lambda path: path.symlink_to("/etc/passwd"), "timestamp.txt is a link (links are not followed)"),
])
def test_nbgrader_timestamp_that_cannot_be_read_is_that_students_problem(tmp_path, make_stamp, message):
    submitted = tmp_path / "submitted"
    notebook_in(submitted / "ada" / "ch04_xor")
    (submitted / "ada" / "ch04_xor" / "timestamp.txt").write_text("2026-12-01 10:30:00.000000 UTC")
    notebook_in(submitted / "eve" / "ch04_xor")
    make_stamp(submitted / "eve" / "ch04_xor" / "timestamp.txt")
    submissions = found(tmp_path, submitted)
    assert submissions["ada"].problem is None
    assert submissions["eve"].problem.startswith(message)
    assert "nbgrader writes the submission time there" in submissions["eve"].problem


@pytest.mark.parametrize("value", [
    "2026-03-01 10:22:32.365935000 -08:00", "2026-03-01 10:22:32.365935000 -0800", "2026-03-01T10:22:32.365935-08:00",
    "2026-03-01 18:22:32.365935 UTC", "2026-03-01 18:22:32.365935Z", "2026-03-01 18:22:32.365935",
    datetime(2026, 3, 1, 10, 22, 32, 365935, tzinfo=timezone(-timedelta(hours=8))),
])
def test_times_keep_their_utc_offset(value):
    assert parse_time(value) == datetime(2026, 3, 1, 18, 22, 32, 365935, tzinfo=timezone.utc)


def test_a_time_typed_by_hand_may_leave_out_the_seconds():
    assert parse_time("2026-12-03T09:00+01:00") == datetime(2026, 12, 3, 8, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_time("2026-12-03T09:00.5")


@pytest.mark.parametrize("value", ["2026-03-01", "2026-13-01 10:00:00", "2026-03-01 10:00:00 PST", "1 March"])
def test_times_that_cannot_be_read_are_refused(value):
    with pytest.raises(ValueError):
        parse_time(value)


def test_gradescope_real_format_groups_and_latest_submission(tmp_path):
    export = tmp_path / "export"
    for key in ("submission_1", "submission_2", "submission_3", "submission_4"):
        notebook_in(export / key)
    (export / "submission_2" / "v2.txt").write_text("second version")
    notebook_in(tmp_path / "outside")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Ada\n    :sid: '1'\n    :email: ada@uni.edu\n"
        "  - :name: Bob\n    :sid: '2'\n    :email: bob@uni.edu\n"
        "  :created_at: 2026-03-01 10:22:32.365935000 -08:00\n"
        "submission_2:\n  :submitters:\n  - :name: Ada\n    :email: ada@uni.edu\n"
        "  :created_at: 2026-03-01 10:22:33.000000000 -0800\n"
        "submission_3:\n  :submitters:\n  - :name: Bob\n    :email: bob@uni.edu\n"
        "  :created_at: 2026-03-01 09:00:00.000000000 -08:00\n"
        "submission_4:\n  :submitters:\n  - :name: Dot\n    :email: ..\n"
        "  :created_at: 2026-03-01 10:00:00 +0000\n"
        "../outside:\n  :submitters:\n  - :email: mallory@uni.edu\n"
    )
    submissions = found(tmp_path, export)
    assert sorted(submissions) == ["..", "ada@uni.edu", "bob@uni.edu"]
    assert submissions["ada@uni.edu"].path == export / "submission_2"
    assert submissions["ada@uni.edu"].submitted_at == datetime(2026, 3, 1, 18, 22, 33, tzinfo=timezone.utc)
    assert submissions["bob@uni.edu"].path == export / "submission_1"
    assert submissions["bob@uni.edu"].submitted_at == datetime(2026, 3, 1, 18, 22, 32, 365935, tzinfo=timezone.utc)
    assert submissions[".."].path == export / "submission_4"


def test_links_in_nbgrader_and_gradescope_layouts_are_problems_not_followed(tmp_path):
    notebook_in(tmp_path / "elsewhere")
    submitted = tmp_path / "submitted"
    notebook_in(submitted / "ada" / "ch04_xor")
    (submitted / "eve").mkdir()
    (submitted / "eve" / "ch04_xor").symlink_to(tmp_path / "elsewhere")
    export = tmp_path / "export"
    export.mkdir()
    (export / "submission_1").symlink_to(tmp_path / "elsewhere")
    (export / "submission_metadata.yml").write_text("submission_1:\n  :submitters:\n  - :email: mallory@uni.edu\n")
    submissions = found(tmp_path, submitted, export)
    assert submissions["ada"].problem is None
    assert submissions["eve"].problem.startswith("ch04_xor is a link, and links are not followed")
    assert submissions["mallory@uni.edu"].problem.startswith("submission_1 is a link, and links are not followed")


def test_a_class_folder_past_the_entry_cap_is_refused_as_a_whole(tmp_path, monkeypatch):
    for student in ("ada", "bob", "cem"):
        notebook_in(tmp_path / "class" / student)
    monkeypatch.setattr(collect, "MAX_CLASS_ENTRIES", 2)
    with pytest.raises(ValueError, match="holds more than 2 entries; grade the class in several folders"):
        found(tmp_path, tmp_path / "class")


def test_a_plain_folder_has_no_time_and_a_copy_does_not_make_it_late(tmp_path):
    notebook = notebook_in(tmp_path / "class" / "ada")
    copied = datetime(2027, 1, 5, tzinfo=timezone.utc).timestamp()  # `cp` weeks after the deadline
    os.utime(notebook, (copied, copied))
    ada = found(tmp_path, tmp_path / "class")["ada"]
    assert (ada.submitted_at, ada.time_source) == (None, None)
    from_mtime = collect_submissions(paths=[tmp_path / "class"], exercise=EXERCISE, scratch=tmp_path,
                                     times_from_mtime=True)[0]
    assert from_mtime.submitted_at == datetime(2027, 1, 5, tzinfo=timezone.utc)
    assert from_mtime.time_source == "file modification time"


def test_layout_times_name_their_source_and_gradescope_keeps_its_offset(tmp_path):
    submitted = tmp_path / "submitted"
    notebook_in(submitted / "ada" / "ch04_xor")
    (submitted / "ada" / "ch04_xor" / "timestamp.txt").write_text("2026-12-01 10:30:00.000000 UTC")
    notebook_in(submitted / "bob" / "ch04_xor")
    export = tmp_path / "export"
    notebook_in(export / "submission_1")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :email: cy@uni.edu\n  :created_at: 2026-12-01 10:22:32.365935000 -08:00\n")
    submissions = found(tmp_path, submitted, export)
    assert submissions["ada"].time_source == "nbgrader timestamp.txt"
    assert (submissions["bob"].submitted_at, submissions["bob"].time_source) == (None, None)
    assert submissions["cy@uni.edu"].time_source == "Gradescope :created_at 2026-12-01T10:22:32.365935-08:00"
    assert submissions["cy@uni.edu"].submitted_at == datetime(2026, 12, 1, 18, 22, 32, 365935, tzinfo=timezone.utc)


def test_times_csv_replaces_collected_times(tmp_path):
    times_csv = tmp_path / "times.csv"
    times_csv.write_text("student,time\nada,2026-12-02T09:00:00+01:00\nbob@uni.edu,2026-12-03 10:00:00 UTC\n")
    times = read_times_csv(times_csv)
    assert times == {"ada": datetime(2026, 12, 2, 8, tzinfo=timezone.utc),
                     "bob@uni.edu": datetime(2026, 12, 3, 10, tzinfo=timezone.utc)}
    notebook_in(tmp_path / "class" / "ada")
    notebook_in(tmp_path / "class" / "cy")
    given = {item.student: item for item in with_times(list(found(tmp_path, tmp_path / "class").values()),
                                                       times=times, source="times CSV times.csv")}
    assert (given["ada"].submitted_at, given["ada"].time_source) == (times["ada"], "times CSV times.csv")
    assert (given["cy"].submitted_at, given["cy"].time_source) == (None, None)


@pytest.mark.parametrize("content, message", [
    ("ada,2026-12-02T09:00:00,extra\n", "times.csv:1: expected two cells"),
    ("student,time\nada,yesterday\n", "times.csv:2: 'yesterday' is not a time"),
])
def test_a_times_csv_that_cannot_be_read_names_the_line(tmp_path, content, message):
    (tmp_path / "times.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        read_times_csv(tmp_path / "times.csv")
