"""Issue 11's wrong-verdict classes, one small project per behaviour: the checklist status must follow the code.

Each test builds the smallest project that shows one class (a LightningCLI subclass, a seed inside a Trainer
helper, dynamic metric keys, ...) and checks the status of the item it decides, so a regression names its class.
"""

from __future__ import annotations

from tools.review.engine import review_files


def _status(files: dict[str, str], item: str) -> tuple[str, str]:
    report = review_files(files)
    found = next(i for i in report.checklist if i.id == item)
    return found.status, found.evidence


_MODULE = """
import lightning.pytorch as pl
import torch
import torch.nn.functional as F


class Net(pl.LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(8, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", F.cross_entropy(self.layer(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
"""

_CLI_SUBCLASS = (
    _MODULE
    + """
from lightning.pytorch.cli import LightningCLI


class MyCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.set_defaults({"trainer.max_epochs": 5})


class TeamCLI(MyCLI):
    pass


def main() -> None:
    cli = TeamCLI(Net, seed_everything_default=SEED, trainer_defaults={"gradient_clip_val": CLIP}, run=False)
    cli.trainer.fit(cli.model)
"""
)


def test_class4_lightningcli_subclass_seeds_and_clips_like_the_base() -> None:
    good = {"main.py": _CLI_SUBCLASS.replace("SEED", "1234").replace("CLIP", "1.0")}
    assert _status(good, "seeding")[0] == "pass"
    assert _status(good, "gradient-clipping")[0] == "pass"


def test_class4_lightningcli_subclass_with_seeding_off_fails() -> None:
    bad = {"main.py": _CLI_SUBCLASS.replace("SEED", "False").replace("CLIP", "0.0")}
    assert _status(bad, "seeding")[0] == "fail"
    assert _status(bad, "gradient-clipping")[0] == "fail"


def test_class5_seed_in_the_helper_that_builds_the_trainer_counts() -> None:
    """The helper is not called in the file; its Trainer is judged, so its seed is reachable too."""
    helper = (
        _MODULE
        + """

def make_trainer(epochs: int) -> pl.Trainer:
    pl.seed_everything(7, workers=True)
    return pl.Trainer(max_epochs=epochs, gradient_clip_val=1.0)
"""
    )
    assert _status({"lit.py": helper}, "seeding")[0] == "pass"
    unseeded = helper.replace("    pl.seed_everything(7, workers=True)\n", "")
    assert _status({"lit.py": unseeded}, "seeding")[0] == "fail"


def test_class5_seed_in_an_uncalled_unrelated_helper_does_not_count() -> None:
    """A seed in a function that neither runs nor builds the run stays unreachable."""
    code = (
        _MODULE
        + """

def unused_debug_helper() -> None:
    pl.seed_everything(7)


trainer = pl.Trainer(max_epochs=3, gradient_clip_val=1.0)
trainer.fit(Net())
"""
    )
    assert _status({"lit.py": code}, "seeding")[0] == "fail"


_RUN = """
import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from lit import Net

pl.seed_everything(1)
trainer = pl.Trainer(
    gradient_clip_val=1.0,
    accelerator="cpu",
    logger=CSVLogger("logs"),
    callbacks=[ModelCheckpoint(monitor="MONITOR", mode="max"), EarlyStopping(monitor="MONITOR", mode="max")],
)
trainer.fit(Net())
"""

_DYNAMIC = (
    _MODULE.replace(
        '        self.log("val/loss", F.cross_entropy(self.layer(x), y))\n',
        '        self._log_scores(x, y, "val")\n',
    )
    + """
    def _log_scores(self, x, y, split: str) -> None:
        acc = (self.layer(x).argmax(1) == y).float().mean()
        self.log(f"{split}/acc", acc)
"""
)


def test_class6_monitor_matches_a_key_built_from_a_parameter() -> None:
    files = {"lit.py": _DYNAMIC, "train.py": _RUN.replace("MONITOR", "val/acc")}
    status, evidence = _status(files, "callbacks")
    assert status == "pass", evidence
    files["train.py"] = _RUN.replace("MONITOR", "val_acc")
    status, evidence = _status(files, "callbacks")
    assert status == "fail", evidence  # no logged pattern can produce 'val_acc'


def test_class6_log_dict_of_a_metrics_variable_is_followed() -> None:
    """A test step that copies the validation dict (val_* keys) and logs it through a variable."""
    code = (
        _MODULE
        + """
    def test_step(self, batch, batch_idx):
        x, y = batch
        metrics = {"val/loss": F.cross_entropy(self.layer(x), y)}
        self.log_dict(metrics)
"""
    )
    status, evidence = _status({"lit.py": code}, "metric-prefixes")
    assert status == "fail", evidence
    assert _status({"lit.py": code.replace('{"val/loss"', '{"test/loss"')}, "metric-prefixes")[0] == "pass"


_TWO_CLASSES = """
import lightning as L
import torch
import torch.nn as nn


def convert_multilabel_to_single_label(attrs):
    return attrs.argmax(1)


class Regressor(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(8, 1)
        self.criterion = nn.MSELoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self.net(x).squeeze(1), y)
        self.log("train/loss", loss)
        return loss

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self.net(x).squeeze(1) - y).abs().lt(1.0).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters())


class Classifier(L.LightningModule):
    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.net = nn.Linear(8, num_classes)
        self.criterion = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, attrs = batch
        y = convert_multilabel_to_single_label(attrs)
        loss = self.criterion(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters())
"""


def test_class3_attributes_resolve_per_class_and_names_decide_nothing() -> None:
    """self.criterion of the regressor is not the classifier's; a helper's name does not make it multi-label."""
    status, evidence = _status({"models.py": _TWO_CLASSES}, "loss-function")
    assert status == "pass", evidence


