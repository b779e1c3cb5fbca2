"""The grade table prints check names and messages as text: brackets are not taken for rich markup."""
import io

from rich.console import Console

from dlgrade.cli import print_results


def test_brackets_in_names_and_messages_are_printed_as_written():
    results = {"score": 0, "max_score": 1, "execution_time": 1.0, "output": "",
               "tests": [{"name": "encoder returns [z_mean] then [z_log_var]", "visibility": "visible", "score": 0,
                          "max_score": 1, "status": "failed", "output": "got [/red] and [bold]"}]}
    console = Console(file=io.StringIO(), width=200)
    print_results(results, console=console, title="t")
    printed = console.file.getvalue()
    table_row = next(line for line in printed.splitlines() if line.startswith("│ encoder returns"))
    assert "[z_mean] then [z_log_var]" in table_row, table_row
    assert "got [/red] and [bold]" in printed


def test_control_characters_in_student_text_are_printed_escaped():
    fake_total = "\x1b[2J\x1b[Htotal 16/16\r\x9b1A"
    results = {"score": 0, "max_score": 16, "execution_time": 1.0,
               "output": f"graded cell 'neuron' raised {fake_total}",
               "tests": [{"name": f"check {fake_total}", "visibility": "visible", "score": 0, "max_score": 16,
                          "status": "failed", "output": f"ValueError: {fake_total}\n\tsecond line"}]}
    console = Console(file=io.StringIO(), width=200)
    print_results(results, console=console, title=f"ch04_xor: {fake_total}.ipynb")
    printed = console.file.getvalue()
    assert not any(c in printed for c in "\x1b\r\x9b"), repr(printed)
    assert "ValueError: \\x1b[2J\\x1b[Htotal 16/16\\x0d\\x9b1A\n" in printed and "second line" in printed
    assert printed.count("\\x1b[2J") == 5  # title, table row, the failed check's name and message, notice
