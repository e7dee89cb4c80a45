"""Chat turns over the compiled graph: one-shot, streamed, thread history and deletion.

The HTTP API, the OpenAI-compatible facade and the CLI's in-process ``chat`` all go through ``ChatService``, so
a turn means the same thing everywhere: the user's message is appended to the thread, the graph runs until the
model answers, and the reply comes back with every tool call the agent made (name, arguments, structured
result).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from agent import tracing
from agent.approval import APPROVAL_CONFIG_KEY, Decision, decision_from_message, describe
from agent.code_context import message_text
from agent.history import HistoryPolicy, is_interrupted, with_repairs
from agent.storage import LocalTurnLocks, TurnLocks
from agent.thread_store import archive_for, begin_turn, delete_thread, end_turn, run_options, stored_messages
from core.errors import ApiError

THREAD_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class UnknownThreadError(KeyError):
    """The thread id names no stored conversation."""


class NoPendingAction(LookupError):
    """A resume was asked for, but the thread waits for no approval."""


@dataclass
class ToolCallRecord:
    """One tool call of a turn: what the agent asked for and what the tool returned."""

    id: str
    name: str
    args: dict[str, Any]
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "args": self.args, "result": self.result}


@dataclass
class ChatTurn:
    """The outcome of one turn, as ``POST /v1/chat`` returns it."""

    thread_id: str
    reply: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    pending_action: dict[str, Any] | None = None
    """A costly run waiting for the user's approval (agent/approval.py); the turn paused before it."""

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "thread_id": self.thread_id,
            "reply": self.reply,
            "tool_calls": [call.as_dict() for call in self.tool_calls],
        }
        if self.pending_action is not None:
            body["pending_action"] = self.pending_action
        return body


def new_thread_id() -> str:
    """A fresh, URL-safe thread id."""
    return uuid.uuid4().hex


def _pending_of(interrupts: Sequence[Any]) -> dict[str, Any] | None:
    """The first interrupt's action, with its id (what a client echoes back to resume it)."""
    if not interrupts:
        return None
    first = interrupts[0]
    value = first.value if isinstance(first.value, dict) else {"summary": str(first.value)}
    return {**value, "id": first.id}


def _public_args(args: dict[str, Any]) -> dict[str, Any]:
    """Tool arguments without injected graph state (which would repeat the whole thread)."""
    return {key: value for key, value in args.items() if key != "state"}


def _tool_result(message: ToolMessage) -> Any:
    if message.artifact is not None:
        return message.artifact
    return {"error": message_text(message)} if message.status == "error" else message_text(message)


def tool_calls_of_turn(turn: Sequence[BaseMessage]) -> list[ToolCallRecord]:
    """Pair each tool call of a turn with its ToolMessage."""
    records: dict[str, ToolCallRecord] = {}
    for message in turn:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                call_id = call.get("id") or f"call_{len(records)}"
                records[call_id] = ToolCallRecord(call_id, call["name"], _public_args(call["args"]))
        elif isinstance(message, ToolMessage) and message.tool_call_id in records:
            records[message.tool_call_id].result = _tool_result(message)
    return list(records.values())


def last_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages after the latest user message."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return list(messages[index + 1 :])
    return []


