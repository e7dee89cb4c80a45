"""Architecture recommendations computed from the knowledge base, with a transparent score.

Why deterministic: the same question must give the same answer offline, in tests and behind the agent, and a
user must be able to see *why* an architecture ranked first. Every point of a score is a ``ScoreTerm`` with the
constraint that caused it; the figures come from ``knowledge/`` (YAML), never from this module.

Two ways in: a free-text ``question`` (task and constraints are parsed with keyword/regex rules and every
guess is listed in ``assumptions``) or an explicit ``task`` + ``constraints``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge import Architecture, Backbone, KnowledgeBase, TaskKnowledge, Variant, load_knowledge
from tools.codegen.architectures import Architecture as GeneratorRow
from tools.codegen.architectures import closest_generatable, generatable_row

DeviceName = Literal["edge", "server", "cpu"]

# Default latency budget when a question says "real-time" without a number: 30 frames per second.
REALTIME_BUDGET_MS = 33.0
SMALL_DATA = 1_000
LARGE_DATA = 100_000


# --------------------------------------------------------------------------------------------------- models


class Constraints(BaseModel):
    """What the user told us about their problem; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    dataset_size: int | None = Field(default=None, ge=1, description="Number of labelled training images.")
    num_classes: int | None = Field(default=None, ge=1, le=100_000)
    latency_ms: float | None = Field(default=None, gt=0, le=600_000, description="Per-image budget, batch 1.")
    device: DeviceName | None = Field(default=None, description="Where the model will run.")
    image_size: int | None = Field(
        default=None, ge=16, le=16_384, description="Longest input side in pixels."
    )
    imbalanced: bool | None = None
    pretrained_available: bool | None = Field(
        default=None, description="False when pretrained weights cannot be used (license, domain, policy)."
    )
    commercial: bool | None = Field(
        default=None,
        description="True for a closed-source commercial product: copyleft licenses are penalised.",
    )


def _document_task_names(schema: dict[str, Any]) -> None:
    """List the task ids and aliases the knowledge base resolves (the HTTP endpoint answers 422 for others)."""
    names = sorted({key for task in load_knowledge().tasks.values() for key in (task.id, *task.aliases)})
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = names


class RecommendRequest(BaseModel):
    """Either a free-text ``question`` or a ``task`` with optional ``constraints`` (exactly one way)."""

    # Exactly one way in, as the OpenAPI document says it (mirrors _exactly_one_way below).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["question"],
                    "properties": {
                        "question": {"type": "string"},
                        "task": {"type": "null"},
                        "constraints": {"type": "null"},
                    },
                },
                {
                    "required": ["task"],
                    "properties": {"task": {"type": "string"}, "question": {"type": "null"}},
                },
            ]
        },
    )

    question: str | None = Field(
        default=None, min_length=1, max_length=20_000, json_schema_extra={"pattern": r"\S"}
    )
    task: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="A task id or alias (case-insensitive).",
        json_schema_extra=_document_task_names,
    )
    constraints: Constraints | None = None
    top_k: int = Field(default=3, ge=1, le=10, description="How many ranked recommendations to return.")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, question: str | None) -> str | None:
        if question is not None and not question.strip():
            raise ValueError("the question is empty")
        return question

    @model_validator(mode="after")
    def _exactly_one_way(self) -> RecommendRequest:
        if (self.question is None) == (self.task is None):
            raise ValueError(
                "give either 'question' or 'task' (with optional 'constraints'), not both or neither"
            )
        if self.question is not None and self.constraints is not None:
            raise ValueError("'constraints' go with 'task'; a 'question' is parsed for its own constraints")
        return self


class ScoreTerm(BaseModel):
    """One transparent contribution to an architecture's score."""

    factor: str
    points: float
    reason: str


class LossChoice(BaseModel):
    id: str
    name: str
    code: str
    why: str


class AugmentationChoice(BaseModel):
    transform: str = Field(description="torchvision.transforms.v2 class name.")
    args: dict[str, Any]
    joint: bool = Field(description="Apply to image and masks/boxes/keypoints together.")
    note: str = ""


class MetricChoice(BaseModel):
    cls: str
    args: dict[str, Any]
    primary: bool
    note: str = ""
    requires: list[str] = Field(default_factory=list)


class StartingHyperparameters(BaseModel):
    optimizer: str
    lr: float
    lr_range: tuple[float, float]
    weight_decay: float
    batch_size: int
    max_epochs: int
    scheduler: str
    warmup: str
    gradient_clip_val: float
    notes: list[str] = Field(default_factory=list)


