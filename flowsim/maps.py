"""A map of the routes, drawn offline from the nodes' coordinates.

Nodes may carry ``lat`` and ``lon`` (degrees). The map draws each route as an arrow
from place to place whose width is the tonnes shipped down it, on a plain grid of
longitude and latitude: no tile server, nothing fetched. Country outlines come from a
GeoJSON file the user gives (``flowsim run --outlines FILE``), since no outline data
ships with flowsim. The map frames the places where gold is mined, bought and refined;
a partner far beyond that frame is drawn at its edge, in its direction, named with an
arrow, so that Istanbul does not shrink the Orinoco to a dot.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from flowsim.errors import FlowsimError
from flowsim.plots import KIND_COLORS, partner_colors

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = ["read_outlines", "route_map"]

Ring = list[tuple[float, float]]  # (lon, lat) points of one outline
# Degrees of margin around the places that frame the map.
MARGIN = 1.5
# The widest arrow, in points, for the route that carries the most.
MAX_WIDTH = 9.0


def read_outlines(path: str | Path) -> list[Ring]:
    """The outlines (polygons' rings and lines) of a GeoJSON file, as (lon, lat) lists.
    Raises :class:`FlowsimError` naming the file and what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowsimError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:
        raise FlowsimError(f"{path}: not a GeoJSON file ({exc})") from None
    rings: list[Ring] = []
    try:
        for geometry in _geometries(data):
            rings.extend(_rings(geometry))
    except (TypeError, KeyError, ValueError) as exc:
        raise FlowsimError(f"{path}: not GeoJSON outlines ({exc})") from None
    if not rings:
        raise FlowsimError(f"{path}: holds no Polygon, MultiPolygon or LineString to draw")
    return rings


def _geometries(data: Any) -> list[dict[str, Any]]:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        return [g for f in data["features"] for g in _geometries(f)]
    if kind == "Feature":
        return _geometries(data["geometry"]) if data.get("geometry") else []
    if kind == "GeometryCollection":
        return [g for part in data["geometries"] for g in _geometries(part)]
    if isinstance(kind, str):
        return [data]
    raise ValueError("the top level is not a GeoJSON object (no 'type')")


def _rings(geometry: dict[str, Any]) -> list[Ring]:
    kind, coordinates = geometry["type"], geometry.get("coordinates", [])
    polygons = {"Polygon": [coordinates], "MultiPolygon": coordinates}.get(kind)
    if polygons is not None:
        return [_points(ring) for polygon in polygons for ring in polygon]
    lines = {"LineString": [coordinates], "MultiLineString": coordinates}.get(kind)
    if lines is not None:
        return [_points(line) for line in lines]
    return []  # points mark nothing an outline needs


def _points(ring: Any) -> Ring:
    points = [(float(p[0]), float(p[1])) for p in ring]
    if any(not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) for lon, lat in points):
        raise ValueError("a coordinate lies outside longitude -180..180 or latitude -90..90")
    return points


