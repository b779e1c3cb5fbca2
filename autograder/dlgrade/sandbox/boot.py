"""First code to run in a new sandbox process: isolate it, limit it, drop privileges, start the server.

Each layer is applied where the kernel allows it and reported to the server through DLGRADE_ISOLATION:
network, mount and PID namespaces (hidden paths covered by empty read-only tmpfs mounts, a fresh /proc),
a per-sandbox unprivileged uid when started as root, and rlimits.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

from dlgrade.sandbox.limits import BootPlan

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                    data.encode() if data else None),
        f"mount {target}",
    )


def _enter_namespaces() -> list[str]:
    """Unshare network, mount and PID namespaces (with a user namespace when not root)."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        flags |= CLONE_NEWUSER
    if _libc.unshare(flags) != 0:
        return []
    if uid != 0:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    return ["network", "mount", "pid"] + (["user"] if uid != 0 else [])


def _hide(paths: list[str]) -> None:
    """Cover each hidden path with an empty read-only tmpfs (directories) or /dev/null (files)."""
    for path in paths:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)


def _blocked_ancestor(path: str) -> str | None:
    """The first ancestor of ``path`` that other users cannot traverse (e.g. a 0700 /root), if any."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def _expose(paths: list[str], stage: str) -> None:
    """Make ``paths`` reachable for the sandbox user when an ancestor is private (a 0700 home).

    The private ancestor is replaced by an empty tmpfs in which only the needed paths are bound back,
    which also hides the rest of that home from student code.
    """
    by_ancestor: dict[str, list[str]] = {}
    for path in paths:
        ancestor = _blocked_ancestor(path)
        if ancestor:
            by_ancestor.setdefault(ancestor, []).append(path)
    for number, (ancestor, needed) in enumerate(by_ancestor.items()):
        staged = []
        for index, path in enumerate(needed):
            target = os.path.join(stage, f"{number}-{index}")
            os.makedirs(target, exist_ok=True)
            _mount(path, target, None, MS_BIND | MS_REC)
            staged.append((target, path))
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        for target, path in staged:
            os.makedirs(path, exist_ok=True)
            _mount(target, path, None, MS_BIND | MS_REC)


def _apply_limits(plan: BootPlan) -> None:
    limits = plan.limits
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if limits.memory_bytes:
        pairs.append((resource.RLIMIT_AS, limits.memory_bytes))
    for which, value in pairs:
        resource.setrlimit(which, (value, value))


def _become_sandbox_user(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main() -> None:
    plan = BootPlan.from_json_dict(json.loads(sys.argv[1]))
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    layers = _enter_namespaces()
    if "mount" in layers:
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        if plan.uid is not None and os.getuid() == 0:
            _expose(plan.readable_paths, plan.stage_dir)
        _hide(plan.hidden_paths)
        layers.append("hidden-paths")
    child = os.fork()
    if child:
        os.close(plan.channel_fd)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    if "pid" in layers:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if plan.uid is not None and os.getuid() == 0 and "user" not in layers:
        _become_sandbox_user(plan.uid)
        layers.append(f"uid={plan.uid}")
    _apply_limits(plan)
    layers.append("rlimits")
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    os.chdir(plan.workdir)
    os.environ["DLGRADE_ISOLATION"] = ",".join(layers)
    os.environ["DLGRADE_LIMITS"] = json.dumps(plan.to_json_dict()["limits"])
    os.execv(sys.executable, [sys.executable, "-I", "-m", "dlgrade.sandbox.server", str(plan.channel_fd)])


if __name__ == "__main__":
    main()