class Recommendation(BaseModel):
    """One ranked option: the model, why it fits, and how to train it."""

    rank: int
    architecture: str
    architecture_name: str
    summary: str
    backbone: str | None = Field(description="torchvision backbone, for architectures built on one.")
    variant: str | None = Field(
        default=None, description="Model size, for architectures with their own backbone."
    )
    backbone_reason: str
    score: float
    score_breakdown: list[ScoreTerm]
    why: list[str]
    device: DeviceName
    estimated_latency_ms: float | None
    estimated_gflops: float | None
    license: str
    implementation: str
    generate_command: str | None
    generatable: bool = Field(
        default=False, description="Whether `mlagent generate` can write this choice (see generate_command)."
    )
    generate_architecture: str | None = Field(
        default=None, description="The generator's --architecture for this choice, when it can be generated."
    )
    generate_backbone: str | None = Field(
        default=None,
        description="The generator's --backbone for this choice (the ranked backbone when the generated "
        "architecture takes it, else the architecture's default).",
    )
    closest_generatable: str | None = Field(
        default=None,
        description="For a choice the generator cannot write: the closest --architecture it can, and why.",
    )
    loss: LossChoice
    alternative_losses: list[LossChoice]
    augmentations: list[AugmentationChoice]
    metrics: list[MetricChoice]
    hyperparameters: StartingHyperparameters
    tips: list[str]


class RecommendResult(BaseModel):
    """Ranked recommendations, or ``unknown_task`` with a message when the task is not one we cover."""

    task: str | None
    task_name: str | None = None
    constraints: Constraints
    recommendations: list[Recommendation] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    unknown_task: str | None = Field(default=None, description="Why no recommendation could be made.")
    supported_tasks: list[str] = Field(default_factory=list)
    general_tips: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------- question parsing

_NUMBER = r"(\d{1,3}(?:[,_]\d{3})+|\d+(?:\.\d+)?)"
_EDGE_WORDS = (
    "edge",
    "jetson",
    "raspberry",
    "mobile",
    "phone",
    "smartphone",
    "android",
    "ios",
    "embedded",
    "npu",
    "coral",
    "microcontroller",
    "drone",
    "on-device",
    "on device",
)
_CPU_WORDS = ("cpu", "no gpu", "without a gpu", "without gpu", "laptop")
_SERVER_WORDS = (
    "server",
    "gpu",
    "cloud",
    "datacenter",
    "data center",
    "a100",
    "h100",
    "t4",
    "batch processing",
)
_IMBALANCE_WORDS = (
    "imbalanced",
    "imbalance",
    "unbalanced",
    "long-tail",
    "long tail",
    "long-tailed",
    "rare class",
    "rare defect",
    "skewed",
    "minority class",
    "few positive",
)
_NO_PRETRAINED = (
    "no pretrained",
    "without pretrained",
    "from scratch",
    "can't use pretrained",
    "cannot use pretrained",
    "no pre-trained",
    "without pre-trained",
)
_COMMERCIAL = ("commercial", "closed-source", "closed source", "proprietary")


def _to_number(text: str) -> float:
    return float(text.replace(",", "").replace("_", ""))


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", text) for word in words)


def detect_task(question: str, kb: KnowledgeBase) -> tuple[str | None, dict[str, float]]:
    """Score every task by the weighted keywords found in the question; highest wins (ties: list order)."""
    text = question.lower()
    scores: dict[str, float] = {}
    for task in kb.tasks.values():
        # Cues match from a word start: "age" must not fire inside "images", while a stem ("segment") still
        # matches its inflections.
        score = sum(
            weight
            for cue, weight in task.keywords.items()
            if re.search(r"(?<!\w)" + re.escape(cue.lower()), text)
        )
        score += sum(3.0 for alias in task.aliases if alias.replace("_", " ") in text)
        if score:
            scores[task.id] = score
    if not scores:
        return None, scores
    best = max(scores.values())
    winner = next(tid for tid in kb.tasks if scores.get(tid) == best)
    return winner, scores


