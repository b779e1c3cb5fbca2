"""Data-only framing between the sandbox and the trusted side.

A message is a 4-byte big-endian header length, a UTF-8 JSON header, then the arrays the header
lists, each as ``.npy`` bytes (``allow_pickle=False``). Values are JSON trees in which arrays, tuples,
non-finite floats and remote references are tagged dicts. Nothing is ever unpickled or evaluated. Every
declared size is checked, against fixed caps and a reader's :class:`TransferBudget`, before it is allocated,
and every string read is made writable (lone surrogates replaced).
"""
from __future__ import annotations

import io
import json
import math
import struct
import time
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy_format

from dlgrade.text import clean_tree, mib

MAX_HEADER_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_MESSAGE_BYTES = 512 << 20
MAX_DEPTH = 64

_LEN = struct.Struct(">I")
_ARRAY_LEN = struct.Struct(">Q")


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed, size-capped message."""


class ChannelClosed(ProtocolError):
    """The peer closed the channel (for a sandbox: the process ended)."""


class TransferRefused(ProtocolError):
    """A message would pass the reader's :class:`TransferBudget`; the message is for students."""


class TransferBudget:
    """What a reader accepts from an untrusted peer: ``reply_bytes`` in one message, ``total_bytes`` in all.

    The last refusal stays in ``refusal`` for the caller to report; once the total is refused, ``exhausted``
    holds that refusal and every later message is refused too.
    """

    def __init__(self, *, reply_bytes: int, total_bytes: int):
        self.reply_bytes, self.total_bytes = reply_bytes, total_bytes
        self.received = 0
        self.refusal: str | None = None
        self.exhausted: str | None = None

    def check(self, message_bytes: int) -> None:
        """Refuse a message whose declared parts so far add up to ``message_bytes``."""
        if message_bytes > self.reply_bytes:
            self._refuse(f"your code returned more than {mib(self.reply_bytes)} to the grader in one answer")
        if self.exhausted or self.received + message_bytes > self.total_bytes:
            self._refuse(f"your code returned more than {mib(self.total_bytes)} to the grader in total", final=True)

    def spend(self, message_bytes: int) -> None:
        self.received += message_bytes

    def _refuse(self, reason: str, *, final: bool = False):
        self.refusal = (f"{reason}, more than any check needs; return only the values the check asks for "
                        "(not whole datasets, models or endless sequences)")
        if final:
            self.exhausted = self.refusal
        raise TransferRefused(self.refusal)


@dataclass(frozen=True)
class Ref:
    """A handle to an object that lives in the sandbox; only its id and a short description cross."""

    id: int
    type_name: str
    description: str


def encode(value, *, make_ref=None) -> tuple[dict, list[np.ndarray]]:
    """Turn a value into (json_tree, arrays). ``make_ref(obj)`` handles anything that is not data."""
    arrays: list[np.ndarray] = []

    def walk(v, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and type(v) is int:
            return v if abs(v) < 2**63 else {"__float__": float(v)}
        if isinstance(v, float) and type(v) is float:
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.ndarray) and type(v) is np.ndarray and v.dtype.kind in "biufc":
            arrays.append(v)
            return {"__ndarray__": len(arrays) - 1}
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            arrays.append(np.asarray(v))
            return {"__ndarray__": len(arrays) - 1}
        if isinstance(v, Ref):
            return {"__ref__": v.id, "type": v.type_name, "description": v.description}
        if type(v) is tuple:
            return {"__tuple__": [walk(x, depth + 1) for x in v]}
        if type(v) is list:
            return [walk(x, depth + 1) for x in v]
        if type(v) is dict and all(type(k) is str for k in v):
            if any(k.startswith("__") and k.endswith("__") for k in v):
                return {"__dict__": [[k, walk(x, depth + 1)] for k, x in v.items()]}
            return {k: walk(x, depth + 1) for k, x in v.items()}
        if make_ref is None:
            raise ProtocolError(f"cannot send a value of type {type(v).__name__}")
        return walk(make_ref(v), depth + 1)

    return walk(value, 0), arrays


