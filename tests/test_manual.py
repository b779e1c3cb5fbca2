"""Questions graded by hand: manual cells, export of the answers (pages and CSV), import of the points, totals in
the exports. A throw-away course (``DLGRADE_COURSE_ROOT``) and a gradebook filled directly: no grading needed."""
import csv
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from dlgrade.cli import main
from dlgrade.exercise import load_exercise
from dlgrade.export import export_grades
from dlgrade.gradebook import ManualScore, open_gradebook, record
from dlgrade.manual import MAX_SHOWN_CHARS, ManualImportError, export_manual, import_manual, submitted_answers
from dlgrade.notebook import manual_answers, runnable_cells
from dlgrade.release import scan_for_leaks
from dlgrade.roster import import_roster

EXERCISE = "ex_manual"
CONFIG = f'''title = "manual"
notebook = "{EXERCISE}.ipynb"
graded_cells = ["answer"]

[manual.why]
points = 2
question = "Why?"
rubric = "2: because; 1: half of it"

[manual.how]
points = 1.5
question = "How?"
rubric = "1.5: like this"
'''
TEMPLATE_ANSWER = "YOUR ANSWER HERE"


def manual_cell(question: str, text: str, *, kind: str = "markdown") -> nbformat.NotebookNode:
    metadata = {"dlgrade": {"id": question, "role": "manual"}}
    if kind == "code":
        return nbformat.v4.new_code_cell(text, metadata=metadata)
    return nbformat.v4.new_markdown_cell(text, metadata=metadata)


def notebook(answers: dict[str, str], *, code: str = "x = 1\n") -> nbformat.NotebookNode:
    graded = nbformat.v4.new_code_cell(code, metadata={"dlgrade": {"id": "answer", "role": "graded"}})
    cells = [graded, *(manual_cell(question, text) for question, text in answers.items())]
    return nbformat.v4.new_notebook(cells=cells, metadata={"dlgrade": {"exercise": EXERCISE}})


def write_course(root: Path, *, config: str = CONFIG, questions=("why", "how")) -> None:
    folder = root / "autograder" / "exercises" / EXERCISE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exercise.toml").write_text(config)
    (folder / "test_public.py").write_text("def test_nothing():\n    pass\n")
    for kind, text in (("solutions", "Because."), ("assignments", TEMPLATE_ANSWER)):
        (root / kind / EXERCISE).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook({q: text for q in questions}), root / kind / EXERCISE / f"{EXERCISE}.ipynb")


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "course"
    write_course(root)
    monkeypatch.setenv("DLGRADE_COURSE_ROOT", str(root))
    return root


def results(score: float) -> dict:
    return {"score": score, "max_score": 10.0, "execution_time": 1.0, "output": "",
            "extra_data": {"grader_version": "test"},
            "tests": [{"name": "t", "score": score, "max_score": 10.0, "status": "passed", "visibility": "visible",
                       "output": "", "extra_data": {"test_id": "test_public.py::test_t"}}]}


ANSWERS = {
    "ada": {"why": "Because <script>alert(1)</script> & so on.", "how": "Like *this*."},
    "bob": {"why": "x" * (MAX_SHOWN_CHARS + 500), "how": TEMPLATE_ANSWER},
    "cy": {},  # graded before answers were kept, or no answer cells
}


@pytest.fixture
def gradebook(course, tmp_path) -> Path:
    path = tmp_path / "grades.sqlite"
    with Session(open_gradebook(path)) as session:
        for number, (student, answers) in enumerate(ANSWERS.items()):
            record(session, student=student, exercise=EXERCISE, content_hash=f"h{number}", submitted_at=None,
                   results=results(6.0), answers=answers)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_scores(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "points", "max_points", "comment"])
        writer.writerows(rows)
    return path


def exported(gradebook: Path, out: Path, *, detail: bool = True) -> dict[str, dict]:
    export_grades(gradebook=gradebook, out_csv=out, detail=detail)
    return {row["student"]: row for row in read_csv(out)}


