"""Reviewing files and directories from disk (the CLI's path): a directory is one project."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.review.config import ConfigError, ReviewConfig, find_pyproject, parse_config
from tools.review.engine import parse_error_finding, review_files
from tools.review.models import MAX_FILE_BYTES, MAX_FILES, Finding, ReviewReport

SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "site-packages",
    "outputs",
    "logs",
    "lightning_logs",
    "wandb",
    "mlruns",
}
SUFFIXES = {".py", ".yaml", ".yml"}


class UnreadableInput(ValueError):
    """A path that was named explicitly cannot be reviewed (missing, binary, not UTF-8, too large)."""


@dataclass
class Collected:
    files: dict[str, str] = field(default_factory=dict)
    absolute: dict[str, Path] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)


def _read(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableInput(f"{path}: file is larger than {MAX_FILE_BYTES} bytes")
    data = path.read_bytes()
    if b"\x00" in data:
        raise UnreadableInput(f"{path}: binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableInput(f"{path}: not UTF-8 text (byte {exc.start})") from None


def collect(paths: Sequence[Path]) -> Collected:
    """Read the given files and every .py/.yaml/.yml under the given directories."""
    out = Collected()
    for given in paths:
        if not given.exists():
            raise UnreadableInput(f"{given}: no such file or directory")
        if given.is_file():
            rel = given.name if len(paths) == 1 else os.path.relpath(given)
            try:
                out.files[rel] = _read(given)
            except OSError as exc:
                raise UnreadableInput(f"{given}: {exc.strerror or exc}") from None
            out.absolute[rel] = given
            continue
        for root, dirs, names in os.walk(given):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(names):
                path = Path(root) / name
                if path.suffix.lower() not in SUFFIXES:
                    continue
                base = given if len(paths) == 1 else Path(".")
                rel = Path(os.path.relpath(path, base)).as_posix()
                if len(out.files) >= MAX_FILES:
                    raise UnreadableInput(f"{given}: more than {MAX_FILES} reviewable files")
                try:
                    out.files[rel] = _read(path)
                    out.absolute[rel] = path
                except (UnreadableInput, OSError) as exc:
                    out.problems.append(parse_error_finding(rel, "", message=f"skipped: {exc}"))
    return out


def load_config(paths: Sequence[Path]) -> ReviewConfig:
    pyproject = find_pyproject(paths[0]) if paths else None
    if pyproject is None:
        return ReviewConfig()
    try:
        return parse_config(pyproject.read_text(encoding="utf-8"), str(pyproject))
    except ConfigError as exc:
        raise UnreadableInput(str(exc)) from None


def review_paths(
    paths: Sequence[Path],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    fix: bool = False,
) -> ReviewReport:
    """Review files/directories as one project, honouring ``[tool.mlagent]`` found upward.

    ``fixed_files`` in the result maps the reviewed relative paths to fixed text (the CLI uses
    :func:`collect` itself to know where those paths live on disk).
    """
    collected = collect([Path(p) for p in paths])
    if not collected.files and not collected.problems:
        raise UnreadableInput("no Python or YAML files to review in " + ", ".join(str(p) for p in paths))
    config = load_config([Path(p) for p in paths])
    report = review_files(collected.files, select=select, ignore=ignore, fix=fix, config=config)
    if collected.problems:
        report.findings = sorted(
            [*collected.problems, *report.findings], key=lambda f: (f.path, f.line, f.column, f.rule)
        )
        report.summary.errors += len(collected.problems)
        report.summary.files += len(collected.problems)
    return report
