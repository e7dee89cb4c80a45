"""ONNX export: generated projects locally (our code), submissions only through the sandbox."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest
from pydantic import ValidationError

from core.settings import Settings
from tools.codegen import GenerateSpec
from tools.export import ENTRYPOINT_NAME, ExportRequest, export_onnx, sandbox_export_files

TINY_MODULE = """
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)
        self.example_input_array = torch.zeros(1, 3, 16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).mean(dim=(2, 3)))
"""


def test_request_needs_exactly_one_source() -> None:
    with pytest.raises(ValidationError):
        ExportRequest()
    with pytest.raises(ValidationError):
        ExportRequest(files={"a.py": "x = 1"}, directory=Path("."))
    with pytest.raises(ValidationError):
        ExportRequest(files={"a.py": "x = 1"}, input_shape=[1, 0, 4, 4])


def test_sandbox_job_carries_the_request_options() -> None:
    files = sandbox_export_files(
        ExportRequest(files={"m.py": "x = 1"}, module_class="Tiny", opset=17), {"m.py": ""}
    )
    script = files[ENTRYPOINT_NAME]
    assert '"module_class": "Tiny"' in script and '"opset": 17' in script
    compile(script, ENTRYPOINT_NAME, "exec")


def test_reserved_entrypoint_name_is_rejected() -> None:
    result = export_onnx(ExportRequest(files={ENTRYPOINT_NAME: "print(1)"}))
    assert result.status == "rejected"


@pytest.mark.slow
def test_generated_project_exports_with_dynamic_batch(tmp_path: Path) -> None:
    spec = GenerateSpec(task="segmentation", backbone="mobilenet_v3_small", num_classes=3, image_size=64)
    result = export_onnx(ExportRequest(spec=spec, output=tmp_path / "seg.onnx"))
    assert result.status == "succeeded", result.log_tail
    assert result.onnx_path and Path(result.onnx_path).is_file()
    assert result.inputs[0]["shape"][0] == "batch" and result.outputs[0]["shape"][1:] == [3, 64, 64]
    session = ort.InferenceSession(result.onnx_path, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "images"


def _sandbox_settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    from sandbox.backends import get_backend

    backend = get_backend(settings)
    try:
        status = backend.check()
    finally:
        backend.close()
    if not status.usable:
        pytest.skip(f"sandbox unusable here: {status.reason}")
    return settings


@pytest.mark.slow
def test_submitted_code_exports_inside_the_sandbox(tmp_path: Path) -> None:
    settings = _sandbox_settings(tmp_path)
    result = export_onnx(ExportRequest(files={"tiny.py": TINY_MODULE}), settings)
    assert result.status == "succeeded", result.message + result.log_tail
    assert result.mode == "sandbox" and result.onnx_path is None
    assert result.max_abs_diff is not None and result.max_abs_diff < 1e-4
    assert result.outputs[0]["shape"][-1] == 2


@pytest.mark.slow
def test_broken_submission_fails_with_the_reason(tmp_path: Path) -> None:
    settings = _sandbox_settings(tmp_path)
    broken = TINY_MODULE.replace("self.head(self.conv(x).mean(dim=(2, 3)))", "self.head(x)")
    result = export_onnx(ExportRequest(files={"tiny.py": broken}), settings)
    assert result.status == "failed"
    assert "Error" in result.message
