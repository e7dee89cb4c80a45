"""Measure the review engine: accuracy against the labelled corpus, and speed (cold CLI and in-process).

Usage::

    .venv/bin/python bench/review_bench.py [--corpus DIR] [--json] [--write-mismatches] [--no-speed] [--repeats N]

Accuracy compares every checklist status the engine gives with the ground-truth ``labels.yaml`` of each case
in ``bench/review_corpus`` (labelling policy: ``bench/review_corpus/README.md``). Speed runs the real CLI in
a fresh process (what a user or CI pays) on inputs generated deterministically into a temp dir, so nothing
large is committed. The same loading/scoring code is imported by ``tests/review/test_corpus.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "bench" / "review_corpus"
STATUSES = ("pass", "fail", "unknown", "not_applicable")
CHECKLIST_IDS = (
    "lightning-module",
    "data-module",
    "pydantic-config",
    "metric-prefixes",
    "lr-scheduler",
    "gradient-clipping",
    "mixed-precision",
    "callbacks",
    "seeding",
    "data-leakage",
    "experiment-tracking",
    "onnx-export",
    "augmentations",
    "loss-function",
)
#: Files of a case directory that describe the case rather than belong to the project under review.
NON_PROJECT_FILES = {"labels.yaml"}


# ----------------------------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Case:
    """One labelled project: its files (relative path -> text) and the expected status of each item."""

    name: str
    description: str
    files: dict[str, str]
    labels: dict[str, str]
    why: dict[str, str]

    @property
    def lines(self) -> int:
        return sum(text.count("\n") + 1 for text in self.files.values())


class CorpusError(ValueError):
    """A case directory that is not a valid labelled case (bad labels.yaml, unreadable files)."""


def _project_files(case_dir: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(case_dir.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(case_dir).as_posix()
        if rel in NON_PROJECT_FILES or path.suffix == ".md":
            continue
        files[rel] = path.read_text(encoding="utf-8")
    return files


def load_case(case_dir: Path) -> Case:
    """Read one case; raise CorpusError when its labels do not cover exactly the 14 ids with valid statuses."""
    try:
        meta = yaml.safe_load((case_dir / "labels.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(f"{case_dir.name}: cannot read labels.yaml: {exc}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("labels"), dict):
        raise CorpusError(f"{case_dir.name}: labels.yaml needs a 'labels' mapping")
    labels = {str(k): str(v) for k, v in meta["labels"].items()}
    missing = set(CHECKLIST_IDS) - set(labels)
    extra = set(labels) - set(CHECKLIST_IDS)
    bad = {k: v for k, v in labels.items() if v not in STATUSES}
    if missing or extra or bad:
        raise CorpusError(f"{case_dir.name}: missing={sorted(missing)} extra={sorted(extra)} bad={bad}")
    files = _project_files(case_dir)
    if not files:
        raise CorpusError(f"{case_dir.name}: no project files")
    return Case(
        name=case_dir.name,
        description=str(meta.get("description", "")),
        files=files,
        labels=labels,
        why={str(k): str(v) for k, v in (meta.get("why") or {}).items()},
    )


def load_corpus(corpus: Path = DEFAULT_CORPUS) -> list[Case]:
    """All cases under ``corpus`` (every sub-directory holding a labels.yaml), sorted by name."""
    dirs = sorted(p.parent for p in corpus.glob("*/labels.yaml"))
    if not dirs:
        raise CorpusError(f"no cases (*/labels.yaml) under {corpus}")
    return [load_case(d) for d in dirs]


# --------------------------------------------------------------------------------------------- accuracy


@dataclass
class Outcome:
    """What the engine said about one item of one case."""

    case: str
    item: str
    expected: str
    got: str
    evidence: str
    findings: list[str]
    why: str = ""


@dataclass
class ItemScore:
    """Per-item agreement and fail-class precision/recall (None where the denominator is empty)."""

    item: str
    n: int = 0
    agree: int = 0
    fail_tp: int = 0
    fail_fp: int = 0
    fail_fn: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.agree / self.n if self.n else 1.0

    @property
    def fail_precision(self) -> float | None:
        denom = self.fail_tp + self.fail_fp
        return self.fail_tp / denom if denom else None

    @property
    def fail_recall(self) -> float | None:
        denom = self.fail_tp + self.fail_fn
        return self.fail_tp / denom if denom else None

    def status_precision(self, status: str) -> float | None:
        predicted = sum(row.get(status, 0) for row in self.confusion.values())
        return self.confusion.get(status, {}).get(status, 0) / predicted if predicted else None

    def status_recall(self, status: str) -> float | None:
        expected = sum(self.confusion.get(status, {}).values())
        return self.confusion.get(status, {}).get(status, 0) / expected if expected else None

    def macro(self) -> tuple[float, float]:
        """Macro precision and recall over the statuses that occur (expected or predicted) for this item."""
        precisions = [p for s in STATUSES if (p := self.status_precision(s)) is not None]
        recalls = [r for s in STATUSES if (r := self.status_recall(s)) is not None]
        return (
            statistics.mean(precisions) if precisions else 1.0,
            statistics.mean(recalls) if recalls else 1.0,
        )


@dataclass
class AccuracyResult:
    outcomes: list[Outcome]
    per_item: dict[str, ItemScore]
    seconds: float
    lines: int
    errors: list[str]

    @property
    def mismatches(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.expected != o.got]

    @property
    def overall_accuracy(self) -> float:
        return (
            sum(1 for o in self.outcomes if o.expected == o.got) / len(self.outcomes)
            if self.outcomes
            else 0.0
        )


def _engine() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Import the engine lazily so that loading the corpus (and this module) never needs it."""
    from tools.review import ReviewRequest, review

    return review, ReviewRequest


