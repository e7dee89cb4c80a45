"""The parser's result types: a slot value with the words it came from, and the set of slots of a message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Generic, TypeVar

from agent.understanding.models import ModelRef
from agent.understanding.text import Span

T = TypeVar("T")


WEAK_TASK_RULES = frozenset({"class_words", "x_vs_y"})


@dataclass(frozen=True)
class Found(Generic[T]):
    """A slot value, the words of the message it was read from, and the rule that read it."""

    value: T
    span: Span
    rule: str

    @property
    def weak_task(self) -> bool:
        """A task guessed from class words ("3 classes", "cats vs dogs"), not named: the thread's task wins."""
        return self.rule in WEAK_TASK_RULES


@dataclass(frozen=True)
class Conflict:
    """Two different values for one slot in one message (the first is kept in the slot)."""

    slot: str
    kept: Found[Any]
    other: Found[Any]


@dataclass
class Slots:
    """Everything the parser read from one message; a field is None (or empty) when the message did not say.

    Units: ``image_size`` is ``(height, width)`` in pixels (a square "224" is ``(224, 224)``); ``object_size_px``
    is ``(smallest, largest)`` object extent in pixels; ``latency_ms`` in milliseconds; ``throughput_fps`` in
    images (frames) per second; ``precision`` a Lightning precision string ("bf16-mixed", "16-mixed",
    "32-true", ...); ``device_target`` one of "edge", "mobile", "cpu", "server" (see ``knowledge_device``).
    Training choices use short canonical names: ``optimizer`` "adamw"/"sgd"/..., ``scheduler`` "cosine"/
    "onecycle"/"step"/"plateau"/..., ``loss`` the knowledge base's loss ids where one exists ("focal",
    "dice_ce", "bce_with_logits", ...), ``logger`` "mlflow"/"wandb"/"tensorboard"/..., ``monitor`` the metric
    as written ("val/loss") with ``monitor_mode`` "min"/"max" (said, or inferred from the metric's name).
    """

    task: Found[str] | None = None
    num_classes: Found[int] | None = None
    multi_label: Found[bool] | None = None
    regression: Found[bool] | None = None
    image_size: Found[tuple[int, int]] | None = None
    object_size_px: Found[tuple[int, int]] | None = None
    tiny_objects: Found[bool] | None = None
    dataset_size: Found[int] | None = None
    images_per_class: Found[int] | None = None
    num_keypoints: Found[int] | None = None
    num_gpus: Found[int] | None = None
    accelerator: Found[str] | None = None
    precision: Found[str] | None = None
    quantization: Found[str] | None = None
    batch_size: Found[int] | None = None
    learning_rate: Found[float] | None = None
    epochs: Found[int] | None = None
    steps: Found[int] | None = None
    warmup_steps: Found[int] | None = None
    warmup_epochs: Found[int] | None = None
    freeze_epochs: Found[int] | None = None
    patience: Found[int] | None = None
    optimizer: Found[str] | None = None
    scheduler: Found[str] | None = None
    loss: Found[str] | None = None
    logger: Found[str] | None = None
    monitor: Found[str] | None = None
    monitor_mode: Found[str] | None = None
    early_stopping: Found[bool] | None = None
    freeze_backbone: Found[bool] | None = None
    pretrained: Found[bool] | None = None
    class_imbalance: Found[bool] | None = None
    latency_ms: Found[float] | None = None
    throughput_fps: Found[float] | None = None
    realtime: Found[bool] | None = None
    device_target: Found[str] | None = None
    backbone: Found[str] | None = None
    architecture: Found[str] | None = None
    models: list[Found[ModelRef]] = field(default_factory=list)
    experiment_ids: list[Found[str]] = field(default_factory=list)
    language: str = "en"
    conflicts: list[Conflict] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """The filled slots as plain values (``{"num_classes": 3, "image_size": (224, 224), ...}``)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Found):
                out[item.name] = value.value
        out["experiment_ids"] = [found.value for found in self.experiment_ids]
        out["models"] = [found.value.name for found in self.models]
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe record of every filled slot with its span and rule (for checkpointed dialogue state)."""

        def record(found: Found[Any]) -> dict[str, Any]:
            value = found.value
            if isinstance(value, ModelRef):
                value = asdict(value)
            elif isinstance(value, tuple):
                value = list(value)
            span = [found.span.start, found.span.end, found.span.text]
            return {"value": value, "span": span, "rule": found.rule}

        slots = {
            item.name: record(getattr(self, item.name))
            for item in fields(self)
            if isinstance(getattr(self, item.name), Found)
        }
        return {
            "language": self.language,
            "slots": slots,
            "models": [record(found) for found in self.models],
            "experiment_ids": [record(found) for found in self.experiment_ids],
            "conflicts": [
                {"slot": c.slot, "kept": record(c.kept), "other": record(c.other)} for c in self.conflicts
            ],
        }

    def generate_args(self) -> dict[str, Any]:
        """The generate_project arguments this message fills (task, architecture, backbone, num_classes, image_size).

        Only a concrete torchvision backbone is passed ("resnet50", not the family "resnet"); the image size is
        the longer side. Multi-label and regression are NOT folded in here: the caller must check
        ``multi_label``/``regression`` and never hand such a request to a single-label template.
        """
        args: dict[str, Any] = {}
        if self.task is not None:
            args["task"] = self.task.value
        backbone = next(
            (
                found.value
                for found in self.models
                if found.value.kind == "backbone"
                and any(ch.isdigit() or ch == "_" for ch in found.value.name)
            ),
            None,
        )
        if backbone is not None:
            args["backbone"] = backbone.name
        architecture = next(
            (found.value for found in self.models if found.value.kind == "architecture"), None
        )
        if architecture is not None:
            # "a RetinaNet with 5 classes": the generate tool resolves the name against the generator's registry
            # (or to the closest architecture it can write), and the name says the task when nothing else did.
            args["architecture"] = architecture.name
            if "task" not in args and architecture.task:
                args["task"] = architecture.task
        if self.num_classes is not None:
            args["num_classes"] = self.num_classes.value
        if self.image_side is not None:
            args["image_size"] = self.image_side
        return args

    @property
    def knowledge_device(self) -> str | None:
        """The knowledge base's device profile for the target ("mobile" runs on the "edge" profile)."""
        if self.device_target is None:
            return None
        return "edge" if self.device_target.value == "mobile" else self.device_target.value

    @property
    def image_side(self) -> int | None:
        """One side for tools that train square inputs: the longer side of ``image_size``."""
        return max(self.image_size.value) if self.image_size else None
