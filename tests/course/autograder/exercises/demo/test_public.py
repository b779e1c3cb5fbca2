import pytest


@pytest.mark.points(3)
def test_add(student):
    """add works on integers"""
    assert student.add(2, 3) == 5, f"add(2, 3) returned {student.add(2, 3)!r}, expected 5"


def test_partial(student, credit):
    """half credit when the answer is close"""
    value = student.add(0.5, 0.25)
    assert abs(value - 0.75) < 1.0, "far off"
    if value != 0.75:
        credit.give(0.5, f"add(0.5, 0.25) gave {value}, close to 0.75")


@pytest.mark.visibility("hidden")
def test_secret_source_stays_hidden(student):
    """the message is the test's own, not its source"""
    secret_expected = 41
    assert student.add(40, 2) == secret_expected, "add(40, 2) is not what this check wanted"


def test_broken_test_code(student):
    """a bug in test code is reported as such"""
    student.add(1, 1) / 0


def test_matplotlib_magic_was_skipped(student):
    """graded cells with IPython syntax still run"""
    assert student.after_magics == "ran", "the graded cell did not run to its end"
