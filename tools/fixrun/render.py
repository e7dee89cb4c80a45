"""The fix-run report for people: attempts, diagnoses with evidence, diffs, final code and loss curves.

Text for the terminal, Markdown for chat. The loss curves of all attempts share one scale in the sparklines,
so they can be compared line by line; ``--plot`` writes the same curves as one PNG/SVG (sandbox/plots.py).
"""

from __future__ import annotations

import math

from tools.diagnose import Diagnosis
from tools.fixrun.models import Attempt, FixRunReport

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], low: float, high: float, width: int = 40) -> str:
    """``values`` as block characters on the shared [low, high] scale (log scale when it spans decades)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    if len(finite) > width:
        step = len(finite) / width
        finite = [finite[int(i * step)] for i in range(width)]
    use_log = low > 0 and high / low > 100

    def scale(v: float) -> float:
        return math.log10(v) if use_log else v

    lo, hi = scale(low), scale(high)
    span = hi - lo or 1.0
    return "".join(SPARKS[min(7, max(0, int((scale(v) - lo) / span * 7.999)))] for v in finite)


def loss_curves(report: FixRunReport) -> list[str]:
    """One sparkline per attempt with losses, on a scale shared by all of them."""
    curves = [(a, [v for v in a.losses if math.isfinite(v)]) for a in report.attempts]
    values = [v for _, c in curves for v in c]
    if not values:
        return []
    low, high = min(values), max(values)
    lines = []
    for attempt, curve in curves:
        if curve:
            spark = sparkline(curve, low, high)
            lines.append(
                f"  #{attempt.index} {spark}  {curve[0]:.4g} -> {curve[-1]:.4g} ({len(curve)} steps)"
            )
        else:
            lines.append(f"  #{attempt.index} (no loss recorded: {attempt.status})")
    return lines


def _evidence(diagnosis: Diagnosis) -> list[str]:
    lines = []
    for e in diagnosis.evidence:
        where = f"{e.path}:{e.line}: " if e.path else ""
        numbers = ", ".join(f"{k}={v}" for k, v in e.numbers.items())
        lines.append(f"{where}{e.text}" + (f" ({numbers})" if numbers else ""))
    return lines


def _attempt_head(attempt: Attempt) -> str:
    origin = "your code" if attempt.repair is None else f"repair: {attempt.repair.description}"
    return f"#{attempt.index} ({origin}) -> {attempt.status}, {attempt.diagnosis.kind}: {attempt.diagnosis.title}"


def render_text(report: FixRunReport, *, show_code: bool = False) -> str:
    """The report for the terminal."""
    lines = [
        f"fix-run {report.id}: {report.outcome} after {len(report.attempts)} run(s), {report.duration_s:.1f} s"
    ]
    lines.append(report.summary)
    for attempt in report.attempts:
        lines.append("")
        lines.append(
            _attempt_head(attempt) + (f"  [{attempt.experiment_id}]" if attempt.experiment_id else "")
        )
        if attempt.repair is not None:
            lines.extend("    " + line for line in attempt.repair.diff.rstrip().splitlines())
        for line in _evidence(attempt.diagnosis):
            lines.append(f"  - {line}")
        if attempt.diagnosis.kind == "unknown" and attempt.diagnosis.error:
            lines.extend("    " + line for line in attempt.diagnosis.error.splitlines())
        if attempt.diagnosis.advice and not attempt.diagnosis.trains:
            lines.append(f"  advice: {attempt.diagnosis.advice}")
    curves = loss_curves(report)
    if curves:
        lines += ["", "loss curves (shared scale):", *curves]
    if report.diff:
        lines += ["", "total change from your code:", report.diff.rstrip()]
    if show_code:
        for path, text in report.final_files.items():
            lines += ["", f"--- final {path}", text.rstrip()]
    return "\n".join(lines)


def render_markdown(report: FixRunReport) -> str:
    """The report for chat: attempts with their diffs, the curves, the final code of the changed files."""
    lines = [f"**{report.summary}** ({len(report.attempts)} run(s), {report.duration_s:.0f} s)", ""]
    for attempt in report.attempts:
        lines.append(
            f"- {_attempt_head(attempt)}" + (f" (`{attempt.experiment_id}`)" if attempt.experiment_id else "")
        )
        for line in _evidence(attempt.diagnosis)[:3]:
            lines.append(f"  - {line}")
        if attempt.repair is not None:
            lines += ["", "```diff", attempt.repair.diff.rstrip(), "```"]
        if attempt.diagnosis.kind == "unknown" and attempt.diagnosis.error:
            lines += ["", "```", attempt.diagnosis.error.rstrip(), "```"]
    curves = loss_curves(report)
    if curves:
        lines += ["", "Loss curves (one shared scale):", "```", *curves, "```"]
    changed = [p for p in report.final_files if f"a/{p}\n" in report.diff]
    for path in changed:
        lines += ["", f"Final `{path}`:", "```python", report.final_files[path].rstrip(), "```"]
    return "\n".join(lines)
