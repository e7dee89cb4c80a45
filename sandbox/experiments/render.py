"""Experiment lists and comparisons as text (CLI) and Markdown (chat)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.experiments.models import Comparison, ExperimentSummary


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# The per-run metrics both comparison renderings (text for the CLI, Markdown for the agent) show, in order.
COMPARED_METRICS = (
    "steps",
    "seed",
    "device",
    "first_loss",
    "final_loss",
    "min_loss",
    "loss_decreased",
    "samples_per_s",
    "peak_memory_mb",
    "duration_s",
)


def format_comparison_text(comparison: Comparison) -> str:
    """A plain-text table: one row per metric, one column per experiment."""
    fields = ["status", "created_at", "code_hash", *COMPARED_METRICS]
    header = ["metric", *comparison.ids]
    table = [header]
    for name in fields:
        cells = []
        for row in comparison.rows:
            value = getattr(row, name)
            if name == "code_hash":
                value = str(value)[:12]
            elif name == "created_at":
                value = str(value)[:19]
            cells.append(_fmt(value))
        table.append([name, *cells])
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("same code: " + ("yes" if comparison.same_code else "no"))
    for key, values in comparison.differences.items():
        if key != "code_hash":
            lines.append(f"differs: {key} = " + ", ".join(_fmt(v) for v in values))
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def render_experiment_list(summaries: Sequence[ExperimentSummary]) -> str:
    """A Markdown table of experiments for chat answers (newest first, as listed)."""
    if not summaries:
        return "No experiments recorded yet: run a smoke test first."
    lines = [
        _md_row(["id", "recorded (UTC)", "status", "steps", "final loss", "loss decreased"]),
        _md_row(["---"] * 6),
    ]
    for s in summaries:
        final = "-" if s.final_loss is None else f"{s.final_loss:.4f}"
        lines.append(
            _md_row(
                [
                    f"`{s.id}`",
                    s.created_at[:19].replace("T", " "),
                    s.status,
                    str(s.steps),
                    final,
                    _fmt(s.loss_decreased),
                ]
            )
        )
    return "\n".join(lines)


def render_comparison(comparison: Comparison) -> str:
    """A Markdown side-by-side table (one column per experiment) plus what differs between the runs."""
    fields = ["status", *COMPARED_METRICS]
    lines = [
        _md_row(["metric", *(f"`{i}`" for i in comparison.ids)]),
        _md_row(["---"] * (len(comparison.ids) + 1)),
    ]
    for name in fields:
        lines.append(_md_row([name, *(_fmt(getattr(row, name)) for row in comparison.rows)]))
    lines.append("")
    lines.append("Same code in every run." if comparison.same_code else "The runs trained different code.")
    for key, values in comparison.differences.items():
        if key != "code_hash":
            lines.append(f"- `{key}` differs: " + ", ".join(_fmt(v) for v in values))
    return "\n".join(lines)
