"""The slot parser: counts, sizes, ranges, units and names an ML practitioner writes in a chat message.

``parse_slots("1024x1024 images, ~800 labelled, 3 defect classes, on 2x A100 in bf16")`` fills image size,
dataset size, number of classes, GPUs and precision, each with the span of the message it was read from.

How it works, so that a newcomer can follow a wrong answer back to its rule:

1. Code blocks are blanked out (same length, offsets stay valid); pasted code never fills a slot.
2. A normalised copy is made (:class:`~agent.understanding.text.MappedText`): lower case, domain typos
   corrected ("classs" -> "classes"), number words turned into digits ("twenty" -> "20", "a dozen" -> "12").
3. Rules run in a fixed order over that copy. Each rule *claims* the characters it used, and later rules skip
   claimed numbers: "resnet50", "2x A100", "224x224", "fp16", "8-15 px" are read by their own rule first, so
   their digits can never become a number of classes or a dataset size.
4. The first value found for a slot is kept; a different value for the same slot elsewhere in the message is
   recorded in ``Slots.conflicts`` with both spans, so the agent can ask which one was meant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from agent.understanding import numbers
from agent.understanding.fuzzy import DOMAIN_VOCABULARY, find_corrections
from agent.understanding.language import detect_language
from agent.understanding.models import ModelRef, find_models
from agent.understanding.tasks import detect_task
from agent.understanding.text import MappedText, Span, mask_code, wordset

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """A slot value, the words of the message it was read from, and the rule that read it."""

    value: T
    span: Span
    rule: str


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


# ----------------------------------------------------------------------------------------------------------
# Normalisation


def _lower_same_length(text: str) -> str:
    lowered = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
    return lowered.replace("\u00d7", "x").replace("\u2019", "'")  # multiplication sign, curly apostrophe


def normalised_view(text: str, language: str, number_languages: Sequence[str] | None = None) -> MappedText:
    """The message as the rules read it: code blanked, lower case, typos fixed, number words as digits.

    Number words are read in English and in ``language``; ``number_languages`` overrides the second part
    (a one-word reply such as "zwanzig" carries no language of its own).
    """
    masked = mask_code(text)
    lowered = _lower_same_length(masked)
    if number_languages is not None:
        languages = list(number_languages)
    else:
        languages = [language] if language != "en" else []
    replacements: list[tuple[int, int, str]] = [
        (start, end, str(value)) for start, end, value in numbers.find_number_words(lowered, languages)
    ]
    taken = [(start, end) for start, end, _ in replacements]
    if language == "en":
        for fix in find_corrections(masked):
            if not any(start < fix.end and fix.start < end for start, end in taken):
                replacements.append((fix.start, fix.end, fix.corrected.lower()))
    replacements.sort()
    mapped = MappedText(text)
    position = 0
    for start, end, new in replacements:
        if start > position:
            mapped.keep(position, start, lowered[position:start])
        mapped.replace(start, end, new)
        position = end
    if position < len(text):
        mapped.keep(position, len(text), lowered[position:])
    return mapped


# ----------------------------------------------------------------------------------------------------------
# Building blocks of the rules

# A number standing on its own: not glued to letters before it ("resnet50", "top-5", "v8"), not part of a
# dotted version ("3.11.2"), optionally with a scale ("10k", "1.2m", "3 thousand").
_N = r"{name}(?:\s?(?P<{scale}>k|m|mio|thousand|million)\b|(?![\w]|\.\d))"
# The first digit comes first and the "standalone" checks look behind it, so that the regex engine can skip
# ahead to digits instead of trying the look-behinds at every position (5x faster on a paragraph).
_NUM = (
    r"(?P<{n}>\d(?<![\w.,]\d)(?<![a-z]-\d)(?<!top \d)"
    r"(?:\d{{0,2}}(?:,\d{{3}})+(?!\d)|\d{{0,2}}(?:[ \u00a0\u202f]\d{{3}})+(?![\d.,])|\d*(?:\.\d+)?))"
)


def num(name: str = "n", *, glued: bool = False) -> str:
    """A regex fragment for one standalone number captured as ``name`` (scale suffix in ``name_s``).

    ``glued`` allows a letter right after the number, for patterns that continue with one ("2x A100").
    """
    pattern = _N.format(name=_NUM.format(n=name), scale=f"{name}_s")
    return pattern.replace(r"|(?![\w]|\.\d))", r"|(?!\.\d))") if glued else pattern


def value_of(match: re.Match[str], name: str = "n") -> float:
    groups = match.groupdict()
    literal = groups[name]
    scale = groups.get(f"{name}_s") or ""
    return numbers.parse_number(f"{literal}{scale}")


_GPU_MODEL = (
    r"(?:nvidia\s+)?(?:[ahvlpk]100|h200|a10g?|a40|a6000|l4|l40s?|t4|b200|(?:rtx|gtx)\s*a?\d{4}(?:\s*ti)?"
    r"|rtx\s*a\d{4}|titan\s*\w+|tpu(?:\s*v\d)?|mi\d{3}x?)"
)
_CLASS_NOUN = (
    r"(?:classes|class|categories|category|labels|label|species|types|kinds|breeds|tags|attributes|"
    r"varieties|grades|diseases|genres|styles|brands|conditions|clases|classi|klassen|kategorien|catégories)"
)
# Words that break "N <words> classes" (the number counts something else).
_NOT_BETWEEN = wordset("""images image photos photo pictures samples examples frames per with of in from for and or to by on at
    gpus gpu epochs epoch steps px pixels pixel layers channels bits years people persons
    instances crops videos scans""")
_IMAGE_NOUNS = (
    r"(?:images|image|imgs|photos|photographs|pictures|pics|samples|examples|frames|scans|slides|crops|"
    r"videos|clips|tiles|patches|x-rays|xrays|radiographs|screenshots|documents|pages|records|datapoints|"
    r"data points|annotations|bilder|imágenes|immagini|imagens)"
)
_OBJECT_WORDS = wordset("""object objects defect defects crack cracks target targets instance instances item items particle
    particles cell cells part parts thing things they them animal animals person people car cars vehicles
    vehicle bird birds insect insects pest pests lesion lesions nodule nodules fruit fruits boxes box
    detection detections ships ship faces face text characters letters""")
_IMAGE_WORDS = wordset("""image images frame frames input inputs resolution photo photos picture pictures scan scans video
    videos tile tiles crop crops patch patches slide slides img imgs canvas""")
_DISPLAY_RESOLUTIONS = {
    (320, 240), (640, 480), (800, 600), (1024, 768), (1280, 720), (1280, 960), (1280, 1024), (1366, 768),
    (1600, 900), (1600, 1200), (1920, 1080), (1920, 1200), (2048, 1080), (2560, 1440), (2560, 1600),
    (3840, 2160), (4096, 2160), (7680, 4320),
}  # fmt: skip
_P_RESOLUTIONS = {"480p": (480, 854), "576p": (576, 1024), "720p": (720, 1280), "1080p": (1080, 1920),
                  "1440p": (1440, 2560), "2160p": (2160, 3840), "4320p": (4320, 7680)}  # fmt: skip


class _Reader:
    """One parse: the normalised text, what has been claimed, and the slots being filled."""

    def __init__(self, text: str, number_languages: Sequence[str] | None = None) -> None:
        self.original = text
        self.language = detect_language(mask_code(text))
        self.view = normalised_view(text, self.language, number_languages)
        self.text = self.view.text
        self._claimed = bytearray(len(self.text))  # 1 where a rule has used the character
        self.slots = Slots(language=self.language)
        self.has_digit = any(ch.isdigit() for ch in self.text)

    def mentions(self, *needles: str) -> bool:
        """Cheap guard before a rule's regexes: does the text contain any of these substrings at all?"""
        return any(needle in self.text for needle in needles)

    # -- bookkeeping ------------------------------------------------------------------------------------
    def is_claimed(self, start: int, end: int) -> bool:
        return self._claimed.find(1, start, max(end, start + 1)) >= 0

    def claim(self, start: int, end: int) -> None:
        self._claimed[start:end] = b"\x01" * (end - start)

    def put(self, slot: str, value: Any, start: int, end: int, rule: str, *, claim: bool = True) -> bool:
        """Fill ``slot`` (first value wins; a different later value is a conflict). Returns True if new."""
        found = Found(value, self.view.span(start, end), rule)
        current = getattr(self.slots, slot)
        if claim:
            self.claim(start, end)
        if current is None:
            setattr(self.slots, slot, found)
            return True
        if current.value != value and current.span != found.span:
            self.slots.conflicts.append(Conflict(slot, current, found))
        return False

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for match in pattern.finditer(self.text):
            number = match.groupdict().get("n")
            if not self.is_claimed(*(match.span("n") if number is not None else match.span())):
                yield match

    def words_before(self, index: int, count: int) -> list[str]:
        clause = re.split(r"[.;!?\n]|,\s", self.text[max(0, index - 160) : index])[-1]
        return re.findall(r"[a-z][a-z'-]*", clause)[-count:]

    def words_after(self, index: int, count: int) -> list[str]:
        clause = re.split(r"[.;!?\n]|,\s", self.text[index : index + 160])[0]
        return re.findall(r"[a-z][a-z'-]*", clause)[:count]


