"""The score is null when nothing could be judged, and every output format says so (issue 11, class 10).

A number for an unparseable file or for code the checklist is not about would claim a verdict the reviewer
never reached; a file with a decided item still gets its percentage.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.api.review import router
from tools.review import ReviewReport, ReviewRequest, render, review
from tools.review.cli import main

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"
UNPARSEABLE = "import torch\n\ndef broken(:\n    pass\n"
NOTHING_DECIDED = "import torch\n\n\ndef scale(x: torch.Tensor) -> torch.Tensor:\n    return x * 2\n"
DECIDED = "import lightning as L\n\ntrainer = L.Trainer(max_epochs=2)\ntrainer.fit(model)\n"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(UNPARSEABLE, "no file could be parsed"), (NOTHING_DECIDED, "none of the checklist items applies")],
    ids=["unparseable", "nothing-decided"],
)
def test_no_score_when_nothing_was_judged(code: str, reason: str) -> None:
    report = review(ReviewRequest(code=code))
    assert not any(i.status in {"pass", "fail"} for i in report.checklist)
    assert report.summary.score is None
    data = json.loads(render(report, "json"))
    assert "score" in data["summary"] and data["summary"]["score"] is None
    assert ReviewReport.model_validate(data) == report
    text = render(report, "text")
    assert "/100" not in text and f"no score: {reason}" in text
    md = render(report, "markdown")
    assert md.startswith("## Code review — nothing could be judged") and "/100" not in md
    assert f"No score: {reason}" in md
    github = render(report, "github").splitlines()
    assert github[-1].startswith("::notice ") and "no score" in github[-1]
    sarif = json.loads(render(report, "sarif"))
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    props = sarif["runs"][0]["properties"]
    assert props["score"] is None and reason in props["scoreNote"]


def test_a_decided_item_keeps_a_numeric_score() -> None:
    report = review(ReviewRequest(code=DECIDED))
    assert isinstance(report.summary.score, float)
    assert f"score {report.summary.score:.1f}/100" in render(report, "text")
    assert "::notice title=mlagent review" not in render(report, "github")
    assert "scoreNote" not in render(report, "sarif")


def test_unparseable_file_beside_a_good_one_is_named_but_the_score_stays() -> None:
    report = review(ReviewRequest(files={"train.py": DECIDED, "broken.py": UNPARSEABLE}))
    assert report.summary.score is not None
    assert any(f.rule == "MLR000" and f.path == "broken.py" for f in report.findings)


def test_http_and_cli_carry_the_null_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = FastAPI()
    app.include_router(router)
    body = TestClient(app).post("/v1/review", json={"code": UNPARSEABLE}).json()
    assert body["summary"]["score"] is None
    target = tmp_path / "model.py"
    target.write_text(NOTHING_DECIDED)
    assert main(["review", str(target), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["score"] is None
