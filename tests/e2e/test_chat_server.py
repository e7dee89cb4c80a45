"""End-to-end: the real server on a loopback port, spoken to over HTTP (chat, stream, threads, restart)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer
from tests.samples import BROKEN_SYNTAX, LIGHTNING_SCRIPT, PLAIN_LOOP, TINY_LIGHTNING

pytestmark = pytest.mark.slow


def chat(server: RunningServer, message: str, thread_id: str | None = None, **headers: str) -> httpx.Response:
    body: dict[str, Any] = {"message": message}
    if thread_id:
        body["thread_id"] = thread_id
    return httpx.post(f"{server.url}/v1/chat", json=body, headers=headers, timeout=300)


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """Parse an SSE body into (event, data) pairs."""
    events = []
    for block in response.text.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def test_health_ready_and_docs(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.json()["checks"]["database"]["ok"] is True
    if os.geteuid() == 0:  # root with bubblewrap (scripts/setup-system.sh): the sandbox is usable
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready" and ready.json()["checks"]["sandbox"]["ok"] is True
    else:  # an unprivileged service cannot isolate runs, and says why
        assert ready.status_code == 503, ready.text
        assert "not running as root" in ready.json()["checks"]["sandbox"]["reason"]
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/v1/chat", "/v1/chat/stream", "/v1/threads/{thread_id}"} <= set(paths)


def test_help_answer_lists_capabilities(server: RunningServer) -> None:
    response = chat(server, "what can you do?")
    assert response.status_code == 200
    body = response.json()
    assert body["tool_calls"] == []
    assert "Review" in body["reply"] and "Smoke-test" in body["reply"]


def test_review_reply_names_failing_items_with_lines(server: RunningServer) -> None:
    response = chat(server, f"review this:\n```python\n{PLAIN_LOOP}```")
    assert response.status_code == 200
    body = response.json()
    [call] = body["tool_calls"]
    assert call["name"] == "review_code"
    statuses = {item["id"]: item["status"] for item in call["result"]["checklist"]}
    assert len(statuses) == 14
    for item in ("gradient-clipping", "lr-scheduler", "seeding"):
        assert statuses[item] == "fail", item
    rules = {finding["checklist"] for finding in call["result"]["findings"]}
    assert {"gradient-clipping", "lr-scheduler", "seeding"} <= rules
    reply = body["reply"]
    assert "gradient" in reply.lower() and "line" in reply.lower()


def test_follow_up_fix_uses_code_from_earlier_turn(server: RunningServer) -> None:
    first = chat(server, f"what's wrong with this?\n```python\n{LIGHTNING_SCRIPT}```").json()
    follow = chat(server, "now fix the issues you found", first["thread_id"]).json()
    [call] = follow["tool_calls"]
    assert call["name"] == "review_code" and call["args"] == {"fix": True}
    fixed = call["result"]["fixed_files"]["submitted.py"]
    assert "gradient_clip_val" in fixed and "seed_everything" in fixed
    assert "### Fixed code" in follow["reply"] and "gradient_clip_val" in follow["reply"]
    # "smoke-test it" / "review it" now mean the fixed code, the newest in the thread.
    again = chat(server, "review it again", first["thread_id"]).json()
    assert again["tool_calls"][0]["result"]["reviewed"] == "the fixed code"


def test_stream_emits_tool_and_token_events_then_done(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/chat/stream", json={"message": f"review:\n```python\n{PLAIN_LOOP}```"}, timeout=300
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "tool_start" and "tool_end" in names and "token" in names
    assert names[-1] == "done"
    done = events[-1][1]
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert tokens == done["reply"]
    assert done["tool_calls"][0]["name"] == "review_code"
    history = httpx.get(f"{server.url}/v1/threads/{done['thread_id']}").json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant", "tool", "assistant"]


def test_thread_history_delete_and_restart_persistence(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory()
    first = chat(server, "hello", "persist-me").json()
    chat(server, "what can you do?", "persist-me")
    server.stop()
    restarted = server_factory(data_dir=server.log_path.parent / "data")
    history = httpx.get(f"{restarted.url}/v1/threads/persist-me")
    assert history.status_code == 200
    messages = history.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "hello" and first["thread_id"] == "persist-me"
    assert httpx.delete(f"{restarted.url}/v1/threads/persist-me").status_code == 204
    gone = httpx.get(f"{restarted.url}/v1/threads/persist-me")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "thread_not_found"


def test_auth_required_when_key_set(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(env={"MLAGENT_API_KEY": "s3cret"})
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    denied = chat(server, "hello")
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
    wrong = chat(server, "hello", Authorization="Bearer nope")
    assert wrong.status_code == 401
    allowed = chat(server, "hello", Authorization="Bearer s3cret")
    assert allowed.status_code == 200


def test_auth_off_by_default(server: RunningServer) -> None:
    assert chat(server, "hello").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ('{"message": ""}', 422, "invalid_request", "empty"),
        ('{"message": "   "}', 422, "invalid_request", "empty"),
        ("this is not json", 400, "invalid_json", "JSON"),
        ("", 400, "invalid_request", "body"),
        ('{"message": 5}', 422, "invalid_request", "message"),
        ('{"message": ["a"]}', 422, "invalid_request", "message"),
        ('{"msg": "hi"}', 422, "invalid_request", "message"),
        ('{"message": "hi", "thread_id": "../../etc/passwd"}', 422, "invalid_request", "thread_id"),
        ("[1, 2]", 422, "invalid_request", "body"),
    ],
)
def test_bad_chat_input_gets_4xx_json(
    server: RunningServer, body: str, status: int, code: str, needle: str
) -> None:
    response = httpx.post(f"{server.url}/v1/chat", content=body, timeout=30)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert needle.lower() in (error["message"] + json.dumps(error["details"])).lower()


def test_oversized_body_is_413_and_server_keeps_serving(server: RunningServer) -> None:
    huge = json.dumps({"message": "x" * 3_000_000})
    response = httpx.post(f"{server.url}/v1/chat", content=huge, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert chat(server, "hello").status_code == 200


def test_unknown_thread_and_route(server: RunningServer) -> None:
    missing = httpx.get(f"{server.url}/v1/threads/does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "thread_not_found"
    assert httpx.delete(f"{server.url}/v1/threads/does-not-exist").status_code == 404
    assert httpx.get(f"{server.url}/v1/nope").json()["error"]["code"] == "not_found"
    assert httpx.get(f"{server.url}/v1/chat").status_code == 405


def test_malformed_code_is_reviewed_not_crashed(server: RunningServer) -> None:
    response = chat(server, f"review this:\n```python\n{BROKEN_SYNTAX}```")
    assert response.status_code == 200
    [call] = response.json()["tool_calls"]
    findings = call["result"]["findings"]
    parse_errors = [f for f in findings if f["rule"] == "parse-error" or f["name"] == "parse-error"]
    assert parse_errors and parse_errors[0]["line"] == 3


def test_smoke_test_it_trains_code_pasted_earlier(server: RunningServer) -> None:
    first = chat(server, f"here is my model:\n```python\n{TINY_LIGHTNING}```\nreview it").json()
    follow = chat(server, "smoke-test it for 4 steps", first["thread_id"])
    assert follow.status_code == 200
    body = follow.json()
    [call] = body["tool_calls"]
    assert call["name"] == "smoke_run" and call["args"] == {"steps": 4}
    result = call["result"]
    assert result["trained"] == "the code you pasted"
    assert result["status"] == "succeeded", result
    assert len(result["losses"]) == 4 and result["experiment_id"]
    assert "It trains" in body["reply"]
    listed = chat(server, "list experiments", first["thread_id"]).json()
    assert result["experiment_id"] in listed["reply"]


def test_export_it_runs_in_the_sandbox(server: RunningServer) -> None:
    first = chat(server, f"```python\n{TINY_LIGHTNING}```\nreview please").json()
    body = chat(server, "export it to onnx", first["thread_id"]).json()
    [call] = body["tool_calls"]
    assert call["name"] == "export_onnx"
    result = call["result"]
    assert result["mode"] == "sandbox" and result["status"] == "succeeded", result
    assert result["max_abs_diff"] is not None and result["max_abs_diff"] < 1e-3
    assert "exports to ONNX" in body["reply"]


def test_a_smoke_run_streams_its_steps_while_it_trains(server: RunningServer) -> None:
    chat(server, f"here is my model\n```python\n{TINY_LIGHTNING}```", "progress")
    response = httpx.post(
        f"{server.url}/v1/chat/stream",
        json={"message": "smoke-test it for 5 steps", "thread_id": "progress"},
        timeout=600,
    )
    events = sse_events(response)
    names = [name for name, _ in events]
    steps = [data["step"] for name, data in events if name == "progress" and data.get("type") == "step"]
    assert steps == [1, 2, 3, 4, 5], names
    assert all(data["tool"] == "smoke_run" for name, data in events if name == "progress")
    assert names.index("progress") < names.index("tool_end") and names[-1] == "done"
