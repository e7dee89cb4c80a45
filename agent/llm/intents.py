"""Deterministic intent recognition and parameter extraction for the offline planner.

The planner has no language model, so it reads a request the way a careful engineer skims a ticket: what is
asked (review, fix, generate, recommend, smoke-test, explain, experiments, help) and with which parameters
(task, backbone, number of classes, image size, steps). Rules are ordered and written out here so that the
behaviour is predictable and testable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_HELP = re.compile(
    r"^[\s\W]*(?:hi+|hello|hey+(?: there)?|yo|hiya|howdy|help|\?|thanks?(?: a lot| so much)?|thx|ty|cheers|"
    r"thank you(?: so much| very much)?|(?:good )?(?:morning|afternoon|evening)|great|cool|nice|perfect|"
    r"ok(?:ay)?|bye|goodbye|see you|that'?s all(?: for (?:now|today))?|danke(?: dir| sch[öo]n| sehr)?|vielen dank|"
    r"merci(?: beaucoup)?|gracias|muchas gracias|obrigad[oa]|grazie(?: mille)?|tsch[üu]ss|ciao|adi[óo]s|au revoir|"
    r"super|parfait|perfekt|perfecto|perfeito|perfetto|top)\b[\s!.?,]*"
    r"(?:(?:thanks?|thx|that'?s all|for (?:now|today)|bye|there|again|everyone|all|mate|!|dir|c'?est parfait|"
    r"c'?est super|es perfecto|muito|sehr|beaucoup)[\s!.?,]*)*$"
    r"|what \W*can\W* (?:you|u) (?:actually |really |even )?(?:do|help (?:me |us )?with)|what do (?:you|u) do|who are (?:you|u)|what are (?:you|u)\b|how do i use (?:you|u)"
    r"|your capabilities|\bhelp me\b$",
    re.IGNORECASE,
)
_FIX = re.compile(
    r"\b(?:fix(?:es|ed)?|apply (?:the |your )?(?:fixes|suggestions|changes)|auto-?fix|correct (?:it|them|this|the))\b",
    re.IGNORECASE,
)
_SMOKE = re.compile(
    r"smoke|does (?:it|this|the code|the model) (?:really |even |actually )?train|can (?:it|this) train|train (?:it|this|them)\b"
    r"|\brun (?:it|this)\b|test[- ]?run|try (?:training|it)|sanity[- ]?check|prove (?:it|that it) trains"
    r"|\btrain for \d+",
    re.IGNORECASE,
)
# "Make it train", "fix the run", "it crashes, fix it": the repair loop (run, diagnose, repair, re-run), not a review.
_FIX_RUN = re.compile(
    r"\bmake (?:it|this|them|the (?:code|model|project|training)|my (?:code|model|project|training)) "
    r"(?:train|learn|work)\b|\bget (?:it|this) (?:to )?(?:train|learn)|\bfix[- ]run\b"
    r"|\b(?:fix|repair) (?:the|my|this) (?:run|training|smoke run)\b"
    r"|\b(?:crash(?:es|ed|ing)?|fails? to train|does(?:n'?t| not) train|won'?t train|not training|"
    r"loss (?:is |goes |becomes )?(?:nan|inf)|nan loss)\b[^.?!]*\b(?:fix|repair)\b"
    r"|\b(?:fix|repair) (?:it|this)\b[^.?!]*\b(?:crash(?:es|ed|ing)?|train(?:s|ing)?)\b",
    re.IGNORECASE,
)
# "Is bf16 faster here?", "which LR is better, 1e-3 or 3e-4?": measured with interleaved A/B smoke runs.
_AB = re.compile(
    r"\bis (?:bf16|bfloat16|fp16|mixed precision|half precision)\b[^.?!]*\b(?:faster|quicker|better|worth it)"
    r"|\b(?:bf16|fp16)\b (?:vs\.?|or|versus) (?:fp32|full precision)\b"
    r"|\bwhich (?:lr|learning[- ]rate) is better\b|\b(?:lr|learning[- ]rate)s? \S+ (?:or|vs\.?|versus) \S+\s*\?",
    re.IGNORECASE,
)
_NAMED_GPU = re.compile(
    r"\b(?:rtx|gtx|titan|quadro|tesla|jetson|a100|h100|h200|v100|p100|a10g?|l4|l40s?|t4|k80|mi\d{3}|"
    r"[1-5]0[5-9]0(?: ?ti)?|ampere|hopper|turing|volta|pascal|ada)\b",
    re.IGNORECASE,
)
_GENERATE = re.compile(
    r"\b(?:generate|scaffold|write|create|build|make|give me|set (?:me )?up|bootstrap|aufsetzen|erstellen|"
    r"g[ée]n[ée]rer?|genera|crea|cr[ée]er?|gera|gere|gerar|criar|crie|erstell)\b[^.?!]*?"
    r"\b(?:model|module|project|proj|repo|datamodule|data module|pipeline|code|classifier|detector|segmenter|"
    r"template|boilerplate|lightningmodule|training script|projekt|projet|proyecto|progetto|projeto)"
    r"|\b(?:projekt|projet|proyecto|progetto)\w*\b[^.?!]*\b(?:aufsetzen|erstellen|g[ée]n[ée]rer|generar|creare)\b"
    r"|\w*projekt\w*\b[^.?!]*\b(?:aufsetzen|erstellen)\b"
    r"|^[^.?!]{0,60}\b(?:project|repo|template|boilerplate)\s*,?\s*(?:please|pls|plz)\b"
    # "I need a project for ...", "je voudrais un projet de ...", "necesito un proyecto de ...": asking for one.
    r"|\b(?:need|want|would like|i'?d like|necesito|quiero|quisiera|voudrais|veux|besoin d'un|brauche|m[öo]chte|"
    r"preciso(?: de)?|quero|vorrei|mi serve|ho bisogno di)\s+(?:an?|un|una|uno|ein|einen|um|uma)\s+(?:[\w-]+\s+)?"
    r"(?:project|projet|proyecto|projekt\w*|projeto|progetto|\w+projekt|repo|boilerplate|template)\b",
    re.IGNORECASE,
)
_RECOMMEND = re.compile(
    r"\b(?:which|what)\b[^.?!]*\b(?:architecture|model|backbone|network|loss|metric|augmentation)s?\b"
    r"|recommend|suggest|should i use|best (?:architecture|model|backbone)|advice|advise|what works best"
    r"|how (?:should|would) (?:i|you) (?:approach|tackle|start)",
    re.IGNORECASE,
)
_EXPLAIN = re.compile(
    r"\b(?:explain|why|what is|what's|what are|what does|tell me about|meaning of)\b", re.IGNORECASE
)
_EXPLAIN_VERB = re.compile(
    r"\b(?:explain|what is|what's|what are|what does|tell me about|meaning of|mean)\b", re.IGNORECASE
)
_EXPORT = re.compile(r"\bonnx\b|\bexport (?:it|this|the model|my model)\b", re.IGNORECASE)
_RULE_ID = re.compile(r"\bMLR\d{3}\b", re.IGNORECASE)
_CHECKLIST_NAMED = re.compile(
    r"\bMLR\d{3}\b|\b(?:lightning-module|data-module|pydantic-config|metric-prefixes|lr-scheduler|"
    r"gradient-clipping|mixed-precision|data-leakage|experiment-tracking|onnx-export|loss-function)\b(?=[^\w-]|$)",
    re.IGNORECASE,
)
_EXPERIMENTS = re.compile(r"\bexperiments?\b|\bruns? history\b|\bpast runs\b", re.IGNORECASE)
_COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|side by side", re.IGNORECASE)
_REVIEW = re.compile(
    r"\breview\b(?!\s+checklist)|\bcheck\b|\baudit\b|what'?s wrong|what is wrong|look at|feedback|\blint\b|critique|"
    r"any (?:issues|problems|bugs)|find (?:issues|problems|bugs)|is (?:this|it|my code) (?:ok|good|correct)",
    re.IGNORECASE,
)

_TASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"instance[- ]segment|mask r-?cnn", re.IGNORECASE), "instance_segmentation"),
    (
        re.compile(r"segment|\bmasks?\b|semantic|pixel[- ]wise|\bunet\b|deeplab", re.IGNORECASE),
        "segmentation",
    ),
    (
        re.compile(
            r"detect|bounding[- ]box|\bboxes\b|\byolo|\bdetr\b|faster r-?cnn|retinanet", re.IGNORECASE
        ),
        "detection",
    ),
    (
        re.compile(r"classif|categori[sz]|recogni[sz]e|\bclasses of\b|image labels?", re.IGNORECASE),
        "classification",
    ),
    (re.compile(r"keypoint|pose estimation", re.IGNORECASE), "keypoints"),
    (
        re.compile(r"regression|regress\b|predict (?:a|the) (?:value|number|age|count)", re.IGNORECASE),
        "regression",
    ),
]
_BACKBONE = re.compile(
    r"\b(resnet[- ]?\d+|resnext[- ]?\d+\w*|wide[_ -]resnet\d+\w*|convnext[_ -]?(?:tiny|small|base|large)"
    r"|efficientnet[_ -]?(?:v2[_ -]?)?[bsml]\d?|mobilenet[_ -]?v[23](?:[_ -]?(?:large|small))?"
    r"|vit[_ -]?[bhl][_ -]?\d+|swin[_ -]?(?:v2[_ -]?)?[tsb]|regnet[_ -]?[xy][_ -]?\w+|densenet[- ]?\d+"
    r"|shufflenet\w*|squeezenet\w*|maxvit\w*)\b",
    re.IGNORECASE,
)
_NUM_CLASSES = re.compile(
    r"\b(\d{1,6})[ -]?(?:classes|class|categories|category|labels|species|types)\b", re.IGNORECASE
)
_BINARY = re.compile(r"\bbinary\b|\btwo classes\b", re.IGNORECASE)
_IMAGE_SIZE = re.compile(
    r"\b(\d{2,4})\s*[x×]\s*\d{2,4}\b|\b(\d{2,4})\s*(?:px|pixels?)\b|image[_ ]size\s*(?:of|=|:)?\s*(\d{2,4})\b",  # noqa: RUF001
    re.IGNORECASE,
)
_STEPS = re.compile(r"\b(\d{1,4})\s*(?:steps|iterations|iters|batches)\b", re.IGNORECASE)
_PACKAGE_PL = re.compile(r"pytorch[_ -]lightning|\bimport pytorch_lightning\b|\bpl\.", re.IGNORECASE)
_EXPERIMENT_ID = re.compile(r"\b(?=[0-9a-f-]*\d)[0-9a-f]{6,}(?:-[0-9a-f]{2,})*\b", re.IGNORECASE)


@dataclass
class Intent:
    """One thing the user asked for, with the arguments the planner extracted for its tool."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)


