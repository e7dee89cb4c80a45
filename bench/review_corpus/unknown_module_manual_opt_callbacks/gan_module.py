"""DCGAN on 64x64 faces as a LightningModule with manual optimization; the Trainer lives in the launcher."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pydantic import BaseModel, Field


class GANConfig(BaseModel):
    latent_dim: int = Field(100, ge=1)
    lr: float = Field(2e-4, gt=0, lt=1e-2)
    beta1: float = Field(0.5, ge=0, lt=1)
    clip: float = Field(1.0, gt=0)


def generator(latent: int) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose2d(latent, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(True),
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )


def discriminator() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2, True),
        nn.Conv2d(256, 512, 4, 2, 1, bias=False), nn.BatchNorm2d(512), nn.LeakyReLU(0.2, True),
        nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Flatten(),
    )


class DCGAN(LightningModule):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.cfg = cfg
        self.G = generator(cfg.latent_dim)
        self.D = discriminator()

    def forward(self, z):
        return self.G(z)

    def training_step(self, batch, batch_idx):
        real, _ = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.cfg.latent_dim, 1, 1, device=self.device)

        fake = self(z)
        d_real, d_fake = self.D(real), self.D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        self.clip_gradients(opt_d, gradient_clip_val=self.cfg.clip, gradient_clip_algorithm="norm")
        opt_d.step()

        d_gen = self.D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        self.clip_gradients(opt_g, gradient_clip_val=self.cfg.clip, gradient_clip_algorithm="norm")
        opt_g.step()

        self.log_dict({"train/loss_d": loss_d, "train/loss_g": loss_g}, prog_bar=True)

    def on_train_epoch_end(self):
        for sched in self.lr_schedulers():
            sched.step()

    def validation_step(self, batch, batch_idx):
        real, _ = batch
        d_real = self.D(real)
        self.log("val/d_real_acc", (d_real > 0).float().mean())

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.G.parameters(), lr=self.cfg.lr, betas=(self.cfg.beta1, 0.999))
        opt_d = torch.optim.Adam(self.D.parameters(), lr=self.cfg.lr, betas=(self.cfg.beta1, 0.999))
        sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, gamma=0.99)
        sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, gamma=0.99)
        return [opt_g, opt_d], [sched_g, sched_d]

    def configure_callbacks(self):
        return [
            ModelCheckpoint(monitor="train/loss_g", mode="min", save_last=True, every_n_epochs=1),
            EarlyStopping(monitor="val/d_real_acc", mode="max", patience=20),
            LearningRateMonitor(logging_interval="epoch"),
        ]
