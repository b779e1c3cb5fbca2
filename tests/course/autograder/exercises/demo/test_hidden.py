def test_hidden_default_visibility(student):
    """hidden tests take the exercise's visibility"""
    assert student.add(-1, 1) == 0, "add(-1, 1) should be 0"
