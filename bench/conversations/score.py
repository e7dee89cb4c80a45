"""Conversation benchmark: real multi-turn chats through the real agent, scored turn by turn.

Usage: ``.venv/bin/python bench/conversations/score.py [--cases DIR] [--only ID] [--tag T] [--json] [--save PATH]
[--list] [--check]``.

Each conversation in ``cases/*.yaml`` runs as one thread of the agent exactly as the server runs it
(``create_app`` + its lifespan: SQLite checkpointer, review workers, smoke-run queue, offline planner) in a
fresh temporary data dir. Every turn is checked against what must happen (tools in order, key arguments,
key facts in the reply, a question the agent must ask), never against exact wording, and every reply is
checked for internal error text (pydantic messages, exception names, tracebacks) that must never reach a user.

Corpus format (one YAML file per theme)::

    defs: {...}                     # free space for YAML anchors, ignored by the loader
    conversations:
      - id: gen-answer-number       # unique, also the thread id
        tags: [generate, slot-answer]
        turns:
          - user: "set up a detection project"
            expect:
              tools: []              # exact ordered tool names; a list of lists means "any of these sequences"
              asks: num_classes      # the reply must ask for this slot (see ASK_PATTERNS)
          - user: "20"
            expect:
              tools: [generate_project]
              args: {generate_project: {task: detection, num_classes: 20}}   # subset, normalised
              result: {recommend_architecture: {constraints.dataset_size: 800}}  # dotted paths into the result
              reply_has: ["fact", [any, of, these]]    # case-insensitive substrings
              reply_lacks: ["text that must not appear"]

Values in ``args``/``result``: strings compare case-insensitively ignoring spaces, ``-`` and ``_``; numbers
compare numerically (``"20"`` equals ``20``); a list compares as a multiset; ``{any_of: [a, b]}`` accepts
either. ``{expN}`` in a message and ``$expN`` in an expectation stand for the id of the N-th experiment that a
smoke run of this conversation recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CASES_DIR = Path(__file__).resolve().parent / "cases"
# A batch written by someone who never saw the agent's replies, scored at first sight with ``--cases``: it
# tells whether a gain on cases/ comes from tuning to that corpus or carries over to new conversations.
HELDOUT_DIR = Path(__file__).resolve().parent / "heldout"
# A second batch written the same way before the next round of tuning (corrections, two-turns-back follow-ups,
# Chinese next to de/fr/es/pt, general engineering questions); scored at first sight with ``--cases``.
HELDOUT2_DIR = Path(__file__).resolve().parent / "heldout2"

# The one place the pass mark lives: tests/agent/test_conversations.py asserts the score is at least this.
# First sight on main 6686098 (2026-11-30): 65/207 turns = 31.4%; after the dialogue-state work 159/207 = 76.8%,
# rounded down with room for a slow sandbox run. After the failure-class work on the three corpora (2026-12-01):
# 193/207 = 93.2%, held to 0.88 (a sandbox turn may time out on a loaded machine and take its follow-ups along).
# Raise it as the agent improves (issue 7 targets 0.95).
MIN_TURN_ACCURACY = 0.88
# Replies that leaked internal error text: the contract is zero (main leaked it in 4 replies at first sight).
MAX_INTERNAL_ERROR_TURNS = 0

TOOL_NAMES = frozenset(
    {
        "review_code",
        "recommend_architecture",
        "generate_project",
        "smoke_run",
        "explain_checklist_item",
        "export_onnx",
        "list_experiments",
        "compare_experiments",
        "answer_question",
        "edit_code",
    }
)
SANDBOX_TOOLS = frozenset({"smoke_run", "export_onnx"})
MAX_SANDBOX_TURNS = 5
"""Turns that may run the sandbox: each trains or exports for real (seconds on a tiny module)."""

INTERNAL_ERROR_PATTERNS: dict[str, re.Pattern[str]] = {
    "pydantic 'Input should be'": re.compile(r"Input should be", re.IGNORECASE),
    "pydantic 'Field required'": re.compile(r"Field required", re.IGNORECASE),
    "pydantic 'validation error'": re.compile(r"validation errors? for|\bvalidation error\b", re.IGNORECASE),
    "pydantic error type tag": re.compile(r"\[type=\w+"),
    "pydantic URL": re.compile(r"errors\.pydantic\.dev|pydantic\.dev/", re.IGNORECASE),
    "ToolInvocationError": re.compile(r"ToolInvocationError|ToolException"),
    "Traceback": re.compile(r"Traceback \(most recent call last\)|\bTraceback\b"),
    "'Please fix the error'": re.compile(r"Please fix the error", re.IGNORECASE),
}

ASK_PATTERNS: dict[str, re.Pattern[str]] = {
    "num_classes": re.compile(
        r"\b(?:how many|number of|which|what)\b.*\b(?:class|classes|categor\w*|labels?|types?|kinds?|species"
        r"|objects?)\b",
        re.IGNORECASE,
    ),
    "task": re.compile(
        r"\b(?:classif\w*|detect\w*|segment\w*|task|what (?:kind|sort|type) of|what do you want)\b",
        re.IGNORECASE,
    ),
    "code": re.compile(
        r"\b(?:paste|share|send|show|give)\b.*\b(?:code|script|module|file)s?\b", re.IGNORECASE
    ),
    "image_size": re.compile(
        r"\b(?:image size|resolution|input size|how (?:big|large)|pixels?|px)\b", re.IGNORECASE
    ),
    "dataset_size": re.compile(
        r"\bhow many\b.*\b(?:images|samples|pictures|photos|label+ed|annotated)\b", re.IGNORECASE
    ),
}
_REQUEST = re.compile(
    r"\b(?:paste|send|share|tell me|let me know|please give|which|how many)\b", re.IGNORECASE
)
_PLACEHOLDER_MESSAGE = re.compile(r"\{exp(\d+)\}")
_PLACEHOLDER_VALUE = re.compile(r"\$exp(\d+)")


# --- corpus -------------------------------------------------------------------------------------------------


class Expect(BaseModel):
    """What must happen in one turn."""

    model_config = ConfigDict(extra="forbid")

    tools: list[str] | list[list[str]] | None = Field(
        default=None,
        description="Exact ordered tool names, or a list of acceptable sequences; None: unchecked.",
    )
    args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    result: dict[str, dict[str, Any]] = Field(default_factory=dict)
    reply_has: list[Any] = Field(default_factory=list)
    reply_lacks: list[str] = Field(default_factory=list)
    asks: str | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _uniform_tools(cls, value: Any) -> Any:
        if isinstance(value, list) and value:
            kinds = {isinstance(item, list) for item in value}
            if len(kinds) > 1:
                raise ValueError("tools mixes names and lists; write [[a], [b]] for alternatives")
        return value

    @model_validator(mode="after")
    def _known_names(self) -> Expect:
        named = {name for option in self.tool_options() or [] for name in option}
        named |= set(self.args) | set(self.result)
        unknown = named - TOOL_NAMES
        if unknown:
            raise ValueError(f"unknown tool name(s): {sorted(unknown)}")
        if self.asks is not None and self.asks not in ASK_PATTERNS:
            raise ValueError(f"unknown slot {self.asks!r}; known: {sorted(ASK_PATTERNS)}")
        for item in self.reply_has:
            if not _flatten([item]):
                raise ValueError("an empty any-of in reply_has")
        return self

    def tool_options(self) -> list[list[str]] | None:
        """The acceptable tool sequences (one for a plain list)."""
        if self.tools is None:
            return None
        if self.tools and isinstance(self.tools[0], list):
            return [list(option) for option in self.tools]  # type: ignore[arg-type]
        return [list(self.tools)]  # type: ignore[arg-type]


class Turn(BaseModel):
    """One user message and its expectations."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    expect: Expect
    tags: list[str] = Field(default_factory=list)


