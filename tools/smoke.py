"""The agent's smoke_run tool: prove that submitted Lightning code trains by running a few sandboxed steps.

One request model for every caller (the agent, ``POST /v1/smoke-runs``, ``mlagent smoke``) and two ways to
run it:

- ``run_smoke(request, settings)``: synchronous, self-contained (own backend and experiment store). For the
  CLI and for an agent running without the HTTP server (call it through ``asyncio.to_thread``).
- ``await run_smoke_async(request, manager)``: through the server's ``SmokeRunManager`` queue, so the agent's
  runs share the concurrency limit with the API's.

Both record the run as an experiment and return the contract's ``RunResult`` (``experiment_id`` set).
"""

from __future__ import annotations

import re
import threading
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.spec import DeviceRequest, RunLimits, RunResult, RunSpec, SyntheticDataSpec

if TYPE_CHECKING:
    from core.settings import Settings
    from sandbox.backends import EventCallback
    from sandbox.manager import SmokeRunManager

MAX_FILES = 200
MAX_SUBMISSION_BYTES = 1_000_000
MAX_PATH_CHARS = 255
MAX_STEPS = 10_000  # as RunSpec and MLAGENT_SMOKE_DEFAULT_STEPS allow; the timeout bounds the cost
MAX_TIMEOUT_S = 3600.0  # as RunLimits and MLAGENT_SMOKE_DEFAULT_TIMEOUT_S allow


class SubmissionTooLarge(ValueError):
    """The submitted files exceed the size or count limit (the API answers 413, the CLI exits 2)."""


# A generated project states the time its smoke profile needs (config.py: ``SMOKE_TIMEOUT_S = 240``); it is read
# as text, never executed, and capped so that a submission cannot give itself an unbounded run.
_DECLARED_TIMEOUT = re.compile(
    r"^SMOKE_TIMEOUT_S\s*(?::\s*\w+\s*)?=\s*(\d+(?:\.\d+)?)\s*(?:#.*)?$", re.MULTILINE
)
MAX_DECLARED_TIMEOUT_S = 900.0


def smoke_policy(files: dict[str, str], settings: Settings) -> tuple[int, float, str]:
    """(steps, time limit, where the limit comes from) of a smoke run that names neither.

    One policy for ``mlagent smoke``, ``POST /v1/smoke-runs`` and the chat: the service's defaults, with the
    time limit raised to what the project's own ``SMOKE_TIMEOUT_S`` asks (capped at MAX_DECLARED_TIMEOUT_S).
    """
    steps, timeout_s = settings.smoke_default_steps, settings.smoke_default_timeout_s
    source = "the service defaults (MLAGENT_SMOKE_DEFAULT_STEPS, MLAGENT_SMOKE_DEFAULT_TIMEOUT_S)"
    config = files.get("config.py") or next((t for p, t in files.items() if p.endswith("/config.py")), "")
    found = _DECLARED_TIMEOUT.search(config)
    if found and float(found.group(1)) > timeout_s:
        timeout_s = min(float(found.group(1)), MAX_DECLARED_TIMEOUT_S)
        source = "the project's SMOKE_TIMEOUT_S in config.py (sized for its architecture)"
    return steps, timeout_s, source


