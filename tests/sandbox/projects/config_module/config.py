from pydantic import BaseModel


class SegConfig(BaseModel):
    num_classes: int = 3
    lr: float = 0.01
