"""The ``dlgrade`` command: a thin layer over keyword-only functions."""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import tempfile
import zipfile
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dlgrade import __version__
from dlgrade.datasets.commands import data
from dlgrade.datasets.locate import DatasetMissing
from dlgrade.gradescope_results import VISIBILITIES, GradescopeSettings
from dlgrade.judged import NOT_JUDGED, score_text, total_text
from dlgrade.text import terminal_safe

DIE_WITH_PARENT = "DLGRADE_DIE_WITH_PARENT"


def print_results(results: dict, *, console: Console, title: str) -> None:
    """A per-test table with the total, as course staff read it: passed, partial (two decimals), failed or not
    judged (left out of the total). Student-derived text is printed as text: no markup, and control characters
    escaped (an escape sequence could redraw the table)."""
    table = Table(title=escape(terminal_safe(title)), show_lines=False)
    for column in ("test", "visibility", "score", "status"):
        table.add_column(column)
    styles = {"passed": "green", "partial": "yellow", NOT_JUDGED: "blue"}
    for test in results["tests"]:
        label = test.get("extra_data", {}).get("outcome", test["status"])
        style = styles.get(label, "red")
        table.add_row(escape(terminal_safe(test["name"])), test["visibility"],
                      score_text(test["score"], test["max_score"]), f"[{style}]{label}[/{style}]")
    console.print(table)
    for test in results["tests"]:
        if test["output"]:  # a passing check's message is what it measured
            console.print(terminal_safe(f"{test['name']}:"), style="bold", markup=False, highlight=False)
            console.print(terminal_safe(f"  {test['output']}"), markup=False, highlight=False)
    if results["output"]:
        console.print(terminal_safe(results["output"]), markup=False, highlight=False)
    console.print(f"[bold]{total_text(results)}[/bold] ({results['execution_time']:.1f} s)")


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a stopped batch) unwinds like Ctrl-C, so pytest stops and sandboxes and scratch folders are
    cleaned up; a grading started by a batch also ends when the batch process dies."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if os.environ.get(DIE_WITH_PARENT) == "1":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@click.group()
@click.version_option(__version__)
def main() -> None:
    """dlgrade: grade deep-learning notebooks safely."""
    _stop_cleanly_on_sigterm()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--exercise", "exercise_id", required=True, help="exercise id, e.g. ch04_xor")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="results folder (with --gradebook: one subfolder per student)")
@click.option("--public-only", is_flag=True, help="run only the public tests (what students see)")
@click.option("--call-timeout", type=float, help="seconds of CPU time per call into student code (default: the exercise's)")
@click.option("--startup-timeout", type=float, help="seconds of CPU time for the graded cells to run (default: the exercise's)")
@click.option("--gradebook", type=click.Path(path_type=Path), help="grade a class and record it in this SQLite file")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="submissions graded at once")
@click.option("--regrade", is_flag=True, help="grade again what the gradebook already holds")
@click.option("--regrade-student", help="grade again this student only")
@click.option("--allow-weaker-isolation", is_flag=True,
              help="grade even where the kernel refuses part of the sandbox (results.json says what was applied)")
@click.option("--submitted-at", "submitted_at", metavar="TIME",
              help="with --gradebook: the submission time of every submission found "
              "(ISO 8601, e.g. 2026-12-01T10:30-08:00)")