def decode(tree, arrays: list[np.ndarray]):
    """Inverse of :func:`encode`; references come back as :class:`Ref` values."""

    def walk(v, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [walk(x, depth + 1) for x in v]
        if not isinstance(v, dict):
            raise ProtocolError(f"unexpected JSON value {type(v).__name__}")
        if "__ndarray__" in v:
            index = v["__ndarray__"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ProtocolError("array index out of range")
            return arrays[index]
        if "__float__" in v:
            text = v["__float__"]
            if isinstance(text, float):
                return text
            if text not in ("nan", "inf", "-inf"):
                raise ProtocolError("bad float tag")
            return float(text)
        if "__tuple__" in v:
            return tuple(walk(x, depth + 1) for x in _list(v["__tuple__"]))
        if "__dict__" in v:
            pairs = _list(v["__dict__"])
            return {str(p[0]): walk(p[1], depth + 1) for p in pairs if isinstance(p, list) and len(p) == 2}
        if "__ref__" in v:
            if not isinstance(v["__ref__"], int):
                raise ProtocolError("bad reference id")
            return Ref(v["__ref__"], str(v.get("type", "?"))[:200], str(v.get("description", ""))[:500])
        return {str(k): walk(x, depth + 1) for k, x in v.items()}

    return walk(tree, 0)


def _list(v):
    if not isinstance(v, list):
        raise ProtocolError("expected a list")
    return v


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array if array.flags.c_contiguous else array.copy(order="C"), allow_pickle=False)
    return buffer.getvalue()


def pack(header: dict, arrays: list[np.ndarray]) -> bytes:
    """Frame a header and its arrays into one message."""
    header = dict(header, arrays=len(arrays))
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {len(head)} bytes exceeds {MAX_HEADER_BYTES}")
    parts = [_LEN.pack(len(head)), head]
    total = _LEN.size + len(head)
    for array in arrays:
        blob = _npy_bytes(array)
        total += _ARRAY_LEN.size + len(blob)
        if len(blob) > MAX_ARRAY_BYTES or total > MAX_MESSAGE_BYTES:
            raise ProtocolError("array payload exceeds the size cap")
        parts += [_ARRAY_LEN.pack(len(blob)), blob]
    return b"".join(parts)


def read_message(read_exact, *, budget: TransferBudget | None = None) -> tuple[dict, list[np.ndarray]]:
    """Read one message with ``read_exact(n) -> bytes``; every declared size is checked before allocating."""
    (head_len,) = _LEN.unpack(read_exact(_LEN.size))
    if head_len > MAX_HEADER_BYTES:
        raise ProtocolError(f"header length {head_len} exceeds the cap")
    total = _LEN.size + head_len
    if budget is not None:
        budget.check(total)
    try:
        header = clean_tree(json.loads(read_exact(head_len).decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    count = header.get("arrays", 0)
    if not isinstance(count, int) or not 0 <= count <= 10_000:
        raise ProtocolError("bad array count")
    arrays = []
    for _ in range(count):
        (size,) = _ARRAY_LEN.unpack(read_exact(_ARRAY_LEN.size))
        total += _ARRAY_LEN.size + size
        if size > MAX_ARRAY_BYTES or total > MAX_MESSAGE_BYTES:
            raise ProtocolError("array payload exceeds the size cap")
        if budget is not None:
            budget.check(total)
        arrays.append(_load_npy(read_exact(size)))
    if budget is not None:
        budget.spend(total)
    return header, arrays


def _load_npy(blob: bytes) -> np.ndarray:
    """A numeric ``.npy`` payload whose header declares exactly the bytes that follow it (numpy would
    allocate the declared shape before finding out that the data is missing)."""
    stream = io.BytesIO(blob)
    try:
        version = npy_format.read_magic(stream)
        read_header = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}[version]
        shape, _, dtype = read_header(stream)
    except Exception as error:  # a malformed .npy must not escape as anything but a protocol error
        raise ProtocolError(f"bad array payload: {error}") from None
    if dtype.kind not in "biufc":
        raise ProtocolError("only numeric arrays may cross the boundary")
    if math.prod(shape) * dtype.itemsize != len(blob) - stream.tell():
        raise ProtocolError("array payload does not hold the shape it declares")
    stream.seek(0)
    return np.load(stream, allow_pickle=False)


class Channel:
    """One end of a connected stream socket carrying framed messages.

    ``deadline`` (a ``time.monotonic()`` value) bounds a whole send or receive, so a peer that drips
    bytes cannot stretch a wait; past it, ``TimeoutError`` is raised. ``budget``, when set, bounds what
    ``receive`` accepts from the peer.
    """

    def __init__(self, sock, *, budget: TransferBudget | None = None):
        self.sock, self.budget = sock, budget

    def send(self, header: dict, arrays: list[np.ndarray] = (), *, deadline: float | None = None) -> None:
        self.sock.settimeout(None if deadline is None else max(deadline - time.monotonic(), 0.001))
        self.sock.sendall(pack(header, list(arrays)))

    def receive(self, *, deadline: float | None = None) -> tuple[dict, list[np.ndarray]]:
        return read_message(lambda n: self._read_exact(n, deadline), budget=self.budget)

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        chunks, remaining = [], n
        while remaining:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("deadline passed while reading a message")
                self.sock.settimeout(left)
            chunk = self.sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
