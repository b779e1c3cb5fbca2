"""The loop inside the sandbox: run the graded cells, then answer calls from the trusted side.

Everything sent back is data (see ``dlgrade.protocol``); objects that are not data stay here and are
named by a reference id. Student output goes to a capped log, never to the channel.
"""
from __future__ import annotations

import builtins
import json
import linecache
import os
import socket
import stat
import sys
import traceback

import numpy as np

from dlgrade.protocol import Channel, ProtocolError, Ref, decode, encode, pack
from dlgrade.sandbox.cells import IPythonStub, compile_cell
from dlgrade.sandbox.describe import describe_model
from dlgrade.text import mib

MAX_TEXT = 4000


class CappedWriter:
    """A text stream that keeps at most ``budget`` characters and counts the rest."""

    def __init__(self, stream, budget: int):
        self.stream, self.budget, self.dropped = stream, budget, 0

    def write(self, text) -> int:
        text = str(text)
        kept = text[: max(self.budget, 0)]
        self.budget -= len(kept)
        self.dropped += len(text) - len(kept)
        if kept:
            try:
                self.stream.write(kept)
                self.stream.flush()
            except OSError:
                self.budget = 0
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _text(value) -> str:
    try:
        return str(value)[:MAX_TEXT]
    except BaseException:
        return "<unprintable>"


FILES_MAX_BYTES = 16 << 20


