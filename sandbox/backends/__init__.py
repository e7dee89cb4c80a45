"""Choosing and driving a sandbox backend: ``local`` (isolated processes on this host) or ``ray`` (the same
sandbox on a Ray worker, the scale-out path). One module per backend; the interface and shared helpers live in
``base``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.backends.base import (
    EventCallback,
    SandboxBackend,
    SandboxStatus,
    execute,
    final_result,
    new_run_id,
    reap_local_leftovers,
)
from sandbox.backends.local import LocalBackend

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "EventCallback",
    "LocalBackend",
    "SandboxBackend",
    "SandboxStatus",
    "execute",
    "final_result",
    "get_backend",
    "new_run_id",
    "reap_local_leftovers",
]


def get_backend(settings: Settings) -> SandboxBackend:
    """The backend ``settings.sandbox_backend`` names (``MLAGENT_SANDBOX_BACKEND=local|ray``)."""
    if settings.sandbox_backend == "ray":
        from sandbox.backends.ray import RayBackend

        return RayBackend(settings)
    return LocalBackend(settings)
