"""The pieces that keep a real model bounded and honest, each on its own (no server, milliseconds)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agent.llm.arguments import prefer_thread_code
from agent.llm.context import char_budget, fit_messages
from agent.llm.grounding import grounded_prefix, unsupported_claim
from agent.llm.mode import choose_mode, params_in_name
from core.settings import Settings
from tests.samples import PLAIN_LOOP


def _settings(**values: object) -> Settings:
    return Settings.model_validate({"llm": "openai", **values})


def test_auto_mode_follows_reported_size_then_name_then_assumes_capable() -> None:
    llama_cpp = {"data": [{"id": "/models/x.gguf", "meta": {"n_params": 134_515_008}}]}
    assert choose_mode(_settings(model="whatever"), llama_cpp).mode == "compose"
    big = {"data": [{"id": "m", "meta": {"n_params": 70_000_000_000}}]}
    assert choose_mode(_settings(model="m"), big).mode == "tools"
    assert choose_mode(_settings(model="qwen2.5:3b"), None).mode == "compose"
    assert choose_mode(_settings(model="meta-llama/Llama-3.1-70B-Instruct"), None).mode == "tools"
    assert choose_mode(_settings(model="SmolLM2-135M-Instruct"), None).mode == "compose"
    unknown = choose_mode(_settings(model="gpt-4o-mini"), {"data": [{"id": "gpt-4o-mini"}]})
    assert unknown.mode == "tools" and "unknown" in unknown.reason
    forced = choose_mode(_settings(model="SmolLM2-135M", llm_mode="tools"), llama_cpp)
    assert forced.mode == "tools" and "MLAGENT_LLM_MODE" in forced.reason
    assert params_in_name("Llama-3.2-1B-Instruct") == 1e9 and params_in_name("resnet") is None


def test_grounding_cuts_invented_runs_numbers_and_code() -> None:
    sources = "Review of the code you pasted: score 42.9, 3 errors. FAIL gradient-clipping"
    assert unsupported_claim("The review scored 42.9 with 3 errors.", sources, ["review_code"]) is None
    assert "run" in str(unsupported_claim("In my experiments it converged.", sources, ["review_code"]))
    assert "97.3" in str(unsupported_claim("It reaches 97.3% accuracy.", sources, ["review_code"]))
    assert "code" in str(unsupported_claim("Use:\n```python\nx = 1\n```", sources, []))
    assert unsupported_claim("I ran it for 3 steps.", sources, ["smoke_run"]) is None
    text = "Gradient clipping is missing. I trained it and got 99% accuracy. Also add a scheduler."
    kept, reason = grounded_prefix(text, sources, ["review_code"])
    assert kept == "Gradient clipping is missing." and reason


def test_long_tool_results_are_fitted_to_the_context() -> None:
    long = "line of generated code\n" * 2_000  # ~46k characters: far over an 8k-token context
    messages = [
        SystemMessage(content="system prompt"),
        HumanMessage(content="an old question " * 50),
        AIMessage(content="", tool_calls=[{"name": "generate_project", "args": {}, "id": "c1"}]),
        ToolMessage(content=long, tool_call_id="c1", name="generate_project"),
        AIMessage(content="generated"),
        HumanMessage(content="and now?"),
    ]
    budget = char_budget(2048, 256)
    fitted = fit_messages(messages, budget)
    assert sum(len(str(m.content)) for m in fitted) <= budget
    assert isinstance(fitted[0], SystemMessage) and fitted[-1].content == "and now?"
    tool = next((m for m in fitted if isinstance(m, ToolMessage)), None)
    assert tool is None or "left out to fit" in str(tool.content)
    assert len(str(messages[3].content)) == len(long)  # the thread's copy is untouched


def test_invented_code_gives_way_to_the_thread_code() -> None:
    thread = [HumanMessage(content=f"please review\n```python\n{PLAIN_LOOP}```")]
    invented = {"name": "review_code", "args": {"code": "import torch\nprint('perfect')"}, "id": "a"}
    quoted = {"name": "review_code", "args": {"code": PLAIN_LOOP, "fix": True}, "id": "b"}
    other = {"name": "recommend_architecture", "args": {"task": "detection"}, "id": "c"}
    first, second, third = prefer_thread_code([invented, quoted, other], thread)  # type: ignore[list-item]
    assert first["args"] == {}
    assert second["args"] == {"code": PLAIN_LOOP, "fix": True}
    assert third["args"] == {"task": "detection"}


def test_the_stub_rejects_what_real_servers_reject() -> None:
    from tests.openai_stub import strictness_problem

    call = {"id": "c1", "type": "function", "function": {"name": "review_code", "arguments": "{}"}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "review"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    good: dict[str, Any] = {
        "max_tokens": 64,
        "tools": [{"type": "function", "function": {"name": "review_code"}}],
        "tool_choice": "auto",
        "messages": messages,
    }
    assert strictness_problem(good) is None
    assert "max_tokens" in str(strictness_problem({**good, "max_tokens": None}))
    assert "tool_choice" in str(strictness_problem({k: v for k, v in good.items() if k != "tool_choice"}))
    null_content = [messages[0], {**messages[1], "content": None}, messages[2]]
    assert "content null" in str(strictness_problem({**good, "messages": null_content}))
    empty_args = {**call, "function": {"name": "review_code", "arguments": ""}}
    empty = [messages[0], {"role": "assistant", "content": "", "tool_calls": [empty_args]}]
    assert "JSON object" in str(strictness_problem({**good, "messages": empty}))
    orphan = [messages[0], messages[2]]
    assert "answers no call" in str(strictness_problem({**good, "messages": orphan}))
