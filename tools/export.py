"""ONNX export: for generated projects locally, for any other submission only inside the sandbox.

Exporting a model means running its code. Code that ``tools.codegen`` rendered from a ``GenerateSpec`` is our
own, so it is exported in a local subprocess with the project's ``export.py`` and the ONNX file is returned.
Submitted files are untrusted: they are exported by a sandbox job (``sandbox`` backend, script mode) running
``SANDBOX_EXPORT_SCRIPT``, which reports whether the export and the ONNX Runtime check pass; the ONNX file
itself stays inside the sandbox (its work directory is discarded).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.codegen import GenerateSpec, generate, write_project

RESULT_MARKER = "MLAGENT_EXPORT_RESULT "
ENTRYPOINT_NAME = "_mlagent_export.py"
MAX_DIRECTORY_FILES = 200


class ExportRequest(BaseModel):
    """Export one model: a generated project (``spec``) or submitted code (``files`` or ``directory``)."""

    model_config = ConfigDict(extra="forbid")

    spec: GenerateSpec | None = Field(
        default=None, description="Export the project generate() makes for this."
    )
    files: dict[str, str] | None = Field(
        default=None, description="Submitted project: relative path -> text."
    )
    directory: Path | None = Field(default=None, description="Submitted project on disk (read, not trusted).")
    module_class: str | None = Field(default=None, description="LightningModule/nn.Module class to export.")
    input_shape: list[int] | None = Field(
        default=None, min_length=2, max_length=5, description="Example input, e.g. [1, 3, 224, 224]."
    )
    opset: int = Field(default=18, ge=11, le=23)
    dynamic_batch: bool = True
    output: Path | None = Field(
        default=None, description="Where to write the ONNX file (generated projects)."
    )
    timeout_s: float = Field(default=300.0, gt=0, le=1800)

    @model_validator(mode="after")
    def _one_source(self) -> ExportRequest:
        given = [name for name in ("spec", "files", "directory") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'spec', 'files' or 'directory'")
        if self.input_shape is not None and any(d < 1 for d in self.input_shape):
            raise ValueError("input_shape dimensions must be >= 1")
        return self


class ExportResult(BaseModel):
    """What happened; ``onnx_path`` only for generated projects (sandboxed exports keep the file inside)."""

    status: Literal["succeeded", "failed", "unavailable", "rejected", "timeout"]
    mode: Literal["generated", "sandbox"]
    message: str
    onnx_path: str | None = None
    size_bytes: int | None = None
    opset: int | None = None
    inputs: list[dict[str, Any]] = Field(default_factory=list)
    outputs: list[dict[str, Any]] = Field(default_factory=list)
    max_abs_diff: float | None = None
    exporter: str | None = None
    log_tail: str = ""


def _describe_onnx(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)

    def shape(value: Any) -> list[Any]:
        dims = value.type.tensor_type.shape.dim
        return [d.dim_param or d.dim_value for d in dims]

    inputs = [{"name": v.name, "shape": shape(v)} for v in model.graph.input]
    outputs = [{"name": v.name, "shape": shape(v)} for v in model.graph.output]
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return inputs, outputs, opset


def export_generated(req: ExportRequest) -> ExportResult:
    """Render the spec's project into a temp dir and run its own export.py (our code, no sandbox needed)."""
    assert req.spec is not None
    files = generate(req.spec.model_copy(update={"review": False})).files
    with tempfile.TemporaryDirectory(prefix="mlagent-export-") as tmp:
        project = Path(tmp) / "project"
        write_project(files, project)
        output = (req.output or Path(tempfile.mkdtemp(prefix="mlagent-onnx-")) / "model.onnx").resolve()
        command = [sys.executable, "export.py", "--output", str(output), "--opset", str(req.opset)]
        if req.spec.task != "detection" and not req.dynamic_batch:
            command.append("--static-batch")
        if req.spec.task == "detection" and req.opset > 20:
            return ExportResult(
                status="rejected", mode="generated", message="detection export supports opset <= 20"
            )
        try:
            proc = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=req.timeout_s)
        except subprocess.TimeoutExpired:
            return ExportResult(
                status="timeout", mode="generated", message=f"export exceeded {req.timeout_s:g} s"
            )
    log_tail = (proc.stdout + proc.stderr)[-4000:]
    if proc.returncode != 0 or not output.is_file():
        return ExportResult(status="failed", mode="generated", message="export.py failed", log_tail=log_tail)
    inputs, outputs, opset = _describe_onnx(output)
    return ExportResult(
        status="succeeded",
        mode="generated",
        message=proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "exported",
        onnx_path=str(output),
        size_bytes=output.stat().st_size,
        opset=opset,
        inputs=inputs,
        outputs=outputs,
        exporter="torch.onnx (TorchScript)" if req.spec.task == "detection" else "torch.onnx (dynamo)",
        log_tail=log_tail,
    )


