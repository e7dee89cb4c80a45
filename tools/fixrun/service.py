"""Fix-runs on the server: each loop runs on a worker thread, its sandboxed runs go through the smoke queue.

So a fix-run shares the smoke-run concurrency limit and experiment store with ``/v1/smoke-runs`` (each
attempt is one queued smoke run, recorded with its parent, diff and diagnosis). Loops in flight and the last
finished ones are kept in memory for polling; their runs, the run tree, outlive the server in the store.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from typing import Any, Literal

from pydantic import BaseModel, Field

from sandbox.experiments import Experiment, Lineage
from sandbox.manager import SmokeRunManager
from sandbox.spec import RunSpec
from tools.fixrun.loop import fix_run
from tools.fixrun.models import Attempt, FixRunReport, FixRunRequest

MAX_ACTIVE = 4
KEEP_FINISHED = 200


class FixRunsBusy(RuntimeError):
    """MAX_ACTIVE loops are already running (the API answers 429)."""


class UnknownFixRun(KeyError):
    """No fix-run has this id (the API answers 404)."""


class FixRunState(BaseModel):
    """A fix-run as polled: live attempts while it runs, the full report when it is done."""

    id: str
    status: Literal["running", "finished", "failed"]
    attempts: list[Attempt] = Field(default_factory=list)
    current: str | None = Field(default=None, description="What the running attempt tries, while it runs.")
    report: FixRunReport | None = None
    error: str | None = None


class FixRunManager:
    """Starts loops on threads and keeps their state; one per app, next to the SmokeRunManager."""

    def __init__(self, smoke: SmokeRunManager, loop: asyncio.AbstractEventLoop) -> None:
        self.smoke = smoke
        self.loop = loop
        self._lock = threading.Lock()
        self._states: OrderedDict[str, FixRunState] = OrderedDict()
        self._cancels: dict[str, threading.Event] = {}

    def run_attempt(self, spec: RunSpec, lineage: Lineage) -> Experiment:
        async def submit_and_wait() -> Any:
            run_id = self.smoke.submit(spec, lineage=lineage)
            return await self.smoke.wait(run_id)

        result = asyncio.run_coroutine_threadsafe(submit_and_wait(), self.loop).result()
        store = self.smoke.store
        if store is None or result.experiment_id is None:
            raise RuntimeError(f"smoke run {result.id} was not recorded ({result.status}: {result.error})")
        return store.get(result.experiment_id, files=False)

    def submit(self, request: FixRunRequest) -> str:
        """Start a loop; returns its id. Raises FixRunsBusy beyond MAX_ACTIVE running loops."""
        with self._lock:
            active = sum(1 for s in self._states.values() if s.status == "running")
            if active >= MAX_ACTIVE:
                raise FixRunsBusy(f"{MAX_ACTIVE} fix-runs are already running; retry later")
            loop_id = "fix-" + uuid.uuid4().hex[:16]
            self._states[loop_id] = FixRunState(id=loop_id, status="running")
            self._cancels[loop_id] = threading.Event()
            while len(self._states) > KEEP_FINISHED:
                oldest = next((k for k, s in self._states.items() if s.status != "running"), None)
                if oldest is None:
                    break
                del self._states[oldest]
                self._cancels.pop(oldest, None)
        threading.Thread(
            target=self._work, args=(loop_id, request), name=f"fix-run-{loop_id}", daemon=True
        ).start()
        return loop_id

    def _work(self, loop_id: str, request: FixRunRequest) -> None:
        def progress(event: dict[str, Any]) -> None:
            with self._lock:
                state = self._states.get(loop_id)
                if state is None:
                    return
                if event.get("type") == "attempt_started":
                    state.current = event.get("repair") or "the code as given"
                elif event.get("type") == "attempt_finished":
                    state.attempts.append(Attempt.model_validate(event["attempt"]))
                    state.current = None

        try:
            report = fix_run(
                request,
                self.smoke.settings,
                self.run_attempt,
                on_progress=progress,
                cancel=self._cancels[loop_id],
                loop_id=loop_id,
            )
        except Exception as exc:  # a loop that breaks is reported, not lost
            with self._lock:
                self._states[loop_id].status = "failed"
                self._states[loop_id].error = f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            state = self._states[loop_id]
            state.status, state.report, state.attempts, state.current = (
                "finished",
                report,
                report.attempts,
                None,
            )

    def get(self, loop_id: str) -> FixRunState:
        with self._lock:
            state = self._states.get(loop_id)
            if state is None:
                raise UnknownFixRun(loop_id)
            return state.model_copy(deep=True)

    def cancel(self, loop_id: str) -> FixRunState:
        """Stop after the running attempt (it finishes; no further repair starts)."""
        with self._lock:
            if loop_id not in self._states:
                raise UnknownFixRun(loop_id)
            self._cancels[loop_id].set()
        return self.get(loop_id)
