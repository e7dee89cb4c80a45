import lightning.pytorch as pl
import timm_but_not_installed_anywhere  # noqa: F401


class NeedsMissingPackage(pl.LightningModule):
    pass
