"""Autofix golden files: ``fixes/NAME.in.py`` must become ``fixes/NAME.out.py`` exactly.

The fixed code must parse, must review clean for every rule that was fixed, and fixing it again changes
nothing. The goldens were checked by eye once; a diff here means the fixer's output changed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools.review import ReviewRequest, review
from tools.review.engine import review_files

FIXES = Path(__file__).parent / "fixes"
CASES = sorted(p.name.removesuffix(".in.py") for p in FIXES.glob("*.in.py"))


@pytest.mark.parametrize("name", CASES)
def test_fix_matches_golden_and_reviews_clean(name: str) -> None:
    before = (FIXES / f"{name}.in.py").read_text()
    expected = (FIXES / f"{name}.out.py").read_text()
    path = f"{name}.py"
    original = review_files({path: before})
    fixable = {f.rule for f in original.findings if f.fixable}
    assert fixable, "a golden case must exercise at least one fix"

    report = review_files({path: before}, fix=True)
    fixed = (report.fixed_files or {}).get(path, before)
    assert fixed == expected
    ast.parse(fixed)
    assert report.diff and report.diff.startswith(f"--- a/{path}")
    assert report.after is not None
    still = {f.rule for f in report.after.findings} & fixable
    assert not still, f"fixed code still has {still}"
    again = review_files({path: fixed}, fix=True)
    assert not again.fixed_files, "fixing twice must change nothing"


def test_fix_over_the_request_api_returns_files_and_diff() -> None:
    code = "import lightning as L\ntrainer = L.Trainer(max_epochs=1)\ntrainer.fit(model)\n"
    report = review(ReviewRequest(code=code, fix=True))
    assert report.fixed_files is not None
    fixed = report.fixed_files["snippet.py"]
    assert "gradient_clip_val=1.0" in fixed and 'precision="16-mixed"' in fixed
    assert "L.seed_everything(42, workers=True)" in fixed
    assert report.after is not None
    assert not any(f.rule in {"MLR006", "MLR007", "MLR009"} for f in report.after.findings)
    # The original findings stay, each saying whether the fixes removed it.
    assert {f.rule for f in report.findings if f.fixed} >= {"MLR006", "MLR007", "MLR009"}


def test_fix_skips_what_it_cannot_do_safely() -> None:
    # Trainer(**cfg): arguments unknown, nothing to add; the report still comes back without fixed files.
    code = "import lightning as L\nL.seed_everything(1, workers=True)\ntrainer = L.Trainer(**cfg)\n"
    report = review(ReviewRequest(code=code, fix=True))
    assert report.fixed_files == {}
    assert report.diff == ""