def _normalise_backbone(raw: str) -> str:
    name = raw.lower().replace("-", "_").replace(" ", "_")
    name = re.sub(r"^(resnet|resnext|densenet)_", r"\1", name)
    name = re.sub(r"^mobilenet_?v(\d)$", r"mobilenet_v\1_large", name)
    name = re.sub(r"^mobilenet_?v(\d)_?(large|small)$", r"mobilenet_v\1_\2", name)
    name = re.sub(
        r"^efficientnet_?(v2_?)?([bsml]\d?)$", lambda m: f"efficientnet_{m.group(1) or ''}{m.group(2)}", name
    )
    name = re.sub(r"^convnext_?", "convnext_", name)
    name = re.sub(r"^vit_?([bhl])_?(\d+)$", r"vit_\1_\2", name)
    name = re.sub(r"^swin_?(v2_)?([tsb])$", lambda m: f"swin_{m.group(1) or ''}{m.group(2)}", name)
    return name


def extract_task(text: str) -> str | None:
    """The computer-vision task a request is about, if it names one."""
    for pattern, task in _TASKS:
        if pattern.search(text):
            return task
    return None


def extract_generate_args(text: str) -> dict[str, Any]:
    """Task, backbone, number of classes, image size and Lightning package named in a request."""
    from agent.understanding import parse_slots

    args = parse_slots(text).generate_args()
    if _PACKAGE_PL.search(text):
        args["package"] = "pytorch_lightning"
    return args


