"""Planning against the dialogue state: answers to the agent's questions, follow-ups, and missing values.

``agent.llm.intents`` reads one message on its own. This module adds what the thread already established
(``agent.dialogue``): "20" after "how many classes?", "why not YOLO?" after a recommendation, "generate that",
"compare the last two runs", "run it again". It also decides when the planner must ask instead of calling a
tool with a missing or invalid value, so that no validation message ever reaches the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.dialogue.state import DialogueState, Pending, RankedChoice, Recommendation
from agent.llm.intents import Intent, detect_intents, is_small_talk
from agent.understanding import core_intent_hints, detect_language, normalise, parse_slots
from agent.understanding.fuzzy import DOMAIN_VOCABULARY
from agent.understanding.gloss import gloss, has_cjk
from agent.understanding.text import wordset

_WHY_NOT = re.compile(
    r"\b(?:why not|what about|how about|por qu[eé] no|porque n[aã]o|por que n[aã]o|pourquoi pas|warum nicht|"
    r"perch[eé] non|wouldn'?t|would|isn'?t|is|instead of|rather than|compared? (?:to|with)|"
    r"vs\.?|versus|why (?:didn'?t|did ?n'?t) you (?:pick|choose|recommend|suggest))\s+(?:an?\s+|the\s+)?"
    r"([A-Za-z][\w.+-]*(?:[ -][A-Za-z0-9][\w.+-]*){0,2})",
    re.IGNORECASE,
)
_WHY_NOT_OPENER = re.compile(
    r"\W*(?:y\s+|e\s+|et\s+|und\s+|and\s+|but\s+|so\s+)?(?:why not|what about|how about|por qu[eé] no|porque n[aã]o|"
    r"por que n[aã]o|pourquoi pas|warum nicht|perch[eé] non|waarom niet|dlaczego nie)\b",
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
    r"|\b(?:compare|vergleiche?|compar[ae]r?)\b[^?!]*\bexp-[0-9a-f]{6,}"
    r"|\bdiff(?:erence)? between (?:the )?(?:last )?(?:two )?runs\b",
    re.IGNORECASE,
)
_RUN_AGAIN = re.compile(
    r"\b(?:run|train|smoke[- ]?test|try)\b[^.?!]*\bagain\b|\bre-?run\b|\bonce more\b", re.IGNORECASE
)
_GENERATE_REFERENCE = re.compile(
    r"\b(?:generate|write|build|create|make|scaffold|code(?: up)?|implement)\b\s+(?:me\s+)?(?:it|that|this|one|"
    r"the (?:top|first|best|recommended|winning|second)\b|your (?:top )?(?:pick|choice|suggestion)|the same"
    r"|(?:the one|what|the model|the architecture) (?:you|u) (?:picked|chose|recommended|suggested|proposed))"
    r"|\bgo ahead\b|\bgo with (?:your|the) (?:best|top|first|recommended)\b"
    r"|\b(?:best|top) (?:option|one|pick|choice) (?:that )?(?:you|u) can (?:actually |really )?(?:write|generate|build|code)",
    re.IGNORECASE,
)
_EXPERIMENT_ID = re.compile(r"\bexp-[0-9a-f]{6,}\b", re.IGNORECASE)
_GENERATABLE_TASKS = {
    "classification",
    "segmentation",
    "detection",
    "multi_label",
    "regression",
    "instance_segmentation",
}
# Regression is not here: it predicts one number unless the user says how many.
_NEEDS_CLASSES = {"classification", "segmentation", "detection", "instance_segmentation", "multi_label"}
_TASK_QUESTION = (
    "Which kind of model should I write: **image classification** (a label per image), **multi-label "
    "classification** (several tags per image), **regression** (a number per image), **semantic "
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
    # "why not just YOLO?", "warum nicht gleich U-Net?": filler words before the name.
    name = re.sub(
        r"^(?:(?:just|simply|plain|directly|a|an|the|use|using|gleich|einfach|direkt|ein|eine|einen|simplement|"
        r"juste|un|une|le|la|solo|simplemente|usar|apenas|um|uma|semplicemente|usare)\s+)+",
        "",
        name,
        flags=re.I,
    )
    name = re.sub(r"\s+(?:instead|then|here|there|for this|for that|model|models)$", "", name, flags=re.I)
    return name or None


def _why_not(text: str, dialogue: DialogueState) -> Plan | None:
    # After a recommendation, X is compared with its ranking; after a generated project ("why not U-Net?" about
    # the DeepLabV3 project), with the recommender's pick for the project's task.
    if dialogue.recommendation is not None:
        task = dialogue.recommendation.task
    elif dialogue.has_project and dialogue.spec.get("task") and _WHY_NOT_OPENER.match(text):
        task = str(dialogue.spec["task"])  # "use X instead" about a project is a change, not a comparison
    else:
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
        if find_architecture(candidate, kb, task) is not None:
            name = candidate
            break
    else:
        # An unknown name gets an honest "not in my knowledge base" only when the question is plainly about
        # an alternative; "write me a classifier instead" is a new request, not a comparison.
        if not _WHY_NOT_OPENER.match(text):
            return None
        name = words[0]
    args = {"task": task, "alternative": name, "constraints": _constraints(dialogue)}
    return Plan([Intent("recommend_architecture", args)])


_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
_ORDINAL_REFERENCE = re.compile(
    r"\b(?:the )?(first|1st|second|2nd|third|3rd|fourth|4th) (?:one|option|pick|choice|model|architecture|"
    r"suggestion|alternative|candidate)\b|\b(?:option|number|#)\s?([1-4])\b",
    re.IGNORECASE,
)


def _ranked_reference(text: str, dialogue: DialogueState) -> Plan | None:
    """ "tell me more about the second one": that entry of the last ranking, compared with the top pick."""
    rec = dialogue.recommendation
    match = _ORDINAL_REFERENCE.search(text)
    if rec is None or match is None or not rec.ranked:
        return None
    if re.search(r"\b(?:generate|write|build|create|scaffold|code up|implement)\b", text, re.IGNORECASE):
        return None  # "generate the second one" is a request for code
    index = _ORDINALS[match.group(1).lower()] if match.group(1) else int(match.group(2)) - 1
    if index >= len(rec.ranked):
        return None
    args = {"task": rec.task, "alternative": rec.ranked[index].name, "constraints": _constraints(dialogue)}
    return Plan([Intent("recommend_architecture", args)])


_SUPERLATIVE = re.compile(
    r"\b(?:which|what)(?: one| model| architecture)?(?: of (?:those|them|these|the \w+))? (?:is|would be|'s|runs?)"
    r"(?: the)? (?P<what>fastest|quickest|lightest|smallest|cheapest|slowest|heaviest|biggest|largest)\b"
    r"|\b(?P<what2>fastest|quickest|lightest|smallest|cheapest) (?:one|option|model) (?:of|among|in) (?:those|them|these|the list)\b",
    re.IGNORECASE,
)


def _superlative_in_ranking(text: str, dialogue: DialogueState) -> Plan | None:
    """ "which one is fastest of those?": read off the last ranking's own latency/compute estimates."""
    rec = dialogue.recommendation
    match = _SUPERLATIVE.search(text)
    if rec is None or match is None or not rec.ranked:
        return None
    word = (match.group("what") or match.group("what2")).lower()
    timed = [c for c in rec.ranked if c.estimated_latency_ms is not None or c.estimated_gflops is not None]
    if not timed:
        return None
    largest_first = word in {"slowest", "heaviest", "biggest", "largest"}
    order = sorted(
        timed,
        key=lambda c: (c.estimated_latency_ms or 0.0, c.estimated_gflops or 0.0),
        reverse=largest_first,
    )

    def figure(choice: RankedChoice) -> str:
        parts = []
        if choice.estimated_latency_ms is not None:
            parts.append(
                f"~{choice.estimated_latency_ms:g} ms" + (f" on {choice.device}" if choice.device else "")
            )
        if choice.estimated_gflops is not None:
            parts.append(f"{choice.estimated_gflops:g} GFLOPs")
        backbone = f" ({choice.backbone})" if choice.backbone else ""
        return f"**{choice.name}**{backbone}: " + ", ".join(parts)

    lines = "\n".join(f"{n}. {figure(c)}" for n, c in enumerate(order, start=1))
    best = order[0]
    note = (
        f"Of the models I ranked, the {word} is **{best.name}**, by the recommender's estimates "
        f"(per image at the ranking's input size; rough: measure on your own hardware):\n\n{lines}"
    )
    if best is not rec.ranked[0] and not largest_first:
        note += (
            f"\n\nMy top pick overall is still **{rec.ranked[0].name}**: speed was one factor of its score."
        )
    return Plan(say=Say(note))