# ----------------------------------------------------------------------------------------------------------
# The rules, in the order they run

_EXP_ID = re.compile(
    r"(?<![\w-])exp-[0-9a-z]{4,}(?![\w-])|(?<![\w-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?![\w-])"
)


def _experiment_ids(r: _Reader) -> None:
    if not r.has_digit:
        return
    for match in _EXP_ID.finditer(r.text):
        span = r.view.span(*match.span())
        r.slots.experiment_ids.append(Found(span.text, span, "experiment_id"))
        r.claim(*match.span())


def _models(r: _Reader) -> None:
    for start, end, ref in find_models(r.text, skip_words=DOMAIN_VOCABULARY):
        if r.is_claimed(start, end):
            continue
        r.slots.models.append(Found(ref, r.view.span(start, end), "fuzzy_name" if ref.fuzzy else "name"))
        r.claim(start, end)
        if ref.kind == "backbone" and r.slots.backbone is None:
            r.put("backbone", ref.name, start, end, "name")
        elif ref.kind == "architecture" and r.slots.architecture is None:
            r.put("architecture", ref.name, start, end, "name")


_GPU_RULES = [
    (re.compile(rf"{num(glued=True)}\s*[x*]\s*(?P<model>{_GPU_MODEL})\b"), "n_x_model"),
    (re.compile(rf"{num()}\s+(?P<model>{_GPU_MODEL})s?\b"), "n_model"),
    (
        re.compile(
            rf"{num(glued=True)}\s*(?:x\s*)?(?:(?P<model>{_GPU_MODEL})\s+)?(?:gpus?|graphics cards|cards|accelerators|tpus?)\b"
        ),
        "n_gpus",
    ),
    (re.compile(rf"(?:gpus|devices|num_gpus|n_gpus|--gpus|nproc_per_node)\s*[=:]\s*{num()}"), "gpus_equals"),
    (re.compile(rf"{num()}\s+devices\b"), "n_devices"),
    (re.compile(rf"(?:single|1)[- ](?:(?P<model>{_GPU_MODEL})\b|gpu\b)"), "single_gpu"),
    (
        re.compile(
            rf"(?:on|with|have|using|got|own)\s+(?:a|an)\s+(?:single\s+)?(?:(?P<model>{_GPU_MODEL})\b|gpu\b)"
        ),
        "a_gpu",
    ),
]
_NO_GPU = re.compile(
    r"\bno gpus?\b|\bwithout (?:a |any )?gpus?\b|(?:don't|do not|dont) have (?:a |any )?gpus?\b|\bcpu[- ]only\b"
)
_GPU_NAME = re.compile(rf"(?<![\w-])(?P<model>{_GPU_MODEL})(?![\w-])")


