"""Engine behaviour: project awareness, unknown vs fail, suppressions, bad input, the request model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import get_settings
from tools.review import CHECKLIST, ReviewReport, ReviewRequest, review, review_paths
from tools.review.engine import review_files
from tools.review.rules import all_rules
from tools.review.rules.base import PrimaryRule


def status(report: ReviewReport, item: str) -> str:
    return next(i.status for i in report.checklist if i.id == item)


def evidence(report: ReviewReport, item: str) -> str:
    return next(i.evidence for i in report.checklist if i.id == item)


MODULE = """\
import pytorch_lightning as pl
import torch
import torch.nn.functional as F


class Lit(pl.LightningModule):
    def __init__(self, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, i):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)}
"""


def test_every_report_has_the_14_items_in_order() -> None:
    report = review(ReviewRequest(code="x = 1\n"))
    assert [(i.id, i.title) for i in report.checklist] == CHECKLIST
    assert all(i.status == "not_applicable" for i in report.checklist)
    assert report.summary.score is None  # nothing decided: no score (issue 11, class 10)


def test_module_only_snippet_leaves_trainer_items_unknown() -> None:
    report = review(ReviewRequest(code=MODULE))
    assert status(report, "lightning-module") == "pass"
    assert "class Lit(lightning.pytorch.LightningModule) at snippet.py:6" in evidence(
        report, "lightning-module"
    )
    for item in (
        "gradient-clipping",
        "mixed-precision",
        "callbacks",
        "seeding",
        "experiment-tracking",
        "onnx-export",
    ):
        assert status(report, item) == "unknown", item
    assert status(report, "lr-scheduler") == "pass"
    assert status(report, "data-module") == "not_applicable"


def test_aliases_and_both_lightning_packages_resolve() -> None:
    code = (
        "from pytorch_lightning import Trainer as T\nfrom lightning.pytorch.callbacks import ModelCheckpoint as Ckpt\n"
        "trainer = T(gradient_clip_val=0.5, precision='bf16-mixed', callbacks=[Ckpt(monitor='val/loss')])\n"
    )
    report = review(ReviewRequest(code=code))
    assert status(report, "gradient-clipping") == "pass"
    assert "gradient_clip_val=0.5 at snippet.py:3" in evidence(report, "gradient-clipping")
    assert status(report, "mixed-precision") == "pass"
    not_lightning = "from transformers import Trainer\ntrainer = Trainer(model=m)\n"
    assert status(review(ReviewRequest(code=not_lightning)), "gradient-clipping") == "not_applicable"


def test_hydra_yaml_decides_trainer_items() -> None:
    train = (
        "import hydra\nimport lightning as L\n\n@hydra.main(config_path='configs', config_name='train')\n"
        "def main(cfg):\n    L.seed_everything(cfg.seed, workers=True)\n"
        "    trainer = hydra.utils.instantiate(cfg.trainer)\n    trainer.fit(model)\n"
    )
    primary = "defaults:\n  - trainer: gpu\n  - logger: null\nseed: 12345\n"
    default = "_target_: lightning.pytorch.trainer.Trainer\nmax_epochs: 10\n"
    gpu = "defaults:\n  - default\naccelerator: gpu\nprecision: 16-mixed\ngradient_clip_val: 0.5\n"
    files = {
        "src/train.py": train,
        "configs/train.yaml": primary,
        "configs/trainer/default.yaml": default,
        "configs/trainer/gpu.yaml": gpu,
    }
    report = review(ReviewRequest(files=files))
    assert status(report, "gradient-clipping") == "pass"
    assert "configs/trainer/gpu.yaml:5" in evidence(report, "gradient-clipping")
    assert status(report, "mixed-precision") == "pass"
    assert status(report, "seeding") == "pass"
    assert status(report, "experiment-tracking") == "fail"  # logger: null
    # Without the YAML the same code cannot be judged: unknown, not fail.
    alone = review(ReviewRequest(files={"src/train.py": train}))
    for item in ("gradient-clipping", "mixed-precision", "seeding", "experiment-tracking"):
        assert status(alone, item) == "unknown", item
    assert not [f for f in alone.findings if f.rule in {"MLR006", "MLR007"}]


def test_lightningcli_literals_count() -> None:
    code = (
        "from lightning.pytorch.cli import LightningCLI\n"
        "LightningCLI(trainer_defaults={'gradient_clip_val': 1.0, 'precision': '16-mixed'}, "
        "seed_everything_default=7)\n"
    )
    report = review(ReviewRequest(code=code))
    assert status(report, "gradient-clipping") == "pass"
    assert status(report, "seeding") == "pass"
    off = "from lightning.pytorch.cli import LightningCLI\nLightningCLI(seed_everything_default=False)\n"
    assert status(review(ReviewRequest(code=off)), "seeding") == "fail"


def test_base_class_from_a_missing_module_is_unknown() -> None:
    files = {
        "train.py": (
            "import lightning as L\nfrom common.lit_base import BaseClassifier\n\n\n"
            "class Model(BaseClassifier):\n    pass\n\n\n"
            "trainer = L.Trainer(max_epochs=3)\ntrainer.fit(Model())\n"
        )
    }
    report = review(ReviewRequest(files=files))
    assert status(report, "loss-function") == "unknown"
    assert status(report, "lr-scheduler") == "unknown"
    assert status(report, "gradient-clipping") == "fail"  # the given Trainer decides that one


def test_suppression_comments() -> None:
    code = "import lightning as L\ntrainer = L.Trainer(max_epochs=1)  # mlagent: ignore[MLR006]\n"
    rules = {f.rule for f in review(ReviewRequest(code=code)).findings}
    assert "MLR006" not in rules and "MLR007" in rules
    everything = "import lightning as L\ntrainer = L.Trainer(max_epochs=1)  # mlagent: ignore\n"
    rules = {f.rule for f in review(ReviewRequest(code=everything)).findings if f.line == 2}
    assert not rules
    whole_file = "# mlagent: ignore-file[MLR007, MLR008]\nimport lightning as L\ntrainer = L.Trainer()\n"
    rules = {f.rule for f in review(ReviewRequest(code=whole_file)).findings}
    assert not rules & {"MLR007", "MLR008"} and "MLR006" in rules


def test_parse_error_uses_cpythons_position_and_review_goes_on() -> None:
    files = {
        "bad.py": "import torch\nx = (1,\ny = 2\n",
        "train.py": "import lightning as L\nt = L.Trainer()\n",
    }
    report = review(ReviewRequest(files=files))
    parse = [f for f in report.findings if f.rule == "MLR000"]
    assert len(parse) == 1 and parse[0].path == "bad.py" and parse[0].line == 2
    assert any(f.path == "train.py" for f in report.findings)


def test_invalid_yaml_is_a_finding() -> None:
    report = review(ReviewRequest(files={"configs/train.yaml": "a: [1, 2\n", "t.py": "import torch\n"}))
    assert any(f.rule == "MLR000" and f.path == "configs/train.yaml" for f in report.findings)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"code": ""},
        {"code": "   \n"},
        {"code": "x", "files": {"a.py": "x"}},
        {"files": {}},
        {"files": {"": "x"}},
        {"code": "x" * 1_000_001},
        {"code": "x", "format": "xml"},
    ],
)
def test_request_validation(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ReviewRequest.model_validate(payload)


def test_review_paths_reads_a_directory_as_one_project(tmp_path: Path) -> None:
    (tmp_path / "configs" / "trainer").mkdir(parents=True)
    (tmp_path / "configs" / "trainer" / "default.yaml").write_text(
        "_target_: lightning.pytorch.Trainer\ngradient_clip_val: 1.0\n"
    )
    (tmp_path / "train.py").write_text(
        "import hydra\nimport lightning as L\ntrainer = hydra.utils.instantiate(cfg.trainer)\ntrainer.fit(m)\n"
    )
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "junk.py").write_text("def broken(:\n")
    report = review_paths([tmp_path])
    assert report.summary.files == 2
    assert status(report, "gradient-clipping") == "pass"


def test_select_by_checklist_id_and_fixable_flags() -> None:
    report = review_files(
        {"t.py": "import lightning as L\ntrainer = L.Trainer()\n"}, select=["mixed-precision"]
    )
    assert {f.rule for f in report.findings} == {"MLR007"}
    assert all(f.fixable for f in report.findings)
    item = next(i for i in report.checklist if i.id == "gradient-clipping")
    assert item.status == "unknown" and "deselected" in item.evidence


@pytest.fixture
def failing_clipping_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clipping item's judge answers ``fail`` (no built-in judge does today; the engine must still show
    what it does with such an answer rather than turn it into ``unknown`` silently)."""
    primary = next(
        r for r in all_rules() if isinstance(r, PrimaryRule) and r.checklist == "gradient-clipping"
    )
    monkeypatch.setattr(type(primary), "judge", lambda self, project: ("fail", "clipping is off"))


