"""The dataset registry: offline lookup and `dlgrade data list`, clear errors for a missing or corrupt
dataset, fetch and checksummed download, readers, student/hidden splits, loaders, and the splits'
journey into sandboxes and release bundles (tests/course/.../datademo)."""
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlgrade.datasets import (DatasetCorrupt, DatasetMissing, SplitSpec, StudentDataMissing, get_dataset,
                              load_banknotes, load_manifest, locate, make_split, row_keys)
from dlgrade.datasets.locate import download, shared_data_dirs
from dlgrade.datasets.readers import read_parts
from dlgrade.exercise import exercise_ids, load_exercise

COURSE = Path(__file__).resolve().parent / "course"
OFFLINE = ["banknotes", "fashion_mnist", "mnist_5k", "airline_passengers", "auto_mpg", "pt_en_generated",
           "polynomial_generated"]
SHARED = next(d for d in shared_data_dirs() if (d / "banknote_authentication.csv").exists())


def dlgrade(*args, env=None, timeout=300, hide=()):
    """Run the CLI; ``hide`` covers folders with an empty tmpfs in a private mount namespace (as if deleted)."""
    command = [sys.executable, "-m", "dlgrade", *map(str, args)]
    if hide:
        mounts = " && ".join(f"mount -t tmpfs none {folder}" for folder in hide)
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   f"{mounts} && exec \"$@\"", "sh", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def can_hide_folders() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and \
        subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


needs_hiding = pytest.mark.skipif(not can_hide_folders() and not os.environ.get("CI"),
                                  reason="needs root and unshare to hide a data folder")


def test_list_shows_every_offline_dataset_available():
    done = dlgrade("data", "list")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 5}
    for name in OFFLINE:
        assert name in rows and ("available" in rows[name] or "generated" in rows[name]), rows.get(name)
    assert "verified" in rows["fashion_mnist"] and "verified" in rows["banknotes"]
    assert "online only" in rows["ted_pt_en"]


@needs_hiding
def test_a_deleted_dataset_gives_one_clear_error(tmp_path):
    done = dlgrade("data", "list", hide=[SHARED])
    assert "banknotes" in done.stdout and "missing" in done.stdout
    message = done.stdout[done.stdout.index("dataset 'banknotes'"):]
    assert "was not found" in message and "Looked in:" in message
    assert str(SHARED) in message and "download cache" in message
    assert "dlgrade data fetch banknotes --dest DIR" in message
    graded = dlgrade("data", "split", "datademo", "--out", tmp_path,
                     env=dict(os.environ, DLGRADE_COURSE_ROOT=str(COURSE), DLGRADE_CACHE=str(tmp_path / "cache")),
                     hide=[SHARED])
    assert graded.returncode == 1 and "dataset 'banknotes'" in graded.stderr and "Traceback" not in graded.stderr


@needs_hiding
def test_a_corrupt_copy_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    text = (SHARED / "banknote_authentication.csv").read_bytes()
    (data / "banknote_authentication.csv").write_bytes(text.replace(b"3.6216", b"3.6217", 1))
    done = dlgrade("data", "list", "--data-dir", data, hide=[SHARED])
    assert "corrupt" in done.stdout and "mismatch" in done.stdout
    assert "fails its checksum and was refused" in done.stdout


def test_a_corrupt_copy_is_skipped_for_a_verified_one(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "banknote_authentication.csv").write_text("1,2,3,4,0\n")
    found = locate("banknotes", places=[("bad", bad), ("good", SHARED)])
    assert found.place == "good"
    with pytest.raises(DatasetCorrupt, match="fails its checksum"):
        locate("banknotes", places=[("bad", bad)])
    with pytest.raises(DatasetMissing, match="Looked in:"):
        locate("banknotes", places=[("empty", tmp_path / "nothing")])


