"""Running a Jupyter notebook's code cells, as ``sweeper exec tutorial.ipynb`` does.

W&B's sweep tutorials are mostly notebooks: ``!pip install wandb``, ``wandb.login()``, a sweep
config, ``wandb.sweep``, a train function, ``wandb.agent(sweep_id, train, count=N)``. Their code
cells run here in order, in one IPython shell (IPython's own, so ``!cmd``, ``files = !ls``,
``%env``, ``%cd``, ``%%writefile``, ``%%bash`` and ``%%capture`` do what they do in Jupyter), as
``jupyter nbconvert --execute`` would, with no kernel and no browser. The first cell that fails
ends the notebook: its traceback as IPython shows it, and exit code 1; ``sys.exit(N)`` in a cell
ends it with N; Ctrl-C ends it as it ends a script.

``!pip install`` / ``%pip install`` (and conda's) are left out, with a line on stderr: the
notebook runs in the environment sweeper is installed in, whose packages stay as they are.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from .errors import BadInput

_INSTALL = re.compile(r"^\s*(?:[\w./-]*python[\d.]*\s+-m\s+)?(?:pip3?|conda|mamba|uv\s+pip)\s+"
                      r"install\b")


def code_cells(path: Path) -> list[str]:
    """The source of each code cell of the notebook at ``path``, in order."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        sources = [cell.get("source", "") for cell in cells if cell.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise BadInput(f"{path}: not a Jupyter notebook that can be read ({err})") from None
    return ["".join(source) if isinstance(source, list) else str(source) for source in sources]


def run_notebook(path: Path) -> None:
    """Run the notebook's code cells in one IPython shell; the first failing cell's exception
    goes up (SystemExit with its code, KeyboardInterrupt as it is; any other as exit code 1,
    its traceback shown by IPython)."""
    cells = code_cells(path)
    shell = _shell()
    warnings.filterwarnings("ignore", message="To exit: use 'exit', 'quit', or Ctrl-D")
    shell.user_ns["__file__"] = str(path)
    for number, source in enumerate(cells, start=1):
        if not source.strip():
            continue
        result = shell.run_cell(source, store_history=False)
        error = result.error_before_exec or result.error_in_exec
        if isinstance(error, (SystemExit, KeyboardInterrupt)):
            raise error
        if error is not None:
            print(f"sweeper exec: {path}: code cell {number} failed: "
                  f"{type(error).__name__}: {error}", file=sys.stderr)
            raise SystemExit(1)


def _shell() -> Any:
    """An IPython shell whose package installs are left out (and said so)."""
    from IPython.core.interactiveshell import InteractiveShell

    class NotebookShell(InteractiveShell):
        def system(self, cmd: str) -> Any:
            if _INSTALL.match(cmd):
                return _left_out(cmd)
            return super().system(cmd)

        def showtraceback(self, *args: Any, **kwargs: Any) -> None:
            if isinstance(sys.exc_info()[1], (SystemExit, KeyboardInterrupt)):
                return  # run_notebook ends the notebook with them, as they end a script
            super().showtraceback(*args, **kwargs)

    shell = NotebookShell.instance(colors="linux" if sys.stdout.isatty() else "nocolor")
    shell.user_ns["__name__"] = "__main__"
    for name in ("pip", "conda", "mamba", "uv"):
        shell.register_magic_function(
            lambda line, name=name: _left_out(f"{name} {line}"), magic_kind="line",
            magic_name=name)
    return shell


def _left_out(command: str) -> None:
    print(f"sweeper exec: left out `{command.strip()}`: the notebook runs in sweeper's own "
          "environment, whose packages stay as they are", file=sys.stderr)
