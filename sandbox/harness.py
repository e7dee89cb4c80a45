"""The in-sandbox harness: runs a submitted Lightning project (or a plain script) and reports as JSON lines.

It is copied into each run's staged directory and executed by the sandbox's interpreter as a plain script,
so it imports nothing of the service: only the standard library, torch and the Lightning package the
submitted code itself imports (``lightning.pytorch`` and ``pytorch_lightning`` are separate copies whose
classes are not interchangeable, so the Trainer and the Callback must come from the user's package).

Usage: ``python harness.py CONFIG.json`` where the config names ``input_dir`` (submitted files, read-only),
``work_dir`` (writable; the files are copied there and it becomes the cwd), ``steps``, ``device``, ``seed``,
optional ``module_class``/``datamodule_class``/``synthetic``/``entrypoint``. Messages go to the file
descriptor in ``MLAGENT_RESULT_FD`` (not stdout, which the user's code owns): ``status``, ``step`` and one
final ``result``. The supervisor trusts none of it for safety; limits are enforced outside.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib
import inspect
import json
import logging
import math
import os
import resource
import runpy
import shutil
import sys
import time
import traceback
import typing
import warnings
from collections.abc import Callable
from typing import Any

_STARTED = time.monotonic()
MAX_STEP_EVENTS = 10_000


class HarnessError(Exception):
    """A problem with the submission that the user can fix; the message is shown as-is."""

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(message)
        self.status = status


class Channel:
    """JSON lines on a dedicated descriptor; writes never raise (a broken pipe means the supervisor is gone)."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def send(self, message: dict[str, Any]) -> None:
        if self.fd is None:
            return
        data = (json.dumps(message, allow_nan=False, default=str) + "\n").encode()
        with contextlib.suppress(OSError):
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------------- workspace


def prepare_workdir(input_dir: str, work_dir: str) -> None:
    """Copy the submitted files into the writable workdir and make it the cwd and the first import root."""
    os.makedirs(work_dir, exist_ok=True)
    shutil.copytree(input_dir, work_dir, dirs_exist_ok=True)
    os.chdir(work_dir)
    sys.path.insert(0, work_dir)