@click.option("--times", "times_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="with --gradebook: a CSV of student,time rows (replacing other times for those students)")
@click.option("--times-from-mtime", is_flag=True,
              help="with --gradebook: a submission without a time of its own gets its notebooks' modification time "
              "(a copy changes it; by default such a submission is on time)")
@click.option("--gradescope", "gradescope_settings", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="write results.json for Gradescope (HTML outputs with plots) with the settings of this "
              "gradescope.json (what `dlgrade gradescope` puts in the autograder zip)")
@click.option("--student", help="the student's name on the feedback page (default: the submission's file or "
              "folder name; a class batch passes each student's)")
@click.option("--problem", hidden=True, help="fail every test with this message without reading the submission "
              "(a batch passes it for a submission it could not collect)")
def grade(paths: tuple[Path, ...], exercise_id: str, out_dir: Path, public_only: bool, call_timeout: float | None,
          startup_timeout: float | None, gradebook: Path | None, jobs: int, regrade: bool,
          regrade_student: str | None, allow_weaker_isolation: bool, submitted_at: str | None, times_csv: Path | None,
          times_from_mtime: bool, student: str | None, problem: str | None, gradescope_settings: Path | None) -> None:
    """Grade one submission (notebook or folder), or with --gradebook a whole class from PATHS."""
    from dlgrade.sandbox.spawn import IsolationUnavailable

    overrides = {k: v for k, v in (("call_timeout_s", call_timeout), ("startup_timeout_s", startup_timeout)) if v}
    if gradebook is not None and gradescope_settings is not None:
        raise click.UsageError("--gradescope grades one submission (Gradescope's run_autograder), not a class")
    try:
        if gradebook is not None:
            if student is not None:
                raise click.UsageError("--student names the student of one submission; with --gradebook each "
                                       "student is named by their submission (folder, nbgrader or Gradescope)")
            _grade_class(paths=list(paths), exercise_id=exercise_id, out_dir=out_dir, gradebook=gradebook, jobs=jobs,
                         regrade=regrade, regrade_student=regrade_student, public_only=public_only,
                         overrides=overrides, allow_weaker_isolation=allow_weaker_isolation,
                         times=_given_times(submitted_at=submitted_at, times_csv=times_csv,
                                            times_from_mtime=times_from_mtime))
            return
        if len(paths) != 1:
            raise click.UsageError("several PATHS need --gradebook FILE (grading a class)")
        if submitted_at or times_csv or times_from_mtime or regrade_student:
            raise click.UsageError("--submitted-at, --times, --times-from-mtime and --regrade-student are for a "
                                   "class (with --gradebook FILE)")
        from dlgrade.grade import grade_submission

        settings = GradescopeSettings.read(gradescope_settings) if gradescope_settings else None
        results = grade_submission(submission=paths[0], exercise=exercise_id, out_dir=out_dir,
                                   include_hidden=not public_only, limit_overrides=overrides, problem=problem,
                                   allow_weaker_isolation=allow_weaker_isolation, gradescope=settings,
                                   student=student)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except (DatasetMissing, IsolationUnavailable) as error:
        raise click.ClickException(str(error)) from None
    print_results(results, console=Console(), title=f"{exercise_id}: {paths[0]}")


def _given_times(*, submitted_at: str | None, times_csv: Path | None, times_from_mtime: bool) -> dict:
    """grade_batch's time arguments from the command line; a time or CSV that cannot be read is a usage error."""
    from dlgrade.collect import parse_time, read_times_csv

    try:
        return {"submitted_at": parse_time(submitted_at) if submitted_at else None,
                "times": read_times_csv(times_csv) if times_csv else None,
                "times_source": f"times CSV {times_csv.name}" if times_csv else "",
                "times_from_mtime": times_from_mtime}
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _grade_class(*, paths, exercise_id, out_dir, gradebook, jobs, regrade, regrade_student, public_only,
                 overrides, allow_weaker_isolation, times) -> None:
    from dlgrade.batch import grade_batch
    from dlgrade.report import class_report, print_class_summary

    extra = ["--public-only"] if public_only else []
    extra += ["--allow-weaker-isolation"] if allow_weaker_isolation else []
    for key, flag in (("call_timeout_s", "--call-timeout"), ("startup_timeout_s", "--startup-timeout")):
        if key in overrides:
            extra += [flag, str(overrides[key])]
    os.environ[DIE_WITH_PARENT] = "1"
    try:
        summary = grade_batch(paths=paths, exercise_id=exercise_id, gradebook=gradebook, out_root=out_dir,
                              jobs=jobs, regrade=regrade, regrade_student=regrade_student, extra_args=extra, **times)
    except (ValueError, zipfile.BadZipFile) as error:
        raise click.ClickException(f"cannot read the submissions: {error}") from None
    console = Console()
    console.print(f"{summary.found} submissions: {len(summary.graded)} graded, {len(summary.skipped)} already in "
                  f"the gradebook, {len(summary.failed)} failed to grade")
    for student, reason in summary.failed.items():
        console.print(terminal_safe(f"  {student}: {reason}"), markup=False, highlight=False)
    if summary.problems:
        console.print(f"{len(summary.problems)} recorded with 0 points (their files could not be graded):")
    for student, reason in summary.problems.items():
        console.print(terminal_safe(f"  {student}: {reason}"), markup=False, highlight=False)
    if summary.not_judged:
        console.print(f"{len(summary.not_judged)} recorded with checks not judged (the grader was overloaded); "
                      "run the same command again to regrade them:")
    for student, points in summary.not_judged.items():
        console.print(terminal_safe(f"  {student}: {points:g} points not judged"), markup=False, highlight=False)
    if summary.not_on_roster:
        console.print(f"{len(summary.not_on_roster)} not on the roster (graded under the name found; add them or "
                      "an alias with `dlgrade roster import`):")
    for student, near in summary.not_on_roster.items():
        hint = f" (closest: {', '.join(near)})" if near else ""
        console.print(terminal_safe(f"  {student}{hint}"), markup=False, highlight=False)
    if summary.graded:
        print_class_summary(class_report(gradebook=gradebook, exercise_id=exercise_id), console=console)
    for group in summary.identical:
        console.print(terminal_safe(f"warning: identical graded code (beyond the template): {', '.join(group)}; "
                                    f"see dlgrade similarity {exercise_id} --gradebook {gradebook}"),
                      markup=False, highlight=False)
    if summary.interrupted:
        console.print("stopped: run the same command again to grade the rest")
        sys.exit(130)


@main.command()
@click.option("--gradebook", type=click.Path(exists=True, path_type=Path), required=True)
@click.argument("out_csv", type=click.Path(path_type=Path))
@click.option("--detail", is_flag=True, help="add status, raw score, days late, the submission time and its source, "
              "the override and one column per test")
@click.option("--format", "format_", type=click.Choice(["dlgrade", "canvas", "moodle"]), default="dlgrade",
              show_default=True, help="canvas or moodle: that LMS's gradebook-import CSV")
def export(gradebook: Path, out_csv: Path, detail: bool, format_: str) -> None:
    """Write OUT_CSV: one row per student (every rostered student; 0 for a missing submission), one column per
    exercise (late penalties and overrides applied), a points-possible row."""
    from dlgrade.export import export_grades

    try:
        count = export_grades(gradebook=gradebook, out_csv=out_csv, detail=detail, format=format_)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"{count} students written to {out_csv}")


