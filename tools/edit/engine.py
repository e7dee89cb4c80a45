"""Runs edits one after another on the files, each through the review engine's fix applier, then re-reviews."""

from __future__ import annotations

import difflib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence

import libcst as cst

from tools.edit.models import ChecklistChange, EditRequest, EditResult, EditSpec
from tools.edit.parse import describe_supported, parse_instruction
from tools.edit.source import Project
from tools.edit.transforms import TRANSFORMS, Outcome
from tools.review.fix import _Applier, apply_fixes, unified_diff
from tools.review.models import ReviewReport
from tools.review.rules.base import Fix

log = logging.getLogger(__name__)


def apply_edit(files: dict[str, str], spec: EditSpec) -> tuple[dict[str, str], Outcome]:
    """One edit on the files: the new texts and what was done. A file whose result would not parse is left as is."""
    project = Project.parse(files)
    outcome = TRANSFORMS[spec.kind](spec, project)
    by_path: dict[str, list[Fix]] = defaultdict(list)
    for fix in outcome.fixes:
        by_path[fix.path].append(fix)
    new = dict(files)
    for path, fixes in by_path.items():
        src = project.files[path]
        try:
            text = apply_fixes(src.text, src.module, fixes)
        except Exception as exc:  # a transform bug must not take the whole request down
            log.exception("edit %s failed on %s", spec.kind, path)
            text = src.text
            outcome.skipped.append(f"{spec.kind}: could not edit {path} ({type(exc).__name__})")
        if text == src.text and any(f.edits for f in fixes) and not _no_op(src.module, fixes):
            outcome.applied = [a for a in outcome.applied if not a.startswith(f"{path}:")]
            outcome.skipped.append(
                f"{spec.kind}: the edit of {path} would not give valid Python; left unchanged"
            )
        new[path] = text
    return new, outcome


def _no_op(module: cst.Module, fixes: list[Fix]) -> bool:
    """Whether the edits leave the code as it was (a value already set), as opposed to breaking it."""
    try:
        return bool(module.visit(_Applier([e for f in fixes for e in f.edits])).code == module.code)
    except Exception:
        return False


_LINE = re.compile(r"^([^\s:]+):(\d+):")


def _line_map(before: str, after: str) -> Callable[[int], int]:
    """Maps a line of ``before`` to the same place in ``after`` (the start of a changed block for changed lines)."""
    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False).get_opcodes()

    def move(line: int) -> int:
        for tag, i1, i2, j1, _j2 in ops:
            if i1 <= line - 1 < i2:
                return j1 + (line - 1 - i1) + 1 if tag == "equal" else j1 + 1
        return line

    return move


def _relocate(sentences: list[str], path_maps: dict[str, Callable[[int], int]]) -> list[str]:
    out = []
    for s in sentences:
        m = _LINE.match(s)
        if m and m.group(1) in path_maps:
            s = f"{m.group(1)}:{path_maps[m.group(1)](int(m.group(2)))}:" + s[m.end() :]
        out.append(s)
    return out


def _review(files: dict[str, str]) -> ReviewReport | None:
    from tools.review.engine import review_files

    reviewable = {p: t for p, t in files.items() if p.endswith((".py", ".yaml", ".yml"))} or files
    try:
        return review_files(reviewable)
    except Exception:  # the edit result stands even if the re-review cannot run
        log.exception("re-review after edit failed")
        return None


def edit_code(request: EditRequest) -> EditResult:
    """Apply the requested edits to ``request.files``; report the diff, what changed where, and a re-review."""
    specs: Sequence[EditSpec] = request.edits or parse_instruction(request.instruction or "") or []
    if not specs:
        return EditResult(
            files=dict(request.files),
            diff="",
            skipped=[
                f"I could not tell which edit you want from {request.instruction!r}. {describe_supported()}"
            ],
        )
    before = _review(request.files)
    files = dict(request.files)
    applied: list[str] = []
    skipped: list[str] = []
    for spec in specs:
        new, outcome = apply_edit(files, spec)
        # Lines in earlier sentences move with this edit, so every file:line names the final code.
        maps = {p: _line_map(files[p], new[p]) for p in files if new[p] != files[p]}
        applied = _relocate(applied, maps) + _relocate(outcome.applied, maps)
        skipped += outcome.skipped
        files = new
    diff = "".join(
        unified_diff(p, request.files[p], files[p]) for p in request.files if files[p] != request.files[p]
    )
    result = EditResult(files=files, diff=diff, edits=list(specs), applied=applied, skipped=skipped)
    after = _review(files) if diff else before
    if before is not None and after is not None:
        old = {c.id: c.status for c in before.checklist}
        result.checklist = [
            ChecklistChange(id=c.id, before=old.get(c.id, "unknown"), after=c.status) for c in after.checklist
        ]
        result.score_before, result.score_after = before.summary.score, after.summary.score
        from tools.review.render import render

        result.review = render(after, "text")
    return result
