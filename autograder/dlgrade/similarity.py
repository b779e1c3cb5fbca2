"""Similar submissions of one exercise, from the graded cells the gradebook keeps.

Each graded cell is normalised at the AST level (Python's ``ast``): comments, docstrings and layout vanish
with ``ast.unparse``, and every name the student chose becomes the placeholder ``v`` (names the template
already uses, builtins, attributes and keyword arguments stay, as students do not choose them). One
placeholder rather than numbered ones, so that an inserted or reordered line shifts nothing else. The lines
of the template's own cell are then left out, so that untouched template code never counts. Every pair of
students is compared on the remaining normalised lines with :class:`difflib.SequenceMatcher` (its cheap upper
bounds first): lines rather than tokens, as one line of tens of tokens keeps the pairs of a class fast, and
normalising already makes a disguised line equal to its original. The standard library is enough here, and
the cells are bounded by the notebook reader.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlgrade.exercise import Exercise, load_exercise
from dlgrade.gradebook import GradedCell, latest_submissions, open_gradebook
from dlgrade.notebook import NotebookProblem, find_notebook, read_notebook, runnable_cells
from dlgrade.text import clean_text

MAX_PARSED_CHARS = 50_000  # per cell: longer cells are compared line by line, without parsing
MAX_LINES = 2_000  # per submission
MAX_SUBMISSIONS = 600  # n² pairs: 180,000 at most
MAX_PAGES = 100  # pairs given a side-by-side page
MAX_LISTED = 1_000  # pairs listed in index.html
PLACEHOLDER = "v"
KEPT_NAMES = frozenset(dir(builtins))
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?|\S")


@dataclass(frozen=True)
class Pair:
    """Two students whose graded code is alike: ``kind`` is identical (as submitted), normalised (equal after
    normalising) or similar; ``score`` is the share of matching normalised lines (1.0 for equal)."""

    a: str
    b: str
    score: float
    kind: str


@dataclass(frozen=True)
class Code:
    """One student's graded cells as submitted and as compared."""

    raw: dict[str, str]
    normalised: dict[str, list[str]]
    lines: tuple[str, ...]
    tokens: int

    @property
    def key(self) -> str:
        return hashlib.sha256("\0".join(self.lines).encode("utf-8", "backslashreplace")).hexdigest()


class _Rename(ast.NodeTransformer):
    def __init__(self, kept: frozenset[str]):
        self.kept = kept

    def _name(self, name: str) -> str:
        return name if name in self.kept else PLACEHOLDER

    def visit_Name(self, node):
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node):
        node.arg, node.annotation = self._name(node.arg), None
        return node

    def _definition(self, node):
        node.name = self._name(node.name)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # the docstring
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_ExceptHandler(self, node):
        node.name = node.name and self._name(node.name)
        self.generic_visit(node)
        return node

    def visit_alias(self, node):
        node.asname = node.asname and self._name(node.asname)
        return node


def _parse(source: str) -> ast.Module | None:
    """The cell's syntax tree (IPython's ``%`` and ``!`` lines left out), or None when it cannot be parsed."""
    if len(source) > MAX_PARSED_CHARS:
        return None
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        return ast.parse(python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def template_names(sources: list[str]) -> frozenset[str]:
    """The names the template gives the students, kept when normalising: what its cells define at the top
    level (functions, imports, variables) and what they use without defining (builtins, names of other cells).
    Parameters and local variables are the student's to choose, even where the template names them."""
    names = set(KEPT_NAMES)
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(statement.name)
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                names.update(node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name))
        bound, used = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
        names.update(used - bound)
    return frozenset(names)


def normalise(source: str, *, kept: frozenset[str] = KEPT_NAMES) -> list[str]:
    """The cell's lines with comments, docstrings and layout normalised and chosen names replaced; a cell
    that cannot be parsed gives its non-blank lines without ``#`` comments, stripped."""
    return _normalised(source, kept=kept)[0]


def _normalised(source: str, *, kept: frozenset[str]) -> tuple[list[str], bool]:
    """The normalised lines, and whether they come from the syntax tree."""
    tree = _parse(source)
    if tree is not None:
        try:
            return [line for line in ast.unparse(_Rename(kept).visit(tree)).splitlines() if line.strip()], True
        except (RecursionError, MemoryError, ValueError):
            pass
    return _plain_lines(source), False


def _plain_lines(source: str) -> list[str]:
    return [line.split("#")[0].strip() for line in source.splitlines()[:10_000] if line.split("#")[0].strip()]


def without_template(lines: list[str], template: list[str]) -> list[str]:
    """``lines`` less those the template's cell holds (as often as it holds them)."""
    left = Counter(template)
    kept = []
    for line in lines:
        if left[line] > 0:
            left[line] -= 1
        else:
            kept.append(line)
    return kept


