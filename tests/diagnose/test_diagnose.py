"""Diagnosis from recorded sandbox results of the broken-project corpus (fast: no runs).

The results in ``recorded/`` are real sandbox output (bench/record_broken.py); each corpus project's
``expected.json`` names the kind it must get. Hand-made results cover what the corpus cannot make cheaply.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.spec import RunResult
from tools.diagnose import diagnose
from tools.diagnose.classify import learns, stationary
from tools.diagnose.traceback import split_error
from tools.fixrun.corpus import Case, load_corpus
from tools.fixrun.recipes import repair

RECORDED = Path(__file__).parent / "recorded"
CASES = [c for c in load_corpus() if (RECORDED / f"{c.name}.json").is_file()]


def _result(case: Case) -> RunResult:
    return RunResult.model_validate(json.loads((RECORDED / f"{case.name}.json").read_text())["result"])


def test_the_corpus_is_big_and_covers_every_kind() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 30
    kinds = {c.kind for c in corpus}
    for kind in (
        "head_num_classes", "shape_mismatch", "label_dtype", "label_shape", "probabilities_to_logits_loss",
        "nan_loss_lr", "nan_loss_log", "lr_too_low", "lr_too_high", "frozen_parameters",
        "optimizer_wrong_params", "missing_zero_grad", "oom", "timeout", "download", "missing_package", "unknown",
    ):  # fmt: skip
        assert kind in kinds, kind
    assert {c.expected.get("framework") for c in corpus} == {"lightning", "torch"}
    assert len(CASES) == len(corpus), "every corpus project has a recorded result"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_recorded_run_gets_the_expected_diagnosis(case: Case) -> None:
    diagnosis = diagnose(_result(case), case.files)
    assert diagnosis.kind == case.kind, diagnosis.title
    assert diagnosis.evidence, "a diagnosis always says what it rests on"
    if case.kind == "unknown":
        assert diagnosis.recipe is None and diagnosis.error, (
            "unknowns keep their traceback, no guessed recipe"
        )
    if case.repairable:
        assert diagnosis.recipe is not None


@pytest.mark.parametrize("case", [c for c in CASES if c.repairable], ids=lambda c: c.name)
def test_recipe_edits_a_copy_and_gives_valid_python(case: Case) -> None:
    before = dict(case.files)
    fixed = repair(diagnose(_result(case), case.files), case.files)
    assert case.files == before, "the input files are never modified"
    assert fixed is not None and fixed.diff.startswith("--- a/")
    for path in fixed.changed:
        compile(fixed.files[path], path, "exec")


def test_frames_and_numbers_are_evidence() -> None:
    case = next(c for c in CASES if c.name == "shape_mismatch_flatten")
    diagnosis = diagnose(_result(case), case.files)
    assert diagnosis.frames and diagnosis.frames[-1].path == "model.py"
    numbers = next(e.numbers for e in diagnosis.evidence if "got_features" in e.numbers)
    assert numbers == {"got_features": 192, "expected_features": 128, "out_features": 32}


def test_split_error_reads_the_harness_format() -> None:
    error = (
        "IndexError: Target 9 is out of bounds.\nTraceback (submitted files only, most recent call last):\n"
        '  File "model.py", line 21, in training_step\n    loss = F.cross_entropy(self(x), y)'
    )
    exc, message, frames = split_error(error)
    assert (exc, message) == ("IndexError", "Target 9 is out of bounds.")
    assert frames[0].line == 21 and frames[0].code == "loss = F.cross_entropy(self(x), y)"


def test_stationary_and_learning_curves() -> None:
    cycle = [2.4891, 2.3254, 2.4333, 2.1327] * 5
    assert stationary(cycle) and not learns(cycle, True)
    exploding = [2.5, 3128.0, 4818.0, 17941.0, 11661.0, 5711.0, 1018.0, 639.0, 700.0]
    assert not learns(exploding, True)
    falling = [2.4 - 0.1 * i for i in range(20)]
    assert learns(falling, True) and not stationary(falling)


def test_no_memory_import_error_is_oom_and_unknown_stays_unknown() -> None:
    result = RunResult(
        id="r", status="failed", error="ImportError: /x/_regex.so: failed to map segment from shared object"
    )
    assert diagnose(result, {"m.py": "x = 1\n"}).kind == "oom"
    weird = RunResult(id="r", status="failed", error="ZeroDivisionError: division by zero")
    diagnosis = diagnose(weird, {"m.py": "x = 1\n"})
    assert (
        diagnosis.kind == "unknown"
        and diagnosis.recipe is None
        and "ZeroDivisionError" in (diagnosis.error or "")
    )