def test_manual_cells_never_run_and_their_answers_are_read(course):
    exercise = load_exercise(EXERCISE)
    submitted = notebook({"why": "Because."})
    submitted.cells.append(manual_cell("how", "print('turned into code')", kind="code"))
    assert [cell["id"] for cell in runnable_cells(submitted, exercise)] == ["answer"]
    assert manual_answers(submitted) == {"why": "Because.", "how": "print('turned into code')"}


def test_submitted_answers_come_from_the_notebook_and_are_bounded(course, tmp_path):
    exercise = load_exercise(EXERCISE)
    path = tmp_path / "sub" / f"{EXERCISE}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook({"why": "y" * 300_000, "how": "Like so.", "extra": "not a question"}), path)
    answers = submitted_answers(submission=path.parent, exercise=exercise)
    assert set(answers) == {"why", "how"} and answers["how"] == "Like so."
    assert len(answers["why"]) < 101_000 and "characters cut" in answers["why"]
    assert submitted_answers(submission=tmp_path / "missing", exercise=exercise) == {}


@pytest.mark.parametrize("change, message", [
    (lambda root: write_course(root, questions=("why",)), r"no manual cell for \[manual.how\]"),
    (lambda root: write_course(root, questions=("why", "how", "what")), r"manual cell\(s\) what without a \[manual"),
    (lambda root: write_course(root, config=CONFIG.replace("points = 2", "points = 0")),
     "points must be a number above 0"),
    (lambda root: write_course(root, config=CONFIG.replace('rubric = "1.5: like this"', "")), "missing rubric"),
    (lambda root: write_course(root, config=CONFIG + '[manual."a b"]\npoints = 1\nquestion = "q"\nrubric = "r"\n'),
     "a question id is"),
])
def test_exercise_toml_and_manual_cells_must_agree(course, change, message):
    change(course)
    with pytest.raises(ValueError, match=message):
        load_exercise(EXERCISE)


def test_export_writes_a_page_per_question_and_a_csv_to_fill_in(gradebook, tmp_path):
    out = tmp_path / "manual"
    written = export_manual(exercise_id=EXERCISE, gradebook=gradebook, out_dir=out)
    assert written.students == 3 and written.key_csv is None
    assert sorted(page.name for page in written.pages) == ["how.html", "why.html"]
    why = (out / "why.html").read_text()
    assert "Why?" in why and "2: because; 1: half of it" in why and "(2 points)" in why
    assert "<script>" not in why and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; so on." in why
    assert f"answer cut: the first {MAX_SHOWN_CHARS:,} of its {MAX_SHOWN_CHARS + 500:,} characters" in why
    assert "x" * (MAX_SHOWN_CHARS + 1) not in why
    assert "no answer kept" in why
    assert "unchanged from the template" in (out / "how.html").read_text()
    rows = read_csv(out / "scores.csv")
    assert [(r["student"], r["question"], r["points"], r["max_points"], r["comment"]) for r in rows] == [
        ("ada", "why", "", "2", ""), ("bob", "why", "", "2", ""), ("cy", "why", "", "2", ""),
        ("ada", "how", "", "1.5", ""), ("bob", "how", "", "1.5", ""), ("cy", "how", "", "1.5", "")]


