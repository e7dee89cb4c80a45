"""Which computer-vision task a message is about, including tasks the knowledge base does not cover yet.

The rules run on the normalised text (typos already corrected, so "segmantation" reads as "segmentation") in
a fixed priority order: specific tasks that contain a general word come first ("anomaly detection" is not
object detection, "instance segmentation" is not semantic segmentation, "detect 68 landmarks" is keypoints).
When the message names no task, the task a named model implies is used (YOLO -> detection), and last a weak
cue ("3 defect classes" -> classification). Task ids outside the knowledge base (``anomaly_detection``,
``ocr``, ``change_detection``, ``segmentation_3d``, ``video_classification``, ``tracking``) are returned as
such, so the agent can say plainly that they are outside what it knows well instead of answering for another
task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.understanding.text import Span

# Task ids the knowledge base has (knowledge/task_*.yaml) and ids this parser adds for honest scoping.
KNOWN_TASKS = (
    "classification",
    "detection",
    "segmentation",
    "instance_segmentation",
    "keypoints",
    "regression",
)
EXTRA_TASKS = (
    "anomaly_detection",
    "ocr",
    "change_detection",
    "segmentation_3d",
    "video_classification",
    "tracking",
)

_EXPLICIT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\binstance[- ]?seg\w*|\binstance[- ]level masks?|\binstance masks?|\bpanoptic\b"
                r"|\b(?:each|every|per|individual|separate) (?:object|instance|cell|item|person)'?s? (?:masks?|outlines?|polygons?)"
                r"|\bseparate touching\b|\btouching (?:cells|objects|instances)\b"
                r"|\b(?:a|one|1|its own) (?:separate )?mask (?:per|for each|for every|around each|of each) (?!image|pixel|frame|photo|tile|picture|scan|slice)\w+"), "instance_segmentation"),
    (re.compile(r"\banomal\w*|\bnovelty detection\b|\boutlier detection\b|\bout-of-distribution\b"
                r"|\bonly (?:good|normal|ok|defect-free|non-defective) (?:samples|images|parts|examples|data)"
                r"|\b(?:no|without|zero) (?:defect|defective|anomaly|bad|faulty|broken|damaged) (?:labels|examples|samples|images|ones|pictures|photos)"
                r"|\bdefect-free (?:samples|images) only\b|\bone-class\b"), "anomaly_detection"),
    (re.compile(r"\bocr\b|\btext recognition\b|\btext detection\b|\bscene text\b|\bhandwrit\w+"
                r"|\b(?:read|recogni[sz]e|extract|transcribe)\w* (?:the )?(?:text|characters|digits|licen[cs]e plates?|number plates?|serial numbers?|meter readings?)"
                r"|\bdocument (?:understanding|parsing|layout|ai|extraction)\b|\binvoices?\b|\breceipts?\b"), "ocr"),
    (re.compile(r"\bchange detection\b|\bdetect\w* (?:the )?changes?\b|\bchanges? between\b|\bbefore[- ](?:and|vs\.?)[- ]after\b"
                r"|\bbi-?temporal\b"), "change_detection"),
    (re.compile(r"\b3d (?:segmentation|volumes?|medical|ct|mri|scans?|u-?net)\b|\bvolumetric\b|\bvoxels?\b"
                r"|\b(?:ct|mri|pet) volumes?\b|\bnnu-?net\b|\bnifti\b|\bdicom series\b"), "segmentation_3d"),
    (re.compile(r"\baction recognition\b|\bactivity recognition\b|\bvideo classification\b|\bclassify (?:video|clips)"
                r"|\bgesture recognition\b"), "video_classification"),
    (re.compile(r"\b(?:multi-?object |object |people |player )?tracking\b|\btrack (?:objects|people|players|vehicles)\b"), "tracking"),
    (re.compile(r"\bkey[- ]?points?\b|\blandmarks?\b|\bpose(?: estimation)?\b|\bskeletons?\b|\bjoints\b"
                r"|\bpunti chiave\b|\bpuntos clave\b|\bposen?sch"), "keypoints"),
    (re.compile(r"(?<!logistic )(?<!box )(?<!bbox )\bregress(?:ion|or)?\b|\bregresi[oó]n\b|\bregressione\b|\bregress[ãa]o\b"
                r"|\bpredict\w* (?:a |an |the )?(?:\w+'?s? ){0,3}(?:value|number|score|age|content|level|amount|"
                r"concentration|weight|price|temperature|percentage)\b(?! of (?:classes|images))"), "regression"),
    (re.compile(r"\bsegment\w*|\bsemantic\b|\bper[- ]pixel\b|\bpixel[- ](?:wise|level|accurate|precise)\b|\bmasks?\b|\bseg\b"
                r"|\bau pixel pr[eè]s\b|\bpixel par pixel\b|\bpar pixel\b|\bpixelweise\b|\bpixelgenau\b|\bpor p[íi]xel\b"
                r"|\ba n[íi]vel de p[íi]xel\b|\bper pixel\b|\bpixel per pixel\b|\bannotated (?:at|to) the pixel\b"
                r"|\b\w*segmentier\w*|\bsegmentaci\w*|\bsegmentaz\w*|\bsegmenta\w*"), "segmentation"),
    (re.compile(r"\bdetect\w*|\bbounding[- ]?box\w*|\bbbox\w*|\bboxes\b|\bbox (?:labels?|annotations?|coordinates)\b|\blocali[sz]\w*|\bdetecci\w*|\bdétect\w*"
                r"|\bobjekterkennung\b|\brilevamento\b|\brilevator\w*|\bdetecç\w*|\bdetektor\w*|\bdetektion\w*"), "detection"),
    (re.compile(r"\bclassif\w*|\bclasific\w*|\b\w*klassifi\w*|\bcategori[sz]\w*|\brecogni[sz]\w*|\bimage tagging\b"), "classification"),
]  # fmt: skip
_WEAK_CLASSIFICATION = re.compile(
    r"\b(?:classes|categories|species|breeds|\d+ (?:\w+ )?(?:types|labels|tags|diseases|grades|varieties|conditions))\b"
    r"|\b(?:sort\w*|distinguish\w*|separat\w*|grad(?:e|ing))\b[^.?!]{0,25}\b\d+ (?:[\w-]+ )?(?:kinds|types|sorts|grades)\b"
    r"|\b(?:tell|say|know|decide|predict) which (?:of (?:the )?\d+ |one of )|\btell(?:ing)? (?:[\w-]+ ){1,5}apart\b"
)


# "detection, not segmentation", "rather than classification": the negated task is not the one asked for.
_NEGATED = re.compile(
    r"\b(?:not|no longer|instead of|rather than|nicht|pas|sin|non|não)\s+(?:an?\s+|the\s+|semantic\s+|"
    r"object\s+|image\s+)?(?:segment\w*|detect\w*|classif\w*|regression)"
    # "we only have box labels, no masks": the masks are what they do not have.
    r"|\b(?:no|not|without|don'?t have(?: any)?|keine|pas de|sin|sem|senza)\s+(?:pixel[- ]?(?:level\s+)?)?"
    r"(?:masks?|segmentation masks?|masken|masques?|m[áa]scaras?|maschere)\b",
    re.IGNORECASE,
)


def detect_task(text: str, implied: Sequence[tuple[str, Span]] = ()) -> tuple[str, int, int, str] | None:
    """``(task, start, end, rule)`` for the task a normalised message is about, or None.

    ``implied`` are tasks implied by model names the message contains, with their spans; when one of them
    decides, ``start`` and ``end`` are -1 (the caller takes the model's span).
    """
    text = _NEGATED.sub(lambda m: " " * len(m.group(0)), text)  # same length: spans stay valid
    for pattern, task in _EXPLICIT:
        match = pattern.search(text)
        if match is None:
            continue
        if task == "segmentation" and any(name == "instance_segmentation" for name, _ in implied):
            return "instance_segmentation", -1, -1, "segmentation_with_instance_model"
        return task, match.start(), match.end(), "task_words"
    if implied:
        return implied[0][0], -1, -1, "implied_by_model"
    weak = _WEAK_CLASSIFICATION.search(text)
    if weak:
        return "classification", weak.start(), weak.end(), "class_words"
    return None
