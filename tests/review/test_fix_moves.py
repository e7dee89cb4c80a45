"""Fixes that place or move code (issue 11): the seed goes before the first model/data/Trainer construction of
its entry point, and a softmax returned by ``forward()`` into ``CrossEntropyLoss`` moves out of ``forward``.

Each fixed project is reviewed again: the fix must not create the problem it was meant to avoid (MLR182 after
the seeding fix), and the fixed model is run for real to check logits vs. probabilities.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.review import ReviewRequest, review
from tools.review.models import ReviewReport

REPO = Path(__file__).resolve().parents[2]

MODEL = """\
import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy


class LitClassifier(L.LightningModule):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))
        self.criterion = nn.CrossEntropyLoss()
        self.val_acc = MulticlassAccuracy(num_classes=num_classes)

    def forward(self, x):
        logits = self.net(x)
        return F.softmax(logits, dim=1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        probs = self(x)
        loss = self.criterion(probs, y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        probs = self(x)
        self.val_acc(probs, y)
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def predict_one(image):
    model = LitClassifier()
    model.eval()
    with torch.no_grad():
        return model(image)
"""

TRAIN = """\
# Train the classifier.
import argparse

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from model import LitClassifier


class RandomData(L.LightningDataModule):
    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(64, 784), torch.randint(0, 10, (64,))), batch_size=8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    # data and model first, as in most scripts
    datamodule = RandomData()
    model = LitClassifier()
    if args.epochs > 1:
        print("long run")
    trainer = L.Trainer(max_epochs=args.epochs, gradient_clip_val=1.0, precision="bf16-mixed")
    trainer.fit(model, datamodule)


if __name__ == "__main__":
    main()
"""


def _fixed(files: dict[str, str], select: list[str]) -> tuple[ReviewReport, dict[str, str]]:
    report = review(ReviewRequest(files=files, fix=True, select=select))
    assert report.after is not None
    return report, {**files, **(report.fixed_files or {})}


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_seed_goes_before_the_data_and_model_of_the_entry_point() -> None:
    report, fixed = _fixed({"model.py": MODEL, "train.py": TRAIN}, ["seeding"])
    train = fixed["train.py"]
    seed = _line(train, "seed_everything(42, workers=True)")
    assert seed < _line(train, "datamodule = RandomData()") < _line(train, "trainer = L.Trainer(")
    assert train.splitlines()[seed - 1].startswith("    L.seed_everything"), "inside main(), not at import"
    assert [f.rule for f in report.findings if f.fixed] == ["MLR009"]
    again = review(ReviewRequest(files=fixed))
    assert not {"MLR009", "MLR182"} & {f.rule for f in again.findings}
    assert next(i for i in again.checklist if i.id == "seeding").status == "pass"


@pytest.mark.parametrize(
    ("code", "before"),
    [
        (
            "import lightning as L\nfrom net import Net\n\nif __name__ == '__main__':\n    model = Net()\n"
            "    trainer = L.Trainer(max_epochs=1)\n    trainer.fit(model)\n",
            "    model = Net()",
        ),
        (
            "import lightning as L\nimport torchvision\nimport sys\n\nif len(sys.argv) > 1:\n"
            "    backbone = torchvision.models.resnet18(weights=None)\nelse:\n"
            "    backbone = torchvision.models.resnet34(weights=None)\ntrainer = L.Trainer(max_epochs=1)\n"
            "trainer.fit(Wrapper(backbone))\n",
            "if len(sys.argv) > 1:",
        ),
        (
            "import lightning as L\nfrom project.factory import build_model, build_data\n\n\ndef main(cfg):\n"
            "    data = build_data(cfg)\n    model = build_model(cfg)\n    trainer = L.Trainer(max_epochs=1)\n"
            "    trainer.fit(model, datamodule=data)\n",
            "    data = build_data(cfg)",
        ),
    ],
    ids=["main-guard", "model-built-in-branches", "factories-from-another-module"],
)
def test_seed_placement_in_guards_and_branches(code: str, before: str) -> None:
    _, fixed = _fixed({"train.py": code}, ["MLR009"])
    lines = fixed["train.py"].splitlines()
    seed = _line(fixed["train.py"], "seed_everything(42, workers=True)")
    assert lines[seed] == before, fixed["train.py"]
    indent = len(before) - len(before.lstrip())
    assert lines[seed - 1].startswith(" " * indent + "L.seed_everything")
    assert "MLR182" not in {f.rule for f in review(ReviewRequest(files=fixed)).findings}


def test_softmax_returned_by_forward_moves_out_of_it() -> None:
    report, fixed = _fixed({"model.py": MODEL}, ["MLR014"])
    model = fixed["model.py"]
    assert [(f.rule, f.fixed) for f in report.findings] == [("MLR014", True)]
    assert report.after is not None and report.after.findings == []
    forward = model[model.index("def forward") : model.index("def training_step")]
    assert "softmax" not in forward and "return logits" in forward
    assert "probs = self(x)\n        loss = self.criterion(probs, y)" in model, "the loss keeps the logits"
    assert "probs = self(x).softmax(dim=1)\n        self.val_acc(probs, y)" in model, "metrics keep probs"
    assert "return self(batch).softmax(dim=1)" in model, "predict_step added"
    assert "return model(image).softmax(dim=1)" in model, "inference caller adjusted"
    assert review(ReviewRequest(files=fixed, fix=True)).fixed_files == {}, "fixing twice changes nothing"


def test_softmax_move_keeps_logits_for_the_loss_through_a_reshape() -> None:
    code = (
        "import lightning as L\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
        "class Seg(L.LightningModule):\n    def forward(self, x):\n        return nn.Softmax(dim=1)(self.net(x))\n\n"
        "    def training_step(self, batch, batch_idx):\n        x, y = batch\n        out = self.forward(x)\n"
        "        return F.cross_entropy(out.flatten(2), y.flatten(1))\n\n"
        "    def predict_step(self, batch, batch_idx):\n        return self(batch[0])\n"
    )
    _, fixed = _fixed({"seg.py": code}, ["MLR014"])
    seg = fixed["seg.py"]
    assert "return self.net(x)" in seg and "out = self.forward(x)\n" in seg
    assert "return self(batch[0]).softmax(dim=1)" in seg and seg.count("def predict_step") == 1


NET = """\
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=-1)

    def loss(self, x, y):
        return F.cross_entropy(self(x), y)

    def predict(self, x):
        with torch.no_grad():
            return self(x)