def _gpus(r: _Reader) -> None:
    if not r.mentions("gpu", "tpu", "device", "nproc", "card", "accelerator") and not r.has_digit:
        return
    no_gpu = _NO_GPU.search(r.text)
    if no_gpu and "cpu" not in no_gpu.group():
        r.put("num_gpus", 0, *no_gpu.span(), "no_gpu")
    for pattern, rule in _GPU_RULES:
        for match in r.finditer(pattern):
            groups = match.groupdict()
            count = int(value_of(match)) if groups.get("n") else 1
            if count < 1 or count > 4096:
                continue
            r.put("num_gpus", count, *match.span(), rule)
            if groups.get("model"):
                r.put("accelerator", _canonical_gpu(groups["model"]), *match.span("model"), rule)
    for match in _GPU_NAME.finditer(r.text):
        if not r.is_claimed(*match.span()):
            r.put("accelerator", _canonical_gpu(match.group("model")), *match.span(), "gpu_name")
        else:
            r.claim(*match.span())


def _canonical_gpu(raw: str) -> str:
    text = re.sub(r"\s+", " ", raw.strip()).removeprefix("nvidia ")
    return re.sub(r"(rtx|gtx)\s*", r"\1 ", text).upper().replace("TI", "Ti")


_NXN = re.compile(
    r"(?<![\w.])(?P<a>\d{2,5})(?:\s*[x*]\s*|\s+(?P<by>by)\s+)(?P<b>\d{2,5})(?P<px>\s*(?:px|pixels?))?(?![\w])"
)
_RES_WORD = re.compile(r"(?<![\w.])(?P<k>[48]k|uhd|full[- ]hd|fhd|qhd)(?![\w-])")
_P_RES = re.compile(r"(?<![\w.])(?P<p>480p|576p|720p|1080p|1440p|2160p|4320p)(?![\w])")
_RANGE_PX = re.compile(
    rf"(?:between\s+)?{num('lo')}\s*(?:-|–|to|and|~)\s*{num('hi', glued=True)}\s*(?:px|pixels?|pixel)\b"  # noqa: RUF001
)
_PX = re.compile(rf"{num(glued=True)}\s*(?:px|pixels?)\b")
_SIZE_PHRASES = re.compile(
    rf"(?:image[ _]?size|img[ _]?size|imgsz|input[ _]size|input[ _]resolution|resolution|input(?:s)? (?:of|at)"
    rf"|resize(?:d)?(?: \w+)? to|crops? of|train(?:ing)? at|inference at|at a resolution of|downscale(?:d)? to)"
    rf"\s*(?:of|=|:|is|to|at|around|about)?\s*{num()}(?!\s*(?:x|\*)\s*\d)"
)
_SIZE_AFTER = re.compile(rf"{num()}\s*(?:px\s+|pixels?\s+)?(?:input|inputs|resolution|crops?)\b")
_TINY = re.compile(r"\b(?:tiny|very small|extremely small|minuscule|small)\s+(?:\w+\s+)?(?:objects?|defects?|targets?|things|items|particles|cracks|insects|pests|birds|cells|parts|details|features)\b")  # fmt: skip


def _size_subject(r: _Reader, start: int, end: int) -> str | None:
    """Whether a pixel size describes the objects or the images: the nearest such noun decides."""
    after = r.words_after(end, 2)
    if len(after) == 2 and after[0] in {"wide", "tall", "across"} and after[1] in _IMAGE_WORDS:
        return "image"  # "1024 pixels wide images"
    if after and (
        after[0] in _OBJECT_WORDS or after[0] in {"wide", "tall", "across", "big", "large", "small"}
    ):
        return "object"
    if after and after[0] in _IMAGE_WORDS:
        return "image"
    for word in reversed(r.words_before(start, 7)):
        if word in _OBJECT_WORDS or word in {"tiny", "small"}:
            return "object"
        if word in _IMAGE_WORDS:
            return "image"
    return None


def _orient(a: int, b: int) -> tuple[int, int]:
    """``(height, width)`` from "AxB": display resolutions are written width first, everything else height first."""
    if (a, b) in _DISPLAY_RESOLUTIONS:
        return b, a
    return a, b