@pytest.mark.usefixtures("failing_clipping_judge")
def test_a_judged_fail_without_a_finding_says_why_it_is_shown_as_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The user suppressed the clipping finding: the item cannot fail without it, and the evidence says why.
    code = "import lightning as L\ntrainer = L.Trainer(max_epochs=1)  # mlagent: ignore[MLR006]\ntrainer.fit(m)\n"
    with caplog.at_level(logging.WARNING, logger="tools.review.engine"):
        report = review_files({"train.py": code})
    assert status(report, "gradient-clipping") == "unknown"
    assert evidence(report, "gradient-clipping") == (
        "downgraded from fail: the judge found 'clipping is off', but its findings (MLR006) are suppressed or "
        "ignored by configuration"
    )
    assert any("gradient-clipping: judged fail" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("failing_clipping_judge")
def test_a_judge_and_rule_disagreeing_is_an_error_in_strict_mode(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A fail that nothing the user chose explains (no finding, none hidden): the rule and its judge disagree.
    clipped = "import lightning as L\ntrainer = L.Trainer(gradient_clip_val=1.0)\ntrainer.fit(m)\n"
    with pytest.raises(AssertionError, match="gradient-clipping: judged fail without a finding"):
        review_files({"train.py": clipped})  # the review tests run strict (tests/review/conftest.py)
    monkeypatch.setenv("MLAGENT_REVIEW_STRICT", "0")
    get_settings.cache_clear()
    with caplog.at_level(logging.ERROR, logger="tools.review.engine"):
        report = review_files({"train.py": clipped})
    assert status(report, "gradient-clipping") == "unknown"
    assert "rule and judge disagree" in evidence(report, "gradient-clipping")
    assert any("judged fail without a finding" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    get_settings.cache_clear()  # back to the strict settings the rest of the review tests run with
