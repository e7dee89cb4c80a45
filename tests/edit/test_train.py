"""The edited code trains: bf16 + early stopping + cosine warm-up applied to a Lightning script, then a real
(tiny, CPU) fit on synthetic tensors, in-process. It fails if an edit produces code Lightning rejects
(a bad precision value, a monitor key that is not logged, a scheduler config Lightning cannot step)."""

from __future__ import annotations

import types

import pytest

from tools.edit import EditRequest, edit_code

pytest.importorskip("lightning")

SCRIPT = """
import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class LitClassifier(L.LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU())
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)


def loaders():
    data = TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 4, (32,)))
    return DataLoader(data, batch_size=8), DataLoader(data, batch_size=8)


def build_trainer(**overrides):
    return L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False, **overrides)
"""


def _run(code: str) -> types.SimpleNamespace:
    namespace: dict[str, object] = {}
    exec(compile(code, "edited.py", "exec"), namespace)  # our own test code, edited by the tool
    return types.SimpleNamespace(**namespace)


@pytest.mark.parametrize(
    "instruction",
    [
        "use bf16, add early stopping on val/loss and switch to a cosine schedule with warm-up",
        "use focal loss and freeze the backbone for 1 epoch, then seed everything with 3",
    ],
)
def test_edited_code_trains(instruction: str) -> None:
    script = SCRIPT.replace("**overrides)", "enable_progress_bar=False, enable_model_summary=False)")
    script = script.replace("def build_trainer(**overrides):", "def build_trainer():")
    result = edit_code(EditRequest(files={"train.py": script}, instruction=instruction))
    assert not result.skipped, result.skipped
    code = result.files["train.py"]
    mod = _run(code)
    trainer = mod.build_trainer()
    model = mod.LitClassifier()
    train, val = mod.loaders()
    trainer.fit(model, train, val)
    assert trainer.global_step == 8  # 2 epochs x 4 batches
    if "bf16" in instruction:
        assert 'precision="bf16-mixed"' in code and "EarlyStopping(" in code and "SequentialLR" in code
        assert type(trainer.precision_plugin).__name__ == "MixedPrecision"
        assert any(type(c).__name__ == "EarlyStopping" for c in trainer.callbacks)
        config = trainer.lr_scheduler_configs[0]
        assert config.interval == "step" and type(config.scheduler).__name__ == "SequentialLR"
    else:
        assert any(type(c).__name__ == "BackboneFinetuning" for c in trainer.callbacks)
        assert "softmax_focal_loss(" in code
        # After epoch 1 the backbone was unfrozen and added to the optimizer as a second group.
        assert len(trainer.optimizers[0].param_groups) == 2


def test_checkpoint_and_csv_logger_edits_train_and_write_files(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ModelCheckpoint (with checkpointing switched back on) and a CSV logger: the run writes both."""
    monkeypatch.chdir(tmp_path)
    script = SCRIPT.replace("**overrides)", "enable_progress_bar=False, enable_model_summary=False)")
    script = script.replace("def build_trainer(**overrides):", "def build_trainer():")
    script = script.replace("logger=False, ", "")
    result = edit_code(
        EditRequest(
            files={"train.py": script},
            instruction="keep the best 2 checkpoints by val/loss and log to csv files",
        )
    )
    assert not result.skipped, result.skipped
    code = result.files["train.py"]
    assert "enable_checkpointing=True" in code and "CSVLogger(" in code, code
    mod = _run(code)
    trainer = mod.build_trainer()
    train, val = mod.loaders()
    trainer.fit(mod.LitClassifier(), train, val)
    checkpoint = next(c for c in trainer.callbacks if type(c).__name__ == "ModelCheckpoint")
    assert checkpoint.monitor == "val/loss" and checkpoint.save_top_k == 2
    assert checkpoint.best_model_path and (tmp_path / "lightning_logs").is_dir()
    assert list(tmp_path.glob("lightning_logs/**/metrics.csv")), "the CSV logger wrote no metrics.csv"
    assert list(tmp_path.glob("lightning_logs/**/last.ckpt")) or checkpoint.last_model_path


def test_a_module_without_a_trainer_gets_clipping_in_its_hook_and_a_seed_and_still_trains() -> None:
    """Module-only code (as submitted to a smoke run): the clip is in configure_gradient_clipping, and any Trainer
    that fits the module clips with it."""
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from tests.samples import TINY_LIGHTNING

    result = edit_code(
        EditRequest(
            files={"model.py": TINY_LIGHTNING}, instruction="clip gradients at 0.5 and seed everything with 7"
        )
    )
    assert not result.skipped, result.skipped
    mod = _run(result.files["model.py"])
    clipped: list[float] = []

    class Recorded(mod.TinyModel):  # type: ignore[name-defined,misc]
        def clip_gradients(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):  # type: ignore[no-untyped-def]
            clipped.append(gradient_clip_val)
            super().clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    data = TensorDataset(torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,)))
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(Recorded(), DataLoader(data, batch_size=4))
    assert clipped == [0.5, 0.5, 0.5]
    assert "seed_everything(7, workers=True)" in result.files["model.py"]


def test_softmax_focal_loss_matches_cross_entropy_at_gamma_zero_and_handles_segmentation_shapes() -> None:
    import torch
    import torch.nn.functional as F

    from tools.edit.transforms.focal import SOFTMAX_HELPERS

    ns: dict[str, object] = {"torch": torch}
    exec(SOFTMAX_HELPERS, ns)
    focal = ns["softmax_focal_loss"]
    logits = torch.randn(4, 5, 6, 6)
    target = torch.randint(0, 5, (4, 6, 6))
    target[0, 0, 0] = 255
    weight = torch.rand(5)
    ref = F.cross_entropy(logits, target, weight=weight, ignore_index=255)
    got = focal(logits, target, gamma=0.0, weight=weight, ignore_index=255)  # type: ignore[operator]
    assert torch.allclose(got, ref, atol=1e-6)
    assert focal(logits, target, gamma=2.0, ignore_index=255) < F.cross_entropy(
        logits, target, ignore_index=255
    )  # type: ignore[operator]