def extract_steps(text: str) -> int | None:
    """A number of training steps the user asked for ("smoke-test it for 50 steps")."""
    match = _STEPS.search(text)
    return int(match.group(1)) if match else None


def _explain_target(text: str) -> str | None:
    from agent.checklist_guide import resolve_item

    rule = _RULE_ID.search(text)
    if rule:
        return rule.group(0).upper()
    return resolve_item(text)


def detect_intents(prose: str, *, has_code_in_message: bool, has_code_in_thread: bool) -> list[Intent]:
    """The ordered tool calls a message asks for; an empty list means "answer directly" (help/small talk).

    ``prose`` is the message without its code, so identifiers inside pasted code never trigger an intent.
    """
    text = prose.strip()
    code_available = has_code_in_message or has_code_in_thread
    wants_fix = bool(_FIX.search(text))
    wants_smoke = bool(_SMOKE.search(text))
    wants_generate = bool(_GENERATE.search(text)) and not has_code_in_message
    intents: list[Intent] = []

    if code_available and _FIX_RUN.search(text):
        return [Intent("fix_run", {})]
    if code_available and _AB.search(text) and not _NAMED_GPU.search(text):
        # "Is bf16 faster here?" is measured on this machine; "bf16 or fp16 on an RTX 3090?" is not (the
        # sandbox cannot run on the user's card), so it is answered from the knowledge base.
        return [Intent("ab_test", {"question": text})]
    if wants_generate:
        intents.append(Intent("generate_project", extract_generate_args(text)))
        if wants_smoke:
            intents.append(Intent("smoke_run", _smoke_args(text)))
        return intents
    wants_export = bool(_EXPORT.search(text)) and not _EXPLAIN.search(text)
    if wants_export and code_available:
        return [Intent("export_onnx", {})]
    if has_code_in_message or (code_available and (wants_fix or wants_smoke or _REVIEW.search(text))):
        if wants_fix:
            intents.append(Intent("review_code", {"fix": True}))
        elif _REVIEW.search(text) or not wants_smoke:
            intents.append(Intent("review_code", {}))
        if wants_smoke:
            intents.append(Intent("smoke_run", _smoke_args(text)))
        return intents
    if _EXPERIMENTS.search(text):
        if _COMPARE.search(text):
            ids = _EXPERIMENT_ID.findall(text)
            return [Intent("compare_experiments", {"ids": ids})]
        return [Intent("list_experiments", {})]
    if is_small_talk(text):
        return []
    named = _CHECKLIST_NAMED.search(text)
    if named:
        return [
            Intent(
                "explain_checklist_item",
                {
                    "item": named.group(0).upper()
                    if named.group(0)[:3].lower() == "mlr"
                    else named.group(0).lower()
                },
            )
        ]
    target = _explain_target(text) if (_EXPLAIN.search(text) or _RULE_ID.search(text)) else None
    lowered = text.lower().replace("_", "-")
    named_item = bool(target) and (str(target) in lowered or str(target).replace("-", " ") in lowered)
    loose = target and not _RULE_ID.search(text) and not named_item
    if loose and (len(text.split()) > 10 or not _EXPLAIN_VERB.search(text)):
        # "my runs differ even with the same seed, why??" is a question for the knowledge base; "explain
        # seeding" or "what is the lr-scheduler item" is about the checklist.
        target = None
    if target and not _RECOMMEND.search(text):
        return [Intent("explain_checklist_item", {"item": target})]
    if _RECOMMEND.search(text) or extract_task(text):
        return [Intent("recommend_architecture", {"question": text})]
    if target:
        return [Intent("explain_checklist_item", {"item": target})]
    if wants_export:
        return [Intent("export_onnx", {})]  # no code anywhere in the thread: the tool says so plainly
    if _FIX_RUN.search(text):
        return [Intent("fix_run", {})]  # no code in the thread: the tool says so plainly
    if _describes_symptom(text):
        return []  # "val acc is stuck, what's wrong?" with no code: a question for the knowledge base
    if wants_fix or wants_smoke or _REVIEW.search(text):
        # Asked to act on code, but there is none anywhere in the thread: the review tool says so plainly.
        return [Intent("smoke_run" if wants_smoke else "review_code", {"fix": True} if wants_fix else {})]
    return []


