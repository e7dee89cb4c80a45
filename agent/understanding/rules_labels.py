"""Rules for what is predicted: experiment ids, model names, task, number of classes, multi-label, regression."""

from __future__ import annotations

import re

from agent.understanding.fuzzy import DOMAIN_VOCABULARY
from agent.understanding.models import find_models
from agent.understanding.reader import NOT_BETWEEN, Reader, num, value_of
from agent.understanding.slot_types import Found
from agent.understanding.tasks import detect_task
from agent.understanding.text import wordset

_EXP_ID = re.compile(
    r"(?<![\w-])exp-[0-9a-z]{4,}(?![\w-])|(?<![\w-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?![\w-])"
)


def read_experiment_ids(r: Reader) -> None:
    """Experiment ids as written, prefix kept ("exp-1a2b...", or a bare hex id of 8+ characters)."""
    if not r.has_digit:
        return
    for match in _EXP_ID.finditer(r.text):
        span = r.view.span(*match.span())
        r.slots.experiment_ids.append(Found(span.text, span, "experiment_id"))
        r.claim(*match.span())


def read_models(r: Reader) -> None:
    """Backbone and architecture names (exact or fuzzy), claimed so "resnet50" never counts 50 of anything."""
    for start, end, ref in find_models(r.text, skip_words=DOMAIN_VOCABULARY):
        if r.is_claimed(start, end):
            continue
        if ref.name.startswith("yolo") and re.match(
            r"\s*(?:format|formatted|txt|labels?|annotations?|dataset)\b", r.text[end:]
        ):
            continue  # "labels in YOLO format" names a file format, not a model
        r.slots.models.append(Found(ref, r.view.span(start, end), "fuzzy_name" if ref.fuzzy else "name"))
        r.claim(start, end)
        if ref.kind == "backbone" and r.slots.backbone is None:
            r.put("backbone", ref.name, start, end, "name")
        elif ref.kind == "architecture" and r.slots.architecture is None:
            r.put("architecture", ref.name, start, end, "name")


_CLASS_NOUN = (
    r"(?:classes|class|categories|category|labels|label|species|types|kinds|breeds|tags|attributes|"
    r"varieties|grades|diseases|genres|styles|brands|conditions|clases|clase|classi|classe|klassen|klasse|"
    r"kategorien|kategorie|catégories|catégorie|categorías|categoría|categorie|categoria|klas|klasy|klassen)"
)


_CLASSES_KEY = re.compile(
    rf"(?:num[_ ]?classes|n[_ ]classes|nc|classes(?=\s*[=:])|number of (?:classes|categories|labels|species|object types|types)|"
    rf"class count|how many classes\??)\s*(?:=|:|is|are|of|will be|would be|should be)?\s*(?:about|around|exactly|just)?\s*{num()}"
)  # fmt: skip


_N_WAY = re.compile(rf"{num()}\s*-\s*(?:class|way|category|label)\b|{num('w')}\s+way\b")


_N_CLASSES = re.compile(
    rf"{num()}\s+(?P<mid>(?:[a-z][\w'/-]*\s+){{0,3}}?)(?P<noun>{_CLASS_NOUN})\b(?P<per>\s*(?:per|each)\b)?"
)


