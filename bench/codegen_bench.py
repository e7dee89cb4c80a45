"""Code generation benchmark: generation time and CPU training-step time per architecture at the smoke size.

Usage: ``.venv/bin/python bench/codegen_bench.py [--steps N] [--threads T] [--only task/arch ...]``.
For each task x architecture of the registry (one representative backbone each), times ``generate`` (render +
static review), writes the project to a temporary folder, and in a fresh interpreter builds the model and data
module of the project's smoke profile (``for_smoke_run``) and times N optimiser steps after one warm-up step
(on ``T`` CPU threads, default 2 as on the CI machine). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.codegen import GenerateSpec, generate, write_project
from tools.codegen.architectures import Architecture, architectures

# Runs inside the generated project (its own modules on sys.path): N steps of its smoke profile.
STEP_PROBE = """
import json, sys, time
import torch
torch.set_num_threads({threads})
from data import {datamodule}
from model import {model}
model = {model}.for_smoke_run().train()
data = {datamodule}.for_smoke_run()
data.setup("fit")
batches = iter(data.train_dataloader())
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
times = []
for step in range({steps} + 1):
    try:
        batch = next(batches)
    except StopIteration:
        batches = iter(data.train_dataloader())
        batch = next(batches)
    start = time.perf_counter()
    loss = model.training_step(batch, step)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    times.append(time.perf_counter() - start)
print(json.dumps({{"step_s": sorted(times[1:])[len(times[1:]) // 2], "size": model.config.image_size,
                  "batch": data.config.batch_size}}))
"""

CLASSES = {
    "classification": ("ClassificationModel", "ClassificationDataModule"),
    "segmentation": ("SegmentationModel", "SegmentationDataModule"),
    "detection": ("DetectionModel", "DetectionDataModule"),
}


def representative(arch: Architecture) -> dict[str, object]:
    """The spec of the architecture's representative: its default backbone (resnet18 for FPN/dense heads)."""
    fields: dict[str, object] = {"task": arch.task, "architecture": arch.name, "num_classes": 3}
    if arch.backbone_set == "dense":
        fields["backbone"] = "resnet18"
    return fields


def measure(arch: Architecture, steps: int, threads: int) -> dict[str, object]:
    start = time.perf_counter()
    result = generate(GenerateSpec.model_validate(representative(arch)))
    generate_s = time.perf_counter() - start
    failed = [i["id"] for i in (result.review or {}).get("checklist", []) if i["status"] == "fail"]
    with tempfile.TemporaryDirectory() as tmp:
        write_project(result.files, Path(tmp))
        model, datamodule = CLASSES[arch.task]
        probe = STEP_PROBE.format(threads=threads, steps=steps, model=model, datamodule=datamodule)
        proc = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp, capture_output=True, text=True, timeout=900, check=False
        )
    row: dict[str, object] = {
        "architecture": arch.key,
        "backbone": result.spec.backbone or "-",
        "generate_s": round(generate_s, 2),
        "review_fails": len(failed),
    }
    if proc.returncode != 0:
        row["error"] = proc.stderr.strip().splitlines()[-1][:120]
        return row
    row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=[], help="task/architecture keys, e.g. detection/fcos")
    args = parser.parse_args()
    print("| architecture | backbone | generate s | review fails | smoke size | batch | CPU step s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for arch in architectures():
        if args.only and arch.key not in args.only:
            continue
        row = measure(arch, args.steps, args.threads)
        step = row.get("step_s")
        print(
            f"| {row['architecture']} | {row['backbone']} | {row['generate_s']} | {row['review_fails']} | "
            f"{row.get('size', '-')} | {row.get('batch', '-')} | "
            f"{f'{step:.3f}' if isinstance(step, float) else row.get('error')} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
