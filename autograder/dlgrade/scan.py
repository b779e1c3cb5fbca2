"""A bounded look at one submission's files before grading: walk, content hash, small text files.

Every walk is iterative, never follows links, and stops at MAX_DEPTH nested folders or MAX_ENTRIES entries;
file contents are streamed and the total is capped, so a deep tree, a huge (even sparse) file, a fifo or
millions of files become a message for that student instead of stopping a class.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dlgrade.text import mib

MAX_DEPTH = 32
MAX_ENTRIES = 10_000
CHUNK_BYTES = 1 << 20


class Unreadable(Exception):
    """The submission's files cannot be read within the bounds; the message is for the student."""


@dataclass(frozen=True)
class Scan:
    content_hash: str
    notebooks_mtime: float | None


def printable(text: str, *, limit: int | None = 200) -> str:
    """``text`` with backslashes doubled and undecodable bytes, control and format characters escaped
    (``\\xe9``, ``\\x1b``, ``\\u202e``), so that it is safe on a terminal and in a database; shortened to
    ``limit`` characters with an ellipsis (None: never)."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    shown = "".join(out)
    return shown if limit is None or len(shown) <= limit else shown[:limit - 1] + "…"


def _shown(parts: tuple[str, ...]) -> str:
    return printable("/".join(parts), limit=120)


def list_files(root: Path) -> list[tuple[tuple[str, ...], int, float]]:
    """(relative parts, size, mtime) of every regular file under ``root``, links and specials skipped; raises
    Unreadable past MAX_DEPTH nested folders or MAX_ENTRIES entries."""
    files, stack, entries = [], [()], 0
    while stack:
        parts = stack.pop()
        with os.scandir(root.joinpath(*parts)) as listing:
            for entry in listing:
                entries += 1
                if entries > MAX_ENTRIES:
                    raise Unreadable(f"the submission holds more than {MAX_ENTRIES} files and folders; submit only "
                                     "the notebook and the files the exercise asks for")
                relative = (*parts, entry.name)
                if entry.is_dir(follow_symlinks=False):
                    if len(relative) > MAX_DEPTH:
                        raise Unreadable(f"the submission's folders are nested more than {MAX_DEPTH} levels deep "
                                         f"(at {_shown(relative[:3])}/…); submit the notebook and the files the "
                                         "exercise asks for without the folder tree")
                    stack.append(relative)
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    files.append((relative, info.st_size, info.st_mtime))
    return sorted(files)


def open_regular(path: Path) -> int | None:
    """A read descriptor for ``path`` if it is (still) a regular file; never follows a link, never blocks."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return fd
    os.close(fd)
    return None


def _hash_files(root: Path, files, *, max_bytes: int) -> str:
    digest, total = hashlib.sha256(), 0
    for parts, _, _ in files:
        fd = open_regular(root.joinpath(*parts))
        if fd is None:
            continue
        digest.update(os.fsencode("/".join(parts)) + b"\0")
        with os.fdopen(fd, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                total += len(chunk)
                if total > max_bytes:
                    raise Unreadable(f"the submission grew past {mib(max_bytes)} of files while it was read "
                                     f"({_shown(parts)}); submit the notebook and the files the exercise asks for")
                digest.update(chunk)
    return digest.hexdigest()


def check_total(files: list[tuple[tuple[str, ...], int, float]], *, max_bytes: int) -> None:
    """Raise Unreadable when the files (as ``list_files`` gives them) hold more than ``max_bytes``; sizes are
    what the files claim, so a sparse file counts in full and is refused before a byte is read."""
    total = sum(size for _, size, _ in files)
    if total > max_bytes:
        largest = max(files, key=lambda file: file[1])
        raise Unreadable(f"the submission holds {mib(total)} of files ({_shown(largest[0])}: "
                         f"{mib(largest[1])}); the limit is {mib(max_bytes)}; submit the notebook and the files "
                         "the exercise asks for")


def scan_submission(*, path: Path, max_bytes: int) -> Scan:
    """Hash ``path`` (a file or a folder): SHA-256 over every regular file's relative name and bytes, in name
    order. Raises Unreadable past the bounds or when ``max_bytes`` of files is exceeded."""
    try:
        if path.is_dir():
            root, files = path, list_files(path)
        else:
            path = path.resolve()  # a notebook named on the command line may be a link; nothing inside a folder is
            info = path.stat()
            root, files = path.parent, [((path.name,), info.st_size, info.st_mtime)]
        check_total(files, max_bytes=max_bytes)
        content_hash = _hash_files(root, files, max_bytes=max_bytes)
    except OSError as error:
        where = f" ({printable(Path(os.fsdecode(error.filename)).name, limit=120)})" if error.filename else ""
        raise Unreadable(f"the submission's files cannot be read{where}: {error.strerror}") from None
    notebooks = [mtime for parts, _, mtime in files if parts[-1].endswith(".ipynb")]
    return Scan(content_hash=content_hash, notebooks_mtime=max(notebooks) if notebooks else None)


def read_small_file(path: Path, *, max_bytes: int) -> bytes | None:
    """The bytes of a small regular file, or None when there is none; raises Unreadable for a link, a fifo
    or anything else that is not a regular file, and for a file over ``max_bytes``."""
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        link = error.errno == errno.ELOOP
        reason = "is a link (links are not followed)" if link else f"cannot be read: {error.strerror}"
        raise Unreadable(f"{printable(path.name)} {reason}") from None
    if fd is None:
        raise Unreadable(f"{printable(path.name)} is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Unreadable(f"{printable(path.name)} is larger than {max_bytes} bytes")
    return data