# "tags (19 of them)", "classes (12 in total)"
_NOUN_THEN_N = re.compile(rf"\b{_CLASS_NOUN}\s*\(\s*{num()}(?:\s+(?:of them|in total|total))?\s*\)")
_N_TOTAL = re.compile(rf"(?:\.\.\.|…|,|\()\s*{num()}\s+(?:in )?total\b")
# "which of 6 pests each photo shows": a choice among N things is N classes, whatever the things are called.
_WHICH_OF_N = re.compile(
    rf"\b(?:which|one|any) of (?:the |these |those |our )?{num()}\s+(?!px|%|images|photos|pictures|samples|gpus|epochs|steps)[a-z]"
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


_SLASH_LIST = re.compile(
    r":\s*(?P<items>[a-z][a-z' -]{0,30}(?:\s*/\s*[a-z][a-z' -]{0,30}){1,49})\s*(?:$|[.?!;])"
)
_VS = re.compile(r"(?<![\w-])(?P<items>[a-z]+(?:\s+(?:vs\.?|versus)\s+[a-z]+)+)(?![\w-])")


_VS_STOP = wordset("""train val validation test cpu gpu min max accuracy speed precision recall loss latency adam adamw sgd ddp
    fsdp deepspeed lightning pytorch tensorflow keras jax onnx tensorrt torchscript mean median sum batch
    epoch epochs steps local global online offline fp bf int float single multi one two before after old
    new this that it them mine yours ours theirs static dynamic""")


def read_classes(r: Reader) -> None:
    """Number of classes, from the most explicit form ("num_classes=5") to the least ("cats vs dogs")."""
    if r.has_digit:
        for match in r.finditer(_CLASSES_KEY):
            r.put("num_classes", int(value_of(match)), *match.span(), "keyword")
        for match in r.finditer(_N_WAY):
            name = "n" if match.group("n") else "w"
            r.put("num_classes", int(value_of(match, name)), *match.span(), "n_class")
        for match in r.finditer(_N_CLASSES):
            middle = match.group("mid").split()
            if any(word in NOT_BETWEEN or not word.replace("-", "").isalpha() for word in middle):
                continue
            before = r.words_before(match.start(), 2)
            choice = bool(before) and before[-1] in {"of", "among"}  # "which of 4 diseases each leaf has"
            if match.group("per") and match.group("noun") not in {"tags", "attributes"} and not choice:
                continue  # "one label per image" says single-label, not how many classes there are
            if before and before[-1] in {"top", "first", "last", "per", "every"}:
                continue
            if re.search(r"\d\s*(?:-|\u2013|to|or)\s*$", r.text[max(0, match.start() - 8) : match.start()]):
                continue  # "5-6 classes", "5 or 6 classes": not decided yet, so ask rather than guess
            count = value_of(match)
            if count == int(count) and 1 <= count <= 100000:
                r.put("num_classes", int(count), *match.span(), "n_classes")
        if r.slots.num_classes is None and r.mentions(
            "class", "label", "tag", "attribute", "categor", "type", "kind"
        ):
            for match in r.finditer(_N_TOTAL):  # "(striped, floral, long sleeve, ... 23 total)"
                r.put("num_classes", int(value_of(match)), *match.span(), "n_total")
        for match in r.finditer(_WHICH_OF_N):
            r.put("num_classes", int(value_of(match)), *match.span(), "which_of_n")
        for match in r.finditer(_INTO_N):
            r.put("num_classes", int(value_of(match)), *match.span("n"), "into_n")
        for match in r.finditer(_NOUN_THEN_N):
            r.put("num_classes", int(value_of(match)), *match.span(), "noun_then_n")
    class_list = r.mentions("classes", "categories", "labels", "class names")
    for match in _CLASS_LIST.finditer(r.text) if class_list else ():
        items = [
            item
            for item in re.split(r"\s*(?:,\s*and|,\s*or|,|/|\band\b|\bor\b)\s*", match.group("items"))
            if item
        ]
        if 2 <= len(items) <= 50:
            r.put("num_classes", len(items), *match.span(), "class_list", claim=False)
    if r.slots.num_classes is None and "/" in r.text:
        # "aerial tiles: road / building / vegetation / background": a slash-separated list after a colon.
        for match in _SLASH_LIST.finditer(r.text):
            items = [item.strip() for item in match.group("items").split("/")]
            if 2 <= len(items) <= 50 and not any(item in _VS_STOP for item in items):
                r.put("num_classes", len(items), *match.span("items"), "slash_list", claim=False)
                break
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
    r"\bany (?:of )?(?:the )?\d+ [\w-]+ at once\b|\b(?:several|multiple|many|some) (?:of them )?at (?:once|the same time)\b"
    r"|\bat the same time \((?:or none|possibly none)\)|\(or none\)|\bzero, one or (?:several|many|more)\b|"
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


def read_label_structure(r: Reader) -> None:
    """Multi-label (or explicitly single-label) and regression signals."""
    if r.mentions("label", "tag", "class", "categor", "attribute", "exclusive", "multi", "mehrere", "étiquet", "etiquet", "several", "many", "more", "occur", "appear", "subset", "at once", "same time", "or none"):  # fmt: skip
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


def read_task(r: Reader) -> None:
    """The task: explicit words first, then the task a named model implies, then a regression signal."""
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