def _constraints(dialogue: DialogueState) -> dict[str, object]:
    keys = ("num_classes", "image_size", "dataset_size", "latency_ms", "device", "imbalanced", "commercial")
    return {key: dialogue.spec[key] for key in keys if dialogue.spec.get(key) is not None}


def _use_ranked_choice(args: dict[str, Any], rec: Recommendation, plan: Plan) -> None:
    """ "Generate that": the best-ranked choice the generator writes, else the closest one to the top pick.

    Says so whenever what is built is not the top pick, with the reason (licence, dependency) the recommender gave.
    """
    choice = rec.top_generatable()
    top = rec.ranked[0] if rec.ranked else None
    if choice is not None and (choice.generate_architecture or choice.backbone):
        if choice.generate_architecture:
            args["architecture"] = choice.generate_architecture
        backbone = choice.generate_backbone or (None if choice.generate_architecture else choice.backbone)
        if backbone:
            args["backbone"] = backbone
        if top is not None and top.name != choice.name:
            # The reason names the closest architecture; it reads right only when that is what gets built.
            closest = top.closest_reason and top.closest_architecture == choice.generate_architecture
            why = f" ({top.closest_reason})" if closest else ""
            built = f"`{choice.generate_architecture}`" if choice.generate_architecture else choice.name
            plan.preface = (
                f"My top pick, {top.name}, is not something I can generate{why}; the best-ranked option I can "
                f"write is **{choice.name}** ({built}"
                + (f" on `{backbone}`" if backbone else "")
                + "), so I used that."
            )
        return
    if top is not None and top.closest_architecture:
        args["architecture"] = top.closest_architecture
        plan.preface = (
            f"I can't generate my top pick, {top.name}: {top.closest_reason}. This is the closest I can write, "
            f"**{top.closest_architecture}**."
        )
        return
    if rec.ranked:
        plan.preface = (
            f"Note: none of my ranked picks ({', '.join(c.name for c in rec.ranked[:3])}) is something the "
            f"generator can write, so this is its torchvision {rec.task} template; treat it as a baseline "
            "to compare the recommended models against."
        )