class Conversation(BaseModel):
    """One thread: an id, tags for the per-tag table, and its turns in order."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")
    tags: list[str] = Field(default_factory=list)
    turns: list[Turn] = Field(min_length=1)
    source: str = ""

    def uses_sandbox(self, turn: Turn) -> bool:
        """Whether the turn is expected to run a sandbox job (every acceptable sequence includes one)."""
        options = turn.expect.tool_options() or []
        return bool(options) and all(SANDBOX_TOOLS & set(option) for option in options)


def load_corpus(cases_dir: Path = CASES_DIR) -> list[Conversation]:
    """Every conversation of every ``*.yaml`` under ``cases_dir``, validated (unique ids, sandbox budget)."""
    conversations: list[Conversation] = []
    for path in sorted(cases_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in document.get("conversations", []):
            conversations.append(Conversation.model_validate({**raw, "source": path.name}))
    ids = Counter(conversation.id for conversation in conversations)
    duplicated = sorted(name for name, count in ids.items() if count > 1)
    if duplicated:
        raise ValueError(f"duplicate conversation ids: {duplicated}")
    sandbox_turns = sum(c.uses_sandbox(t) for c in conversations for t in c.turns)
    if sandbox_turns > MAX_SANDBOX_TURNS:
        raise ValueError(f"{sandbox_turns} turns run the sandbox; at most {MAX_SANDBOX_TURNS} are allowed")
    return conversations


def select(
    conversations: Sequence[Conversation], only: Sequence[str] = (), tag: str | None = None
) -> list[Conversation]:
    """The conversations named by ``--only`` and/or carrying ``--tag`` (on the conversation or a turn)."""
    chosen = list(conversations)
    if only:
        unknown = set(only) - {c.id for c in chosen}
        if unknown:
            raise ValueError(f"no conversation with id(s): {sorted(unknown)}")
        chosen = [c for c in chosen if c.id in set(only)]
    if tag:
        chosen = [c for c in chosen if tag in c.tags or any(tag in t.tags for t in c.turns)]
    return chosen


# --- checking -----------------------------------------------------------------------------------------------


@dataclass
class Failure:
    """Why a turn failed: a kind for grouping and a detail for the reader."""

    kind: str
    reason: str
    detail: str


@dataclass
class CallRecord:
    """A tool call as the scorer sees it."""

    name: str
    args: dict[str, Any]
    result: Any


def _flatten(items: Iterable[Any]) -> list[str]:
    flat: list[str] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        elif item is not None:
            flat.append(str(item))
    return flat


def _norm_text(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", value.strip().lower())


def substitute(value: Any, experiments: Sequence[str]) -> Any:
    """Replace ``$expN`` placeholders (1-based) with this conversation's experiment ids."""
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            return experiments[index] if 0 <= index < len(experiments) else match.group(0)

        return _PLACEHOLDER_VALUE.sub(repl, value)
    if isinstance(value, list):
        return [substitute(item, experiments) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, experiments) for key, item in value.items()}
    return value


