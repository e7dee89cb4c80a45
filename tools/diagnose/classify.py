"""Classify one smoke run from its structured result (status, error, losses) plus facts from its code.

Never an LLM reading stdout: the sandbox's status, the harness's ``Type: message`` + submitted-files
traceback, the per-step losses and the limits decide the kind; the code only points at the line to blame.
Rules are tried in order; the first that matches wins. A failure no rule knows is ``unknown``, with the
traceback, and no recipe: it is never guessed.
"""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

from sandbox.spec import RunResult
from tools.diagnose import code
from tools.diagnose.models import Diagnosis, Evidence, Frame
from tools.diagnose.traceback import split_error

# Learning rates beyond which a run is expected to diverge or oscillate (adaptive optimizers / SGD), and
# below which it cannot move in a smoke run's few steps.
HIGH_LR = {"adaptive": 0.1, "SGD": 5.0}
LOW_LR = 1e-6
STATIONARY_RTOL = 1e-3  # losses repeating within this (relative) did not move: no parameter was updated
LEARN_MARGIN = 0.05  # the last third of the losses must be this much (relative) below the first third

_MISSING = re.compile(r"^package '(?P<pkg>[\w.]+)' is not installed in the sandbox")
_NAN = re.compile(r"^the loss became (?P<value>\S+) at step (?P<step>\d+)")
_MATMUL = re.compile(
    r"mat1 and mat2 shapes cannot be multiplied \((?P<a>\d+)x(?P<b>\d+) and (?P<c>\d+)x(?P<d>\d+)\)"
)
_OOB = re.compile(r"Target (?P<target>-?\d+) is out of bounds")
_TARGET_SIZE = re.compile(
    r"Target size \(torch\.Size\((?P<t>\[[^\]]*\])\)\) must be the same as input size \(torch\.Size\((?P<i>\[[^\]]*\])\)\)"
)
_DTYPE = (
    "expected target dtype to be Long",
    "expected scalar type Long",
    "can't be cast to the desired output type Long",
    "Found dtype Long but expected Float",
    "Expected floating point type for target",
    "expected scalar type Float but found Long",
)
_SHAPE = ("0D or 1D target tensor expected", "multi-target not supported", "must be the same as input size")
# Allocation failures that surface as exceptions rather than an OOM kill: mmap refused under the address-space
# limit while importing a native library, or ENOMEM from the kernel.
_NO_MEMORY = ("failed to map segment from shared object", "Cannot allocate memory", "std::bad_alloc")
_NETWORK = (
    "urlopen error",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Error downloading",
    "Failed to establish a new connection",
    "ConnectionError",
    "gaierror",
)


def diagnose(result: RunResult, files: dict[str, str]) -> Diagnosis:
    """The diagnosis of one run of ``files``."""
    exc_type, message, frames = split_error(result.error)
    base: dict[str, Any] = {
        "status": result.status,
        "exception": exc_type,
        "frames": frames,
        "error": result.error,
    }
    if result.status in ("rejected", "cancelled"):
        return Diagnosis(
            kind=result.status, title=f"the run was {result.status}", advice=result.error or "", **base
        )
    if result.status == "oom":
        return _oom(result, files, base)
    if result.status == "timeout":
        return _timeout(result, files, base)
    if result.status == "succeeded":
        return _succeeded(result, files, base)
    return _failed(result, files, exc_type, message, frames, base)


def _run_numbers(result: RunResult) -> dict[str, float | int | str]:
    numbers: dict[str, float | int | str] = {"steps": result.steps, "duration_s": result.duration_s}
    if result.losses:
        numbers.update(first_loss=result.losses[0], last_loss=result.losses[-1])
    if result.peak_memory_mb is not None:
        numbers["peak_memory_mb"] = result.peak_memory_mb
    return numbers


def _cite(places: list[code.Place], text: str) -> list[Evidence]:
    return [Evidence(source="code", text=f"{text}: `{p.code}`", path=p.path, line=p.line) for p in places]


def _frame_evidence(frames: list[Frame], message: str) -> list[Evidence]:
    if not frames:
        return [Evidence(source="run", text=message)]
    last = frames[-1]
    return [Evidence(source="run", text=f"{message} at `{last.code}`", path=last.path, line=last.line)]


# --------------------------------------------------------------------------------------------- by status


def _oom(result: RunResult, files: dict[str, str], base: dict[str, Any]) -> Diagnosis:
    limit = result.limits.get("memory_mb")
    numbers = _run_numbers(result) | ({"memory_limit_mb": limit} if limit else {})
    evidence = [Evidence(source="run", text="the run ran out of memory", numbers=numbers)]
    batches = code.batch_sizes(files)
    sizes = code.size_constants(files)
    evidence += _cite(batches, "batch size") + _cite(sizes, "large input size")
    return Diagnosis(
        kind="oom",
        title=f"out of memory (limit {limit} MB)" if limit else "out of memory",
        evidence=evidence,
        recipe="reduce_batch_size" if batches or sizes else None,
        advice="Lower the batch size (keep the effective batch with gradient accumulation), use bf16 mixed "
        "precision on a GPU, or checkpoint activations.",
        **base,
    )


