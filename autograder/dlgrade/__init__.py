"""dlgrade: an isolated, data-only, deep-learning-aware autograder for Jupyter notebooks."""

__version__ = "0.1.0"