def parse_question(question: str, kb: KnowledgeBase) -> tuple[str | None, Constraints, list[str]]:
    """Extract task and constraints from free text with explicit rules; returns the notes on what was guessed."""
    text = " ".join(question.lower().split())
    notes: list[str] = []
    task, scores = detect_task(text, kb)
    if task and len(scores) > 1:
        ranked = ", ".join(f"{tid}={score:g}" for tid, score in sorted(scores.items(), key=lambda kv: -kv[1]))
        notes.append(f"Task read as '{task}' from keyword scores ({ranked}).")
    elif task:
        notes.append(f"Task read as '{task}' from the question's wording.")

    values: dict[str, Any] = {}
    if m := re.search(
        _NUMBER + r"\s*(k|m|thousand|million)?\s*(?:labell?ed\s+|annotated\s+|training\s+)?"
        r"(?:images|photos|pictures|samples|examples|frames|scans|slides)",
        text,
    ):
        scale = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(m.group(2) or "", 1.0)
        values["dataset_size"] = max(1, int(_to_number(m.group(1)) * scale))
    elif re.search(
        r"\b(few|handful of|couple of|small number of)\s+(labell?ed\s+)?(images|photos|samples)|"
        r"small data ?set|tiny data ?set|little data",
        text,
    ):
        values["dataset_size"] = 200
        notes.append("'few images / small dataset' read as about 200 labelled images.")
    elif re.search(r"\b(large|huge|big) data ?set|millions of (images|photos)", text):
        values["dataset_size"] = 1_000_000
        notes.append("'large dataset' read as about 1,000,000 images.")

    if m := re.search(
        _NUMBER + r"\s*(?:different\s+|object\s+|defect\s+)?(classes|categories|labels|types|"
        r"kinds|species|object types|defect types)",
        text,
    ):
        values["num_classes"] = max(1, int(_to_number(m.group(1))))
    elif re.search(r"\bbinary\b|\byes/no\b|\bok/nok\b|\bgood/bad\b", text):
        values["num_classes"] = 2
        notes.append("'binary' read as 2 classes.")

    if m := re.search(_NUMBER + r"\s*(?:ms|msec|milliseconds?)\b", text):
        values["latency_ms"] = _to_number(m.group(1))
    elif m := re.search(_NUMBER + r"\s*(?:fps|frames per second|frames/s)", text):
        fps = _to_number(m.group(1))
        if fps > 0:
            values["latency_ms"] = round(1000.0 / fps, 1)
            notes.append(f"{fps:g} FPS read as a {values['latency_ms']:g} ms per-image budget.")
    elif re.search(r"real[- ]?time|live video|video stream", text):
        values["latency_ms"] = REALTIME_BUDGET_MS
        notes.append(f"'real-time' read as {REALTIME_BUDGET_MS:g} ms per image (30 FPS).")

    if _has_any(text, _EDGE_WORDS):
        values["device"] = "edge"
    elif _has_any(text, _CPU_WORDS):
        values["device"] = "cpu"
    elif _has_any(text, _SERVER_WORDS):
        values["device"] = "server"

    if m := re.search(r"(\d{2,5})\s*(?:x|\u00d7|\*)\s*(\d{2,5})", text):
        values["image_size"] = max(int(m.group(1)), int(m.group(2)))
    elif m := re.search(r"(\d{2,5})\s*(?:px|pixels?)\b", text):
        values["image_size"] = int(m.group(1))
    elif re.search(r"\b4k\b", text):
        values["image_size"] = 3840
        notes.append("'4K' read as 3840-pixel images.")

    if _has_any(text, _IMBALANCE_WORDS):
        values["imbalanced"] = True
    if _has_any(text, _NO_PRETRAINED):
        values["pretrained_available"] = False
    if _has_any(text, _COMMERCIAL):
        values["commercial"] = True
    return task, Constraints(**values), notes


# ------------------------------------------------------------------------------------------------- scoring


def estimate_gflops(
    arch: Architecture, size_choice: Backbone | Variant | None, image_size: int
) -> float | None:
    """Whole-model GMACs at ``image_size``: the cost grows with the image area."""
    if isinstance(size_choice, Backbone):
        return size_choice.gflops * (image_size / size_choice.input_size) ** 2 * arch.head_cost_factor
    if isinstance(size_choice, Variant):
        return size_choice.gflops * (image_size / arch.reference_size) ** 2
    if arch.gflops is not None:
        return arch.gflops * (image_size / arch.reference_size) ** 2
    return None


def estimate_latency_ms(gflops: float | None, device: DeviceName, kb: KnowledgeBase) -> float | None:
    """The knowledge base's simple device model: overhead + GMACs / effective throughput."""
    if gflops is None:
        return None
    profile = kb.devices[device]
    return profile.overhead_ms + gflops / profile.effective_gflops_per_ms


