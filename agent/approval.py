"""Approval before costly runs (human in the loop): which runs need it, what the user is asked, what they answer.

A run that would use a GPU, or exceed the step or time budget, pauses the turn with a LangGraph ``interrupt``:
the graph stops inside the tool, the checkpoint keeps the pending action (so it survives a restart), and the
turn answers with the action instead of running it. The user approves, edits or rejects it
(``POST /v1/threads/{id}/resume``, or "yes"/"no" as the next chat message); the graph then resumes inside the
same tool call, which runs or skips the action.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.types import interrupt
from pydantic import BaseModel, Field

from core.settings import Settings

APPROVAL_CONFIG_KEY = "mlagent_approval"
"""``configurable`` key: False on graphs without a checkpointer, where a paused turn could never resume."""


class PendingAction(BaseModel):
    """What would run, where and for how long, and why it needs the user's approval."""

    tool: str
    summary: str
    device: str
    steps: int
    timeout_s: float
    files: list[str] = Field(default_factory=list)
    reasons: list[str]


class Decision(BaseModel):
    """The user's answer to a pending action; ``edit`` changes the run before approving it."""

    decision: Literal["approve", "reject", "edit"]
    steps: int | None = Field(default=None, ge=1, le=10_000)
    device: Literal["auto", "cpu", "cuda"] | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    message: str | None = Field(default=None, max_length=2000, description="Why, for the record.")


def gpu_visible() -> bool:
    """Whether this host exposes an NVIDIA GPU (device nodes or the driver's tool), without importing torch."""
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def approval_reasons(
    settings: Settings, *, device: str, steps: int, timeout_s: float, gpu: bool | None = None
) -> list[str]:
    """Why a run with these parameters needs approval under the settings (empty: it may run at once)."""
    mode = settings.approval
    if mode == "never":
        return []
    if mode == "always":
        return ["every run needs approval here (MLAGENT_APPROVAL=always)"]
    reasons = []
    if device == "cuda" or (device == "auto" and (gpu_visible() if gpu is None else gpu)):
        reasons.append("it would use a GPU")
    if steps > settings.approval_max_steps:
        reasons.append(f"{steps} steps is over the budget of {settings.approval_max_steps}")
    if timeout_s > settings.approval_max_seconds:
        reasons.append(
            f"it may run {timeout_s:.0f} s, over the budget of {settings.approval_max_seconds:.0f} s"
        )
    return reasons


def approval_possible(config: RunnableConfig | None = None) -> bool:
    """Whether the running graph can pause and resume (it has a checkpointer and the host allows it)."""
    try:
        configurable = (config or get_config()).get("configurable", {})
    except RuntimeError:  # not inside a graph run
        return False
    return bool(configurable.get(APPROVAL_CONFIG_KEY, False))


def ask(action: PendingAction) -> Decision:
    """Pause the turn until the user decides (inside a graph run with a checkpointer).

    Returns at once with a rejection where pausing is impossible (a stateless OpenAI-protocol request), so
    a costly run never starts without a yes.
    """
    if not approval_possible():
        return Decision(
            decision="reject",
            message="this run needs approval, which takes a stored conversation: send the request with an "
            "X-Thread-Id header (or through /v1/chat) and approve it there",
        )
    answer = interrupt(action.model_dump(mode="json"))
    return Decision.model_validate(answer)


def approve_run(
    settings: Settings,
    *,
    tool: str,
    summary: str,
    device: str,
    steps: int,
    timeout_s: float,
    files: list[str],
) -> tuple[Decision | None, str | None]:
    """The one approval step of every costly tool (smoke run, repair loop, A/B runs).

    Returns ``(None, None)`` when the run may start at once, ``(decision, None)`` when the user approved or
    edited it (the turn paused here until then), and ``(None, message)`` when it was declined.
    """
    reasons = approval_reasons(settings, device=device, steps=steps, timeout_s=timeout_s)
    if not reasons:
        return None, None
    action = PendingAction(
        tool=tool,
        summary=summary,
        device=device,
        steps=steps,
        timeout_s=timeout_s,
        files=sorted(files),
        reasons=reasons,
    )
    decision = ask(action)
    if decision.decision == "reject":
        why = f" ({decision.message})" if decision.message else ""
        return None, f"{summary} It was not started: it needed approval and was declined{why}."
    return decision, None


def edits(decision: Decision | None, **names: str) -> dict[str, Any]:
    """The fields an ``edit`` decision changed, renamed to the request's fields (``timeout_s="budget_s"``)."""
    if decision is None:
        return {}
    values = {"steps": decision.steps, "device": decision.device, "timeout_s": decision.timeout_s}
    return {names.get(key, key): value for key, value in values.items() if value is not None}


_YES = re.compile(
    r"^\s*(?:y|yes|yep|yeah|sure|ok(?:ay)?|approved?|go(?: ahead)?|do it|run it|confirm(?:ed)?|ja|oui|s[ií]|"
    r"sim|vas-y|dale)\b",
    re.IGNORECASE,
)
_SHORT_REPLY = 60  # "yes, run it on the GPU" is an answer; a long message is a new request
_NO = re.compile(
    r"^\s*(?:n|no|nope|nah|reject(?:ed)?|cancel(?:led)?|stop|don'?t|do not|abort|skip(?: it)?|nein|non)\b",
    re.IGNORECASE,
)


def decision_from_message(text: str) -> Decision | None:
    """A yes/no chat reply to a pending action as a decision; None when the message is about something else."""
    if len(text.strip()) > _SHORT_REPLY or "?" in text:
        return None
    if _YES.match(text) and not re.search(r"\b(?:but|not|no)\b", text, re.IGNORECASE):
        return Decision(decision="approve", message=text.strip()[:200])
    if _NO.match(text):
        return Decision(decision="reject", message=text.strip()[:200])
    return None


def describe(action: dict[str, Any]) -> str:
    """The question the user reads: what would run, where, for how long, why it waits, how to answer."""
    reasons = "; ".join(action.get("reasons") or [])
    files = action.get("files") or []
    shown = ", ".join(f"`{name}`" for name in files[:5]) + (" …" if len(files) > 5 else "")
    return (
        f"⏸️ **Approval needed before I run this.** {action.get('summary', '')}\n\n"
        f"| | |\n|---|---|\n| device | {action.get('device')} |\n| steps | {action.get('steps')} |\n"
        f"| time limit | {float(action.get('timeout_s') or 0):.0f} s |\n| files | {shown or '-'} |\n\n"
        f"It waits because {reasons}. Reply **yes** to run it, **no** to cancel it, or change it "
        '(`POST /v1/threads/{id}/resume` with `{"decision": "edit", "steps": 10, "device": "cpu"}`).'
    )