@main.group()
def roster() -> None:
    """The class roster in the gradebook."""


@roster.command("import")
@click.argument("students_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gradebook", type=click.Path(path_type=Path), required=True)
def roster_import(students_csv: Path, gradebook: Path) -> None:
    """Add or update the students of STUDENTS_CSV (columns id, name, email, lms_id, section, aliases)."""
    from sqlalchemy.orm import Session

    from dlgrade.gradebook import open_gradebook
    from dlgrade.roster import import_roster

    with Session(open_gradebook(gradebook)) as session:
        try:
            count = import_roster(session, roster_csv=students_csv)
        except (ValueError, UnicodeDecodeError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{count} students on the roster of {gradebook}")


@main.command()
@click.argument("student")
@click.argument("exercise_id")
@click.option("--gradebook", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--points", type=float, help="the score that counts, in place of the graded one")
@click.option("--due", metavar="TIME", help="this student's own due date (an extension), e.g. 2026-12-08T23:59")
@click.option("--note", required=True, help="why (kept in the gradebook with who and when)")
def override(student: str, exercise_id: str, gradebook: Path, points: float | None, due: str | None,
             note: str) -> None:
    """Override STUDENT's score or due date for EXERCISE_ID (the latest override counts; all are kept)."""
    from sqlalchemy.orm import Session

    from dlgrade.collect import parse_time
    from dlgrade.gradebook import open_gradebook
    from dlgrade.overrides import set_override

    with Session(open_gradebook(gradebook)) as session:
        try:
            row = set_override(session, student=student, exercise=exercise_id, note=note, points=points,
                               due=parse_time(due) if due else None)
        except KeyError as error:
            raise click.UsageError(str(error.args[0])) from None
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        click.echo(terminal_safe(f"{row.student_id} {exercise_id}: points "
                                 f"{'as graded' if row.points is None else f'{row.points:g}'}, due "
                                 f"{'as the exercise' if row.due is None else row.due.isoformat()} "
                                 f"(by {row.by}: {row.note})"))


@main.command()
@click.argument("exercise_id")
@click.option("--gradebook", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True)
def report(exercise_id: str, gradebook: Path, out: Path) -> None:
    """Write the class report of EXERCISE_ID: score distribution, pass rate per check, common failure messages,
    slowest submissions and regrade candidates, as one self-contained HTML page; print the score table."""
    from dlgrade.exercise import load_exercise
    from dlgrade.report import print_class_summary, write_report

    try:
        load_exercise(exercise_id)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    print_class_summary(write_report(gradebook=gradebook, exercise_id=exercise_id, out=out), console=Console())
    click.echo(f"wrote {out}")


@main.command()
@click.argument("exercise_id")
@click.option("--gradebook", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("similarity"),
              show_default=True, help="folder for index.html and one side-by-side page per flagged pair")
@click.option("--threshold", type=click.FloatRange(0.5, 1.0), default=0.7, show_default=True,
              help="share of matching normalised lines (beyond the template) that flags a pair")
@click.option("--min-tokens", type=click.IntRange(1), default=30, show_default=True,
              help="students with less code of their own than this are never flagged")
def similarity(exercise_id: str, gradebook: Path, out_dir: Path, threshold: float, min_tokens: int) -> None:
    """Rank pairs of students whose graded cells of EXERCISE_ID are identical or alike (names, comments and
    layout normalised; the template's own code left out), from the cells the gradebook keeps."""
    from dlgrade.similarity import find_similar

    try:
        report = find_similar(exercise_id=exercise_id, gradebook=gradebook, out_dir=out_dir, threshold=threshold,
                              min_tokens=min_tokens)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    console = Console()
    table = Table(title=f"{exercise_id}: {len(report.pairs)} of the pairs of {report.compared} students flagged")
    for column in ("student", "student", "alike", "kind"):
        table.add_column(column)
    for pair in report.pairs[:20]:
        table.add_row(escape(terminal_safe(pair.a)), escape(terminal_safe(pair.b)), f"{pair.score:.0%}", pair.kind)
    console.print(table)
    if report.missing:
        console.print(f"{len(report.missing)} not compared: the gradebook holds no graded cells for them (graded "
                      "before it kept them: grade again with --regrade)")
    console.print(f"wrote {report.index}", markup=False, highlight=False)


@main.command()
@click.argument("exercise_ids", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("release"), show_default=True)
@click.option("--release-weights-of", "release_weights_of", multiple=True, metavar="ID",
              help="also ship the trained reference weights of this earlier exercise (after its deadline)")
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True,
              help="exercises released at once (each by its own process)")
def release(exercise_ids: tuple[str, ...], out_dir: Path, release_weights_of: tuple[str, ...], jobs: int) -> None:
    """Build the student bundle (zip) of each exercise (default: all). A bundle ships only when it passes the
    leak scan and the reference earns full public marks through it (`dlgrade check` from the unpacked zip)."""
    from dlgrade.exercise import exercise_ids as all_exercise_ids, load_exercise
    from dlgrade.distribution import DistributionProblem
    from dlgrade.release import BundleRefused, build_bundle, release_in_processes

    ids = list(exercise_ids or all_exercise_ids())
    try:
        for exercise_id in [*ids, *release_weights_of]:
            load_exercise(exercise_id)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    if len(ids) == 1:
        try:
            archive, results = build_bundle(exercise_id=ids[0], out_dir=out_dir, release_weights_of=release_weights_of)
        except (BundleRefused, DistributionProblem) as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"wrote {archive} (the reference earns {results['score']:g}/{results['max_score']:g} public "
                   "points through it)")
        return

    def report(exercise_id: str, shipped: bool, message: str) -> None:
        click.echo(message if shipped else f"{exercise_id}: NOT SHIPPED\n{message}", err=not shipped)

    os.environ[DIE_WITH_PARENT] = "1"
    refused = release_in_processes(exercise_ids=ids, out_dir=out_dir, jobs=jobs, release_weights_of=release_weights_of,
                                   report=report)
    if refused:
        raise click.ClickException(f"{len(refused)} of {len(ids)} bundles not shipped: {', '.join(refused)}")