def _pick_variant(
    arch: Architecture, c: Constraints, device: DeviceName, image_size: int, kb: KnowledgeBase
) -> tuple[Variant | None, str]:
    """For architectures with their own sizes: the largest one that fits the budget (they grow in accuracy)."""
    if not arch.variants:
        return None, arch.backbone_note or "The architecture ships its own backbone."
    if c.latency_ms is None:
        small_target = device in ("edge", "cpu") or (c.dataset_size or LARGE_DATA) < SMALL_DATA
        index = 0 if small_target else min(1, len(arch.variants) - 1)
        chosen = arch.variants[index]
        why = (
            "the smallest size for a small target or little data"
            if small_target
            else "a balanced default size"
        )
        return chosen, f"{chosen.name}: {why}. {arch.backbone_note}".strip()
    fitting = []
    for variant in arch.variants:
        latency = estimate_latency_ms(estimate_gflops(arch, variant, image_size), device, kb)
        if latency is not None and latency <= c.latency_ms:
            fitting.append(variant)
    if fitting:
        chosen = fitting[-1]
        return chosen, (
            f"{chosen.name}: the largest size estimated to fit {c.latency_ms:g} ms on {device}. {arch.backbone_note}"
        ).strip()
    chosen = arch.variants[0]
    return chosen, (
        f"{chosen.name}: the smallest size; none is estimated to fit {c.latency_ms:g} ms on {device} at "
        f"{image_size}px. {arch.backbone_note}"
    ).strip()


def _pick_backbone(
    arch: Architecture, c: Constraints, device: DeviceName, image_size: int, kb: KnowledgeBase
) -> tuple[Backbone | None, str]:
    """Choose among the architecture's backbones: most accurate one that fits the budget and the data."""
    if not arch.backbones:
        return None, arch.backbone_note or "The architecture ships its own backbone."
    candidates = [kb.backbones[name] for name in arch.backbones]

    def fits(bb: Backbone) -> bool:
        if c.latency_ms is None:
            return True
        latency = estimate_latency_ms(estimate_gflops(arch, bb, image_size), device, kb)
        return latency is not None and latency <= c.latency_ms

    def preference(bb: Backbone) -> float:
        value = bb.imagenet_top1
        if device in ("edge", "cpu") and not bb.edge_friendly:
            value -= 8.0
        if device in ("edge", "cpu") and c.latency_ms is None:
            value -= 2.0 * bb.gflops  # no explicit budget on small hardware: cheaper is better
        if c.dataset_size is not None and c.dataset_size < SMALL_DATA:
            value -= 0.1 * bb.params_m  # fewer parameters overfit less on little data
        if bb.needs_pretraining and (
            c.pretrained_available is False or (c.dataset_size or LARGE_DATA) < 10_000
        ):
            value -= 20.0
        if c.latency_ms is None and device == "server" and c.dataset_size is None:
            value -= 0.3 * bb.gflops  # no constraint at all: a balanced default, not the biggest model
        return value

    fitting = [bb for bb in candidates if fits(bb)]
    if fitting:
        best = max(fitting, key=preference)
        if c.latency_ms is not None:
            reason = (
                f"{best.name}: the most suitable of {len(fitting)}/{len(candidates)} backbones estimated to fit "
                f"{c.latency_ms:g} ms on {device} ({best.imagenet_top1:g}% ImageNet top-1, {best.params_m:g}M params)."
            )
        else:
            reason = (
                f"{best.name}: best accuracy/cost trade-off for the constraints "
                f"({best.imagenet_top1:g}% ImageNet top-1, {best.params_m:g}M params, {best.gflops:g} GMACs @"
                f"{best.input_size}px)."
            )
        if image_size < best.min_input_size or (best.needs_pretraining and image_size != best.input_size):
            reason += (
                f" Resize inputs to {best.input_size}px: its pretrained position embeddings fix the size."
            )
        return best, reason
    fastest = min(candidates, key=lambda bb: bb.gflops)
    return fastest, (
        f"{fastest.name}: the cheapest option; no listed backbone is estimated to fit {c.latency_ms:g} ms on "
        f"{device} at {image_size}px (reduce the resolution, quantise to INT8, or pick a faster architecture)."
    )