def _sizes(r: _Reader) -> None:
    if not r.has_digit and not r.mentions("hd", "tiny", "small", "minuscule"):
        return
    for match in _NXN.finditer(r.text):
        a, b = int(match.group("a")), int(match.group("b"))
        if r.is_claimed(*match.span()) or min(a, b) < 8:
            continue
        if match.group("by") and not match.group("px") and _size_subject(r, *match.span()) != "image":
            continue  # "600 by 400" is a size only when images are being described ("divide 1000 by 32" is not)
        if _size_subject(r, *match.span()) == "object":
            r.put("object_size_px", (min(a, b), max(a, b)), *match.span(), "object_nxn")
        elif min(a, b) >= 16:
            r.put("image_size", _orient(a, b), *match.span(), "nxn")
        r.claim(*match.span())
    for match in _RES_WORD.finditer(r.text):
        word = match.group("k")
        following = r.words_after(match.end(), 2)
        if word[1:] == "k" and following and following[0] in {
            "images", "photos", "pictures", "samples", "examples", "labelled", "labeled", "annotated",
            "labels", "more", "training", "train", "steps", "iterations", "epochs",
        }:  # fmt: skip
            continue  # "4k images" is a count
        named = {"4k": (2160, 3840), "uhd": (2160, 3840), "8k": (4320, 7680), "qhd": (1440, 2560)}.get(
            word, (1080, 1920)
        )
        r.put("image_size", named, *match.span(), "resolution_name")
    for match in _P_RES.finditer(r.text):
        r.put("image_size", _P_RESOLUTIONS[match.group("p")], *match.span(), "resolution_p")
    for match in _RANGE_PX.finditer(r.text):
        if r.is_claimed(*match.span("lo")) or r.is_claimed(*match.span("hi")):
            continue
        lo, hi = int(value_of(match, "lo")), int(value_of(match, "hi"))
        if 0 < lo <= hi and _size_subject(r, *match.span()) != "image":
            r.put("object_size_px", (lo, hi), *match.span(), "px_range")
    for match in r.finditer(_PX):
        size = int(value_of(match))
        subject = _size_subject(r, *match.span())
        if subject == "object" or (subject is None and size < 32):
            r.put("object_size_px", (size, size), *match.span(), "px_object")
        elif size >= 16:
            r.put("image_size", (size, size), *match.span(), "px")
    for pattern, rule in ((_SIZE_PHRASES, "size_phrase"), (_SIZE_AFTER, "size_input")):
        for match in r.finditer(pattern):
            size = int(value_of(match))
            if 16 <= size <= 16384:
                r.put("image_size", (size, size), *match.span("n"), rule)
    obj = r.slots.object_size_px
    tiny = _TINY.search(r.text)
    if tiny:
        r.put("tiny_objects", True, *tiny.span(), "tiny_words", claim=False)
    elif obj is not None and obj.value[1] <= 32:
        r.slots.tiny_objects = Found(True, obj.span, "object_size_at_most_32px")


_PRECISION = [
    (re.compile(r"\b(?:bf16|bfloat16|bfloat-16|bf-16|brain ?float ?16)[- ]true\b|\bpure bf16\b"), "bf16-true"),
    (re.compile(r"\b(?:bf16|bfloat16|bfloat-16|bf-16|brain ?float ?16)(?:[- ]mixed)?\b"), "bf16-mixed"),
    (re.compile(r"\b(?:fp16|float16|half[- ]precision|16[- ]bit(?: precision| mixed)?|16-mixed|fp-16)\b"), "16-mixed"),
    (re.compile(r"\bmixed[- ]precision\b|\bamp\b|\bautocast\b"), "16-mixed"),
    (re.compile(r"\b(?:fp32|float32|full[- ]precision|single[- ]precision|32[- ]bit|32-true)\b"), "32-true"),
    (re.compile(r"\b(?:fp64|float64|double[- ]precision|64[- ]bit precision|64-true)\b"), "64-true"),
]  # fmt: skip
_QUANT = re.compile(r"\b(?:int8|8[- ]bit|quanti[sz](?:e|ed|ation|ing))\b|\bint4\b")


def _precision(r: _Reader) -> None:
    if not r.mentions("16", "32", "64", "fp", "float", "half", "mixed", "amp", "autocast", "precision", "int", "bit", "quanti"):  # fmt: skip
        return
    hits: list[tuple[int, int, str]] = []
    for pattern, value in _PRECISION:
        for match in pattern.finditer(r.text):
            if not r.is_claimed(*match.span()):
                hits.append((match.start(), match.end(), value))
                r.claim(*match.span())
    # bf16 said anywhere beats a generic "mixed precision" (the user said which half format).
    said_bf16 = any(value.startswith("bf16") for _, _, value in hits)
    hits.sort(key=lambda hit: (hit[2] == "16-mixed" and said_bf16, hit[0]))
    for start, end, value in hits:
        r.put("precision", value, start, end, "precision")
    for match in _QUANT.finditer(r.text):
        value = "int4" if "4" in match.group() else "int8"
        r.put("quantization", value, *match.span(), "quantization")


_SCI = r"(?P<n>\d+(?:\.\d+)?e-?\d+|\d*\.\d+|\d+)"
_LR = re.compile(
    rf"(?:\blr\b|learning[- _]rate|\blearning_rate\b|base[_ ]lr|max[_ ]lr|initial lr)\s*(?:of|=|:|is|to|at|"
    rf"around|about|~|should be|set to|=\s*)?\s*(?:of\s+)?(?:around\s+|about\s+|~\s*)?{_SCI}(?![\w.])"
)
_SCI_ALONE = re.compile(r"(?<![\w.=])(?P<n>\d+(?:\.\d+)?e-\d+)(?![\w.])")
_NOT_LR = wordset("wd weight decay eps epsilon momentum smoothing dropout threshold tolerance min_delta delta clip beta")  # fmt: skip


