"""The broken-project corpus (bench/broken_projects): each folder is a project plus ``expected.json``.

``expected.json``: ``kind`` (the diagnosis it must get), ``repairable`` (whether the loop is expected to make
it train), ``framework``, optional ``entrypoint``, ``note`` and ``spec`` (limits that make the failure
happen quickly: ``memory_mb``, ``timeout_s``, ``steps``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.spec import RunLimits, RunSpec
from tools.fixrun.project import detect_entrypoint

CORPUS_DIR = Path(__file__).resolve().parents[2] / "bench" / "broken_projects"
DEFAULT_STEPS = 20
DEFAULT_TIMEOUT_S = 90.0


@dataclass
class Case:
    """One corpus project."""

    name: str
    path: Path
    files: dict[str, str]
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.expected["kind"])

    @property
    def repairable(self) -> bool:
        return bool(self.expected.get("repairable", False))


def load_corpus(root: Path = CORPUS_DIR) -> list[Case]:
    """Every project under ``root``, sorted by name."""
    cases = []
    for folder in sorted(p for p in root.iterdir() if (p / "expected.json").is_file()):
        files = {f.name: f.read_text() for f in sorted(folder.glob("*.py"))}
        expected = json.loads((folder / "expected.json").read_text())
        cases.append(Case(folder.name, folder, files, expected))
    return cases


def run_spec_for(files: dict[str, str], expected: dict[str, Any] | None = None) -> RunSpec:
    """The smoke-run spec of a corpus project (its limits from ``expected.json``'s ``spec``)."""
    extra = dict((expected or {}).get("spec") or {})
    limits = RunLimits(
        timeout_s=float(extra.get("timeout_s", DEFAULT_TIMEOUT_S)),
        memory_mb=int(extra.get("memory_mb", RunLimits().memory_mb)),
    )
    return RunSpec(
        files=dict(files),
        steps=int(extra.get("steps", DEFAULT_STEPS)),
        device="cpu",
        entrypoint=detect_entrypoint(files),
        limits=limits,
    )