def _complete_generate(intent: Intent, text: str, dialogue: DialogueState, plan: Plan) -> Ask | Say | None:
    """Fill a generate call from the thread; say what is missing or impossible instead of failing."""
    args = intent.args
    rec = dialogue.recommendation
    weak = parse_slots(text).task
    known_task = rec.task if rec is not None else dialogue.spec.get("task")
    if weak is not None and weak.weak_task and known_task and args.get("task") == weak.value:
        args["task"] = known_task  # "generate it with 2 classes" after a segmentation recommendation
    if rec is not None and (_REFERS_BACK.search(text) or "task" not in args):
        args.setdefault("task", rec.task)
        if args["task"] == rec.task and "architecture" not in args and "backbone" not in args:
            _use_ranked_choice(args, rec, plan)
    named = "architecture" in args or "backbone" in args
    for key in ("task", "num_classes", "image_size", "architecture", "backbone", "package"):
        if key not in args and dialogue.spec.get(key) is not None:
            if key in ("backbone", "architecture") and (
                named or dialogue.spec.get("task") != args.get("task")
            ):
                continue
            args[key] = dialogue.spec[key]
    if not named:  # the thread's architecture; one the user names is resolved by the tool
        _keep_architecture_fitting(args)
    if dialogue.spec.get("multi_label") and args.get("task") in {"classification", "multilabel", None}:
        # Several tags per image: the multi-label template (sigmoid outputs, BCEWithLogitsLoss), said aloud,
        # never a single-label softmax project in its place.
        args["task"] = "multi_label"
        plan.preface = (
            "You described **multi-label** classification (an image can carry several tags), so this is a "
            "multi-label project: one sigmoid output per tag, `nn.BCEWithLogitsLoss` with a per-tag "
            "`pos_weight`, per-tag thresholds tuned on validation, `MultilabelAveragePrecision`/`F1Score`."
        )
    if args.get("task") in _TASK_IDS:
        args["task"] = _TASK_IDS[args["task"]]
    if args.get("task") == "tiny_object_detection":
        # No separate template: the detector, trained at a high input size or on tiles (said aloud).
        args["task"] = "detection"
        plan.preface = (
            "Small objects: this is the detection project. Train it at a high input size (`image_size`) or on "
            "overlapping tiles so the objects keep enough pixels; downscaling the frames makes them vanish."
        )
    task = args.get("task")
    if task is None:
        return Ask(_TASK_QUESTION, Pending(tool="generate_project", slot="task", args=dict(args)))
    if task not in _GENERATABLE_TASKS:
        from knowledge import load_knowledge

        known = load_knowledge().task(_TASK_IDS.get(str(task), str(task)))
        if known is not None or task in _NOT_GENERATABLE_NAMES:
            # "generate a pose estimation project": no template, so what the knowledge base knows about the task,
            # said as such, instead of a generator error about classes.
            name = known.name if known is not None else _NOT_GENERATABLE_NAMES[str(task)]
            intent.tool, intent.args = "answer_question", {"question": f"{text} ({name})"}
            label = name if name[:2].isupper() or name[0].isdigit() else name[0].lower() + name[1:]
            plan.preface = (
                f"I can't generate a {label} project: the code generator has templates for classification, "
                "multi-label, regression, detection, semantic and instance segmentation only. Here is what I know "
                "about the task; I can also recommend an approach or review code you write for it."
            )
        return None  # otherwise the tool says plainly what it supports
    if task in _NEEDS_CLASSES and args.get("num_classes") is None:
        kind = {
            "detection": "object classes",
            "instance_segmentation": "object classes (without background)",
            "segmentation": "classes (including background)",
            "multi_label": "labels (tags)",
        }.get(task, "classes")
        label = task.replace("_", "-")
        question = (
            f'How many {kind} should the {label} model predict? (for example "10" or "with 10 classes")'
        )
        return Ask(question, Pending(tool="generate_project", slot="num_classes", args=dict(args)))
    return None


_FOREIGN_QUESTION = re.compile(
    r"^\s*(?:¿|wie|welche[rsmn]?|was|warum|wieso|soll|kann|pourquoi|comment|quel(?:le)?s?|est-ce|qu'?est|"
    r"qué|que|cómo|como|cuál|cual|por qué|puedo|come|quale|quali|perché|posso|qual|quais|porque|devo)\b",
    re.IGNORECASE,
)
_FOREIGN_CAN_YOU = re.compile(
    r"\b(?:puedes|podr[ií]as|kannst|k[öo]nntest|peux|pourrais|pouvez|podes|poderia|puoi|potresti)\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^\s*(?:(?:please|pls|ok|okay|now|then|and|also|can you|could you|can u|would you|bitte|s'il te pla[îi]t|"
    r"por favor|per favore|mi|me|peux-tu|pouvez-vous|kannst du|puedes|podes|puoi)\s+)*"
    r"(?:make|add|use|switch|set|change|enable|turn|log|freeze|clip|seed|put|replace|swap|move|train on|bump"
    # the same requests in German, French, Spanish, Portuguese and Italian ("mi aggiungi il gradient clipping")
    r"|f[üu]ge?|erg[äa]nze|verwende|benutze|nutze|stelle|setze|schalte|ajoute[rz]?|utilise[rz]?|mets|passe|active[rz]?|"
    r"a[ñn]ade|agrega|usa|pon|cambia|activa|adiciona|coloca|troca|muda|aggiungi|metti|imposta|attiva|cambia)\b",
    re.IGNORECASE,
)


def _asks_for_edit(text: str, *, code: bool = True) -> bool:
    """A request to change the code ("make it use bf16", "add early stopping"), not a review or a question."""
    from agent.llm.intents import _SMOKE
    from tools.edit import parse_instruction

    imperative = bool(_IMPERATIVE.search(text))
    if (_is_question(text) or _FOREIGN_QUESTION.search(text)) and not (code and imperative):
        return False  # "can you change my script so it logs to MLflow?" is a request, not a question
    if _SMOKE.search(text) and not imperative:
        return False  # "smoke-test it on the GPU" runs the code; "make it train on the GPU" edits it
    if not code and not imperative:
        return False
    return bool(parse_instruction(text))


