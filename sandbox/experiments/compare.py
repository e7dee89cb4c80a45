"""Comparing runs: what differs between their specs, and whether two loss curves agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.experiments.models import CurveMatch, Experiment


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def differences(experiments: list[Experiment]) -> dict[str, list[Any]]:
    """Spec fields (flattened, e.g. ``limits.timeout_s``) and code hash that are not the same in every run."""
    flats = [{**flatten(e.spec), "code_hash": e.code_hash} for e in experiments]
    keys = sorted({k for flat in flats for k in flat})
    diffs = {}
    for key in keys:
        values = [flat.get(key) for flat in flats]
        if any(v != values[0] for v in values[1:]):
            diffs[key] = values
    return diffs


def compare_curves(original: list[float], rerun: list[float], *, rtol: float, atol: float) -> CurveMatch:
    """Element-wise ``|a - b| <= atol + rtol * |a|`` over curves that must have the same length."""
    if len(original) != len(rerun):
        return CurveMatch(
            matches=False,
            steps_compared=min(len(original), len(rerun)),
            rtol=rtol,
            atol=atol,
            message=f"loss curves differ in length: {len(original)} vs {len(rerun)} steps",
        )
    if not original:
        return CurveMatch(matches=True, rtol=rtol, atol=atol, message="no losses recorded in either run")
    abs_diffs = [abs(a - b) for a, b in zip(original, rerun, strict=True)]
    rel_diffs = [
        d / abs(a) if a else (0.0 if d == 0 else float("inf"))
        for d, a in zip(abs_diffs, original, strict=True)
    ]
    worst = max(range(len(abs_diffs)), key=lambda i: abs_diffs[i] - (atol + rtol * abs(original[i])))
    ok = all(d <= atol + rtol * abs(a) for d, a in zip(abs_diffs, original, strict=True))
    message = (
        f"loss curves match over {len(original)} steps (max abs diff {max(abs_diffs):.3g})"
        if ok
        else f"loss curves differ: step {worst} original {original[worst]:.6g} vs re-run {rerun[worst]:.6g}"
    )
    return CurveMatch(
        matches=ok,
        max_abs_diff=max(abs_diffs),
        max_rel_diff=max(rel_diffs),
        steps_compared=len(original),
        rtol=rtol,
        atol=atol,
        message=message,
    )