def _score(
    arch: Architecture,
    backbone: Backbone | None,
    c: Constraints,
    device: DeviceName,
    latency: float | None,
) -> list[ScoreTerm]:
    """All score contributions for one architecture. Each rule is small and says why it fired."""
    terms = [
        ScoreTerm(factor="accuracy", points=float(arch.accuracy), reason=f"accuracy level {arch.accuracy}/5")
    ]
    if c.latency_ms is not None:
        if latency is None:
            terms.append(ScoreTerm(factor="latency", points=0.0, reason="no latency estimate available"))
        elif latency <= c.latency_ms:
            terms.append(
                ScoreTerm(
                    factor="latency",
                    points=2.0,
                    reason=f"estimated {latency:.1f} ms on {device} fits the {c.latency_ms:g} ms budget",
                )
            )
        elif latency <= 2 * c.latency_ms:
            terms.append(
                ScoreTerm(
                    factor="latency",
                    points=-1.0,
                    reason=f"estimated {latency:.1f} ms on {device}: over the {c.latency_ms:g} ms budget but within 2x "
                    "(FP16/INT8 export or a smaller input may close the gap)",
                )
            )
        else:
            terms.append(
                ScoreTerm(
                    factor="latency",
                    points=-4.0,
                    reason=f"estimated {latency:.1f} ms on {device}: far over the {c.latency_ms:g} ms budget",
                )
            )
        terms.append(ScoreTerm(factor="speed", points=0.4 * arch.speed, reason=f"speed level {arch.speed}/5"))
    if device in ("edge", "cpu"):
        terms.append(
            ScoreTerm(factor="device", points=0.5 * arch.speed, reason=f"{device} target favours speed")
        )
        if arch.edge_friendly:
            terms.append(ScoreTerm(factor="device", points=1.0, reason=f"deploys well on {device} runtimes"))
        else:
            terms.append(
                ScoreTerm(factor="device", points=-2.0, reason=f"ops/size awkward for {device} runtimes")
            )
    elif c.latency_ms is None:
        terms.append(
            ScoreTerm(
                factor="device",
                points=0.5 * arch.accuracy,
                reason="server without a latency budget favours accuracy",
            )
        )
    if c.dataset_size is not None:
        if c.dataset_size < SMALL_DATA:
            terms.append(
                ScoreTerm(
                    factor="data",
                    points=0.8 * arch.data_efficiency,
                    reason=f"{c.dataset_size} images is little data; data efficiency {arch.data_efficiency}/5",
                )
            )
            if arch.needs_pretraining:
                terms.append(
                    ScoreTerm(
                        factor="data", points=-2.0, reason="transformer-style model overfits small data"
                    )
                )
        elif c.dataset_size >= LARGE_DATA:
            terms.append(
                ScoreTerm(
                    factor="data",
                    points=0.5 * arch.accuracy,
                    reason=f"{c.dataset_size} images is enough data to exploit a high-capacity model",
                )
            )
        else:
            terms.append(
                ScoreTerm(
                    factor="data",
                    points=0.3 * arch.data_efficiency,
                    reason=f"{c.dataset_size} images: a medium data set",
                )
            )
    needs_pretraining = arch.needs_pretraining or (backbone is not None and backbone.needs_pretraining)
    if c.pretrained_available is False and needs_pretraining:
        terms.append(
            ScoreTerm(
                factor="pretraining", points=-4.0, reason="needs pretrained weights, which you cannot use"
            )
        )
    if c.imbalanced and arch.imbalance_robust:
        terms.append(ScoreTerm(factor="imbalance", points=1.0, reason="designed for heavy class imbalance"))
    restrictive = _restrictive_license(arch.license)
    if restrictive and c.commercial:
        terms.append(
            ScoreTerm(
                factor="license",
                points=-3.0,
                reason=f"{restrictive} license conflicts with a closed commercial product",
            )
        )
    if arch.generate_supported:
        terms.append(
            ScoreTerm(factor="tooling", points=0.25, reason="`mlagent generate` writes a ready project")
        )
    return terms


def _restrictive_license(license_text: str) -> str | None:
    lowered = license_text.lower()
    if "agpl" in lowered:
        return "AGPL-3.0"
    if "non-commercial" in lowered or "cc-by-nc" in lowered:
        return "non-commercial"
    return None


# ------------------------------------------------------------------------------------ training advice parts


def _losses(task: TaskKnowledge, c: Constraints) -> tuple[LossChoice, list[LossChoice]]:
    def choice(loss: Any) -> LossChoice:
        return LossChoice(id=loss.id, name=loss.name, code=loss.code, why=loss.why)

    default = next(loss for loss in task.losses if loss.use_when in ("default", "always"))
    primary = default
    if c.imbalanced:
        primary = next((loss for loss in task.losses if loss.use_when == "imbalanced"), default)
    alternatives = [choice(loss) for loss in task.losses if loss.id != primary.id]
    return choice(primary), alternatives


def _sized(value: Any, image_size: int, task: TaskKnowledge) -> Any:
    """Rewrite the knowledge base's example sizes (the task default) to the user's image size."""
    default = task.default_image_size
    if value == default:
        return image_size
    if isinstance(value, list) and value == [default, default]:
        return [image_size, image_size]
    return value


def _augmentations(task: TaskKnowledge, c: Constraints, image_size: int) -> list[AugmentationChoice]:
    chosen = []
    for aug in task.augmentations:
        if aug.strength == "strong" and c.dataset_size is not None and c.dataset_size < 10_000:
            continue  # batch-mixing/elastic recipes pay off with long schedules on larger data
        args = {
            key: _sized(value, image_size, task) if key in ("size", "target_size") else value
            for key, value in aug.args.items()
        }
        note = aug.note
        if aug.strength == "strong":
            note = (note + " " if note else "") + "(strong: enable once the baseline trains cleanly)"
        chosen.append(AugmentationChoice(transform=aug.transform, args=args, joint=aug.joint, note=note))
    return chosen