def _learning_rate(r: _Reader) -> None:
    if not r.has_digit or not r.mentions("lr", "learning", "e-"):
        return
    for match in r.finditer(_LR):
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "lr_keyword")
    for match in r.finditer(_SCI_ALONE):
        before = set(r.words_before(match.start(), 3))
        if before & _NOT_LR or "weight_decay" in r.text[max(0, match.start() - 20) : match.start()]:
            r.claim(*match.span())
            continue
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "scientific_notation")


_BATCH = [
    re.compile(
        rf"(?:batch[ _-]?size|\bbs\b|mini-?batch(?: size)?)\s*(?:of|=|:|is|to|at|around|about)?\s*{num()}"
    ),
    re.compile(rf"\bbatch(?:es)? of\s*{num()}"),
    re.compile(rf"{num()}\s*(?:images?\s+|samples?\s+)?per (?:batch|step|iteration)\b"),
    re.compile(rf"{num()}\s+(?:as (?:the )?)?batch[ _-]?size\b"),
]
_DURATION_UNITS = {
    "epochs": "epochs", "epoch": "epochs", "steps": "steps", "step": "steps", "iterations": "steps",
    "iteration": "steps", "iters": "steps", "iter": "steps", "batches": "steps", "updates": "steps",
    "schritte": "steps", "epochen": "epochs", "étapes": "steps", "époques": "epochs", "pasos": "steps",
    "épocas": "epochs", "passi": "steps", "epoche": "epochs", "passos": "steps",
}  # fmt: skip
_DURATION = re.compile(
    rf"{num()}\s*(?:more\s+|training\s+|train\s+|optimi[sz]er\s+|gradient\s+|(?P<warm>warm-?up\s+))?"
    rf"(?P<unit>{'|'.join(sorted(_DURATION_UNITS, key=len, reverse=True))})\b(?P<of_warm>\s+of\s+warm-?up)?"
)
_DURATION_KEY = re.compile(
    rf"(?P<key>max_epochs|num_epochs|n_epochs|epochs|max_steps|num_steps|steps|max_iters|iterations|warmup_steps"
    rf"|warmup_epochs|patience)\s*(?:=|:|of|to)\s*{num()}"
)
_PATIENCE = re.compile(rf"patience\s*(?:of|=|:|is|to)?\s*{num()}")


def _hyperparameters(r: _Reader) -> None:
    if not r.has_digit:
        return
    for pattern in _BATCH:
        for match in r.finditer(pattern):
            size = int(value_of(match))
            if 1 <= size <= 65536:
                r.put("batch_size", size, *match.span(), "batch")
    for match in r.finditer(_PATIENCE):
        r.put("patience", int(value_of(match)), *match.span(), "patience")
    for match in r.finditer(_DURATION_KEY):
        key = match.group("key")
        slot = {"max_epochs": "epochs", "num_epochs": "epochs", "n_epochs": "epochs", "max_steps": "steps",
                "num_steps": "steps", "max_iters": "steps", "iterations": "steps"}.get(key, key)  # fmt: skip
        r.put(slot, int(value_of(match)), *match.span(), "keyword")
    for match in r.finditer(_DURATION):
        count = value_of(match)
        if count != int(count) or count < 1:
            continue
        unit = _DURATION_UNITS[match.group("unit")]
        context = " ".join(r.words_before(match.start(), 6))
        following = " ".join(r.words_after(match.end(), 3))
        if unit == "epochs" and re.search(r"^(?:without|with no|of no) improv|^no improv", following):
            r.put("patience", int(count), *match.span(), "epochs_without_improvement")
            continue
        if match.group("warm") or match.group("of_warm") or re.search(r"warm-?\s?up", context):
            slot = f"warmup_{unit}"
        elif re.search(r"freez|frozen|unfreez", context):
            slot = "freeze_epochs" if unit == "epochs" else "steps"
        elif re.search(r"\bpatience\b|\bno improvement\b|\bwithout improv", context) and unit == "epochs":
            slot = "patience"
        elif re.search(r"\bevery\b|\beach\b|\bafter\b", context):
            r.claim(*match.span())
            continue  # "validate every 2 epochs" is a schedule, not the run length
        else:
            slot = unit
        r.put(slot, int(count), *match.span(), "duration")


_LATENCY = re.compile(
    rf"{num(glued=True)}\s*(?P<unit>ms|milliseconds?|msecs?|millis|µs|us|microseconds?)\b"
    rf"|(?:under|below|less than|<=?|within|at most|max(?:imum)?|no more than|faster than|sub-?|latency(?: of| budget| target)?:?)"
    rf"\s*{num('s')}\s*(?P<sunit>s|secs?|seconds?)\b"
)  # fmt: skip
_FPS = re.compile(
    rf"{num(glued=True)}\s*(?:fps|frames?\s*(?:per|/|a)\s*s(?:ec(?:ond)?)?|images?\s*(?:per|/|a)\s*s(?:ec(?:ond)?)?"
    rf"|img/s|it/s|hz|inferences?\s*(?:per|/)\s*s(?:ec(?:ond)?)?)\b"
)
_REALTIME = re.compile(r"\breal[- ]?time\b|\bechtzeit\b|\btemps réel\b|\btiempo real\b|\btempo reale\b")


def _speed(r: _Reader) -> None:
    realtime = (
        _REALTIME.search(r.text) if r.mentions("real", "echtzeit", "temps", "tiempo", "tempo") else None
    )
    if realtime:
        r.put("realtime", True, *realtime.span(), "realtime", claim=False)
    if not r.has_digit:
        return
    for match in r.finditer(_LATENCY):
        if match.group("n"):
            value = value_of(match)
            unit = match.group("unit")
            if unit in {"µs", "us", "microsecond", "microseconds"}:
                value /= 1000
            r.put("latency_ms", float(value), *match.span(), "latency")
        elif match.group("s"):
            r.put("latency_ms", float(value_of(match, "s")) * 1000, *match.span(), "latency_seconds")
    for match in r.finditer(_FPS):
        r.put("throughput_fps", float(value_of(match)), *match.span(), "throughput")


