"""Diagnose a smoke run from its structured result: a known failure kind, its evidence and a repair recipe.

``diagnose(result, files)`` reads the sandbox's status, the harness's exception and submitted-files frames,
the per-step losses and the limits; the code of the run only tells which line to blame. Unknown failures are
reported as ``unknown`` with their traceback, never guessed.
"""

from __future__ import annotations

from tools.diagnose.classify import diagnose
from tools.diagnose.models import Diagnosis, Evidence, Frame, Kind

__all__ = ["Diagnosis", "Evidence", "Frame", "Kind", "diagnose"]
