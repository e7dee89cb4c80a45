# ruff: noqa  (golden input for the autofix tests: kept exactly as the review fixer sees and writes it)
# fmt: off
import lightning as L


class Lit(L.LightningModule):
    def test_step(self, batch, batch_idx):
        acc = self.accuracy(batch)
        self.log("val/acc", acc)
        self.log("val_top5", acc)