def _timeout(result: RunResult, files: dict[str, str], base: dict[str, Any]) -> Diagnosis:
    numbers = _run_numbers(result) | {"timeout_s": result.limits.get("timeout_s", "?")}
    if result.time_to_first_step_s is not None:
        numbers["time_to_first_step_s"] = result.time_to_first_step_s
    evidence = [Evidence(source="run", text="the run hit its time limit", numbers=numbers)]
    sizes = code.size_constants(files)
    downloads = code.download_calls(files)
    evidence += _cite(sizes, "large input size") + _cite(downloads, "network access")
    recipe = "shrink_inputs" if sizes else ("reduce_batch_size" if code.batch_sizes(files) else None)
    if downloads:
        recipe = "offline_data"
    return Diagnosis(
        kind="timeout",
        title=f"too slow: stopped at the {numbers['timeout_s']} s limit after {result.steps} step(s)",
        evidence=evidence,
        recipe=recipe,
        advice="Make steps cheaper for the smoke run: smaller images or batches, num_workers=0, no downloads.",
        **base,
    )


def _failed(
    result: RunResult,
    files: dict[str, str],
    exc_type: str | None,
    message: str,
    frames: list[Frame],
    base: dict[str, Any],
) -> Diagnosis:
    error = result.error or ""
    if m := _MISSING.match(error):
        package = m["pkg"]
        imports = code.imports_of(files, package)
        unused = [p for p in imports if p.value is True]
        return Diagnosis(
            kind="missing_package",
            title=f"package '{package}' is not installed in the sandbox",
            evidence=[
                Evidence(source="run", text=error.splitlines()[0], numbers={"package": package}),
                *_cite(imports, "imported" if not unused else "imported but never used"),
            ],
            recipe="drop_unused_import" if unused and len(unused) == len(imports) else None,
            advice=f"Install '{package}' in the service's environment, or remove the dependency.",
            **base,
        )
    if any(word in error for word in _NO_MEMORY):
        return _oom(result, files, base)
    if error.startswith("SyntaxError"):
        first = error.splitlines()[0]
        place = re.match(r"SyntaxError in (?P<path>\S+), line (?P<line>\d+)", first)
        evidence = Evidence(source="run", text=first, path=place["path"].rstrip(",") if place else None,
                            line=int(place["line"]) if place else None)  # fmt: skip
        return Diagnosis(
            kind="syntax_error", title=first, evidence=[evidence], advice="Fix the syntax error.", **base
        )
    if m := _NAN.match(error):
        return _nan(result, files, m["value"], int(m["step"]), base)
    if any(word in error for word in _NETWORK) or exc_type in ("URLError", "HTTPError", "gaierror"):
        downloads = code.download_calls(files)
        return Diagnosis(
            kind="download",
            title="the code tried to download data or weights; the sandbox has no network",
            evidence=_frame_evidence(frames, message.splitlines()[0] if message else error.splitlines()[0])
            + _cite(downloads, "download"),
            recipe="offline_data"
            if any(p.value in ("download", "pretrained", "weights") for p in downloads)
            else None,
            advice="For the smoke run use synthetic data (torchvision FakeData or random tensors) and "
            "pretrained=False / weights=None; download the real data outside the sandbox.",
            **base,
        )
    if m := _OOB.search(error):
        consts = code.constants(files)
        return Diagnosis(
            kind="head_num_classes",
            title=f"a label ({m['target']}) is out of range for the model's output: the head has fewer outputs "
            "than there are classes",
            evidence=_frame_evidence(frames, message.splitlines()[0])
            + [
                Evidence(source="code", text=f"{k} = {v}", numbers={k: v})  # type: ignore[dict-item]
                for k, v in consts.items()
                if "CLASS" in k.upper()
            ],
            recipe="set_head_out_features",
            advice="Make the last layer's out_features equal to the number of classes.",
            **base,
        )
    if m := _MATMUL.search(error):
        return Diagnosis(
            kind="shape_mismatch",
            title=f"a Linear layer expects {m['c']} input features but gets {m['b']}",
            evidence=[
                *_frame_evidence(frames, message.splitlines()[0]),
                Evidence(
                    source="run",
                    text="shapes",
                    numbers={
                        "got_features": int(m["b"]),
                        "expected_features": int(m["c"]),
                        "out_features": int(m["d"]),
                    },
                ),
            ],
            recipe="fix_linear_in_features",
            advice=f"Set that layer's in_features to {m['b']} (or compute it from the input shape).",
            **base,
        )
    if any(word in error for word in _DTYPE):
        want = (
            "float"
            if ("Float" in error and "expected Float" in error)
            or "floating point" in error
            or "output type Long" in error
            else "long"
        )
        return Diagnosis(
            kind="label_dtype",
            title=f"the labels have the wrong dtype for the loss (it needs {want})",
            evidence=_frame_evidence(frames, message.splitlines()[0]),
            recipe="cast_labels",
            advice=f"Convert the targets with .{want}() where the loss is computed (or in the dataset).",
            **base,
        )
    if any(word in error for word in _SHAPE):
        return Diagnosis(
            kind="label_shape",
            title="the labels' shape does not match what the loss expects",
            evidence=_frame_evidence(frames, message.splitlines()[0]),
            recipe="reshape_labels",
            advice="Reshape the targets to the loss's expected shape ([B] class indices for cross_entropy, "
            "the logits' shape for BCE-with-logits).",
            **base,
        )
    if "does not require grad and does not have a grad_fn" in error:
        frozen = code.frozen_parameters(files)
        return Diagnosis(
            kind="frozen_parameters",
            title="no parameter the loss depends on requires a gradient",
            evidence=_frame_evidence(frames, message.splitlines()[0]) + _cite(frozen, "frozen"),
            recipe="unfreeze" if frozen else None,
            advice="Leave the trained layers with requires_grad=True (freeze only a backbone, keep the head "
            "trainable) and do not compute the loss under torch.no_grad().",
            **base,
        )
    return Diagnosis(
        kind="unknown",
        title=f"a failure with no known recipe: {(message or error).splitlines()[0] if (message or error) else result.status}",
        evidence=_frame_evidence(
            frames, (message or error).splitlines()[0] if (message or error) else result.status
        ),
        advice="Not a failure kind I know how to repair; the traceback above is where it happened.",
        **base,
    )


