"""A check that fails because the student's function is still the template's stub (``raise NotImplementedError()``)
says "not attempted" and which function, without a traceback, wherever the message is shown."""
import io
import json

from rich.console import Console

from dlgrade.cli import print_results
from dlgrade.exercise import load_exercise
from dlgrade.sandbox.spawn import StudentError, cell_failure, not_attempted
from dlgrade.verify import grade_in_subprocess

STUB = {"type": "NotImplementedError", "message": "",
        "traceback": '  File "<cell xor_training>", line 9, in train_xor\n    loss = xor_loss(params, X, y)\n'
                     '  File "<cell xor_model>", line 25, in xor_loss\n    raise NotImplementedError()\n'}


def test_the_stub_names_the_innermost_function_of_the_students_code():
    error = StudentError("`train_xor`(...)", STUB)
    assert str(error) == "not attempted: xor_loss still raises NotImplementedError (the template's stub)"
    assert not_attempted(dict(STUB, traceback=""), what="`train_xor`(...)") == (
        "not attempted: train_xor still raises NotImplementedError (the template's stub)")
    assert cell_failure({"id": "xor_model", "ok": False, "error": STUB}) == (
        "graded cell 'xor_model': not attempted: xor_loss still raises NotImplementedError (the template's stub)")


def test_other_errors_keep_their_type_message_and_traceback():
    library = dict(STUB, message="Layer MyLayer does not have a `call()` method implemented.")
    assert not_attempted(library) is None
    assert "raised NotImplementedError: Layer MyLayer" in str(StudentError("`model`(...)", library))
    assert "raised ValueError: bad\n" in str(StudentError("`f`(...)", dict(STUB, type="ValueError", message="bad")))


def test_the_untouched_template_is_not_attempted_everywhere(tmp_path):
    exercise = load_exercise("ch04_xor")
    results = grade_in_subprocess(notebook=exercise.template, exercise_id="ch04_xor", out_dir=tmp_path)
    assert results["score"] == 0 and results["tests"]
    for test in results["tests"]:
        assert test["status"] == "failed" and test["extra_data"]["outcome"] == "failed"
        assert test["output"].startswith("not attempted: ") and test["output"].endswith("(the template's stub)"), test
        assert "File " not in test["output"] and "\n" not in test["output"]
    assert any(t["output"].startswith("not attempted: xor_gradients still raises") for t in results["tests"])
    page = (tmp_path / "feedback.html").read_text()
    assert "not attempted: xor_loss still raises NotImplementedError (the template&#x27;s stub)" in page
    assert "&lt;cell" not in page and "Traceback" not in page
    console = Console(file=io.StringIO(), width=200)
    print_results(json.loads((tmp_path / "results.json").read_text()), console=console, title="t")
    printed = console.file.getvalue()
    assert "not attempted: train_neuron still raises NotImplementedError" in printed and "<cell" not in printed
