"""The course's datasets: a checksummed manifest, offline-first lookup, student/hidden splits, loaders.

Students call the loaders (``from dlgrade.datasets import load_banknotes``) and, for the translation
exercise, ``load_translation_tokenizers``; the grader uses
:func:`locate`, :class:`SplitSpec` and :func:`split_files`.
"""
from dlgrade.datasets.loaders import (StudentDataMissing, load_airline_passengers, load_auto_mpg, load_banknotes,
                                      load_fashion_mnist, load_mnist, load_polynomial_data,
                                      load_translation_pairs)
from dlgrade.datasets.locate import DatasetCorrupt, DatasetMissing, Found, locate
from dlgrade.datasets.manifest import Dataset, get_dataset, load_manifest
from dlgrade.datasets.splits import SplitSpec, hidden_split, make_split, row_keys, split_files, student_split
from dlgrade.datasets.tokenizers import build_translation_tokenizers, load_translation_tokenizers

__all__ = ["StudentDataMissing", "load_airline_passengers", "load_auto_mpg", "load_banknotes", "load_fashion_mnist",
           "load_mnist", "load_polynomial_data", "load_translation_pairs", "DatasetCorrupt", "DatasetMissing", "Found",
           "locate", "Dataset", "get_dataset", "load_manifest", "SplitSpec", "hidden_split", "make_split", "row_keys",
           "split_files", "student_split", "build_translation_tokenizers", "load_translation_tokenizers"]
