"""The architecture a user names, or the one the agent recommended, is the one the generated project builds.

Conversations through the real graph and the offline planner (no mocks); the tool's resolution of names
(registry alias, another task's model, a model the generator cannot write) is tested directly.
"""

from __future__ import annotations

from pathlib import Path

from agent.toolbelt.generate import generate_project, resolve_architecture
from tests.agent.test_dialogue import _conversation


def _generate_args(turn: object) -> dict[str, object]:
    calls = [call for call in turn.tool_calls if call.name == "generate_project"]  # type: ignore[attr-defined]
    assert calls, f"no generate_project call: {[c.name for c in turn.tool_calls]}"  # type: ignore[attr-defined]
    return dict(calls[-1].args or {})


def test_registry_names_resolve_and_other_tasks_switch_with_a_note() -> None:
    assert resolve_architecture("detection", "RetinaNet") == ("detection", "retinanet", [])
    task, name, notes = resolve_architecture("segmentation", "mask_rcnn")
    assert (task, name) == ("instance_segmentation", "mask-rcnn") and "instance segmentation" in notes[0]


def test_a_model_the_generator_cannot_write_becomes_the_closest_with_the_reason() -> None:
    task, name, notes = resolve_architecture("detection", "yolo")
    assert (task, name) == ("detection", "fcos")
    assert "AGPL" in notes[0]
    text, artifact = generate_project(task="segmentation", architecture="segformer", num_classes=3)
    assert artifact["spec"]["architecture"] == "deeplabv3plus"
    assert text.startswith("**Note:** I can't generate segformer")


def test_fixed_backbone_architectures_get_their_own_backbone_not_the_default() -> None:
    _, ssd = generate_project(task="detection", architecture="ssdlite", num_classes=3)
    _, unet = generate_project(task="segmentation", architecture="unet", num_classes=2)
    assert ssd["spec"]["backbone"] == "mobilenet_v3_large"
    assert unet["spec"]["backbone"] is None


def test_an_unknown_name_is_a_clear_refusal_listing_the_valid_ones() -> None:
    text, artifact = generate_project(task="detection", architecture="blah", num_classes=3)
    assert "error" in artifact and "valid: faster-rcnn" in text


def test_named_architecture_in_a_request_is_generated(tmp_path: Path) -> None:
    (turn,) = _conversation(tmp_path, ["could you scaffold an FCOS detector, 6 classes"])
    args = _generate_args(turn)
    assert args["architecture"] == "fcos" and args["num_classes"] == 6
    assert "FCOS" in turn.reply or "fcos" in turn.reply


def test_named_architecture_with_classes_is_built_not_recommended(tmp_path: Path) -> None:
    (turn,) = _conversation(tmp_path, ["we want lraspp for 3 classes, 512px"])
    args = _generate_args(turn)
    assert args["task"] == "segmentation" and args["architecture"] == "lraspp"


def test_generate_that_builds_the_best_ranked_generatable_choice(tmp_path: Path) -> None:
    turns = _conversation(
        tmp_path,
        ["which instance segmentation model for counting cells? 2 classes", "go ahead and generate that"],
    )
    args = _generate_args(turns[1])
    assert args["task"] == "instance_segmentation" and args["architecture"] == "mask-rcnn"
    assert args["backbone"] in {"resnet18", "resnet34", "resnet50", "resnext50_32x4d"}
    assert "not something I can generate" in turns[1].reply  # the top pick (Mask2Former) is not writable


def test_generate_that_after_a_multi_label_ranking_keeps_the_task(tmp_path: Path) -> None:
    turns = _conversation(
        tmp_path, ["photos can carry several of 12 tags, which model should I use?", "generate it please"]
    )
    args = _generate_args(turns[1])
    assert args["task"] == "multi_label"
    assert "Generated project" in turns[1].reply
