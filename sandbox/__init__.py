"""Isolated execution of untrusted training code: one interface, ``run(RunSpec) -> RunResult``, several backends."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings
    from sandbox.spec import RunResult, RunSpec


def run(spec: RunSpec, settings: Settings | None = None, *, run_id: str | None = None) -> RunResult:
    """Run ``spec`` synchronously on this machine's local sandbox (the manager adds queueing, events, cancel).

    Imports are lazy so that ``import sandbox`` stays cheap for the CLI and the review path.
    """
    import uuid

    from core.settings import get_settings
    from sandbox.local import LocalSandbox

    return LocalSandbox(settings or get_settings()).run(spec, run_id=run_id or uuid.uuid4().hex)


def reap_leftovers(settings: Settings | None = None) -> dict[str, list[str]]:
    """Remove cgroups, workdirs and processes left by supervisors that were killed (call at start-up)."""
    from core.settings import get_settings
    from sandbox.cleanup import reap_leftovers as _reap

    return _reap(settings or get_settings())
