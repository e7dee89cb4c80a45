"""End-to-end: the tool endpoints on the real server (review, generate, recommendations), good and bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import RunningServer
from tests.samples import LIGHTNING_SCRIPT, PLAIN_LOOP

pytestmark = pytest.mark.slow


def post(server: RunningServer, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=120)


def test_review_endpoint_matches_the_contract(server: RunningServer) -> None:
    response = post(server, "/v1/review", {"code": PLAIN_LOOP})
    assert response.status_code == 200
    report = response.json()
    assert [item["id"] for item in report["checklist"]][:2] == ["lightning-module", "data-module"]
    assert len(report["checklist"]) == 14
    finding = report["findings"][0]
    assert set(finding) >= {
        "rule",
        "name",
        "checklist",
        "severity",
        "path",
        "line",
        "column",
        "message",
        "fixable",
    }
    assert set(report["summary"]) >= {"files", "errors", "warnings", "score"}
    fixed = post(server, "/v1/review", {"files": {"train.py": LIGHTNING_SCRIPT}, "fix": True}).json()
    assert "gradient_clip_val" in fixed["fixed_files"]["train.py"]


def test_generate_endpoint_returns_reviewed_files(server: RunningServer) -> None:
    body = {"task": "segmentation", "backbone": "resnet18", "num_classes": 3, "image_size": 64}
    response = post(server, "/v1/generate", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert {"model.py", "data.py", "train.py", "config.py"} <= set(result["files"])
    assert not [item for item in result["review"]["checklist"] if item["status"] == "fail"]


def test_generate_endpoint_takes_an_architecture(server: RunningServer) -> None:
    body = {
        "task": "detection",
        "architecture": "fcos_resnet50_fpn",
        "backbone": "resnet18",
        "num_classes": 2,
    }
    response = post(server, "/v1/generate", {**body, "review": False})
    assert response.status_code == 200, response.text
    assert (
        response.json()["spec"]["architecture"] == "fcos" and "FCOS(" in response.json()["files"]["model.py"]
    )
    wrong = post(server, "/v1/generate", {**body, "architecture": "retinanett"})
    assert wrong.status_code == 422
    assert "did you mean 'retinanet'" in wrong.text and "ssdlite" in wrong.text


def test_recommendations_endpoint(server: RunningServer) -> None:
    by_question = post(
        server, "/v1/recommendations", {"question": "segment roads in 512x512 drone images, 4 classes"}
    )
    assert by_question.status_code == 200 and by_question.json()["task"] == "segmentation"
    by_task = post(
        server, "/v1/recommendations", {"task": "classification", "constraints": {"device": "edge"}}
    )
    assert by_task.status_code == 200 and by_task.json()["recommendations"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/review", {}, 422),
        ("/v1/review", {"code": ""}, 422),
        ("/v1/review", {"code": 12}, 422),
        ("/v1/review", {"code": "x = 1", "files": {"a.py": "x = 1"}}, 422),
        ("/v1/generate", {"task": "teleportation", "backbone": "resnet18", "num_classes": 3}, 422),
        ("/v1/generate", {"task": "classification", "backbone": "resnet18", "num_classes": 0}, 422),
        ("/v1/generate", {"task": "classification", "backbone": "no_such_net", "num_classes": 3}, 422),
        ("/v1/recommendations", {}, 422),
        ("/v1/recommendations", {"task": "teleportation"}, 422),
    ],
)
def test_bad_tool_input_gets_4xx_json(server: RunningServer, path: str, body: object, status: int) -> None:
    response = post(server, path, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