_DEVICES = [
    (
        re.compile(
            r"\b(?:mobile(?! ?net)|phones?|smartphones?|android|iphone|ipad|ios|on[- ]device|tflite|core ?ml|handy|téléphone|móvil|celular|telefono)\b"
        ),
        "mobile",
    ),
    (
        re.compile(
            r"\b(?:edge|embedded|jetson|orin|xavier|raspberry\s*pi|rpi|coral|microcontrollers?|mcu|npu|drones?|fpga|hailo|openvino|arm board|tpu edge)\b"
        ),
        "edge",
    ),
    (
        re.compile(
            r"\bcpu[- ]only\b|\b(?:on|for|with) (?:a |the |an? \w+ )?cpus?\b|\bcpus?\b|\bno gpu|\bwithout (?:a |any )?gpu|\blaptop\b"
        ),
        "cpu",
    ),
    (re.compile(r"\b(?:gpu )?servers?\b|\bcloud\b|\bdata ?cent(?:er|re)\b|\btriton\b"), "server"),
]


def _device_target(r: _Reader) -> None:
    for pattern, value in _DEVICES:
        match = pattern.search(r.text)
        if match and not r.is_claimed(*match.span()):
            r.put("device_target", value, *match.span(), value, claim=False)
            return


_KEYPOINTS = re.compile(
    rf"{num()}\s+(?:(?!(?:images?|photos?|per|of|and|with|in)\b)[a-z0-9]+\s+){{0,2}}(?:keypoints?|key[- ]points?|landmarks?|joints?|body points|points per)\b"
)
_KEYPOINTS_KEY = re.compile(rf"(?:num_keypoints|num_joints|number of (?:keypoints|landmarks|joints))\s*(?:=|:|is|of)?\s*{num()}")  # fmt: skip


def _keypoints(r: _Reader) -> None:
    if not r.has_digit or not r.mentions("key", "landmark", "joint", "point"):
        return
    for pattern in (_KEYPOINTS_KEY, _KEYPOINTS):
        for match in r.finditer(pattern):
            count = int(value_of(match))
            if 1 <= count <= 1000:
                r.put("num_keypoints", count, *match.span(), "keypoints")


_DATASET = re.compile(
    rf"{num()}\s+(?P<mid>(?:[a-z][\w'-]*\s+){{0,3}}?){_IMAGE_NOUNS}\b(?!\s+(?:per|for each|each|a|an)\b)"
)
_PER_CLASS = re.compile(
    rf"{num()}\s+(?:[a-z][\w-]*\s+)?{_IMAGE_NOUNS}\s+(?:per|for each|each|a|an)\s+(?:class|category|label|species|type)\b"
)
_LABELLED = re.compile(
    rf"{num()}\s+(?:hand[- ])?(?:labell?ed|annotated|tagged|labelled ones|examples)\b(?!\s+(?:classes|categories))"
)
_DATASET_KEY = re.compile(
    rf"(?:dataset|data set|training set|train set)(?: size)?\s*(?:of|with|has|size|is|contains|:|=|of about|of around|of roughly)?\s*"
    rf"(?:about|around|roughly|approximately|only|just)?\s*{num()}(?!\s*(?:classes|categories|gb|mb|tb|%))"
)  # fmt: skip
_DATASET_STOP = frozenset(_NOT_BETWEEN - {"of", "and", "labelled"}) | {"classes", "class", "categories"}


def _dataset(r: _Reader) -> None:
    if not r.has_digit:
        return
    for match in r.finditer(_PER_CLASS):
        r.put("images_per_class", int(value_of(match)), *match.span(), "per_class")
    for match in r.finditer(_DATASET):
        middle = match.group("mid").split()
        if any(word in _DATASET_STOP or word in {"of", "per", "with", "for"} for word in middle):
            continue
        count = int(value_of(match))
        if count >= 10:
            r.put("dataset_size", count, *match.span(), "n_images")
    for pattern, rule in ((_LABELLED, "n_labelled"), (_DATASET_KEY, "dataset_keyword")):
        for match in r.finditer(pattern):
            count = int(value_of(match))
            if count >= 10:
                r.put("dataset_size", count, *match.span("n"), rule)