def values_match(expected: Any, actual: Any) -> bool:
    """Whether an actual argument/result value satisfies the expected one (see the module docstring)."""
    if isinstance(expected, dict) and set(expected) == {"any_of"}:
        return any(values_match(option, actual) for option in expected["any_of"])
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        if isinstance(actual, str):
            return actual.strip().lower() == str(expected).lower()
        return actual is expected
    if isinstance(expected, int | float):
        if isinstance(actual, bool) or actual is None:
            return False
        try:
            return float(actual) == float(expected)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, str):
        if isinstance(actual, bool) or actual is None:
            return False
        if isinstance(actual, int | float):
            return _norm_text(expected) == _norm_text(str(actual))
        return isinstance(actual, str) and _norm_text(expected) == _norm_text(actual)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        remaining = list(actual)
        for item in expected:
            match = next((index for index, value in enumerate(remaining) if values_match(item, value)), None)
            if match is None:
                return False
            remaining.pop(match)
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and values_match(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


_MISSING = object()


def lookup(data: Any, dotted: str) -> Any:
    """``a.b.c`` inside nested dicts; ``_MISSING`` when a step is absent."""
    current = data
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _short(value: Any, limit: int = 60) -> str:
    text = "(missing)" if value is _MISSING else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _question_sentences(reply: str) -> list[str]:
    """Sentences of the reply that ask the user something (a question, or 'paste/tell me/which ...')."""
    sentences = re.findall(r"[^.!?\n]+[.!?]?", reply)
    return [s for s in sentences if s.rstrip().endswith("?") or _REQUEST.search(s)]


def internal_errors(reply: str) -> list[str]:
    """The names of the internal-error patterns found in a reply."""
    return [name for name, pattern in INTERNAL_ERROR_PATTERNS.items() if pattern.search(reply)]


def _fmt_tools(names: Sequence[str]) -> str:
    return "[" + ", ".join(names) + "]"


def check_turn(
    expect: Expect, calls: Sequence[CallRecord], reply: str, experiments: Sequence[str] = ()
) -> list[Failure]:
    """Every way this turn missed its expectations (empty: the turn is right)."""
    failures: list[Failure] = []
    names = [call.name for call in calls]
    options = expect.tool_options()
    if options is not None and names not in options:
        wanted = " or ".join(_fmt_tools(option) for option in options)
        failures.append(
            Failure(
                "tools",
                f"tools: expected {_fmt_tools(options[0])}, got {_fmt_tools(names)}",
                f"expected {wanted}, got {_fmt_tools(names)}",
            )
        )
    for tool, expected_args in expect.args.items():
        call = next((c for c in calls if c.name == tool), None)
        if call is None:
            continue  # the tools check already says the tool was not called
        for key, wanted_value in substitute(expected_args, experiments).items():
            actual = call.args.get(key, _MISSING)
            if actual is _MISSING or not values_match(wanted_value, actual):
                failures.append(
                    Failure(
                        "args",
                        f"args: {tool}.{key} wrong",
                        f"{tool}.{key}: expected {_short(wanted_value)}, got {_short(actual)}",
                    )
                )
    for tool, expected_result in expect.result.items():
        call = next((c for c in calls if c.name == tool), None)
        if call is None:
            continue
        for path, wanted_value in substitute(expected_result, experiments).items():
            actual = lookup(call.result, path)
            if actual is _MISSING or not values_match(wanted_value, actual):
                failures.append(
                    Failure(
                        "result",
                        f"result: {tool}.{path} wrong",
                        f"{tool} result {path}: expected {_short(wanted_value)}, got {_short(actual)}",
                    )
                )
    lowered = reply.lower()
    for item in expect.reply_has:
        options_text = [str(substitute(text, experiments)) for text in _flatten([item])]
        if not any(text.lower() in lowered for text in options_text):
            where = _fmt_tools(names) if names else "no tool called"
            failures.append(
                Failure(
                    "reply_has",
                    f"reply lacks an expected fact ({where})",
                    "reply lacks " + " | ".join(repr(text) for text in options_text),
                )
            )
    for text in expect.reply_lacks:
        if str(substitute(text, experiments)).lower() in lowered:
            failures.append(Failure("reply_lacks", "reply says what it must not", f"reply contains {text!r}"))
    if expect.asks is not None:
        pattern = ASK_PATTERNS[expect.asks]
        if not any(pattern.search(sentence) for sentence in _question_sentences(reply)):
            failures.append(
                Failure(
                    "asks", f"did not ask for {expect.asks}", f"no question about {expect.asks} in the reply"
                )
            )
    for name in internal_errors(reply):
        failures.append(Failure("internal", f"internal error text in reply: {name}", name))
    return failures


# --- running ------------------------------------------------------------------------------------------------


@dataclass
class TurnResult:
    """One scored turn."""

    conversation: str
    index: int
    user: str
    tags: list[str]
    tools: list[str]
    args: list[dict[str, Any]]
    reply: str
    seconds: float
    sandbox: bool
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def internal_error(self) -> bool:
        return any(failure.kind == "internal" for failure in self.failures)


@dataclass
class Report:
    """All scored turns of a run, with the summaries the table and the test need."""

    turns: list[TurnResult]
    conversations: list[Conversation]
    seconds: float

    def conversation_ok(self, conversation_id: str) -> bool:
        return all(t.ok for t in self.turns if t.conversation == conversation_id)

    @property
    def turn_accuracy(self) -> float:
        return sum(t.ok for t in self.turns) / len(self.turns) if self.turns else 0.0

    @property
    def conversation_accuracy(self) -> float:
        ids = [c.id for c in self.conversations]
        return sum(self.conversation_ok(i) for i in ids) / len(ids) if ids else 0.0

    @property
    def internal_error_turns(self) -> int:
        return sum(t.internal_error for t in self.turns)

    def by_tag(self) -> dict[str, dict[str, Any]]:
        """Per tag: turns and conversations carrying it, and how many were right."""
        rows: dict[str, dict[str, Any]] = {}
        conv_tags = {c.id: set(c.tags) for c in self.conversations}
        for turn in self.turns:
            for tag in sorted(set(turn.tags)):
                row = rows.setdefault(tag, {"turns": 0, "turns_ok": 0, "conversations": set()})
                row["turns"] += 1
                row["turns_ok"] += turn.ok
                row["conversations"].add(turn.conversation)
        table = {}
        for tag, row in sorted(rows.items()):
            convs = row["conversations"]
            convs_ok = sum(self.conversation_ok(c) for c in convs)
            table[tag] = {
                "turns": row["turns"],
                "turns_ok": row["turns_ok"],
                "turn_accuracy": row["turns_ok"] / row["turns"],
                "conversations": len(convs),
                "conversations_ok": convs_ok,
                "conversation_accuracy": convs_ok / len(convs),
                "conversation_level": sum(tag in conv_tags[c] for c in convs),
            }
        return table

    def top_reasons(self, limit: int = 15) -> list[tuple[str, int]]:
        """The reasons that failed the most turns (a reason counts once per turn)."""
        counts = Counter(reason for turn in self.turns for reason in {f.reason for f in turn.failures})
        return counts.most_common(limit)

    def latency(self) -> dict[str, float]:
        """Wall time of the turns that ran no sandbox job (what a chat user waits for most of the time)."""
        times = sorted(t.seconds * 1000 for t in self.turns if not t.sandbox)
        if not times:
            return {}
        return {
            "p50_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "max_ms": times[-1],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversations": len(self.conversations),
            "turns": len(self.turns),
            "turn_accuracy": self.turn_accuracy,
            "conversation_accuracy": self.conversation_accuracy,
            "internal_error_turns": self.internal_error_turns,
            "seconds": self.seconds,
            "latency_no_sandbox": self.latency(),
            "by_tag": self.by_tag(),
            "top_reasons": [{"reason": r, "count": n} for r, n in self.top_reasons()],
            "turn_results": [
                {**asdict(t), "ok": t.ok, "failures": [asdict(f) for f in t.failures]} for t in self.turns
            ],
        }


def _experiment_ids(calls: Sequence[CallRecord]) -> list[str]:
    ids = []
    for call in calls:
        if call.name in SANDBOX_TOOLS and isinstance(call.result, dict):
            experiment = call.result.get("experiment_id")
            if isinstance(experiment, str) and experiment:
                ids.append(experiment)
    return ids


async def _run_conversation(chat: Any, conversation: Conversation) -> list[TurnResult]:
    results: list[TurnResult] = []
    experiments: list[str] = []
    for index, turn in enumerate(conversation.turns, start=1):
        message = _PLACEHOLDER_MESSAGE.sub(
            lambda m: (
                experiments[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(experiments) else m.group(0)
            ),
            turn.user,
        )
        started = time.perf_counter()
        failures: list[Failure] = []
        try:
            outcome = await chat.turn(message, conversation.id)
            calls = [CallRecord(c.name, dict(c.args), c.result) for c in outcome.tool_calls]
            reply = outcome.reply
        except Exception as error:  # a crashed turn is a failed turn, and the run goes on
            calls, reply = [], ""
            failures.append(Failure("exception", f"turn raised {type(error).__name__}", str(error)[:300]))
        seconds = time.perf_counter() - started
        experiments.extend(e for e in _experiment_ids(calls) if e not in experiments)
        failures += check_turn(turn.expect, calls, reply, experiments)
        results.append(
            TurnResult(
                conversation=conversation.id,
                index=index,
                user=message,
                tags=sorted(set(conversation.tags) | set(turn.tags)),
                tools=[c.name for c in calls],
                args=[c.args for c in calls],
                reply=reply,
                seconds=seconds,
                sandbox=any(c.name in SANDBOX_TOOLS for c in calls),
                failures=failures,
            )
        )
    return results


async def run_corpus(conversations: Sequence[Conversation], data_dir: Path) -> Report:
    """Run the conversations through the real service (offline planner) with its data in ``data_dir``."""
    from agent.service import create_app
    from core.settings import Settings

    settings = Settings(data_dir=data_dir, llm="offline", log_level="WARNING")
    app = create_app(settings)
    started = time.perf_counter()
    turns: list[TurnResult] = []
    async with app.router.lifespan_context(app):
        for conversation in conversations:
            turns += await _run_conversation(app.state.chat, conversation)
    return Report(turns, list(conversations), time.perf_counter() - started)


def score(conversations: Sequence[Conversation], data_dir: Path | None = None) -> Report:
    """Run and score, in a fresh temporary data dir unless one is given."""
    if data_dir is not None:
        return asyncio.run(run_corpus(conversations, data_dir))
    with tempfile.TemporaryDirectory(prefix="mlagent-convbench-") as tmp:
        return asyncio.run(run_corpus(conversations, Path(tmp) / "data"))


# --- output -------------------------------------------------------------------------------------------------


def corpus_counts(conversations: Sequence[Conversation]) -> str:
    """Conversations and turns, in total and per tag."""
    turns = [(c, t) for c in conversations for t in c.turns]
    per_tag: Counter[str] = Counter()
    conv_per_tag: Counter[str] = Counter()
    for conversation in conversations:
        for tag in set(conversation.tags) | {tag for t in conversation.turns for tag in t.tags}:
            conv_per_tag[tag] += 1
    for conversation, turn in turns:
        for tag in set(conversation.tags) | set(turn.tags):
            per_tag[tag] += 1
    sandbox = sum(c.uses_sandbox(t) for c, t in turns)
    lines = [
        f"{len(conversations)} conversations, {len(turns)} turns, {sandbox} sandbox turns",
        f"{'tag':<22} {'convs':>6} {'turns':>6}",
    ]
    lines += [f"{tag:<22} {conv_per_tag[tag]:>6} {per_tag[tag]:>6}" for tag in sorted(per_tag)]
    return "\n".join(lines)


def render_table(report: Report, *, failing_limit: int | None = None) -> str:
    """The score table: per tag and overall, then the failing turns and the most common reasons."""
    lines = [
        f"Conversation benchmark (offline planner): {len(report.conversations)} conversations, "
        f"{len(report.turns)} turns, {report.seconds:.1f} s",
        "",
        f"{'tag':<22} {'turns':>6} {'ok':>5} {'turn acc':>9} {'convs':>6} {'ok':>4} {'conv acc':>9}",
    ]
    for tag, row in report.by_tag().items():
        lines.append(
            f"{tag:<22} {row['turns']:>6} {row['turns_ok']:>5} {row['turn_accuracy']:>8.1%} "
            f"{row['conversations']:>6} {row['conversations_ok']:>4} {row['conversation_accuracy']:>8.1%}"
        )
    ok_turns = sum(t.ok for t in report.turns)
    ok_convs = sum(report.conversation_ok(c.id) for c in report.conversations)
    lines += [
        "-" * 66,
        f"{'OVERALL':<22} {len(report.turns):>6} {ok_turns:>5} {report.turn_accuracy:>8.1%} "
        f"{len(report.conversations):>6} {ok_convs:>4} {report.conversation_accuracy:>8.1%}",
        "",
        f"internal-error replies: {report.internal_error_turns}",
    ]
    latency = report.latency()
    if latency:
        lines.append(
            "turn latency without sandbox jobs (in-process): "
            f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, max {latency['max_ms']:.0f} ms"
        )
    failing = [t for t in report.turns if not t.ok]
    if failing:
        lines += ["", f"Failing turns ({len(failing)}):"]
        for turn in failing[:failing_limit]:
            user = " ".join(turn.user.split())
            user = user if len(user) <= 70 else user[:69] + "…"
            lines.append(f"- {turn.conversation} #{turn.index}: {user!r} -> tools {_fmt_tools(turn.tools)}")
            lines += [f"    {failure.detail}" for failure in turn.failures]
        if failing_limit is not None and len(failing) > failing_limit:
            lines.append(f"  ... and {len(failing) - failing_limit} more (--json has them all)")
        lines += ["", "Most common failure reasons:"]
        lines += [f"{count:>5}  {reason}" for reason, count in report.top_reasons()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the agent on the conversation corpus.")
    parser.add_argument(
        "--cases",
        type=Path,
        default=CASES_DIR,
        metavar="DIR",
        help="folder of *.yaml conversations to load (default: cases/; bench/conversations/heldout for the "
        "held-out batch)",
    )
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="run this conversation")
    parser.add_argument("--tag", help="run the conversations carrying this tag")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--list", action="store_true", help="print corpus counts and exit (runs nothing)")
    parser.add_argument("--check", action="store_true", help="exit 1 below MIN_TURN_ACCURACY or on leaks")
    parser.add_argument("--failing", type=int, default=None, help="show at most N failing turns")
    parser.add_argument("--save", type=Path, metavar="PATH", help="also write the full JSON report to PATH")
    args = parser.parse_args(argv)
    if not args.cases.is_dir():
        print(f"score.py: --cases {args.cases} is not a folder", file=sys.stderr)
        return 2
    try:
        conversations = select(load_corpus(args.cases), args.only, args.tag)
    except ValueError as error:
        print(f"score.py: {error}", file=sys.stderr)
        return 2
    if not conversations:
        print("score.py: no conversation matches", file=sys.stderr)
        return 2
    if args.list:
        print(corpus_counts(conversations))
        return 0
    logging.getLogger("mlagent").setLevel(logging.WARNING)
    report = score(conversations)
    full = json.dumps(report.as_dict(), indent=2, ensure_ascii=False, default=str)
    if args.save:
        args.save.write_text(full + "\n", encoding="utf-8")
    if args.json:
        print(full)
    else:
        print(render_table(report, failing_limit=args.failing))
    if args.check and (
        report.turn_accuracy < MIN_TURN_ACCURACY or report.internal_error_turns > MAX_INTERNAL_ERROR_TURNS
    ):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
