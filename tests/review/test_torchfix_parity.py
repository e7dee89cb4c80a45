"""What TorchFix finds and we did not (issue 11, class 8): ``torch.load`` without ``weights_only`` (MLR200),
torchvision's deprecated ``pretrained=`` (MLR201) and a DataLoader without workers (MLR202).

They are our own rules, not TorchFix run as a library: TorchFix 0.7.0 pins ``libcst<1.6`` (we need 1.9), and its
visitors need LibCST's ``QualifiedNameProvider`` metadata, measured at ~4.9 s on the 3,000-line speed file
(the whole cold review has 1 s). The rules use our index's import resolution instead, in the same single parse.
"""

from __future__ import annotations

from tools.review import Finding, ReviewRequest, review

SCRIPT = """\
import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import models


def build(num_classes: int):
    net = models.resnet50(pretrained=True)
    det = torchvision.models.detection.fasterrcnn_resnet50_fpn(
        pretrained=False,  # train from scratch
        pretrained_backbone=False,
        num_classes=num_classes,
    )
    return net, det


def resume(path: str, net: torch.nn.Module) -> None:
    state = torch.load(path, map_location="cpu")
    net.load_state_dict(state["state_dict"])
    extra = torch.load(path, pickle_module=custom_pickle)
    trusted = torch.load(path, weights_only=False)


def loaders(train_ds, val_ds):
    train = DataLoader(train_ds, batch_size=32, shuffle=True)
    val = DataLoader(val_ds, batch_size=64, num_workers=0)
    fast = DataLoader(val_ds, 64, False, None, None, 4)
    return train, val, fast
"""


def _by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def test_the_three_torchfix_checks_fire_where_torchfix_would() -> None:
    report = review(ReviewRequest(files={"train.py": SCRIPT}, select=["MLR200", "MLR201", "MLR202"]))
    loads = _by_rule(report.findings, "MLR200")
    assert [f.line for f in loads] == [18, 20]  # weights_only=False is an explicit, trusted choice
    assert [f.fixable for f in loads] == [True, False]  # pickle_module: a choice to make by hand
    pretrained = _by_rule(report.findings, "MLR201")
    assert [(f.line, f.fixable) for f in pretrained] == [(8, False), (10, True), (11, True)]
    workers = _by_rule(report.findings, "MLR202")
    assert [(f.line, f.severity) for f in workers] == [(25, "info"), (26, "info")]
    assert all(i.status != "fail" for i in report.checklist), "outside the 14 items: no status changes"


def test_their_fixes_keep_behaviour_and_layout() -> None:
    report = review(ReviewRequest(files={"train.py": SCRIPT}, select=["MLR200", "MLR201"], fix=True))
    fixed = (report.fixed_files or {})["train.py"]
    assert 'state = torch.load(path, map_location="cpu", weights_only=True)' in fixed
    assert "weights=None,  # train from scratch\n        weights_backbone=None,\n" in fixed
    assert "models.resnet50(pretrained=True)" in fixed, "pretrained=True names one weight set: by hand"
    assert report.after is not None
    assert {(f.rule, f.line) for f in report.after.findings} == {("MLR200", 20), ("MLR201", 8)}


def test_the_new_rules_leave_checklist_verdicts_alone() -> None:
    code = SCRIPT + "\nimport lightning as L\ntrainer = L.Trainer(max_epochs=1)\n"
    every = review(ReviewRequest(code=code))
    without = review(ReviewRequest(code=code, ignore=["MLR200", "MLR201", "MLR202"]))
    assert every.checklist == without.checklist
    assert every.summary.score == without.summary.score