def _metrics(task: TaskKnowledge, c: Constraints) -> list[MetricChoice]:
    chosen = []
    for metric in task.metrics:
        args = {
            k: (c.num_classes if c.num_classes is not None else "<num_classes>")
            if v == "{num_classes}"
            else v
            for k, v in metric.args.items()
        }
        chosen.append(
            MetricChoice(
                cls=metric.cls,
                args=args,
                primary=metric.primary,
                note=metric.note,
                requires=list(metric.requires),
            )
        )
    if c.imbalanced:
        # Put class-balanced variants first: overall accuracy hides failures on the rare classes.
        chosen.sort(key=lambda m: (m.args.get("average") not in ("macro", "none"), not m.primary))
    return chosen


def _round_lr(value: float) -> float:
    exponent = math.floor(math.log10(value))
    return round(value / 10**exponent) * 10**exponent


def _hyperparameters(
    task: TaskKnowledge, arch: Architecture, c: Constraints, image_size: int
) -> StartingHyperparameters:
    hp = task.hyperparameters
    prefer_adamw = arch.needs_pretraining or task.id not in ("detection", "instance_segmentation")
    if arch.generate_supported:
        prefer_adamw = True  # the generated projects use AdamW: keep the advice consistent with the code
    opt = (
        next((o for o in hp.optimizers if o.optimizer == "AdamW"), hp.optimizers[0])
        if prefer_adamw
        else hp.optimizers[0]
    )
    pretrained = c.pretrained_available is not False
    lo, hi = opt.lr_finetune if pretrained else opt.lr_scratch
    lr = _round_lr(math.sqrt(lo * hi))
    batch_lo, batch_hi = hp.batch_size
    batch = batch_lo if image_size >= 512 or (c.device == "edge") else min(batch_hi, max(batch_lo, 64))
    epochs_lo, epochs_hi = hp.epochs
    small = c.dataset_size is not None and c.dataset_size < SMALL_DATA
    epochs = (
        epochs_hi
        if small
        else epochs_lo
        if (c.dataset_size or 0) >= LARGE_DATA
        else (epochs_lo + epochs_hi) // 2
    )
    notes = list(hp.notes)
    if opt.extra:
        notes.insert(0, opt.extra)
    if small:
        notes.append(
            "Little data: more epochs with early stopping on the validation metric, strong regularisation."
        )
    return StartingHyperparameters(
        optimizer=opt.optimizer,
        lr=lr,
        lr_range=(lo, hi),
        weight_decay=opt.weight_decay,
        batch_size=batch,
        max_epochs=epochs,
        scheduler=hp.scheduler,
        warmup=hp.warmup,
        gradient_clip_val=hp.gradient_clip_val,
        notes=notes,
    )


def _tips(task: TaskKnowledge, arch: Architecture, c: Constraints, latency: float | None) -> list[str]:
    tips = []
    if arch.license_note:
        tips.append(f"License: {arch.license}. {arch.license_note}")
    for caveat in arch.avoid_when:
        tips.append(f"Avoid when {caveat}.")
    if c.latency_ms is not None and latency is not None and latency > 0.7 * c.latency_ms:
        tips.append(
            "Close to the latency budget: export to ONNX/TensorRT in FP16 (or INT8 with calibration) and "
            "measure on the target before committing."
        )
    if c.imbalanced:
        tips.append(
            "Imbalanced classes: sample batches with a WeightedRandomSampler built from TRAIN labels only, "
            "and select checkpoints on a class-balanced metric."
        )
    if c.pretrained_available is False:
        tips.append(
            "Without pretrained weights, train longer (2-3x epochs), use stronger augmentation, and prefer "
            "BatchNorm CNNs over transformers."
        )
    return tips


# ------------------------------------------------------------------------------------------------ main API


def _generate_command(
    task: TaskKnowledge, arch: Architecture, backbone: Backbone | None, c: Constraints, image_size: int
) -> str | None:
    """The ``mlagent generate`` line for a choice the generator writes (None when it cannot)."""
    row = generatable_row(task.id, arch.id, backbone.name if backbone else None)
    if row is None or not arch.generate_supported:
        return None
    chosen = _generator_backbone(row, backbone)
    classes = c.num_classes if c.num_classes is not None else "N"
    size = row.exact_image_size or image_size + (-image_size % row.image_multiple)
    backbone_flag = f" --backbone {chosen}" if chosen else ""
    return (
        f"mlagent generate --task {task.id} --architecture {row.name}{backbone_flag} --num-classes {classes} "
        f"--image-size {size} --out ./{task.id}-project"
    )


