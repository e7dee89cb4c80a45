import random
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class PolypDataset(Dataset):
    """Kvasir-SEG polyps: images/<id>.jpg with masks/<id>.jpg (binary)."""

    def __init__(self, root: str, ids: list[str], train: bool, size: int = 352) -> None:
        self.root = Path(root)
        self.ids = ids
        self.train = train
        self.size = size

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, idx: int):
        image = Image.open(self.root / "images" / f"{self.ids[idx]}.jpg").convert("RGB")
        mask = Image.open(self.root / "masks" / f"{self.ids[idx]}.jpg").convert("L")
        image = TF.resize(image, [self.size, self.size])
        mask = TF.resize(mask, [self.size, self.size], interpolation=TF.InterpolationMode.NEAREST)
        if self.train:
            if random.random() < 0.5:
                image = TF.hflip(image)
            if random.random() < 0.5:
                image = TF.vflip(image)
            angle = random.uniform(-20, 20)
            image = TF.rotate(image, angle)
            image = TF.adjust_brightness(image, random.uniform(0.8, 1.2))
        image = TF.normalize(TF.to_tensor(image), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        target = torch.from_numpy((np.array(mask) > 127).astype(np.float32)).unsqueeze(0)
        return image, target
