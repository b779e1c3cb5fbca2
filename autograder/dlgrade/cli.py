"""The ``dlgrade`` command: a thin layer over keyword-only functions."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dlgrade import __version__


def print_results(results: dict, *, console: Console, title: str) -> None:
    """A per-test table with the total, as course staff read it."""
    table = Table(title=title, show_lines=False)
    for column in ("test", "visibility", "score", "status"):
        table.add_column(column)
    for test in results["tests"]:
        style = "green" if test["status"] == "passed" else "red"
        table.add_row(test["name"], test["visibility"], f"{test['score']:g}/{test['max_score']:g}",
                      f"[{style}]{test['status']}[/{style}]")
    console.print(table)
    for test in results["tests"]:
        if test["status"] != "passed" and test["output"]:
            console.print(f"{test['name']}:", style="bold", markup=False, highlight=False)
            console.print(f"  {test['output']}", markup=False, highlight=False)
    if results["output"]:
        console.print(results["output"], markup=False, highlight=False)
    console.print(f"[bold]total {results['score']:g}/{results['max_score']:g}[/bold] "
                  f"({results['execution_time']:.1f} s)")


@click.group()
@click.version_option(__version__)
def main() -> None:
    """dlgrade: grade deep-learning notebooks safely."""


@main.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option("--exercise", "exercise_id", required=True, help="exercise id, e.g. ch04_xor")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True)
@click.option("--public-only", is_flag=True, help="run only the public tests (what students see)")
@click.option("--call-timeout", type=float, help="seconds per call into student code (default: the exercise's)")
@click.option("--startup-timeout", type=float, help="seconds for the graded cells to run (default: the exercise's)")
def grade(submission: Path, exercise_id: str, out_dir: Path, public_only: bool, call_timeout: float | None,
          startup_timeout: float | None) -> None:
    """Grade one SUBMISSION (notebook or folder) and write OUT/results.json."""
    from dlgrade.grade import grade_submission

    overrides = {k: v for k, v in (("call_timeout_s", call_timeout), ("startup_timeout_s", startup_timeout)) if v}
    try:
        results = grade_submission(submission=submission, exercise_id=exercise_id, out_dir=out_dir,
                                   include_hidden=not public_only, limit_overrides=overrides)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    print_results(results, console=Console(), title=f"{exercise_id}: {submission}")
    sys.exit(0)


@main.command()
@click.argument("exercise_ids", nargs=-1)
@click.option("--check", is_flag=True, help="only report templates that differ from what would be generated")
def assign(exercise_ids: tuple[str, ...], check: bool) -> None:
    """Generate assignments/<id>/ templates from solutions/<id>/ (default: every exercise)."""
    from dlgrade.assign import assign as assign_templates

    changed = assign_templates(ids=list(exercise_ids) or None, check=check)
    for path in changed:
        click.echo(f"{'stale' if check else 'wrote'}: {path}")
    if check and changed:
        click.echo("run `dlgrade assign` and commit the templates", err=True)
        sys.exit(1)
    click.echo(f"{len(changed)} template(s) {'stale' if check else 'written'}")


@main.command()
@click.argument("exercise_ids", nargs=-1)
def verify(exercise_ids: tuple[str, ...]) -> None:
    """Check that the tests of each exercise (default: all) tell right from wrong."""
    from dlgrade.exercise import exercise_ids as all_exercise_ids
    from dlgrade.verify import verify_exercise

    console = Console()
    table = Table(title="dlgrade verify")
    for column in ("exercise", "subject", "expected", "score", "ok", "detail"):
        table.add_column(column)
    all_ok = True
    for exercise_id in exercise_ids or all_exercise_ids():
        for check in verify_exercise(exercise_id=exercise_id):
            all_ok &= check.ok
            mark = "[green]yes[/green]" if check.ok else "[red]NO[/red]"
            table.add_row(check.exercise, check.subject, check.expectation,
                          f"{check.score:g}/{check.max_score:g}", mark, check.detail)
    console.print(table)
    sys.exit(0 if all_ok else 1)