def read_files(folder: str, *, max_bytes: int) -> dict:
    """Every regular file under ``folder`` (relative to the working directory) as uint8 arrays by relative
    path; links are skipped, so only what this process can see and owns the name of is sent."""
    root = os.path.realpath(folder)
    if os.path.isabs(folder) or not root.startswith(os.path.realpath(".") + os.sep):
        raise ValueError(f"{folder!r} is not a folder inside the working directory")
    found, total = {}, 0
    for directory, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not os.path.islink(os.path.join(directory, d)))
        for name in sorted(names):
            path = os.path.join(directory, name)
            try:
                descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:  # a link (ELOOP), or gone meanwhile
                continue
            with os.fdopen(descriptor, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    continue
                data = handle.read(max_bytes - total + 1)
            total += len(data)
            if total > max_bytes:
                raise ValueError(f"the files under {folder!r} hold more than {max_bytes >> 20} MiB")
            found[os.path.relpath(path, root)] = np.frombuffer(data, dtype=np.uint8).copy()
    return found


def error_report(error: BaseException) -> dict:
    """Type, message and the student's own frames of a traceback, as plain text."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<")]
    trace = "".join(traceback.format_list(frames[-8:]))
    kind = type(error).__name__
    message = _text(error)
    if isinstance(error, SystemExit):
        message = f"your code called sys.exit({message}) or exit(); graded code must return instead"
    return {"type": kind, "message": message, "traceback": trace[-MAX_TEXT:]}


class Server:
    """Holds the student namespace and the table of objects the trusted side refers to."""

    def __init__(self, channel: Channel, *, seed: int, reply_bytes: int):
        self.channel = channel
        self.seed, self.reply_bytes = seed, reply_bytes
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.namespace["get_ipython"] = lambda: IPythonStub(self.namespace)
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.pid = os.getpid()
        self.original_builtins = dict(builtins.__dict__)
        import keras
        import tensorflow as tf

        self.tf, self.keras = tf, keras
        tf.config.experimental.enable_op_determinism()
        # Full float32 matmuls on GPUs too (TF32 is TensorFlow's default on Ampere and later), so values
        # compared with the reference's at 1e-5 mean the same on every machine.
        tf.config.experimental.enable_tensor_float_32_execution(False)
        self.reseed()

    def reseed(self) -> None:
        self.keras.utils.set_random_seed(self.seed)

    def leave_if_forked(self) -> None:
        """A process forked by student code must never speak on the channel: it ends here, silently.

        Also puts back any builtin that student code replaced, so this loop keeps working.
        """
        if os.getpid() != self.pid:
            os._exit(0)
        builtins.__dict__.update(self.original_builtins)

    def run_cells(self, cells: list[dict]) -> list[dict]:
        reports = []
        for cell in cells:
            filename = f"<cell {cell['id']}>"
            self.channel.send({"event": "cell", "id": cell["id"]})
            try:
                code, source = compile_cell(cell["source"], filename=filename)
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(code, self.namespace)
                reports.append({"id": cell["id"], "ok": True})
            except BaseException as error:  # noqa: B036 - SystemExit from a cell is the student's error
                reports.append({"id": cell["id"], "ok": False, "error": error_report(error)})
            self.leave_if_forked()
        return reports

    def to_wire(self, value):
        """Data stays data (tensors become arrays); anything else becomes a reference."""
        tf = self.tf
        if isinstance(value, (tf.Tensor, tf.Variable, self.keras.Variable)):
            try:
                return np.asarray(value.numpy())
            except Exception:
                pass
        if isinstance(value, np.ndarray) and value.dtype.kind in "USO":
            try:
                return [v.decode() if isinstance(v, bytes) else str(v) for v in value.ravel().tolist()]
            except Exception:
                pass
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = value
        kind = type(value)
        return Ref(handle, f"{kind.__module__}.{kind.__qualname__}"[:200], _text(getattr(value, "name", ""))[:200])

    def from_wire(self, value):
        if isinstance(value, Ref):
            return self.handles[value.id]
        if isinstance(value, list):
            return [self.from_wire(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.from_wire(v) for v in value)
        if isinstance(value, dict):
            return {k: self.from_wire(v) for k, v in value.items()}
        return value

    def answer(self, header: dict, arrays: list) -> object:
        op = header.get("op")
        if op == "get":
            name = header["name"]
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        target = self.handles[header["target"]] if "target" in header else None
        if op == "call":
            args = self.from_wire(decode(header["args"], arrays))
            kwargs = self.from_wire(decode(header["kwargs"], arrays))
            self.reseed()
            return target(*args, **kwargs)
        if op == "getattr":
            return getattr(target, header["name"])
        if op == "getitem":
            return target[self.from_wire(decode(header["key"], arrays))]
        if op == "describe":
            return describe_model(target)
        if op == "files":
            return read_files(header["folder"], max_bytes=FILES_MAX_BYTES)
        if op == "release":
            for handle in header["ids"]:
                self.handles.pop(handle, None)
            return None
        raise ProtocolError(f"unknown operation {op!r}")

    def serve(self) -> None:
        while True:
            header, arrays = self.channel.receive()
            if header.get("op") == "exit":
                return
            seq = header.get("seq")
            try:
                value = self.answer(header, arrays)
                self.leave_if_forked()
                tree, out_arrays = encode(value, make_ref=self.to_wire)
                message = pack({"reply": True, "seq": seq, "ok": True, "value": tree}, out_arrays)
                if len(message) > self.reply_bytes:
                    raise ProtocolError(f"it takes {mib(len(message))}, and the grader accepts at most "
                                        f"{mib(self.reply_bytes)} in one answer")
            except BaseException as error:  # noqa: B036 - every student failure becomes a reply
                self.leave_if_forked()
                report = error_report(error)
                if isinstance(error, ProtocolError):
                    report["message"] = f"the value your code returned cannot be sent to the grader: {report['message']}"
                message = pack({"reply": True, "seq": seq, "ok": False, "error": report}, [])
            self.channel.sock.sendall(message)


def main() -> None:
    channel = Channel(socket.socket(fileno=int(sys.argv[1])))
    limits = json.loads(os.environ["DLGRADE_LIMITS"])
    sys.stdout = CappedWriter(sys.__stdout__, limits["output_bytes"])
    sys.stderr = CappedWriter(sys.__stderr__, limits["output_bytes"])
    header, _ = channel.receive()
    server = Server(channel, seed=limits["seed"], reply_bytes=limits["reply_bytes"])
    reports = server.run_cells(header["cells"])
    channel.send({"reply": True, "ok": True, "value": {
        "cells": reports,
        "isolation": os.environ.get("DLGRADE_ISOLATION", ""),
        "tensorflow": server.tf.__version__,
    }})
    server.serve()


if __name__ == "__main__":
    main()
