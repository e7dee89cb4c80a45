"""Planning against the dialogue state: answers to the agent's questions, follow-ups, and missing values.

``agent.llm.intents`` reads one message on its own. This module adds what the thread already established
(``agent.dialogue``): "20" after "how many classes?", "why not YOLO?" after a recommendation, "generate that",
"compare the last two runs", "run it again". It also decides when the planner must ask instead of calling a
tool with a missing or invalid value, so that no validation message ever reaches the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.dialogue.state import DialogueState, Pending
from agent.llm.intents import Intent, detect_intents, is_small_talk
from agent.understanding import core_intent_hints, detect_language, normalise

_WHY_NOT = re.compile(
    r"\b(?:why not|what about|how about|wouldn'?t|would|isn'?t|is|instead of|rather than|compared? (?:to|with)|"
    r"vs\.?|versus|why (?:didn'?t|did ?n'?t) you (?:pick|choose|recommend|suggest))\s+(?:an?\s+|the\s+)?"
    r"([A-Za-z][\w.+-]*(?:[ -][A-Za-z0-9][\w.+-]*){0,2})",
    re.IGNORECASE,
)
_INSTEAD = re.compile(r"\b([A-Za-z][\w.+-]*(?:[ -][A-Za-z0-9][\w.+-]*){0,2})\s+instead\b", re.IGNORECASE)
_REFERS_BACK = re.compile(
    r"\b(?:it|that|this|those|the (?:top|first|best|recommended|winning) (?:one|pick|choice|option)|"
    r"your (?:top )?(?:pick|choice|suggestion|recommendation)|the same)\b",
    re.IGNORECASE,
)
_COMPARE_RUNS = re.compile(
    r"\bcompare\b[^.?!]*\b(?:runs?|experiments?|attempts?|last two|both|them)\b|\blast two runs\b"
    r"|\bdiff(?:erence)? between (?:the )?(?:last )?(?:two )?runs\b",
    re.IGNORECASE,
)
_RUN_AGAIN = re.compile(
    r"\b(?:run|train|smoke[- ]?test|try)\b[^.?!]*\bagain\b|\bre-?run\b|\bonce more\b", re.IGNORECASE
)
_GENERATE_REFERENCE = re.compile(
    r"\b(?:generate|write|build|create|make|scaffold|code(?: up)?|implement)\b\s+(?:me\s+)?(?:it|that|this|one|"
    r"the (?:top|first|best|recommended|winning|second)\b|your (?:top )?(?:pick|choice|suggestion)|the same)",
    re.IGNORECASE,
)
_EXPERIMENT_ID = re.compile(r"\bexp-[0-9a-f]{6,}\b", re.IGNORECASE)
_GENERATABLE_TASKS = {"classification", "segmentation", "detection"}
_NEEDS_CLASSES = {"classification", "segmentation", "detection", "instance_segmentation"}
_TASK_QUESTION = (
    "Which kind of model should I write: **image classification** (a label per image), **semantic "
    "segmentation** (a class per pixel) or **object detection** (boxes)?"
)


@dataclass
class Ask:
    """The planner asks the user for a value instead of calling a tool without it."""

    question: str
    pending: Pending


@dataclass
class Say:
    """The planner answers directly (no tool computes this), e.g. an honest limit."""

    text: str


@dataclass
class Plan:
    """What to do this turn: tool calls in order, or a question, or a direct answer; plus a preface."""

    intents: list[Intent] = field(default_factory=list)
    ask: Ask | None = None
    say: Say | None = None
    preface: str = ""


def _alternative_named(text: str) -> str | None:
    match = _WHY_NOT.search(text) or _INSTEAD.search(text)
    if not match:
        return None
    name = match.group(1).strip(" ?.!,")
    name = re.sub(r"\s+(?:instead|then|here|there|for this|for that|model|models)$", "", name, flags=re.I)
    return name or None


def _why_not(text: str, dialogue: DialogueState) -> Plan | None:
    if dialogue.recommendation is None:
        return None
    name = _alternative_named(text)
    if name is None:
        return None
    from knowledge import load_knowledge
    from tools.alternatives import find_architecture

    kb = load_knowledge()
    words = name.split()
    for size in range(len(words), 0, -1):  # "yolo v8 then" -> "yolo v8" -> "yolo"
        candidate = " ".join(words[:size])
        if find_architecture(candidate, kb, dialogue.recommendation.task) is not None:
            name = candidate
            break
    else:
        # An unknown name gets an honest "not in my knowledge base" only when the question is plainly about
        # an alternative; "write me a classifier instead" is a new request, not a comparison.
        if not re.match(r"\s*(?:why not|what about|how about)\b", text, re.IGNORECASE):
            return None
        name = words[0]
    args = {"task": dialogue.recommendation.task, "alternative": name, "constraints": _constraints(dialogue)}
    return Plan([Intent("recommend_architecture", args)])


def _constraints(dialogue: DialogueState) -> dict[str, object]:
    keys = ("num_classes", "image_size", "dataset_size", "latency_ms", "device", "imbalanced", "commercial")
    return {key: dialogue.spec[key] for key in keys if dialogue.spec.get(key) is not None}


def _complete_generate(intent: Intent, text: str, dialogue: DialogueState, plan: Plan) -> Ask | Say | None:
    """Fill a generate call from the thread; say what is missing or impossible instead of failing."""
    args = intent.args
    rec = dialogue.recommendation
    if rec is not None and (_REFERS_BACK.search(text) or "task" not in args):
        args.setdefault("task", rec.task)
        choice = rec.top_generatable()
        if args["task"] == rec.task and "backbone" not in args and choice is not None and choice.backbone:
            args["backbone"] = choice.backbone
            if rec.ranked and rec.ranked[0].name != choice.name:
                plan.preface = (
                    f"My top pick, {rec.ranked[0].name}, is not something I can generate; the best-ranked "
                    f"option I can write is **{choice.name}** with `{choice.backbone}`, so I used that."
                )
        elif args["task"] == rec.task and choice is None and rec.ranked:
            plan.preface = (
                f"Note: none of my ranked picks ({', '.join(c.name for c in rec.ranked[:3])}) is something the "
                f"generator can write, so this is its torchvision {rec.task} template; treat it as a baseline "
                "to compare the recommended models against."
            )
    for key in ("task", "num_classes", "image_size", "backbone", "package"):
        if key not in args and dialogue.spec.get(key) is not None:
            if key == "backbone" and dialogue.spec.get("task") != args.get("task"):
                continue
            args[key] = dialogue.spec[key]
    if dialogue.spec.get("multi_label") and args.get("task") == "classification":
        return Say(
            "You described **multi-label** classification (an image can carry several tags). The generator "
            "writes single-label projects only (softmax + cross-entropy, one class per image), and I won't hand "
            "you one of those as if it fitted. For multi-label, use one sigmoid output per tag with "
            "`nn.BCEWithLogitsLoss` (`pos_weight` for rare tags), `torchmetrics` `MultilabelF1Score` / "
            "`MultilabelAveragePrecision` with `num_labels`, a per-tag decision threshold tuned on validation, "
            "and a split that keeps rare tag combinations in every split (iterative stratification)."
        )
    task = args.get("task")
    if task is None:
        return Ask(_TASK_QUESTION, Pending(tool="generate_project", slot="task", args=dict(args)))
    if task not in _GENERATABLE_TASKS:
        return None  # the tool says plainly what it supports
    if task in _NEEDS_CLASSES and args.get("num_classes") is None:
        kind = {"detection": "object classes", "segmentation": "classes (including background)"}.get(
            task, "classes"
        )
        question = f'How many {kind} should the {task} model predict? (for example "10" or "with 10 classes")'
        return Ask(question, Pending(tool="generate_project", slot="num_classes", args=dict(args)))
    return None


_LANGUAGE_NAMES = {"de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese"}


def _from_language_hints(text: str, code_available: bool) -> Plan:
    """Core requests in another language: act on the understood intent and say so, in English."""
    from agent.llm.intents import extract_generate_args, extract_steps

    hints = core_intent_hints(text)
    language = _LANGUAGE_NAMES.get(detect_language(text), "another language")
    intents: list[Intent] = []
    for hint in hints:
        if hint in {"review", "fix"} and code_available:
            intents = [Intent("review_code", {"fix": True} if hint == "fix" else {})]
        elif hint == "generate":
            intents = [Intent("generate_project", extract_generate_args(text))]
        elif hint == "recommend":
            intents = [Intent("recommend_architecture", {"question": text})]
        elif hint == "smoke_run" and code_available:
            steps = extract_steps(text)
            intents = [Intent("smoke_run", {"steps": steps} if steps else {})]
        elif hint == "export" and code_available:
            intents = [Intent("export_onnx", {})]
        if intents:
            break
    if not intents:
        return Plan()
    understood = {
        "review_code": "a review of your code",
        "generate_project": "a generated project",
        "recommend_architecture": "an architecture recommendation",
        "smoke_run": "a short training run in the sandbox",
        "export_onnx": "an ONNX export check",
    }[intents[0].tool]
    return Plan(
        intents,
        preface=f"_I read your message ({language}) as a request for {understood}; I answer in English._",
    )


def plan_turn(
    prose: str, dialogue: DialogueState, *, has_code_in_message: bool, has_code_in_thread: bool
) -> Plan:
    """The turn's plan from the message (code removed) and the dialogue state."""
    text = normalise(prose.strip())
    if dialogue.resume:
        plan = Plan([Intent(str(dialogue.resume["tool"]), dict(dialogue.resume.get("args") or {}))])
    elif (why := _why_not(text, dialogue)) is not None:
        return why
    elif _COMPARE_RUNS.search(text) and not has_code_in_message:
        ids = _EXPERIMENT_ID.findall(text) or dialogue.runs[-2:]
        return Plan([Intent("compare_experiments", {"ids": ids})])
    elif _RUN_AGAIN.search(text) and (has_code_in_thread or has_code_in_message):
        return Plan([Intent("smoke_run", {})])
    else:
        plan = Plan(
            detect_intents(
                text, has_code_in_message=has_code_in_message, has_code_in_thread=has_code_in_thread
            )
        )
        if not plan.intents and detect_language(text) != "en":
            plan = _from_language_hints(text, has_code_in_message or has_code_in_thread)
        if (
            not plan.intents
            and _GENERATE_REFERENCE.search(text)
            and (dialogue.recommendation is not None or dialogue.spec.get("task"))
        ):
            plan.intents = [Intent("generate_project", {})]
        if not plan.intents and not is_small_talk(text) and len(text.split()) >= 2:
            # Not a request for a tool: a question for the knowledge base, which says when nothing fits.
            plan.intents = [Intent("answer_question", {"question": text})]
    for intent in plan.intents:
        if intent.tool == "compare_experiments":
            intent.args["ids"] = _EXPERIMENT_ID.findall(text) or intent.args.get("ids") or dialogue.runs[-2:]
        if intent.tool == "generate_project":
            blocked = _complete_generate(intent, text, dialogue, plan)
            if isinstance(blocked, Ask):
                return Plan(ask=blocked)
            if isinstance(blocked, Say):
                return Plan(say=blocked)
    return plan