def _generator_backbone(row: GeneratorRow, backbone: Backbone | None) -> str | None:
    """The backbone the generator builds for a ranked choice: the ranked one where the row takes it."""
    return (
        backbone.name if backbone is not None and backbone.name in row.backbones() else row.default_backbone
    )


def _closest_generatable(task: TaskKnowledge, arch: Architecture) -> str | None:
    """'ARCH: why' for the closest architecture the generator writes, for a choice it cannot."""
    found = closest_generatable(task.id, arch.id)
    return f"{found[0].name}: {found[1]}" if found else None


def _unknown(
    kb: KnowledgeBase, constraints: Constraints, message: str, assumptions: list[str]
) -> RecommendResult:
    return RecommendResult(
        task=None,
        constraints=constraints,
        assumptions=assumptions,
        unknown_task=message,
        supported_tasks=kb.task_names(),
    )


def recommend(req: RecommendRequest, kb: KnowledgeBase | None = None) -> RecommendResult:
    """Rank the knowledge base's architectures for the task under the constraints (deterministic)."""
    kb = kb or load_knowledge()
    assumptions: list[str] = []
    if req.question is not None:
        task_id, constraints, notes = parse_question(req.question, kb)
        assumptions.extend(notes)
        if task_id is None:
            return _unknown(
                kb,
                constraints,
                "Could not tell the task from the question. Supported tasks: "
                + ", ".join(kb.task_names())
                + ". Mention what the model must output (a label per image, boxes, per-pixel masks, "
                "instance masks, keypoints, or a number).",
                assumptions,
            )
    else:
        task_id, constraints = req.task, req.constraints or Constraints()
    assert task_id is not None
    task = kb.task(task_id)
    if task is None:
        return _unknown(
            kb,
            constraints,
            f"Unknown task {task_id!r}. Supported tasks: " + ", ".join(kb.task_names()) + ".",
            assumptions,
        )

    device: DeviceName = constraints.device or "server"
    if constraints.device is None:
        assumptions.append("No target device given: assumed a server GPU.")
    image_size = constraints.image_size or task.default_image_size
    if constraints.image_size is None:
        assumptions.append(
            f"No image size given: assumed {image_size}px, the usual input for {task.name.lower()}."
        )
    if constraints.pretrained_available is None:
        assumptions.append(
            "Assumed ImageNet/COCO-pretrained weights may be used (fine-tuning learning rates)."
        )
    if constraints.dataset_size is None:
        assumptions.append("Data set size unknown: no data-size adjustments to the ranking.")
    if constraints.commercial is None and any(_restrictive_license(a.license) for a in task.architectures):
        assumptions.append(
            "License constraints unknown: copyleft/non-commercial options are ranked on merit "
            "and flagged in their tips."
        )

    scored = []
    for arch in task.architectures:
        backbone, backbone_reason = _pick_backbone(arch, constraints, device, image_size, kb)
        variant = None
        if backbone is None:
            variant, backbone_reason = _pick_variant(arch, constraints, device, image_size, kb)
        gflops = estimate_gflops(arch, backbone or variant, image_size)
        latency = estimate_latency_ms(gflops, device, kb)
        terms = _score(arch, backbone, constraints, device, latency)
        total = round(sum(t.points for t in terms), 2)
        scored.append((total, arch, backbone, variant, backbone_reason, gflops, latency, terms))
    scored.sort(key=lambda item: -item[0])  # stable: knowledge-base order breaks ties

    loss, alternative_losses = _losses(task, constraints)
    augmentations = _augmentations(task, constraints, image_size)
    metrics = _metrics(task, constraints)
    recs = []
    for rank, (total, arch, backbone, variant, backbone_reason, gflops, latency, terms) in enumerate(
        scored[: req.top_k], 1
    ):
        why = [t.reason for t in sorted(terms, key=lambda t: -abs(t.points)) if t.points != 0]
        why += arch.when_to_pick[:2]
        generator_row = generatable_row(task.id, arch.id, backbone.name if backbone else None)
        command = _generate_command(task, arch, backbone, constraints, image_size)
        recs.append(
            Recommendation(
                rank=rank,
                architecture=arch.id,
                architecture_name=arch.name,
                summary=arch.summary,
                backbone=backbone.name if backbone else None,
                variant=variant.name if variant else None,
                backbone_reason=backbone_reason,
                score=total,
                score_breakdown=terms,
                why=why,
                device=device,
                estimated_latency_ms=round(latency, 1) if latency is not None else None,
                estimated_gflops=round(gflops, 2) if gflops is not None else None,
                license=arch.license,
                implementation=arch.implementation,
                generate_command=command,
                generatable=command is not None,
                generate_architecture=generator_row.name if command and generator_row else None,
                generate_backbone=_generator_backbone(generator_row, backbone)
                if command and generator_row
                else None,
                closest_generatable=None if command else _closest_generatable(task, arch),
                loss=loss,
                alternative_losses=alternative_losses,
                augmentations=augmentations,
                metrics=metrics,
                hyperparameters=_hyperparameters(task, arch, constraints, image_size),
                tips=_tips(task, arch, constraints, latency),
            )
        )
    return RecommendResult(
        task=task.id,
        task_name=task.name,
        constraints=constraints,
        recommendations=recs,
        assumptions=assumptions,
        supported_tasks=kb.task_names(),
        general_tips=list(task.tips),
    )


