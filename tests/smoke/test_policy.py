"""One smoke-run policy for the CLI, the API and the chat: the service defaults, with the time limit a generated
project states for its architecture (``SMOKE_TIMEOUT_S`` in its config.py, read as text and capped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.toolbelt import ToolContext
from agent.toolbelt.smoke import plan_smoke_request
from core.settings import Settings
from tools.codegen import GenerateSpec, generate
from tools.smoke import MAX_DECLARED_TIMEOUT_S, SmokeRunRequest, smoke_policy

SETTINGS = Settings(smoke_default_steps=20, smoke_default_timeout_s=120)
PLAIN = {"train.py": "print('hi')\n"}


def _generated(**fields: object) -> dict[str, str]:
    return generate(GenerateSpec.model_validate({"num_classes": 3, "review": False, **fields})).files


def test_code_without_a_declared_limit_gets_the_service_defaults() -> None:
    steps, timeout_s, source = smoke_policy(PLAIN, SETTINGS)
    assert (steps, timeout_s) == (20, 120) and "service defaults" in source


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("SMOKE_TIMEOUT_S = 300", 300.0),
        ("SMOKE_TIMEOUT_S: float = 45.5", 120.0),
        ("SMOKE_TIMEOUT_S = 99999", None),
    ],
)
def test_a_declared_limit_only_raises_the_default_and_is_capped(
    declared: str, expected: float | None
) -> None:
    files = {**PLAIN, "pkg/config.py": f"{declared}  # seconds\n"}
    _, timeout_s, _ = smoke_policy(files, SETTINGS)
    assert timeout_s == (expected if expected is not None else MAX_DECLARED_TIMEOUT_S)


def test_a_limit_inside_code_or_a_string_is_not_read() -> None:
    files = {"config.py": 'x = "SMOKE_TIMEOUT_S = 900"\nif True:\n    SMOKE_TIMEOUT_S = 800\n'}
    assert smoke_policy(files, SETTINGS)[1] == 120


def test_generated_projects_state_a_limit_sized_for_their_architecture() -> None:
    light = _generated(task="segmentation", architecture="deeplabv3plus", backbone="resnet18")
    heavy = _generated(task="detection", architecture="faster-rcnn-v2")
    vit = _generated(task="classification", backbone="vit_b_16")
    assert smoke_policy(light, SETTINGS)[1] == 180
    assert smoke_policy(heavy, SETTINGS)[1] == 420 and "SMOKE_TIMEOUT_S" in smoke_policy(heavy, SETTINGS)[2]
    assert smoke_policy(vit, SETTINGS)[1] == 360


def test_the_request_the_chat_plans_and_the_spec_the_cli_runs_agree(tmp_path: Path) -> None:
    files = _generated(task="detection", architecture="retinanet-v2")
    settings = Settings(data_dir=tmp_path, smoke_default_steps=20, smoke_default_timeout_s=120)
    chat = plan_smoke_request(ToolContext(settings), files, None, "auto")
    cli = SmokeRunRequest(files=files).to_run_spec(settings)
    assert (chat.steps, chat.timeout_s) == (cli.steps, cli.limits.timeout_s) == (20, 420)
    given = SmokeRunRequest(files=files, steps=5, timeout_s=60).to_run_spec(settings)
    assert (given.steps, given.limits.timeout_s) == (5, 60)  # what the user asks for wins
