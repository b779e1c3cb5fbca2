"""Read TensorBoard event files as data on the trusted side: TFRecord framing parsed here, each record an
``Event`` protocol buffer (a data format; nothing in it is executed)."""
from __future__ import annotations

import struct


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


def read_scalars(files: dict[str, bytes]) -> dict[str, dict[int, float]]:
    """Every scalar in the event files given as {name: bytes}: {tag: {step: value}}."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    scalars: dict[str, dict[int, float]] = {}
    for name, data in sorted(files.items()):
        if "tfevents" not in name:
            continue
        for record in _records(data):
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tf.make_ndarray(value.tensor)
                    if array.size != 1 or array.dtype.kind not in "fiu":
                        continue
                    number = float(array.reshape(-1)[0])
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                scalars.setdefault(value.tag, {})[int(event.step)] = number
    return scalars