_ABOUT_CODE = re.compile(r"\b(?:code|script|module|file|snippet|function|class|notebook|repo)s?\b", re.I)


def _describes_symptom(text: str) -> bool:
    """A training symptom told in prose with a question ("... stops after 3 epochs, what's wrong?")."""
    asks = "?" in text or re.search(r"what'?s wrong|what is wrong|why\b", text, re.IGNORECASE)
    return bool(asks) and len(text.split()) > 10 and not _ABOUT_CODE.search(text)


def is_small_talk(text: str) -> bool:
    """Greetings, thanks and "what can you do": answered with the help text, not a tool (emoji allowed)."""
    return bool(_HELP.search(re.sub(r"[^\w\s?!.,']+", " ", text)))


_ON_GPU = re.compile(
    r"\b(?:on (?:the |a )?(?:gpu|cuda)|with (?:the |a )?gpu|using (?:the |a )?gpu|cuda)\b", re.I
)
_ON_CPU = re.compile(r"\b(?:on (?:the )?cpu|cpu only|without (?:a |the )?gpu)\b", re.I)


def _smoke_args(text: str) -> dict[str, Any]:
    """Steps and device of a smoke-run request ("run it for 50 steps on the GPU")."""
    args: dict[str, Any] = {}
    steps = extract_steps(text)
    if steps:
        args["steps"] = steps
    if _ON_CPU.search(text):
        args["device"] = "cpu"
    elif _ON_GPU.search(text):
        args["device"] = "cuda"
    return args
