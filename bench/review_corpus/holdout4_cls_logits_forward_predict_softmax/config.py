from pydantic import BaseModel, Field


class PlantConfig(BaseModel):
    data_dir: str = "data/plants"
    backbone_ckpt: str | None = "checkpoints/efficientnet_b0_imagenet.pth"
    num_classes: int = Field(38, ge=2)
    lr: float = Field(1e-3, gt=0, lt=1e-2)
    batch_size: int = Field(64, ge=1)
    epochs: int = Field(30, ge=1)
    seed: int = 17
