"""Loss-curve plots (SVG or PNG) for one run or several side by side.

A loss curve says in one glance whether a model learns; putting two runs on one set of axes is how people
compare a change. matplotlib is imported lazily (it costs ~0.5 s) and only through its object API with the
Agg canvas, so plotting is safe from worker threads and never needs a display.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Literal

PlotFormat = Literal["svg", "png"]
PLOT_FORMATS: tuple[PlotFormat, ...] = ("svg", "png")


def plot_format_for(path: str) -> PlotFormat:
    """The plot format a file name asks for (by extension); ValueError for anything else."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "svg":
        return "svg"
    if suffix == "png":
        return "png"
    raise ValueError(f"plot file must end in .svg or .png: {path}")


def render_loss_plot(
    curves: Mapping[str, Sequence[float]],
    *,
    fmt: PlotFormat = "svg",
    title: str = "Training loss",
) -> bytes:
    """Draw each labelled loss curve against its step; returns the image bytes in ``fmt``.

    Non-finite losses (a diverged run) are left out of the line but counted in the legend, so a NaN run
    still shows up instead of breaking the axes. A log scale is used when the losses span three decades.
    """
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"unknown plot format {fmt!r}; use svg or png")
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    finite_values: list[float] = []
    for label, losses in curves.items():
        points = [(step, float(v)) for step, v in enumerate(losses) if math.isfinite(float(v))]
        dropped = len(losses) - len(points)
        legend = f"{label} ({len(losses)} steps" + (f", {dropped} non-finite)" if dropped else ")")
        if points:
            steps, values = zip(*points, strict=True)
            axes.plot(steps, values, marker="." if len(points) <= 50 else None, linewidth=1.5, label=legend)
            finite_values.extend(values)
        else:
            axes.plot([], [], label=legend + " - no losses")
    if not finite_values:
        axes.text(0.5, 0.5, "no losses recorded", ha="center", va="center", transform=axes.transAxes)
    elif min(finite_values) > 0 and max(finite_values) / min(finite_values) >= 1000:
        axes.set_yscale("log")
    axes.set_title(title)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.grid(True, alpha=0.3)
    if curves:
        axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    # No date and a fixed id salt keep SVG output byte-stable for the same curves.
    metadata = {"Date": None} if fmt == "svg" else {"Software": "mlagent"}
    with rc_context({"svg.hashsalt": "mlagent"}):
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def media_type(fmt: PlotFormat) -> str:
    """The HTTP content type of a plot format."""
    return "image/svg+xml" if fmt == "svg" else "image/png"