notebook_argument = click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
checks_option = click.option("--checks", type=click.Path(exists=True, file_okay=False, path_type=Path),
                             help="the bundle's checks folder (default: checks/ beside the notebook)")


def _bundle_exercise(notebook: Path, checks: Path | None):
    """The exercise as the student's bundle describes it (``checks/`` beside the notebook, or ``--checks``), or,
    for a notebook in a course checkout (the instructor's ``assignments/<id>/``), as the course does."""
    from dlgrade.exercise import course_exercise_of, load_bundle_exercise

    folder = checks or notebook.resolve().parent / "checks"
    if (folder / "exercise.toml").is_file():
        return load_bundle_exercise(folder)
    exercise = None if checks else course_exercise_of(notebook)
    if exercise is None:
        raise click.ClickException(
            f"{notebook.name}: no checks found ({folder}/exercise.toml does not exist). Run this from the unpacked "
            f"bundle of the exercise (the folder with README.md, requirements.txt and checks/), or give the "
            f"bundle's checks folder with --checks")
    return exercise


@main.command()
@notebook_argument
@checks_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="also keep results.json and feedback.html in this folder")
def check(notebook: Path, checks: Path | None, out_dir: Path | None) -> None:
    """Run the public checks on NOTEBOOK (what a student runs before submitting)."""
    from dlgrade.grade import grade_submission

    exercise = _bundle_exercise(notebook, checks)
    with tempfile.TemporaryDirectory(prefix="dlgrade-check-") as scratch:
        submission = Path(scratch) / "submission"
        submission.mkdir()
        for path in [notebook, *(notebook.parent / name for name in exercise.submit_files)]:
            if path.is_file() and not path.is_symlink():  # the files the exercise asks for, when already there
                shutil.copy(path, submission / path.name)
        # On the student's own machine the sandbox guards nothing secret (public checks, their own code), so
        # it runs with whatever isolation the system offers (macOS and Windows offer no namespaces).
        results = grade_submission(submission=submission, exercise=exercise, out_dir=out_dir or Path(scratch) / "out",
                                   include_hidden=False, allow_weaker_isolation=True, student=notebook.name)
    console = Console()
    print_results(results, console=console, title=f"public checks of {exercise.id}: {notebook.name}")
    if exercise.hidden_points:
        console.print(f"public checks only: {results['score']:g}/{results['max_score']:g}; at grading, hidden checks "
                      f"are worth {exercise.hidden_points:g} more points (total "
                      f"{results['max_score'] + exercise.hidden_points:g})", markup=False, highlight=False)


