"""Mask R-CNN on a COCO-format cell-instance data set (LIVECell subset)."""

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchmetrics.detection import MeanAveragePrecision
from torchvision.datasets import CocoDetection, wrap_dataset_for_transforms_v2
from torchvision.models import ResNet50_Weights
from torchvision.models.detection import maskrcnn_resnet50_fpn_v2
from torchvision.transforms import v2


class CellCfg(BaseModel):
    root: str = "livecell"
    num_classes: int = Field(2, ge=2)
    lr: float = Field(0.02, gt=0, le=0.05)
    epochs: int = Field(24, ge=1)
    batch_size: int = Field(2, ge=1)


def collate(batch):
    return tuple(zip(*batch))


class CellData(L.LightningDataModule):
    def __init__(self, cfg: CellCfg):
        super().__init__()
        self.cfg = cfg
        self.train_tf = v2.Compose([
            v2.ToImage(),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.RandomResizedCrop(704, scale=(0.5, 1.0), antialias=True),
            v2.SanitizeBoundingBoxes(),
            v2.ToDtype(torch.float32, scale=True),
        ])
        self.val_tf = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])

    def setup(self, stage=None):
        keys = ("boxes", "labels", "masks")
        self.train_ds = wrap_dataset_for_transforms_v2(
            CocoDetection(f"{self.cfg.root}/images/train", f"{self.cfg.root}/train.json", transforms=self.train_tf),
            target_keys=keys)
        self.val_ds = wrap_dataset_for_transforms_v2(
            CocoDetection(f"{self.cfg.root}/images/val", f"{self.cfg.root}/val.json", transforms=self.val_tf),
            target_keys=keys)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, collate_fn=collate, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, collate_fn=collate, num_workers=4)


class CellMaskRCNN(L.LightningModule):
    def __init__(self, cfg: CellCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = maskrcnn_resnet50_fpn_v2(weights=None, weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                                              num_classes=cfg.num_classes)
        self.val_map = MeanAveragePrecision(iou_type="segm")

    def forward(self, images):
        return self.model(images)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        losses = self.model(list(images), list(targets))
        loss = sum(losses.values())
        self.log("train/loss", loss, batch_size=len(images), prog_bar=True)
        self.log("train/loss_mask", losses["loss_mask"], batch_size=len(images))
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        preds = self.model(list(images))
        for p in preds:
            p["masks"] = (p["masks"].squeeze(1) > 0.5)
        self.val_map.update(preds, [{**t, "masks": t["masks"].bool()} for t in targets])

    def on_validation_epoch_end(self):
        self.log("val/mask_map", self.val_map.compute()["map"], prog_bar=True)
        self.val_map.reset()

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg.lr, momentum=0.9, weight_decay=1e-4)
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.001, total_iters=1000)
        steps = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[16_000, 22_000], gamma=0.1)
        sched = torch.optim.lr_scheduler.ChainedScheduler([warm, steps], optimizer=opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


if __name__ == "__main__":
    cfg = CellCfg()
    L.seed_everything(3, workers=True)
    model = CellMaskRCNN(cfg)
    trainer = L.Trainer(max_epochs=cfg.epochs, accelerator="gpu", devices=1, precision="16-mixed",
                        gradient_clip_val=5.0, logger=MLFlowLogger(experiment_name="livecell"),
                        callbacks=[ModelCheckpoint(monitor="val/mask_map", mode="max"),
                                   EarlyStopping(monitor="val/mask_map", mode="max", patience=6),
                                   LearningRateMonitor("step")])
    trainer.fit(model, datamodule=CellData(cfg))
    model.eval()
    torch.onnx.export(model.model, ([torch.rand(3, 704, 704)],), "maskrcnn_cells.onnx", opset_version=17)
