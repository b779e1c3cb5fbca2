"""Hostile submission folders for the collection tests: built on disk as a student (or a careless LMS
export) could leave them, with no grading needed."""
import os
from pathlib import Path

DIRECTORY = os.O_RDONLY | os.O_DIRECTORY


def deep_tree(folder: Path, *, levels: int) -> None:
    """``levels`` nested folders named ``d`` under ``folder``, deeper than any path to them could name."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def remove_deep_tree(folder: Path) -> None:
    """Remove what deep_tree made, one level at a time from the top (shutil.rmtree recurses too deep)."""
    fd = os.open(folder, DIRECTORY)
    try:
        while True:
            try:
                os.rename("d/d", "up", src_dir_fd=fd, dst_dir_fd=fd)
            except FileNotFoundError:
                break
            os.rmdir("d", dir_fd=fd)
            os.rename("up", "d", src_dir_fd=fd, dst_dir_fd=fd)
        os.rmdir("d", dir_fd=fd)
    finally:
        os.close(fd)


def sparse_file(path: Path, *, gib: int) -> None:
    """A file of ``gib`` GiB that takes no room on disk (what ``truncate -s`` makes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.truncate(path, gib << 30)


def many_files(folder: Path, *, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"f{index}").touch()


def fifo(path: Path) -> None:
    """A named pipe nobody writes to: reading it would block forever."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def undecodable_folder(parent: Path, name: bytes) -> Path:
    """A folder whose name is not UTF-8 (``name`` as raw bytes); Python names it with surrogate escapes."""
    path = os.fsencode(parent) + b"/" + name
    os.makedirs(path)
    return Path(os.fsdecode(path))
