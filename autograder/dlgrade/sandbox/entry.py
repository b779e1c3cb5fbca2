"""How the sandbox's processes start: the interpreter isolated (``-I``: no PYTHON* variables, no user site, no
script folder on ``sys.path``) and the engine imported from the folder the grader's own engine came from, so
the sandbox runs the grader's code whatever an installation's path hooks point at (another checkout's
editable install, say). That folder is on ``sys.path`` only while the entry module is imported."""
from __future__ import annotations

import sys
from pathlib import Path

_START = ("import importlib, sys; module, root = sys.argv.pop(), sys.argv.pop(); sys.path.insert(0, root); "
          "main = importlib.import_module(module).main; sys.path.remove(root); main()")


def engine_command(module: str, argument: str) -> list[str]:
    """The command that runs ``module.main()`` with ``sys.argv[1] == argument``."""
    import dlgrade

    root = str(Path(dlgrade.__file__).resolve().parents[1])
    return [sys.executable, "-I", "-c", _START, argument, root, module]