def student_code(raw: dict[str, str], *, template: dict[str, str], graded_cells: tuple[str, ...],
                 kept: frozenset[str]) -> Code:
    """A student's cells ready to compare: normalised, the template's lines left out, tokens counted."""
    normalised, lines = {}, []
    for cell_id in graded_cells:
        own, parsed = _normalised(raw.get(cell_id, ""), kept=kept)
        given = template.get(cell_id, "")  # left out in the same form: a cell that does not parse keeps its lines
        normalised[cell_id] = without_template(own, normalise(given, kept=kept) if parsed else _plain_lines(given))
        if normalised[cell_id]:
            lines += [f"<cell {cell_id}>", *normalised[cell_id]]
    lines = lines[:MAX_LINES]
    return Code(raw=raw, normalised=normalised, lines=tuple(lines),
                tokens=sum(len(_TOKEN.findall(line)) for line in lines if not line.startswith("<cell ")))


def compare(codes: dict[str, Code], *, threshold: float = 0.7, min_tokens: int = 30) -> list[Pair]:
    """Every pair with at least ``threshold`` of their normalised lines alike, most alike first; students with
    fewer than ``min_tokens`` tokens of their own (beyond the template) are never flagged."""
    if len(codes) > MAX_SUBMISSIONS:
        raise ValueError(f"{len(codes)} submissions: similarity compares at most {MAX_SUBMISSIONS} at once")
    names = sorted(student for student, code in codes.items() if code.tokens >= min_tokens)
    ids: dict[str, int] = {}
    sequences = {name: [ids.setdefault(line, len(ids)) for line in codes[name].lines] for name in names}
    pairs = []
    for index, b in enumerate(names):
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(sequences[b])
        for a in names[:index]:
            matcher.set_seq1(sequences[a])
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            if codes[a].lines == codes[b].lines:
                same_raw = all(_strip(codes[a].raw.get(c, "")) == _strip(codes[b].raw.get(c, ""))
                               for c in codes[a].normalised)
                pairs.append(Pair(a, b, 1.0, "identical" if same_raw else "normalised"))
            elif (score := matcher.ratio()) >= threshold:
                pairs.append(Pair(a, b, score, "similar"))
    return sorted(pairs, key=lambda pair: (-pair.score, pair.kind != "identical", pair.a, pair.b))


def _strip(source: str) -> list[str]:
    return [line.rstrip() for line in source.strip().splitlines()]


def submitted_cells(*, submission: Path, exercise: Exercise) -> dict[str, str]:
    """The graded cells of a submission as ``{cell id: source}``, read with the notebook reader's bounds;
    empty when the notebook cannot be read (the grading has said why)."""
    try:
        cells = runnable_cells(read_notebook(find_notebook(submission, exercise)), exercise)
    except (NotebookProblem, OSError):
        return {}
    graded = {}
    for cell in cells:
        if cell["role"] == "graded" and cell["id"] in exercise.graded_cells:
            graded.setdefault(cell["id"], clean_text(cell["source"]))
    return graded


def template_cells(exercise: Exercise) -> dict[str, str]:
    """The template's graded (and setup) cells, or none without a template."""
    if exercise.template is None or not exercise.template.is_file():
        return {}
    try:
        cells = runnable_cells(read_notebook(exercise.template), exercise)
    except NotebookProblem:
        return {}
    return {cell["id"]: cell["source"] for cell in cells}


def gradebook_code(*, session: Session, exercise: Exercise) -> tuple[dict[str, Code], list[str]]:
    """Every student's latest submission of ``exercise`` ready to compare, and the students whose cells
    the gradebook does not hold (graded before it kept them, or not readable)."""
    template = template_cells(exercise)
    kept = template_names(list(template.values()))
    codes, missing = {}, []
    for submission in latest_submissions(session):
        if submission.exercise_id != exercise.id:
            continue
        rows = session.scalars(select(GradedCell).where(GradedCell.submission_id == submission.id)).all()
        if not rows:
            missing.append(submission.student_id)
            continue
        raw = {row.cell_id: row.source for row in rows}
        codes[submission.student_id] = student_code(raw, template=template, graded_cells=exercise.graded_cells,
                                                    kept=kept)
    return codes, sorted(missing)