def test_class3_a_function_alias_is_a_loss() -> None:
    """``self.loss_func = F.binary_cross_entropy_with_logits`` fed forward()'s sigmoid is a double sigmoid."""
    code = """
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(L.LightningModule):
    def __init__(self, num_labels: int = 20):
        super().__init__()
        self.net = nn.Linear(8, num_labels)
        self.loss_func = F.binary_cross_entropy_with_logits

    def forward(self, x):
        return torch.sigmoid(self.net(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss_func(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters())
"""
    status, evidence = _status({"tagger.py": code}, "loss-function")
    assert status == "fail" and "MLR237" in evidence, evidence
    fixed = code.replace("return torch.sigmoid(self.net(x))", "return self.net(x)")
    assert _status({"tagger.py": fixed}, "loss-function")[0] == "pass"


def test_class9_config_recognised_by_binding_not_spelling() -> None:
    """``@hydra.main`` parameter and ``OmegaConf.load`` results are configs whatever they are called."""
    hydra_main = """
import hydra
import lightning as L

from lit import Net


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(opts) -> None:
    L.seed_everything(opts.seed)
    trainer = L.Trainer(**opts.trainer)
    trainer.fit(Net())
"""
    files = {
        "lit.py": _MODULE,
        "train.py": hydra_main,
        "configs/train.yaml": "defaults:\n  - trainer: gpu\n  - _self_\nseed: null\n",
        "configs/trainer/gpu.yaml": "accelerator: gpu\nprecision: bf16-mixed\ngradient_clip_val: 1.0\n",
    }
    assert _status(files, "seeding")[0] == "fail"
    assert _status(files, "gradient-clipping")[0] == "pass"
    loaded = """
import lightning as L
from omegaconf import OmegaConf

from lit import Net

params = OmegaConf.load("configs/run.yaml")
L.seed_everything(params.seed)
trainer = L.Trainer(**params.trainer)
trainer.fit(Net())
"""
    files = {
        "lit.py": _MODULE,
        "run.py": loaded,
        "configs/run.yaml": "seed: 3\ntrainer:\n  accelerator: gpu\n  precision: 32\n",
    }
    assert _status(files, "gradient-clipping")[0] == "fail"
    assert _status(files, "mixed-precision")[0] == "fail"
    assert _status(files, "seeding")[0] == "pass"


def test_class2_network_from_a_missing_module_makes_nll_unknown_not_fail() -> None:
    lit = """
import lightning as L
import torch
import torch.nn.functional as F

from src.models.factory import build_model


class Lit(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = build_model("wrn28", num_classes=10)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.nll_loss(self.model(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""
    status, evidence = _status({"src/lit.py": lit}, "loss-function")
    assert status == "unknown" and "not given" in evidence, evidence
    given = (
        "import torch.nn as nn\n\ndef build_model(name, num_classes):\n    return nn.Linear(8, num_classes)\n"
    )
    status, evidence = _status({"src/lit.py": lit, "src/models/factory.py": given}, "loss-function")
    assert status == "fail", evidence  # the factory is given and ends in raw logits


def test_class1_each_entry_point_is_judged_on_its_own() -> None:
    """A clipped, seeded, bf16 Trainer in one file does not hide an unclipped, unseeded fp32 one in another."""
    good = """
import lightning as L

from lit import Net

L.seed_everything(1)
trainer = L.Trainer(accelerator="gpu", precision="bf16-mixed", gradient_clip_val=1.0)
trainer.fit(Net())
"""
    bad = """
import lightning as L

from lit import Net

trainer = L.Trainer(accelerator="gpu")
trainer.fit(Net())
"""
    files = {"lit.py": _MODULE, "pretrain.py": good, "finetune.py": bad}
    for item in ("gradient-clipping", "mixed-precision", "seeding"):
        status, evidence = _status(files, item)
        assert status == "fail" and "finetune.py" in evidence, (item, evidence)
    files["finetune.py"] = good
    for item in ("gradient-clipping", "mixed-precision", "seeding"):
        assert _status(files, item)[0] == "pass", item


_LOOP = """
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision.datasets import CIFAR10


def evaluate(model, loader):
    return sum((model(x).argmax(1) == y).float().mean().item() for x, y in loader)


def main(model, train_set):
    torch.manual_seed(0)
    held_out = CIFAR10("data", train=False)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    eval_loader = DataLoader(held_out, batch_size=256)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    best = 0.0
    for epoch in range(30):
        for x, y in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        acc = evaluate(model, eval_loader)
        if acc > best:
            best = acc
            torch.save(model.state_dict(), "best.pt")
"""


def test_class7_best_epoch_selected_on_a_renamed_test_loader() -> None:
    """``eval_loader`` is a loader over CIFAR10(train=False): the test set picks the best epoch."""
    status, evidence = _status({"train.py": _LOOP}, "data-leakage")
    assert status == "fail" and "test split" in evidence, evidence
    status, evidence = _status({"train.py": _LOOP}, "callbacks")
    assert status == "fail", evidence  # best checkpoint kept, but nothing stops early


def test_class7_test_loader_passed_as_validation_under_another_name() -> None:
    code = (
        _MODULE
        + """
from torch.utils.data import DataLoader
from torchvision.datasets import MNIST

train_loader = DataLoader(MNIST("d", train=True), shuffle=True)
val_dataloader = DataLoader(MNIST("d", train=False))
trainer = pl.Trainer(gradient_clip_val=1.0)
trainer.fit(Net(), train_loader, val_dataloaders=val_dataloader)
"""
    )
    status, evidence = _status({"lit.py": code}, "data-leakage")
    assert status == "fail" and "test split" in evidence, evidence
