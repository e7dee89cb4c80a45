"""Generated rule docs and the pre-commit hook definition stay in sync with the code."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools.review.docs import render_docs
from tools.review.rules import all_rules

REPO = Path(__file__).resolve().parents[2]


def test_rule_docs_are_generated_from_the_rules() -> None:
    committed = (REPO / "docs" / "review-rules.md").read_text()
    assert committed == render_docs(), "run: python -m tools.review.docs > docs/review-rules.md"
    for rule in all_rules():
        assert f"### {rule.code} `{rule.name}`" in committed


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["mlagent-review"]["entry"] == "mlagent review"
    assert by_id["mlagent-review"]["language"] == "python"
    assert "python" in by_id["mlagent-review"]["types_or"]
    assert by_id["mlagent-review-fix"]["entry"] == "mlagent review --fix"
