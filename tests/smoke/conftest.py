"""Shared pieces of the smoke-run tests: settings with a private data dir and tiny real submissions.

Queue and cancel logic is tested with plain-script runs (``RunSpec.entrypoint``: ~0.5 s each, no torch
import), and training itself with one tiny real Lightning module (~4 s).
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from core.settings import Settings
from sandbox.spec import RunLimits, RunSpec

TINY_MODULE = """import lightning as L
import torch
import torch.nn as nn


class TinyModel(L.LightningModule):
    def __init__(self, lr: float = 0.05) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))
        self.loss_fn = nn.CrossEntropyLoss()
        self.example_input_array = torch.zeros(2, 3, 8, 8)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, labels = batch
        loss = self.loss_fn(self(images), labels)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)
"""

BROKEN_MODULE = "import torch\n\ndef train(:\n    pass\n"


def script_spec(body: str, *, timeout_s: float = 60.0) -> RunSpec:
    """A plain-script run (no Lightning): fast, for queue, cancel and status tests."""
    return RunSpec(files={"main.py": body}, entrypoint="main.py", limits=RunLimits(timeout_s=timeout_s))


def sleeper(seconds: float) -> RunSpec:
    return script_spec(f"import time\nprint('sleeping', flush=True)\ntime.sleep({seconds})\n")


def lightning_spec(steps: int = 5, seed: int = 42) -> RunSpec:
    return RunSpec(files={"model.py": TINY_MODULE}, steps=steps, seed=seed)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


def leftover_run_dirs(settings: Settings) -> list[str]:
    """Run workdirs still on disk (a cancelled or finished run must leave none)."""
    runs = Path(settings.data_dir) / "sandbox" / "runs"
    return sorted(os.listdir(runs)) if runs.is_dir() else []


def live_sandbox_processes(run_id: str) -> list[str]:
    """Live processes that belong to a run: its id is in their per-run cgroup path or their command line."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            with open(f"/proc/{process.pid}/cgroup") as cgroups:
                membership = cgroups.read()
            cmdline = " ".join(process.info["cmdline"] or [])
        except (psutil.Error, OSError):
            continue
        if run_id in membership or run_id in cmdline:
            found.append(f"{process.pid}: {cmdline[:200]}")
    return found