def identical_groups(*, gradebook: Path, exercise_id: str, min_tokens: int = 30) -> list[list[str]]:
    """Groups of students whose graded code (beyond the template) is the same after normalising."""
    exercise = load_exercise(exercise_id)
    with Session(open_gradebook(gradebook)) as session:
        codes, _ = gradebook_code(session=session, exercise=exercise)
    groups: dict[str, list[str]] = {}
    for student, code in sorted(codes.items()):
        if code.tokens >= min_tokens:
            groups.setdefault(code.key, []).append(student)
    return [group for group in groups.values() if len(group) > 1]


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .2rem .6rem; border-bottom: 1px solid #ddd; }}
table.diff {{ font-family: monospace; font-size: .85rem; }} table.diff td {{ white-space: pre-wrap; border: 0; }}
.diff_header {{ background: #e0e0e0; }} .diff_next {{ background: #c0c0c0; }}
.diff_add {{ background: #aaffaa; }} .diff_chg {{ background: #ffff77; }} .diff_sub {{ background: #ffaaaa; }}
</style></head><body>
<h1>{title}</h1>
{body}
</body></html>
"""
KINDS = {"identical": "identical as submitted", "normalised": "identical after normalising names, comments, layout",
         "similar": "near-duplicate"}


def _escape(text: str) -> str:
    return html.escape(clean_text(text))


def _page(title: str, body: str) -> str:
    return PAGE.format(title=_escape(title), body=body).encode("ascii", "xmlcharrefreplace").decode("ascii")


def render_pair(pair: Pair, codes: dict[str, Code], *, exercise_id: str) -> str:
    """One flagged pair side by side: the code as compared, then as submitted, cell by cell."""
    differ = difflib.HtmlDiff(wrapcolumn=70)
    a, b = codes[pair.a], codes[pair.b]
    body = [f"<p>{KINDS[pair.kind]}: {pair.score:.0%} of the normalised lines beyond the template match.</p>"]
    for title, left, right in (
            ("as compared (names the student chose shown as v; comments, docstrings, layout and the template's "
             "lines left out)", a.normalised, b.normalised),
            ("as submitted", {c: s.splitlines() for c, s in a.raw.items()},
             {c: s.splitlines() for c, s in b.raw.items()})):
        body.append(f"<h2>{_escape(title)}</h2>")
        for cell_id in a.normalised:
            table = differ.make_table(left.get(cell_id, [])[:2000], right.get(cell_id, [])[:2000],
                                      fromdesc=_escape(pair.a), todesc=_escape(pair.b))
            body.append(f"<h3>cell {_escape(cell_id)}</h3>{table}")
    return _page(f"{exercise_id}: {pair.a} and {pair.b}", "\n".join(body))


def render_index(pairs: list[Pair], *, exercise_id: str, compared: int, missing: list[str]) -> str:
    """The ranked list of flagged pairs (the first MAX_LISTED), each of the first MAX_PAGES linked to its page."""
    rows = []
    for index, pair in enumerate(pairs[:MAX_LISTED]):
        link = f'<a href="pair-{index + 1:03d}.html">diff</a>' if index < MAX_PAGES else ""
        rows.append(f"<tr><td>{index + 1}</td><td>{_escape(pair.a)}</td><td>{_escape(pair.b)}</td>"
                    f"<td>{pair.score:.0%}</td><td>{KINDS[pair.kind]}</td><td>{link}</td></tr>")
    body = f"<p>{compared} submissions compared; {len(pairs)} pairs flagged.</p>"
    if missing:
        body += (f"<p>Not compared (the gradebook holds no graded cells for them: graded before it kept them, "
                 f"or their notebook could not be read): {_escape(', '.join(missing))}</p>")
    body += ("<table><tr><th>#</th><th>student</th><th>student</th><th>alike</th><th>kind</th><th></th></tr>"
             + "".join(rows) + "</table>")
    if len(pairs) > MAX_LISTED:
        body += f"<p>... and {len(pairs) - MAX_LISTED} pairs less alike (raise --threshold to see fewer).</p>"
    return _page(f"{exercise_id}: similar submissions", body)


@dataclass
class SimilarityReport:
    pairs: list[Pair]
    compared: int
    missing: list[str]
    index: Path


def find_similar(*, exercise_id: str, gradebook: Path, out_dir: Path, threshold: float = 0.7,
                 min_tokens: int = 30) -> SimilarityReport:
    """Compare every latest submission of the exercise in ``gradebook``; write ``out_dir/index.html`` and a
    side-by-side page for each of the first flagged pairs."""
    exercise = load_exercise(exercise_id)
    with Session(open_gradebook(gradebook)) as session:
        codes, missing = gradebook_code(session=session, exercise=exercise)
    pairs = compare(codes, threshold=threshold, min_tokens=min_tokens)
    out_dir.mkdir(parents=True, exist_ok=True)
    for index, pair in enumerate(pairs[:MAX_PAGES]):
        (out_dir / f"pair-{index + 1:03d}.html").write_text(render_pair(pair, codes, exercise_id=exercise_id))
    index = out_dir / "index.html"
    index.write_text(render_index(pairs, exercise_id=exercise_id, compared=len(codes), missing=missing))
    return SimilarityReport(pairs, len(codes), missing, index)
