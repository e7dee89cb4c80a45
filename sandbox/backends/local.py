"""The ``local`` backend: isolated processes on this host (``sandbox.local.LocalSandbox``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sandbox.backends.base import EventCallback, SandboxStatus, reap_local_leftovers
from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings


class LocalBackend:
    """The isolated local sandbox (``sandbox.local.LocalSandbox``) behind the backend interface."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        from sandbox.local import LocalSandbox

        self.settings = settings
        self._sandbox = LocalSandbox(settings)

    def check(self) -> SandboxStatus:
        return self._sandbox.check()

    def run(
        self,
        spec: RunSpec,
        *,
        run_id: str,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        return self._sandbox.run(spec, run_id=run_id, on_event=on_event, cancel=cancel)

    def reap_leftovers(self) -> None:
        reap_local_leftovers(self.settings)

    def warm_up(self) -> None:
        self._sandbox.check()  # the host probe is cached per process
        self._sandbox.start_warm_pool(self.settings.smoke_warm_sandboxes)

    def close(self) -> None:
        self._sandbox.close()
