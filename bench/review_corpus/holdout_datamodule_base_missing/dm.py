"""Project DataModule: only the transforms are project-specific; splits and loaders come from the shared base."""

import albumentations as A
from albumentations.pytorch import ToTensorV2

from shared.data.base import SegmentationDataModuleBase


class BuildingFootprints(SegmentationDataModuleBase):
    """Inria aerial building footprints (binary masks)."""

    def train_transform(self) -> A.Compose:
        return A.Compose([
            A.RandomCrop(512, 512),
            A.D4(),
            A.RandomBrightnessContrast(0.2, 0.2, p=0.5),
            A.Normalize(),
            ToTensorV2(),
        ])

    def eval_transform(self) -> A.Compose:
        return A.Compose([A.PadIfNeeded(512, 512), A.CenterCrop(512, 512), A.Normalize(), ToTensorV2()])
