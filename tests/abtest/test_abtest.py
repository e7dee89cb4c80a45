"""A/B runs: the verdict logic on given figures (fast), and one real interleaved bf16-vs-fp32 pair."""

from __future__ import annotations

from pathlib import Path

from sandbox.experiments import ExperimentStore
from tools.abtest import ABRequest, Variant, run_ab
from tools.abtest.models import RunFigures, VariantResult
from tools.abtest.render import render_markdown
from tools.abtest.run import build_variant, compare_metric, recommend
from tools.fixrun.corpus import load_corpus
from tools.fixrun.loop import store_runner


def _arm(name: str, speeds: list[float]) -> VariantResult:
    runs = [
        RunFigures(status="succeeded", samples_per_s=s, peak_memory_mb=500.0, final_loss=1.0) for s in speeds
    ]
    return VariantResult(name=name, change=name, runs=runs)


def test_overlapping_ranges_are_within_noise_and_separated_ones_are_not() -> None:
    base = _arm("fp32", [100.0, 104.0, 98.0])
    close = compare_metric("samples_per_s", True, base, _arm("bf16", [101.0, 99.0, 103.0]))
    assert close.verdict.startswith("within noise")
    far = compare_metric("samples_per_s", True, base, _arm("bf16", [150.0, 155.0, 149.0]))
    assert far.verdict.startswith("better") and far.relative_change is not None and far.relative_change > 0.4
    slow = compare_metric("samples_per_s", True, base, _arm("bf16", [50.0, 52.0, 51.0]))
    assert slow.verdict.startswith("worse")
    text = recommend([base, _arm("bf16", [101.0, 99.0, 103.0])], [close], "cpu")
    assert "not measurably faster" in text and "cpu" in text


def test_one_repeat_says_noise_cannot_be_told() -> None:
    verdict = compare_metric("samples_per_s", True, _arm("a", [10.0]), _arm("b", [20.0])).verdict
    assert "no spread measured" in verdict


def test_an_edit_that_does_not_apply_is_reported_not_run() -> None:
    files, change = build_variant(
        {"m.py": "x = 1\n"}, Variant(name="lr", instruction="set the learning rate to 3e-4")
    )
    assert files is None and "could not apply" in change


def test_real_interleaved_bf16_against_fp32(tmp_path: Path) -> None:
    from core.settings import Settings

    files = next(c for c in load_corpus() if c.name == "ok_lightning_mlp").files
    settings = Settings(data_dir=tmp_path)  # type: ignore[call-arg]
    request = ABRequest(
        files=files,
        variants=[Variant(name="fp32"), Variant(name="bf16", precision="bf16-mixed")],
        repeats=1,
        steps=8,
        device="cpu",
    )
    with ExperimentStore(settings.experiments_db) as store:
        report = run_ab(request, settings, store_runner(settings, store))
    assert report.order == ["fp32", "bf16"]
    assert [r.status for v in report.variants for r in v.runs] == ["succeeded", "succeeded"], report
    speed = next(c for c in report.comparisons if c.metric == "samples_per_s")
    assert speed.baseline_median and speed.variant_median and "no spread measured" in speed.verdict
    assert "bf16" in render_markdown(report)
