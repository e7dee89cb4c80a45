"""Every output format, rendered from one report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tools.review import CHECKLIST, ReviewReport, ReviewRequest, render, review

SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"
CODE = """\
import lightning as L
import torch.nn.functional as F


class Lit(L.LightningModule):
    def training_step(self, batch, i):
        x, y = batch
        loss = F.cross_entropy(F.softmax(self(x), dim=1), y)
        self.log("loss", loss)
        return loss


trainer = L.Trainer(max_epochs=3)
trainer.fit(Lit())
"""


@pytest.fixture(scope="module")
def report() -> ReviewReport:
    return review(ReviewRequest(code=CODE))


def test_json_is_the_contract(report: ReviewReport) -> None:
    data = json.loads(render(report, "json"))
    assert [i["id"] for i in data["checklist"]] == [i for i, _ in CHECKLIST]
    assert set(data["summary"]) >= {"files", "errors", "warnings", "score"}
    assert ReviewReport.model_validate(data) == report
    for item in data["checklist"]:
        assert item["status"] in {"pass", "fail", "unknown", "not_applicable"}
        assert item["evidence"]


def test_text_lines_are_one_based_with_fix_marks(report: ReviewReport) -> None:
    text = render(report, "text")
    lines = text.splitlines()
    softmax = next(line for line in lines if "MLR014" in line)
    assert softmax.startswith("snippet.py:8:")
    assert "[*]" in softmax  # dropping the softmax is an autofix
    clip = next(line for line in lines if "MLR006" in line)
    assert clip.startswith("snippet.py:13:11: MLR006 [*] ")
    assert "fixable with --fix" in text and "score" in text


def test_sarif_validates_against_the_2_1_0_schema(report: ReviewReport) -> None:
    sarif = json.loads(render(report, "sarif"))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(r["help"]["text"] for r in run["tool"]["driver"]["rules"])
    assert run["results"], "findings become results"
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_sarif_of_a_parse_error_is_valid() -> None:
    bad = review(ReviewRequest(code="def broken(:\n    pass\n"))
    sarif = json.loads(render(bad, "sarif"))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    assert sarif["runs"][0]["results"][0]["ruleId"] == "MLR000"


def test_github_annotations(report: ReviewReport) -> None:
    lines = render(report, "github").splitlines()
    assert len(lines) == len(report.findings)
    assert any(line.startswith("::error file=snippet.py,line=8,") for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_markdown_lists_failures_with_lines_fixes_and_score(report: ReviewReport) -> None:
    md = render(report, "markdown")
    assert md.startswith("## Code review — score ")
    assert "### What to fix" in md and "**Fix:**" in md
    assert "`snippet.py:8` MLR014" in md
    assert "| # | Item | Status | Evidence |" in md
    assert md.count("\n| ") >= 15  # header + 14 items


def test_unknown_format_is_a_value_error(report: ReviewReport) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "xml")


def test_markdown_claims_no_score_when_nothing_was_judged() -> None:
    from tools.review import ReviewRequest, render, review

    md = render(review(ReviewRequest(code="def (:\n    pass\n")), "markdown")
    assert md.startswith("## Code review — nothing could be judged")
    assert "100/100" not in md and "could not be reviewed" in md
