"""Recommendations: question parsing, ranking under constraints, unknown tasks, rendering."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge import load_knowledge
from tools.recommend import (
    Constraints,
    RecommendRequest,
    estimate_latency_ms,
    parse_question,
    recommend,
    render_recommendation,
)

KB = load_knowledge()


@pytest.mark.parametrize(
    ("question", "task"),
    [
        ("I want to classify 10 classes of flowers", "classification"),
        ("detect cars and draw bounding boxes", "detection"),
        ("segment the road pixels in dashcam frames", "segmentation"),
        ("instance segmentation of touching cells, one mask per object", "instance_segmentation"),
        ("human pose estimation with 17 keypoints", "keypoints"),
        ("regress the age of a person from a face photo", "regression"),
    ],
)
def test_task_is_read_from_the_question(question: str, task: str) -> None:
    assert parse_question(question, KB)[0] == task


def test_constraints_are_parsed_from_numbers_and_words() -> None:
    _, c, notes = parse_question(
        "Detect 12 defect types on a Jetson, 30 fps, 1,500 images at 1024x768, heavily imbalanced, "
        "closed-source product, no pretrained weights allowed",
        KB,
    )
    assert c.num_classes == 12
    assert c.device == "edge"
    assert c.latency_ms == pytest.approx(33.3, abs=0.1)
    assert c.dataset_size == 1500
    assert c.image_size == 1024
    assert c.imbalanced is True
    assert c.commercial is True
    assert c.pretrained_available is False
    assert any("FPS" in note for note in notes)


def test_vague_words_become_stated_assumptions() -> None:
    _, c, notes = parse_question("classify a few images in real-time on CPU, binary", KB)
    assert c.dataset_size == 200 and c.latency_ms == 33.0 and c.device == "cpu" and c.num_classes == 2
    assert len(notes) >= 3


def test_request_needs_exactly_one_way_in() -> None:
    with pytest.raises(ValidationError):
        RecommendRequest()
    with pytest.raises(ValidationError):
        RecommendRequest(question="classify", task="classification")
    with pytest.raises(ValidationError):
        RecommendRequest(question="classify", constraints=Constraints())
    with pytest.raises(ValidationError):
        RecommendRequest(task="classification", constraints={"device": "toaster"})
    with pytest.raises(ValidationError):
        RecommendRequest(task="classification", constraints={"latency": 5})


def test_unknown_task_lists_supported_tasks() -> None:
    result = recommend(RecommendRequest(task="optical character recognition"))
    assert result.task is None and not result.recommendations
    assert result.unknown_task and "classification" in result.unknown_task
    assert result.supported_tasks == KB.task_names()
    vague = recommend(RecommendRequest(question="what should I do with my pictures?"))
    assert vague.unknown_task and "Supported tasks" in vague.unknown_task
    assert "Supported tasks" in render_recommendation(vague)


def test_edge_budget_prefers_fast_edge_friendly_models_that_fit() -> None:
    result = recommend(
        RecommendRequest(
            task="classification", constraints=Constraints(device="edge", latency_ms=5, num_classes=4)
        )
    )
    top = result.recommendations[0]
    assert top.estimated_latency_ms is not None and top.estimated_latency_ms <= 5
    assert top.backbone is not None and KB.backbones[top.backbone].edge_friendly
    assert any(t.factor == "latency" and t.points > 0 for t in top.score_breakdown)
    # The transformer family must not win on an edge budget.
    assert top.architecture != "vision_transformer"


def test_server_accuracy_first_and_large_data_can_pick_transformers() -> None:
    result = recommend(RecommendRequest(task="classification", constraints=Constraints(dataset_size=500_000)))
    assert result.recommendations[0].architecture in {"convnext", "vision_transformer"}


def test_no_pretraining_and_small_data_penalise_transformers() -> None:
    result = recommend(
        RecommendRequest(
            task="classification", constraints=Constraints(dataset_size=300, pretrained_available=False)
        )
    )
    ids = [r.architecture for r in result.recommendations]
    assert "vision_transformer" not in ids
    assert result.recommendations[0].hyperparameters.lr_range == (0.0005, 0.002)  # from-scratch range


def test_commercial_constraint_pushes_agpl_down_and_says_why() -> None:
    open_result = recommend(
        RecommendRequest(task="detection", constraints=Constraints(device="edge", latency_ms=40))
    )
    closed = recommend(
        RecommendRequest(
            task="detection", constraints=Constraints(device="edge", latency_ms=40, commercial=True)
        )
    )
    assert open_result.recommendations[0].architecture == "yolo_ultralytics"
    assert closed.recommendations[0].architecture != "yolo_ultralytics"
    yolo = next(r for r in open_result.recommendations if r.architecture == "yolo_ultralytics")
    assert any("AGPL" in tip for tip in yolo.tips)


def test_variant_size_follows_the_budget() -> None:
    tight = recommend(
        RecommendRequest(task="detection", constraints=Constraints(device="edge", latency_ms=10))
    )
    loose = recommend(
        RecommendRequest(task="detection", constraints=Constraints(device="edge", latency_ms=100))
    )
    size = {r.architecture: r.variant for r in tight.recommendations + loose.recommendations if r.variant}
    tight_yolo = next(r.variant for r in tight.recommendations if r.architecture == "yolo_ultralytics")
    loose_yolo = next(r.variant for r in loose.recommendations if r.architecture == "yolo_ultralytics")
    assert size and tight_yolo == "yolo11n" and loose_yolo == "yolo11m"


def test_imbalance_changes_loss_and_metric_order() -> None:
    result = recommend(
        RecommendRequest(task="segmentation", constraints=Constraints(imbalanced=True, num_classes=3))
    )
    top = result.recommendations[0]
    assert top.loss.id == "dice_ce"
    assert top.metrics[0].args["average"] in ("macro", "none")
    assert top.metrics[0].args["num_classes"] == 3
    balanced = recommend(RecommendRequest(task="segmentation"))
    assert balanced.recommendations[0].loss.id == "cross_entropy"


def test_image_size_rewrites_augmentation_sizes_and_latency() -> None:
    small = recommend(RecommendRequest(task="segmentation", constraints=Constraints(image_size=256)))
    big = recommend(RecommendRequest(task="segmentation", constraints=Constraints(image_size=1024)))
    crop = next(a for a in small.recommendations[0].augmentations if a.transform == "RandomResizedCrop")
    assert crop.args["size"] == 256
    by_arch = {r.architecture: r for r in small.recommendations}
    for rec in big.recommendations:
        if rec.architecture in by_arch and rec.backbone == by_arch[rec.architecture].backbone:
            assert rec.estimated_latency_ms > by_arch[rec.architecture].estimated_latency_ms


def test_deterministic_and_scores_add_up() -> None:
    req = RecommendRequest(question="detect pedestrians in real-time on a server GPU, 20k images")
    first, second = recommend(req), recommend(req)
    assert first.model_dump() == second.model_dump()
    for rec in first.recommendations:
        assert rec.score == pytest.approx(sum(t.points for t in rec.score_breakdown), abs=0.01)
    assert [r.rank for r in first.recommendations] == [1, 2, 3]
    assert first.recommendations[0].score >= first.recommendations[-1].score


def test_generate_command_only_for_generatable_architectures() -> None:
    result = recommend(
        RecommendRequest(task="classification", constraints=Constraints(num_classes=7), top_k=6)
    )
    for rec in result.recommendations:
        assert (rec.generate_command is not None) == KB.tasks["classification"].architecture(
            rec.architecture
        ).generate_supported
        if rec.generate_command:
            assert (
                "--num-classes 7" in rec.generate_command
                and f"--backbone {rec.backbone}" in rec.generate_command
            )


def test_latency_model_uses_device_profiles() -> None:
    assert estimate_latency_ms(4.0, "server", KB) < estimate_latency_ms(4.0, "edge", KB)
    assert estimate_latency_ms(None, "cpu", KB) is None


def test_render_markdown_has_table_training_plan_and_assumptions() -> None:
    text = render_recommendation(
        recommend(RecommendRequest(question="classify 5 kinds of defects, imbalanced"))
    )
    assert "| # | architecture |" in text
    assert "Training the top pick" in text and "**Loss:**" in text and "torchmetrics" in text
    assert "### Assumptions" in text