def review_case(case: Case) -> dict[str, Any]:
    """Run the engine on one case as the HTTP API would; returns the report as a plain dict."""
    review, request_cls = _engine()
    report = review(request_cls(files=case.files))
    return report.model_dump() if hasattr(report, "model_dump") else dict(report)


class _CapturedErrors(logging.Handler):
    """Collects ERROR records logged while one case is reviewed (e.g. a rule that crashed and was skipped)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        detail = f" ({type(exc).__name__}: {exc})" if exc else ""
        self.messages.append(f"{record.getMessage()}{detail}")

    def __enter__(self) -> _CapturedErrors:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


def score(cases: Iterable[Case]) -> AccuracyResult:
    """Review every case and compare each checklist status with its label."""
    per_item = {item: ItemScore(item) for item in CHECKLIST_IDS}
    outcomes: list[Outcome] = []
    errors: list[str] = []
    total = 0.0
    lines = 0
    for case in cases:
        lines += case.lines
        start = time.perf_counter()
        with _CapturedErrors() as logged:
            try:
                report = review_case(case)
            except Exception as exc:  # the bench must report a crashing case, not die on it
                errors.append(f"{case.name}: {type(exc).__name__}: {exc}")
                report = {"checklist": []}
        total += time.perf_counter() - start
        errors.extend(f"{case.name}: {message}" for message in logged.messages)
        got = {entry["id"]: entry for entry in report.get("checklist", [])}
        for item in CHECKLIST_IDS:
            expected = case.labels[item]
            entry = got.get(item, {})
            status = str(entry.get("status", "missing"))
            outcomes.append(
                Outcome(
                    case=case.name,
                    item=item,
                    expected=expected,
                    got=status,
                    evidence=str(entry.get("evidence", "")),
                    findings=list(entry.get("findings", [])),
                    why=case.why.get(item, ""),
                )
            )
            s = per_item[item]
            s.n += 1
            s.agree += expected == status
            s.confusion.setdefault(expected, {}).setdefault(status, 0)
            s.confusion[expected][status] += 1
            if status == "fail" and expected == "fail":
                s.fail_tp += 1
            elif status == "fail":
                s.fail_fp += 1
            elif expected == "fail":
                s.fail_fn += 1
    return AccuracyResult(outcomes=outcomes, per_item=per_item, seconds=total, lines=lines, errors=errors)


# ------------------------------------------------------------------------------------------------ speed

# One realistic training-module chunk. The big inputs repeat it with distinct names so that every copy is a
# real class/function the engine must index (not a string it can skip); seeds make them deterministic.
_CHUNK = '''

class Classifier{i}Config(BaseModel):
    num_classes: int = Field(ge=2, default={nc})
    lr: float = Field(gt=0, default={lr})
    weight_decay: float = Field(ge=0, default=1e-4)


class Classifier{i}(L.LightningModule):
    """Variant {i}: a ResNet head with label smoothing {ls}."""

    def __init__(self, config: Classifier{i}Config) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config = config
        self.net = models.resnet18(weights=None, num_classes=config.num_classes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing={ls})
        self.train_acc = MulticlassAccuracy(num_classes=config.num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        loss = self.criterion(logits, targets)
        self.train_acc(logits, targets)
        self.log("train/loss", loss, on_step=True, on_epoch=True)
        self.log("train/acc", self.train_acc, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        self.val_acc(logits, targets)
        self.log("val/loss", self.criterion(logits, targets), on_epoch=True)
        self.log("val/acc", self.val_acc, on_epoch=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={epochs})
        return {{"optimizer": optimizer, "lr_scheduler": scheduler}}


class Data{i}(L.LightningDataModule):
    def __init__(self, root: str = "data/set{i}", batch_size: int = {bs}) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size
        self.train_tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()])
        self.eval_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])

    def setup(self, stage=None):
        self.train_set = ImageFolder(f"{{self.root}}/train", transform=self.train_tf)
        self.val_set = ImageFolder(f"{{self.root}}/val", transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=4)


def train_variant_{i}(max_epochs: int = {epochs}) -> None:
    L.seed_everything({i}, workers=True)
    model = Classifier{i}(Classifier{i}Config())
    trainer = L.Trainer(
        max_epochs=max_epochs,
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=CSVLogger("logs", name="variant{i}"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss")],
    )
    trainer.fit(model, datamodule=Data{i}())
'''

_HEADER = '''"""Generated benchmark input: many realistic Lightning variants in one module."""

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision import models
from torchvision import transforms as T
from torchvision.datasets import ImageFolder
'''


def _chunk(i: int) -> str:
    return _CHUNK.format(
        i=i,
        nc=2 + i % 50,
        lr=("1e-3", "3e-4", "1e-4")[i % 3],
        ls=("0.0", "0.1")[i % 2],
        epochs=10 + i % 40,
        bs=(32, 64, 128)[i % 3],
    )


def generate_big_file(target_lines: int = 3000) -> str:
    """A single valid module of about ``target_lines`` lines, the same text on every call."""
    parts = [_HEADER]
    lines = _HEADER.count("\n")
    i = 0
    while lines < target_lines:
        chunk = _chunk(i)
        parts.append(chunk)
        lines += chunk.count("\n")
        i += 1
    return "".join(parts)


_TRAINER_YAML = """_target_: lightning.pytorch.trainer.Trainer
max_epochs: {epochs}
accelerator: gpu
devices: 1
precision: {precision}
gradient_clip_val: {clip}
"""


def generate_project(root: Path, n_files: int = 50) -> int:
    """Write an ``n_files``-file Hydra-style project (Python modules + trainer YAML) under ``root``."""
    pkg = root / "src" / "models"
    pkg.mkdir(parents=True, exist_ok=True)
    (root / "src" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    written = 2
    n_yaml = 4
    for j in range(n_yaml):
        (root / "configs" / "trainer").mkdir(parents=True, exist_ok=True)
        (root / "configs" / "trainer" / f"variant{j}.yaml").write_text(
            _TRAINER_YAML.format(epochs=10 + j, precision=("16-mixed", "bf16-mixed")[j % 2], clip=0.5 + j)
        )
        written += 1
    i = 0
    while written < n_files:
        body = _HEADER + _chunk(i) + _chunk(i + 1000)
        (pkg / f"variant_{i:03d}.py").write_text(body)
        written += 1
        i += 1
    return written


def _cli_commands() -> list[tuple[list[str], str]]:
    """The cold review commands: ``mlagent review`` (what users run) and the standalone module, when they work.

    Timing both shows how much of a cold run is the service CLI's own start-up rather than the review engine.
    """
    candidates = [
        ([str(Path(sys.executable).parent / "mlagent"), "review"], "mlagent review"),
        ([sys.executable, "-m", "tools.review", "review"], "python -m tools.review review"),
    ]
    found = []
    for cmd, label in candidates:
        if not Path(cmd[0]).exists():
            continue
        probe = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=REPO)
        if probe.returncode == 0:
            found.append((cmd, label))
    return found


@dataclass
class Timing:
    what: str
    command: str
    files: int
    lines: int
    runs: list[float]
    exit_codes: list[int]
    target_s: float

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def ok(self) -> bool:
        return self.median < self.target_s and all(rc in (0, 1) for rc in self.exit_codes)


def _time_cli(cmd: list[str], target: Path, repeats: int) -> tuple[list[float], list[int], str]:
    runs: list[float] = []
    codes: list[int] = []
    tail = ""
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(
            [*cmd, str(target), "--format", "json"], capture_output=True, text=True, cwd=REPO
        )
        runs.append(time.perf_counter() - start)
        codes.append(proc.returncode)
        tail = proc.stderr[-500:]
    return runs, codes, tail


def measure_speed(cases: list[Case], repeats: int = 3) -> dict[str, Any]:
    """Cold CLI runs on a generated big file and a generated 50-file project, plus in-process throughput."""
    result: dict[str, Any] = {"cli": [], "errors": []}
    commands = _cli_commands()
    if not commands:
        result["errors"].append("no review CLI found (mlagent review, python -m tools.review review)")
    tmp = Path(tempfile.mkdtemp(prefix="review-bench-"))
    try:
        big = tmp / "big_module.py"
        big.write_text(generate_big_file())
        project = tmp / "project50"
        n_files = generate_project(project)
        project_lines = sum(p.read_text().count("\n") + 1 for p in project.rglob("*") if p.is_file())
        for cmd, label in commands:
            for what, target, files, lines, budget in (
                ("one ~3,000-line file", big, 1, big.read_text().count("\n") + 1, 1.0),
                (f"{n_files}-file project", project, n_files, project_lines, 3.0),
            ):
                runs, codes, tail = _time_cli(cmd, target, repeats)
                result["cli"].append(asdict(Timing(what, label, files, lines, runs, codes, budget)))
                if any(rc not in (0, 1) for rc in codes):
                    result["errors"].append(f"{label}, {what}: exit codes {codes}: {tail}")
        # In-process throughput over the corpus, after one warm-up pass (imports, rule discovery).
        review_case(cases[0])
        lines = sum(c.lines for c in cases)
        start = time.perf_counter()
        for case in cases:
            review_case(case)
        seconds = time.perf_counter() - start
        result["in_process"] = {
            "cases": len(cases),
            "lines": lines,
            "seconds": seconds,
            "lines_per_s": lines / seconds if seconds else 0.0,
        }
        big_text = big.read_text()
        review, request_cls = _engine()
        start = time.perf_counter()
        report = review(request_cls(files={"big_module.py": big_text}))
        result["in_process_big_file_s"] = time.perf_counter() - start
        result["rule_timings"] = _rule_timings(report, {"big_module.py": big_text})
        if result["rule_timings"] is None:
            result["rule_timings_estimated"] = estimate_rule_timings({"big_module.py": big_text})
        result["parse_floor_s"] = _parse_floor(big_text)
        result["load_average"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _parse_floor(text: str) -> dict[str, float]:
    """Best-of-3 parse times of the big file: the floor any engine built on that parser pays."""
    import ast

    import libcst

    floor: dict[str, float] = {}
    for name, parse in (("ast.parse", ast.parse), ("libcst.parse_module", libcst.parse_module)):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            parse(text)
            runs.append(time.perf_counter() - start)
        floor[name] = min(runs)
    return floor


def _rule_timings(report: Any, files: dict[str, str]) -> dict[str, float] | None:
    """Per-rule seconds if the engine exposes them (on the report, or on the engine's analysis object)."""
    for attr in ("timings", "rule_timings"):
        value = getattr(report, attr, None)
        if isinstance(value, dict) and value:
            return {str(k): float(v) for k, v in value.items()}
    try:
        from tools.review import engine

        analysis = engine.analyze(files, engine.select_rules(None, None), engine.config_from_files(files))
    except Exception:
        return None
    for attr in ("timings", "rule_timings"):
        value = getattr(analysis, attr, None)
        if isinstance(value, dict) and value:
            return {str(k): float(v) for k, v in value.items()}
    return None


def estimate_rule_timings(files: dict[str, str]) -> dict[str, float] | None:
    """Per-rule cost when the engine exposes none: review with only that rule selected, minus the fastest such run.

    The fastest single-rule run approximates the shared cost (parse, index, report), so the difference is the
    rule's own work plus any shared analysis the engine builds lazily for it. One run each: an estimate,
    labelled as such in the table, and noisy on a loaded machine.
    """
    try:
        from tools.review import ReviewRequest, review
        from tools.review.engine import select_rules

        codes = sorted({rule.code for rule in select_rules(None, None)})
    except Exception:
        return None
    raw: dict[str, float] = {}
    for code in codes:
        start = time.perf_counter()
        review(ReviewRequest(files=files, select=[code]))
        raw[code] = time.perf_counter() - start
    if not raw:
        return None
    base = min(raw.values())
    return {code: t - base for code, t in raw.items()}


# ----------------------------------------------------------------------------------------------- output


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def accuracy_table(acc: AccuracyResult) -> str:
    head = (
        f"{'item':<20} {'n':>3} {'agree':>7} {'fail P':>7} {'fail R':>7} {'macro P':>8} {'macro R':>8}"
        "   expected counts (pass/fail/unk/na)"
    )
    rows = [head, "-" * len(head)]
    for item in CHECKLIST_IDS:
        s = acc.per_item[item]
        counts = "/".join(str(sum(s.confusion.get(st, {}).values())) for st in STATUSES)
        mp, mr = s.macro()
        rows.append(
            f"{item:<20} {s.n:>3} {_pct(s.accuracy):>7} {_pct(s.fail_precision):>7} {_pct(s.fail_recall):>7} "
            f"{_pct(mp):>8} {_pct(mr):>8}   {counts}"
        )
    tp = sum(s.fail_tp for s in acc.per_item.values())
    fp = sum(s.fail_fp for s in acc.per_item.values())
    fn = sum(s.fail_fn for s in acc.per_item.values())
    rows.append("-" * len(head))
    rows.append(
        f"{'overall':<20} {len(acc.outcomes):>3} {_pct(acc.overall_accuracy):>7} "
        f"{_pct(tp / (tp + fp) if tp + fp else None):>7} {_pct(tp / (tp + fn) if tp + fn else None):>7}"
    )
    return "\n".join(rows)


def mismatch_lines(acc: AccuracyResult, evidence_chars: int = 160) -> list[str]:
    out = []
    for o in acc.mismatches:
        ev = " ".join(o.evidence.split())[:evidence_chars]
        out.append(f"{o.case:<36} {o.item:<20} expected={o.expected:<15} got={o.got:<15} {ev}")
    return out


def speed_table(speed: dict[str, Any]) -> str:
    head = (
        f"{'cold CLI run (PATH --format json)':<34} {'input':<22} {'lines':>6} {'median':>8} "
        f"{'runs (s)':<20} {'target':>7}  ok"
    )
    rows = [head]
    for t in speed.get("cli", []):
        runs = ", ".join(f"{r:.2f}" for r in t["runs"])
        ok = statistics.median(t["runs"]) < t["target_s"] and all(rc in (0, 1) for rc in t["exit_codes"])
        rows.append(
            f"{t['command']:<34} {t['what']:<22} {t['lines']:>6} {statistics.median(t['runs']):>7.2f}s "
            f"{runs:<20} {t['target_s']:>6.1f}s  {'yes' if ok else 'NO'}"
        )
    if t := speed.get("in_process"):
        rows.append(
            f"in-process corpus: {t['cases']} cases, {t['lines']} lines in {t['seconds']:.2f} s "
            f"= {t['lines_per_s']:.0f} lines/s"
        )
    if "in_process_big_file_s" in speed:
        rows.append(f"in-process, ~3,000-line file: {speed['in_process_big_file_s']:.3f} s")
    for name, sec in (speed.get("parse_floor_s") or {}).items():
        rows.append(f"parse floor, ~3,000-line file, {name}: {sec:.3f} s")
    if "load_average" in speed:
        rows.append(
            f"1-minute load average during the run: {speed['load_average']:.1f} (timings scale with it)"
        )
    timings = speed.get("rule_timings")
    if timings:
        rows.append("per-rule time on the ~3,000-line file (ms):")
        for name, sec in sorted(timings.items(), key=lambda kv: -kv[1]):
            rows.append(f"  {name:<40} {sec * 1000:8.2f}")
    elif estimated := speed.get("rule_timings_estimated"):
        rows.append(
            "per-rule time on the ~3,000-line file, ESTIMATED (engine exposes none): --select CODE run"
        )
        rows.append("minus the fastest single-rule run; includes lazily built shared analysis (ms):")
        for name, sec in sorted(estimated.items(), key=lambda kv: -kv[1]):
            rows.append(f"  {name:<40} {sec * 1000:8.1f}")
    else:
        rows.append("per-rule timings: not exposed by the engine")
    for err in speed.get("errors", []):
        rows.append(f"ERROR: {err}")
    return "\n".join(rows)


def mismatches_markdown(acc: AccuracyResult, speed: dict[str, Any] | None = None) -> str:
    """MISMATCHES.md: every disagreement with its label reason and the engine's evidence, grouped by item."""
    lines = [
        "# Review engine vs. labelled corpus: mismatches",
        "",
        "Generated by `.venv/bin/python bench/review_bench.py --write-mismatches`; do not edit by hand.",
        "Labelling policy: `README.md` in this folder, including its section *Policy clarifications*.",
        "",
        f"Overall exact agreement: {acc.overall_accuracy * 100:.1f}% over {len(acc.outcomes)} item verdicts "
        f"({len(acc.mismatches)} mismatches).",
        "",
        "```",
        accuracy_table(acc),
        "```",
        "",
    ]
    if speed is not None:
        lines += [
            "## Speed (this machine, CPU shared with other jobs)",
            "",
            "```",
            speed_table(speed),
            "```",
            "",
        ]
    if acc.errors:
        lines += ["## Engine errors", ""] + [f"- {e}" for e in acc.errors] + [""]
    for item in CHECKLIST_IDS:
        rows = [o for o in acc.mismatches if o.item == item]
        if not rows:
            continue
        lines += [
            f"## {item} ({len(rows)})",
            "",
            "| case | expected | got | label reason | engine evidence |",
            "|---|---|---|---|---|",
        ]
        for o in rows:
            ev = " ".join(o.evidence.split()).replace("|", "\\|")[:240]
            why = o.why.replace("|", "\\|")
            lines.append(f"| `{o.case}` | {o.expected} | {o.got} | {why} | {ev} |")
        lines.append("")
    return "\n".join(lines)


def _as_json(acc: AccuracyResult, speed: dict[str, Any] | None) -> dict[str, Any]:
    items = {}
    for item, s in acc.per_item.items():
        mp, mr = s.macro()
        items[item] = {
            "n": s.n,
            "agreement": s.accuracy,
            "fail_precision": s.fail_precision,
            "fail_recall": s.fail_recall,
            "macro_precision": mp,
            "macro_recall": mr,
            "confusion": s.confusion,
        }
    return {
        "cases": len({o.case for o in acc.outcomes}),
        "overall_agreement": acc.overall_accuracy,
        "items": items,
        "mismatches": [asdict(o) for o in acc.mismatches],
        "errors": acc.errors,
        "review_seconds": acc.seconds,
        "speed": speed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of labelled cases")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--write-mismatches", action="store_true", help="write MISMATCHES.md into the corpus")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurements")
    parser.add_argument("--repeats", type=int, default=3, help="cold CLI runs per input (median is reported)")
    parser.add_argument("--only", metavar="TEXT", help="score only the cases whose name contains TEXT")
    args = parser.parse_args(argv)

    if args.only and args.write_mismatches:
        print("review_bench: --write-mismatches needs the whole corpus; drop --only", file=sys.stderr)
        return 2
    os.chdir(REPO)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        cases = load_corpus(args.corpus)
    except CorpusError as exc:
        print(f"review_bench: {exc}", file=sys.stderr)
        return 2
    if args.only:
        cases = [c for c in cases if args.only in c.name]
        if not cases:
            print(f"review_bench: no case name contains {args.only!r}", file=sys.stderr)
            return 2
    acc = score(cases)
    speed = None if args.no_speed else measure_speed(cases, repeats=max(1, args.repeats))
    if args.write_mismatches:
        (args.corpus / "MISMATCHES.md").write_text(mismatches_markdown(acc, speed) + "\n")
    if args.json:
        print(json.dumps(_as_json(acc, speed), indent=2))
        return 0
    print(f"Accuracy over {len(cases)} cases ({acc.lines} lines, reviewed in {acc.seconds:.2f} s)\n")
    print(accuracy_table(acc))
    if acc.errors:
        print("\nEngine errors:")
        for err in acc.errors:
            print(f"  {err}")
    mm = mismatch_lines(acc)
    print(f"\nMismatches ({len(mm)}):")
    for line in mm:
        print(f"  {line}")
    if speed is not None:
        print("\nSpeed\n")
        print(speed_table(speed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
