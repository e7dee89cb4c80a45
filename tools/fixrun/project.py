"""What to run for a project folder: its files, and whether it is a Lightning project or a plain-PyTorch script.

A Lightning project runs under the harness (it finds the LightningModule); a plain-PyTorch project has no
module to find, so its training script runs in script mode, where the harness records each ``backward`` as a
step. The choice is made from the code, so ``mlagent fix-run`` needs no flag for it.
"""

from __future__ import annotations

import ast

SCRIPT_NAMES = ("train.py", "main.py", "run.py")


def _has_main_guard(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return "__main__" in text
    return any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in tree.body)


def detect_entrypoint(files: dict[str, str]) -> str | None:
    """``None`` for a Lightning project (harness mode), else the training script to run as ``__main__``.

    Lightning wins when any file defines a LightningModule subclass; otherwise the script is the file with a
    ``__main__`` guard (``train.py``, ``main.py``, ``run.py`` first), or the only .py file.
    """
    python = {p: t for p, t in files.items() if p.endswith(".py")}
    if any("LightningModule" in t for t in python.values()):
        return None
    guarded = [p for p, t in sorted(python.items()) if _has_main_guard(t)]
    for name in SCRIPT_NAMES:
        for path in guarded:
            if path.rsplit("/", 1)[-1] == name:
                return path
    if guarded:
        return guarded[0]
    if len(python) == 1:
        return next(iter(python))
    return None
