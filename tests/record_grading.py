"""Grade one submission as `dlgrade grade` does while recording what the tests send to student code and every
figure they hand to the feedback page (used by tests/test_hidden_data_leaks.py; one process per grading, since
the grader's pytest run imports each exercise's test modules once per process).

    python tests/record_grading.py EXERCISE SUBMISSION OUT

writes OUT/results.json and OUT/feedback.html as the grader does, and OUT/recorded.json with OUT/recorded.npz:
for every request to the sandbox its description, the strings it carried and the names of its arrays; for every
figure its test id, kind and title, and its data.
"""
import json
import sys
from pathlib import Path

import numpy as np

import dlgrade.grade
from dlgrade.proxy import Remote, StudentSession


def walk(value):
    """The arrays and strings inside a payload sent to student code (dicts, lists, tuples, tensors)."""
    if isinstance(value, Remote):  # a reference to the student's own object
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from walk(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        array = np.asarray(value)
        if array.dtype.kind in "US":
            yield from (str(v) for v in array.ravel())
        elif array.dtype.kind == "O":
            yield from walk(list(array.ravel()))
        else:
            yield array


def main(exercise_id: str, submission: Path, out: Path) -> None:
    requests, arrays, drawn = [], {}, []
    exchange, render = StudentSession.exchange, dlgrade.grade.render_feedback

    def recording_exchange(self, header, *, payload=None, what):
        strings, names = [], []
        for value in walk(payload or {}):
            if isinstance(value, str):
                strings.append(value)
            else:
                names.append(f"sent_{len(arrays)}")
                arrays[names[-1]] = value
        requests.append({"what": what, "strings": strings, "arrays": names})
        return exchange(self, header, payload=payload, what=what)

    def recording_render(*, results, figures: dict, **options):
        for test_id, made in figures.items():
            for figure in made:
                name = f"figure_{len(arrays)}"
                points = [np.column_stack(pair) for pair in figure.get("points", {}).values()]  # (x, y) scattered
                arrays[name] = figure.get("images", figure.get("values", np.concatenate(points) if points
                                                    else np.zeros(0)))
                drawn.append({"test_id": test_id, "kind": figure["kind"], "title": figure["title"], "data": name})
        return render(results=results, figures=figures, **options)

    StudentSession.exchange = recording_exchange
    dlgrade.grade.render_feedback = recording_render
    dlgrade.grade.grade_submission(submission=submission, exercise=exercise_id, out_dir=out)
    np.savez_compressed(out / "recorded.npz", **arrays)
    (out / "recorded.json").write_text(json.dumps({"requests": requests, "figures": drawn}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