_LANGUAGE_NAMES = {
    "zh": "Chinese",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
}


def _from_language_hints(text: str, code_available: bool, language_code: str) -> Plan:
    """Core requests in another language: act on the understood intent and say so, in English."""
    from agent.llm.intents import extract_generate_args, extract_steps

    hints = core_intent_hints(text)
    language = _LANGUAGE_NAMES.get(language_code, "another language")
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


_QUESTION_FORM = re.compile(
    r"[,;]\s*(?:should|shall|is|are|can|could|do|does|would|will) (?:i|we|it|you|they|that|this)\b"
    r"|\bor not\W*$"
    r"|^\W*(?:(?:and|so|but|ok(?:ay)?|also|then|btw|hmm+|well|unrelated|quick question|one more)\b\W*)*"
    r"(?:how|what|what'?s|whats|when|why|which|where|should|is|are|can|could|do|does|did|would|will|"
    r"any (?:tips|advice|idea)|best way|is it ok)\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(
    r"^\W*(?:(?:and|so|but|ok(?:ay)?|also|then|btw|unrelated)\b\W*)*(?:is|are|does|do|can|should|would|will|"
    r"isn'?t|doesn'?t)\b|[,;]\s*(?:is|are|does|do|should|would|will) (?:it|that|this|i|we)\b",
    re.IGNORECASE,
)
_HOW_TO = re.compile(
    r"\b(?:a|the) (?:good|best|right|proper|correct|standard) way to\b|\bhow (?:do|can|should|would) (?:i|we)\b",
    re.IGNORECASE,
)
_NAMES_MODEL_CHOICE = re.compile(
    r"\b(?:which|what) (?:\w+ )?(?:model|architecture|backbone|network|detector|segmenter)s?\b|"
    r"\b(?:choose|pick|select) (?:an? |the )?(?:\w+ )?(?:model|architecture|backbone|network|detector)\b",
    re.IGNORECASE,
)
_MODEL_CHOICE = re.compile(
    r"\b(?:architecture|model|backbone|network|detector|segmenter|classifier|yolo|resnet|vit)s?\b",
    re.IGNORECASE,
)
_CHOICE_WORDS = re.compile(
    r"\b(?:which|what|recommend|suggest|best|should i (?:use|pick|go with)|good choice|pick|approach|tackle|"
    r"go about|start with)\b",
    re.IGNORECASE,
)
_USE_FOR_TASK = re.compile(
    r"\b(?:what|which)(?:'s| is)? (?:good|best|should i use|do you suggest|would you use|works)\b|"
    r"\b(?:what|which)(?: (?:model|architecture|network|detector|segmenter|backbone|one)s?)? (?:would|do|should) "
    r"(?:you|i|we) (?:train|use|pick|choose|go with|recommend|start with)\b|"
    r"\bhow (?:would|should) (?:i|you|we) (?:approach|tackle|start|go about)\b",
    re.IGNORECASE,
)
_ANOMALY = re.compile(
    r"\bonly (?:have )?(?:pictures |images |photos |samples )?(?:of )?(?:good|normal|ok|defect-?free)\b|"
    r"\b(?:no|zero|without(?: any)?) (?:labell?ed )?(?:defect|anomal\w*|bad|broken|faulty|damaged)(?:ive)? ?"
    r"(?:examples?|samples?|images?|labels?|ones|pictures|photos)\b",
    re.IGNORECASE,
)
_GENERATIVE = re.compile(
    r"\b(?:gans?|diffusion|stable diffusion|text-to-image|image generation|generate (?:fake|synthetic|new|realistic) "
    r"(?:images|faces|photos|pictures))\b",
    re.IGNORECASE,
)
_NOT_GENERATABLE_NAMES = {
    "keypoints": "Keypoint / pose estimation",
    "ocr": "OCR",
    "tracking": "Multi-object tracking",
}
_TASK_IDS = {
    "segmentation_3d": "medical_3d_segmentation",
    "video_classification": "video",
    "multilabel_classification": "multi_label",
    "multilabel": "multi_label",
}
_VAGUE_TRAIN = re.compile(
    r"\b(?:train|build|make|need|want|do|try)\b[^.?!]*\b(?:model|network|net|ai|classifier|detector|"
    r"deep learning|machine learning|ml|computer vision)\b",
    re.IGNORECASE,
)
_NOT_WORKING = re.compile(
    r"^\s*(?:it'?s|its|my (?:code|model|training|script))?\s*(?:not working|doesn'?t work|does not work|broken|"
    r"crash(?:es|ed|ing)?|fails?|failing|error)\b[\s!.?]*$",
    re.IGNORECASE,
)
_PACKAGE_SWITCH = re.compile(r"\bpytorch[_ -]lightning\b|\blightning(?:\.pytorch)?\b", re.IGNORECASE)
_TASK_QUESTION_GENERAL = (
    "What should the model output? **A label per image** (classification), **boxes** (detection), **a class "
    "per pixel** (semantic segmentation), **masks per object** (instance segmentation), **keypoints**, or **a "
    "number** (regression)? Tell me roughly how many classes and images you have and where it will run."
)
_NEEDS_CODE = (
    "I need to see it to help: paste the code (a fenced ```python block is best) and the full error message or "
    "traceback, and say what you expected to happen. I can then review it and train it for a few steps in the "
    "sandbox to reproduce the problem."
)


