"""Proof that each generated architecture really trains and exports (real Lightning on the CPU, no mocks).

For a representative backbone of each task x architecture: write a tiny data set to disk in the exact format
the generated DataModule reads (ImageFolder PNGs, image/mask PNG pairs, COCO JSON), load one batch through the
project's own DataModule, overfit it with a real ``Trainer`` (the project's optimiser and schedule), require a
finite loss that decreases, then run the project's ``export.py`` on that trained checkpoint, which compares ONNX Runtime with PyTorch
(tolerance: 1e-3 absolute on logits/scores; detectors also compare boxes to 1e-2 px after the same
post-processing, and must return the same number of detections).

Every architecture at its representative backbone runs here (``slow``); every backbone of every architecture
runs with ``-m codegen_full`` (``make test-codegen-full``). Each case is two child interpreters (train, then the
project's own export.py), mostly single-threaded (the torch.export-based ONNX exporter takes ~20 s of one core),
so the selected cases run two at a time in a pool (``run_selected_in_pool``) and each test waits for its own case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.codegen.conftest import run_selected_in_pool
from tools.codegen import GenerateSpec, generate, write_project
from tools.codegen.architectures import architectures

PROBE = r"""
import json, math, sys
from pathlib import Path
import numpy as np
import torch
from PIL import Image
torch.set_num_threads(1)  # two cases run at once (tests/codegen/conftest.py)
task, root = sys.argv[1], Path(sys.argv[2])
from config import smoke_profile
from data import {datamodule}
from model import {model}
{pl_import}

profile = smoke_profile()
size, n = profile.data.image_size, profile.data.num_classes
rng = np.random.default_rng(0)
def picture(cls):
    image = (rng.random((size, size, 3)) * 60).astype(np.uint8)
    image[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4, cls % 3] = 200
    return image
if task == "classification":
    for i in range(20):
        folder = root / "train" / f"class_{{i % n}}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture(i % n)).save(folder / f"{{i}}.png")
elif task == "segmentation":
    (root / "images").mkdir(parents=True); (root / "masks").mkdir()
    for i in range(20):
        Image.fromarray(picture(i % n)).save(root / "images" / f"{{i}}.png")
        mask = np.zeros((size, size), np.uint8)
        mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = i % n
        Image.fromarray(mask).save(root / "masks" / f"{{i}}.png")
else:
    (root / "images").mkdir(parents=True)
    images, annotations = [], []
    for i in range(20):
        Image.fromarray(picture(i % n)).save(root / "images" / f"{{i}}.png")
        images.append({{"id": i, "file_name": f"{{i}}.png", "width": size, "height": size}})
        side = size // 2
        annotations.append({{"id": i, "image_id": i, "category_id": 1 + i % n, "bbox": [size // 4, size // 4, side, side],
                             "area": side * side, "iscrowd": 0}})
    categories = [{{"id": c + 1, "name": f"c{{c}}"}} for c in range(n)]
    (root / "annotations.json").write_text(json.dumps({{"images": images, "annotations": annotations, "categories": categories}}))

data = {datamodule}(profile.data.model_copy(update={{"data_dir": root}}))
data.setup("fit")
batch = next(iter(data.val_dataloader()))  # eval transforms: the same batch every step, as an overfit needs
model = {model}(profile.model)
losses = []
class Record(pl.Callback):
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        losses.append(float(outputs["loss"]))
trainer = pl.Trainer(max_steps={steps}, accelerator="cpu", logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, callbacks=[Record()],
                     gradient_clip_val=profile.train.gradient_clip_val, limit_val_batches=0)
class Repeat:  # a plain iterable (a list would be read as several dataloaders)
    def __iter__(self):
        return iter([batch] * {steps})
    def __len__(self):
        return {steps}
trainer.fit(model, train_dataloaders=Repeat())
trainer.save_checkpoint(str(root / "trained.ckpt"))
print(json.dumps({{"losses": losses}}))
"""

STEPS = 8
CLASSES = {
    "classification": ("ClassificationModel", "ClassificationDataModule"),
    "segmentation": ("SegmentationModel", "SegmentationDataModule"),
    "detection": ("DetectionModel", "DetectionDataModule"),
}


def _fields(key: str, backbone: str | None = None) -> dict[str, object]:
    row = next(r for r in architectures() if r.key == key)
    fields: dict[str, object] = {
        "task": row.task,
        "architecture": row.name,
        "num_classes": 3,
        "review": False,
    }
    if backbone is not None:
        fields["backbone"] = backbone
    elif row.backbone_set == "dense":
        fields["backbone"] = "resnet18"
    return fields


def _train_and_export(tmp_path: Path, fields: dict[str, object]) -> None:
    _write_and_probe(tmp_path, fields)()


def _write_and_probe(tmp_path: Path, fields: dict[str, object]) -> Callable[[], None]:
    """Write the project here (in-process), and return the child-process part: train, then export."""
    spec = GenerateSpec.model_validate(fields)
    project = tmp_path / "project"
    write_project(generate(spec).files, project)
    return lambda: _probe(tmp_path, spec, project)


def _probe(tmp_path: Path, spec: GenerateSpec, project: Path) -> None:
    model, datamodule = CLASSES[spec.task]
    pl_import = "import lightning.pytorch as pl"
    probe = PROBE.format(model=model, datamodule=datamodule, steps=STEPS, pl_import=pl_import)
    proc = subprocess.run(
        [sys.executable, "-c", probe, spec.task, str(tmp_path / "data")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = json.loads(proc.stdout.strip().splitlines()[-1])["losses"]
    assert len(losses) == STEPS and all(loss == loss and abs(loss) < 1e6 for loss in losses), losses
    assert min(losses[-3:]) < losses[0], f"loss did not decrease on one repeated batch: {losses}"
    export = subprocess.run(
        [
            sys.executable,
            "export.py",
            "--checkpoint",
            str(tmp_path / "data" / "trained.ckpt"),
            "--output",
            str(tmp_path / "model.onnx"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert export.returncode == 0, export.stderr[-3000:]
    assert (tmp_path / "model.onnx").is_file()


# multi_label, regression and instance_segmentation have their own data formats and overfit/export proof in
# tests/codegen/test_new_tasks.py; this sweep covers the tasks whose data its probe writes.
PROBED = [r for r in architectures() if r.task in CLASSES]
REPRESENTATIVE_KEYS = [r.key for r in PROBED if r.task != "classification" or r.name == "resnet"]


@pytest.fixture(scope="module")
def sweep(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[None]]]:
    """Every selected case of the sweep, started at once in the two-worker pool (see tests/codegen/conftest.py)."""
    yield from run_selected_in_pool(
        request,
        tmp_path_factory,
        "test_architecture_overfits_a_batch_and_exports",
        lambda tmp, params: _write_and_probe(tmp, _fields(params["key"])),
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)  # waits for its case in a pool of SWEEP_WORKERS running the whole sweep
@pytest.mark.parametrize("key", REPRESENTATIVE_KEYS)
def test_architecture_overfits_a_batch_and_exports(sweep: dict[str, Future[None]], key: str) -> None:
    sweep[key].result()  # the case id is the key; re-raises the case's own assertion, with its message


FULL_SWEEP = [(r.key, b) for r in PROBED for b in r.backbone_choices()]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.codegen_full
@pytest.mark.parametrize(("key", "backbone"), FULL_SWEEP)
def test_every_backbone_overfits_and_exports(tmp_path: Path, key: str, backbone: str | None) -> None:
    _train_and_export(tmp_path, _fields(key, backbone))