_CLASSES_KEY = re.compile(
    rf"(?:num[_ ]?classes|n[_ ]classes|nc|number of (?:classes|categories|labels|species|object types|types)|"
    rf"class count|how many classes\??)\s*(?:=|:|is|are|of|will be|would be|should be)?\s*(?:about|around|exactly|just)?\s*{num()}"
)  # fmt: skip
_N_WAY = re.compile(rf"{num()}\s*-\s*(?:class|way|category|label)\b|{num('w')}\s+way\b")
_N_CLASSES = re.compile(
    rf"{num()}\s+(?P<mid>(?:[a-z][\w'/-]*\s+){{0,3}}?)(?P<noun>{_CLASS_NOUN})\b(?P<per>\s*(?:per|each)\b)?"
)
_INTO_N = re.compile(rf"(?:classify|categori[sz]e|sort|split|assign|separate)\b[^.?!]{{0,40}}?\binto\s+{num()}(?!\s*(?:px|%|images|folders))")  # fmt: skip
_BINARY = re.compile(
    r"\bbinary\b(?!\s*(?:cross|ce\b|bce|masks?|file|search|format|data|weights|segmentation mask))"
    r"|\byes/no\b|\byes or no\b|\btwo[- ]class\b|\b2 classes\b|\bor not\b|\bor no \w+"
)
_CLASS_LIST = re.compile(
    r"(?:classes|categories|labels|class names|the classes)\s*(?:are|:|=|will be|would be)\s*"
    r"(?P<items>[a-z][\w'-]*(?:\s+(?!and\b|or\b)[a-z][\w'-]*)?(?:\s*(?:,|/|\band\b|\bor\b|,\s*and|,\s*or)\s*[a-z][\w'-]*(?:\s+(?!and\b|or\b)[a-z][\w'-]*)?)+)"
)
_VS = re.compile(r"(?<![\w-])(?P<items>[a-z]+(?:\s+(?:vs\.?|versus)\s+[a-z]+)+)(?![\w-])")
_VS_STOP = wordset("""train val validation test cpu gpu min max accuracy speed precision recall loss latency adam adamw sgd ddp
    fsdp deepspeed lightning pytorch tensorflow keras jax onnx tensorrt torchscript mean median sum batch
    epoch epochs steps local global online offline fp bf int float single multi one two before after old
    new this that it them mine yours ours theirs static dynamic""")


def _classes(r: _Reader) -> None:
    if r.has_digit:
        for match in r.finditer(_CLASSES_KEY):
            r.put("num_classes", int(value_of(match)), *match.span(), "keyword")
        for match in r.finditer(_N_WAY):
            name = "n" if match.group("n") else "w"
            r.put("num_classes", int(value_of(match, name)), *match.span(), "n_class")
        for match in r.finditer(_N_CLASSES):
            middle = match.group("mid").split()
            if any(word in _NOT_BETWEEN or not word.isalpha() for word in middle):
                continue
            if match.group("per") and match.group("noun") not in {"tags", "attributes"}:
                continue  # "one label per image" says single-label, not how many classes there are
            before = r.words_before(match.start(), 2)
            if before and before[-1] in {"top", "first", "last", "per", "every"}:
                continue
            if re.search(r"\d\s*(?:-|\u2013|to|or)\s*$", r.text[max(0, match.start() - 8) : match.start()]):
                continue  # "5-6 classes", "5 or 6 classes": not decided yet, so ask rather than guess
            count = value_of(match)
            if count == int(count) and 1 <= count <= 100000:
                r.put("num_classes", int(count), *match.span(), "n_classes")
        for match in r.finditer(_INTO_N):
            r.put("num_classes", int(value_of(match)), *match.span("n"), "into_n")
    class_list = r.mentions("classes", "categories", "labels", "class names")
    for match in _CLASS_LIST.finditer(r.text) if class_list else ():
        items = [
            item
            for item in re.split(r"\s*(?:,\s*and|,\s*or|,|/|\band\b|\bor\b)\s*", match.group("items"))
            if item
        ]
        if 2 <= len(items) <= 50:
            r.put("num_classes", len(items), *match.span(), "class_list", claim=False)
    task = r.slots.task.value if r.slots.task else None
    if task in {None, "classification"} and r.mentions("vs", "versus"):
        for match in _VS.finditer(r.text):
            items = re.split(r"\s+(?:vs\.?|versus)\s+", match.group("items"))
            span = r.view.span(*match.span())
            if (
                r.is_claimed(*match.span())
                or any(item in _VS_STOP or item in DOMAIN_VOCABULARY for item in items)
                or any(word.isupper() for word in re.findall(r"[A-Za-z]{2,}", span.text))
            ):
                continue
            r.put("num_classes", len(items), *match.span(), "x_vs_y", claim=False)
            if r.slots.task is None:
                r.put("task", "classification", *match.span(), "x_vs_y", claim=False)
    binary = r.finditer(_BINARY) if r.mentions("binary", "yes", "two", "2 classes", "or no") else iter(())
    for match in binary:
        r.put("num_classes", 2, *match.span(), "binary", claim=False)
        break


_MULTI_TRUE = re.compile(
    r"\bmulti[- ]?label(?:led|ed)?\b|\bmultilabel\b|\bmultiple (?:labels|tags|classes|categories|attributes)\b"
    r"|\bseveral (?:labels|tags|classes|categories|attributes)\b|\bmore than (?:1|one) (?:label|tag|class|category)\b"
    r"|\b(?:1|one) or more (?:labels|tags|classes|categories)\b|\bany number of (?:labels|tags|classes)\b"
    r"|\b(?:can|may|might|could|often|will) (?:have|contain|carry|show|belong to|get|be tagged with) (?:several|multiple|many|more than (?:1|one)|any number of|2 or more|a few|(?:1|one) or more)\b"
    r"|\b(?:several|multiple|many|more than (?:1|one)|2 or more|a few)\s+(?:[a-z-]+\s+){0,2}(?:can|may|might|could|often|will|do)\s+(?:appear|occur|be present|co-?occur|show up|be visible)"
    r"|\bco-?occur\w*|\b(?:zero|0) or more (?:of )?(?:the )?(?:\d+ )?(?:labels|tags|classes|categories|attributes)\b|\bany subset of\b"
    r"|\bnot mutually exclusive\b|\bnon[- ]exclusive\b|\bimage tagging\b|\btag(?:ging)? (?:each|every) image with (?:all|every|several|multiple)"
    r"|\bmehrere labels\b|\bmulti-étiquettes?\b|\bmultietiqueta\b"
)  # fmt: skip
_MULTI_FALSE = re.compile(
    r"\bsingle[- ]label\b|\bexactly (?:1|one) (?:label|class|category|tag)\b"
    r"|\b(?:1|one|a single) (?:label|class|category|tag) per (?:image|sample|photo)\b|(?<!not )\bmutually exclusive\b"
)
_REGRESSION = re.compile(
    r"(?<!logistic )(?<!box )(?<!bbox )(?<!bounding box )(?<!bounding-box )\bregress(?:ion|or|ing|es)?\b"
    r"|\b(?:estimat\w*|predict\w*|infer|regress|output\w*|measur\w*|guess\w*)\s+(?:the |a |an |their |its |each |of |how )?(?:[a-z]+\s+)?"
    r"(?:age|weight|price|count|value|number|score|angle|depth|height|length|temperature|yield|rating|percentage|quantity|distance"
    r"|speed|volume|concentration|bmi|mass|severity score|ripeness score|calories|old)\b(?! of (?:classes|categories))"
    r"|\bcontinuous (?:value|target|output|variable|label|score)s?\b|\bhow old\b"
)  # fmt: skip