"""


def test_fixed_model_really_returns_logits_and_predicts_probabilities() -> None:
    """The fixed module runs: forward gives logits (the loss sees them), predict still gives probabilities."""
    torch = pytest.importorskip("torch")
    report, fixed = _fixed({"net.py": NET}, ["MLR014"])
    assert [(f.rule, f.fixed) for f in report.findings] == [("MLR014", True)]
    namespace: dict[str, object] = {"__name__": "fixed_net"}
    exec(compile(fixed["net.py"], "net.py", "exec"), namespace)
    torch.manual_seed(0)
    net = namespace["Net"]()  # type: ignore[operator]
    x, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    logits = net(x)
    assert not torch.allclose(logits.sum(dim=1), torch.ones(4))
    assert torch.allclose(net.predict(x), logits.softmax(dim=-1))
    assert torch.allclose(net.loss(x, y), torch.nn.functional.cross_entropy(logits, y))


def test_softmax_move_follows_a_helper_method_to_the_loss() -> None:
    """The corpus case: validation passes forward's output to ``self._loss``, which feeds cross-entropy."""
    path = REPO / "bench" / "review_corpus" / "holdout4_seg_softmax_forward_reshaped" / "segment.py"
    report, fixed = _fixed({"segment.py": path.read_text()}, ["MLR014"])
    seg = fixed["segment.py"]
    assert "        return scores\n" in seg
    assert seg.count("out = self(image)\n") == 2, "training and validation losses both get the logits"
    assert "return self(batch).softmax(dim=1)" in seg
    assert report.after is not None and report.after.findings == []