def test_anonymised_export_hides_names_and_imports_through_the_key(gradebook, tmp_path):
    out = tmp_path / "manual"
    export_manual(exercise_id=EXERCISE, gradebook=gradebook, out_dir=out, anonymise=True)
    key = {row["anonymous_id"]: row["student"] for row in read_csv(out / "key.csv")}
    assert sorted(key) == ["S001", "S002", "S003"] and sorted(key.values()) == ["ada", "bob", "cy"]
    for page in ("why.html", "how.html"):
        text = (out / page).read_text()
        assert all(f">{name}<" not in text for name in ("ada", "bob", "cy")) and ">S001<" in text
    rows = read_csv(out / "scores.csv")
    assert {row["student"] for row in rows} == set(key)
    ada = next(anonymous for anonymous, student in key.items() if student == "ada")
    for row in rows:
        row["points"] = "2" if (row["student"], row["question"]) == (ada, "why") else ""
    write_scores(out / "scores.csv", [tuple(row.values()) for row in rows])
    counts = import_manual(exercise_id=EXERCISE, scores_csv=out / "scores.csv", gradebook=gradebook)
    assert (counts.stored, counts.skipped) == (1, 5)
    with Session(open_gradebook(gradebook)) as session:
        assert [(s.student_id, s.question_id, s.points) for s in session.query(ManualScore)] == [("ada", "why", 2.0)]
    export_manual(exercise_id=EXERCISE, gradebook=gradebook, out_dir=out)
    assert not (out / "key.csv").exists()  # a key left from an earlier export would misread a plain CSV


@pytest.mark.parametrize("row, message", [
    (("adaa", "why", "1"), r"row 2: no student adaa in the gradebook; did you mean ada"),
    (("ada", "whyy", "1"), r"row 2: unknown question whyy of ex_manual; did you mean why"),
    (("ada", "why", "2.5"), r"row 2: points 2.5 outside 0..2"),
    (("ada", "how", "-1"), r"row 2: points -1 outside 0..1.5"),
    (("ada", "why", "many"), r"row 2: points 'many' are not a number"),
    (("ada", "why", "nan"), r"row 2: points nan outside"),
    (("dan", "why", "1"), r"row 2: dan has no submission of ex_manual"),
])
def test_import_refuses_bad_rows_and_stores_nothing(gradebook, tmp_path, row, message):
    roster = tmp_path / "students.csv"
    roster.write_text("id,name\nada,Ada\nbob,Bob\ncy,Cy\ndan,Dan\n")  # dan is enrolled but never submitted
    with Session(open_gradebook(gradebook)) as session:
        import_roster(session, roster_csv=roster)
    scores = write_scores(tmp_path / "scores.csv", [row + ("", ""), ("bob", "why", "1", "2", "")])
    with pytest.raises(ManualImportError, match=message):
        import_manual(exercise_id=EXERCISE, scores_csv=scores, gradebook=gradebook)
    with Session(open_gradebook(gradebook)) as session:
        assert session.query(ManualScore).count() == 0


def test_import_lists_every_bad_row_and_a_repeated_row(gradebook, tmp_path):
    scores = write_scores(tmp_path / "scores.csv", [("ada", "why", "1", "", ""), ("ada", "why", "2", "", ""),
                                                    ("bob", "how", "9", "", "")])
    with pytest.raises(ManualImportError) as raised:
        import_manual(exercise_id=EXERCISE, scores_csv=scores, gradebook=gradebook)
    assert "row 3: ada why is also on row 2" in str(raised.value) and "row 4: points 9" in str(raised.value)


