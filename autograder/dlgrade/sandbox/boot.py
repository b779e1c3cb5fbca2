"""First code to run in a new sandbox process: isolate it, limit it, drop privileges, start the server.

Layers, each applied where the kernel allows it and named in the report: network, mount and PID namespaces
(with a user namespace when the grader is not root), the default-deny file view of ``sandbox.view`` as the
process's whole root (``pivot_root``; the host's tree is detached), an unprivileged uid (the grader's
allocated sandbox uid as root; an unmapped-to-root uid in a nested user namespace otherwise) and rlimits.

The boot process reports on its report pipe, before any student code runs, either
``{"pid": <host pid of the sandbox's PID 1>, "isolation": [...]}`` or, when a required layer is missing and
weaker isolation was not allowed, ``{"refused": "<what the kernel refused>"}``. It then waits for the
sandbox; killing the sandbox's PID 1 ends every process of its PID namespace.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import sys

from dlgrade.sandbox.entry import engine_command
from dlgrade.sandbox.limits import BootPlan
from dlgrade.sandbox.view import HOME, Mount, from_json

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, ST_RELATIME = 1024, 2048, 1 << 21, 4096
MNT_DETACH = 2
MS_MOVE = 8192
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
INNER_UID = 1000  # the uid student code has in its nested user namespace when the grader is not root
REQUIRED = ("network", "mount", "pid", "file-view")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _map_ids(inside: int, outside_uid: int, outside_gid: int) -> None:
    """Map one id of a new user namespace to the caller's id outside it (all an unprivileged user may map)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{inside} {outside_uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{inside} {outside_gid} 1")


