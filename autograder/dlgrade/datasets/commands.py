"""``dlgrade data list | fetch | split``: the dataset registry from the command line."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dlgrade.datasets.catalog import dataset_statuses, fetch_dataset
from dlgrade.datasets.locate import DatasetMissing
from dlgrade.datasets.manifest import get_dataset, load_manifest

DATA_DIR_OPTION = click.option("--data-dir", type=click.Path(path_type=Path),
                               help="look here first (default: $DLGRADE_DATA_DIR)")
STATE_STYLES = {"available": "green", "generated": "green", "online only": "yellow"}


def _used_by() -> dict[str, list[str]]:
    from dlgrade.exercise import exercise_ids, load_exercise

    users: dict[str, list[str]] = {}
    for exercise_id in exercise_ids():
        for spec in load_exercise(exercise_id).data:
            users.setdefault(spec.dataset, []).append(exercise_id)
    return users


@click.group()
def data() -> None:
    """The course's datasets: where they are, fetching them, student splits."""


@data.command("list")
@DATA_DIR_OPTION
def list_command(data_dir: Path | None) -> None:
    """Every dataset: where it was found offline, its size and checksum status. Exits 1 when a dataset an
    exercise needs is missing or corrupt."""
    users = _used_by()
    table = Table(title="dlgrade datasets")
    for column in ("dataset", "status", "where", "size", "checksum", "used by"):
        table.add_column(column, overflow="fold")
    needed_but_absent = []
    statuses = dataset_statuses(data_dir=data_dir)
    for status in statuses:
        style = STATE_STYLES.get(status.state, "red")
        size = (f"{status.size / 2**20:.1f} MiB" if status.size >= 2**20 else f"{status.size / 2**10:.0f} KiB") \
            if status.size else "-"
        if status.state == "missing" and status.dataset.offline:
            status_text = f"missing; offline stand-in: {status.dataset.offline}"
        else:
            status_text = status.state
        table.add_row(status.dataset.name, f"[{style}]{status_text}[/{style}]", status.where, size,
                      status.checksum, ", ".join(users.get(status.dataset.name, [])) or "-")
        if status.dataset.name in users and status.state not in ("available", "generated"):
            needed_but_absent.append(status)
    Console(width=160).print(table)
    for status in statuses:
        if status.state in ("missing", "corrupt"):
            click.echo(f"\n{status.message}")
    sys.exit(1 if needed_but_absent else 0)


@data.command()
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="every dataset of the manifest")
@click.option("--dest", type=click.Path(path_type=Path), required=True, help="data directory to fill")
@click.option("--offline", is_flag=True, help="copy from offline places only, never download")
def fetch(names: tuple[str, ...], fetch_all: bool, dest: Path, offline: bool) -> None:
    """Put verified copies of datasets into DEST/<name>/ (from offline places first, else downloaded and
    checked against the manifest's SHA-256). Use it as DLGRADE_DATA_DIR afterwards."""
    if not names and not fetch_all:
        raise click.UsageError("name datasets or give --all")
    try:
        datasets = list(load_manifest().values()) if fetch_all else [get_dataset(n) for n in names]
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    failed = False
    for dataset in datasets:
        try:
            click.echo(f"{dataset.name}: {fetch_dataset(dataset, dest=dest, allow_download=not offline)}")
        except (DatasetMissing, OSError) as error:
            failed = True
            click.echo(f"{dataset.name}: FAILED: {error}", err=True)
    sys.exit(1 if failed else 0)


@data.command()
@click.argument("exercise_id")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
def split(exercise_id: str, out_dir: Path) -> None:
    """Write an exercise's student split files (what its bundle ships in data/), e.g. beside a solution."""
    from dlgrade.exercise import load_exercise

    try:
        files = load_exercise(exercise_id).student_data()
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except DatasetMissing as error:
        raise click.ClickException(str(error)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        shutil.copyfile(path, out_dir / name)
        click.echo(f"wrote {out_dir / name}")


@data.command()
@click.argument("exercise_ids", nargs=-1)
def prepare(exercise_ids: tuple[str, ...]) -> None:
    """Make the student and hidden split files of each exercise (default: all) in the grader's cache, so
    gradings start at once (the image build runs it)."""
    from dlgrade.datasets.splits import split_files
    from dlgrade.exercise import exercise_ids as all_exercise_ids, load_exercise

    try:
        for exercise_id in exercise_ids or all_exercise_ids():
            for spec in load_exercise(exercise_id).data:
                student, hidden = split_files(spec)
                click.echo(f"{exercise_id}: {spec.dataset}: {student.parent}")
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    except DatasetMissing as error:
        raise click.ClickException(str(error)) from None
