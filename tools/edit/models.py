"""The edit tool's input and output models: one Pydantic model per kind of edit, a request, a result.

The edit kinds form a discriminated union on ``kind`` so that an LLM's tool schema lists each edit with exactly
its own parameters, and the offline parser (:mod:`tools.edit.parse`) produces the same objects.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from tools.review.models import FILE_PATH_PATTERN, MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, valid_file_path

#: The precision values Lightning 2.x accepts as strings (lightning/fabric/plugins/precision/precision.py).
PrecisionValue = Literal[
    "16-mixed", "bf16-mixed", "32-true", "16-true", "bf16-true", "64-true", "transformer-engine"
]


class PrecisionEdit(BaseModel):
    """Set ``precision=`` in every Trainer call."""

    kind: Literal["precision"] = "precision"
    value: PrecisionValue = "bf16-mixed"


class EarlyStoppingEdit(BaseModel):
    """Add an ``EarlyStopping`` callback; the monitor defaults to a logged validation loss."""

    kind: Literal["early_stopping"] = "early_stopping"
    monitor: str | None = Field(default=None, description="Metric key; default: the logged validation loss.")
    mode: Literal["min", "max"] | None = Field(default=None, description="Default: from the metric name.")
    patience: int = Field(default=5, ge=1, le=1000)


class CosineScheduleEdit(BaseModel):
    """Linear warm-up then cosine decay, stepped per optimizer step, in ``configure_optimizers``."""

    kind: Literal["cosine_schedule"] = "cosine_schedule"
    warmup_steps: int | None = Field(default=None, ge=0, description="Default: 5% of the training steps.")


class FocalLossEdit(BaseModel):
    """Replace cross-entropy (softmax) or BCE-with-logits (sigmoid) by the matching focal loss."""

    kind: Literal["focal_loss"] = "focal_loss"
    gamma: float = Field(default=2.0, ge=0, le=10)


class MLflowEdit(BaseModel):
    """Log to MLflow through Lightning's ``MLFlowLogger``."""

    kind: Literal["mlflow_logger"] = "mlflow_logger"
    experiment_name: str | None = Field(default=None, max_length=200)
    tracking_uri: str | None = Field(default=None, max_length=500)


class CheckpointEdit(BaseModel):
    """Add a ``ModelCheckpoint`` that keeps the best checkpoints by a logged metric (default: validation loss)."""

    kind: Literal["checkpoint"] = "checkpoint"
    monitor: str | None = Field(default=None, description="Metric key; default: the logged validation loss.")
    mode: Literal["min", "max"] | None = Field(default=None, description="Default: from the metric name.")
    save_top_k: int = Field(
        default=1, ge=-1, le=1000, description="How many best checkpoints to keep (-1: all)."
    )
    save_last: bool = Field(default=True, description="Also keep last.ckpt, to resume a killed run.")


class LoggerEdit(BaseModel):
    """Log to TensorBoard, CSV files or Weights & Biases through Lightning's logger classes (MLflow: ``mlflow_logger``)."""

    kind: Literal["logger"] = "logger"
    name: Literal["tensorboard", "csv", "wandb"] = "tensorboard"
    save_dir: str | None = Field(
        default=None, max_length=500, description="Default: lightning_logs (TB/CSV)."
    )
    project: str | None = Field(
        default=None, max_length=200, description="W&B project; default: from the model."
    )


class FreezeBackboneEdit(BaseModel):
    """Train with the backbone frozen for the first ``epochs`` epochs (``BackboneFinetuning``)."""

    kind: Literal["freeze_backbone"] = "freeze_backbone"
    epochs: int = Field(default=1, ge=1, le=10_000)
    attribute: str = Field(default="backbone", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)


class GradientClippingEdit(BaseModel):
    """Set ``gradient_clip_val`` (and the algorithm) in every Trainer call."""

    kind: Literal["gradient_clipping"] = "gradient_clipping"
    value: float = Field(default=1.0, gt=0, le=1e6)
    algorithm: Literal["norm", "value"] = "norm"


class SeedEdit(BaseModel):
    """Seed everything (``seed_everything(seed, workers=True)``) before the model is built."""

    kind: Literal["seed"] = "seed"
    seed: int = Field(default=42, ge=0, le=2**32 - 1)


