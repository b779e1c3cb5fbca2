"""The sandbox's file view is default deny, and one sandbox never touches another (issue 11).

From a graded cell, every readable file of the whole tree is listed: nothing but the view's mounts exists,
and no course file (tests, solutions, .git, caches with hidden splits) is readable anywhere, even by
content. Two sandboxes running at once get different uids, private /tmp and /dev/shm, and cannot see or
kill each other's processes. Grading refuses to run when the kernel refuses namespaces, unless allowed.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.datasets.locate import cache_root
from dlgrade.proxy import Student, StudentSession
from dlgrade.sandbox.limits import SandboxLimits
from dlgrade.sandbox.view import HOME, file_view

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="the full view and uid allocation need a root grader")

WALKER = '''
import hashlib, os, signal, time


def walk(libraries, secret_sizes, secret_hashes):
    """Every readable file: those outside library folders by path; inside them only suspicious names; and
    anywhere, files whose content equals a secret file."""
    outside, named, matches, git = [], [], [], []
    for folder, subfolders, files in os.walk("/"):
        if folder in ("/proc", "/sys", "/dev") or folder.startswith(("/proc/", "/sys/")):
            subfolders[:] = []
            continue
        git += [os.path.join(folder, d) for d in subfolders if d == ".git"]
        in_library = any(folder == lib or folder.startswith(lib + "/") for lib in libraries)
        for name in files:
            path = os.path.join(folder, name)
            if not os.access(path, os.R_OK) or os.path.islink(path):
                continue
            if not in_library:
                outside.append(path)
            elif name.endswith((".sqlite", ".dlg", ".git")) or name in ("test_hidden.py", "test_public.py"):
                named.append(path)
            try:
                size = os.path.getsize(path)
                if size in secret_sizes:
                    with open(path, "rb") as handle:
                        if hashlib.sha256(handle.read()).hexdigest() in secret_hashes:
                            matches.append(path)
            except OSError:
                pass
    return {"tops": sorted(os.listdir("/")), "outside": outside, "named": named, "matches": matches, "git": git}


def try_write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "written"
    except OSError as error:
        return type(error).__name__


def identity():
    return os.getuid(), os.getpid(), sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def leave_in_tmp(text):
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        with open(os.path.join(folder, "mine.txt"), "w") as handle:
            handle.write(text)
    return sorted(os.listdir("/tmp")) + sorted(os.listdir("/dev/shm"))


def listing(folder):
    return sorted(os.listdir(folder))


def kill_from_child():
    pid = os.fork()
    if pid == 0:
        time.sleep(0.2)
        try:
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return "done"


def ping():
    return "pong"
'''
CELLS = [{"id": "walker", "role": "graded", "source": WALKER}]


def secret_files() -> list[Path]:
    """What student code must never read: tests, solutions, the repository, dlgrade's caches (hidden splits)."""
    folders = [ROOT / "autograder" / "exercises", ROOT / "solutions", ROOT / ".git", cache_root()]
    return [p for folder in folders if folder.is_dir() for p in folder.rglob("*")
            if p.is_file() and not p.is_symlink() and p.stat().st_size >= 64]


def view():
    return file_view(workdir=Path("/nonexistent"), tmp_bytes=1, uid=1, gpu=False, masked=[])


def library_folders() -> list[str]:
    return [m.target for m in view() if m.kind == "bind" and m.target != HOME and not m.target.startswith(("/sys", "/dev"))]


def start_session(folder: Path) -> StudentSession:
    folder.mkdir()
    (folder / "ch04_xor.ipynb").write_text("{}")
    session = StudentSession(submission=folder, cells=CELLS, limits=SandboxLimits(call_timeout_s=120))
    session.start()
    return session


@pytest.fixture
def sandbox(tmp_path):
    session = start_session(tmp_path / "alice")
    yield session, Student(session)
    session.close()


def test_nothing_outside_the_view_is_readable(sandbox):
    session, student = sandbox
    secrets = secret_files()
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in secrets}
    libraries = library_folders()
    found = student.walk(libraries, sorted({p.stat().st_size for p in secrets}), sorted(hashes))
    assert "file-view" in session.isolation.split(",")
    assert found["matches"] == [], f"course files readable in the sandbox: {found['matches'][:10]}"
    assert found["git"] == [] and found["named"] == []
    assert found["tops"] == sorted({m.target.split("/")[1] for m in view()})
    allowed = ("/etc/", f"{HOME}/", "/tmp/", "/var/tmp/", "/dev/") + tuple(
        f"{Path(m).parent}/" for m in libraries if Path(m).name in ("__init__.py", "protocol.py", "text.py"))
    strays = [path for path in found["outside"] if not path.startswith(allowed)]
    assert strays == [], f"readable outside the allowed folders: {strays[:10]}"
    assert [p for p in found["outside"] if p.endswith(".ipynb")] == [f"{HOME}/ch04_xor.ipynb"]
    assert not any(p.endswith((".sqlite", ".dlg")) for p in found["outside"])
    assert not any(Path(p).name.startswith("test_") for p in found["outside"])


