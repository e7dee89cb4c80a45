"""The OpenAPI document must say what validation enforces: a body the document calls valid is accepted by the
model, and (for the rules the document states) a body it calls invalid is refused.

Checked with the ``jsonschema`` validator against the app's own document, over the cases where the two used to
disagree (blank message, ``files: {}``, ``ids=``, task/backbone/image-size combinations, ids with a newline).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from agent.service import create_app
from core.settings import Settings
from knowledge import load_knowledge
from tools.codegen.spec import SUPPORTED_TASKS, GenerateSpec
from tools.recommend import RecommendRequest
from tools.review.models import ReviewRequest

DOCUMENT = create_app(Settings()).openapi()


def _body_schema(path: str) -> dict[str, Any]:
    content = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return {"$ref": content["schema"]["$ref"], "components": DOCUMENT["components"]}


def _documented_valid(path: str, body: Any) -> bool:
    return jsonschema.Draft202012Validator(_body_schema(path)).is_valid(body)


def _accepted(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def _parameter(path: str, name: str, method: str = "get") -> dict[str, Any]:
    for parameter in DOCUMENT["paths"][path][method]["parameters"]:
        if parameter["name"] == name:
            return dict(parameter["schema"])
    raise AssertionError(f"{path} has no parameter {name}")


def test_every_generate_combination_agrees() -> None:
    """Every task x backbone x image size: the document's ``anyOf`` and the spec's validators agree."""
    sizes = [None, 32, 33, 63, 64, 100, 223, 224, 225, 255, 256, 288, 299, 300, 384, 512, 640, 4096, 4097]
    checked = 0
    for task in SUPPORTED_TASKS:
        for backbone in load_knowledge().backbones:
            for size in sizes:
                body = {"task": task, "backbone": backbone, "num_classes": 3, "image_size": size}
                documented = _documented_valid("/v1/generate", body)
                assert documented == _accepted(GenerateSpec, body), body
                checked += documented
    assert checked > 100  # the loop did check valid combinations, not only refusals


def test_coco_pretrained_is_documented_only_where_torchvision_has_coco_weights() -> None:
    """Every architecture x backbone (and none) with coco_pretrained=true: document and validators agree."""
    from tools.codegen.architectures import architectures

    accepted = 0
    for arch in architectures():
        for backbone in [*arch.backbone_choices(), None]:
            body = {"task": arch.task, "architecture": arch.name, "num_classes": 3, "coco_pretrained": True}
            if backbone is not None:
                body["backbone"] = backbone
            documented = _documented_valid("/v1/generate", body)
            assert documented == _accepted(GenerateSpec, body), body
            accepted += documented
    assert accepted >= 9  # the builders with COCO/VOC weights, each on its default backbone


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"code": "import torch\n"}, True),
        ({"code": "x", "files": None}, True),
        ({"files": {"a.py": "x = 1\n"}}, True),
        ({"code": ""}, False),
        ({"code": " \n\t"}, False),
        ({"files": {}}, False),
        ({"files": {" ": "x"}}, False),
        ({"files": {"a\x00.py": "x"}}, False),
        ({"code": "x", "files": {"a.py": "x"}}, False),
        ({"code": None, "files": None}, False),
        ({}, False),
    ],
)
def test_review_request_document_agrees(body: dict[str, Any], valid: bool) -> None:
    assert _documented_valid("/v1/review", body) is valid
    assert _accepted(ReviewRequest, body) is valid


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"question": "a small detector for edge devices"}, True),
        ({"task": "detection", "constraints": {"device": "edge"}}, True),
        ({"task": "object_detection"}, True),
        ({"question": "   "}, False),
        ({"question": "x", "task": "detection"}, False),
        ({"question": "x", "constraints": {"device": "edge"}}, False),
        ({}, False),
    ],
)
def test_recommend_request_document_agrees(body: dict[str, Any], valid: bool) -> None:
    assert _documented_valid("/v1/recommendations", body) is valid
    assert _accepted(RecommendRequest, body) is valid


def test_recommend_task_enum_lists_what_the_endpoint_resolves() -> None:
    """The endpoint answers 422 for a task the knowledge base cannot resolve; the document lists the rest."""
    schema = DOCUMENT["components"]["schemas"]["RecommendRequest"]["properties"]["task"]["anyOf"][0]
    assert all(load_knowledge().task(name) is not None for name in schema["enum"])
    assert not _documented_valid("/v1/recommendations", {"task": "0"})


@pytest.mark.parametrize(
    ("body", "valid"),
    [({"message": "hi"}, True), ({"message": ""}, False), ({"message": " \n"}, False)],
)
def test_chat_message_may_not_be_blank(body: dict[str, Any], valid: bool) -> None:
    assert _documented_valid("/v1/chat", body) is valid


@pytest.mark.parametrize(
    ("messages", "valid"),
    [
        ([{"role": "user", "content": "hi"}], True),
        ([{"role": "user", "content": [{"type": "text", "text": "hi"}]}], True),
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "prefill"}], True),
        ([{"role": "tool"}], False),
        ([{"role": "system", "content": "be nice"}], False),
        ([{"role": "user", "content": "  "}], False),
    ],
)
def test_chat_completions_need_a_user_message_with_text(messages: list[dict[str, Any]], valid: bool) -> None:
    assert _documented_valid("/v1/chat/completions", {"messages": messages}) is valid


@pytest.mark.parametrize(
    ("path", "name", "good", "bad"),
    [
        (
            "/v1/threads/{thread_id}",
            "thread_id",
            ["abc", "a.b:c-d_e", "x" * 128],
            ["abc\n", "-a", "a b", "x" * 129],
        ),
        ("/v1/smoke-runs/{run_id}", "run_id", ["run-0123abcd", "run-nope"], ["run.1", "a\n", "", "../x"]),
        ("/v1/experiments/{experiment_id}", "experiment_id", ["exp-1"], ["exp 1", "exp-1\n"]),
        (
            "/v1/experiments/compare",
            "ids",
            ["a,b", "exp-a, exp-b", ",".join("a" * 10)],
            ["", "a", "a,", "a,,b"],
        ),
    ],
)
def test_id_parameters_have_patterns(path: str, name: str, good: list[str], bad: list[str]) -> None:
    """Path and query ids carry their pattern in the document (ECMA-262 reads them like Python here)."""
    pattern = _parameter(path, name)["pattern"]
    for value in good:
        assert re.search(pattern, value), value
    for value in bad:
        # ECMA's $ never matches before a final newline; Python's does, so compare with fullmatch semantics.
        assert not (re.search(pattern, value) and not value.endswith("\n")), value