# ---------------------------------------------------------------------------------------------- rendering


def _fmt_args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def render_recommendation(result: RecommendResult) -> str:
    """Markdown for people and the agent: ranked options first, then how to train the top one."""
    if result.unknown_task:
        lines = ["## Recommendation", "", result.unknown_task]
        if result.assumptions:
            lines += ["", "Read from the question:", *[f"- {a}" for a in result.assumptions]]
        return "\n".join(lines) + "\n"
    c = result.constraints
    given = {k: v for k, v in c.model_dump().items() if v is not None}
    lines = [f"## Recommendations: {result.task_name}", ""]
    if given:
        lines.append("Constraints: " + ", ".join(f"{k}={v}" for k, v in given.items()))
        lines.append("")
    lines += ["| # | architecture | backbone | est. latency | score |", "|---|---|---|---|---|"]
    for rec in result.recommendations:
        latency = (
            f"{rec.estimated_latency_ms:g} ms ({rec.device})"
            if rec.estimated_latency_ms is not None
            else "n/a"
        )
        lines.append(
            f"| {rec.rank} | {rec.architecture_name} | {rec.backbone or rec.variant or '(own)'} | {latency} "
            f"| {rec.score:g} |"
        )
    lines.append("")
    for rec in result.recommendations:
        lines += [
            f"### {rec.rank}. {rec.architecture_name}" + (f" with {rec.backbone}" if rec.backbone else ""),
            "",
        ]
        lines.append(rec.summary)
        lines.append("")
        lines += [f"- {reason}" for reason in rec.why]
        lines.append(f"- {'Backbone' if rec.backbone else 'Size'}: {rec.backbone_reason}")
        lines.append(f"- Implementation: {rec.implementation}; license: {rec.license}")
        if rec.generate_command:
            lines.append(f"- Generate it: `{rec.generate_command}`")
        elif rec.closest_generatable:
            lines.append(f"- Not generatable here; closest that is: {rec.closest_generatable}")
        lines += [f"- Note: {tip}" for tip in rec.tips]
        lines.append("")
    top = result.recommendations[0]
    hp = top.hyperparameters
    lines += [
        f"### Training the top pick ({top.architecture_name})",
        "",
        f"- **Loss:** {top.loss.name}: `{top.loss.code}`. {top.loss.why}",
        "- **Alternatives:** " + "; ".join(f"{alt.name} ({alt.why})" for alt in top.alternative_losses[:3]),
        f"- **Optimizer:** {hp.optimizer}, lr {hp.lr:g} (range {hp.lr_range[0]:g}-{hp.lr_range[1]:g}), "
        f"weight decay {hp.weight_decay:g}; batch {hp.batch_size}; ~{hp.max_epochs} epochs",
        f"- **Schedule:** {hp.scheduler}; {hp.warmup}; gradient_clip_val={hp.gradient_clip_val:g}",
        *[f"  - {note}" for note in hp.notes],
        "- **Augmentations** (torchvision.transforms.v2; *joint* = apply to image and targets together):",
        *[
            f"  - `{a.transform}({_fmt_args(a.args)})`"
            + (" *joint*" if a.joint else "")
            + (f": {a.note}" if a.note else "")
            for a in top.augmentations
        ],
        "- **Metrics** (torchmetrics):",
        *[
            f"  - `{m.cls}({_fmt_args(m.args)})`"
            + (" **primary**" if m.primary else "")
            + (f" (needs {', '.join(m.requires)})" if m.requires else "")
            + (f": {m.note}" if m.note else "")
            for m in top.metrics
        ],
        "",
        "### Tips",
        "",
        *[f"- {tip}" for tip in result.general_tips],
    ]
    if result.assumptions:
        lines += ["", "### Assumptions", "", *[f"- {a}" for a in result.assumptions]]
    lines += ["", "_Latency figures are rough estimates from a simple FLOPs model; measure on your target._"]
    return "\n".join(lines) + "\n"
