"""The fix-run request and report: what to repair, within which bounds, and every attempt made."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.spec import DeviceRequest
from tools.diagnose import Diagnosis
from tools.smoke import SmokeRunRequest

MAX_ATTEMPTS = 10
DEFAULT_ATTEMPTS = 3
DEFAULT_BUDGET_S = 600.0

Outcome = Literal["trains", "no_recipe", "attempts_exhausted", "budget_exhausted", "cancelled", "repeated"]


class FixRunRequest(BaseModel):
    """Repair a project until it trains: the files, the attempt and time bounds, and the smoke-run settings."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(min_length=1, description="Relative path -> text of each project file.")
    attempts: int = Field(
        default=DEFAULT_ATTEMPTS,
        ge=0,
        le=MAX_ATTEMPTS,
        description="Repairs to try after the first run (each is one edit + one sandboxed re-run).",
    )
    budget_s: float = Field(
        default=DEFAULT_BUDGET_S, gt=0, le=3600, description="Wall-clock budget of the loop."
    )
    steps: int | None = Field(
        default=None, ge=3, le=10_000, description="Steps per run (default: the service's)."
    )
    timeout_s: float | None = Field(
        default=None, gt=0, le=3600, description="Per-run limit (capped by the budget)."
    )
    memory_mb: int | None = Field(default=None, ge=256, le=1_048_576, description="Per-run memory limit.")
    device: DeviceRequest = "cpu"
    seed: int = Field(default=42, ge=0, le=2**32 - 1)
    entrypoint: str | None = Field(
        default=None,
        max_length=255,
        description="Script to run for a plain-PyTorch project; default: detected (none for Lightning projects).",
    )

    @field_validator("files")
    @classmethod
    def _check_files(cls, files: dict[str, str]) -> dict[str, str]:
        SmokeRunRequest(files=files)  # the same path, encoding and .py checks as a smoke run
        return files


class RepairStep(BaseModel):
    """The edit that produced an attempt from its parent."""

    recipe: str
    description: str
    diff: str
    changed: list[str] = Field(default_factory=list)


class Attempt(BaseModel):
    """One sandboxed run of the loop: node of the run tree."""

    index: int = Field(description="0 is the user's code as given; 1.. are repairs.")
    experiment_id: str | None = None
    parent_id: str | None = Field(default=None, description="Experiment id of the run this one repaired.")
    run_id: str
    status: str
    repair: RepairStep | None = Field(default=None, description="The edit that made this attempt's code.")
    diagnosis: Diagnosis
    losses: list[float] = Field(default_factory=list)
    duration_s: float = 0.0
    started_at_s: float = Field(default=0.0, description="Seconds since the loop started.")


class FixRunReport(BaseModel):
    """The loop's record: each attempt, how it ended, and the final code with its diff from the original."""

    id: str
    outcome: Outcome
    trained: bool
    summary: str
    attempts: list[Attempt]
    final_files: dict[str, str]
    diff: str = Field(description="Unified diff from the submitted code to the final code.")
    entrypoint: str | None = None
    duration_s: float = 0.0
    time_to_training_s: float | None = Field(
        default=None, description="Loop start to the end of the run that trained."
    )
