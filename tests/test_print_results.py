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
