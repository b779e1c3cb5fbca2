"""Similar submissions: identical and renamed/reformatted copies are flagged, honest different solutions and
untouched templates are not, pages escape student text; on ch04_xor's real template, reference and honest
variants, with the gradebook filled directly, and once through a real batch of the fast demo course (which also
prints the class summary)."""
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlgrade.exercise import load_exercise
from dlgrade.gradebook import GradedCell, open_gradebook, record
from dlgrade.mutants import load_patches
from dlgrade.similarity import (compare, find_similar, identical_groups, normalise, student_code,
                                submitted_cells, template_cells, template_names)

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = load_exercise("ch04_xor")
TEMPLATE = template_cells(EXERCISE)
REFERENCE = submitted_cells(submission=EXERCISE.solution, exercise=EXERCISE)
VARIANTS = {patch.name: patch.cells for patch in load_patches(EXERCISE.folder / "variants")}
WHEN = datetime(2026, 11, 20, tzinfo=timezone.utc)

# eager_operators' xor_model cell with every chosen name changed, comments and a docstring added, and the
# layout redone: what a student hides a copy with.
DISGUISED_XOR_MODEL = '''
def affine(x_in, w, offset):   # a dense layer
    return (x_in @ w) + offset
def init_xor_params(seed):
    """My own initialiser."""
    rng = tf.random.Generator.from_seed(seed)
    sizes = {"W1": (2, 2), "b1": (2,),
             "W2": (2, 1), "b2": (1,)}
    return {key: tf.Variable(rng.normal(size) if key.startswith("W") else tf.zeros(size))
            for key, size in sizes.items()}
def xor_logits(params, X):
    # hidden layer
    h = tf.math.sigmoid(affine(X, params["W1"], params["b1"]))
    return affine(h, params["W2"], params["b2"])[:, 0]
def xor_predict(params, X):
    return 1 / (1 + tf.exp(- xor_logits(params, X)))
def xor_loss(params, X, y):
    logits = xor_logits(params, X)
    terms = tf.maximum(logits, 0) - logits * y + tf.math.log1p(tf.exp(-tf.abs(logits)))
    return tf.reduce_sum(terms) / tf.cast(tf.shape(logits)[0], logits.dtype)
'''


def code(raw: dict[str, str]):
    return student_code(raw, template=TEMPLATE, graded_cells=EXERCISE.graded_cells,
                        kept=template_names(list(TEMPLATE.values())))


def flagged(pairs) -> dict[frozenset, str]:
    return {frozenset((pair.a, pair.b)): pair.kind for pair in pairs}


def test_reference_and_template_cells_are_read():
    assert set(REFERENCE) == set(EXERCISE.graded_cells) == set(TEMPLATE) - {"setup"}
    assert "NotImplementedError" in TEMPLATE["neuron"] and "NotImplementedError" not in REFERENCE["neuron"]


def test_normalising_drops_comments_docstrings_layout_and_chosen_names():
    kept = template_names(["def f(x):\n    return x\n"])
    one = normalise('def f(x):\n    """Doc."""\n    total = x + 1  # add\n    return total\n', kept=kept)
    two = normalise("def f(x):\n\n    s=(x+\n       1)\n    return s", kept=kept)
    assert one == two == ["def f(v):", "    v = v + 1", "    return v"]  # parameters are chosen too
    assert normalise("%time x = 1\n!ls\ny = 2") == ["v = 2"]