def test_only_home_and_private_temporary_folders_are_writable(sandbox):
    _, student = sandbox
    for path in ("/etc/passwd", "/usr/lib/planted", "/planted", str(Path(sys.executable).parent / "planted"),
                 "/home/planted", "/dev/planted"):
        assert student.try_write(path) != "written", path
    for path in (f"{HOME}/notes.txt", "/tmp/notes.txt", "/var/tmp/notes.txt", "/dev/shm/notes.txt"):
        assert student.try_write(path) == "written", path


def test_two_sandboxes_share_nothing(tmp_path):
    alice, bob = start_session(tmp_path / "alice"), start_session(tmp_path / "bob")
    try:
        alice_student, bob_student = Student(alice), Student(bob)
        (alice_uid, alice_pid, alice_pids), (bob_uid, bob_pid, bob_pids) = alice_student.identity(), bob_student.identity()
        assert alice_uid != bob_uid and alice_uid >= 61000 and bob_uid >= 61000
        assert alice_pid == bob_pid == 1 and alice_pids == bob_pids == [1]  # each sees only its own processes
        assert alice_student.leave_in_tmp("alice's") == ["mine.txt", "mine.txt"]
        assert bob_student.listing("/tmp") == [] and bob_student.listing("/dev/shm") == []
        assert alice_student.kill_from_child() == "done"
        assert bob_student.ping() == "pong" and alice_student.ping() == "pong"
    finally:
        scratch = [alice.sandbox.scratch, bob.sandbox.scratch]
        alice.close()
        bob.close()
    assert not Path("/tmp/mine.txt").exists() and not Path("/dev/shm/mine.txt").exists()
    assert not any(folder.exists() for folder in scratch)
    owners = {os.stat(f"/proc/{p}").st_uid for p in os.listdir("/proc") if p.isdigit() and os.path.exists(f"/proc/{p}")}
    assert not owners & {alice_uid, bob_uid}


def grade(*extra: str, out: Path, wrapper: list[str], tmp: Path | None = None,
          notebook: Path = ROOT / "solutions" / "ch04_xor" / "ch04_xor.ipynb") -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(tmp)) if tmp else None
    return subprocess.run([*wrapper, sys.executable, "-m", "dlgrade", "grade", str(notebook), "--exercise", "ch04_xor",
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=600, env=env)


def test_grading_refuses_without_namespaces_unless_allowed(tmp_path):
    no_namespaces = ["setpriv", "--bounding-set", "-sys_admin", "--"]  # Docker without --cap-add SYS_ADMIN
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    refused = grade(out=tmp_path / "refused", wrapper=no_namespaces, tmp=scratch)
    assert refused.returncode != 0 and "cannot isolate student code" in refused.stderr
    assert "--allow-weaker-isolation" in refused.stderr and not (tmp_path / "refused" / "results.json").exists()
    assert list(scratch.iterdir()) == []  # the refused grading left no sandbox folder behind
    mode = os.stat("/root").st_mode & 0o777
    os.chmod("/root", mode | 0o011)  # this machine's Python lives under /root: let the sandbox uid reach it
    try:
        weaker = grade("--allow-weaker-isolation", out=tmp_path / "weaker", wrapper=no_namespaces)
        escape = grade("--allow-weaker-isolation", out=tmp_path / "escape", wrapper=no_namespaces,
                       notebook=HOSTILE / "escape_to_git.ipynb")
    finally:
        os.chmod("/root", mode)
    assert weaker.returncode == 0, weaker.stderr[-2000:]
    results = json.loads((tmp_path / "weaker" / "results.json").read_text())
    assert results["score"] == results["max_score"]
    layers = results["extra_data"]["isolation"].split(",")
    assert "rlimits" in layers and layers[0].startswith("uid=") and "file-view" not in layers
    # Without the view, the attack of tests/hostile/escape_to_git.ipynb reads the solution out of the
    # checkout's git history and earns full marks; with it (tests/test_hostile.py) it finds nothing.
    escaped = json.loads((tmp_path / "escape" / "results.json").read_text())
    assert escaped["score"] == escaped["max_score"] and "LEAKED" in escaped["output"]


def test_a_grader_without_root_gets_the_same_view(tmp_path):
    not_root = ["unshare", "--user", "--map-user=1000", "--map-group=1000", "--"]
    done = grade(out=tmp_path / "user", wrapper=not_root)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "user" / "results.json").read_text())
    assert results["score"] == results["max_score"]
    assert {"network", "mount", "pid", "user", "file-view", "rlimits"} <= set(results["extra_data"]["isolation"].split(","))
