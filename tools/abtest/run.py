"""Build the variants, run them interleaved (A1 B1 A2 B2 ...), and judge each metric against the noise.

Interleaving spreads a busy machine's slow periods over all arms instead of one; the verdict compares the
median change with the spread seen across repeats, so a difference smaller than the noise is called so.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING

from sandbox.experiments import Experiment, Lineage
from sandbox.spec import RunLimits, RunSpec
from tools.abtest.models import ABReport, ABRequest, MetricComparison, RunFigures, Variant, VariantResult
from tools.fixrun.project import detect_entrypoint

if TYPE_CHECKING:
    from core.settings import Settings

Runner = Callable[[RunSpec, Lineage], Experiment]
# (metric, unit, higher is better)
METRICS = (("samples_per_s", "samples/s", True), ("peak_memory_mb", "MB", False), ("final_loss", "", False))


def build_variant(files: dict[str, str], variant: Variant) -> tuple[dict[str, str] | None, str]:
    """The variant's files and a sentence saying what was changed (None files: the edit could not be made)."""
    parts = []
    new = dict(files)
    if variant.instruction:
        from tools.edit import EditRequest, edit_code

        edited = edit_code(EditRequest(files=files, instruction=variant.instruction))
        if not edited.diff:
            reason = "; ".join(edited.skipped) or "nothing to change"
            return None, f"could not apply {variant.instruction!r}: {reason}"
        new = edited.files
        parts.append("; ".join(edited.applied) or variant.instruction)
    if variant.precision:
        parts.append(f"Trainer precision {variant.precision}")
    return new, ", ".join(parts) or "the code as given"


def _stats(values: list[float]) -> tuple[float, float, float] | None:
    return (statistics.median(values), min(values), max(values)) if values else None


def compare_metric(
    metric: str, higher_better: bool, base: VariantResult, other: VariantResult
) -> MetricComparison:
    """Median change against the noise (the larger relative half-range of the two arms)."""
    a = [getattr(r, metric) for r in base.runs if r.status == "succeeded" and getattr(r, metric) is not None]
    b = [getattr(r, metric) for r in other.runs if r.status == "succeeded" and getattr(r, metric) is not None]
    sa, sb = _stats(a), _stats(b)
    if sa is None or sb is None or sa[0] == 0:
        return MetricComparison(metric=metric, variant=other.name, verdict="not measured (a run failed)")
    change = (sb[0] - sa[0]) / abs(sa[0])
    noise = max((sa[2] - sa[1]) / 2 / abs(sa[0]), (sb[2] - sb[1]) / 2 / abs(sb[0]) if sb[0] else 0.0)
    overlap = sb[1] <= sa[2] and sa[1] <= sb[2]
    if len(a) < 2 or len(b) < 2:
        verdict = f"{change:+.1%} from one run each: no spread measured, so noise cannot be told apart"
    elif overlap or abs(change) <= noise:
        verdict = f"within noise ({change:+.1%} against a spread of ±{noise:.1%})"
    else:
        better = (change > 0) == higher_better
        verdict = (
            f"{'better' if better else 'worse'}: {change:+.1%} (spread ±{noise:.1%}, ranges do not overlap)"
        )
    return MetricComparison(
        metric=metric,
        variant=other.name,
        baseline_median=sa[0],
        variant_median=sb[0],
        baseline_range=[sa[1], sa[2]],
        variant_range=[sb[1], sb[2]],
        relative_change=round(change, 4),
        noise=round(noise, 4),
        verdict=verdict,
    )


def run_ab(request: ABRequest, settings: Settings, runner: Runner) -> ABReport:
    """Run every variant ``repeats`` times, interleaved, and compare each with the first (the baseline)."""
    results = []
    built: dict[str, dict[str, str]] = {}
    for variant in request.variants:
        files, change = build_variant(request.files, variant)
        results.append(VariantResult(name=variant.name, change=change, error=None if files else change))
        if files is not None:
            built[variant.name] = files
    order: list[str] = []
    device = None
    for _ in range(request.repeats):
        for variant, result in zip(request.variants, results, strict=True):
            if variant.name not in built:
                continue
            files = built[variant.name]
            spec = RunSpec(
                files=files,
                steps=request.steps or settings.smoke_default_steps,
                device=request.device,
                seed=request.seed,
                entrypoint=detect_entrypoint(files),
                precision=variant.precision,
                limits=RunLimits(timeout_s=request.timeout_s or settings.smoke_default_timeout_s),
            )
            outcome = runner(spec, Lineage()).result
            device = device or outcome.device
            order.append(variant.name)
            result.runs.append(
                RunFigures(
                    status=outcome.status,
                    samples_per_s=outcome.samples_per_s,
                    peak_memory_mb=outcome.peak_memory_mb,
                    final_loss=outcome.losses[-1] if outcome.losses else None,
                    duration_s=outcome.duration_s,
                    experiment_id=outcome.experiment_id,
                    error=outcome.error,
                )
            )
    base = results[0]
    comparisons = [
        compare_metric(metric, higher, base, other)
        for other in results[1:]
        for metric, _unit, higher in METRICS
        if other.error is None
    ]
    return ABReport(
        order=order,
        variants=results,
        comparisons=comparisons,
        recommendation=recommend(results, comparisons, device),
        device=device,
    )


def recommend(results: list[VariantResult], comparisons: list[MetricComparison], device: str | None) -> str:
    """One sentence per variant that follows from the throughput and memory verdicts, or says it is noise."""
    sentences = []
    base = results[0].name
    for other in results[1:]:
        if other.error:
            sentences.append(f"{other.name}: {other.error}.")
            continue
        mine = {c.metric: c for c in comparisons if c.variant == other.name}
        speed = mine.get("samples_per_s")
        if speed is None or speed.relative_change is None:
            sentences.append(f"{other.name}: not measured (a run failed).")
        elif speed.verdict.startswith("within noise"):
            sentences.append(
                f"{other.name} is not measurably faster than {base} here ({speed.verdict}); keep {base} unless "
                "another reason favours it."
            )
        elif speed.verdict.startswith("better"):
            sentences.append(f"{other.name} is faster than {base} here: {speed.verdict}.")
        elif speed.verdict.startswith("worse"):
            sentences.append(f"{other.name} is slower than {base} here: {speed.verdict}.")
        else:
            sentences.append(f"{other.name} vs {base}: {speed.verdict}; run more repeats to decide.")
    where = f" (measured on {device})" if device else ""
    return " ".join(sentences) + where
