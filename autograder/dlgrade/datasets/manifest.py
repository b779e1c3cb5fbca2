"""The dataset manifest (manifest.toml beside this file): names, files, checksums, places and sources."""
from __future__ import annotations

import gzip
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).with_name("manifest.toml")
CHUNK = 1 << 20


@dataclass(frozen=True)
class DataFile:
    name: str
    digest: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Dataset:
    """One entry of the manifest. ``generator`` and ``tfds`` datasets have no files to verify."""

    name: str
    title: str
    rows: int
    files: tuple[DataFile, ...]
    places: tuple[str, ...] = ()
    url: str | None = None
    tfds: str | None = None
    generator: str | None = None
    offline: str | None = None

    def download_url(self, file: DataFile) -> str | None:
        return self.url.replace("{file}", file.name) if self.url else None


def load_manifest() -> dict[str, Dataset]:
    """Every dataset of the course, by name."""
    entries = tomllib.loads(MANIFEST.read_text())
    return {
        name: Dataset(name=name, title=entry["title"], rows=entry["rows"],
                      files=tuple(DataFile(**f) for f in entry.get("files", [])),
                      places=tuple(entry.get("places", [])), url=entry.get("url"), tfds=entry.get("tfds"),
                      generator=entry.get("generator"), offline=entry.get("offline"))
        for name, entry in entries.items()
    }


def get_dataset(name: str) -> Dataset:
    datasets = load_manifest()
    if name not in datasets:
        raise KeyError(f"unknown dataset {name!r} (known: {', '.join(sorted(datasets))})")
    return datasets[name]


def file_digest(path: Path, how: str) -> tuple[int, str]:
    """(size, SHA-256) of ``path`` as the manifest measures it: as stored, as LF text, or decompressed."""
    digest, size = hashlib.sha256(), 0
    opener = gzip.open if how == "gunzip" else open
    with opener(path, "rb") as stream:
        if how == "text":
            data = stream.read().replace(b"\r\n", b"\n")
            digest.update(data)
            return len(data), digest.hexdigest()
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def verify_file(path: Path, expected: DataFile) -> str | None:
    """None when ``path`` matches the manifest; otherwise what is wrong with it."""
    try:
        size, sha = file_digest(path, expected.digest)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        return f"{path} cannot be read ({error})"
    if sha != expected.sha256:
        return f"{path} has SHA-256 {sha[:16]}… ({size} bytes), expected {expected.sha256[:16]}… ({expected.bytes} bytes)"
    return None