class OptimizerEdit(BaseModel):
    """Change the optimizer class and/or its learning rate and weight decay in ``configure_optimizers``."""

    kind: Literal["optimizer"] = "optimizer"
    name: Literal["Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"] | None = None
    lr: float | None = Field(default=None, gt=0, le=10)
    weight_decay: float | None = Field(default=None, ge=0, le=10)

    @model_validator(mode="after")
    def _something(self) -> OptimizerEdit:
        if self.name is None and self.lr is None and self.weight_decay is None:
            raise ValueError("say which optimizer, learning rate or weight decay to use")
        return self


class BatchSizeEdit(BaseModel):
    """Set the batch size where it is defined (a default, a constant, or the DataLoader calls)."""

    kind: Literal["batch_size"] = "batch_size"
    value: int = Field(ge=1, le=1_000_000)


class DevicesEdit(BaseModel):
    """Set ``accelerator=``, ``devices=`` and ``strategy=`` in every Trainer call."""

    kind: Literal["devices"] = "devices"
    accelerator: Literal["gpu", "cpu", "tpu", "mps", "auto"] | None = None
    devices: int | Literal["auto"] | None = Field(default=None)
    strategy: Literal["ddp", "ddp_spawn", "fsdp", "deepspeed", "auto"] | None = None

    @model_validator(mode="after")
    def _something(self) -> DevicesEdit:
        if self.accelerator is None and self.devices is None and self.strategy is None:
            raise ValueError("say which accelerator, number of devices or strategy to use")
        return self


EditSpec = Annotated[
    PrecisionEdit
    | EarlyStoppingEdit
    | CosineScheduleEdit
    | FocalLossEdit
    | MLflowEdit
    | CheckpointEdit
    | LoggerEdit
    | FreezeBackboneEdit
    | GradientClippingEdit
    | SeedEdit
    | OptimizerEdit
    | BatchSizeEdit
    | DevicesEdit,
    Field(discriminator="kind"),
]

EditKind = Literal[
    "precision",
    "early_stopping",
    "cosine_schedule",
    "focal_loss",
    "mlflow_logger",
    "checkpoint",
    "logger",
    "freeze_backbone",
    "gradient_clipping",
    "seed",
    "optimizer",
    "batch_size",
    "devices",
]


class EditRequest(BaseModel):
    """The code to edit (path -> text) and what to change: a sentence, or already-parsed edits."""

    files: dict[str, str] = Field(
        description="The project: relative path -> file text.",
        json_schema_extra={"minProperties": 1, "propertyNames": {"pattern": FILE_PATH_PATTERN}},
    )
    instruction: str | None = Field(default=None, max_length=2000, description="What to change, in words.")
    edits: list[EditSpec] | None = Field(
        default=None, max_length=20, description="Parsed edits (win over words)."
    )

    @model_validator(mode="after")
    def _valid(self) -> EditRequest:
        if not self.files:
            raise ValueError("'files' is empty: there is no code to edit")
        if len(self.files) > MAX_FILES:
            raise ValueError(f"too many files: {len(self.files)} (at most {MAX_FILES})")
        total = 0
        for path, text in self.files.items():
            if not valid_file_path(path):
                raise ValueError(f"invalid file path {path!r}")
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > MAX_FILE_BYTES:
                raise ValueError(f"file {path!r} is larger than {MAX_FILE_BYTES} bytes")
            total += size
        if total > MAX_TOTAL_BYTES:
            raise ValueError(f"the files total {total} bytes (at most {MAX_TOTAL_BYTES})")
        if not self.edits and not (self.instruction and self.instruction.strip()):
            raise ValueError("say what to change: give 'instruction' (words) or 'edits'")
        return self


class ChecklistChange(BaseModel):
    """One checklist item's status before and after the edit."""

    id: str
    before: str
    after: str


class EditResult(BaseModel):
    """The edited files, their diff, what changed where, what could not be done and why, and a re-review."""

    files: dict[str, str]
    diff: str
    edits: list[EditSpec] = Field(default_factory=list, description="The edits that were attempted.")
    applied: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    checklist: list[ChecklistChange] = Field(default_factory=list)
    score_before: float | None = None
    score_after: float | None = None
    review: str = Field(default="", description="The re-review of the edited code, as text.")