def user_traceback(exc: BaseException, work_dir: str) -> str:
    """The traceback restricted to frames in the submitted files, with paths relative to the workdir."""
    root = os.path.realpath(work_dir) + os.sep
    lines: list[str] = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if not os.path.isabs(frame.filename):
            continue  # "<frozen runpy>", "<string>": not a submitted file
        filename = os.path.realpath(frame.filename)
        if not filename.startswith(root):
            continue
        lines.append(f'  File "{filename[len(root) :]}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines)


def _not_installed(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def describe_failure(exc: BaseException, work_dir: str, submitted_modules: set[str]) -> tuple[str, str]:
    """(status, message) for an exception escaping user code."""
    if isinstance(exc, HarnessError):
        return exc.status, str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        if top not in submitted_modules and _not_installed(top):
            return "failed", f"package '{top}' is not installed in the sandbox (ModuleNotFoundError: {exc})"
    status = "failed"
    name = type(exc).__name__
    if isinstance(exc, MemoryError) or name == "OutOfMemoryError":
        status = "oom"
    message = f"{name}: {exc}".strip()
    frames = user_traceback(exc, work_dir)
    if frames:
        message += "\nTraceback (submitted files only, most recent call last):\n" + frames
    return status, message


def peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(self_kb, children_kb) / 1024.0, 1)


# ------------------------------------------------------------------------------------------- discovery


def submitted_module_names(work_dir: str) -> dict[str, str]:
    """Importable module name -> path for every Python file of the submission."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(work_dir):
        dirnames[:] = sorted(d for d in dirnames if d.isidentifier())
        rel_dir = os.path.relpath(dirpath, work_dir)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        for filename in sorted(filenames):
            stem, ext = os.path.splitext(filename)
            if ext != ".py" or not stem.isidentifier():
                continue
            name_parts = parts if stem == "__init__" else [*parts, stem]
            if name_parts:
                found[".".join(name_parts)] = os.path.join(dirpath, filename)
    return found


def defines_classes(path: str) -> bool:
    """Whether the file defines a class (files without one, like ``train.py`` scripts, are not imported)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        source = handle.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        rel = os.path.relpath(path)
        raise HarnessError(f"SyntaxError in {rel}, line {exc.lineno}: {exc.msg}") from None
    return any(isinstance(node, ast.ClassDef) for node in ast.walk(tree))


def is_test_module(name: str) -> bool:
    """Test files (``tests/``, ``test_*.py``, ``conftest.py``) hold no model to train: never imported."""
    parts = name.split(".")
    return any(p in ("test", "tests", "conftest") or p.startswith("test_") for p in parts)


def import_submission(work_dir: str) -> list[Any]:
    modules = []
    for name, path in submitted_module_names(work_dir).items():
        if not is_test_module(name) and defines_classes(path):
            modules.append(importlib.import_module(name))
    return modules


def lightning_packages() -> list[Any]:
    """The Lightning packages the submission imported (never import one it did not use)."""
    packages = []
    for name in ("lightning.pytorch", "pytorch_lightning"):
        module = sys.modules.get(name)
        if module is not None:
            packages.append(module)
    return packages


def find_classes(modules: list[Any], base_name: str, explicit: str | None) -> list[tuple[type, Any]]:
    """(class, lightning package) pairs of user classes deriving from ``base_name`` in either package."""
    module_names = {m.__name__ for m in modules}
    candidates: dict[type, Any] = {}
    for module in modules:
        for value in vars(module).values():
            if not inspect.isclass(value) or value.__module__ not in module_names:
                continue
            for package in lightning_packages():
                base = getattr(package, base_name)
                if issubclass(value, base) and value is not base:
                    candidates[value] = package
    if explicit:
        module_part, _, class_part = explicit.rpartition(":") if ":" in explicit else explicit.rpartition(".")
        matches = {
            cls: pkg
            for cls, pkg in candidates.items()
            if cls.__name__ == class_part and (not module_part or cls.__module__ == module_part)
        }
        if not matches:
            names = ", ".join(sorted(c.__name__ for c in candidates)) or "none"
            raise HarnessError(
                f"{base_name} class '{explicit}' not found in the submitted files (found: {names})"
            )
        return list(matches.items())
    concrete = {c: p for c, p in candidates.items() if not inspect.isabstract(c)}
    # Keep the most derived: a class that another candidate subclasses is a base, not the thing to run.
    leaves = {c: p for c, p in concrete.items() if not any(o is not c and issubclass(o, c) for o in concrete)}
    return list(leaves.items())


_MISSING = object()


def default_config(annotation: Any) -> Any:
    """An instance of a Pydantic model or dataclass built from its defaults, else _MISSING."""
    options = [annotation]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
    for option in options:
        if not inspect.isclass(option):
            continue
        is_pydantic = hasattr(option, "model_fields") and hasattr(option, "model_validate")
        if is_pydantic or dataclasses.is_dataclass(option):
            try:
                return option()
            except Exception:
                continue
    return _MISSING


def instantiate(cls: type) -> Any:
    """Call ``cls()``; or fill required parameters typed as configs with defaults; or explain what is needed."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return cls()
    required = [
        p
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    kwargs: dict[str, Any] = {}
    if required:
        try:
            hints = typing.get_type_hints(cls.__init__)  # type: ignore[misc]
        except Exception:
            hints = {}
        for param in required:
            value = default_config(hints.get(param.name, param.annotation))
            if value is _MISSING:
                raise HarnessError(
                    f"cannot construct {cls.__name__}: its parameter '{param.name}' has no default. Give every "
                    "parameter a default, or type it as a Pydantic model/dataclass whose fields all have defaults."
                )
            kwargs[param.name] = value
    return cls(**kwargs)


# ------------------------------------------------------------------------------------------- synthetic data


def _batch_size_of(batch: Any) -> int:
    import torch

    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size_of(batch[0]) if not isinstance(batch[0], dict) else len(batch)
    if isinstance(batch, dict) and batch:
        return _batch_size_of(next(iter(batch.values())))
    return 1


def _first_tensor(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def infer_target(module: Any, example: Any) -> dict[str, Any]:
    """Guess the target kind from the model's output on its example input (a forward pass on CPU/no-grad)."""
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = _first_tensor(module(example))
    finally:
        module.train(was_training)
    if out is None or out.dim() == 0:
        return {"task": "regression", "target_shape": [1]}
    per_sample = list(out.shape[1:])
    if len(per_sample) == 1 and per_sample[0] > 1:
        return {"task": "classification", "num_classes": per_sample[0]}
    if len(per_sample) == 3 and per_sample[0] > 1:
        return {"task": "segmentation", "num_classes": per_sample[0]}
    return {"task": "regression", "target_shape": per_sample or []}


def synthetic_loader(plan: dict[str, Any], seed: int, steps: int) -> Any:
    """A small repeating dataset (so that a working model can overfit it and its loss goes down)."""
    import torch
    from torch.utils.data import DataLoader, Dataset

    task = plan["task"]
    input_shape = [int(s) for s in plan["input_shape"]]
    num_classes = int(plan.get("num_classes") or 10)
    batch_size = int(plan.get("batch_size") or 4)
    size = batch_size * max(1, min(steps, 4))
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(size, *input_shape, generator=generator)
    height, width = (input_shape[-2], input_shape[-1]) if len(input_shape) >= 2 else (1, 1)
    targets: list[Any]
    if task == "classification":
        targets = list(torch.randint(0, num_classes, (size,), generator=generator))
    elif task == "segmentation":
        if num_classes > 1:
            targets = list(torch.randint(0, num_classes, (size, height, width), generator=generator))
        else:
            targets = list(torch.randint(0, 2, (size, 1, height, width), generator=generator).float())
    elif task == "detection":
        targets = []
        for _ in range(size):
            count = int(torch.randint(1, 4, (1,), generator=generator))
            xy = torch.rand(count, 2, generator=generator) * torch.tensor([width * 0.6, height * 0.6])
            wh = torch.rand(count, 2, generator=generator) * torch.tensor([width * 0.3, height * 0.3]) + 2.0
            boxes = torch.cat([xy, xy + wh], dim=1)
            labels = torch.randint(1, max(2, num_classes), (count,), generator=generator)
            targets.append({"boxes": boxes, "labels": labels})
    else:
        shape = [int(s) for s in plan.get("target_shape") or [1]]
        targets = list(torch.rand(size, *shape, generator=generator))

    class SyntheticDataset(Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return size

        def __getitem__(self, index: int) -> tuple[Any, Any]:
            return inputs[index], targets[index]

    collate: Callable[[list[Any]], Any] | None = None
    if task == "detection":

        def collate(batch: list[Any]) -> tuple[list[Any], list[Any]]:
            images, boxes = zip(*batch, strict=True)
            return list(images), list(boxes)

    return DataLoader(
        SyntheticDataset(), batch_size=batch_size, shuffle=False, num_workers=0, collate_fn=collate
    )


def synthetic_plan(module: Any, spec: dict[str, Any] | None) -> dict[str, Any]:
    import torch

    spec = dict(spec or {})
    example = getattr(module, "example_input_array", None)
    example = example if isinstance(example, torch.Tensor) else None
    plan: dict[str, Any] = {"batch_size": spec.get("batch_size") or 4}
    if spec.get("input_shape"):
        plan["input_shape"] = spec["input_shape"]
    elif example is not None:
        plan["input_shape"] = list(example.shape[1:])
    elif spec.get("task"):
        plan["input_shape"] = [3, 64, 64]
    else:
        raise HarnessError(
            "no LightningDataModule in the submission and no example_input_array on the LightningModule: "
            "add one of them, or give synthetic task/input_shape in the run spec"
        )
    inferred: dict[str, Any] = {}
    if example is not None and spec.get("task") in (None, "regression", "classification", "segmentation"):
        inferred = infer_target(module, example)
    plan["task"] = spec.get("task") or inferred.get("task", "classification")
    plan["num_classes"] = spec.get("num_classes") or inferred.get("num_classes")
    plan["target_shape"] = inferred.get("target_shape")
    return plan


# ------------------------------------------------------------------------------------------- training


def loss_decreased(losses: list[float]) -> bool | None:
    """Mean of the last third below the mean of the first third by a 1% margin (robust to step noise)."""
    if len(losses) < 3:
        return None
    third = max(1, len(losses) // 3)
    first = sum(losses[:third]) / third
    last = sum(losses[-third:]) / third
    return last < first - 0.01 * abs(first)


def make_recorder(package: Any, channel: Channel, state: dict[str, Any]) -> Any:
    """A Callback of the user's Lightning package that records and streams every step's loss."""

    def on_train_batch_start(self: Any, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        state["batch_start"] = time.monotonic()

    def on_train_batch_end(
        self: Any, trainer: Any, pl_module: Any, outputs: Any, batch: Any, idx: int
    ) -> None:
        now = time.monotonic()
        loss_value = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss_value is None:
            metrics = trainer.callback_metrics
            loss_value = next(
                (metrics[k] for k in ("train_loss", "loss", "train/loss") if k in metrics), None
            )
        loss: float | None = None
        if loss_value is not None:
            loss = float(loss_value.detach().float().item() if hasattr(loss_value, "detach") else loss_value)
            if not math.isfinite(loss):
                raise HarnessError(
                    f"the loss became {loss} at step {len(state['times']) + 1}: check the learning rate, the "
                    "loss inputs (logits vs probabilities) and the data normalisation"
                )
            state["losses"].append(loss)
        state["times"].append(now - state.get("batch_start", now))
        state["samples"].append(_batch_size_of(batch))
        if state.get("first_step_s") is None:
            state["first_step_s"] = now - _STARTED
        step = len(state["times"])
        if step <= MAX_STEP_EVENTS:
            channel.send({"type": "step", "step": step, "loss": loss, "samples_per_s": throughput(state)})

    return type(
        "SmokeRunRecorder",
        (package.Callback,),
        {"on_train_batch_start": on_train_batch_start, "on_train_batch_end": on_train_batch_end},
    )()


def throughput(state: dict[str, Any]) -> float | None:
    """Training samples per second of step time (batch start to batch end, so validation and data loading
    between steps do not count), leaving out the first step, which pays for warm-up, when there are more."""
    durations, samples = state["times"], state["samples"]
    if len(durations) >= 2:
        durations, samples = durations[1:], samples[1:]
    elapsed = sum(durations)
    return round(sum(samples) / elapsed, 2) if durations and elapsed > 0 else None


def pick_device(requested: str) -> tuple[str, str]:
    """(Lightning accelerator, reported device); CUDA when asked for (or auto) and present, else CPU."""
    import torch

    if requested in ("cuda", "auto") and torch.cuda.is_available():
        return "gpu", "cuda:0"
    if requested == "cuda":
        print(
            "smoke run: CUDA requested but no GPU is visible in the sandbox; running on CPU", file=sys.stderr
        )
    return "cpu", "cpu"


def quiet_lightning() -> None:
    for name in ("lightning.pytorch", "pytorch_lightning", "lightning.fabric", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")


def run_lightning(config: dict[str, Any], channel: Channel, result: dict[str, Any]) -> None:
    work_dir = config["work_dir"]
    modules = import_submission(work_dir)
    if not lightning_packages():
        raise HarnessError("the submitted files import neither 'lightning' nor 'pytorch_lightning'")
    found = find_classes(modules, "LightningModule", config.get("module_class"))
    if not found:
        raise HarnessError("no LightningModule subclass found in the submitted files")
    if len(found) > 1:
        names = ", ".join(sorted(c.__name__ for c, _ in found))
        raise HarnessError(
            f"several LightningModule classes ({names}): name the one to run with module_class"
        )
    module_cls, package = found[0]
    dm_found = [
        (c, p) for c, p in find_classes(modules, "LightningDataModule", config.get("datamodule_class"))
    ]
    dm_found = [(c, p) for c, p in dm_found if p is package] or dm_found
    if len(dm_found) > 1:
        names = ", ".join(sorted(c.__name__ for c, _ in dm_found))
        raise HarnessError(f"several LightningDataModule classes ({names}): name one with datamodule_class")
    if dm_found and dm_found[0][1] is not package:
        raise HarnessError(
            f"{module_cls.__name__} uses {package.__name__} but {dm_found[0][0].__name__} uses "
            f"{dm_found[0][1].__name__}: the two Lightning packages cannot be mixed in one Trainer"
        )

    quiet_lightning()
    package.seed_everything(int(config.get("seed", 42)), workers=True, verbose=False)
    accelerator, device = pick_device(config.get("device", "auto"))
    result["device"] = device
    module = instantiate(module_cls)
    datamodule = instantiate(dm_found[0][0]) if dm_found else None
    train_loader = None
    own_loader = type(module).train_dataloader is not package.LightningModule.train_dataloader
    if datamodule is None and not own_loader:
        plan = synthetic_plan(module, config.get("synthetic"))
        train_loader = synthetic_loader(plan, int(config.get("seed", 42)), int(config["steps"]))
        result["synthetic"] = {k: v for k, v in plan.items() if v is not None}

    state: dict[str, Any] = {"losses": [], "times": [], "samples": []}
    has_val = type(module).validation_step is not package.LightningModule.validation_step
    trainer = package.Trainer(
        max_steps=int(config["steps"]),
        max_epochs=-1,
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=2 if has_val else 0,
        log_every_n_steps=1,
        default_root_dir=work_dir,
        callbacks=[make_recorder(package, channel, state)],
    )
    try:
        if datamodule is not None:
            trainer.fit(module, datamodule=datamodule)
        elif train_loader is not None:
            val_loader = train_loader if has_val else None
            trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader)
        else:
            trainer.fit(module)
    finally:
        result["steps"] = len(state["times"])
        result["losses"] = [round(v, 6) for v in state["losses"]]
        result["samples_per_s"] = throughput(state)
        result["time_to_first_step_s"] = (
            round(state["first_step_s"], 3) if state.get("first_step_s") is not None else None
        )
        if device.startswith("cuda"):
            import torch

            result["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    if not state["times"]:
        raise HarnessError("training ran no step: the train dataloader is empty or max_steps was not reached")
    result["loss_decreased"] = loss_decreased(state["losses"])


def run_script(config: dict[str, Any]) -> None:
    """Script mode (``entrypoint``): run one submitted file as ``__main__``; exit status 0 means success."""
    entry = os.path.normpath(config["entrypoint"])
    if not os.path.isfile(entry):
        raise HarnessError(f"entrypoint '{config['entrypoint']}' is not among the submitted files")
    try:
        runpy.run_path(entry, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise HarnessError(f"{entry} exited with status {exc.code}") from None


def wait_for_run(config_path: str) -> dict[str, Any] | None:
    """A warm slot (sandbox/warm.py): import torch and Lightning now, then wait for the supervisor's "go" on
    stdin and read the run it has written meanwhile. None when the slot is dismissed instead (EOF)."""
    global _STARTED
    for name in ("torch", "lightning.pytorch"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if sys.stdin.readline().strip() != "go":
        return None
    _STARTED = time.monotonic()  # the run starts now: durations and time to first step count from here
    with open(config_path) as handle:
        config: dict[str, Any] = json.load(handle)
    return config


def main(argv: list[str]) -> int:
    with open(argv[1]) as handle:
        config = json.load(handle)
    if config.get("wait_for_go"):
        job = wait_for_run(argv[1])
        if job is None:
            return 0
        config = job
    fd_text = os.environ.pop("MLAGENT_RESULT_FD", "")
    channel = Channel(int(fd_text) if fd_text.isdigit() else None)
    channel.send({"type": "status", "status": "running"})
    result: dict[str, Any] = {"type": "result", "status": "succeeded", "error": None, "device": None}
    work_dir = config["work_dir"]
    submitted: set[str] = set()
    try:
        prepare_workdir(config["input_dir"], work_dir)
        submitted = {name.split(".")[0] for name in submitted_module_names(work_dir)}
        if config.get("entrypoint"):
            result["device"] = "cpu"
            run_script(config)
        else:
            run_lightning(config, channel, result)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            result.update(status="cancelled", error="interrupted")
        else:
            status, message = describe_failure(exc, work_dir, submitted)
            result.update(status=status, error=message)
    result["peak_memory_mb"] = peak_rss_mb()
    result["duration_s"] = round(time.monotonic() - _STARTED, 3)
    for key in ("samples_per_s", "time_to_first_step_s"):
        if isinstance(result.get(key), float):
            result[key] = _finite(result[key])
    sys.stdout.flush()
    sys.stderr.flush()
    channel.send(result)
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    exit_code = main(sys.argv)
    # os._exit, not sys.exit: threads or DataLoader workers the user's code left running must not keep the
    # process alive after the result has been sent (the supervisor would wait for them until the deadline).
    os._exit(exit_code)
