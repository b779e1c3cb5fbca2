"""Reading a submission's notebook: regular files only (a named pipe is refused, never waited on), metadata of
the wrong shape refused or ignored with a message, and cells passed on as written (IPython syntax is the
sandbox's to convert)."""
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.notebook import MAX_CODE_BYTES, NotebookProblem, find_notebook, read_notebook, runnable_cells


@pytest.fixture(scope="module")
def exercise():
    return load_exercise("ch04_xor")


def notebook_with(cells, metadata=None):
    notebook = new_notebook(cells=cells)
    notebook.metadata["dlgrade"] = {"exercise": "ch04_xor"} if metadata is None else metadata
    return notebook


def graded(cell_id, source="x = 1\n", **tag):
    return new_code_cell(source, metadata={"dlgrade": {"id": cell_id, "role": "graded", **tag}})


def test_a_named_pipe_is_refused_without_blocking(tmp_path, exercise):
    pipe = tmp_path / "ch04_xor.ipynb"
    os.mkfifo(pipe)
    with pytest.raises(NotebookProblem, match="ch04_xor.ipynb is not a regular file"):
        read_notebook(pipe)
    with pytest.raises(NotebookProblem, match="ch04_xor.ipynb in the submission is not a regular file"):
        find_notebook(tmp_path, exercise)
    nbformat.write(notebook_with([graded("neuron")]), tmp_path / "mine.ipynb")
    assert find_notebook(tmp_path, exercise) == tmp_path / "mine.ipynb"


def test_a_link_is_not_followed(tmp_path):
    nbformat.write(notebook_with([graded("neuron")]), tmp_path / "real.ipynb")
    (tmp_path / "ch04_xor.ipynb").symlink_to(tmp_path / "real.ipynb")
    with pytest.raises(NotebookProblem, match="cannot be read .it is a link"):
        read_notebook(tmp_path / "ch04_xor.ipynb")


@pytest.mark.parametrize("metadata", [["ch04_xor"], "ch04_xor", {"exercise": ["ch04_xor"]}, {"exercise": 4}])
def test_notebook_metadata_of_another_shape_is_a_message(metadata, exercise):
    with pytest.raises(NotebookProblem, match='metadata "dlgrade" is not the one we handed out'):
        runnable_cells(notebook_with([graded("neuron")], metadata), exercise)


def test_cell_tags_of_another_shape_never_run(exercise):
    cells = [graded("neuron"),
             new_code_cell("a = 1\n", metadata={"dlgrade": "graded"}),
             new_code_cell("b = 1\n", metadata={"dlgrade": ["xor_model", "graded"]}),
             graded(["xor_model"]),
             graded({"id": "xor_model"}),
             new_code_cell("c = 1\n", metadata={"dlgrade": {"id": "xor_training", "role": ["graded"]}}),
             new_code_cell("d = 1\n", metadata={"dlgrade": {"id": "xor_training", "role": {"graded": 1}}})]
    assert [c["id"] for c in runnable_cells(notebook_with(cells), exercise)] == ["neuron"]


def test_cells_leave_as_written(exercise):
    source = "%matplotlib inline\n!pip install nothing\nx = 1\n"
    assert runnable_cells(notebook_with([graded("neuron", source)]), exercise)[0]["source"] == source


def test_graded_code_beyond_the_cap_is_a_message(exercise):
    cells = [graded("neuron", "#" * (MAX_CODE_BYTES // 2)), graded("xor_model", "#" * (MAX_CODE_BYTES // 2))]
    with pytest.raises(NotebookProblem, match="more than the 1 MiB limit"):
        runnable_cells(notebook_with(cells), exercise)


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_pack_reads_every_template_and_solution_as_nbformat_does(exercise_id):
    """``read_notebook(validate=False)`` (pack, without nbformat's slow import) gives the same cells."""
    loaded = load_exercise(exercise_id)
    for path in (loaded.template, loaded.solution):
        plain, validated = read_notebook(path, validate=False), read_notebook(path)
        assert runnable_cells(plain, loaded) == runnable_cells(validated, loaded)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]",
                                  '{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": 3}]}'])
def test_pack_refuses_what_nbformat_refuses(tmp_path, text):
    (tmp_path / "broken.ipynb").write_text(text)
    with pytest.raises(NotebookProblem, match="broken.ipynb is not a valid Jupyter notebook"):
        read_notebook(tmp_path / "broken.ipynb", validate=False)
