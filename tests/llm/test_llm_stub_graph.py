"""Both real-model modes through the real graph and tools, against the strict OpenAI-protocol stub (real HTTP).

In-process (no ``mlagent serve``): the agent's requests must pass the stub's real-server checks, failures must
end as 502/504 errors or the planner's answer with a note, and compose mode must keep invented runs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent.chat import ChatService
from agent.graph import build_graph
from agent.llm.errors import LLMTimeoutError, LLMUnavailableError
from agent.llm.openai_provider import build_openai_model
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.openai_stub import INVENTED_CLAIM, OpenAIStub
from tests.samples import PLAIN_LOOP

REVIEW = f"please review my training code\n```python\n{PLAIN_LOOP}```"


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as running:
        yield running


def service(stub: OpenAIStub, tmp_path: Path, **values: Any) -> ChatService:
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path,
            "llm": "openai",
            "OPENAI_BASE_URL": stub.url,
            "OPENAI_API_KEY": stub.api_key,
            "model": "stub-model",
            **values,
        }
    )
    model = build_openai_model(settings)
    graph = build_graph(model, build_tools(ToolContext(settings)), InMemorySaver(), retrieval=False)
    return ChatService(graph, recursion_limit=12)


@pytest.fixture(scope="module")
def run() -> Iterator[Any]:
    """One event loop for the module: langchain-openai shares its async HTTP client per base URL, and a
    client belongs to the loop it was first used on (as in the server, which has one loop)."""
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete
    loop.close()


@pytest.fixture(autouse=True)
def reset(stub: OpenAIStub) -> None:
    stub.requests.clear()
    stub.rejected.clear()
    stub.delay_s, stub.fail_status, stub.invented_code = 0.0, None, None


def failing(call_result: dict[str, Any]) -> set[str]:
    return {item["id"] for item in call_result["checklist"] if item["status"] == "fail"}


def test_tools_mode_requests_pass_a_strict_server_and_review_the_thread_code(
    stub: OpenAIStub, tmp_path: Path, run: Any
) -> None:
    stub.invented_code = "import torch\nprint('all good')\n"
    chat = service(stub, tmp_path, llm_mode="tools", llm_context_tokens=1024, llm_max_tokens=64)
    turn = run(chat.turn(REVIEW, "t1"))
    [call] = turn.tool_calls
    assert call.name == "review_code" and call.args == {}  # the invented code was dropped
    assert {"gradient-clipping", "seeding"} <= failing(call.result)  # the pasted code was reviewed
    assert turn.reply.startswith("Stub model summary.")
    again = run(chat.turn("review it again", "t1"))  # the history with a tool call is re-sent
    assert again.tool_calls and stub.rejected == []
    first, second = stub.requests[0], stub.requests[1]
    assert first["tool_choice"] == "auto" and first["max_tokens"] == 64
    assert "max_completion_tokens" not in first
    [tool_message] = [m for m in second["messages"] if m["role"] == "tool"]
    assert len(tool_message["content"]) <= 2_000  # fitted to a 1k-token context
    assert any(m.get("tool_calls") and m["content"] == "" for m in stub.requests[-1]["messages"])


def test_timeout_is_a_504_or_the_planner_answer_with_a_note(
    stub: OpenAIStub, tmp_path: Path, run: Any
) -> None:
    stub.delay_s = 3.0
    strict = service(stub, tmp_path, llm_mode="tools", llm_timeout_s=0.5, llm_on_error="error")
    with pytest.raises(LLMTimeoutError) as raised:
        run(strict.turn("hello there", "t2"))
    assert raised.value.status == 504 and raised.value.code == "llm_timeout"
    assert len(stub.requests) == 1  # a timeout is not retried
    lenient = service(stub, tmp_path, llm_mode="tools", llm_timeout_s=0.5)
    turn = run(lenient.turn(REVIEW, "t3"))
    assert "did not answer (llm_timeout" in turn.reply
    assert turn.tool_calls and turn.tool_calls[0].name == "review_code"  # the planner still reviewed


def test_server_errors_are_retried_then_a_502(stub: OpenAIStub, tmp_path: Path, run: Any) -> None:
    stub.fail_status = 500
    chat = service(stub, tmp_path, llm_mode="tools", llm_on_error="error", llm_max_retries=1)
    with pytest.raises(LLMUnavailableError) as raised:
        run(chat.turn("hello", "t4"))
    assert raised.value.status == 502 and "HTTP 500" in raised.value.message
    assert len(stub.requests) == 2


def test_compose_mode_picks_tools_itself_and_cuts_invented_runs(
    stub: OpenAIStub, tmp_path: Path, run: Any
) -> None:
    chat = service(stub, tmp_path, llm_mode="compose")
    turn = run(chat.turn(REVIEW, "t5"))
    [call] = turn.tool_calls
    assert call.name == "review_code" and "gradient-clipping" in failing(call.result)
    assert turn.reply.startswith("Stub writer: the tools answered.")
    assert INVENTED_CLAIM not in turn.reply and "97.3" not in turn.reply
    assert "gradient" in turn.reply.lower()  # the review's own answer follows the prose
    [request] = stub.requests  # one request: the writer's; the tool choice was the planner's
    assert "tools" not in request and request["max_tokens"] <= 256
    events = run(_collect(chat.stream_turn("review it again", "t5")))
    names = [name for name, _ in events]
    assert names[0] == "tool_start" and "token" in names and names[-1] == "done"
    streamed = "".join(data["text"] for name, data in events if name == "token")
    assert streamed.startswith("Stub writer") and "97.3" not in streamed
    assert stub.rejected == []


def test_compose_mode_timeout_in_a_stream_is_an_error_event(
    stub: OpenAIStub, tmp_path: Path, run: Any
) -> None:
    stub.delay_s = 3.0
    chat = service(stub, tmp_path, llm_mode="compose", llm_timeout_s=0.5, llm_on_error="error")
    events = run(_collect(chat.stream_turn(REVIEW, "t6")))
    name, data = events[-1]
    assert name == "error" and data["code"] == "llm_timeout" and data["status"] == 504


async def _collect(stream: Any) -> list[tuple[str, dict[str, Any]]]:
    return [event async for event in stream]
