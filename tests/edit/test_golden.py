"""Golden edits: each case's input + instruction must give ``golden/expected/<case>.py`` exactly.

The expected files were read by eye once; a diff here means a transform's output changed. Every result must
parse (LibCST and CPython), and the untouched lines of the input must survive byte for byte.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

import libcst as cst
import pytest

from tests.edit.golden_cases import CASES
from tools.edit import EditRequest, edit_code

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(CASES))
def test_edit_matches_golden(name: str) -> None:
    source, instruction = CASES[name]
    before = (GOLDEN / source).read_text()
    result = edit_code(EditRequest(files={source: before}, instruction=instruction))
    after = result.files[source]
    assert after == (GOLDEN / "expected" / f"{name}.py").read_text()
    cst.parse_module(after)
    ast.parse(after)
    assert result.applied and not result.skipped, (result.applied, result.skipped)
    if after != before:
        assert result.diff.startswith(f"--- a/{source}")
    # Untouched code keeps its exact text (comments and layout): only inserted/replaced lines differ.
    removed = [
        line[2:] for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")
    ]
    assert len(removed) <= 8, removed


def test_every_edit_kind_has_a_golden_case() -> None:
    from tools.edit.transforms import TRANSFORMS

    kinds = set()
    for source, instruction in CASES.values():
        from tools.edit import parse_instruction

        kinds |= {s.kind for s in parse_instruction(instruction) or []}
        assert source
    assert kinds == set(TRANSFORMS)
