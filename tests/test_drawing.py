"""A figure drawn once as SVG, cropped to the box a tight save would crop to."""

from __future__ import annotations

import re

import matplotlib
import pytest
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from flowsim import drawing, plots


def labelled_figure() -> Figure:
    """A figure whose labels reach past its canvas on the left and the top."""
    fig = Figure(figsize=(4.0, 3.0))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set_ylabel("a label long enough to need room")
    ax.set_yticks([1, 2, 3], ["one hundred thousand", "two", "three"])
    ax.text(0.0, 1.3, "a note above the axes", transform=ax.transAxes)
    return fig


class Unpaintable(Artist):
    def draw(self, renderer) -> None:
        raise RuntimeError("cannot be drawn")


def view_box(svg: bytes) -> tuple[float, ...]:
    found = re.search(rb'viewBox="([^"]+)"', svg)
    assert found
    return tuple(float(v) for v in found[1].split())


def test_the_svg_is_cropped_to_the_box_that_a_tight_save_finds():
    fig = labelled_figure()
    svg, box = drawing.svg_and_box(fig)
    tight = plots.tight_bbox(fig)  # matplotlib's own layout pass, at the figure's dpi
    # Text measured at 72 dpi rather than 100 may differ by a point or so: well inside
    # the padding (0.1 inch).
    assert box.bounds == pytest.approx(tight.bounds, abs=0.05)
    assert box.x0 < 0.0 and box.y1 > 3.0  # the labels reach past the canvas
    x, y, w, h = view_box(svg)
    points = drawing.POINTS_PER_INCH
    assert (x, w, h) == pytest.approx(
        (box.x0 * points, box.width * points, box.height * points), abs=1e-3
    )
    assert y == pytest.approx((3.0 - box.y1) * points, abs=1e-3)  # SVG's y runs down
    size = re.search(rb'<svg [^>]*width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    assert size and (float(size[1]), float(size[2])) == (w, h)
    # What lies beyond the canvas has the figure's white behind it, as in a tight save.
    assert re.search(rb'<rect x="-[0-9.]+" y="-[0-9.]+" [^>]*style="fill: #ffffff"/>', svg)
    assert b"a note above the axes" in svg  # text stays text


def test_the_drawing_is_the_same_from_run_to_run_and_leaves_the_figure_as_it_was():
    fig = labelled_figure()
    dpi = fig.dpi
    first, box = drawing.svg_and_box(fig)
    again, box_again = drawing.svg_and_box(fig)
    assert first == again and box.bounds == box_again.bounds
    assert fig.dpi == dpi and "draw" not in vars(fig)


def test_a_transparent_save_paints_no_background():
    fig = labelled_figure()
    with matplotlib.rc_context({"savefig.transparent": True}):
        svg, _ = drawing.svg_and_box(fig)
    assert b"<rect" not in svg.split(b"<metadata>")[0]


def test_an_svg_root_of_another_shape_is_left_to_matplotlib_to_crop(monkeypatch):
    fig = labelled_figure()
    monkeypatch.setattr(drawing, "_ROOT", re.compile(rb"<svg never-written"))
    svg, box = drawing.svg_and_box(fig)
    x, y, w, h = view_box(svg)
    points = drawing.POINTS_PER_INCH
    assert (x, y) == (0.0, 0.0)
    assert (w, h) == pytest.approx((box.width * points, box.height * points), abs=0.5)


def test_a_png_shares_the_svgs_box():
    fig = labelled_figure()
    _, box = drawing.svg_and_box(fig)
    png = drawing.png_bytes(fig, box, dpi=100)
    assert png.startswith(b"\x89PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == pytest.approx((box.width * 100, box.height * 100), abs=1.5)


def test_a_tight_savefig_setting_does_not_crop_the_drawing_twice():
    fig = labelled_figure()
    plain, box = drawing.svg_and_box(fig)
    with matplotlib.rc_context({"savefig.bbox": "tight"}):
        svg, tight_box = drawing.svg_and_box(fig)
    assert tight_box.bounds == box.bounds
    assert view_box(svg) == view_box(plain)


def test_a_partly_transparent_face_keeps_its_transparency():
    fig = labelled_figure()
    fig.set_facecolor((1.0, 0.0, 0.0, 0.3))
    svg, _ = drawing.svg_and_box(fig)
    assert re.search(rb'<rect [^>]*style="fill: #ff0000; fill-opacity: 0.3"/>', svg)


def test_a_drawing_that_fails_leaves_the_figure_as_it_was():
    fig = labelled_figure()
    own = []
    fig.draw = lambda renderer: own.append(renderer) or Figure.draw(fig, renderer)
    drawing.svg_and_box(fig)
    assert own and vars(fig)["draw"] is not None  # the figure's own draw, put back
    fig.add_artist(Unpaintable())
    dpi, draw = fig.dpi, vars(fig)["draw"]
    with pytest.raises(RuntimeError, match="cannot be drawn"):
        drawing.svg_and_box(fig)
    assert fig.dpi == dpi and vars(fig)["draw"] is draw
