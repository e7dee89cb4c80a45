"""The sandbox's interface types: what a run is asked to do (``RunSpec``) and what it reports (``RunResult``).

Shared by every backend (local bubblewrap, Ray), the HTTP API, the CLI and the agent's smoke_run tool, so the
JSON shapes stay those of the smoke-run contract in ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RunStatus = Literal["queued", "running", "succeeded", "failed", "timeout", "oom", "cancelled", "rejected"]
DeviceRequest = Literal["auto", "cpu", "cuda"]
Precision = Literal["32-true", "bf16-mixed", "16-mixed", "64-true"]
TaskName = Literal["classification", "segmentation", "detection", "regression"]


class SyntheticDataSpec(BaseModel):
    """How to make data when the submission has no LightningDataModule."""

    task: TaskName | None = None
    input_shape: list[int] | None = Field(default=None, description="Per-sample shape, e.g. [3, 64, 64].")
    num_classes: int | None = Field(default=None, ge=1, le=100_000)
    batch_size: int = Field(default=4, ge=1, le=1024)


class RunLimits(BaseModel):
    """Resource limits of one run (defaults sized for a CPU smoke run on a small machine)."""

    timeout_s: float = Field(default=120.0, gt=0, le=3600)
    memory_mb: int = Field(default=4096, ge=256, le=1_048_576)
    cpu_seconds: int = Field(default=600, ge=1)
    max_pids: int = Field(default=256, ge=8)
    max_file_mb: int = Field(default=256, ge=1)
    max_open_files: int = Field(default=1024, ge=64)
    tmpfs_mb: int = Field(default=512, ge=16)
    output_cap_bytes: int = Field(default=200_000, ge=1024)


class RunSpec(BaseModel):
    """A smoke run request: the submitted files plus what to run and under which limits."""

    files: dict[str, str] = Field(description="Relative path -> file text of the submitted project.")
    steps: int = Field(default=20, ge=1, le=10_000)
    device: DeviceRequest = "auto"
    seed: int = 42
    module_class: str | None = Field(default=None, description="LightningModule class name, when ambiguous.")
    datamodule_class: str | None = Field(default=None, description="LightningDataModule class name.")
    synthetic: SyntheticDataSpec | None = None
    entrypoint: str | None = Field(
        default=None,
        description="Script mode: run this submitted file as __main__ instead of the Lightning harness "
        "(exit status 0 = succeeded). For plain-Python checks and the sandbox's own tests.",
    )
    limits: RunLimits = Field(default_factory=RunLimits)
    precision: Precision | None = Field(
        default=None,
        description="Lightning Trainer precision for the harness's run (default: Lightning's, 32-true); "
        "set by A/B runs that measure e.g. bf16 against fp32.",
    )


class RunResult(BaseModel):
    """The smoke-run result of the contract."""

    id: str
    status: RunStatus
    error: str | None = None
    device: str | None = None
    steps: int = 0
    losses: list[float] = Field(default_factory=list)
    loss_decreased: bool | None = None
    samples_per_s: float | None = None
    peak_memory_mb: float | None = None
    peak_gpu_memory_mb: float | None = None
    duration_s: float = 0.0
    time_to_first_step_s: float | None = None
    stdout_tail: str = ""
    limits: dict[str, Any] = Field(default_factory=dict)
    experiment_id: str | None = None
