"""What a diagnosis says: the kind of failure, the evidence it rests on, and the repair recipe (if any)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal[
    "trains",
    "head_num_classes",
    "shape_mismatch",
    "label_dtype",
    "label_shape",
    "probabilities_to_logits_loss",
    "nan_loss_lr",
    "nan_loss_log",
    "nan_loss",
    "lr_too_low",
    "lr_too_high",
    "frozen_parameters",
    "optimizer_wrong_params",
    "missing_zero_grad",
    "loss_not_decreasing",
    "oom",
    "timeout",
    "download",
    "missing_package",
    "syntax_error",
    "cancelled",
    "rejected",
    "unknown",
]


class Frame(BaseModel):
    """One traceback frame of the submitted code (the harness keeps only those)."""

    path: str
    line: int
    function: str
    code: str = ""


class Evidence(BaseModel):
    """One fact the diagnosis rests on: from the run (a frame, numbers) or from the code (file:line)."""

    source: Literal["run", "code"]
    text: str
    path: str | None = None
    line: int | None = None
    numbers: dict[str, float | int | str] = Field(default_factory=dict)


class Diagnosis(BaseModel):
    """The classified outcome of one smoke run."""

    kind: Kind
    title: str = Field(description="One line: what went wrong (or that it trains).")
    status: str = Field(description="The run's status as the sandbox reported it.")
    trains: bool = Field(default=False, description="Finite losses that decreased: nothing to repair.")
    evidence: list[Evidence] = Field(default_factory=list)
    recipe: str | None = Field(default=None, description="Id of the repair recipe, when one applies.")
    advice: str = Field(default="", description="What to change, in words (also when no recipe applies).")
    exception: str | None = None
    frames: list[Frame] = Field(default_factory=list)
    error: str | None = Field(
        default=None, description="The run's error, verbatim (always kept for unknowns)."
    )
