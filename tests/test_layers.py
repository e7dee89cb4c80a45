"""Imports run downward only: core <- knowledge/sandbox/tools <- agent.

A lower layer importing an upper one makes every tool drag the HTTP service in and creates import loops;
this test reads every module's imports (including those inside functions) and names each upward one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN: dict[str, set[str]] = {
    "core": {"agent", "tools", "sandbox", "knowledge"},
    "knowledge": {"agent"},
    "sandbox": {"agent"},
    "tools": {"agent"},
}


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_no_layer_above_it(package: str) -> None:
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, line in sorted(_imported_packages(path))
        if name in FORBIDDEN[package]
    ]
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from agent.chat import ChatService\n", encoding="utf-8")
    assert ("agent", 2) in _imported_packages(module)


def test_backend_modules_import_the_interface_not_the_package() -> None:
    """``sandbox/backends/<name>.py`` import ``sandbox.backends.base``; the package imports them (no loop)."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in sorted((ROOT / "sandbox" / "backends").glob("*.py"))
        if path.name != "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "sandbox.backends"
    ]
    assert not offenders, offenders
