"""Graded cells as Python, inside the sandbox: a cell that compiles runs as written; only one that does not
(``%magic``, ``!cmd``) is converted by IPython's own transformer (imported only then), within a limit of CPU
time (so a busy machine does not shorten it), because IPython's conversion of a long cell of shell lines takes
minutes."""
from __future__ import annotations

import signal
import sys

CONVERSION_SECONDS = 10.0


class _ConversionTimeout(BaseException):
    """Raised by the timer; a BaseException so that IPython's own ``except Exception`` clauses let it through."""


def compile_cell(source: str, *, filename: str, seconds: float | None = CONVERSION_SECONDS):
    """The cell's code object and the Python source it was compiled from; ``seconds`` bounds the IPython
    conversion (None: no bound, for trusted code run outside the main thread's signals)."""
    try:
        return compile(source, filename, "exec"), source
    except SyntaxError as error:
        python_error = error
    converted = _ipython_to_python(source, seconds=seconds, python_error=python_error)
    return compile(converted, filename, "exec"), converted


def _ipython_to_python(source: str, *, seconds: float | None, python_error: SyntaxError) -> str:
    expired = []

    def stop(signum, frame):
        expired.append(True)
        raise _ConversionTimeout

    if seconds is not None:
        previous = signal.signal(signal.SIGPROF, stop)
        signal.setitimer(signal.ITIMER_PROF, seconds, 0.05)  # and again every 0.05 s, should a clause swallow it
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        converted = TransformerManager().transform_cell(source)
        if expired:
            raise _ConversionTimeout
        return converted
    except _ConversionTimeout:
        raise SyntaxError(_too_slow(python_error, seconds)) from None
    except Exception as error:  # IPython could not convert it either: the syntax error stands
        if expired:
            raise SyntaxError(_too_slow(python_error, seconds)) from None
        python_error.msg = f"{python_error.msg} (IPython could not convert this cell either: {error})"
        raise python_error from None
    finally:
        if seconds is not None:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)


def _too_slow(python_error: SyntaxError, seconds: float) -> str:
    return (f"this cell is not plain Python ({python_error.msg}, line {python_error.lineno}), and converting its "
            f"IPython syntax (!shell commands, %magics) took more than {seconds:g} s of CPU time and was stopped; "
            "keep graded cells to Python (shell commands and magics are skipped when grading anyway)")


class IPythonStub:
    """Stands in for ``get_ipython()`` in converted cells: shell commands and magics are skipped."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.user_ns = namespace

    def system(self, command, *args, **kwargs):
        print(f"[dlgrade] skipped shell command: {command}", file=sys.stderr)

    getoutput = system

    def run_line_magic(self, name, line, *args, **kwargs):
        print(f"[dlgrade] skipped %{name} {line}", file=sys.stderr)

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name in ("time", "capture"):
            exec(compile(cell, f"<%%{name} cell>", "exec"), self.namespace)
        else:
            print(f"[dlgrade] skipped %%{name} cell", file=sys.stderr)
