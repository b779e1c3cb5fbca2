"""The data-only protocol: round trips, and refusal of anything that is not capped, numeric data."""
import io
import json
import pickle
import socket
import struct
import time
import tracemalloc

import numpy as np
import pytest
from numpy.lib import format as npy_format

from dlgrade import protocol
from dlgrade.protocol import (Channel, ProtocolError, Ref, TransferBudget, TransferRefused, decode, encode, pack,
                              read_message)


def roundtrip(value):
    tree, arrays = encode(value)
    header, received = read_message(io.BytesIO(pack({"value": tree}, arrays)).read)
    return decode(header["value"], received)


def test_values_round_trip_with_dtype_and_shape():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float64(2.5), "z": np.array(3.0),
             "t": (1, "x", None), "l": [True, 1.5, float("nan"), float("inf")], "__odd__": 1}
    back = roundtrip(value)
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert back["s"].dtype == np.float64 and back["s"].shape == ()
    assert back["z"].shape == ()
    assert back["t"] == (1, "x", None)
    assert np.isnan(back["l"][2]) and back["l"][3] == float("inf")
    assert back["__odd__"] == 1


def test_non_data_needs_a_reference_maker():
    with pytest.raises(ProtocolError):
        encode(object())
    tree, _ = encode([object()], make_ref=lambda obj: Ref(7, "builtins.object", ""))
    assert decode(tree, []) == [Ref(7, "builtins.object", "")]


def test_object_arrays_and_pickles_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    header = json.dumps({"arrays": 1}).encode()
    message = struct.pack(">I", len(header)) + header + struct.pack(">Q", len(blob)) + blob
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(message).read)
    pickled = pickle.dumps({"x": 1})
    message = struct.pack(">I", len(pickled)) + pickled
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(message).read)


def test_sizes_are_checked_before_allocating(monkeypatch):
    message = struct.pack(">I", protocol.MAX_HEADER_BYTES + 1)
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(message).read)
    header = json.dumps({"arrays": 1}).encode()
    message = struct.pack(">I", len(header)) + header + struct.pack(">Q", protocol.MAX_ARRAY_BYTES + 1)
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(message).read)


def test_deep_nesting_is_refused():
    tree = []
    for _ in range(protocol.MAX_DEPTH + 5):
        tree = [tree]
    with pytest.raises(ProtocolError):
        decode(tree, [])


def test_channel_reports_a_closed_peer():
    ours, theirs = socket.socketpair()
    Channel(theirs).send({"op": "x"}, [np.ones(3)])
    header, arrays = Channel(ours).receive()
    assert header["op"] == "x" and arrays[0].tolist() == [1.0, 1.0, 1.0]
    theirs.close()
    with pytest.raises(protocol.ChannelClosed):
        Channel(ours).receive()


def test_a_peer_that_drips_bytes_cannot_stretch_the_deadline():
    ours, theirs = socket.socketpair()
    theirs.sendall(b"\x00\x00")  # half of a length prefix, then nothing
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        Channel(ours).receive(deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 2


def reader_of(message: bytes, requested: list[int]):
    """``read_exact`` over ``message`` that records every size asked for."""
    stream = io.BytesIO(message)

    def read(n):
        requested.append(n)
        return stream.read(n)
    return read


def test_a_transfer_budget_refuses_a_message_before_reading_its_payload():
    budget = TransferBudget(reply_bytes=1 << 20, total_bytes=3 << 20)
    requested = []
    with pytest.raises(TransferRefused, match="more than 1 MiB to the grader in one answer"):
        read_message(reader_of(pack({}, [np.zeros(200_000)]), requested), budget=budget)
    assert max(requested) < 1 << 10, "the payload was read before the budget was checked"
    for _ in range(3):
        read_message(reader_of(pack({}, [np.zeros(120_000)]), []), budget=budget)
    assert budget.exhausted is None
    with pytest.raises(TransferRefused, match="more than 3 MiB to the grader in total"):
        read_message(reader_of(pack({}, [np.zeros(120_000)]), []), budget=budget)
    with pytest.raises(TransferRefused, match="in total"):
        read_message(reader_of(pack({"small": True}, []), []), budget=budget)
    assert "in total" in budget.exhausted


def test_an_array_claiming_more_than_it_holds_is_refused_before_allocating():
    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 28,)})
    blob = header.getvalue() + np.zeros(4).tobytes()  # 2 GiB declared, 32 bytes sent
    head = json.dumps({"arrays": 1}).encode()
    message = struct.pack(">I", len(head)) + head + struct.pack(">Q", len(blob)) + blob
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="does not hold the shape it declares"):
            read_message(io.BytesIO(message).read)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated for a 32-byte payload"


def test_lone_surrogates_from_the_peer_become_replacement_characters():
    head = b'{"error": {"message": "bad \\ud800 value", "\\udfff": ["\\ud83d"]}}'
    header, _ = read_message(io.BytesIO(struct.pack(">I", len(head)) + head).read)
    assert header["error"] == {"message": "bad \ufffd value", "\ufffd": ["\ufffd"]}
    header, _ = read_message(io.BytesIO(pack({"emoji": "\U0001f600"}, [])).read)
    assert header["emoji"] == "\U0001f600"  # a surrogate pair in JSON is one character, kept
