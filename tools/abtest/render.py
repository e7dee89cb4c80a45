"""The A/B report as text (CLI) and Markdown (chat): per-metric medians with their ranges, and the verdict."""

from __future__ import annotations

from tools.abtest.models import ABReport

UNITS = {"samples_per_s": "samples/s", "peak_memory_mb": "MB", "final_loss": ""}


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def render_markdown(report: ABReport) -> str:
    lines = [f"**{report.recommendation}**", "", f"Runs, interleaved: {' → '.join(report.order)}", ""]
    for variant in report.variants:
        statuses = ", ".join(r.status for r in variant.runs) or "-"
        lines.append(f"- **{variant.name}**: {variant.change} (runs: {statuses})")
    lines += ["", "| metric | variant | baseline median [min, max] | variant median [min, max] | verdict |"]
    lines.append("|---|---|---|---|---|")
    for c in report.comparisons:
        base = f"{_num(c.baseline_median)} [{', '.join(_num(v) for v in c.baseline_range)}]"
        other = f"{_num(c.variant_median)} [{', '.join(_num(v) for v in c.variant_range)}]"
        unit = UNITS.get(c.metric, "")
        lines.append(f"| {c.metric} {unit} | {c.variant} | {base} | {other} | {c.verdict} |")
    return "\n".join(lines)


def render_text(report: ABReport) -> str:
    return render_markdown(report).replace("**", "")
