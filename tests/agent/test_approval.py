"""Approval before costly runs: the policy, the yes/no reading, and paused turns over a real checkpointer.

The graph tests run the real offline planner and tools on a real SQLite checkpointer, a fresh service per
turn (as after a restart), so a pending action must come back from the database. Rejected and pending runs
must leave no experiment behind: nothing ran.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.approval import Decision, approval_reasons, decision_from_message
from agent.chat import ChatService, ChatTurn, NoPendingAction
from agent.graph import build_graph
from agent.llm.offline import OfflinePlannerChatModel
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from sandbox.experiments import ExperimentStore
from tests.samples import TINY_LIGHTNING

CODE = f"here is my model\n```python\n{TINY_LIGHTNING}```"


def test_the_policy_names_each_reason() -> None:
    settings = Settings(approval="gpu", approval_max_steps=100, approval_max_seconds=300)
    assert approval_reasons(settings, device="cpu", steps=20, timeout_s=120, gpu=False) == []
    assert approval_reasons(settings, device="cuda", steps=20, timeout_s=120, gpu=False) == [
        "it would use a GPU"
    ]
    assert approval_reasons(settings, device="auto", steps=20, timeout_s=120, gpu=True) == [
        "it would use a GPU"
    ]
    assert approval_reasons(settings, device="auto", steps=20, timeout_s=120, gpu=False) == []
    over = approval_reasons(settings, device="cpu", steps=500, timeout_s=900, gpu=False)
    assert len(over) == 2 and "500 steps" in over[0] and "900 s" in over[1]
    never = settings.model_copy(update={"approval": "never"})
    assert approval_reasons(never, device="cuda", steps=10**4, timeout_s=3600, gpu=True) == []
    always = settings.model_copy(update={"approval": "always"})
    assert approval_reasons(always, device="cpu", steps=1, timeout_s=1, gpu=False)


@pytest.mark.parametrize("text", ["yes", "Yes please", "ok", "go ahead", "approve", "ja", "oui", "sí, dale"])
def test_short_yes_replies_approve(text: str) -> None:
    decision = decision_from_message(text)
    assert decision is not None and decision.decision == "approve"


@pytest.mark.parametrize("text", ["no", "nope", "cancel it", "don't", "reject", "nein"])
def test_short_no_replies_reject(text: str) -> None:
    decision = decision_from_message(text)
    assert decision is not None and decision.decision == "reject"


@pytest.mark.parametrize(
    "text", ["yes but on the CPU", "ok, what does it cost?", "review my code", "yes " + "and more " * 12]
)
def test_other_messages_are_not_answers(text: str) -> None:
    assert decision_from_message(text) is None


def _turns(tmp_path: Path, steps: list[str | Decision], settings: Settings) -> list[ChatTurn]:
    """Messages (or resume decisions) on one thread, each with a fresh service over the same database."""

    async def one(step: str | Decision) -> ChatTurn:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            tools = build_tools(ToolContext(settings))
            service = ChatService(build_graph(OfflinePlannerChatModel(), tools, saver), recursion_limit=20)
            if isinstance(step, Decision):
                return await service.resume("t", step)
            return await service.turn(step, "t")

    return [asyncio.run(one(step)) for step in steps]


def _experiments(settings: Settings) -> int:
    with ExperimentStore(settings.experiments_db) as store:
        return len(store.list(limit=10))


def test_a_gpu_run_waits_and_a_no_starts_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    _, asked, declined = _turns(tmp_path, [CODE, "smoke-test it on the GPU", "no"], settings)
    assert asked.pending_action is not None, asked.reply
    assert asked.pending_action["device"] == "cuda" and asked.pending_action["tool"] == "smoke_run"
    assert "it would use a GPU" in asked.pending_action["reasons"]
    assert "Approval needed" in asked.reply and asked.as_dict()["pending_action"]["id"]
    assert declined.pending_action is None
    smoke = [call for call in declined.tool_calls if call.name == "smoke_run"]
    assert smoke and smoke[0].result["status"] == "not_started", declined.tool_calls
    assert _experiments(settings) == 0


def test_another_request_declines_the_pending_run_and_is_answered(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    _, asked, moved_on = _turns(tmp_path, [CODE, "smoke-test it on the GPU", "explain MLR006"], settings)
    assert asked.pending_action is not None
    assert [call.name for call in moved_on.tool_calls] == ["explain_checklist_item"]
    assert _experiments(settings) == 0


def test_resume_without_a_pending_action_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(NoPendingAction):
        _turns(tmp_path, ["hi", Decision(decision="approve")], settings)


@pytest.mark.slow
def test_an_approved_gpu_run_trains_on_the_cpu_with_a_note(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smoke_default_steps=4)
    _, asked, approved = _turns(
        tmp_path,
        [CODE, "smoke-test it on the GPU", Decision(decision="edit", steps=3)],
        settings,
    )
    assert asked.pending_action is not None
    smoke = [call for call in approved.tool_calls if call.name == "smoke_run"]
    assert smoke and smoke[0].result["status"] == "succeeded", approved.reply
    assert smoke[0].result["steps"] == 3 and smoke[0].result["device"] == "cpu"
    assert "trained on the CPU" in approved.reply or "CPU" in approved.reply
    assert _experiments(settings) == 1


@pytest.mark.parametrize(
    ("request_text", "tool"),
    [("it won't train, make it train", "fix_run"), ("is bf16 faster here?", "ab_test")],
)
def test_repair_loops_and_ab_runs_wait_for_approval_too_and_a_no_runs_nothing(
    tmp_path: Path, request_text: str, tool: str
) -> None:
    """The same approval step guards every costly tool: under MLAGENT_APPROVAL=always the repair loop and the
    A/B runs pause with what they would run, and a "no" leaves no experiment behind."""
    settings = Settings(data_dir=tmp_path, approval="always")
    _, asked, declined = _turns(tmp_path, [CODE, request_text, "no"], settings)
    assert asked.pending_action is not None, asked.reply
    assert asked.pending_action["tool"] == tool
    assert "sandboxed runs" in asked.pending_action["summary"]
    calls = [call for call in declined.tool_calls if call.name == tool]
    assert calls and calls[0].result["status"] == "not_started", declined.tool_calls
    assert _experiments(settings) == 0


def test_within_the_budget_a_cpu_repair_loop_needs_no_approval() -> None:
    """The default policy (gpu) lets the chat's CPU repair loop and A/B runs start at once."""
    settings = Settings(approval="gpu")
    assert approval_reasons(settings, device="cpu", steps=20 * 4, timeout_s=420.0, gpu=False) == []
    assert approval_reasons(settings, device="auto", steps=8 * 4, timeout_s=120.0 * 4, gpu=False) == []
