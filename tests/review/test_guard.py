"""The parse guard: texts that would crash or stall LibCST are refused in milliseconds, real code is not."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from tools.review import ReviewRequest, review
from tools.review.guard import MAX_AST_DEPTH, ast_depth_exceeds, check_source

REPO = Path(__file__).resolve().parents[2]

HOSTILE = {
    # LibCST's native parser overflowed the C stack here (SIGSEGV, the whole server died).
    "parentheses-1300": "import torch\nx = " + "(" * 1300 + "1" + ")" * 1300,
    # Superlinear in LibCST: 30 s and 120 s+ while holding the GIL.
    "subscripts-3000": "import torch\nx = a" + "[0]" * 3000,
    "additions-50000": "import torch\nx = " + "+".join(["a"] * 50_000),
    "calls-150": "import torch\nx = " + "f(" * 150 + ")" * 150,
    "unary-5000": "import torch\nx = " + "-" * 5000 + "1",
    "lambdas-500": "import torch\nf = " + "lambda: " * 500 + "1",
    "indentation-120": "import torch\n"
    + "".join(" " * i + "if a:\n" for i in range(120))
    + " " * 120
    + "pass\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_nesting_is_refused_quickly_with_a_reason(name: str) -> None:
    started = time.perf_counter()
    report = review(ReviewRequest(code=HOSTILE[name]))
    elapsed = time.perf_counter() - started
    # A guard against the old hang (minutes), not a benchmark: 1.0 s failed once at 1.14 s on a loaded machine.
    assert elapsed < 5.0, f"{name} took {elapsed:.2f} s"
    errors = [f for f in report.findings if f.rule == "MLR000"]
    assert len(errors) == 1, report.findings
    assert "nests too deeply" in errors[0].message or "indentation" in errors[0].message


def test_the_limit_sits_far_above_real_code() -> None:
    """The deepest tree among the project's own sources and the review corpus stays under a third of it."""
    deepest = 0
    for path in [*REPO.glob("tools/**/*.py"), *REPO.glob("bench/review_corpus/**/*.py")]:
        tree = ast.parse(path.read_text())
        for limit in range(10, MAX_AST_DEPTH + 1, 5):
            if ast_depth_exceeds(tree, limit) is None:
                deepest = max(deepest, limit)
                break
    assert 10 <= deepest <= MAX_AST_DEPTH // 3


def test_depth_just_under_the_limit_is_reviewed() -> None:
    source = "import torch\nx = a" + "[0]" * (MAX_AST_DEPTH - 10)
    assert check_source(source).refusal is None
    report = review(ReviewRequest(code=source))
    assert not [f for f in report.findings if f.rule == "MLR000"]


def test_syntax_this_interpreter_lacks_still_goes_to_libcst() -> None:
    """An ordinary syntax error is not a refusal: LibCST may know newer syntax, or report the error itself."""
    checked = check_source("def f(:\n    pass\n")
    assert checked.tree is None and checked.refusal is None
    report = review(ReviewRequest(code="import torch\ndef f(:\n    pass\n"))
    assert [f.line for f in report.findings if f.rule == "MLR000"] == [2]


def test_the_parsed_tree_is_handed_on() -> None:
    checked = check_source("import torch\nmodel = torch.nn.Linear(2, 2)\n")
    assert isinstance(checked.tree, ast.Module) and checked.refusal is None
