"""MLAGENT_LLM=openai: the same graph driven by ChatOpenAI against an OpenAI-protocol server over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import REPO, RunningServer, free_port
from tests.e2e.test_chat_server import sse_events
from tests.openai_stub import OpenAIStub
from tests.samples import PLAIN_LOOP

pytestmark = pytest.mark.slow


def openai_env(stub: OpenAIStub) -> dict[str, str]:
    return {
        "MLAGENT_LLM": "openai",
        "OPENAI_BASE_URL": stub.url,
        "OPENAI_API_KEY": stub.api_key,
        "MLAGENT_MODEL": "stub-model",
    }


def test_tool_call_round_trip(server_factory: Callable[..., RunningServer]) -> None:
    with OpenAIStub() as stub:
        server = server_factory(env=openai_env(stub))
        response = httpx.post(
            f"{server.url}/v1/chat",
            json={"message": f"please review:\n```python\n{PLAIN_LOOP}```"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        [call] = body["tool_calls"]
        assert call["name"] == "review_code"
        # The tool really ran on the thread's code (arguments were empty: injected state resolved "the code").
        assert any(item["status"] == "fail" for item in call["result"]["checklist"])
        assert body["reply"].startswith("Stub model summary.")
        first, second = stub.requests[-2:]
        tool_names = {tool["function"]["name"] for tool in first["tools"]}
        assert {"review_code", "smoke_run", "recommend_architecture", "generate_project"} <= tool_names
        review_schema = next(t for t in first["tools"] if t["function"]["name"] == "review_code")["function"]
        assert "state" not in review_schema["parameters"]["properties"]
        assert (
            first["messages"][0]["role"] == "system"
            and "ML Engineer Agent" in first["messages"][0]["content"]
        )
        assert second["messages"][-1]["role"] == "tool"
        assert first["model"] == "stub-model" and "parallel_tool_calls" not in first


def test_streaming_with_openai_provider(server_factory: Callable[..., RunningServer]) -> None:
    with OpenAIStub() as stub:
        server = server_factory(env=openai_env(stub))
        response = httpx.post(
            f"{server.url}/v1/chat/stream", json={"message": f"review this {PLAIN_LOOP}"}, timeout=120
        )
        events = sse_events(response)
        names = [name for name, _ in events]
        assert "tool_start" in names and "tool_end" in names and names[-1] == "done"
        assert events[-1][1]["reply"].startswith("Stub model summary.")
        assert any(request.get("stream") for request in stub.requests)


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start ``mlagent serve`` with a configuration that must be refused before it binds a port."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    environment.update(env)
    port_args = [] if "MLAGENT_PORT" in env else ["--port", str(free_port())]
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "serve", *port_args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MLAGENT_LLM": "openai"}, "OPENAI_API_KEY"),
        ({"MLAGENT_LLM": "openai", "OPENAI_BASE_URL": "not a url"}, "http(s) URL"),
        ({"MLAGENT_LLM": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "cannot reach"),
        ({"MLAGENT_LLM": "gpt4all"}, "llm"),
        ({"MLAGENT_PORT": "99999999"}, "port"),
    ],
)
def test_bad_llm_settings_fail_at_startup(env: dict[str, str], needle: str) -> None:
    result = run_serve(env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_api_key_fails_at_startup() -> None:
    with OpenAIStub() as stub:
        result = run_serve({**openai_env(stub), "OPENAI_API_KEY": "wrong"})
    assert result.returncode == 2 and "rejected OPENAI_API_KEY" in result.stderr


def test_openai_compatible_facade(server: RunningServer) -> None:
    models = httpx.get(f"{server.url}/v1/models").json()
    assert [model["id"] for model in models["data"]] == ["mlagent", "mlagent-details"]
    body = {
        "model": "mlagent",
        "messages": [{"role": "user", "content": f"review this:\n```python\n{PLAIN_LOOP}```"}],
    }
    reply = httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=120).json()
    content = reply["choices"][0]["message"]["content"]
    assert reply["object"] == "chat.completion" and reply["choices"][0]["finish_reason"] == "stop"
    # Tool steps read as one line each by default; the details model gives the full block.
    assert "> Ran `review_code`: score " in content and "<details" not in content, content[:300]
    detailed = httpx.post(
        f"{server.url}/v1/chat/completions", json={**body, "model": "mlagent-details"}, timeout=120
    ).json()
    assert detailed["model"] == "mlagent-details"
    assert '<details type="tool_calls"' in detailed["choices"][0]["message"]["content"]
    streamed = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={**body, "stream": True, "stream_options": {"include_usage": True}},
        timeout=120,
    )
    lines = [line[6:] for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    finishes = [
        c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]
    ]
    assert finishes == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert all("tool_calls" not in c["choices"][0]["delta"] for c in chunks if c["choices"])
    bad = httpx.post(f"{server.url}/v1/chat/completions", json={"messages": []}, timeout=30)
    assert bad.status_code == 422