@main.command()
@notebook_argument
@checks_option
def pack(notebook: Path, checks: Path | None) -> None:
    """Build the zip to submit: NOTEBOOK plus the files the exercise asks for."""
    from dlgrade.pack import PackProblem, missing_files, pack_submission, untouched_cells

    exercise = _bundle_exercise(notebook, checks)
    untouched = untouched_cells(notebook=notebook, exercise=exercise)
    if untouched:
        click.echo(f"warning: {len(untouched)} of {len(exercise.graded_cells)} graded cells are still as handed out "
                   f"({', '.join(untouched)}): they earn no points. Did you save the notebook?", err=True)
    for name in missing_files(notebook=notebook, exercise=exercise):
        click.echo(f"warning: {name} not found beside {notebook.name}, so it is not in the submission and the checks "
                   f"that need it earn no points; save it from your notebook (model.save_weights({name!r}) for "
                   "weights) and pack again", err=True)
    try:
        click.echo(f"wrote {pack_submission(notebook=notebook, exercise=exercise)}")
    except PackProblem as problem:
        raise click.ClickException(str(problem)) from None


@main.command()
@click.argument("exercise_id")
@click.option("--out", type=click.Path(path_type=Path), default=Path("autograder.zip"), show_default=True)
@click.option("--allow-weaker-isolation", is_flag=True,
              help="grade even where Gradescope's container refuses the sandbox's namespaces")
@click.option("--stdout-visibility", type=click.Choice(VISIBILITIES), default="hidden", show_default=True,
              help="who sees run_autograder's output on Gradescope (results.json stdout_visibility)")
@click.option("--visibility", type=click.Choice(VISIBILITIES), default="visible", show_default=True,
              help="results.json's top-level visibility (each check keeps its own)")
