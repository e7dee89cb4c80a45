"""Typo-tolerant normalisation of domain words ("genrate a clasifier" -> "generate a classifier").

Users type fast. The rules downstream are exact, so a misspelt keyword would silently change the answer; this
module corrects words that are one edit (two for long words) away from a small domain vocabulary, using the
optimal-string-alignment distance from rapidfuzz (a swapped pair of letters, "reveiw", counts as one edit).

What it never touches: fenced or indented code, inline `code`, URLs, and identifiers (anything with a digit,
an underscore, a dot inside, an inner capital, or a call/attribute next to it). Words that are real and merely
close to a domain word ("defect" vs "detect", "expert" vs "export") are protected by listing them as known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from agent.understanding.text import code_regions, wordset

# The words we correct towards (inflections listed so that a correct inflection is never "corrected").
DOMAIN_VOCABULARY: frozenset[str] = wordset("""
    generate generates generated generating generation generator scaffold scaffolding create creating
    classifier classifiers classification classify classifying classified classes class category categories
    segmentation segment segments segmenter segmenting segmented semantic instance instances panoptic
    detection detector detectors detect detecting detected keypoint keypoints landmark landmarks skeleton
    regression regressor estimate estimation review reviewing reviewed reviews recommend recommends
    recommended recommendation recommendations architecture architectures backbone backbones pretrained
    dataset datasets training train trained trainer validation accuracy precision recall augmentation
    augmentations learning epoch epochs batch batches checkpoint checkpoints lightning model models module
    pipeline experiment experiments compare comparison export explain explanation smoke labels label labelled
    labeled annotated annotations images image pixels objects object resolution latency throughput inference
    deploy deployment quantization quantisation multilabel species attributes attribute optimizer optimiser
    scheduler warmup gradient accumulation mixed embedded transformer convolutional network networks
    anomaly anomalies medical satellite document change keypoint estimator tracking video frames
    """)

# Real words that sit one edit from a domain word: never rewrite them.
_PROTECTED: frozenset[str] = wordset("""
    defect defects defective expert experts preview previews models modal modals classic classics glass
    glasses grass passes masses detail details declare sections section detour detects deflect reflect
    protect protects select selects expect expects effect effects affect affects reject rejects object
    objects objective subject subjects trains brains grains strain strains rained rainer gained explains
    planner planning labour labor lapels camels general generals generally generous create creates created
    creative creature imagine imaging imaged magnet instant instants distance distances estimate estimated
    reviver revise revised revive revived medics medial medium module modules modulo modular smoked smokes
    spoke spoken export exported exporter exports exporting explore explorer latent latest latter labeling
    labelling labelled labeled inference infer segments segmented segmenting frames framed batched
    changes changed charge chance chances channel channels compared compares compete complete completed
    images imaged images imagery
    """)

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_INLINE_CODE = re.compile(r"`[^`\n]+`")


@dataclass(frozen=True)
class Correction:
    """One rewritten word: where it was, what it said, what it became."""

    start: int
    end: int
    original: str
    corrected: str


@lru_cache(maxsize=1)
def _by_initial() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for word in sorted(DOMAIN_VOCABULARY):
        table.setdefault(word[0], []).append(word)
    return table


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str | None:
    """The domain word a lower-case ``word`` is a typo of, or None when it is fine or not close to any."""
    if len(word) < 6 or word in DOMAIN_VOCABULARY or word in _PROTECTED:
        return None
    candidates = _by_initial().get(word[0])
    if not candidates:
        return None
    max_edits = 2 if len(word) >= 9 else 1
    hits = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=6)
    if not hits:
        return None
    best = min(int(hit[1]) for hit in hits)
    closest = [str(hit[0]) for hit in hits if hit[1] == best]
    # Ties ("classs": class / classes) go to the closest in overall similarity, then the longer word.
    closest.sort(key=lambda cand: (-fuzz.ratio(word, cand), -len(cand)))
    return closest[0]


def _protected_ranges(text: str) -> list[tuple[int, int]]:
    ranges = code_regions(text)
    ranges += [(m.start(), m.end()) for m in _INLINE_CODE.finditer(text)]
    ranges += [(m.start(), m.end()) for m in _URL.finditer(text)]
    return sorted(ranges)


def _is_identifier_part(text: str, start: int, end: int) -> bool:
    """True when the word is glued to code-like characters (``trainer.fit``, ``num_classes``, ``f(x)``)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    after2 = text[end + 1] if end + 1 < len(text) else " "
    if before in "_./\\#@$" or before.isdigit() or after in "_(/\\[=" or after.isdigit():
        return True
    if before in "(,[" and start >= 2 and (text[start - 2].isalnum() or text[start - 2] in "_(,"):
        return True  # an argument of a call: trainer.fit(clasifier)
    return after == "." and after2.isalnum()


def _match_case(original: str, corrected: str) -> str:
    if original.isupper() and len(original) > 1:
        return corrected.upper()
    if original[0].isupper():
        return corrected[0].upper() + corrected[1:]
    return corrected


def find_corrections(text: str) -> list[Correction]:
    """Every domain-word typo in ``text`` outside code, URLs and identifiers."""
    protected = _protected_ranges(text)
    corrections: list[Correction] = []
    region = 0
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        while region < len(protected) and protected[region][1] <= start:
            region += 1
        if region < len(protected) and protected[region][0] <= start < protected[region][1]:
            continue
        token = match.group()
        if len(token) < 6 or _is_identifier_part(text, start, end):
            continue
        if not (token.islower() or token.isupper() or token[1:].islower()):
            continue  # camelCase / PascalCase: an identifier, not a typo
        fixed = correct_word(token.lower())
        if fixed is not None:
            corrections.append(Correction(start, end, token, _match_case(token, fixed)))
    return corrections


def normalise(text: str, language: str | None = None) -> str:
    """``text`` with misspelt domain words corrected; code, URLs and identifiers are left exactly as they are.

    The vocabulary is English, so a message in another language (detected when ``language`` is None) is
    returned unchanged: "trainiere" is German, not a typo of "trainer".
    """
    if language is None:
        from agent.understanding.language import detect_language

        language = detect_language(text)
    if language != "en":
        return text
    corrections = find_corrections(text)
    if not corrections:
        return text
    parts: list[str] = []
    position = 0
    for fix in corrections:
        parts.append(text[position : fix.start])
        parts.append(fix.corrected)
        position = fix.end
    parts.append(text[position:])
    return "".join(parts)
