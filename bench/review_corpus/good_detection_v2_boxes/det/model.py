import lightning as L
import torch
from pydantic import BaseModel, Field
from torchmetrics.detection import MeanAveragePrecision
from torchvision.models import ResNet50_Weights
from torchvision.models.detection import fasterrcnn_resnet50_fpn_v2
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor


class DetConfig(BaseModel):
    num_classes: int = Field(2, ge=2, description="including background")
    lr: float = Field(0.01, gt=0, le=0.05)
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(1e-4, ge=0)
    epochs: int = Field(26, ge=1)


class FasterRCNNModule(L.LightningModule):
    def __init__(self, cfg: DetConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = fasterrcnn_resnet50_fpn_v2(weights=None, weights_backbone=ResNet50_Weights.IMAGENET1K_V2)
        in_features = self.model.roi_heads.box_predictor.cls_score.in_features
        self.model.roi_heads.box_predictor = FastRCNNPredictor(in_features, cfg.num_classes)
        self.val_map = MeanAveragePrecision(iou_type="bbox")

    def forward(self, images):
        return self.model(images)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        loss_dict = self.model(list(images), list(targets))
        loss = sum(loss_dict.values())
        self.log_dict({f"train/{k}": v for k, v in loss_dict.items()}, batch_size=len(images))
        self.log("train/loss", loss, batch_size=len(images), prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        preds = self.model(list(images))
        self.val_map.update(preds, list(targets))

    def on_validation_epoch_end(self):
        metrics = self.val_map.compute()
        self.log("val/map", metrics["map"], prog_bar=True)
        self.log("val/map_50", metrics["map_50"])
        self.val_map.reset()

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=self.cfg.lr, momentum=self.cfg.momentum, weight_decay=self.cfg.weight_decay)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[16, 22], gamma=0.1)
        return [opt], [sched]
