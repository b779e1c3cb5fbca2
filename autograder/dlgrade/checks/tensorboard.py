"""Read TensorBoard event files as data on the trusted side: TFRecord framing parsed here, each record an
``Event`` protocol buffer (a data format; nothing in it is executed). Only scalars are decoded: a tensor's
declared shape and type are checked before its one value is read, so a record that claims a huge tensor
costs nothing, and the number of records and values read is capped."""
from __future__ import annotations

import struct

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2, types_pb2

MAX_RECORDS = 100_000
MAX_VALUES = 100_000

# the numeric types a scalar may have: the repeated field that holds its value, and its bytes in tensor_content
_NUMERIC = {
    types_pb2.DT_FLOAT: ("float_val", "<f4"), types_pb2.DT_DOUBLE: ("double_val", "<f8"),
    types_pb2.DT_HALF: ("half_val", "<f2"), types_pb2.DT_INT8: ("int_val", "i1"),
    types_pb2.DT_INT16: ("int_val", "<i2"), types_pb2.DT_INT32: ("int_val", "<i4"),
    types_pb2.DT_INT64: ("int64_val", "<i8"), types_pb2.DT_UINT8: ("int_val", "u1"),
    types_pb2.DT_UINT16: ("int_val", "<u2"), types_pb2.DT_UINT32: ("uint32_val", "<u4"),
    types_pb2.DT_UINT64: ("uint64_val", "<u8"),
}


def _records(data: bytes):
    """TFRecord framing: uint64 length, uint32 CRC of the length, payload, uint32 CRC of the payload."""
    offset = 0
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        start, end = offset + 12, offset + 12 + length
        if end + 4 > len(data):
            return  # a truncated last record (a writer that was not flushed)
        yield data[start:end]
        offset = end + 4


def _scalar(tensor) -> float | None:
    """The one number a tensor holds, or None unless it declares exactly one element of a numeric type."""
    if tensor.dtype not in _NUMERIC or tensor.tensor_shape.unknown_rank:
        return None
    if any(dim.size != 1 for dim in tensor.tensor_shape.dim):
        return None
    field, dtype = _NUMERIC[tensor.dtype]
    if tensor.tensor_content:
        if len(tensor.tensor_content) != np.dtype(dtype).itemsize:
            return None
        return float(np.frombuffer(tensor.tensor_content, dtype=dtype)[0])
    values = getattr(tensor, field)
    if len(values) != 1:
        return None
    if field == "half_val":  # float16 bits kept in an int32
        return float(np.array([values[0] & 0xFFFF], dtype=np.uint16).view(np.float16)[0])
    return float(values[0])


def read_scalars(files: dict[str, bytes]) -> dict[str, dict[int, float]]:
    """Every scalar in the event files given as {name: bytes}: {tag: {step: value}}."""
    scalars: dict[str, dict[int, float]] = {}
    records = values = 0
    for name, data in sorted(files.items()):
        if "tfevents" not in name:
            continue
        for record in _records(data):
            records += 1
            if records > MAX_RECORDS:
                raise AssertionError(f"the event files hold more than {MAX_RECORDS:,} records; "
                                     "log one value per tag and epoch")
            try:
                event = event_pb2.Event.FromString(record)
            except DecodeError:
                continue  # not an event (a torn write): the other records still count
            for value in event.summary.value:
                values += 1
                if values > MAX_VALUES:
                    raise AssertionError(f"the event files hold more than {MAX_VALUES:,} values; "
                                         "log one value per tag and epoch")
                if value.HasField("tensor"):
                    number = _scalar(value.tensor)
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    number = None
                if number is not None:
                    scalars.setdefault(value.tag, {})[int(event.step)] = number
    return scalars


def logged_per_epoch(scalars: dict[str, dict[int, float]], *, names: tuple[str, ...], hint: tuple[str, ...],
                     epochs: int, words: str, first_step: int | None = None) -> tuple[str, list[float]]:
    """The values of the scalar the exercise names, one per epoch, in step order.

    The tag is found by its exact name first (``names``, e.g. ``("train_loss",)``), otherwise as the only tag
    that holds every word of ``hint`` (e.g. ``("train", "loss")``). Its steps must be ``epochs`` consecutive
    integers, starting anywhere unless the template states the numbering (``first_step``)."""
    tag = next((name for name in names if name in scalars), None)
    if tag is None:
        candidates = [t for t in sorted(scalars) if all(word in t.lower() for word in hint)]
        if len(candidates) != 1:
            found = ", ".join(repr(t) for t in sorted(scalars)) or "none"
            raise AssertionError(f"expected {words} logged as {names[0]!r}; found the tags {found}")
        tag = candidates[0]
    steps = sorted(scalars[tag])
    start = (steps[0] if steps else 0) if first_step is None else first_step
    if steps != list(range(start, start + epochs)):
        numbering = "consecutive steps" if first_step is None else f"steps {first_step}..{first_step + epochs - 1}"
        raise AssertionError(f"{tag!r} was logged at steps {steps[:20]}; expected one value per epoch "
                             f"({epochs} {numbering})")
    return tag, [scalars[tag][step] for step in steps]