def test_fetch_fills_a_data_directory_that_list_then_uses(tmp_path):
    done = dlgrade("data", "fetch", "banknotes", "auto_mpg", "pt_en_generated", "--dest", tmp_path, "--offline")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "banknotes" / "banknote_authentication.csv").exists()
    assert (tmp_path / "auto_mpg" / "autompg.csv.gz").exists()
    listed = dlgrade("data", "list", "--data-dir", tmp_path)
    row = next(line for line in listed.stdout.splitlines() if "│ banknotes " in line)
    assert "data directory" in row
    assert dlgrade("data", "fetch", "--dest", tmp_path).returncode == 2  # names or --all are required


def test_download_is_verified_and_a_bad_download_is_deleted(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(SHARED / "banknote_authentication.csv", served / "banknote_authentication.csv")
    dataset = dataclasses.replace(get_dataset("banknotes"), url=f"file://{served}/{{file}}")
    found = download(dataset, tmp_path / "cache")
    assert found.paths["banknote_authentication.csv"].read_bytes() == (served / "banknote_authentication.csv").read_bytes()
    (served / "banknote_authentication.csv").write_text("tampered\n")
    with pytest.raises(DatasetCorrupt, match="fails its checksum"):
        download(dataset, tmp_path / "cache2")
    assert list((tmp_path / "cache2").iterdir()) == []
    with pytest.raises(OSError):
        download(dataclasses.replace(dataset, url=f"file://{tmp_path}/absent/{{file}}"), tmp_path / "cache3")
    assert list((tmp_path / "cache3").iterdir()) == []


@pytest.mark.parametrize("name", OFFLINE)
def test_readers_give_every_example(name):
    dataset = get_dataset(name)
    parts = read_parts(locate(name))
    assert sum(len(x) for x, _ in parts.values()) == dataset.rows
    assert all(len(x) == len(y) for x, y in parts.values())


def test_manifest_entries_are_complete():
    for dataset in load_manifest().values():
        assert dataset.files or dataset.generator or dataset.tfds, dataset.name
        assert dataset.url or dataset.generator or dataset.tfds, f"{dataset.name} has no canonical source"
        for file in dataset.files:
            assert len(file.sha256) == 64 and file.digest in ("bytes", "text", "gunzip"), file


def test_generated_polynomial_points_are_pinned():
    """Generated data has no file to checksum: the arrays the generator gives are pinned by their SHA-256 instead, so
    a change of numpy's generator or of the cubic shows here (and would change the student/hidden split)."""
    (x, y), = read_parts(locate("polynomial_generated")).values()
    assert x.shape == y.shape == (300,) and x.dtype == y.dtype == np.float32
    digest = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()
    assert digest == "883b64db13c2796bd7a873fc47501c896b19566926694b080f5b34bae2cf6184", digest


def declared_splits():
    """Every [data.*] split of the course's exercises and of the test course."""
    specs = [spec for exercise_id in exercise_ids() for spec in load_exercise(exercise_id).data]
    specs += [spec for exercise_id in exercise_ids(root=COURSE) for spec in load_exercise(exercise_id, root=COURSE).data]
    specs.append(SplitSpec.from_config("fashion_mnist", {"hidden_part": "test", "hidden_size": 3000, "seed": 8}))
    return specs


@pytest.mark.parametrize("spec", declared_splits(), ids=lambda s: s.dataset)
def test_hidden_and_student_splits_are_disjoint(spec):
    parts = read_parts(locate(spec.dataset))
    (student_x, student_y), (hidden_x, hidden_y) = make_split(spec, parts)
    assert len(student_x) > 0 and (len(hidden_x) > 0 or spec.hidden_fraction == 0)
    assert not np.isin(row_keys(hidden_x, hidden_y), row_keys(student_x, student_y)).any()
    again = make_split(spec, parts)
    assert np.array_equal(again[1][0], hidden_x), "the same seed must give the same split"
    if spec.hidden_size:
        assert len(hidden_x) <= spec.hidden_size


def test_fraction_split_keeps_duplicates_together_and_follows_the_seed():
    parts = {"all": (np.array([[1.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0]]), np.zeros(8))}
    spec = SplitSpec.from_config("banknotes", {"hidden_fraction": 0.5, "seed": 1})
    (student_x, _), (hidden_x, _) = make_split(spec, parts)
    assert len(student_x) + len(hidden_x) == 8 and not set(student_x.ravel()) & set(hidden_x.ravel())
    others = [make_split(dataclasses.replace(spec, seed=s), parts)[1][0] for s in range(2, 8)]
    assert any(not np.array_equal(o, hidden_x) for o in others), "the seed must change the split"
    with pytest.raises(ValueError, match="exactly one"):
        SplitSpec.from_config("banknotes", {"seed": 1})


def test_loaders_read_the_student_split_and_explain_when_it_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLGRADE_STUDENT_DATA", raising=False)
    with pytest.raises(StudentDataMissing, match="banknotes.student.npz was not found"):
        load_banknotes()
    done = dlgrade("data", "split", "datademo", "--out", tmp_path / "data",
                   env=dict(os.environ, DLGRADE_COURSE_ROOT=str(COURSE)))
    assert done.returncode == 0, done.stderr
    features, labels = load_banknotes()
    assert features.shape[1] == 4 and features.dtype == np.float32 and set(np.unique(labels)) == {0, 1}
    assert len(features) < 1372


def grade(notebook: Path, out: Path) -> dict:
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(COURSE))
    subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(notebook), "--exercise", "datademo",
                    "--out", str(out)], check=True, capture_output=True, env=env, timeout=300)
    return json.loads((out / "results.json").read_text())