def test_identical_and_disguised_copies_are_flagged_and_honest_solutions_are_not():
    eager = dict(REFERENCE, **VARIANTS["eager_operators"])
    extended = dict(eager, xor_gradients=eager["xor_gradients"] + "\n\ndef spare(x):\n    return 2 * x + 1\n")
    codes = {"ada": code(eager), "bob": code(dict(eager)), "cy": code(dict(eager, xor_model=DISGUISED_XOR_MODEL)),
             "dee": code(extended), "eve": code(REFERENCE),
             "fay": code(dict(REFERENCE, **VARIANTS["keras_ops_loss_function"]))}  # three cells of four copied
    pairs = compare(codes)
    kinds = flagged(pairs)
    assert kinds[frozenset(("ada", "bob"))] == "identical"
    assert kinds[frozenset(("ada", "cy"))] == "normalised"  # renamed, commented, reformatted
    assert kinds[frozenset(("ada", "dee"))] == "similar"  # one function more
    assert kinds[frozenset(("eve", "fay"))] == "similar"
    assert frozenset(("ada", "eve")) not in kinds, "the reference and an honest variant are different work"
    assert not any("fay" in pair and "eve" not in pair for pair in kinds)
    scores = [pair.score for pair in pairs]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0 and 0.7 <= scores[-1] < 1.0


def test_the_template_never_counts():
    untouched = {cell_id: TEMPLATE[cell_id] for cell_id in EXERCISE.graded_cells}
    reformatted = {cell_id: source.replace("    # YOUR CODE HERE\n", "") + "\n# done\n"
                   for cell_id, source in untouched.items()}
    one_line = dict(untouched, neuron=untouched["neuron"].replace(
        "raise NotImplementedError()", "return tf.reshape(X @ tf.reshape(weights, (-1, 1)), [-1]) + bias", 1))
    broken = {cell_id: source + "\n)  # a syntax error\n" for cell_id, source in untouched.items()}
    codes = {"ada": code(untouched), "bob": code(untouched), "cy": code(reformatted), "dee": code(one_line),
             "eve": code(one_line), "fay": code(broken), "gus": code(broken)}
    assert codes["ada"].tokens == codes["cy"].tokens == 0 and codes["ada"].lines == ()
    assert codes["fay"].lines == ("<cell neuron>", ")", "<cell xor_model>", ")", "<cell xor_gradients>", ")",
                                  "<cell xor_training>", ")")
    assert compare(codes) == []  # the template alone, or a line of one's own, is not a copy
    assert flagged(compare(codes, min_tokens=5)) == {frozenset(("dee", "eve")): "identical"}


def test_unparsable_and_hostile_cells_are_compared_without_parsing():
    for source in ["x = " + "+".join(["a"] * 25000), "x = " + "(" * 500 + ")" * 500, "def f(:\n  pass # c",
                   "a\0b", "x = 1\n" * 200_000]:
        assert isinstance(normalise(source), list)
    assert normalise("def f(:\n    return 1  # one") == ["def f(:", "return 1"]


def fill_gradebook(path: Path, students: dict[str, dict[str, str]]) -> None:
    with Session(open_gradebook(path)) as session:
        for student, cells in students.items():
            results = {"score": 1.0, "max_score": 16.0, "execution_time": 1.0, "output": "",
                       "extra_data": {"grader_version": "test"}, "tests": []}
            record(session, student=student, exercise="ch04_xor", content_hash=f"hash-{student}",
                   submitted_at=WHEN, results=results, cells=cells)


