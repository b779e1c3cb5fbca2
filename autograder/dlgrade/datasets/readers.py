"""Raw dataset files → numpy arrays, as parts (``train``/``test`` where the publisher splits, else ``all``).

Every part is ``(x, y)``: inputs and targets with one row per example.
"""
from __future__ import annotations

import csv
import gzip
import importlib
import io

import numpy as np

from dlgrade.datasets.locate import Found

Parts = dict[str, tuple[np.ndarray, np.ndarray]]


def _text(path) -> str:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as stream:
        return stream.read().decode("utf-8")


def _idx(path) -> np.ndarray:
    """An IDX file (the MNIST format): magic, dimensions, then unsigned bytes."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _banknotes(found: Found) -> Parts:
    table = np.loadtxt(io.StringIO(_text(found.paths["banknote_authentication.csv"])), delimiter=",")
    return {"all": (table[:, :4].astype(np.float32), table[:, 4].astype(np.int64))}


def _fashion_mnist(found: Found) -> Parts:
    p = found.paths
    return {"train": (_idx(p["train-images-idx3-ubyte.gz"]), _idx(p["train-labels-idx1-ubyte.gz"])),
            "test": (_idx(p["t10k-images-idx3-ubyte.gz"]), _idx(p["t10k-labels-idx1-ubyte.gz"]))}


def _mnist(found: Found) -> Parts:
    with np.load(found.paths["mnist.npz"], allow_pickle=False) as data:
        return {"train": (data["x_train"], data["y_train"]), "test": (data["x_test"], data["y_test"])}


def _mnist_5k(found: Found) -> Parts:
    table = np.loadtxt(io.StringIO(_text(found.paths["mnist_5k.csv.gz"])), delimiter=",", dtype=np.uint8)
    return {"all": (table[:, :-1].reshape(-1, 28, 28), table[:, -1])}


def _airline_passengers(found: Found) -> Parts:
    rows = list(csv.reader(io.StringIO(_text(found.paths["airline-passengers.csv"]))))[1:]
    months = np.array([month for month, _ in rows], dtype="datetime64[M]")
    return {"all": (months, np.array([float(count) for _, count in rows], dtype=np.float32))}


def _auto_mpg(found: Found) -> Parts:
    rows = list(csv.reader(io.StringIO(_text(found.paths["autompg.csv.gz"]))))
    features = np.array([[float(v) for v in row[:7]] for row in rows], dtype=np.float32)
    return {"all": (features, np.array([float(row[8]) for row in rows], dtype=np.float32))}


def _generated(found: Found) -> Parts:
    """A dataset dlgrade makes itself: its generator called with the manifest's row count."""
    module, _, function = found.dataset.generator.partition(":")
    source, target = getattr(importlib.import_module(module), function)(count=found.dataset.rows)
    return {"all": (np.array(source), np.array(target))}


def _tfds(found: Found) -> Parts:
    raise NotImplementedError(f"{found.dataset.name} is read with tensorflow-datasets, online")


READERS = {"banknotes": _banknotes, "fashion_mnist": _fashion_mnist, "mnist": _mnist, "mnist_5k": _mnist_5k,
           "airline_passengers": _airline_passengers, "auto_mpg": _auto_mpg, "pt_en_generated": _generated,
           "polynomial_generated": _generated, "ted_pt_en": _tfds}


def read_parts(found: Found) -> Parts:
    """The dataset's arrays by part."""
    return READERS[found.dataset.name](found)