# The script the sandbox runs as __main__ next to the submitted files (script mode of sandbox.spec.RunSpec).
SANDBOX_EXPORT_SCRIPT = '''"""Export the submitted model to ONNX inside the sandbox and print one JSON result line."""
import importlib, inspect, json, os, sys, traceback

CONFIG = json.loads(%(config)r)
MARKER = %(marker)r


def emit(**fields):
    print(MARKER + json.dumps(fields), flush=True)


def module_classes():
    import torch
    sys.path.insert(0, os.getcwd())
    found = []
    for root, dirs, names in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__")) and d not in ("tests", "test")]
        for name in names:
            if not name.endswith(".py") or name == %(entry)r or name.startswith("test_") or name == "setup.py":
                continue
            modname = os.path.join(root, name)[2:-3].replace(os.sep, ".")
            try:
                module = importlib.import_module(modname)
            except Exception as exc:  # a module that does not import cannot hold the model
                print(f"skip {modname}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and issubclass(cls, torch.nn.Module):
                    found.append(cls)
    return found


def pick(classes):
    wanted = CONFIG.get("module_class")
    if wanted:
        matches = [c for c in classes if c.__name__ == wanted]
        if not matches:
            raise SystemExit(emit(ok=False, error=f"class {wanted!r} not found"))
        return matches[0]
    lightning = [c for c in classes if any(b.__name__ == "LightningModule" for b in c.__mro__)]
    pool = lightning or classes
    if len(pool) != 1:
        names = sorted(c.__name__ for c in pool)
        raise SystemExit(emit(ok=False, error=f"give module_class: candidates {names}"))
    return pool[0]


def construct(cls):
    try:
        return cls()
    except TypeError:
        pass
    kwargs = {}
    for name, param in inspect.signature(cls).parameters.items():
        if param.default is not param.empty or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation
        if isinstance(annotation, str):
            annotation = inspect.get_annotations(cls.__init__, eval_str=True).get(name, annotation)
        if inspect.isclass(annotation) and hasattr(annotation, "model_validate"):
            kwargs[name] = annotation.model_validate({})
        else:
            raise SystemExit(emit(ok=False, error=f"cannot construct {cls.__name__}: parameter {name!r} needs a value"))
    return cls(**kwargs)


def main():
    import numpy as np
    import torch
    torch.manual_seed(0)
    model = construct(pick(module_classes())).eval()
    example = getattr(model, "example_input_array", None)
    if CONFIG.get("input_shape"):
        example = torch.rand(*CONFIG["input_shape"])
    if not isinstance(example, torch.Tensor):
        example = torch.rand(1, 3, 224, 224)
    path = os.path.abspath("model.onnx")
    dynamic = ({0: torch.export.Dim("batch", min=1, max=1024)},) if CONFIG["dynamic_batch"] else None
    exporter = "torch.onnx (dynamo)"
    try:
        torch.onnx.export(model, (example,), path, dynamo=True, opset_version=CONFIG["opset"],
                          input_names=["input"], dynamic_shapes=dynamic, external_data=False)
    except Exception as exc:
        print(f"dynamo export failed ({type(exc).__name__}); trying the TorchScript exporter", file=sys.stderr)
        exporter = "torch.onnx (TorchScript)"
        axes = {"input": {0: "batch"}} if CONFIG["dynamic_batch"] else None
        torch.onnx.export(model, (example,), path, dynamo=False, opset_version=min(CONFIG["opset"], 20),
                          input_names=["input"], dynamic_axes=axes)
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    actual = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    with torch.no_grad():
        expected = model(example)
    expected = [expected] if isinstance(expected, torch.Tensor) else [t for t in expected if isinstance(t, torch.Tensor)]
    diff = None
    if expected and len(expected) == len(actual) and all(e.shape == a.shape for e, a in zip(expected, actual)):
        diff = max(float(np.abs(e.numpy() - a).max()) if e.numel() else 0.0 for e, a in zip(expected, actual))
    emit(ok=True, size_bytes=os.path.getsize(path), exporter=exporter, max_abs_diff=diff,
         inputs=[{"name": i.name, "shape": i.shape} for i in session.get_inputs()],
         outputs=[{"name": o.name, "shape": o.shape} for o in session.get_outputs()])


try:
    main()
except SystemExit:
    raise
except BaseException as exc:
    emit(ok=False, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-3000:])
    sys.exit(1)
'''


