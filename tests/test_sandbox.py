"""The engine without an exercise: a sandbox session driven directly through the proxy."""
import os
import time

import numpy as np
import pytest

from dlgrade.proxy import Remote, Student, StudentMissing, StudentSession
from dlgrade.sandbox.limits import SandboxLimits
from dlgrade.sandbox.spawn import SandboxError, SandboxTimeout, StudentError

CELLS = [
    {"id": "setup", "role": "setup", "source": "import os, socket, time\nimport numpy as np\nimport keras\n"},
    {"id": "model", "role": "graded", "source": '''
def build_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])


class Counter:
    def __init__(self, start):
        self.total = start

    def add(self, amount):
        self.total += amount
        return self.total


def fails():
    raise ValueError("bad input shape")


def identity():
    return os.getuid(), os.getpid()


def read(path):
    with open(path) as handle:
        return handle.read()


def connect():
    socket.create_connection(("93.184.216.34", 80), timeout=3)


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def big(n):
    return list(range(n))
'''},
    {"id": "broken", "role": "graded", "source": "def half_defined(:\n    pass\n"},
]


@pytest.fixture(scope="module")
def hidden_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hidden")
    (folder / "secret.txt").write_text("the answer")
    os.chmod(folder, 0o755)
    os.chmod(folder / "secret.txt", 0o644)
    return folder


@pytest.fixture(scope="module")
def session(tmp_path_factory, hidden_dir):
    submission = tmp_path_factory.mktemp("submission")
    (submission / "notes.txt").write_text("student file")
    live = StudentSession(submission=submission, cells=CELLS,
                          limits=SandboxLimits(call_timeout_s=20, max_restarts=2))
    live.start()
    yield live
    live.close()


@pytest.fixture(scope="module")
def student(session):
    return Student(session)


def test_keras_model_through_the_proxy(student):
    model = student.build_model()
    assert isinstance(model, Remote) and "Sequential" in model.type_name
    summary = model.describe()
    assert [layer["class_name"] for layer in summary["layers"]] == ["Dense", "Dense"]
    assert summary["layers"][0]["config"]["units"] == 4 and summary["layers"][0]["output_shape"] == [None, 4]
    assert summary["params"] == 3 * 4 + 4 + 4 + 1
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 1), (1,)]
    model.set_weights([np.zeros_like(w) for w in weights])
    assert np.array_equal(model.predict(np.ones((2, 3), np.float32), verbose=0), np.zeros((2, 1), np.float32))
    assert model == model and model != student.build_model()


def test_objects_and_methods(student):
    counter = student.Counter(5)
    assert counter.add(2) == 7 and counter.total == 7


def test_student_exceptions_and_missing_names(student):
    with pytest.raises(StudentError, match="raised ValueError: bad input shape") as info:
        student.fails()
    assert "<cell model>" in str(info.value)
    with pytest.raises(StudentMissing, match="Graded cell 'broken' raised SyntaxError"):
        student.half_defined
    assert [c["ok"] for c in student.cell_reports] == [True, True, False]


@pytest.mark.skipif(os.getuid() != 0, reason="namespaces and uid drop are applied when the grader is root")
def test_isolation_layers(session, student, hidden_dir):
    assert {"network", "mount", "pid", "rlimits"} <= set(session.isolation.split(","))
    uid, pid = student.identity()
    assert uid != 0 and pid == 1
    with pytest.raises(StudentError, match="(Permission|No such file)"):
        student.read(str(hidden_dir / "secret.txt"))
    with pytest.raises(StudentError, match="OSError|unreachable"):
        student.connect()
    assert student.read("notes.txt") == "student file"


def test_a_hung_call_times_out_and_the_next_check_gets_a_fresh_sandbox(session, student):
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match="did not finish within 20 s"):
        student.sleep(60)
    assert time.monotonic() - started < 60  # stopped before the 60 s sleep would have ended, whatever the load
    assert student.sleep(0) == 0
    assert session.restarts == 1


def test_refuses_to_send_non_data(student):
    with pytest.raises(Exception, match="only send data"):
        student.Counter(object())


def test_a_reply_too_large_to_send_is_a_clear_student_error(student):
    with pytest.raises(StudentError, match="cannot be sent to the grader"):
        student.big(2_000_000)
    assert student.big(3) == [0, 1, 2]
