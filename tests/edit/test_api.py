"""The edit tool's contract: skipped edits say why, bad requests fail clearly, the re-review comes back."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.edit import EarlyStoppingEdit, EditRequest, PrecisionEdit, edit_code

MODULE_ONLY = """import lightning as L
import torch


class Lit(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        return self.net(batch).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""

SCRIPT = "import lightning as L\n\n# the trainer\ntrainer = L.Trainer(max_epochs=1)  # keep this comment\n"


def test_no_trainer_is_a_sentence_in_skipped() -> None:
    result = edit_code(EditRequest(files={"model.py": MODULE_ONLY}, instruction="make it use bf16"))
    assert result.files == {"model.py": MODULE_ONLY} and result.diff == ""
    assert result.skipped == ["precision: no Trainer(...) call found in the code"]


def test_freeze_without_backbone_names_the_attributes() -> None:
    result = edit_code(
        EditRequest(files={"model.py": MODULE_ONLY}, instruction="freeze the backbone for 2 epochs")
    )
    assert not result.diff
    assert "has no self.backbone" in result.skipped[0] and "self.net" in result.skipped[0]


def test_unknown_request_says_what_is_supported() -> None:
    result = edit_code(EditRequest(files={"train.py": SCRIPT}, instruction="make it faster somehow"))
    assert result.diff == "" and "I can:" in result.skipped[0]


def test_early_stopping_on_a_key_that_is_not_logged_is_refused() -> None:
    code = MODULE_ONLY.replace(
        "return self.net(batch).sum()",
        'loss = self.net(batch).sum()\n        self.log("val_loss", loss)\n        return loss',
    )
    code += "\ntrainer = L.Trainer()\n"
    result = edit_code(EditRequest(files={"m.py": code}, instruction="add early stopping on val/acc"))
    assert not result.diff
    assert "val/acc is not logged" in result.skipped[0] and "val_loss" in result.skipped[0]


def test_parsed_edits_comments_kept_and_review_before_after() -> None:
    request = EditRequest(
        files={"train.py": SCRIPT, "configs/notes.md": "# notes\n"},
        edits=[PrecisionEdit(value="16-mixed"), EarlyStoppingEdit(monitor="val_loss", patience=2)],
    )
    result = edit_code(request)
    new = result.files["train.py"]
    assert "# the trainer\n" in new and "# keep this comment" in new
    assert (
        'precision="16-mixed"' in new and 'EarlyStopping(monitor="val_loss", mode="min", patience=2)' in new
    )
    assert "from lightning.pytorch.callbacks import EarlyStopping" in new
    assert result.files["configs/notes.md"] == "# notes\n"
    statuses = {c.id: (c.before, c.after) for c in result.checklist}
    assert len(statuses) == 14 and statuses["mixed-precision"] == ("fail", "pass")
    assert result.review and result.score_after is not None and result.score_before is not None
    assert result.score_after > result.score_before


def test_pytorch_lightning_code_gets_pytorch_lightning_imports() -> None:
    code = "import pytorch_lightning as pl\ntrainer = pl.Trainer(max_epochs=3)\n"
    result = edit_code(EditRequest(files={"t.py": code}, instruction="add early stopping and log to mlflow"))
    new = result.files["t.py"]
    assert "from pytorch_lightning.callbacks import EarlyStopping" in new
    assert "from pytorch_lightning.loggers import MLFlowLogger" in new
    assert "lightning.pytorch" not in new


def test_trainer_from_a_mapping_is_skipped_with_a_reason() -> None:
    code = "import lightning as L\ncfg = {}\ntrainer = L.Trainer(**cfg)\n"
    result = edit_code(EditRequest(files={"t.py": code}, instruction="use bf16"))
    assert not result.diff and "takes its arguments from a mapping" in result.skipped[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"files": {}, "instruction": "use bf16"},
        {"files": {"a.py": "x = 1\n"}},
        {"files": {"a.py": "x = 1\n"}, "instruction": "   "},
        {"files": {"a.py": "x"}, "edits": [{"kind": "precision", "value": "fp8"}]},
        {"files": {"a.py": "x"}, "edits": [{"kind": "teleport"}]},
    ],
)
def test_bad_requests_fail_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EditRequest.model_validate(kwargs)
