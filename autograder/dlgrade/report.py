"""The class report of one exercise, from the gradebook's latest submissions: a score table and summary in the
terminal after a batch, and one self-contained HTML page (``dlgrade report``): score distribution, pass rate
of every check, the most common failure messages, the slowest submissions and the regrade candidates (gradings
with checks not judged). Plots are drawn with matplotlib (Agg) and embedded as PNG; every text from a student
or a test is escaped, and the page is ASCII."""
from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from dlgrade.gradebook import latest_submissions, open_gradebook
from dlgrade.judged import NOT_JUDGED, score_text
from dlgrade.text import clean_text, terminal_safe

MESSAGE_CHARS = 200
TOP = 10
TERMINAL_ROWS = 200


@dataclass
class Row:
    student: str
    score: float
    max_score: float
    seconds: float
    not_judged: list[str]


@dataclass
class ClassReport:
    """What the terminal summary and the page show."""

    exercise_id: str
    rows: list[Row]
    checks: dict[str, Counter] = field(default_factory=dict)  # check name -> outcome -> count
    failures: list[tuple[str, str, int]] = field(default_factory=list)  # check, first line of message, count

    @property
    def scores(self) -> list[float]:
        return [row.score for row in self.rows]


def first_line(text: str) -> str:
    """The first non-blank line of a message, cut to MESSAGE_CHARS."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS - 1] + "…"


def class_report(*, gradebook: Path, exercise_id: str) -> ClassReport:
    """Everything the report shows, from the latest submission of every student for ``exercise_id``."""
    with Session(open_gradebook(gradebook)) as session:
        submissions = [s for s in latest_submissions(session) if s.exercise_id == exercise_id]
        report = ClassReport(exercise_id, [])
        failures: Counter = Counter()
        for submission in sorted(submissions, key=lambda s: s.student_id):
            waiting = [test.name for test in submission.tests if test.status == NOT_JUDGED]
            report.rows.append(Row(submission.student_id, submission.score, submission.max_score,
                                   submission.seconds, waiting))
            for test in submission.tests:
                report.checks.setdefault(test.name, Counter())[test.status] += 1
                if test.status not in ("passed", NOT_JUDGED):
                    failures[(test.name, first_line(test.output))] += 1
    report.failures = [(name, message, count) for (name, message), count in failures.most_common(TOP)]
    return report


def _summary(report: ClassReport) -> str:
    scores = report.scores
    if not scores:
        return f"{report.exercise_id}: no graded submissions in the gradebook"
    full = sum(row.score >= row.max_score for row in report.rows)
    return (f"{len(scores)} students: mean {statistics.fmean(scores):.2f}, median {statistics.median(scores):g}, "
            f"min {min(scores):g}, max {max(scores):g} of {report.rows[0].max_score:g}; {full} with full marks; "
            f"{sum(bool(row.not_judged) for row in report.rows)} to regrade (checks not judged)")


def print_class_summary(report: ClassReport, *, console: Console) -> None:
    """The score table (lowest first, at most TERMINAL_ROWS rows) and a one-line summary."""
    table = Table(title=f"{report.exercise_id}: scores")
    for column in ("student", "score", "seconds", "not judged"):
        table.add_column(column)
    rows = sorted(report.rows, key=lambda row: (row.score, row.student))
    for row in rows[:TERMINAL_ROWS]:
        table.add_row(escape(terminal_safe(row.student)), score_text(row.score, row.max_score), f"{row.seconds:.1f}",
                      escape(terminal_safe(", ".join(row.not_judged))))
    console.print(table)
    if len(rows) > TERMINAL_ROWS:
        console.print(f"... {len(rows) - TERMINAL_ROWS} more: see dlgrade report {report.exercise_id}")
    console.print(_summary(report), markup=False, highlight=False)


def _plot(draw, *, height: float = 3.5) -> str:
    """A matplotlib figure drawn by ``draw(axis)``, as an <img> with an embedded PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, height))
    draw(axis)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _label(name: str) -> str:
    """A check's name as a plot label: short, and with ``$`` kept literal (matplotlib reads $...$ as maths)."""
    return name[:40].replace("$", r"\$")


def _escape(text: str) -> str:
    return html.escape(clean_text(text))


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<tr>{''.join(f'<td>{cell}</td>' for cell in row)}</tr>" for row in rows)
    return f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{cells}</table>"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.5rem; }}
td, th {{ padding: .2rem .6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


def render_report(report: ClassReport) -> str:
    """The class report as one self-contained page."""
    body = [f"<p>{_escape(_summary(report))}</p>"]
    if report.rows:
        top = max(1.0, *(row.max_score for row in report.rows))
        body.append("<h2>Score distribution</h2>")
        body.append(_plot(lambda axis: (axis.hist(report.scores, bins=min(20, max(5, int(top) + 1)),
                                                  range=(0, top), color="#3b7dd8", edgecolor="white"),
                                        axis.set_xlabel("score"), axis.set_ylabel("students"))))
    names = list(report.checks)
    rates = [counts["passed"] / max(1, sum(n for o, n in counts.items() if o != NOT_JUDGED))
             for counts in report.checks.values()]
    if names:
        body.append("<h2>Pass rate per check</h2>")
        body.append(_plot(lambda axis: (axis.barh(range(len(names)), [100 * r for r in rates], color="#27ae60"),
                                        axis.set_yticks(range(len(names)), [_label(n) for n in names], fontsize=7),
                                        axis.invert_yaxis(), axis.set_xlim(0, 100),
                                        axis.set_xlabel("% of judged gradings passed")),
                           height=min(20.0, 1.0 + 0.3 * len(names))))
        body.append(_table(["check", "passed", "partial", "failed", "not judged", "pass rate"], [
            [_escape(name), *(str(counts[o]) for o in ("passed", "partial", "failed", NOT_JUDGED)), f"{rate:.0%}"]
            for (name, counts), rate in zip(report.checks.items(), rates)]))
    body.append("<h2>Most common failure messages</h2>")
    body.append(_table(["check", "message (first line)", "students"],
                       [[_escape(name), _escape(message), str(count)] for name, message, count in report.failures]))
    body.append("<h2>Slowest submissions</h2>")
    slowest = sorted(report.rows, key=lambda row: -row.seconds)[:TOP]
    body.append(_table(["student", "seconds", "score"], [[_escape(row.student), f"{row.seconds:.1f}",
                                                           score_text(row.score, row.max_score)] for row in slowest]))
    body.append("<h2>Regrade candidates (checks not judged)</h2>")
    waiting = [row for row in report.rows if row.not_judged]
    body.append(_table(["student", "checks not judged"], [[_escape(row.student), _escape(", ".join(row.not_judged))]
                                                         for row in waiting]))
    if waiting:
        body.append("<p>Run the batch again to regrade them.</p>")
    page = PAGE.format(title=_escape(f"{report.exercise_id}: class report"), body="\n".join(body))
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")


def write_report(*, gradebook: Path, exercise_id: str, out: Path) -> ClassReport:
    """Write the class report page of ``exercise_id`` to ``out``."""
    report = class_report(gradebook=gradebook, exercise_id=exercise_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(report))
    return report