def message_as_dict(message: BaseMessage) -> dict[str, Any]:
    """A stored message in the history shape of ``GET /v1/threads/{id}``."""
    role = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}.get(
        message.type, message.type
    )
    item: dict[str, Any] = {"role": role, "content": message_text(message)}
    if isinstance(message, AIMessage) and message.tool_calls:
        item["tool_calls"] = [
            {"id": call.get("id"), "name": call["name"], "args": _public_args(call["args"])}
            for call in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        item["name"] = message.name
        item["tool_call_id"] = message.tool_call_id
        item["result"] = _tool_result(message)
    if is_interrupted(message):
        item["interrupted"] = True
    return item


class ChatService:
    """Runs turns on the compiled agent graph; serialises turns per thread."""

    def __init__(
        self,
        graph: Any,
        *,
        recursion_limit: int,
        history: HistoryPolicy | None = None,
        locks: TurnLocks | None = None,
    ) -> None:
        self.graph = graph
        self.recursion_limit = recursion_limit
        # Repair, compaction, durability and pruning of stored history: agent.history / agent.thread_store.
        self.history_policy = history or HistoryPolicy()
        self._archive = archive_for(getattr(graph, "checkpointer", None))
        # One turn per thread at a time (in this process, or across processes with Postgres: agent/storage.py).
        self.locks: TurnLocks = locks or LocalTurnLocks()

    def _config(self, thread_id: str) -> dict[str, Any]:
        # Only a checkpointed graph can pause for approval and resume later (agent/approval.py).
        stored = getattr(self.graph, "checkpointer", None) is not None
        configurable = {"thread_id": thread_id, APPROVAL_CONFIG_KEY: stored}
        return {"configurable": configurable, "recursion_limit": self.recursion_limit}

    async def _pending(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """The action the thread waits on, if any (read from its checkpoint, so it survives restarts)."""
        if getattr(self.graph, "checkpointer", None) is None:
            return None
        snapshot = await self.graph.aget_state(config)
        return _pending_of(getattr(snapshot, "interrupts", ()) or ())

    async def pending_action(self, thread_id: str) -> dict[str, Any] | None:
        """The action the thread waits on (``GET /v1/threads/{id}`` shows it), or None."""
        return await self._pending(self._config(thread_id))

    async def _graph_input(
        self, config: dict[str, Any], new_messages: list[BaseMessage]
    ) -> dict[str, Any] | Command[Any]:
        """What to run: the new messages, or, when the thread waits on an approval, the user's answer.

        A short yes/no reply resumes the paused tool call; any other message first declines the pending
        action (so nothing costly runs unasked), then runs as a new turn.
        """
        pending = await self._pending(config)
        if pending is not None:
            text = message_text(new_messages[-1]) if len(new_messages) == 1 else ""
            decision = decision_from_message(text)
            if decision is not None:
                return Command(resume=decision.model_dump(exclude_none=True))
            declined = Decision(decision="reject", message="the user went on with another request")
            await self.graph.ainvoke(
                Command(resume=declined.model_dump(exclude_none=True)),
                config,
                **run_options(self.graph, self.history_policy),
            )
        turn_input = await begin_turn(self.graph, self._archive, config, new_messages, self.history_policy)
        return {"messages": turn_input}

    async def turn(self, message: str, thread_id: str | None = None) -> ChatTurn:
        """Run one turn to completion."""
        return await self.run_turn([HumanMessage(content=message)], thread_id)

    async def run_turn(self, new_messages: list[BaseMessage], thread_id: str | None = None) -> ChatTurn:
        """Run the graph on new messages (appended to the thread when there is a checkpointer)."""
        thread_id = thread_id or new_thread_id()
        tracing.note_thread(thread_id)
        async with self.locks.hold(thread_id):
            config = self._config(thread_id)
            return await self._invoke(thread_id, config, await self._graph_input(config, new_messages))

    async def resume(self, thread_id: str, decision: Decision) -> ChatTurn:
        """Answer the thread's pending action (approve, edit or reject) and finish the paused turn.

        UnknownThreadError without such a thread; NoPendingAction when it waits for nothing.
        """
        async with self.locks.hold(thread_id):
            config = self._config(thread_id)
            if await self._pending(config) is None:
                await self.history(thread_id)  # UnknownThreadError for a thread that does not exist
                raise NoPendingAction(thread_id)
            return await self._invoke(
                thread_id, config, Command(resume=decision.model_dump(exclude_none=True))
            )

    async def _invoke(
        self, thread_id: str, config: dict[str, Any], graph_input: dict[str, Any] | Command[Any]
    ) -> ChatTurn:
        try:
            state = await self.graph.ainvoke(
                graph_input, config, **run_options(self.graph, self.history_policy)
            )
        except GraphRecursionError:
            state = None
        await end_turn(self.graph, thread_id, self.history_policy)
        if state is None:
            return ChatTurn(thread_id, self._loop_message())
        messages: list[BaseMessage] = state["messages"]
        turn = last_turn(messages)
        pending = _pending_of(state.get("__interrupt__") or ())
        if pending is not None:
            return ChatTurn(thread_id, describe(pending), tool_calls_of_turn(turn), pending)
        reply = message_text(turn[-1]) if turn and isinstance(turn[-1], AIMessage) else ""
        return ChatTurn(thread_id, reply, tool_calls_of_turn(turn))

    def _loop_message(self) -> str:
        return (
            f"I stopped after {self.recursion_limit} steps without reaching an answer. Please rephrase the "
            "request or split it into smaller steps."
        )

    def stream_turn(
        self, message: str, thread_id: str | None = None
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Run one turn, yielding ``(event, data)``: token, tool_start, progress, tool_end, approval_required,
        then done (or error)."""
        return self.stream([HumanMessage(content=message)], thread_id)

    async def stream(
        self, new_messages: list[BaseMessage], thread_id: str | None = None
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Stream the graph on new messages as ``(event, data)`` pairs (see ``stream_turn``).

        Close the iterator (``aclose``, ``contextlib.aclosing``) when abandoning it early: that releases the
        thread's lock at once; an iterator merely dropped holds it until it is garbage-collected.
        """
        thread_id = thread_id or new_thread_id()
        tracing.note_thread(thread_id)
        # aclosing: closing this generator must close the one holding the lock too (ending the run and writing
        # its checkpoint inside the lock), not leave it to the garbage collector.
        async with aclosing(self._stream_locked(new_messages, thread_id)) as events:
            async for event in events:
                yield event

    async def _stream_locked(
        self, new_messages: list[BaseMessage], thread_id: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        async with self.locks.hold(thread_id):
            calls: dict[str, ToolCallRecord] = {}
            reply_parts: list[str] = []
            final_reply = ""
            config = self._config(thread_id)
            stream: Any = None
            pending: dict[str, Any] | None = None
            try:
                graph_input = await self._graph_input(config, new_messages)
                stream = self.graph.astream(
                    graph_input,
                    config,
                    stream_mode=["updates", "messages", "custom"],
                    **run_options(self.graph, self.history_policy),
                )
                async for mode, payload in stream:
                    if mode == "custom":
                        # A tool's live progress (a smoke run's steps and losses) while it works.
                        if isinstance(payload, dict):
                            yield "progress", payload
                        continue
                    if mode == "messages":
                        chunk, metadata = payload
                        if (
                            isinstance(chunk, AIMessageChunk)
                            and metadata.get("langgraph_node") == "agent"
                            and isinstance(chunk.content, str)
                            and chunk.content
                        ):
                            reply_parts.append(chunk.content)
                            yield "token", {"text": chunk.content}
                        continue
                    for node, update in (payload or {}).items():
                        if node == "__interrupt__":
                            pending = _pending_of(update)
                            if pending is not None:
                                yield "approval_required", pending
                            continue
                        for item in (update or {}).get("messages", []):
                            if isinstance(item, AIMessage) and item.tool_calls:
                                reply_parts.clear()
                                for call in item.tool_calls:
                                    record = ToolCallRecord(
                                        call.get("id") or "", call["name"], _public_args(call["args"])
                                    )
                                    calls[record.id] = record
                                    yield (
                                        "tool_start",
                                        {"id": record.id, "name": record.name, "args": record.args},
                                    )
                            elif isinstance(item, ToolMessage):
                                finished = calls.get(item.tool_call_id)
                                if finished is not None:
                                    finished.result = _tool_result(item)
                                    yield "tool_end", finished.as_dict()
                            elif isinstance(item, AIMessage) and node == "agent":
                                final_reply = message_text(item)
            except GraphRecursionError:
                final_reply = self._loop_message()
            except ApiError as error:  # e.g. the language model timed out (504 llm_timeout)
                yield "error", {**error.body()["error"], "status": error.status, "thread_id": thread_id}
                return
            except Exception as error:
                yield (
                    "error",
                    {"message": f"the turn failed: {type(error).__name__}: {error}", "thread_id": thread_id},
                )
                return
            finally:
                if stream is not None:
                    # Close the run here, inside the thread's lock, also when the client went away: LangGraph
                    # writes a cut run's checkpoint (durability "exit") while closing, and the next turn on the
                    # thread must read it. Left to garbage collection, it lands after the lock is released.
                    await stream.aclose()
            await end_turn(self.graph, thread_id, self.history_policy)
            if pending is not None:
                yield "done", ChatTurn(thread_id, describe(pending), list(calls.values()), pending).as_dict()
                return
            reply = final_reply or "".join(reply_parts)
            yield "done", ChatTurn(thread_id, reply, list(calls.values())).as_dict()

    async def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The stored messages of a thread, interrupted turns marked; UnknownThreadError if there is none."""
        messages = await stored_messages(self.graph, self._archive, thread_id)
        if not messages:
            raise UnknownThreadError(thread_id)
        # A turn in progress is not an interrupted one; with exit durability it is not in the state at all.
        # Neither is a turn paused for approval: its tool call waits for the user, it was not cut off.
        running = self.locks.held(thread_id) and self.history_policy.durability != "exit"
        paused = await self.pending_action(thread_id) is not None
        judge = not running and not paused
        return [message_as_dict(message) for message in with_repairs(messages, judge_last_turn=judge)]

    async def delete(self, thread_id: str) -> None:
        """Remove a thread and its checkpoints; UnknownThreadError if there is none."""
        await self.history(thread_id)
        await delete_thread(self.graph, self._archive, thread_id)