_MAKE_IT_BETTER = re.compile(
    r"^\W*(?:my (?:model|code|training|results?|accuracy) (?:is|are|sucks?|looks?) ?(?:bad|terrible|poor|awful|"
    r"not good|meh)?\W*)?(?:(?:please |pls )?(?:make it|make them|help me make it) better|improve it|fix it)\W*$"
    r"|^\W*my (?:model|results?) (?:is|are) (?:bad|terrible|poor|awful|not good)\W*$",
    re.IGNORECASE,
)
_NEEDS_DETAILS = (
    "Happy to help; I need a bit more to go on. What task is it (classification, detection, segmentation), which "
    "metric are you looking at and how bad is it on train vs validation? If you can, paste the code (a fenced "
    "```python block) so I can review it."
)
_GAP_METRIC = re.compile(r"\b(?:map\w*|acc\w*|f1|iou|miou|dice|auc\w*|loss|error)\b", re.IGNORECASE)
_GAP_SPLITS = (re.compile(r"\b(?:val\w*|test\w*)\b", re.I), re.compile(r"\btrain\w*\b", re.I))


def _train_val_gap(text: str) -> bool:
    """ "mAP50 is 0.31 on val but 0.9 on train": a metric on both splits, i.e. a diagnosis question."""
    numbers = re.findall(r"\d+(?:\.\d+)?%?", text)
    return (
        len(numbers) >= 2
        and bool(_GAP_METRIC.search(text))
        and all(pattern.search(text) for pattern in _GAP_SPLITS)
        and not re.search(r"\b(?:images|samples|photos|pictures)\b", text, re.IGNORECASE)
    )


def _vague_training_request(text: str, dialogue: DialogueState) -> bool:
    """ "I want to train a model on my images": no task anywhere, so the useful answer is a question."""
    if is_small_talk(text) or _is_question(text) or not _VAGUE_TRAIN.search(text):
        return False
    return not parse_slots(text).task and not dialogue.spec.get("task")


def _fully_specified(text: str) -> bool:
    """Task, number of classes and a concrete backbone or generatable architecture are all stated, and no
    model choice is asked for ("Mask R-CNN for 4 classes at 512 px" leaves nothing to recommend)."""
    from tools.codegen.architectures import find_architecture

    if _is_question(text):
        return False
    args = parse_slots(text).generate_args()
    if not {"task", "num_classes"} <= set(args):
        return False
    named = args.get("architecture")
    return "backbone" in args or (named is not None and find_architecture(args["task"], named) is not None)


def _describes_project(text: str) -> bool:
    """A statement of a project's facts ("4 kinds of scratches, runs on a jetson"): a recommendation's input."""
    if is_small_talk(text) or _is_question(text):
        return False
    values = parse_slots(text).values()
    keys = ("num_classes", "dataset_size", "device_target", "latency_ms", "throughput_fps", "object_size_px")
    return any(key in values for key in keys)


def _is_question(text: str) -> bool:
    return bool(_QUESTION_FORM.search(text) or _HOW_TO.search(text)) or text.rstrip().endswith("?")


def _wants_model_choice(text: str) -> bool:
    if _USE_FOR_TASK.search(text):
        return True
    if _HOW_TO.search(text) and not _NAMES_MODEL_CHOICE.search(text):
        return False  # "what's a good way to pick the threshold for my classifier?" asks for practice
    if _MODEL_CHOICE.search(text) and _CHOICE_WORDS.search(text):
        return True
    # A project description ("1024x1024 images, ~800 labelled, detect solder defects, 3 classes, what model?"),
    # but not a yes/no question about a technique or a setting ("is label smoothing worth it for a 50 class
    # classifier?", "for faster rcnn with 3 object types, is num_classes 3 or 4?").
    if _YES_NO.search(text) or re.search(r"\bnum_classes\b", text):
        return False
    slots = parse_slots(text).values()
    described = [
        key
        for key in ("num_classes", "dataset_size", "device_target", "latency_ms", "image_size")
        if key in slots
    ]
    return bool(slots.get("task") and described)


def knowledge_task(text: str, dialogue: DialogueState | None = None) -> str | None:
    """The knowledge base's task id a message is about (slot parser, then anomaly/tiny-object signals)."""
    from knowledge import load_knowledge

    slots = parse_slots(text)
    if _ANOMALY.search(text):
        return "anomaly_detection"
    name = slots.task.value if slots.task else None
    if slots.task is not None and slots.task.weak_task and dialogue and dialogue.spec.get("task"):
        name = str(dialogue.spec["task"])  # "3 classes" counts classes of the task already under discussion
    if slots.tiny_objects and name in (None, "detection"):
        return "tiny_object_detection"
    if slots.multi_label is not None and slots.multi_label.value and name in (None, "classification"):
        name = "multi_label"  # "any of 9 findings at once (or none)": several labels per image
    if name is None:
        return None
    task = load_knowledge().task(_TASK_IDS.get(name, name))
    return task.id if task else None


_STOP = wordset(
    """a an the and or but so then also it its it's that this those these there them they i me my we our you
    your u to of in on at for with about how what which when why where who would could should can do does did is
    are was were be been will shall may might must any some more other else too very just really actually
    instead either y und et e ok okay hmm well please pls thanks"""
)


def _content_words(text: str) -> list[str]:
    return [word for word in re.findall(r"[a-z0-9][\w.+-]*", text.lower()) if word not in _STOP]


def _with_context(text: str, dialogue: DialogueState) -> str:
    """A follow-up question ("which metric for that?") with the thread's task made explicit for retrieval.

    A very short follow-up of a general question ("how would I measure it?", "and on a V100?") says too little
    on its own; it is read with the question it follows, which may lie two turns back.
    """
    if dialogue.topic and len(_content_words(text)) <= 2 and dialogue.topic not in text:
        return f"{text} (context: {dialogue.topic})"
    task = dialogue.spec.get("task")
    if task and _REFERS_BACK.search(text) and not parse_slots(text).task:
        label = (
            "multi-label classification" if dialogue.spec.get("multi_label") else str(task).replace("_", " ")
        )
        return f"{text} (task: {label})"
    return text


