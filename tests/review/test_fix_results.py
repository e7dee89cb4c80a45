"""``"fix": true`` and ``--fix`` keep the original findings and add the fixed code's review (issue 11).

The report stays the review of the code as given, every finding says whether the fixes removed it
(``fixed``), and ``after`` is the full review of the fixed code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.api.review import router
from tools.review import ReviewRequest, render, review
from tools.review.cli import main

SCRIPT = (Path(__file__).parent / "fixes" / "lightning_script.in.py").read_text()


def _post(body: dict[str, Any]) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    result: dict[str, Any] = TestClient(app).post("/v1/review", json=body).json()
    return result


def test_http_fix_returns_the_original_findings_and_the_fixed_review() -> None:
    plain = _post({"files": {"train.py": SCRIPT}})
    fixed = _post({"files": {"train.py": SCRIPT}, "fix": True})
    assert isinstance(plain["findings"], list) and isinstance(fixed["findings"], list)
    assert all("fixed" not in f for f in plain["findings"]), "no fixed flag when no fix was asked for"
    original = [{k: v for k, v in f.items() if k != "fixed"} for f in fixed["findings"]]
    assert original == plain["findings"], "the original findings never vanish"
    assert fixed["checklist"] == plain["checklist"] and fixed["summary"] == plain["summary"]
    after = fixed["after"]
    assert isinstance(after, dict) and "after" not in after and "fixed_files" not in after
    remaining = {(f["rule"], f["message"]) for f in after["findings"]}
    for f in fixed["findings"]:
        assert isinstance(f["fixed"], bool)
        if f["fixed"]:
            assert f["fixable"], f"{f['rule']} was fixed without a fix"
    assert {f["rule"] for f in fixed["findings"] if f["fixed"]} >= {"MLR006", "MLR007", "MLR009", "MLR014"}
    assert {f["rule"] for f in fixed["findings"] if not f["fixed"]} == {r for r, _ in remaining}
    assert after["summary"]["score"] > fixed["summary"]["score"]
    assert "gradient_clip_val" in fixed["fixed_files"]["train.py"]


def test_nothing_fixable_keeps_everything_unfixed() -> None:
    code = "import lightning as L\nL.seed_everything(1, workers=True)\ntrainer = L.Trainer(**cfg)\n"
    report = review(ReviewRequest(code=code, fix=True))
    assert report.fixed_files == {} and report.after is not None
    assert [f.fixed for f in report.findings] == [False] * len(report.findings)
    assert report.after.findings == [f.model_copy(update={"fixed": None}) for f in report.findings]


def test_cli_fix_reports_fixed_and_remaining(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "train.py"
    target.write_text(SCRIPT)
    assert main(["review", str(target), "--fix"]) == 1  # MLR003/MLR011/MLR012 need a human
    text = capsys.readouterr().out
    assert "(7 fixed, 3 remaining)." in text and "(before fixes: score" in text
    assert text.count(": MLR") == 3
    target.write_text(SCRIPT)
    main(["review", str(target), "--fix", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert len(data["findings"]) == 10 and len(data["after"]["findings"]) == 3


def test_markdown_marks_fixed_findings_and_shows_the_after_state() -> None:
    md = render(review(ReviewRequest(files={"train.py": SCRIPT}, fix=True)), "markdown")
    assert "_(fixed)_" in md and "### After the fixes" in md and "7 of 10 findings fixed, 3 remaining" in md
    assert "Still to fix by hand:" in md and "### Applied fixes" in md


def test_ci_formats_describe_the_fixed_code() -> None:
    report = review(ReviewRequest(files={"train.py": SCRIPT}, fix=True))
    assert report.after is not None
    sarif = json.loads(render(report, "sarif"))["runs"][0]
    assert len(sarif["results"]) == len(report.after.findings) == 3
    assert sarif["properties"]["fixed"] == 7
    assert len(render(report, "github").splitlines()) == 3
