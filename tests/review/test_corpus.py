"""Accuracy of the review engine against the labelled corpus in bench/review_corpus (issue 3's target).

The corpus labels are ground truth (policy: bench/review_corpus/README.md). The engine must reach, per
checklist item, >= 0.95 precision and recall on the fail class and >= 0.95 exact status agreement.
Scoring code is shared with bench/review_bench.py, which prints the same numbers plus every mismatch.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = 0.95


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("review_bench", REPO / "bench" / "review_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["review_bench"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
CASES = bench.load_corpus()


def test_corpus_is_large_and_covers_every_item_and_status() -> None:
    """At least 45 cases; each item has pass, fail and unknown examples, and not_applicable ones somewhere."""
    assert len(CASES) >= 45
    for item in bench.CHECKLIST_IDS:
        seen = {case.labels[item] for case in CASES}
        assert {"pass", "fail", "unknown"} <= seen, f"{item}: only {sorted(seen)}"
    assert any("not_applicable" in case.labels.values() for case in CASES)


def test_corpus_python_files_parse() -> None:
    """Every case is valid Python: a syntax error would test the parse-error path, not the rules."""
    for case in CASES:
        for path, text in case.files.items():
            if path.endswith(".py"):
                compile(text, f"{case.name}/{path}", "exec")


def test_item_score_arithmetic() -> None:
    """The bench's precision/recall: 2 true fails, 1 false fail, 1 missed fail, 1 pass agreed."""
    s = bench.ItemScore("x", n=5, agree=3, fail_tp=2, fail_fp=1, fail_fn=1)
    assert s.fail_precision == pytest.approx(2 / 3)
    assert s.fail_recall == pytest.approx(2 / 3)
    assert s.accuracy == pytest.approx(3 / 5)
    assert bench.ItemScore("y").fail_precision is None


def test_generated_speed_inputs_are_valid_and_deterministic(tmp_path: Path) -> None:
    big = bench.generate_big_file()
    assert big == bench.generate_big_file()
    assert 3000 <= big.count("\n") <= 3200
    compile(big, "big_module.py", "exec")
    assert bench.generate_project(tmp_path) == 50
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 50
    for p in files:
        if p.suffix == ".py":
            compile(p.read_text(), str(p), "exec")


@pytest.fixture(scope="module")
def accuracy() -> Any:
    return bench.score(CASES)


def test_engine_reviews_every_case_without_error(accuracy: Any) -> None:
    assert accuracy.errors == []
    missing = [o for o in accuracy.outcomes if o.got not in bench.STATUSES]
    assert missing == [], f"items missing from reports: {missing[:5]}"


@pytest.mark.parametrize("item", bench.CHECKLIST_IDS)
def test_item_precision_and_recall(accuracy: Any, item: str) -> None:
    s = accuracy.per_item[item]
    wrong = [
        f"{o.case}: expected {o.expected}, got {o.got} ({o.evidence[:100]})"
        for o in accuracy.mismatches
        if o.item == item
    ]
    detail = "\n".join(wrong)
    precision = 1.0 if s.fail_precision is None else s.fail_precision
    recall = 1.0 if s.fail_recall is None else s.fail_recall
    assert precision >= TARGET, f"{item} fail precision {precision:.2f}\n{detail}"
    assert recall >= TARGET, f"{item} fail recall {recall:.2f}\n{detail}"
    assert s.accuracy >= TARGET, f"{item} status agreement {s.accuracy:.2f}\n{detail}"