def _enter_namespaces() -> tuple[list[str], str]:
    """Unshare network, mount and PID namespaces (with a user namespace when not root); returns the layers
    and, when refused, the kernel's reason."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        flags |= CLONE_NEWUSER
    if _libc.unshare(flags) != 0:
        return [], f"namespaces: {os.strerror(ctypes.get_errno())}"
    if uid != 0:
        _map_ids(0, uid, gid)
    return ["network", "mount", "pid"] + (["user"] if uid != 0 else []), ""


def _locked_flags(path: str) -> int:
    """The flags a read-only remount must keep (in a user namespace the kernel refuses to drop them)."""
    flag = os.statvfs(path).f_flag
    kept = flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    return kept | (MS_RELATIME if flag & ST_RELATIME else 0)


def _make_mountpoint(target: str, *, directory: bool) -> None:
    if directory:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))


def _apply(root: str, mount: Mount) -> None:
    target = root + mount.target
    if mount.kind == "bind":
        _make_mountpoint(target, directory=os.path.isdir(mount.source))
        _mount(mount.source, target, None, MS_BIND | MS_REC)
        if not mount.writable:
            _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(target))
        elif not os.path.isdir(mount.source) and mount.target.startswith("/dev/"):
            pass  # a device node keeps its mount's flags (it needs device access)
        else:
            _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | _locked_flags(target))
    elif mount.kind == "tmpfs":
        _make_mountpoint(target, directory=True)
        mode = "755" if mount.target == "/dev" else "1777"
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={mount.size},mode={mode}")
    elif mount.kind == "mask":
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
        elif os.path.exists(target):
            _mount("/dev/null", target, None, MS_BIND)
    elif mount.kind == "link":
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(mount.source, target)
    elif mount.kind == "file":
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as handle:
            handle.write(mount.text)
    elif mount.kind == "sysfs":
        os.makedirs(target, exist_ok=True)
        _mount("sysfs", target, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    elif mount.kind == "proc":
        os.makedirs(target, exist_ok=True)


def _build_root(root: str, view: list[Mount]) -> None:
    """An empty tmpfs at ``root`` with every mount of the view in it (the host's tree stays outside)."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for mount in view:
        _apply(root, mount)
    os.makedirs(root + "/.old-root")


def _enter_root(root: str, *, chroot_allowed: bool) -> bool:
    """In the sandbox's PID 1: a fresh /proc, then the view becomes the root and the host's tree is detached.
    Where pivot_root is refused (Docker's default seccomp profile refuses it even with SYS_ADMIN) and student
    code will run as a plain uid without capabilities (so it cannot chroot out), the view is moved over / and
    entered with chroot, the host's tree hidden beneath it; returns False then."""
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    number = PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(f"pivot_root: unknown system call number on {os.uname().machine}")
    pivoted = _libc.syscall(number, b".", b".old-root") == 0
    if not pivoted and (ctypes.get_errno() != errno.EPERM or not chroot_allowed):
        _check(-1, "pivot_root")
    if pivoted:
        os.chdir("/")
        _check(_libc.umount2(b"/.old-root", MNT_DETACH), "detach the host's tree")
    else:
        _mount(".", "/", None, MS_MOVE)
        os.chroot(".")
        os.chdir("/")
    os.rmdir("/.old-root")
    _mount("none", "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("none", "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


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


def _drop_privileges(plan: BootPlan, layers: list[str]) -> None:
    """As root: become the allocated sandbox uid. Otherwise: a nested user namespace in which student code
    is an ordinary uid with no capability over its mounts."""
    if os.getuid() == 0 and "user" not in layers and plan.uid is not None:
        os.setgroups([])
        os.setgid(plan.uid)
        os.setuid(plan.uid)
        layers.append(f"uid={plan.uid}")
    elif "user" in layers:
        _check(_libc.unshare(CLONE_NEWUSER), "nested user namespace")
        _map_ids(INNER_UID, 0, 0)
        layers.append(f"uid={INNER_UID}")


def _report(fd: int, message: dict) -> None:
    with os.fdopen(fd, "w") as pipe:
        pipe.write(json.dumps(message))


def _refusal(layers: list[str], reason: str) -> str | None:
    missing = [layer for layer in REQUIRED if layer not in layers]
    if os.getuid() != 0 and "user" not in layers:
        missing.append("user")
    if not missing:
        return None
    return f"the kernel refused {', '.join(missing)} isolation ({reason or 'not available'})"


def _private_ancestor(path: str) -> str | None:
    """The first folder on the way to ``path`` that other users cannot enter (a 0700 /root), if any."""
    current = "/"
    for part in os.path.realpath(path).strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def main() -> None:
    plan = BootPlan.from_json_dict(json.loads(sys.argv[1]))
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    layers, reason = _enter_namespaces()
    if "mount" in layers:
        try:
            _build_root(plan.stage_dir, from_json(plan.view))
            layers.append("file-view")
        except OSError as error:
            reason = f"file view: {error}"
    refusal = _refusal(layers, reason)
    if refusal and plan.require_isolation:
        _report(plan.report_fd, {"refused": refusal})
        os._exit(3)
    private = _private_ancestor(sys.executable) if "file-view" not in layers and plan.uid is not None else None
    if private:
        _report(plan.report_fd, {"refused": f"{refusal}; without a file view the sandbox uid must reach the "
                                              f"interpreter itself, but {private} is private to its owner"})
        os._exit(3)
    child = os.fork()
    if child:
        os.close(plan.channel_fd)
        _report(plan.report_fd, {"pid": child, "isolation": layers, "weaker": refusal or ""})
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    os.close(plan.report_fd)
    if "file-view" in layers:
        if not _enter_root(plan.stage_dir, chroot_allowed=os.getuid() == 0 and plan.uid is not None):
            layers.append("chroot")
        home = HOME
    else:
        home = plan.workdir
    _drop_privileges(plan, layers)
    _apply_limits(plan)
    layers.append("rlimits")
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    os.chdir(home)
    tmp = "/tmp" if "file-view" in layers else home
    os.environ.update(HOME=home, TMPDIR=tmp, KERAS_HOME=os.path.join(home, ".keras"),
                      DLGRADE_ISOLATION=",".join(layers), DLGRADE_LIMITS=json.dumps(plan.to_json_dict()["limits"]))
    command = engine_command("dlgrade.sandbox.server", str(plan.channel_fd))
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
