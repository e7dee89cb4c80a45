"""``[tool.mlagent]`` settings from pyproject.toml: select/ignore and per-path ignores.

Example::

    [tool.mlagent]
    select = ["ALL"]
    ignore = ["MLR012"]            # codes, code prefixes, rule names or checklist ids
    [tool.mlagent.per-path-ignores]
    "tests/**" = ["seeding", "MLR0"]
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.review.rules.base import Rule


class ConfigError(ValueError):
    """The [tool.mlagent] table is malformed."""


@dataclass
class ReviewConfig:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)
    source: str | None = None

    def ignored(self, path: str, rule: Rule) -> bool:
        from tools.review.engine import _matches

        for pattern, tokens in self.per_path_ignores.items():
            path_matches = fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(Path(path).name, pattern)
            if path_matches and any(_matches(rule, t) for t in tokens):
                return True
        return False


def _string_list(table: dict[str, Any], key: str, where: str) -> list[str] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.mlagent] {key} must be a list of strings")
    return value


def parse_config(text: str, where: str = "pyproject.toml") -> ReviewConfig:
    import tomllib  # here: a review with no pyproject.toml should not pay ~10 ms for the TOML parser

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("mlagent")
    if table is None:
        return ReviewConfig()
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.mlagent] must be a table")
    per_path = table.get("per-path-ignores", table.get("per_path_ignores", {}))
    if not isinstance(per_path, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in per_path.values()
    ):
        raise ConfigError(f"{where}: [tool.mlagent.per-path-ignores] maps globs to lists of rule ids")
    return ReviewConfig(
        select=_string_list(table, "select", where),
        ignore=_string_list(table, "ignore", where) or [],
        per_path_ignores={str(k): list(v) for k, v in per_path.items()},
        source=where,
    )


def config_from_files(files: dict[str, str]) -> ReviewConfig:
    """The config from a top-level ``pyproject.toml`` among submitted files (bad TOML: defaults)."""
    for path in ("pyproject.toml", "./pyproject.toml"):
        if path in files:
            try:
                return parse_config(files[path], path)
            except ConfigError:
                return ReviewConfig()
    return ReviewConfig()


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.mlagent] table, searching upward from ``start``."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for folder in (current, *current.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "[tool.mlagent" in text:
                return candidate
    return None
