"""Loss-curve plots decode as real SVG and PNG images."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from sandbox.plots import plot_format_for, render_loss_plot


def test_svg_is_well_formed_and_labelled() -> None:
    svg = render_loss_plot({"exp-a": [2.0, 1.0, 0.5], "exp-b": [2.0, float("nan"), 0.7]}, fmt="svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = svg.decode()
    assert "exp-a (3 steps)" in text and "1 non-finite" in text
    # Same curves, same bytes (no dates or random ids): plots can be cached and diffed.
    assert render_loss_plot({"exp-a": [2.0, 1.0, 0.5], "exp-b": [2.0, float("nan"), 0.7]}, fmt="svg") == svg


def test_png_decodes_to_an_image() -> None:
    from matplotlib.image import imread

    png = render_loss_plot({"exp-a": [3.0, 2.0, 1.0]}, fmt="png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 100 and image.shape[1] > 100


def test_empty_curves_still_render() -> None:
    assert b"no losses recorded" in render_loss_plot({"exp-a": []}, fmt="svg")


def test_plot_format_from_file_name() -> None:
    assert plot_format_for("out/loss.SVG") == "svg"
    assert plot_format_for("loss.png") == "png"
    with pytest.raises(ValueError):
        plot_format_for("loss.jpg")
    with pytest.raises(ValueError):
        render_loss_plot({"a": [1.0]}, fmt="gif")  # type: ignore[arg-type]