def _label_structure(r: _Reader) -> None:
    if r.mentions("label", "tag", "class", "categor", "attribute", "exclusive", "multi", "mehrere", "étiquet", "etiquet", "several", "many", "more", "occur", "appear", "subset"):  # fmt: skip
        true = _MULTI_TRUE.search(r.text)
        false = _MULTI_FALSE.search(r.text)
    else:
        true = false = None
    if true and (false is None or true.start() <= false.start()):
        r.put("multi_label", True, *true.span(), "multi_label", claim=False)
    elif false:
        r.put("multi_label", False, *false.span(), "single_label", claim=False)
    regression = (
        _REGRESSION.search(r.text)
        if r.mentions(
            "regress", "estimat", "predict", "infer", "output", "measur", "guess", "continuous", "how old"
        )
        else None
    )
    if regression:
        r.put("regression", True, *regression.span(), "regression", claim=False)


def _task(r: _Reader) -> None:
    implied = [(found.value.task, found) for found in r.slots.models if found.value.task]
    hit = detect_task(r.text, implied=[(task, found.span) for task, found in implied])
    if hit is not None:
        task, start, end, rule = hit
        if start < 0:  # implied by a model name: its span is already in original coordinates
            found = next(found for implied_task, found in implied if implied_task == task)
            r.slots.task = Found(task, found.span, rule)
        else:
            r.put("task", task, start, end, rule, claim=False)
    if r.slots.regression is not None and r.slots.task is None:
        r.slots.task = Found("regression", r.slots.regression.span, "regression_signal")


_RULES: tuple[Callable[[_Reader], None], ...] = (
    _experiment_ids,
    _models,
    _gpus,
    _precision,
    _learning_rate,
    _sizes,
    _hyperparameters,
    _speed,
    _device_target,
    _keypoints,
    _dataset,
    _label_structure,
    _task,
    _classes,
)


def _read(text: str, number_languages: Sequence[str] | None = None) -> _Reader:
    reader = _Reader(text, number_languages)
    for rule in _RULES:
        rule(reader)
    return reader


def parse_slots(text: str) -> Slots:
    """Read every slot in a chat message (code blocks ignored). Deterministic; about a millisecond."""
    return _read(text).slots


# ----------------------------------------------------------------------------------------------------------
# Answers to a question the agent asked

_INT_SLOTS = wordset(
    "num_classes dataset_size images_per_class num_keypoints num_gpus batch_size epochs steps warmup_steps "
    "warmup_epochs freeze_epochs patience"
)
_BARE = re.compile(rf"{num()}")


def parse_answer(text: str, expected_slot: str) -> Found[Any] | None:
    """The value of ``expected_slot`` in a reply to the agent's question about it.

    The reply may be a full phrase ("with 20 classes"), a number word ("twenty"), or a bare number ("20",
    "about 20", "20 please"): a bare number counts only when it is the reply's only free number and the
    reply is short (eight words or fewer), so a new request is not mistaken for an answer. Returns None when
    the reply does not answer (the caller then treats it as a new message).
    """
    if expected_slot not in {item.name for item in fields(Slots)}:
        raise ValueError(f"unknown slot: {expected_slot!r}")
    reader = _read(text)
    if (
        reader.language == "en"
        and len(text.split()) <= 3
        and reader.slots.values().keys() <= {"experiment_ids", "models"}
    ):
        # "zwanzig", "vingt clases": too short to tell the language, so try every language's number words.
        reader = _read(text, numbers.ANSWER_LANGUAGES)
    found = getattr(reader.slots, expected_slot)
    if isinstance(found, Found):
        return found
    if isinstance(found, list) and found:
        return found[0]
    if len(reader.text.split()) > 8:
        return None
    free = [match for match in _BARE.finditer(reader.text) if not reader.is_claimed(*match.span())]
    if len(free) != 1:
        return None
    match = free[0]
    value = value_of(match)
    span = reader.view.span(*match.span())
    if (
        expected_slot in _INT_SLOTS
        and value == int(value)
        and value >= (0 if expected_slot == "num_gpus" else 1)
    ):
        return Found(int(value), span, "bare_answer")
    if expected_slot == "image_size" and 16 <= value <= 16384 and value == int(value):
        return Found((int(value), int(value)), span, "bare_answer")
    if expected_slot in {"latency_ms", "throughput_fps"}:
        return Found(float(value), span, "bare_answer")
    if expected_slot == "learning_rate" and 0 < value < 1:
        return Found(float(value), span, "bare_answer")
    return None