def _lr_evidence(files: dict[str, str]) -> tuple[list[code.Place], list[Evidence]]:
    lrs = code.learning_rates(files)
    return lrs, [
        Evidence(
            source="code",
            text=f"learning rate {code.lr_of(p)[0]:g} ({code.lr_of(p)[1]}): `{p.code}`",
            path=p.path,
            line=p.line,
        )
        for p in lrs
    ]


def _is_high(place: code.Place) -> bool:
    lr, optimizer = code.lr_of(place)
    return bool(lr >= (HIGH_LR["SGD"] if optimizer == "SGD" else HIGH_LR["adaptive"]))


def _nan(result: RunResult, files: dict[str, str], value: str, step: int, base: dict[str, Any]) -> Diagnosis:
    numbers = _run_numbers(result) | {"value": value, "at_step": step}
    run = Evidence(source="run", text=f"the loss became {value} at step {step}", numbers=numbers)
    logs = code.unguarded_logs(files)
    if logs:
        return Diagnosis(
            kind="nan_loss_log",
            title=f"the loss became {value} at step {step}: a log of zero",
            evidence=[run, *_cite(logs, "log without a floor")],
            recipe="clamp_log",
            advice="Clamp the argument of log (x.clamp_min(1e-7)), or use log_softmax / a *_with_logits loss.",
            **base,
        )
    lrs, lr_evidence = _lr_evidence(files)
    high = [p for p in lrs if _is_high(p)]
    if high:
        return Diagnosis(
            kind="nan_loss_lr",
            title=f"the loss became {value} at step {step}: the learning rate is too high",
            evidence=[run, *lr_evidence],
            recipe="set_lr",
            advice="Lower the learning rate (1e-3 for Adam/AdamW, 1e-2 for SGD are safe starts); clip gradients.",
            **base,
        )
    return Diagnosis(
        kind="nan_loss",
        title=f"the loss became {value} at step {step}",
        evidence=[run, *lr_evidence],
        advice="Check the data for NaN/inf, the normalisation, fp16 overflow (use bf16), and clip gradients.",
        **base,
    )


