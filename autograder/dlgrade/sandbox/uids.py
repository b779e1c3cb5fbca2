"""Sandbox uids are allocated, not derived: each grading holds an exclusive lock on its uid for as long as its
sandbox lives, so two gradings running at once (a batch, two instructors, two containers sharing a host's
/run) never share a uid, its process limit or its files. The lock is a ``flock`` the kernel drops when the
grading process ends, however it ends."""
from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

UID_BASE = 61000
UID_COUNT = 1000
LOCK_FOLDERS = (Path("/run/dlgrade-sandbox-uids"), Path("/tmp/dlgrade-sandbox-uids"))


class NoFreeUid(RuntimeError):
    """Every sandbox uid is in use (more than UID_COUNT gradings at once)."""


class UidLease:
    """A uid held by this process until ``release`` (or its exit)."""

    def __init__(self, uid: int, handle: int):
        self.uid, self._handle = uid, handle

    def release(self) -> None:
        if self._handle >= 0:
            os.close(self._handle)
            self._handle = -1


def lease_uid() -> UidLease:
    """Lock the first free uid of the range, starting at a pid-dependent place so concurrent graders rarely
    contend; a uid that still owns processes (a sandbox of a grader that died) is skipped."""
    folder = _lock_folder()
    busy = _uids_with_processes()
    start = os.getpid() % UID_COUNT
    for offset in range(UID_COUNT):
        uid = UID_BASE + (start + offset) % UID_COUNT
        if uid in busy:
            continue
        handle = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        return UidLease(uid, handle)
    raise NoFreeUid(f"all {UID_COUNT} sandbox uids from {UID_BASE} are in use")


def _lock_folder() -> Path:
    """A root-owned folder nobody else can write (a folder planted by someone else is refused)."""
    for folder in LOCK_FOLDERS:
        if not folder.parent.is_dir():
            continue
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return folder
    raise RuntimeError("no safe folder for sandbox uid locks: " + ", ".join(map(str, LOCK_FOLDERS)) +
                       " must be a directory owned by the grader's user with mode 0700")


def _uids_with_processes() -> set[int]:
    owners = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                owners.add(os.stat(f"/proc/{entry}").st_uid)
            except FileNotFoundError:
                pass
    return {uid for uid in owners if UID_BASE <= uid < UID_BASE + UID_COUNT}
