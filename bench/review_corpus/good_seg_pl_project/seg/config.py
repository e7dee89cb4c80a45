from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class DataConfig(BaseModel):
    root: Path
    image_size: int = Field(ge=64, le=2048, default=512)
    batch_size: int = Field(ge=1, default=8)
    num_workers: int = Field(ge=0, default=6)


class TrainConfig(BaseModel):
    num_classes: int = Field(ge=2, default=21)
    max_lr: float = Field(gt=0, le=1e-2, default=1e-3)
    weight_decay: float = Field(ge=0, default=1e-4)
    max_epochs: int = Field(ge=1, default=80)
    precision: Literal["bf16-mixed", "16-mixed", "32-true"] = "bf16-mixed"
    dice_weight: float = Field(ge=0, le=1, default=0.5)
    seed: int = 1234

    @model_validator(mode="after")
    def _check_lr(self) -> "TrainConfig":
        if self.max_lr > 5e-3 and self.precision == "16-mixed":
            raise ValueError("max_lr above 5e-3 diverges with fp16 on this backbone")
        return self
