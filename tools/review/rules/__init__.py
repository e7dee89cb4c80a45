"""The review rules, one per module. :func:`all_rules` discovers them by walking this package."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from tools.review.rules.base import PrimaryRule, Rule


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every rule, instantiated once, ordered by code (MLR001 ... MLR303)."""
    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("mlr"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Rule)
                and obj.code
                and obj.__module__ == module.__name__
            ):
                if obj.code in found:
                    raise RuntimeError(f"duplicate rule code {obj.code}")
                found[obj.code] = obj()
    return tuple(found[code] for code in sorted(found))


def rule_by_code(code: str) -> Rule | None:
    return next((r for r in all_rules() if r.code == code.upper()), None)


__all__ = ["PrimaryRule", "Rule", "all_rules", "rule_by_code"]