def route_map(results: Results, outlines: list[Ring] | None = None) -> Figure | None:
    """Routes as arrows between the nodes' places, as wide as the tonnes shipped down
    each (mean over replications); None when fewer than two nodes have a place."""
    nodes = results.nodes.set_index("node")
    placed = nodes[nodes["lat"].notna() & nodes["lon"].notna()]
    if len(placed) < 2:
        return None
    kinds = placed["kind"].astype(str)
    inland = placed[kinds != "partner"] if (kinds != "partner").sum() >= 1 else placed
    west, east = inland["lon"].min() - MARGIN, inland["lon"].max() + MARGIN
    south, north = inland["lat"].min() - MARGIN, inland["lat"].max() + MARGIN
    centre = ((west + east) / 2, (south + north) / 2)
    where = {
        node: _on_frame((row["lon"], row["lat"]), centre, (west, east, south, north))
        for node, row in placed.iterrows()
    }
    shipped = results.ledger[results.ledger["event"] == "shipped"]
    tonnes = shipped.groupby("route", observed=True)["kg"].sum() / results.replications / 1000
    routes = results.routes.set_index("route")
    colors = partner_colors(results.partners)

    aspect = 1.0 / max(math.cos(math.radians(centre[1])), 0.2)
    span = max(east - west, 1e-6)
    width = 9.0
    height = min(max(width * (north - south) * aspect / span, 3.0), 9.0)
    fig = Figure(figsize=(width, height + 1.2))
    ax = fig.subplots()
    for ring in outlines or []:
        xs, ys = zip(*ring, strict=True)
        ax.plot(xs, ys, color="0.75", linewidth=0.6, zorder=0)
    heaviest = float(tonnes.max()) if len(tonnes) else 0.0
    for route, t in tonnes.items():
        source, target = routes.loc[route, "from_node"], routes.loc[route, "to_node"]
        if source not in where or target not in where or t <= 0 or where[source] == where[target]:
            continue
        tint = colors.get(target, KIND_COLORS.get(nodes.loc[target, "kind"], "0.5"))
        arrow = FancyArrowPatch(
            where[source][:2],
            where[target][:2],
            arrowstyle="-|>",
            mutation_scale=8 + MAX_WIDTH,
            linewidth=0.6 + MAX_WIDTH * t / heaviest,
            color=tint,
            alpha=0.55,
            connectionstyle="arc3,rad=0.12",
            shrinkA=4,
            shrinkB=4,
            zorder=2,
        )
        ax.add_patch(arrow)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    _places(ax, placed, where, centre[0], span)
    ax.set_aspect(aspect)
    ax.grid(True, color="0.9", linewidth=0.6)
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.set_title(
        f"Routes on the map: tonnes shipped down each (widest {heaviest:,.1f} t), mean of "
        f"{results.replications} replication(s)\narrows at the edge lead to places beyond it",
        fontsize=10,
    )
    return fig


def _on_frame(
    point: tuple[float, float], centre: tuple[float, float], frame: tuple[float, ...]
) -> tuple[float, float, bool]:
    """A place inside the frame, or where the line from the centre to it leaves the
    frame; the flag says which."""
    west, east, south, north = frame
    x, y = point
    if west <= x <= east and south <= y <= north:
        return (x, y, False)
    dx, dy = x - centre[0], y - centre[1]
    scales = []
    if dx:
        scales.append(((east if dx > 0 else west) - centre[0]) / dx)
    if dy:
        scales.append(((north if dy > 0 else south) - centre[1]) / dy)
    k = min(s for s in scales if s > 0) * 0.97  # just inside, so the label shows
    return (centre[0] + k * dx, centre[1] + k * dy, True)


def _places(ax, placed, where, middle: float, span: float) -> None:
    """One marker and one label for each place; nodes closer than a fortieth of the
    map's width share them, so that a mining town's mines, buyers and refiner read as
    one place."""
    near = span / 40
    groups: list[tuple[float, float, list[str]]] = []
    for node, (x, y, _) in where.items():
        for k, (gx, gy, members) in enumerate(groups):
            if math.hypot(x - gx, y - gy) <= near:
                groups[k] = (gx, gy, [*members, node])
                break
        else:
            groups.append((x, y, [node]))
    for x, y, group in groups:
        kinds = placed.loc[group, "kind"].astype(str)
        color = KIND_COLORS.get(kinds.iloc[-1], "0.3")
        ax.scatter([x], [y], s=36, color=color, edgecolor="white", zorder=3)
        names = [_short(str(placed.loc[n, "name"])) for n in group]
        label = names[0] + (f" and {len(names) - 1} more here" if len(names) > 1 else "")
        if where[group[0]][2]:
            label = f"to {label}"
        # Labels point inwards, so that none runs off the frame.
        inwards = 1 if x <= middle else -1
        ax.annotate(
            label,
            (x, y),
            xytext=(6 * inwards, 4),
            textcoords="offset points",
            fontsize=8.5,
            ha="left" if inwards > 0 else "right",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7, "lw": 0},
        )


def _short(name: str, most: int = 32) -> str:
    return name if len(name) <= most else name[: most - 1].rstrip() + "\u2026"