_AND_FOR = re.compile(
    r"^\W*(?:and|et|y|und|e|but)\s+(?:(?:what|how) about|for|pour|para|f[üu]r|per|if (?:i|we) want to|to)\b",
    re.IGNORECASE,
)


def _refine_recommendation(text: str, dialogue: DialogueState) -> Intent | None:
    """ "it has to run on a jetson nano", "we only have 200 images": the same recommendation, new constraints."""
    changes = re.search(
        r"\b(?:does|would|will) (?:that|this|it) change\b|^\W*(?:(?:and|but|ok|so)\s+)?(?:what )?if (?:we|i|they|it|the model|this|that)\b",
        text,
        re.IGNORECASE,
    )
    if (
        dialogue.recommendation is None
        or dialogue.has_project
        or (
            _is_question(text) and not _wants_model_choice(text) and not changes and not _AND_FOR.search(text)
        )
    ):
        return None
    if re.search(r"\b(?:generate|write|create|build|scaffold|code up|implement)\b", text, re.IGNORECASE):
        return None  # a request for code, not a new constraint
    if "generate" in core_intent_hints(text):
        return None  # the same, in another language ("Gera o projeto com 2 classes")
    values = parse_slots(text).values()
    if _AND_FOR.search(text) and values.get("task") and values["task"] != dialogue.recommendation.task:
        # "et pour segmenter la route dans les mêmes images ?": the same question for another task.
        task = knowledge_task(text, dialogue) or str(values["task"])
        return Intent("recommend_architecture", {"task": task, "constraints": _constraints(dialogue)})
    keys = (
        "num_classes",
        "dataset_size",
        "device_target",
        "latency_ms",
        "image_size",
        "throughput_fps",
        "realtime",
    )
    commercial = re.search(r"closed[- ]source|commercial|proprietary|sell (?:it|this)", text, re.IGNORECASE)
    if (
        not any(key in values for key in keys)
        and not commercial
        and not (values.get("task") and len(text.split()) > 3)
    ):
        return None
    task = knowledge_task(text, dialogue) or dialogue.recommendation.task
    return Intent("recommend_architecture", {"task": task, "constraints": _constraints(dialogue)})


_FAMILY_DEFAULT = {
    "mobilenet": "mobilenet_v3_large",
    "efficientnet": "efficientnet_b0",
    "convnext": "convnext_tiny",
    "resnet": "resnet50",
    "regnet": "regnet_y_400mf",
}


_SAME_AT_SIZE = re.compile(
    r"^\W*(?:ok\W+)?(?:same|the same|same thing|same again|again|lo mismo|la m[êe]me chose|pareil|dasselbe|"
    r"das gleiche|gleiche|stessa cosa|lo stesso|a mesma coisa|mesma coisa)\b[^.?!]{0,25}?\b(?:at|@|in|a|à|en|bei|mit|con|com)\s+\d{2,4}\b",
    re.IGNORECASE,
)


def _refine_project(text: str, dialogue: DialogueState) -> Intent | None:
    """ "bump it to 160", "same but on resnet50", "use pytorch-lightning instead": regenerate with the change."""
    if not dialogue.has_project or _is_question(text):
        return None
    from agent.dialogue.reading import message_slots

    slots = message_slots(text)
    stated = {k: v for k, v in slots.items() if k in {"image_size", "backbone", "num_classes"}}
    parsed = parse_slots(text)
    if parsed.task is not None and parsed.task.weak_task:
        slots.pop("task", None)  # "actually 21 classes" counts classes for the current task
    if slots.get("task") and re.search(
        r"\b(?:same|instead|switch|now|but|not|actually|rather|make it|change|redo|regenerate)\b|^\W*no\b",
        text,
        re.IGNORECASE,
    ):
        stated["task"] = slots["task"]
    family = parsed.values().get("backbone")
    if "backbone" not in stated and family in _FAMILY_DEFAULT:
        # "regenerate with a mobilenet backbone": the family's usual member (the reply names it).
        stated["backbone"] = _FAMILY_DEFAULT[family]
    numbers = re.findall(r"\b(\d{1,4})\b", text)
    if not stated and len(numbers) == 1 and _SAME_AT_SIZE.search(text) and 64 <= int(numbers[0]) <= 2048:
        stated["image_size"] = int(numbers[0])  # "same thing at 384", "lo mismo pero a 384"
    if (
        not stated
        and re.search(
            r"\b(?:images?|size|resolution|px|input|bildgr(?:ö|oe)(?:ß|ss)e|gr(?:ö|oe)(?:ß|ss)e|taille|tama(?:ñ|n)o|aufl(?:ö|oe)sung|dimensione)\b|\bbump\b",
            text,
            re.I,
        )
        and numbers
    ):
        stated["image_size"] = int(numbers[-1])
    package = _PACKAGE_SWITCH.search(text)
    if package and re.search(r"\b(?:use|switch|instead|with|on)\b", text, re.IGNORECASE):
        stated["package"] = "pytorch_lightning" if "pytorch" in package.group(0).lower() else "lightning"
    if (
        not stated
        and len(numbers) == 1
        and re.search(r"\b(?:class(?:es)?|categor\w+|labels?|types?)\b", text, re.IGNORECASE)
    ):
        stated["num_classes"] = int(numbers[0])  # "actually make it 21, forgot the 'other' class"
    if not stated:
        return None
    args = {
        k: dialogue.spec[k]
        for k in ("task", "num_classes", "image_size", "architecture", "backbone")
        if dialogue.spec.get(k)
    }
    if dialogue.spec.get("package"):
        args["package"] = dialogue.spec["package"]
    args.update(stated)
    _keep_architecture_fitting(args)
    return Intent("generate_project", args)


