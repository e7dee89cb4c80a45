"""``codegen_full`` tests (every backbone of every architecture) run only when asked: ``-m codegen_full``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "codegen_full" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(
        reason="all-backbones sweep: run `make test-codegen-full` (pytest -m codegen_full)"
    )
    for item in items:
        if "codegen_full" in item.keywords:
            item.add_marker(skip)
