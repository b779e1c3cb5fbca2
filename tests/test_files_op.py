"""The sandbox's `files` operation (what `student.files(folder)` asks for): regular files only, no links,
no way out of the working directory, a size cap."""
import os

import numpy as np
import pytest

from dlgrade.sandbox.server import read_files


def test_reads_regular_files_and_skips_links(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs" / "run").mkdir(parents=True)
    (tmp_path / "logs" / "run" / "events.out.tfevents.1").write_bytes(b"\x00\x01abc")
    (tmp_path / "secret.txt").write_text("not for the grader")
    os.symlink(tmp_path / "secret.txt", tmp_path / "logs" / "link.txt")
    os.symlink(tmp_path, tmp_path / "logs" / "loop")
    found = read_files("logs", max_bytes=1 << 20)
    assert set(found) == {os.path.join("run", "events.out.tfevents.1")}
    assert found[os.path.join("run", "events.out.tfevents.1")].dtype == np.uint8
    assert bytes(found[os.path.join("run", "events.out.tfevents.1")]) == b"\x00\x01abc"


@pytest.mark.parametrize("folder", ["..", "/etc", "logs/../.."])
def test_refuses_folders_outside_the_working_directory(tmp_path, monkeypatch, folder):
    (tmp_path / "work" / "logs").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(ValueError, match="not a folder inside"):
        read_files(folder, max_bytes=1 << 20)


def test_caps_the_total_size(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "a").write_bytes(b"x" * 2048)
    with pytest.raises(ValueError, match="more than"):
        read_files("big", max_bytes=1024)