def test_manual_points_count_in_every_export_and_reimport_replaces(gradebook, tmp_path):
    before = exported(gradebook, tmp_path / "before.csv")
    assert before["Points Possible"]["ex_manual"] == "13.5"  # 10 autograded + 2 + 1.5 by hand
    assert before["ada"]["ex_manual"] == "6.0" and before["ada"]["ex_manual:manual"] == "0"
    scores = write_scores(tmp_path / "scores.csv", [("ada", "why", "2", "2", "clear"), ("ada", "how", "1", "1.5", ""),
                                                    ("bob", "why", "0.5", "2", "'=1+1"), ("bob", "how", "", "", "")])
    counts = import_manual(exercise_id=EXERCISE, scores_csv=scores, gradebook=gradebook, by="marker")
    assert (counts.stored, counts.replaced, counts.skipped) == (3, 0, 1)
    after = exported(gradebook, tmp_path / "after.csv")
    assert after["ada"]["ex_manual"] == "9.0" and after["bob"]["ex_manual"] == "6.5"
    assert (after["ada"]["ex_manual:raw"], after["ada"]["ex_manual:manual"]) == ("6.0", "3.0")
    assert (after["ada"]["ex_manual:manual:why"], after["ada"]["ex_manual:manual:how"]) == ("2.0", "1.0")
    assert after["bob"]["ex_manual:manual:how"] == "" and after["cy"]["ex_manual"] == "6.0"
    export_grades(gradebook=gradebook, out_csv=tmp_path / "canvas.csv", format="canvas")
    header, possible, *_ = list(csv.reader(open(tmp_path / "canvas.csv", newline="")))
    assert possible[header.index("ex_manual")] == "13.5"

    again = write_scores(tmp_path / "again.csv", [("ada", "why", "1", "2", "on second thought")])
    counts = import_manual(exercise_id=EXERCISE, scores_csv=again, gradebook=gradebook)
    assert (counts.stored, counts.replaced, counts.skipped) == (1, 1, 0)
    assert exported(gradebook, tmp_path / "again-export.csv")["ada"]["ex_manual"] == "8.0"
    with Session(open_gradebook(gradebook)) as session:
        rows = {(s.student_id, s.question_id): (s.points, s.comment, s.by) for s in session.query(ManualScore)}
    assert rows[("ada", "why")][:2] == (1.0, "on second thought") and rows[("bob", "why")] == (0.5, "=1+1", "marker")


def test_cli_export_and_import(gradebook, tmp_path):
    runner = CliRunner()
    out = tmp_path / "manual"
    done = runner.invoke(main, ["manual", "export", EXERCISE, "--gradebook", str(gradebook), "--out", str(out),
                                "--anonymise"])
    assert done.exit_code == 0, done.output
    assert "3 students, 2 question pages" in done.output and (out / "key.csv").is_file()
    done = runner.invoke(main, ["manual", "import", EXERCISE, str(out / "scores.csv"), "--gradebook", str(gradebook)])
    assert done.exit_code == 0, done.output
    assert "0 scores stored (0 replacing earlier ones), 6 rows without points skipped" in done.output
    bad = write_scores(tmp_path / "bad.csv", [("S001", "why", "1", "", "")])
    done = runner.invoke(main, ["manual", "import", EXERCISE, str(bad), "--gradebook", str(gradebook)])
    assert done.exit_code != 0 and "no student S001 in the gradebook" in done.output


@pytest.mark.parametrize("exercise_id, count", [("ch04_xor", 3), ("ch06_banknotes", 5)])
def test_course_exercises_declare_their_chapter_questions(exercise_id, count, monkeypatch):
    monkeypatch.delenv("DLGRADE_COURSE_ROOT", raising=False)
    exercise = load_exercise(exercise_id)
    assert len(exercise.manual) == count
    solution = submitted_answers(submission=exercise.solution, exercise=exercise)
    template = submitted_answers(submission=exercise.template, exercise=exercise)
    assert set(solution) == set(template) == set(exercise.manual)
    assert all(text == TEMPLATE_ANSWER for text in template.values())
    assert all(len(text) > 100 for text in solution.values())


def test_a_model_answer_in_a_bundle_is_a_leak(tmp_path, monkeypatch):
    monkeypatch.delenv("DLGRADE_COURSE_ROOT", raising=False)
    exercise = load_exercise("ch04_xor")
    template = nbformat.read(exercise.template, as_version=4)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    nbformat.write(template, bundle / exercise.notebook)
    assert not [leak for leak in scan_for_leaks(bundle, exercises=[exercise]) if "solution cell" in leak]
    solution = nbformat.read(exercise.solution, as_version=4)
    model = {c.metadata["dlgrade"]["id"]: c.source for c in solution.cells
             if c.metadata.get("dlgrade", {}).get("role") == "manual"}
    for cell in template.cells:
        if cell.metadata.get("dlgrade", {}).get("id") == "gradient_tape":
            cell.source = model["gradient_tape"]
    nbformat.write(template, bundle / exercise.notebook)
    assert any("holds a solution cell" in leak for leak in scan_for_leaks(bundle, exercises=[exercise]))
