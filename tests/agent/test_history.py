"""Repair of interrupted turns, the model's window and state compaction (agent.history), on real messages."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_openai.chat_models.base import _convert_message_to_dict
from langgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages

from agent.history import (
    CANCELLED_TOOL_RESULT,
    NO_REPLY_NOTE,
    HistoryPolicy,
    is_interrupted,
    model_window,
    plan_turn,
    with_repairs,
)
from tests.samples import PLAIN_LOOP


def call(call_id: str, name: str = "review_code") -> dict[str, object]:
    return {"id": call_id, "name": name, "args": {}}


def complete_turn(n: int) -> list[BaseMessage]:
    return [HumanMessage(f"hi {n}", id=f"h{n}"), AIMessage(f"hello {n}", id=f"a{n}")]


def tool_turn(n: int, text: str = "review it") -> list[BaseMessage]:
    return [
        HumanMessage(text, id=f"h{n}"),
        AIMessage("", tool_calls=[call(f"c{n}")], id=f"a{n}"),
        ToolMessage("report", tool_call_id=f"c{n}", name="review_code", id=f"t{n}"),
        AIMessage(f"review {n}", id=f"f{n}"),
    ]


def openai_valid(messages: list[BaseMessage]) -> bool:
    """What an OpenAI-protocol server checks: every assistant tool call is answered before the next turn."""
    pending: set[str] = set()
    for message in map(_convert_message_to_dict, messages):
        if message["role"] == "tool":
            pending.discard(message["tool_call_id"])
        elif pending:
            return False
        if message["role"] == "assistant":
            pending = {item["id"] for item in message.get("tool_calls", [])}
    return not pending


def test_orphan_tool_call_gets_a_cancelled_result_and_marks() -> None:
    damaged = [
        *complete_turn(1),
        HumanMessage("review and smoke-test", id="h2"),
        AIMessage("", tool_calls=[call("c1"), call("c2", "smoke_run")], id="a2"),
        ToolMessage("report", tool_call_id="c1", name="review_code", id="t2"),
    ]
    assert not openai_valid([*damaged, HumanMessage("hi")])
    plan = plan_turn(damaged, HistoryPolicy(), can_archive=True)
    stored = add_messages([], damaged)
    stored = add_messages(stored, [*plan.input_prefix, HumanMessage("next", id="h3")])
    assert openai_valid(stored)
    assert [m.id for m in stored[:5]] == ["h1", "a1", "h2", "a2", "t2"]
    [cancelled] = [m for m in stored if isinstance(m, ToolMessage) and m.tool_call_id == "c2"]
    assert cancelled.content == CANCELLED_TOOL_RESULT and cancelled.status == "error"
    assert stored.index(cancelled) == 5  # right after the results that exist, before the next turn
    assert is_interrupted(stored[2]) and is_interrupted(stored[3]) and is_interrupted(cancelled)
    assert not is_interrupted(stored[0]) and not is_interrupted(stored[-1])
    # Repaired once: the next plan has nothing left to do.
    assert plan_turn(stored[:-1], HistoryPolicy(), can_archive=True).input_prefix == []


def test_dangling_user_message_is_marked_and_the_model_sees_a_note() -> None:
    damaged = [*complete_turn(1), HumanMessage("review this", id="h2")]
    repaired = with_repairs(damaged)
    assert is_interrupted(repaired[-1]) and repaired[-1].id == "h2"
    window = model_window([*repaired, HumanMessage("hi again", id="h3")], HistoryPolicy())
    assert [m.content for m in window.messages[-3:]] == ["review this", NO_REPLY_NOTE, "hi again"]
    # The newest turn is left alone while it may still be running.
    assert not is_interrupted(with_repairs(damaged, judge_last_turn=False)[-1])


def test_damage_in_the_middle_is_repaired_by_one_rewrite() -> None:
    damaged = [
        HumanMessage("review", id="h1"),
        AIMessage("", tool_calls=[call("c1")], id="a1"),
        *complete_turn(2),
    ]
    plan = plan_turn(damaged, HistoryPolicy(), can_archive=False)
    assert isinstance(plan.input_prefix[0], RemoveMessage) and plan.input_prefix[0].id == REMOVE_ALL_MESSAGES
    stored = add_messages(damaged, [*plan.input_prefix, HumanMessage("next", id="h3")])
    assert openai_valid(stored)
    assert [type(m).__name__ for m in stored[:3]] == ["HumanMessage", "AIMessage", "ToolMessage"]


def test_complete_history_needs_no_change() -> None:
    history = [*complete_turn(1), *tool_turn(2)]
    assert plan_turn(history, HistoryPolicy(), can_archive=True).input_prefix == []
    assert with_repairs(history) == history


def test_window_keeps_whole_recent_turns_and_the_latest_code() -> None:
    code = [
        HumanMessage(f"review this:\n```python\n{PLAIN_LOOP}```", id="code"),
        AIMessage("", tool_calls=[call("cc")], id="acode"),
        ToolMessage("report", tool_call_id="cc", name="review_code", id="tcode"),
        AIMessage("here is my review", id="fcode"),
    ]
    history: list[BaseMessage] = [*code]
    for n in range(50):
        history += complete_turn(n)
    history.append(HumanMessage("now fix the issues", id="now"))
    policy = HistoryPolicy(window_messages=10)
    window = model_window(history, policy)
    ids = [m.id for m in window.messages]
    assert ids[:4] == ["code", "acode", "tcode", "fcode"]  # the latest code's whole turn
    assert ids[-1] == "now" and len(ids) <= 4 + 10 + 1
    assert window.omitted == len(history) - len(window.messages) > 0
    assert "left out" in window.note()
    assert openai_valid(window.messages)


def test_compaction_bounds_the_state_and_archives_in_order() -> None:
    policy = HistoryPolicy(window_messages=8)
    code = tool_turn(0, f"review this:\n```python\n{PLAIN_LOOP}```")
    history: list[BaseMessage] = [*code]
    for n in range(1, 12):
        history += complete_turn(n)
    plan = plan_turn(history, policy, can_archive=True)
    stored = add_messages(history, [*plan.input_prefix, HumanMessage("fix the issues", id="new")])
    assert len(stored) <= 4 + 8 + 1
    assert [m.id for m in stored[:4]] == ["h0", "a0", "t0", "f0"]  # the code turn stays in the state
    # Archive + state (state messages not archived) is the whole conversation, in order.
    archived_ids = [m.id for m in plan.archive]
    merged = [*archived_ids, *(m.id for m in stored if m.id not in set(archived_ids))]
    assert merged == [*(m.id for m in history), "new"]
    # Below twice the window nothing moves.
    assert plan_turn(history[:12], policy, can_archive=True).archive == []
    # Without an archive the state is never cut.
    assert plan_turn(history, policy, can_archive=False).input_prefix == []


def test_window_keeps_what_precedes_the_first_user_message_while_it_fits() -> None:
    greeting = AIMessage("Hi, paste code to review.", id="g")
    short = [greeting, *complete_turn(1), HumanMessage("next", id="n")]
    assert [m.id for m in model_window(short, HistoryPolicy()).messages] == ["g", "h1", "a1", "n"]
    long = [greeting, *[m for n in range(30) for m in complete_turn(n)], HumanMessage("next", id="n")]
    assert "g" not in [m.id for m in model_window(long, HistoryPolicy(window_messages=6)).messages]