def _keep_architecture_fitting(args: dict[str, Any]) -> None:
    """Regenerating keeps the thread's architecture ("deeplabv3 ... now at 512 px") unless the task changed or the
    new backbone does not fit it ("use efficientnet_b0 instead" after DeepLabV3: the task's default for it)."""
    from tools.codegen.architectures import find_architecture

    name = args.get("architecture")
    if not name:
        return
    row = find_architecture(str(args.get("task") or ""), str(name))
    if row is None or (args.get("backbone") and args["backbone"] not in row.backbone_choices()):
        args.pop("architecture")


def plan_turn(
    prose: str, dialogue: DialogueState, *, has_code_in_message: bool, has_code_in_thread: bool
) -> Plan:
    """The turn's plan from the message (code removed) and the dialogue state."""
    language = "zh" if has_cjk(prose) else detect_language(prose)
    text = normalise(gloss(prose.strip()))
    code = has_code_in_message or has_code_in_thread
    if dialogue.resume:
        plan = Plan([Intent(str(dialogue.resume["tool"]), dict(dialogue.resume.get("args") or {}))])
    elif (why := _why_not(text, dialogue)) is not None:
        return why
    elif (ranked := _ranked_reference(text, dialogue)) is not None:
        return ranked
    elif (fastest := _superlative_in_ranking(text, dialogue)) is not None:
        return fastest
    elif _COMPARE_RUNS.search(text) and not has_code_in_message:
        ids = _EXPERIMENT_ID.findall(text) or dialogue.runs[-2:]
        return Plan([Intent("compare_experiments", {"ids": ids})])
    elif code and _asks_for_edit(text):
        return Plan([Intent("edit_code", {"instruction": text})])
    elif _RUN_AGAIN.search(text) and code:
        from agent.llm.intents import extract_steps

        steps = extract_steps(text)
        return Plan([Intent("smoke_run", {"steps": steps} if steps else {})])
    elif (refined := _refine_project(text, dialogue)) is not None:
        plan = Plan([refined])
    elif _GENERATIVE.search(text) and not code:
        return Plan([Intent("answer_question", {"question": text})])
    elif (again := _refine_recommendation(text, dialogue)) is not None:
        return Plan([again])
    elif _CHECKLIST_OVERVIEW.search(text):
        return Plan(say=Say(_checklist_overview()))
    elif not code and _NOT_WORKING.search(text):
        return Plan(say=Say(_NEEDS_CODE))
    elif not code and _MAKE_IT_BETTER.search(text):
        return Plan(say=Say(_NEEDS_DETAILS))
    elif not code and _train_val_gap(text):
        return Plan(
            [Intent("answer_question", {"question": f"{text} (train vs validation gap: overfitting?)"})]
        )
    else:
        plan = Plan(detect_intents(text, has_code_in_message=has_code_in_message, has_code_in_thread=code))
        plan = _prefer_knowledge_for_questions(plan, text, code)
        if not code and _ANOMALY.search(text) and any(i.tool == "generate_project" for i in plan.intents):
            # "only good parts, zero defect examples, how do I build a defect detector?": no detector template
            # fits a task without defect labels; the advice for anomaly detection does.
            plan = Plan([Intent("recommend_architecture", {"question": text})])
        if language != "en":
            hinted = _from_language_hints(text, code, language)
            tools = [i.tool for i in hinted.intents]
            # A question in another language is a request when it asks for a model choice ("Quel modèle me
            # conseilles-tu ...?") or asks the agent to act ("¿puedes entrenarlo ...?", "puoi correggerlo?").
            asks_to_act = not _FOREIGN_QUESTION.search(text) or (
                bool(tools) and (tools == ["recommend_architecture"] or bool(_FOREIGN_CAN_YOU.search(text)))
            )
            if tools and asks_to_act and tools != [i.tool for i in plan.intents]:
                plan = hinted
        if (
            not plan.intents
            and _GENERATE_REFERENCE.search(text)
            and (dialogue.recommendation is not None or dialogue.spec.get("task"))
        ):
            from agent.llm.intents import extract_generate_args

            plan.intents = [Intent("generate_project", extract_generate_args(text))]  # "write it, 3 classes"
        if not plan.intents and not code and _asks_for_edit(text, code=False):
            return Plan([Intent("edit_code", {"instruction": text})])  # the tool asks for the code
        if not plan.intents and _vague_training_request(text, dialogue):
            pending = Pending(tool="recommend_architecture", slot="task", args={})
            return Plan(ask=Ask(_TASK_QUESTION_GENERAL, pending))
        if not plan.intents and _describes_project(text):
            plan.intents = [Intent("recommend_architecture", {"question": text})]
        if [i.tool for i in plan.intents] == ["recommend_architecture"] and _fully_specified(text):
            # "a classifier for herbarium sheets, 37 families, convnext tiny, 384 px": nothing left to choose.
            from agent.llm.intents import extract_generate_args

            plan.intents = [Intent("generate_project", extract_generate_args(text))]
        if not plan.intents and not is_small_talk(text) and len(text.split()) >= 2:
            context = (
                code or dialogue.topic or dialogue.recommendation or dialogue.spec or dialogue.has_project
            )
            not_ml = None if context else _not_machine_learning(text)
            if not_ml is not None:
                return Plan(say=Say(not_ml))  # "what's the weather in Berlin?": no tool has anything to add
            # Not a request for a tool: a question for the knowledge base, which says when nothing fits.
            plan.intents = [Intent("answer_question", {"question": text})]
    for intent in plan.intents:
        if intent.tool == "compare_experiments":
            intent.args["ids"] = _EXPERIMENT_ID.findall(text) or intent.args.get("ids") or dialogue.runs[-2:]
        elif intent.tool == "answer_question":
            intent.args["question"] = _with_context(str(intent.args.get("question") or text), dialogue)
        elif intent.tool == "recommend_architecture":
            asked = _complete_recommend(intent, text, dialogue)
            if asked is not None:
                return Plan(ask=asked)
        elif intent.tool == "generate_project":
            blocked = _complete_generate(intent, text, dialogue, plan)
            if isinstance(blocked, Ask):
                return Plan(ask=blocked)
            if isinstance(blocked, Say):
                return Plan(say=blocked)
    return plan


