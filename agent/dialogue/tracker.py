"""Folding each turn into the dialogue state: the previous turn's outcome, then the new user message.

Runs as the graph's first node on every turn, before any model, so that the offline planner and a real LLM see
the same state. It reads only what is stored in the thread (tool call arguments, tool artifacts, the metadata an
assistant message carried), so it gives the same answer after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.code_context import message_text, strip_code
from agent.dialogue.reading import message_slots, parse_answer
from agent.dialogue.state import PENDING_KEY, DialogueState, Pending, RankedChoice, Recommendation
from agent.understanding import parse_slots
from agent.understanding.gloss import gloss

_EXPERIMENT_ID = re.compile(r"\bexp-[0-9a-f]{6,}\b")
_GENERATABLE = {
    "classification",
    "segmentation",
    "detection",
    "instance_segmentation",
    "multi_label",
    "regression",
}
SPEC_SLOTS = ("task", "num_classes", "image_size", "architecture", "backbone", "package", "multi_label")


def _found(match: re.Match[str] | None) -> str | None:
    return match.group(0) if match else None


def _human_indices(messages: Sequence[BaseMessage]) -> list[int]:
    return [index for index, message in enumerate(messages) if isinstance(message, HumanMessage)]


def _fold_outcome(state: DialogueState, turn: Sequence[BaseMessage]) -> None:
    """What the previous turn's tools produced, and whether its answer asked the user for something."""
    call_args: dict[str, dict[str, Any]] = {}
    for message in turn:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                call_args[call.get("id") or ""] = dict(call.get("args") or {})
    for message in turn:
        if isinstance(message, ToolMessage) and message.name == "smoke_run":
            # A queued run's artifact may not survive the checkpoint; its rendered result ("| experiment |
            # exp-... |") is stored with the thread either way.
            artifact_id = (
                message.artifact.get("experiment_id") if isinstance(message.artifact, dict) else None
            )
            recorded = artifact_id or _found(_EXPERIMENT_ID.search(message_text(message)))
            if recorded and recorded not in state.runs:
                state.runs.append(str(recorded))
            continue
        if not isinstance(message, ToolMessage) or not isinstance(message.artifact, dict):
            continue
        artifact = message.artifact
        if "error" in artifact:
            continue
        args = call_args.get(message.tool_call_id, {})
        if message.name == "recommend_architecture" and artifact.get("recommendations"):
            ranked = [
                RankedChoice(
                    architecture=str(item.get("architecture")),
                    name=str(item.get("architecture_name") or item.get("architecture")),
                    backbone=item.get("backbone"),
                    generatable=bool(item.get("generate_command")),
                    generate_architecture=item.get("generate_architecture"),
                    generate_backbone=item.get("generate_backbone"),
                    estimated_latency_ms=item.get("estimated_latency_ms"),
                    estimated_gflops=item.get("estimated_gflops"),
                    device=item.get("device"),
                    **_closest(item.get("closest_generatable")),
                )
                for item in artifact["recommendations"]
            ]
            state.recommendation = Recommendation(task=str(artifact.get("task")), ranked=ranked)
            state.spec["task"] = artifact.get("task")
            constraints = artifact.get("constraints") or {}
            state.spec.update({key: value for key, value in constraints.items() if value is not None})
        elif message.name == "generate_project":
            state.has_project = True
            state.spec.update({key: args[key] for key in SPEC_SLOTS if args.get(key) is not None})
        elif message.name == "answer_question" and args.get("question"):
            state.topic = str(args["question"])[:400]
    last = turn[-1] if turn else None
    pending = last.additional_kwargs.get(PENDING_KEY) if isinstance(last, AIMessage) else None
    state.pending = Pending.model_validate(pending) if isinstance(pending, dict) else None


def _closest(described: object) -> dict[str, str]:
    """``closest_generatable`` ("ARCH: why") as RankedChoice fields."""
    if not isinstance(described, str) or ":" not in described:
        return {}
    name, reason = described.split(":", 1)
    return {"closest_architecture": name.strip(), "closest_reason": reason.strip()}


def _fold_message(state: DialogueState, text: str) -> None:
    """The user's new message: an answer to the pending question, and any spec values it states."""
    prose = gloss(strip_code(text))
    slots = message_slots(prose)
    if state.pending is not None:
        value = parse_answer(prose, state.pending.slot)
        if value is not None:
            args = {**state.pending.args, **{k: v for k, v in slots.items() if k in SPEC_SLOTS}}
            args[state.pending.slot] = value
            state.resume = {"tool": state.pending.tool, "args": args}
            state.spec[state.pending.slot] = value
        state.pending = None
    parsed_task = parse_slots(prose).task
    if parsed_task is not None and parsed_task.weak_task and state.spec.get("task"):
        # "actually 21 classes": a count for the current task, not a switch to classification.
        slots.pop("task", None)
    if slots.get("task") and slots["task"] != state.spec.get("task"):
        # A new task: the backbone and head of the old one no longer apply unless restated. Correcting a generated
        # project between the generatable tasks ("no, detection not segmentation") keeps the class count and sizes.
        keep = (
            "num_classes",
            "image_size",
            "dataset_size",
            "device",
            "latency_ms",
            "imbalanced",
            "commercial",
        )
        carried = {key: state.spec[key] for key in keep if key in state.spec}
        # Only a generated project's task is corrected that way; "write me a classifier instead" after a
        # detection recommendation starts a new spec (the agent asks for the classes).
        switching = state.has_project and {slots["task"], state.spec.get("task")} <= _GENERATABLE
        state.spec = {"task": slots["task"], **(carried if switching else {})}
    state.spec.update({key: value for key, value in slots.items() if value is not None})


def track(previous: Any, messages: Sequence[BaseMessage]) -> DialogueState:
    """The dialogue state after the latest user message of ``messages``."""
    state = DialogueState.load(previous).model_copy(deep=True)
    state.resume = None
    humans = _human_indices(messages)
    if not humans:
        return state
    current = humans[-1]
    start = humans[-2] + 1 if len(humans) > 1 else 0
    _fold_outcome(state, messages[start:current])
    _fold_message(state, message_text(messages[current]))
    state.turns += 1
    return state
