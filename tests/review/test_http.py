"""The review router through FastAPI's TestClient (the lead's e2e tests cover the real server)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from agent.api.review import router
from core.errors import ApiError
from tools.review import CHECKLIST


def _client() -> TestClient:
    app = FastAPI()
    app.include_router(router)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        body = {
            "error": {
                "code": "invalid_request",
                "message": "invalid request",
                "details": [e["msg"] for e in exc.errors()],
            }
        }
        return JSONResponse(body, status_code=422)

    return TestClient(app)


LOOP = "for x, y in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n"


def test_review_code_returns_contract_json() -> None:
    body = _client().post("/v1/review", json={"code": LOOP}).json()
    assert [i["id"] for i in body["checklist"]] == [i for i, _ in CHECKLIST]
    assert {"rule", "name", "checklist", "severity", "path", "line", "column", "message"} <= set(
        body["findings"][0]
    )
    assert "rendered" not in body
    assert body["summary"]["files"] == 1


def test_review_files_markdown_adds_rendered() -> None:
    files = {"train.py": "import lightning as L\ntrainer = L.Trainer(max_epochs=1)\ntrainer.fit(model)\n"}
    body = _client().post("/v1/review", json={"files": files, "format": "markdown"}).json()
    assert body["rendered"].startswith("## Code review")
    assert any(f["rule"] == "MLR006" and f["path"] == "train.py" for f in body["findings"])


def test_review_fix_returns_fixed_files_and_diff() -> None:
    code = "import lightning as L\ntrainer = L.Trainer(max_epochs=1)\ntrainer.fit(model)\n"
    body = _client().post("/v1/review", json={"code": code, "fix": True}).json()
    assert "gradient_clip_val=1.0" in body["fixed_files"]["snippet.py"]
    assert body["diff"].startswith("--- a/snippet.py")


def test_bad_requests_are_422_with_the_error_shape() -> None:
    client = _client()
    for payload in ({}, {"code": "   "}, {"code": "x", "files": {"a.py": "x"}}, {"files": {}}, {"code": 3}):
        response = client.post("/v1/review", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["error"]["code"] == "invalid_request"
    too_many = {f"f{i}.py": "x = 1\n" for i in range(501)}
    assert client.post("/v1/review", json={"files": too_many}).status_code == 422
