"""The offline planner's intent rules and parameter extraction (pure functions, no graph)."""

from __future__ import annotations

import pytest

from agent.code_context import extract_code_files, strip_code
from agent.llm.intents import detect_intents, extract_generate_args, extract_steps
from tests.samples import PLAIN_LOOP


def tools_for(message: str, in_thread: bool = False) -> list[tuple[str, dict[str, object]]]:
    has_code = bool(extract_code_files(message))
    intents = detect_intents(strip_code(message), has_code_in_message=has_code, has_code_in_thread=in_thread)
    return [(intent.tool, intent.args) for intent in intents]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (f"review this:\n```python\n{PLAIN_LOOP}```", [("review_code", {})]),
        (f"review this: {PLAIN_LOOP}", [("review_code", {})]),
        (PLAIN_LOOP, [("review_code", {})]),
        (f"```python\n{PLAIN_LOOP}```\nfix it please", [("review_code", {"fix": True})]),
        (f"```python\n{PLAIN_LOOP}```\nsmoke-test this for 5 steps", [("smoke_run", {"steps": 5})]),
        (
            f"```python\n{PLAIN_LOOP}```\nreview it and then smoke test it",
            [("review_code", {}), ("smoke_run", {})],
        ),
        ("hi", []),
        ("What can you do?", []),
        ("help", []),
        ("thanks!", []),
    ],
)
def test_routing_with_code_or_small_talk(message: str, expected: list[tuple[str, dict[str, object]]]) -> None:
    assert tools_for(message) == expected


@pytest.mark.parametrize(
    ("message", "tool"),
    [
        ("now fix the issues you found", "review_code"),
        ("smoke-test it", "smoke_run"),
        ("does it train?", "smoke_run"),
        ("can you review it again?", "review_code"),
    ],
)
def test_follow_ups_act_on_thread_code(message: str, tool: str) -> None:
    [(name, _)] = tools_for(message, in_thread=True)
    assert name == tool


def test_fix_follow_up_sets_fix_flag() -> None:
    assert tools_for("now fix the issues you found", in_thread=True) == [("review_code", {"fix": True})]


@pytest.mark.parametrize(
    ("message", "tool"),
    [
        ("Which architecture should I use for real-time detection on a Jetson?", "recommend_architecture"),
        ("recommend a backbone for segmenting satellite images", "recommend_architecture"),
        ("I need to classify 10 kinds of leaves, what model works best?", "recommend_architecture"),
        ("generate a classification model with resnet18 for 10 classes", "generate_project"),
        ("Write me a LightningModule for semantic segmentation", "generate_project"),
        ("why does gradient clipping matter?", "explain_checklist_item"),
        ("explain MLR006", "explain_checklist_item"),
        ("list experiments", "list_experiments"),
        ("compare experiments 3f2a9c1d and 8b7e6f5a", "compare_experiments"),
    ],
)
def test_routing_without_code(message: str, tool: str) -> None:
    [(name, _)] = tools_for(message)
    assert name == tool


def test_generate_and_smoke_in_one_request() -> None:
    assert [name for name, _ in tools_for("generate a detection model with 3 classes and smoke-test it")] == [
        "generate_project",
        "smoke_run",
    ]


def test_generate_parameters() -> None:
    args = extract_generate_args("Generate a segmentation model with ResNet-34, 3 classes, 256x256 images")
    assert args == {"task": "segmentation", "backbone": "resnet34", "num_classes": 3, "image_size": 256}
    args = extract_generate_args("binary classifier on efficientnet-b0 at 224px using pytorch_lightning")
    assert args == {
        "task": "classification",
        "backbone": "efficientnet_b0",
        "num_classes": 2,
        "image_size": 224,
        "package": "pytorch_lightning",
    }
    assert (
        extract_generate_args("object detection with mobilenet v3 small")["backbone"] == "mobilenet_v3_small"
    )
    assert extract_generate_args("convnext tiny classifier")["backbone"] == "convnext_tiny"


def test_explain_items_and_rules() -> None:
    assert tools_for("why does gradient clipping matter?") == [
        ("explain_checklist_item", {"item": "gradient-clipping"})
    ]
    assert tools_for("explain mlr006") == [("explain_checklist_item", {"item": "MLR006"})]
    assert tools_for("what is data leakage?") == [("explain_checklist_item", {"item": "data-leakage"})]


def test_steps_extraction() -> None:
    assert extract_steps("smoke test it for 50 steps") == 50
    assert extract_steps("smoke test it") is None


def test_code_identifiers_do_not_trigger_intents() -> None:
    # "fix" and "generate" appear inside the code only: the request is a plain review.
    code = "```python\ndef fix(x):\n    return generate_model(x)\n```"
    assert tools_for(code) == [("review_code", {})]


def test_export_needs_code_and_is_not_an_explanation() -> None:
    assert tools_for("export it to onnx", in_thread=True) == [("export_onnx", {})]
    assert tools_for("why does the onnx export matter?", in_thread=True)[0][0] == "explain_checklist_item"