@click.option("--leaderboard", is_flag=True, help="add the score to Gradescope's leaderboard (off: no leaderboard key)")
@click.option("--ship-data", is_flag=True, help="put verified copies of the exercise's datasets in the zip")
@click.option("--wheels", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="ship the .whl files of this folder; setup.sh installs from them before any index")
@click.option("--index-url", metavar="URL", help="the package index (mirror) setup.sh installs from")
def gradescope(exercise_id: str, out: Path, allow_weaker_isolation: bool, stdout_visibility: str, visibility: str,
               leaderboard: bool, ship_data: bool, wheels: Path | None, index_url: str | None) -> None:
    """Build a Gradescope autograder zip (setup.sh, run_autograder) for EXERCISE_ID."""
    from dlgrade.gradescope import GradescopeProblem, build_gradescope_zip

    settings = GradescopeSettings(stdout_visibility=stdout_visibility, visibility=visibility, leaderboard=leaderboard)
    try:
        built = build_gradescope_zip(exercise_id=exercise_id, out=out, allow_weaker_isolation=allow_weaker_isolation,
                                     settings=settings, ship_data=ship_data, wheels=wheels, index_url=index_url)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except (GradescopeProblem, DatasetMissing) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {built}")


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
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="gradings (reference, template, mutants, variants) run at once")
def verify(exercise_ids: tuple[str, ...], jobs: int) -> None:
    """Check that the tests of each exercise (default: all) tell right from wrong."""
    from dlgrade.exercise import exercise_ids as all_exercise_ids
    from dlgrade.verify import verify_exercise

    console = Console()
    table = Table(title="dlgrade verify")
    for column in ("exercise", "subject", "expected", "score", "ok", "detail"):
        table.add_column(column)
    all_ok = True
    for exercise_id in exercise_ids or all_exercise_ids():
        with tempfile.TemporaryDirectory(prefix=f"dlgrade-verify-{exercise_id}-") as work_dir:
            checks = verify_exercise(exercise_id=exercise_id, work_dir=Path(work_dir), jobs=jobs)
        for check in checks:
            all_ok &= check.ok
            mark = "[green]yes[/green]" if check.ok else "[red]NO[/red]"
            table.add_row(check.exercise, escape(check.subject), check.expectation,
                          f"{check.score:g}/{check.max_score:g}", mark, escape(terminal_safe(check.detail)))
    console.print(table)
    sys.exit(0 if all_ok else 1)


@main.group()
def manual() -> None:
    """Questions graded by hand: export the answers to grade, import the points."""


@manual.command("export")
@click.argument("exercise_id")
@click.option("--gradebook", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder for one HTML page per question and scores.csv")
@click.option("--anonymise", is_flag=True, help="students as S001, S002... (key.csv beside scores.csv maps them)")
def manual_export(exercise_id: str, gradebook: Path, out_dir: Path, anonymise: bool) -> None:
    """Write every student's answers to EXERCISE_ID's questions graded by hand (latest submissions) and the
    scores.csv to fill in."""
    from dlgrade.manual import export_manual

    try:
        written = export_manual(exercise_id=exercise_id, gradebook=gradebook, out_dir=out_dir, anonymise=anonymise)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(terminal_safe(f"{written.students} students, {len(written.pages)} question pages; fill in "
                             f"{written.scores_csv}" + (f" (keep {written.key_csv} to yourself)" if written.key_csv
                                                         else "")))


@manual.command("import")
@click.argument("exercise_id")
@click.argument("scores_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gradebook", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--key", "key_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the key of an anonymised export (default: key.csv beside SCORES_CSV, when there)")
def manual_import(exercise_id: str, scores_csv: Path, gradebook: Path, key_csv: Path | None) -> None:
    """Store the points of a filled SCORES_CSV (rows with empty points are skipped); a row imported again
    replaces the earlier score."""
    from dlgrade.manual import import_manual

    try:
        counts = import_manual(exercise_id=exercise_id, scores_csv=scores_csv, gradebook=gradebook, key_csv=key_csv)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(terminal_safe(str(error))) from None
    click.echo(f"{counts.stored} scores stored ({counts.replaced} replacing earlier ones), {counts.skipped} rows "
               "without points skipped")


main.add_command(data)
