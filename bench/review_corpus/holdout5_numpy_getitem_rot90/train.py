import lightning as L
import segmentation_models_pytorch as smp
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from data import CrackData


class CrackSeg(L.LightningModule):
    def __init__(self, lr: float = 3e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = smp.Unet("resnet18", encoder_weights=None, classes=1)
        self.criterion = smp.losses.DiceLoss("binary")

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train/dice_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/dice_loss", self.criterion(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=20)]


if __name__ == "__main__":
    L.seed_everything(5)
    trainer = L.Trainer(
        max_epochs=80, accelerator="gpu", precision="bf16-mixed", gradient_clip_val=1.0, logger=CSVLogger("logs"),
        callbacks=[ModelCheckpoint(monitor="val/dice_loss"), EarlyStopping(monitor="val/dice_loss", patience=10)],
    )
    model = CrackSeg()
    trainer.fit(model, datamodule=CrackData())
    model.eval()
    model.to_onnx("cracks.onnx", torch.zeros(1, 3, 256, 256))