def stationary(losses: list[float], tolerance: float = STATIONARY_RTOL) -> bool:
    """The losses repeat exactly with some short period (the data's batches cycling): no weight moved.

    A smoke run's synthetic data is a few batches repeated, so an untrained model's loss is periodic, not
    constant; with a real loader the period is the epoch. Periods up to 8 steps are checked.
    """
    for period in range(1, min(9, len(losses) // 2 + 1)):
        pairs = list(zip(losses, losses[period:], strict=False))
        if pairs and all(abs(a - b) <= tolerance * max(abs(a), 1e-8) for a, b in pairs):
            return True
    return False


def learns(losses: list[float], loss_decreased: bool | None) -> bool:
    """Finite losses whose last third is clearly (>= 5%) below the first third, and below the first step.

    Stricter than the harness's 1% trend: a cycling loss of an untrained model can differ by a few percent
    between thirds by phase alone, and a loss that explodes at step 2 then falls back a little (a learning
    rate far too high) is "decreasing" over thirds but not training.
    """
    if not loss_decreased or len(losses) < 3 or stationary(losses):
        return False
    third = max(1, len(losses) // 3)
    first, last = statistics.fmean(losses[:third]), statistics.fmean(losses[-third:])
    return last < first - LEARN_MARGIN * abs(first) and last < losses[0]


def _succeeded(result: RunResult, files: dict[str, str], base: dict[str, Any]) -> Diagnosis:
    losses = [v for v in result.losses if math.isfinite(v)]
    numbers = _run_numbers(result)
    if len(losses) < 3:
        return Diagnosis(
            kind="unknown",
            title="the run finished but recorded too few losses to judge training",
            evidence=[Evidence(source="run", text="losses recorded", numbers=numbers)],
            advice="Return the loss from training_step (or call loss.backward() in the script).",
            **base,
        )
    probs = code.probability_into_logits_loss(files)
    if learns(losses, result.loss_decreased) and not probs:
        return Diagnosis(
            kind="trains",
            title=f"it trains: loss {losses[0]:.4g} -> {losses[-1]:.4g} over {len(losses)} steps",
            trains=True,
            evidence=[Evidence(source="run", text="finite, decreasing loss", numbers=numbers)],
            **base,
        )
    flat = stationary(losses)
    third = max(1, len(losses) // 3)
    run = Evidence(
        source="run",
        text="the loss did not move (it repeats with the data)" if flat else "the loss did not decrease",
        numbers=numbers
        | {
            "first_third_mean": round(statistics.fmean(losses[:third]), 6),
            "last_third_mean": round(statistics.fmean(losses[-third:]), 6),
            "max_loss": max(losses),
        },
    )
    frozen = code.frozen_parameters(files)
    if frozen:
        return Diagnosis(kind="frozen_parameters", title="the loss does not decrease: parameters are frozen",
                         evidence=[run, *_cite(frozen, "frozen")], recipe="unfreeze",
                         advice="Keep the trained layers' requires_grad=True.", **base)  # fmt: skip
    wrong = code.optimizer_param_sources(files)
    if wrong and flat:
        return Diagnosis(
            kind="optimizer_wrong_params",
            title="the loss does not move: the optimizer updates parameters the loss does not use",
            evidence=[run, *_cite(wrong, "optimizer over")],
            recipe="optimizer_all_params",
            advice="Give the optimizer the model's parameters (self.parameters() / model.parameters()).",
            **base,
        )
    no_zero = code.manual_steps_without_zero_grad(files)
    if no_zero:
        return Diagnosis(
            kind="missing_zero_grad",
            title="the loss does not decrease: gradients accumulate across steps (no zero_grad)",
            evidence=[run, *_cite(no_zero, "backward without zero_grad")],
            recipe="add_zero_grad",
            advice="Call optimizer.zero_grad() before each backward.",
            **base,
        )
    if probs:
        return Diagnosis(
            kind="probabilities_to_logits_loss",
            title="probabilities (softmax/sigmoid) are fed to a loss that expects logits"
            + ("" if not result.loss_decreased else " (it decreases, but slowly and capped)"),
            evidence=[run, *_cite(probs, "activation before a logits loss")],
            recipe="remove_probability_activation",
            advice="Return raw logits from forward; cross_entropy / BCEWithLogits apply softmax/sigmoid themselves.",
            **base,
        )
    lrs, lr_evidence = _lr_evidence(files)
    low = [p for p in lrs if code.lr_of(p)[0] <= LOW_LR]
    if low:
        return Diagnosis(kind="lr_too_low", title=f"the loss does not move: learning rate {code.lr_of(low[0])[0]:g} is far too low",
                         evidence=[run, *lr_evidence], recipe="set_lr",
                         advice="Use a learning rate around 1e-3 (Adam) or 1e-2 (SGD).", **base)  # fmt: skip
    high = [p for p in lrs if _is_high(p)]
    if high:
        return Diagnosis(kind="lr_too_high", title=f"the loss does not decrease: learning rate {code.lr_of(high[0])[0]:g} is too high",
                         evidence=[run, *lr_evidence], recipe="set_lr",
                         advice="Lower the learning rate (1e-3 for Adam, 1e-2 for SGD).", **base)  # fmt: skip
    return Diagnosis(
        kind="loss_not_decreasing",
        title="the loss does not decrease, and no cause shows in the code",
        evidence=[run, *lr_evidence],
        advice="Check that labels match inputs, the learning rate, and that the loss is computed on the model output.",
        **base,
    )
