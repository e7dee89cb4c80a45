"""Thread history hygiene: repair interrupted turns and keep what the graph state holds bounded.

A thread's messages live in LangGraph checkpoints. Two things go wrong with them over time; this module decides
what to do about each, and ``ChatService`` applies it at the start of the next turn (inside the thread's lock):

- **Interrupted turns.** A crash, a dropped stream or a cancelled request can leave a user message without a
  reply, or an assistant tool call without its tool result. OpenAI-protocol servers reject a history in which a
  tool call has no result, so every later turn on that thread would fail. ``with_repairs`` makes the history
  whole (a ``cancelled`` tool result per orphan call, an ``interrupted`` mark on the affected messages); the
  same view is what ``GET /v1/threads/{id}`` shows before the next turn stores it.
- **Long threads.** LangGraph writes, and reads back, the whole state at every checkpoint: a state holding the
  full conversation makes each turn slower (loading 1,764 messages took 0.28 s) and storage quadratic when every
  checkpoint is kept. ``plan_turn`` therefore moves old whole turns out of the state into the thread's archive
  (``agent.thread_store``) once the state holds more than twice the model window, keeping the recent turns and
  the turn with the latest code (tools and the planner resolve "it" / "the issues" to that code). The archive
  plus the state is the full history that ``GET /v1/threads/{id}`` returns.
- **The model's input** is bounded again by ``model_window`` (recent whole turns, the latest code's turn, a note
  saying how much is left out).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from agent.code_context import extract_code_files, message_text

if TYPE_CHECKING:
    from core.settings import Settings

INTERRUPTED_KEY = "interrupted"
CANCELLED_TOOL_RESULT = "cancelled: the previous turn was interrupted"
NO_REPLY_NOTE = "(no reply: this turn was interrupted before it finished)"

Durability = Literal["exit", "async", "sync"]


@dataclass(frozen=True)
class HistoryPolicy:
    """How turns are checkpointed and how much history the graph state and the model hold.

    ``durability`` is LangGraph's: ``exit`` writes one checkpoint when the turn ends (completed, failed or
    cancelled); ``async``/``sync`` write one per graph step, so a process killed mid-turn keeps the partial
    turn (which the next turn repairs) at several times the write cost. After each turn all but
    ``keep_checkpoints`` checkpoints of the thread are dropped (0: keep all). The model reads at most
    ``window_messages`` messages / ``window_chars`` characters of whole turns (plus the current turn and the
    latest code's turn); the state is compacted back to that window when it holds twice as much.
    """

    durability: Durability = "exit"
    keep_checkpoints: int = 1
    window_messages: int = 40
    window_chars: int = 100_000

    @classmethod
    def from_settings(cls, settings: Settings) -> HistoryPolicy:
        """How chat turns checkpoint and bound thread history, as the service settings say."""
        return cls(
            durability=settings.checkpoint_durability,
            window_messages=settings.history_window_messages,
            window_chars=settings.history_window_chars,
        )


def is_interrupted(message: BaseMessage) -> bool:
    """True for a message the repair marked as part of an interrupted turn."""
    return bool(message.response_metadata.get(INTERRUPTED_KEY))


def _marked(message: BaseMessage) -> BaseMessage:
    """A copy of ``message`` (same id, so the reducer replaces it in place) marked as interrupted."""
    metadata = {**message.response_metadata, INTERRUPTED_KEY: True}
    return message.model_copy(update={"response_metadata": metadata})


def _cancelled_result(call: dict[str, Any]) -> ToolMessage:
    return ToolMessage(
        id=str(uuid.uuid4()),
        content=CANCELLED_TOOL_RESULT,
        tool_call_id=str(call.get("id") or ""),
        name=call.get("name"),
        status="error",
        response_metadata={INTERRUPTED_KEY: True},
    )


def _turn_starts(messages: Sequence[BaseMessage]) -> list[int]:
    return [index for index, message in enumerate(messages) if isinstance(message, HumanMessage)]


def _repaired(messages: Sequence[BaseMessage], *, judge_last_turn: bool) -> tuple[list[BaseMessage], bool]:
    """The history with every interrupted turn made whole, and whether anything changed.

    A turn (a user message and the steps after it) is complete when it ends with an assistant message that
    calls no tool. Otherwise its user message is marked interrupted, and each tool call that has no result
    gets a ``cancelled`` tool result right after the results it does have (where an OpenAI-protocol model
    expects it). ``judge_last_turn=False`` leaves the newest turn alone (it may still be running).
    """
    starts = _turn_starts(messages)
    bounds = list(zip(starts, [*starts[1:], len(messages)], strict=True))
    if not judge_last_turn and bounds:
        bounds = bounds[:-1]
    if starts and starts[0] > 0:
        bounds.insert(0, (0, starts[0]))  # steps before any user message (seeded threads)
    out: list[BaseMessage] = list(messages[: bounds[0][0]]) if bounds else list(messages)
    changed = False
    for start, end in bounds:
        turn = list(messages[start:end])
        fixed: list[BaseMessage] = []
        index = 0
        while index < len(turn):
            message = turn[index]
            if isinstance(message, AIMessage) and message.tool_calls:
                block_end = index + 1
                while block_end < len(turn) and isinstance(turn[block_end], ToolMessage):
                    block_end += 1
                block = turn[index + 1 : block_end]
                answered = {item.tool_call_id for item in block if isinstance(item, ToolMessage)}
                missing = [call for call in message.tool_calls if call.get("id") not in answered]
                if missing:
                    changed = True
                    fixed.append(message if is_interrupted(message) else _marked(message))
                    fixed.extend(block)
                    fixed.extend(_cancelled_result(dict(call)) for call in missing)
                else:
                    fixed.extend([message, *block])
                index = block_end
                continue
            fixed.append(message)
            index += 1
        last = fixed[-1]
        complete = isinstance(last, AIMessage) and not last.tool_calls
        if not complete and isinstance(fixed[0], HumanMessage) and not is_interrupted(fixed[0]):
            fixed[0] = _marked(fixed[0])
            changed = True
        out.extend(fixed)
    if bounds:
        out.extend(messages[bounds[-1][1] :])
    return out, changed


def with_repairs(messages: Sequence[BaseMessage], *, judge_last_turn: bool = True) -> list[BaseMessage]:
    """The history as it reads after repair (for display; nothing is stored)."""
    return _repaired(messages, judge_last_turn=judge_last_turn)[0]


@dataclass
class TurnPlan:
    """What the next turn does to the stored history before the new message goes in.

    ``archive``: messages to append to the thread's archive (chronological; a message that also stays in the
    state is archived in its place so that the full history reads in order). ``input_prefix``: the messages to
    put in front of the new message in the graph input (empty when the state needs no change, else a rewrite of
    the state: ``RemoveMessage(REMOVE_ALL_MESSAGES)`` then the messages it keeps).
    """

    archive: list[BaseMessage]
    input_prefix: list[BaseMessage]


def plan_turn(messages: Sequence[BaseMessage], policy: HistoryPolicy, *, can_archive: bool) -> TurnPlan:
    """Repair the stored messages and, when the state has grown past twice the window, move old turns out.

    Rewriting the state costs one bounded list (the state never holds much more than twice the window), and it
    happens only after an interruption or once per window's worth of turns.
    """
    repaired, changed = _repaired(messages, judge_last_turn=True)
    archive: list[BaseMessage] = []
    kept = repaired
    if can_archive and _over(repaired, 2 * policy.window_messages, 2 * policy.window_chars):
        chosen = _window_turns(repaired, policy, reserve_current=False)
        keep_ids = {id(message) for start, end in chosen for message in repaired[start:end]}
        cut = max((start for start, _ in chosen), default=len(repaired))
        archive = list(repaired[:cut])
        kept = [message for message in repaired if id(message) in keep_ids]
        # A kept turn older than the cut (the latest code's) is archived in its place as well, and stays.
        changed = changed or len(kept) != len(repaired)
    if not changed:
        return TurnPlan([], [])
    return TurnPlan(archive, [RemoveMessage(id=REMOVE_ALL_MESSAGES), *kept])


def _over(messages: Sequence[BaseMessage], max_messages: int, max_chars: int) -> bool:
    return len(messages) > max_messages or sum(_size(m) for m in messages) > max_chars


# --- the model's window ---------------------------------------------------------------------------------------


def _has_code(message: BaseMessage) -> bool:
    """Whether a message carries code a follow-up may refer to (see ``agent.code_context.latest_code``)."""
    if isinstance(message, HumanMessage):
        return bool(extract_code_files(message_text(message)))
    if isinstance(message, ToolMessage) and isinstance(message.artifact, dict):
        return bool(message.artifact.get("files") or message.artifact.get("fixed_files"))
    return False


def _size(message: BaseMessage) -> int:
    size = len(message_text(message))
    if isinstance(message, AIMessage):
        size += sum(len(str(call.get("args", ""))) for call in message.tool_calls)
    return size


@dataclass
class ModelWindow:
    """What the model reads: a tail of whole turns, and how many earlier messages were left out."""

    messages: list[BaseMessage]
    omitted: int

    def note(self) -> str:
        """A line for the system prompt, so a model knows the conversation is longer than it sees."""
        if not self.omitted:
            return ""
        return (
            f"\n\n(The conversation is longer than shown: {self.omitted} earlier messages are left out to "
            "bound your input. The most recent code of the conversation is always included.)"
        )


def _window_turns(
    messages: Sequence[BaseMessage], policy: HistoryPolicy, *, reserve_current: bool
) -> list[tuple[int, int]]:
    """Bounds of the turns a window keeps: the newest whole turns that fit, and the latest code's turn.

    With ``reserve_current`` the newest turn is kept whatever its size (it is the request being answered).
    """
    starts = _turn_starts(messages)
    if not starts:
        return [(0, len(messages))] if reserve_current else []
    bounds = list(zip(starts, [*starts[1:], len(messages)], strict=True))
    chosen: list[tuple[int, int]] = []
    count = chars = 0
    for position, (start, end) in enumerate(reversed(bounds)):
        size = sum(_size(m) for m in messages[start:end])
        forced = reserve_current and position == 0
        if not forced and (
            count + (end - start) > policy.window_messages or chars + size > policy.window_chars
        ):
            break
        chosen.insert(0, (start, end))
        count += end - start
        chars += size
    first = chosen[0][0] if chosen else len(messages)
    if first == starts[0] and first > 0:
        chosen.insert(0, (0, first))  # whatever preceded the first user message (a client's greeting)
        first = 0
    if not any(_has_code(m) for m in messages[first:]):
        for start, end in reversed(bounds):
            if start < first and any(_has_code(m) for m in messages[start:end]):
                chosen.insert(0, (start, end))
                break
    return chosen


def model_window(messages: Sequence[BaseMessage], policy: HistoryPolicy) -> ModelWindow:
    """The current turn plus as many recent whole turns as fit the policy, and the latest code's turn.

    Whole turns keep every tool call next to its result. The turn holding the latest code is kept even when
    it is older than the window, because the planner and the tools resolve "it" / "the issues" to that
    code. An interrupted user message gets a short assistant note after it, so a model does not answer it
    now as if it were part of the new request.
    """
    chosen = _window_turns(messages, policy, reserve_current=True)
    window = [m for start, end in chosen for m in messages[start:end]]
    return ModelWindow(_with_notes(window), len(messages) - len(window))


def _with_notes(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for index, message in enumerate(messages):
        out.append(message)
        following = messages[index + 1] if index + 1 < len(messages) else None
        if (
            isinstance(message, HumanMessage)
            and is_interrupted(message)
            and isinstance(following, HumanMessage)
        ):
            out.append(AIMessage(content=NO_REPLY_NOTE))
    return out
