"""The loaders students call in the templates. Each reads the exercise's student split, the file
``<dataset>.student.npz`` in ``data/`` beside the notebook (as the release bundle and the grader's sandbox
lay it out) or in ``$DLGRADE_STUDENT_DATA``, and returns numpy arrays in the shapes the lecture notes use.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dlgrade.datasets.splits import read_split, student_file_name


class StudentDataMissing(FileNotFoundError):
    pass


def _student_split(dataset: str, folder: str | Path | None) -> tuple[np.ndarray, np.ndarray]:
    candidates = [Path(folder)] if folder else []
    if os.environ.get("DLGRADE_STUDENT_DATA"):
        candidates.append(Path(os.environ["DLGRADE_STUDENT_DATA"]))
    candidates.append(Path("data"))
    for candidate in candidates:
        if (candidate / student_file_name(dataset)).is_file():
            return read_split(candidate / student_file_name(dataset))
    looked = ", ".join(str(c.resolve()) for c in candidates)
    raise StudentDataMissing(
        f"{student_file_name(dataset)} was not found (looked in: {looked}). It comes in the exercise's "
        "folder, in data/ beside the notebook: open the notebook from that folder, or set DLGRADE_STUDENT_DATA "
        "to the folder that holds it. Course staff make it with `dlgrade data split EXERCISE --out data/`.")


def load_banknotes(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Banknote features (n, 4) float32 (variance, skewness, curtosis, entropy) and labels (n,) int64
    (0 genuine, 1 forged)."""
    return _student_split("banknotes", folder)


def load_fashion_mnist(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (n, 28, 28) uint8 in 0..255 and labels (n,) uint8 in 0..9, as Keras loads them."""
    return _student_split("fashion_mnist", folder)


def load_mnist(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits (n, 28, 28) uint8 and labels (n,) uint8: the exercise's MNIST (full MNIST where the
    exercise uses it, otherwise the 5,000-digit subset every machine has offline)."""
    for dataset in ("mnist", "mnist_5k"):
        try:
            return _student_split(dataset, folder)
        except StudentDataMissing as error:
            missing = error
    raise missing


def load_airline_passengers(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Months (n,) datetime64[M] and passengers in thousands (n, 1) float32, in time order."""
    months, passengers = _student_split("airline_passengers", folder)
    order = np.argsort(months)
    return months[order], passengers[order].reshape(-1, 1)


def load_auto_mpg(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Car features (n, 7) float32 (cylinders, displacement, horsepower, weight, acceleration, model year,
    origin) and fuel consumption in miles per gallon (n,) float32."""
    return _student_split("auto_mpg", folder)


def load_translation_pairs(folder: str | Path | None = None) -> tuple[list[str], list[str]]:
    """Portuguese sentences and their English translations, as two lists of str."""
    portuguese, english = _student_split("pt_en_generated", folder)
    return [str(s) for s in portuguese], [str(s) for s in english]


def load_polynomial_data(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points of a noisy cubic (stand-in for the notes' polydata.csv): x (n,) float32 and y (n,) float32."""
    return _student_split("polynomial_generated", folder)
