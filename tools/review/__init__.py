"""Static review of PyTorch / Lightning training code against the 14-item checklist (LibCST, no torch import).

Public API: :class:`ReviewRequest`, :class:`ReviewReport`, :func:`review`, :func:`review_paths`,
:func:`render`, :data:`CHECKLIST`.
"""

from __future__ import annotations

from tools.review.checklist import CHECKLIST
from tools.review.engine import review, review_files
from tools.review.models import ChecklistItem, Finding, ReviewReport, ReviewRequest, Summary
from tools.review.paths import review_paths
from tools.review.render import render

__all__ = [
    "CHECKLIST",
    "ChecklistItem",
    "Finding",
    "ReviewReport",
    "ReviewRequest",
    "Summary",
    "render",
    "review",
    "review_files",
    "review_paths",
]
