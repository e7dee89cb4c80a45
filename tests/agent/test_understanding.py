"""The understanding layer: slot tables, answers to the agent's questions, typo normalisation, languages.

The slot tables live in understanding_cases.py (tuning set) and understanding_heldout.py (held-out set,
tested in test_understanding_heldout.py). Everything here is pure and deterministic: no server, no model.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from agent.understanding import (
    core_intent_hints,
    detect_language,
    normalise,
    parse_answer,
    parse_slots,
)
from agent.understanding.numbers import find_number_words, parse_number
from tests.agent.understanding_cases import CASES


@pytest.mark.parametrize(("message", "expected"), CASES, ids=[case[0][:60] for case in CASES])
def test_slot_phrasing(message: str, expected: dict[str, Any]) -> None:
    values = parse_slots(message).values()
    got = {slot: values.get(slot) for slot in expected}
    assert got == expected


# --- answers to a pending question ---------------------------------------------------------------------

ANSWERS: list[tuple[str, str, Any]] = [
    ("20", "num_classes", 20),
    ("20.", "num_classes", 20),
    ("twenty", "num_classes", 20),
    ("Twenty.", "num_classes", 20),
    ("with 20 classes", "num_classes", 20),
    ("about 20 I think", "num_classes", 20),
    ("20 please", "num_classes", 20),
    ("just two", "num_classes", 2),
    ("binary", "num_classes", 2),
    ("cats vs dogs", "num_classes", 2),
    ("a dozen", "num_classes", 12),
    ("zwanzig", "num_classes", 20),
    ("vingt", "num_classes", 20),
    ("veinte clases", "num_classes", 20),
    ("it's 3 defect types", "num_classes", 3),
    ("224", "image_size", (224, 224)),
    ("512x512", "image_size", (512, 512)),
    ("640 px", "image_size", (640, 640)),
    ("around 800", "dataset_size", 800),
    ("10k", "dataset_size", 10000),
    ("4", "num_gpus", 4),
    ("none, CPU only", "num_gpus", None),
    ("no gpu", "num_gpus", 0),
    ("17", "num_keypoints", 17),
    ("32", "batch_size", 32),
    ("3e-4", "learning_rate", 3e-4),
    ("0.001", "learning_rate", 0.001),
    ("5", "epochs", 5),
    ("100 steps", "steps", 100),
    ("10 ms", "latency_ms", 10.0),
    ("detection", "task", "detection"),
    ("segmantation", "task", "segmentation"),
    ("resnet50", "backbone", "resnet50"),
]
NOT_ANSWERS: list[tuple[str, str]] = [
    ("resnet50", "num_classes"),
    ("fp16", "num_classes"),
    ("224x224", "num_classes"),
    ("top-5", "num_classes"),
    ("not sure yet", "num_classes"),
    ("between 5 and 10", "num_classes"),
    (
        "generate a detector for my 4 cameras, 30 fps each, and tell me about export to onnx for them",
        "num_classes",
    ),
    ("python 3.11", "num_classes"),
    ("224", "learning_rate"),
    ("12", "image_size"),
]


@pytest.mark.parametrize(("reply", "slot", "value"), ANSWERS)
def test_parse_answer_reads_the_reply(reply: str, slot: str, value: Any) -> None:
    found = parse_answer(reply, slot)
    if value is None:
        assert found is None
    else:
        assert found is not None and found.value == value


@pytest.mark.parametrize(("reply", "slot"), NOT_ANSWERS)
def test_parse_answer_refuses_what_is_not_an_answer(reply: str, slot: str) -> None:
    assert parse_answer(reply, slot) is None


def test_parse_answer_rejects_unknown_slots() -> None:
    with pytest.raises(ValueError, match="unknown slot"):
        parse_answer("20", "colour")


# --- spans and conflicts -------------------------------------------------------------------------------


def test_every_slot_keeps_the_users_words() -> None:
    message = (
        "Genrate a clasifier for twenty bird species, 1024x1024 images, ~800 labelled, on 2x A100 in bf16"
    )
    slots = parse_slots(message)
    assert slots.num_classes is not None and slots.num_classes.span.text == "twenty bird species"
    assert slots.image_size is not None and slots.image_size.span.text == "1024x1024"
    assert slots.dataset_size is not None and slots.dataset_size.span.text == "800"
    assert slots.num_gpus is not None and slots.num_gpus.span.text == "2x A100"
    assert slots.precision is not None and slots.precision.span.text == "bf16"
    assert slots.task is not None and slots.task.span.text == "clasifier"
    for found in (slots.num_classes, slots.image_size, slots.dataset_size, slots.num_gpus, slots.precision):
        assert message[found.span.start : found.span.end] == found.span.text


def test_conflicting_values_are_recorded_with_both_spans() -> None:
    slots = parse_slots("train at 224 px... actually make the images 512 px")
    assert slots.image_size is not None and slots.image_size.value == (224, 224)
    [conflict] = slots.conflicts
    assert conflict.slot == "image_size"
    assert conflict.kept.span.text == "224 px" and conflict.other.span.text == "512 px"
    assert conflict.other.value == (512, 512)


def test_code_blocks_fill_no_slots() -> None:
    message = "review this please\n```python\nmodel = resnet50(num_classes=37)\nx = torch.randn(8, 3, 224, 224)\n```"
    values = parse_slots(message).values()
    assert values.get("num_classes") is None and values.get("backbone") is None
    assert values.get("image_size") is None and values.get("batch_size") is None


def test_model_refs_point_into_the_knowledge_base() -> None:
    slots = parse_slots("yolov8n vs faster rcnn with a mobilenet v3 backbone, or maybe efficentnet b0")
    refs = {found.value.name: found.value for found in slots.models}
    assert refs["yolov8n"].knowledge_id == "yolo_ultralytics" and refs["yolov8n"].task == "detection"
    assert refs["faster_rcnn"].knowledge_id == "faster_rcnn"
    assert refs["mobilenet_v3_large"].kind == "backbone"
    assert refs["efficientnet_b0"].fuzzy and refs["efficientnet_b0"].knowledge_id == "efficientnet_b0"


def test_derived_views() -> None:
    slots = parse_slots("deploy on a phone, 1920x1080 frames")
    assert slots.knowledge_device == "edge"
    assert slots.image_side == 1920
    assert slots.language == "en"


# --- numbers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [("10k", 10_000), ("1.2M", 1_200_000), ("25,000", 25_000), ("3 thousand", 3000), ("12 000", 12_000)],
)
def test_parse_number(literal: str, value: float) -> None:
    assert parse_number(literal) == value


@pytest.mark.parametrize(
    ("text", "languages", "values"),
    [
        ("twenty-five", [], [25]),
        ("two hundred and fifty", [], [250]),
        ("one or two", [], [1, 2]),
        ("a dozen", [], [12]),
        ("a cat", [], []),
        ("fünfundzwanzig", ["de"], [25]),
        ("treinta y cinco", ["es"], [35]),
        ("vingt-deux", ["fr"], [22]),
        ("once", [], []),  # English "once", not Spanish 11
        ("once", ["es"], [11]),
    ],
)
def test_number_words(text: str, languages: list[str], values: list[int]) -> None:
    assert [value for _, _, value in find_number_words(text, languages)] == values


# --- normalisation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("genrate a clasifier", "generate a classifier"),
        ("segmantation model", "segmentation model"),
        ("object detecton", "object detection"),
        ("please reveiw my code", "please review my code"),
        ("Recomend an achitecture", "Recommend an architecture"),
        ("5 classs", "5 classes"),
        ("GENRATE", "GENERATE"),
        ("augmentaton and validaton", "augmentation and validation"),
        ("3 defect classes", "3 defect classes"),
        ("an expert export", "an expert export"),
        ("the general idea", "the general idea"),
        ("the latest checkpoint", "the latest checkpoint"),
        ("a convnet", "a convnet"),
        ("trainer.fit(clasifier)", "trainer.fit(clasifier)"),
        ("num_clases", "num_clases"),
        ("`segmantation_head`", "`segmantation_head`"),
        ("see https://example.com/genrate", "see https://example.com/genrate"),
        ("MyClasifier", "MyClasifier"),
        ("Kannst du meinen Code prüfen?", "Kannst du meinen Code prüfen?"),
        ("trainiere es", "trainiere es"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_leaves_code_blocks_alone() -> None:
    fenced = (
        "genrate this:\n```python\ndef genrate_clasifier():\n    clasifier = 1  # genrate\n```\nthen reveiw"
    )
    assert normalise(fenced) == (
        "generate this:\n```python\ndef genrate_clasifier():\n    clasifier = 1  # genrate\n```\nthen review"
    )
    indented = "reveiw this:\n\n    clasifier = build()\n    segmantation = 2\n\nthanks"
    assert normalise(indented) == "review this:\n\n    clasifier = build()\n    segmantation = 2\n\nthanks"


# --- languages and intents ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can you review my code?", "en"),
        ("Kannst du meinen Code prüfen?", "de"),
        ("Welches Modell empfiehlst du für die Erkennung von Rissen?", "de"),
        ("Peux-tu vérifier mon code ?", "fr"),
        ("Quel modèle recommandes-tu pour la détection ?", "fr"),
        ("¿Puedes revisar mi código?", "es"),
        ("genera un clasificador de 5 clases", "es"),
        ("Puoi controllare il mio codice?", "it"),
        ("Genera un classificatore con 5 classi", "it"),
        ("Você pode verificar meu código?", "pt"),
        ("Gere um classificador com 5 classes", "pt"),
        ("resnet50", "en"),
        ("", "en"),
        ("20", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "hints"),
    [
        ("Kannst du meinen Code prüfen?", ["review"]),
        ("Peux-tu vérifier mon code ?", ["review"]),
        ("¿Puedes revisar mi código?", ["review"]),
        ("please reveiw my code", ["review"]),
        ("Erstelle einen Klassifikator für 5 Klassen", ["generate"]),
        ("Générer un détecteur", ["generate"]),
        ("genera un clasificador de 5 clases", ["generate"]),
        ("genrate a clasifier", ["generate"]),
        ("Welches Modell empfiehlst du?", ["recommend"]),
        ("Quel modèle recommandes-tu ?", ["recommend"]),
        ("¿Qué modelo me recomiendas?", ["recommend"]),
        ("which backbone should i use", ["recommend"]),
        ("trainiere es 20 Schritte", ["smoke_run"]),
        ("entraîne-le pendant 5 époques", ["smoke_run"]),
        ("smoke-test it", ["smoke_run"]),
        ("review it and then smoke test it", ["review", "smoke_run"]),
        ("Korrigiere bitte die Fehler", ["fix"]),
        ("exporte en ONNX", ["export"]),
        ("hi", []),
        ("regenerate nothing", []),
        ("general question about DDP", []),
        ("is a generic loss ok?", []),
        ("I fixed the bug already", []),
        ("save a checkpoint every epoch", []),
    ],
)
def test_core_intent_hints(text: str, hints: list[str]) -> None:
    assert core_intent_hints(text) == hints


def test_intent_hints_ignore_code() -> None:
    assert core_intent_hints("```python\n# review generate recommend\n```") == []


# --- speed ----------------------------------------------------------------------------------------------


def test_parse_slots_p50_under_two_milliseconds() -> None:
    messages = [
        "Genrate a clasifier for 5 classs, 224 px, resnet18, and smoke-test it for 20 steps.",
        "I have ~800 labelled 1024x1024 images of steel sheets with 3 defect classes; objects of 8-15 px.",
        "Which detector for 30 fps on a Jetson Orin? Tiny objects in 4k frames, 2x A100 for training in bf16.",
        "compare exp-1a2b3c4d5e6f7a8b and exp-0f9e8d7c6b5a4938, the second used lr 3e-4 and batch size 64",
    ]
    for message in messages:
        parse_slots(message)  # warm the caches (vocabulary, compiled patterns)
    timings = []
    for round_ in range(25):
        for message in messages:
            varied = f"{message} (take {round_})"
            start = time.perf_counter()
            parse_slots(varied)
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.002


# --- robustness -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " " * 2000,
        "1 " * 1500,
        "1-2-3-4-5 px " * 300,
        "classes are " + ", ".join(["aa bb"] * 500),
        " vs ".join(["cat"] * 500),
        "224x" * 500,
        "\U0001f642\u00e9\u00d7\u2019" * 500,
        "twenty " * 800,
        "```python\n" + "x = 1\n" * 800,
        "deadbeef" * 200,
    ],
    ids=["empty", "spaces", "digits", "ranges", "list", "vs", "x", "unicode", "numwords", "code", "hex"],
)
def test_odd_input_neither_crashes_nor_hangs(text: str) -> None:
    start = time.perf_counter()
    parse_slots(text)
    parse_answer(text, "num_classes")
    normalise(text)
    core_intent_hints(text)
    assert time.perf_counter() - start < 5.0


def test_slots_are_read_from_the_start_of_a_huge_message() -> None:
    text = "3 defect classes. " + "x " * 20000 + " and 7 classes at the end"
    start = time.perf_counter()
    slots = parse_slots(text)
    assert time.perf_counter() - start < 5.0
    assert slots.num_classes is not None and slots.num_classes.value == 3 and not slots.conflicts


def test_slots_serialise_to_json_for_the_dialogue_state() -> None:
    import json

    slots = parse_slots("resnet50 for 3 classes at 256x192, train at 224 px... no, 512 px")
    record = json.loads(json.dumps(slots.to_json()))
    assert record["slots"]["num_classes"] == {"value": 3, "span": [13, 22, "3 classes"], "rule": "n_classes"}
    assert record["slots"]["image_size"]["value"] == [256, 192]
    assert record["models"][0]["value"]["knowledge_id"] == "resnet50"
    assert {conflict["slot"] for conflict in record["conflicts"]} == {"image_size"}


@pytest.mark.parametrize(
    ("message", "args"),
    [
        (
            "genrate a clasifier with 5 classs on resnet18, 224 px",
            {"task": "classification", "backbone": "resnet18", "num_classes": 5, "image_size": 224},
        ),
        ("a resnet detector for 1920x1080 frames", {"task": "detection", "image_size": 1920}),
        ("segment 4 tissue types", {"task": "segmentation", "num_classes": 4}),
        ("hello", {}),
    ],
)
def test_generate_args(message: str, args: dict[str, Any]) -> None:
    assert parse_slots(message).generate_args() == args


def test_warm_up_makes_the_first_parse_fast() -> None:
    from agent.understanding import warm_up

    warm_up()
    start = time.thread_time()
    parse_slots("fine-tune resnet50 on 3 classes")
    assert time.thread_time() - start < 0.05
