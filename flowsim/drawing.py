"""A figure as files: SVG cropped to its tight box in one drawing, and PNG.

``savefig(bbox_inches="tight")`` lays a figure out once to find its box and again to
draw it, and the layout (every text measured, ticks located and formatted) costs more
than writing the SVG itself. Here a figure is drawn once, uncropped; its box is then
measured with the renderer that drew it, whose text metrics are cached, and the SVG's
viewport is set to that box. A PNG is another full drawing, rasterised: it is written
only when asked for.
"""

from __future__ import annotations

import io
import re

import matplotlib
from matplotlib import rc_context
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

__all__ = ["SVG_RC", "png_bytes", "svg_and_box"]

# Text stays text, set in the reader's sans-serif font: rasterising every glyph, as a
# PNG needs, costs most of a figure's time, and the vector image is a third of the
# PNG's size. The salt makes the ids of a drawing the same from run to run.
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "flowsim"}
POINTS_PER_INCH = 72.0  # SVG user units: matplotlib draws SVG at 72 dpi
_ROOT = re.compile(
    rb'<svg (?P<before>[^>]*?)width="[0-9.]+pt" height="(?P<h>[0-9.]+)pt" '
    rb'viewBox="0 0 [0-9.]+ [0-9.]+"'
)


def svg_and_box(fig: Figure) -> tuple[bytes, Bbox]:
    """The figure as SVG cropped to its tight box, and the box (inches), from one
    drawing. The box is measured as the SVG was drawn, at 72 dpi: at another dpi text
    may measure a point or so otherwise, inside the padding."""
    drew = []
    draw = fig.draw
    own = vars(fig).get("draw")  # a draw of the figure's own, put back after

    def capture(renderer) -> None:
        drew.append(renderer)
        draw(renderer)

    buffer = io.BytesIO()
    with rc_context(SVG_RC):
        fig.draw = capture  # type: ignore[method-assign]
        try:
            # Uncropped, whatever savefig.bbox says: the crop is set below.
            with rc_context({"savefig.bbox": "standard"}):
                fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            if own is None:
                del fig.draw
            else:
                fig.draw = own  # type: ignore[method-assign]
        dpi = fig.dpi
        fig.dpi = POINTS_PER_INCH  # as the SVG was drawn, so that the metrics are reused
        try:
            box = fig.get_tightbbox(drew[-1])
        finally:
            fig.dpi = dpi
        box = box.padded(matplotlib.rcParams["savefig.pad_inches"])
        svg = _cropped(buffer.getvalue(), box, fig)
        if svg is None:  # a root element of another shape: let matplotlib crop it
            buffer = io.BytesIO()
            fig.savefig(buffer, format="svg", bbox_inches=box, metadata={"Date": None})
            svg = buffer.getvalue()
    return svg, box


def png_bytes(fig: Figure, box: Bbox, dpi: int = 110) -> bytes:
    """The figure as PNG, cropped to ``box`` (inches)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=box)
    return buffer.getvalue()


def _cropped(svg: bytes, box: Bbox, fig: Figure) -> bytes | None:
    """``svg``, drawn uncropped, with its viewport set to ``box``; a background of the
    figure's colour under all of it, as a tight save paints (the figure's own patch
    covers only its canvas, which the box may pass). None if its root is not as
    matplotlib writes it."""
    root = _ROOT.search(svg, 0, 4096)
    if root is None:
        return None
    height = float(root["h"])
    x, y = box.x0 * POINTS_PER_INCH, height - box.y1 * POINTS_PER_INCH
    w, h = box.width * POINTS_PER_INCH, box.height * POINTS_PER_INCH
    view = f'width="{_n(w)}pt" height="{_n(h)}pt" viewBox="{_n(x)} {_n(y)} {_n(w)} {_n(h)}"'
    head = b"<svg " + root["before"] + view.encode()
    end = svg.index(b">", root.end()) + 1
    background = b""
    color = _background(fig)
    if color is not None:
        background = (
            f'\n <rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
            f'style="fill: {color}"/>'
        ).encode()
    return svg[: root.start()] + head + svg[root.end() : end] + background + svg[end:]


def _background(fig: Figure) -> str | None:
    """The fill a save paints behind the figure (None: transparent)."""
    if matplotlib.rcParams["savefig.transparent"]:
        return None
    color = matplotlib.rcParams["savefig.facecolor"]
    rgba = to_rgba(fig.get_facecolor() if color == "auto" else color)
    if rgba[3] <= 0.0:
        return None
    # As matplotlib writes a colour with alpha: an opacity beside it, which SVG 1.1 reads.
    alpha = "" if rgba[3] >= 1.0 else f"; fill-opacity: {_n(rgba[3])}"
    return to_hex(rgba) + alpha


def _n(value: float) -> str:
    """A coordinate in points, to a thousandth."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