def test_gradebook_pages_rank_pairs_and_escape_student_text(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    hostile_id = "<script>alert('id')</script>"
    hostile_cell = REFERENCE["xor_training"] + "\nNOTE = '</td></table><script>alert(1)</script>'\n"
    fill_gradebook(gradebook, {hostile_id: dict(REFERENCE, xor_training=hostile_cell),
                               "bob": dict(REFERENCE, xor_training=hostile_cell),
                               "cy": dict(REFERENCE, **VARIANTS["eager_operators"])})
    with Session(open_gradebook(gradebook)) as session:  # not yet kept when this one was graded
        record(session, student="old", exercise="ch04_xor", content_hash="h", submitted_at=WHEN,
               results={"score": 0.0, "max_score": 16.0, "extra_data": {"grader_version": "0"}, "tests": []})
    report = find_similar(exercise_id="ch04_xor", gradebook=gradebook, out_dir=tmp_path / "similar")
    assert flagged(report.pairs) == {frozenset((hostile_id, "bob")): "identical"}
    assert report.compared == 3 and report.missing == ["old"]
    index = report.index.read_text()
    page = (tmp_path / "similar" / "pair-001.html").read_text()
    for text in (index, page):
        assert "<script" not in text and "&lt;script&gt;alert(" in text
    assert "alert(1)" in page and "</td></table><script>" not in page
    assert index.isascii() and page.isascii() and "old" in index
    assert identical_groups(gradebook=gradebook, exercise_id="ch04_xor") == [sorted([hostile_id, "bob"])]


def test_regrading_replaces_the_kept_cells(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    fill_gradebook(gradebook, {"ada": REFERENCE})
    fill_gradebook(gradebook, {"ada": {"neuron": "x = 1\n"}})
    with Session(open_gradebook(gradebook)) as session:
        assert session.scalar(select(func.count(GradedCell.id))) == 1


def test_cli_lists_pairs_and_refuses_an_unknown_exercise(tmp_path):
    gradebook = tmp_path / "grades.sqlite"
    fill_gradebook(gradebook, {"ada": REFERENCE, "bob": REFERENCE})
    command = [sys.executable, "-m", "dlgrade", "similarity", "--gradebook", str(gradebook), "--out",
               str(tmp_path / "similar")]
    done = subprocess.run([*command, "ch04_xor"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ada" in done.stdout and "bob" in done.stdout and "identical" in done.stdout
    assert (tmp_path / "similar" / "pair-001.html").is_file()
    wrong = subprocess.run([*command, "ch99_nothing"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "unknown exercise" in wrong.stderr


def demo_notebook(path: Path, answer: str) -> None:
    notebook = nbformat.read(ROOT / "tests" / "course" / "solutions" / "demo" / "demo.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("dlgrade", {}).get("id") == "answer":
            cell.source = answer
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)


def test_a_batch_warns_of_identical_submissions(tmp_path):
    answer = ("def add(a, b):\n    total = a + b\n    checks = [total for _ in range(3)]\n"
              "    assert all(c == total for c in checks)\n    return total\n\nafter_magics = 'ran'\n")
    folder = tmp_path / "class"
    demo_notebook(folder / "ada" / "demo.ipynb", answer)
    demo_notebook(folder / "bob" / "demo.ipynb", answer.replace("total", "s") + "# my own work\n")
    demo_notebook(folder / "cy" / "demo.ipynb", "def add(a, b):\n    return sum([a, b])\n\nafter_magics = 'ran'\n")
    gradebook = tmp_path / "grades.sqlite"
    env = dict(os.environ, DLGRADE_COURSE_ROOT=str(ROOT / "tests" / "course"))
    done = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(folder), "--exercise", "demo",
                           "--gradebook", str(gradebook), "--out", str(tmp_path / "out"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning: identical")]
    assert len(warnings) == 1 and "ada, bob" in warnings[0] and "cy" not in warnings[0], done.stdout
    assert "3 students: mean" in done.stdout  # the class summary after the batch
    similar = subprocess.run([sys.executable, "-m", "dlgrade", "similarity", "demo", "--gradebook", str(gradebook),
                              "--out", str(tmp_path / "similar")], capture_output=True, text=True, timeout=120,
                             env=env)
    assert similar.returncode == 0 and "normalised" in similar.stdout, similar.stdout + similar.stderr


def test_hostile_notebooks_give_cells_or_nothing(tmp_path):
    hostile = sorted((ROOT / "tests" / "hostile").glob("*.ipynb"))
    assert hostile
    for path in hostile:
        cells = submitted_cells(submission=path, exercise=EXERCISE)
        assert set(cells) <= set(EXERCISE.graded_cells) and all(isinstance(s, str) for s in cells.values())
        code(cells)
    assert submitted_cells(submission=tmp_path / "nothing-here", exercise=EXERCISE) == {}
    (tmp_path / "folder").mkdir()
    assert submitted_cells(submission=tmp_path / "folder", exercise=EXERCISE) == {}