def _complete_recommend(intent: Intent, text: str, dialogue: DialogueState) -> Ask | None:
    """Give the recommender the task the thread or the slot parser knows, with the thread's constraints; ask
    for the task when a project is described without one ("spot scratches": boxes, masks or a label?)."""
    args = intent.args
    if "alternative" in args:
        return None
    if "question" not in args and "task" in args:
        args.setdefault("constraints", _constraints(dialogue))
        return None
    task = knowledge_task(text, dialogue)
    if task is not None:
        args["task"] = task
    elif dialogue.spec.get("task") and _REFERS_BACK.search(text):
        args["task"] = dialogue.spec["task"]
    if "task" in args:
        # The slot parser's reading of sizes and counts wins over the recommender's own question parser.
        args["constraints"] = _constraints(dialogue)
        return None
    from knowledge import load_knowledge
    from tools.recommend import detect_task

    if detect_task(text, load_knowledge())[0] is None:
        if _outside_knowledge(text):
            intent.tool, intent.args = "answer_question", {"question": text}
            return None
        return Ask(_TASK_QUESTION_GENERAL, Pending(tool="recommend_architecture", slot="task", args={}))
    return None


_CHECKLIST_OVERVIEW = re.compile(
    r"\bchecklist\b[^.?!]*\b(?:cover|contain|include|items|look like|check for)\b"
    r"|\b(?:what(?:'s| is)|list|show)\b[^.?!]*\b(?:in|on) (?:the|your) (?:review )?checklist\b",
    re.IGNORECASE,
)


def _checklist_overview() -> str:
    """The review checklist's items, from the same document the reviewer and the explain tool use."""
    from agent.checklist_guide import checklist_sections

    items = list(checklist_sections())
    listed = ", ".join(f"`{item}`" for item in items)
    return (
        f"My review checklist has {len(items)} items: {listed}. A review marks each as pass, warn or fail with "
        'the file and line; ask "what does lightning-module mean?" (or any item) for the details.'
    )


_ML_WORDS = wordset(
    """model models train training data image images photo photos code script gpu cpu loss lr learning
    neural network deep ml ai vision label labels review checklist lightning pytorch torch"""
)


def _not_machine_learning(text: str) -> str | None:
    """The knowledge base's honest reply to a message with nothing of ML engineering in it, else None."""
    from knowledge.answer import answer_question

    answer = answer_question(text)
    words = set(re.findall(r"[a-z]+", text.lower()))
    nothing_of_ml = not answer.entry_ids and not words & (DOMAIN_VOCABULARY | _ML_WORDS)
    if answer.out_of_scope and (answer.entry_ids == ["scope:not_ml"] or nothing_of_ml):
        return (
            f"{answer.markdown.strip()}\n\nWhat I can do: **review** Lightning code, **generate** a project, "
            "**recommend** an architecture, **smoke-test** code in a sandbox, and answer ML-engineering questions."
        )
    return None


def _outside_knowledge(text: str) -> bool:
    """The knowledge base files this under a scope note (depth estimation, speech, LLMs, ...)."""
    from knowledge.answer import answer_question

    answer = answer_question(text)
    return answer.out_of_scope and any(entry.startswith("scope:") for entry in answer.entry_ids)


_ABOUT_OWN_CODE = re.compile(
    r"\b(?:did|does|is) (?:it|the (?:project|code|model))\b|\b(?:end(?:ed)? up with|is it using|does it use)\b",
    re.IGNORECASE,
)


def _prefer_knowledge_for_questions(plan: Plan, text: str, code: bool) -> Plan:
    """A how/what question that is not a model choice goes to the knowledge base, not to a tool run.

    "how do I export a Lightning model to ONNX in general?" wants an explanation, not an export of the thread's
    code; "how do I keep boxes right when augmenting?" wants practice, not a ranking of detectors.
    """
    tools = [intent.tool for intent in plan.intents]
    if not _is_question(text) or len(tools) != 1:
        return plan
    asks_about_code = re.search(
        r"\b(?:my|this|the|that) (?:code|script|module|model)\b|\b(?:it|that)\b", text, re.I
    )
    if tools == ["recommend_architecture"] and not _wants_model_choice(text):
        return Plan([Intent("answer_question", {"question": text})])
    if tools == ["recommend_architecture"] and code and _ABOUT_OWN_CODE.search(text):
        return Plan([Intent("answer_question", {"question": text})])  # answered from the thread's files
    if tools[0] in {"export_onnx", "smoke_run"} and _HOW_TO.search(text):
        return Plan(
            [Intent("answer_question", {"question": text})]
        )  # "how do I get a dynamic batch in ONNX?"
    how_to = re.match(r"\s*(?:how|what|why|when|which|should|can)\b", text, re.IGNORECASE) or (
        not code and re.match(r"\s*(?:do|does|is|are|would|will)\b", text, re.IGNORECASE)
    )
    if (
        tools[0] in {"export_onnx", "smoke_run"}
        and how_to
        and (not code or not asks_about_code or "in general" in text)
    ):
        return Plan([Intent("answer_question", {"question": text})])
    return plan