def sandbox_export_files(req: ExportRequest, files: dict[str, str]) -> dict[str, str]:
    """The submitted files plus the export entrypoint configured for this request."""
    config = json.dumps(
        {
            "module_class": req.module_class,
            "input_shape": req.input_shape,
            "opset": req.opset,
            "dynamic_batch": req.dynamic_batch,
        }
    )
    script = SANDBOX_EXPORT_SCRIPT % {"config": config, "marker": RESULT_MARKER, "entry": ENTRYPOINT_NAME}
    return {**files, ENTRYPOINT_NAME: script}


def _read_directory(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a directory")
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if (
            path.is_file()
            and path.suffix in (".py", ".yaml", ".yml")
            and not any(p.startswith(".") for p in rel.parts)
        ):
            files[rel.as_posix()] = path.read_text(encoding="utf-8", errors="replace")
        if len(files) > MAX_DIRECTORY_FILES:
            raise ValueError(f"{directory} holds more than {MAX_DIRECTORY_FILES} Python/YAML files")
    if not files:
        raise ValueError(f"no Python files under {directory}")
    return files


def export_in_sandbox(req: ExportRequest, settings: Any = None) -> ExportResult:
    """Run the export entrypoint on the submitted files in the sandbox; never executes them here."""
    from core.settings import get_settings
    from sandbox.backends import get_backend, new_run_id
    from sandbox.spec import RunLimits, RunSpec

    files = req.files if req.files is not None else _read_directory(req.directory)  # type: ignore[arg-type]
    if ENTRYPOINT_NAME in files:
        return ExportResult(
            status="rejected", mode="sandbox", message=f"{ENTRYPOINT_NAME} is a reserved file name"
        )
    settings = settings or get_settings()
    backend = get_backend(settings)
    try:
        spec = RunSpec(
            files=sandbox_export_files(req, files),
            entrypoint=ENTRYPOINT_NAME,
            device="cpu",
            limits=RunLimits(timeout_s=req.timeout_s),
        )
        run = backend.run(spec, run_id=new_run_id())
    finally:
        backend.close()
    tail = run.stdout_tail or ""
    report = _last_report(tail)
    if run.status == "rejected":
        return ExportResult(
            status="unavailable",
            mode="sandbox",
            message=run.error or "sandbox unavailable",
            log_tail=tail[-4000:],
        )
    if run.status == "timeout":
        return ExportResult(
            status="timeout",
            mode="sandbox",
            message=f"export exceeded {req.timeout_s:g} s",
            log_tail=tail[-4000:],
        )
    if report is None or not report.get("ok"):
        error = (report or {}).get("error") or run.error or "export failed"
        return ExportResult(status="failed", mode="sandbox", message=str(error), log_tail=tail[-4000:])
    return ExportResult(
        status="succeeded",
        mode="sandbox",
        message="exported and checked with ONNX Runtime inside the sandbox (the file stays there)",
        size_bytes=report.get("size_bytes"),
        opset=req.opset,
        inputs=report.get("inputs", []),
        outputs=report.get("outputs", []),
        max_abs_diff=report.get("max_abs_diff"),
        exporter=report.get("exporter"),
        log_tail=tail[-4000:],
    )


def _last_report(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                value = json.loads(line[len(RESULT_MARKER) :])
            except json.JSONDecodeError:
                return None
            return value if isinstance(value, dict) else None
    return None


def export_onnx(req: ExportRequest, settings: Any = None) -> ExportResult:
    """Export a generated project locally, or submitted code in the sandbox."""
    if req.spec is not None:
        return export_generated(req)
    try:
        return export_in_sandbox(req, settings)
    except ValueError as error:
        return ExportResult(status="rejected", mode="sandbox", message=str(error))