def test_sandbox_gets_the_student_split_and_no_raw_data(tmp_path):
    results = grade(COURSE / "solutions" / "datademo" / "datademo.ipynb", tmp_path / "ref")
    assert results["score"] == results["max_score"] == 5, [t["output"] for t in results["tests"]]
    template = grade(COURSE / "assignments" / "datademo" / "datademo.ipynb", tmp_path / "template")
    assert template["score"] == 0


@pytest.fixture(scope="module")
def datademo_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(COURSE))
    done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "datademo", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def test_bundle_ships_only_the_student_split(datademo_bundle, monkeypatch):
    from dlgrade.release import scan_for_leaks

    monkeypatch.setenv("DLGRADE_COURSE_ROOT", str(COURSE))
    exercise = load_exercise("datademo", root=COURSE)
    names = set(zipfile.ZipFile(datademo_bundle / "datademo.zip").namelist())
    assert [n for n in names if n.startswith("datademo/data/")] == ["datademo/data/banknotes.student.npz"]
    folder = datademo_bundle / "datademo"
    assert scan_for_leaks(folder, exercises=[exercise]) == []
    assert "student_data" in (folder / "checks" / "exercise.toml").read_text()
    shipped = np.load(folder / "data" / "banknotes.student.npz", allow_pickle=False)
    from dlgrade.datasets import hidden_split
    hidden_x, hidden_y = hidden_split(exercise.data[0])
    assert not np.isin(row_keys(shipped["x"], shipped["y"]), row_keys(hidden_x, hidden_y)).any()
    np.savez(folder / "data" / "banknotes.student.npz", x=np.concatenate([shipped["x"], hidden_x[:3]]),
             y=np.concatenate([shipped["y"], hidden_y[:3]]))
    np.savez(folder / "data" / "extra.npz", x=hidden_x)
    leaks = scan_for_leaks(folder, exercises=[exercise])
    assert "data/banknotes.student.npz holds 3 examples of the hidden split" in leaks
    assert "data/extra.npz looks like weights or data" in leaks


def test_bundle_check_runs_with_the_shipped_data(datademo_bundle):
    folder = datademo_bundle / "datademo"
    solution = folder / "solved.ipynb"
    shutil.copy(COURSE / "solutions" / "datademo" / "datademo.ipynb", solution)
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check", str(solution), "--checks", str(folder / "checks")],
                          capture_output=True, text=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "total 3/3" in done.stdout, done.stdout