class SmokeRunRequest(BaseModel):
    """A smoke run of submitted code: the project's files plus how long to train it and on what."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(
        min_length=1,
        description="Relative path -> text of each project file (.py modules and optional YAML configs).",
    )
    steps: int | None = Field(
        default=None, ge=1, le=MAX_STEPS, description="Training steps; default MLAGENT_SMOKE_DEFAULT_STEPS."
    )
    timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Wall-clock limit; default MLAGENT_SMOKE_DEFAULT_TIMEOUT_S.",
    )
    device: DeviceRequest = Field(default="auto", description="auto picks CUDA when the sandbox has a GPU.")
    seed: int = Field(default=42, ge=0, le=2**32 - 1, description="Seed for weights and synthetic data.")
    module_class: str | None = Field(
        default=None, max_length=200, description="LightningModule class to train, when there are several."
    )
    datamodule_class: str | None = Field(
        default=None, max_length=200, description="LightningDataModule class, when there are several."
    )
    synthetic: SyntheticDataSpec | None = Field(
        default=None, description="Synthetic data to use when the code has no DataModule."
    )

    @field_validator("files")
    @classmethod
    def _safe_paths(cls, files: dict[str, str]) -> dict[str, str]:
        for path, text in files.items():
            problem = _path_problem(path)
            if problem:
                raise ValueError(f"file path {path!r}: {problem}")
            for what, value in (("path", path), ("text", text)):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as error:
                    raise ValueError(
                        f"file {path!r}: the {what} is not valid UTF-8 ({error.reason} at position {error.start})"
                    ) from None
        if not any(path.endswith(".py") for path in files):
            raise ValueError("files must contain at least one .py module")
        return files

    def to_run_spec(self, settings: Settings) -> RunSpec:
        """The sandbox spec for this request, with the service defaults filled in and size limits checked."""
        check_submission_size(self.files)
        default_steps, default_timeout_s, _ = smoke_policy(self.files, settings)
        timeout_s = self.timeout_s if self.timeout_s is not None else default_timeout_s
        return RunSpec(
            files=dict(self.files),
            steps=self.steps if self.steps is not None else default_steps,
            device=self.device,
            seed=self.seed,
            module_class=self.module_class,
            datamodule_class=self.datamodule_class,
            synthetic=self.synthetic,
            limits=RunLimits(timeout_s=timeout_s),
        )


def _path_problem(path: str) -> str | None:
    if not path or len(path) > MAX_PATH_CHARS:
        return f"must be 1 to {MAX_PATH_CHARS} characters"
    if "\\" in path or "\0" in path or any(ord(c) < 32 for c in path):
        return "must use '/' separators and printable characters"
    pure = PurePosixPath(path)
    if pure.is_absolute():
        return "must be relative"
    if any(part in ("..", ".", "") for part in path.split("/")):
        return "must not contain '.', '..' or empty segments"
    return None


def check_submission_size(files: dict[str, str]) -> None:
    """Raise SubmissionTooLarge beyond MAX_FILES files or MAX_SUBMISSION_BYTES of text."""
    if len(files) > MAX_FILES:
        raise SubmissionTooLarge(f"{len(files)} files submitted; at most {MAX_FILES} are accepted")
    total = sum(len(path.encode()) + len(text.encode()) for path, text in files.items())
    if total > MAX_SUBMISSION_BYTES:
        raise SubmissionTooLarge(f"submission is {total} bytes; at most {MAX_SUBMISSION_BYTES} are accepted")


def run_smoke(
    request: SmokeRunRequest,
    settings: Settings | None = None,
    *,
    on_event: EventCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run the request in the configured sandbox backend, record the experiment, return the result.

    Blocking (seconds to minutes): from async code call it via ``asyncio.to_thread``. Never raises for
    problems in the submitted code; raises SubmissionTooLarge for oversized submissions.
    """
    from core.settings import get_settings
    from sandbox.experiments import ExperimentStore, run_and_record

    settings = settings or get_settings()
    spec = request.to_run_spec(settings)
    with ExperimentStore(settings.experiments_db) as store:
        return run_and_record(spec, settings, store, on_event=on_event, cancel=cancel).result


async def run_smoke_async(
    request: SmokeRunRequest, manager: SmokeRunManager, *, on_event: EventCallback | None = None
) -> RunResult:
    """Run the request through the server's queue (shared concurrency limit) and wait for its result.

    ``on_event`` receives the run's live events (status, step with its loss, log) as they come.
    """
    run_id = manager.submit(request.to_run_spec(manager.settings))
    if on_event is not None:
        async for event in manager.subscribe(run_id):
            if event.get("type") != "done":
                on_event(event)
    return await manager.wait(run_id)
