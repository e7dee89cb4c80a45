import lightning as L
import segmentation_models_pytorch as smp
import torch

from polyp.losses import build_loss
from polypconf.schema import ExperimentConfig


class PolypSegmenter(L.LightningModule):
    def __init__(self, cfg: ExperimentConfig):
        super().__init__()
        self.save_hyperparameters(cfg.model_dump())
        self.cfg = cfg
        self.net = smp.UnetPlusPlus(cfg.encoder, encoder_weights=None, classes=1)
        self.criterion = build_loss(cfg.loss)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        loss = self.criterion(self(batch["image"]), batch["mask"])
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["image"])
        self.log("val/loss", self.criterion(logits, batch["mask"]))
        preds = (logits.sigmoid() > 0.5).long()
        tp, fp, fn, tn = smp.metrics.get_stats(preds, batch["mask"].long(), mode="binary")
        self.log("val/iou", smp.metrics.iou_score(tp, fp, fn, tn, reduction="micro"))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)
        return [opt], [sched]
