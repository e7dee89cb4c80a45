"""Warm sandboxes: smoke runs start in a sandbox that has already imported torch and Lightning.

Nearly all of a cold run's time to its first step is the interpreter importing torch and Lightning inside the
fresh sandbox (about 3 s here). A warm slot is a sandbox launched ahead of time exactly as a run's would be
(its own cgroup, uid, seccomp filter, rlimits and bind mounts), whose harness pre-imports those packages and
then waits on its stdin. A run that fits the slot (CPU, default limits) is written into the slot's (still
unread) input directory and released with one line; every slot serves one run and is then destroyed like
any run, so runs stay isolated from each other. The pool refills after a run ends, not during it, so the
refill's imports never compete with a run for these two cores.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.spec import RunLimits, RunSpec

log = logging.getLogger(__name__)

WARM_LIMITS = RunLimits()
"""A slot is launched with the default limits; only runs with the same limits (any timeout) can use it."""
GO = b"go\n"


@dataclass
class WarmSlot:
    """A launched, waiting sandbox: the run's name, directory, launch record, process and result pipe."""

    name: str
    run_dir: Path
    launch: Any
    proc: subprocess.Popen[bytes]
    result_r: int
    created: float

    def alive(self) -> bool:
        return self.proc.poll() is None


def fits(spec: RunSpec, uses_gpu: bool) -> bool:
    """Whether a run can take a warm slot: on the CPU, with the slot's limits (the deadline is the
    supervisor's, so any timeout fits)."""
    if uses_gpu:
        return False
    wanted = spec.limits.model_dump(exclude={"timeout_s"})
    return wanted == WARM_LIMITS.model_dump(exclude={"timeout_s"})


class WarmPool:
    """Up to ``size`` waiting sandboxes, made by ``prestart`` and destroyed by ``discard``."""

    def __init__(
        self, size: int, prestart: Callable[[], WarmSlot], discard: Callable[[WarmSlot], None]
    ) -> None:
        self.size = size
        self._prestart = prestart
        self._discard = discard
        self._slots: list[WarmSlot] = []
        self._lock = threading.Lock()
        self._filling = False
        self._closed = False

    def ready(self) -> int:
        """Waiting slots, once no refill is under way (0 while one is)."""
        with self._lock:
            return 0 if self._filling else len(self._slots)

    def claim(self) -> WarmSlot | None:
        """A live waiting slot, or None (the run then starts cold). Dead slots are destroyed on the way."""
        while True:
            with self._lock:
                if not self._slots:
                    return None
                slot = self._slots.pop(0)
            if slot.alive():
                return slot
            log.warning("warm sandbox %s died while waiting (exit %s)", slot.name, slot.proc.returncode)
            self._discard(slot)

    def fill(self) -> None:
        """Start slots up to the pool size (blocking; call it from a background thread)."""
        with self._lock:
            if self._filling or self._closed:
                return
            self._filling = True
        try:
            while True:
                with self._lock:
                    if self._closed or len(self._slots) >= self.size:
                        return
                try:
                    slot = self._prestart()
                except Exception:
                    log.exception("could not start a warm sandbox; runs start cold")
                    return
                with self._lock:
                    if self._closed:
                        self._discard(slot)
                        return
                    self._slots.append(slot)
        finally:
            with self._lock:
                self._filling = False

    def fill_in_background(self) -> None:
        threading.Thread(target=self.fill, name="warm-sandbox-fill", daemon=True).start()

    def close(self) -> None:
        """Destroy every waiting slot (server shutdown)."""
        with self._lock:
            self._closed = True
            slots, self._slots = self._slots, []
        for slot in slots:
            self._discard(slot)


def release(slot: WarmSlot) -> None:
    """Let the slot's harness read its run (written into its input directory before this)."""
    assert slot.proc.stdin is not None
    try:
        slot.proc.stdin.write(GO)
        slot.proc.stdin.flush()
    finally:
        with contextlib.suppress(OSError):
            slot.proc.stdin.close()
