"""The flow diagram: tonnes shipped down each route, from mines to partners, and the
note that reconciles what it counts with the exports table.

A box is the larger of what entered a node and what left it; a band is a route's
tonnes over the run (mean over replications). Gold refused and shipped again, and gold
a hub sells on, counts on every route it takes, so partners' boxes hold more than the
exports table: :func:`partner_arrivals` says what became of the gold shipped into
partners, and the note under the diagram adds it up to that table.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.textpath import text_to_path

from flowsim.plots import KIND_COLORS, partner_colors

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = ["flow_diagram", "partner_arrivals"]


def _columns(results: Results, flows: pd.DataFrame) -> dict[str, int]:
    """Column of each node: mines first, partners last, others by longest path."""
    kinds = results.nodes.set_index("node")["kind"]
    column = {n: 0 for n in kinds.index if kinds[n] == "mine"}
    changed = True
    while changed:
        changed = False
        for source, target in zip(flows["from_node"], flows["to_node"], strict=True):
            if source in column and column.get(target, -1) < column[source] + 1:
                column[target] = column[source] + 1
                changed = True
    last = max(column.values(), default=0)
    for n in kinds.index:
        if kinds[n] == "partner":
            column[n] = last
    return column


FLOW_FONTSIZE = 9.5  # the flow diagram's labels: capitals 9 px tall at 96 px an inch


def partner_arrivals(results: Results) -> dict[str, float]:
    """What became of the gold shipped down the routes into partners, in kg (mean over
    replications): ``shipped`` = ``taken`` (exported where the route ends) + ``to_hubs``
    (delivered to a hub to sell on) + ``refused`` (turned back to its sender) +
    ``seized`` (on the way there) + ``on_the_way`` (still travelling when the run ended).
    ``kept`` is what hubs exported with no route to sell it on, so that the exports of
    every partner are ``taken`` + ``kept``. Each shipment is followed, lot by lot, to the
    ledger's next row for it on its route."""
    ledger = results.ledger
    routes = results.routes.set_index("route")
    kinds = results.nodes.set_index("node")["kind"]
    into = routes.index[routes["to_node"].map(kinds) == "partner"]
    # A release undoes a seizure: the lot's next row says where it went.
    rows = ledger[ledger["route"].isin(into) & (ledger["event"] != "released")]
    event = rows["event"].astype(str)
    lots = event.groupby([rows["replication"], rows["lot"], rows["route"]], observed=True)
    before, after = lots.shift(1), lots.shift(-1)
    kg = rows["kg"]
    target = rows["route"].astype(str).map(routes["to_node"].astype(str))
    kept = (ledger["event"] == "exported") & ledger["route"].isna()
    terms = {
        "shipped": kg[event == "shipped"].sum(),
        "taken": kg[event == "exported"].sum(),
        "to_hubs": kg[(event == "delivered") & (rows["node"].astype(str) == target)].sum(),
        "refused": kg[event == "refused"].sum(),
        "seized": kg[(event == "seized") & (before == "shipped")].sum(),
        "on_the_way": kg[(event == "shipped") & after.isna()].sum(),
        "kept": ledger.loc[kept, "kg"].sum(),
    }
    return {name: float(value) / results.replications for name, value in terms.items()}


def _flow_note(results: Results, width_in: float) -> str:
    """How the diagram's tonnes into partners become the exports table's, wrapped to
    the figure's width."""
    t = {name: kg / 1000 for name, kg in partner_arrivals(results).items()}
    into = [
        ("taken", "exported where the route ends"),
        ("to_hubs", "delivered to hubs to sell on"),
        ("refused", "refused and sent back"),
        ("seized", "seized on the way"),
        ("on_the_way", "on the way at the end"),
    ]
    parts = " + ".join(f"{label} {t[k]:,.1f} t" for k, label in into if t[k] > 0 or k == "taken")
    exports = f"Exports table: {t['taken'] + t['kept']:,.1f} t = {t['taken']:,.1f} t exported"
    exports += " where the route ends"
    if t["kept"] > 0:
        exports += f" + exported by hubs with no route to sell on {t['kept']:,.1f} t"
    lines = [
        f"Into partners: shipped {t['shipped']:,.1f} t = {parts}.",
        f"{exports}.",
        "Gold refused and shipped again, and gold a hub sells on, counts on every route it takes.",
    ]
    chars = int(width_in * 72 / (0.6 * FLOW_FONTSIZE))  # a character is about 0.6 em wide
    return "\n".join(textwrap.fill(line, chars) for line in lines)


def _label_width_in(text: str) -> float:
    font = FontProperties(size=FLOW_FONTSIZE)
    widths = [
        text_to_path.get_text_width_height_descent(x, font, ismath=False)[0]
        for x in text.split("\n")
    ]
    return max(widths) / 72


def flow_diagram(results: Results) -> Figure:
    """Where the gold went: mines to buyers and refiners to partners, band widths in
    tonnes shipped down each route over the run (mean over replications), with a note
    that turns the tonnes shipped into partners into the exports table's.

    Columns stand as far apart as their labels need, and the figure is as wide as its
    columns, so that its labels keep their size wherever the report shows it."""
    shipped = results.ledger[results.ledger["event"] == "shipped"]
    by_route = shipped.groupby("route", observed=True)["kg"].sum() / results.replications / 1000
    flows = results.routes.set_index("route").join(by_route.rename("t"), how="inner").reset_index()
    flows = flows[flows["t"] > 0]
    if flows.empty:
        fig = Figure(figsize=(8, 2))
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no gold was shipped", ha="center", fontsize=FLOW_FONTSIZE)
        return fig
    column = _columns(results, flows)
    through = {}
    for node in column:
        out_t = flows.loc[flows["from_node"] == node, "t"].sum()
        in_t = flows.loc[flows["to_node"] == node, "t"].sum()
        through[node] = max(out_t, in_t)
    kinds = results.nodes.set_index("node")["kind"]
    exported = results.ledger[results.ledger["event"] == "exported"]
    taken = exported.groupby("node", observed=True)["kg"].sum() / results.replications / 1000
    labels = {}
    for n, h in through.items():
        if h <= 0:
            continue
        labels[n] = f"{n}\n{h:,.1f} t"
        if kinds[n] == "partner":
            labels[n] = f"{n}\n{h:,.1f} t in, {taken.get(n, 0.0):,.1f} t exported"
    # x in inches: each column after the widest label of the one before, and room to turn.
    width, pad, turn = 0.15, 0.05, 0.7
    x_of: dict[int, float] = {}
    x = 0.0
    for c in sorted(set(column.values())):
        x_of[c] = x
        widest = max((_label_width_in(labels[n]) for n in labels if column[n] == c), default=0)
        x += width + pad + widest + turn
    right = x - turn + 0.05
    # Heights in inches: the note under the diagram, as many lines as it takes, and the
    # three lines of the title over it.
    note = _flow_note(results, right)
    note_in = (note.count("\n") + 1) * 1.25 * FLOW_FONTSIZE / 72 + 0.3
    diagram_in, title_in = 5.5, 0.75
    wide, high = right + 0.2, note_in + diagram_in + title_in
    fig = Figure(figsize=(wide, high))
    ax = fig.add_axes((0.1 / wide, note_in / high, right / wide, diagram_in / high))
    ax.set_axis_off()
    total = max(sum(v for n, v in through.items() if column[n] == c) for c in set(column.values()))
    gap = 0.02 * total
    colors = partner_colors(results.partners)
    box: dict[str, list[float]] = {}  # node -> [x, bottom, height, out offset, in offset]
    for c in sorted(set(column.values())):
        y = 0.0
        for n in (n for n in column if column[n] == c and n in labels):
            box[n] = [x_of[c], y, through[n], 0.0, 0.0]
            y += through[n] + gap
    for _, flow in flows.sort_values("t", ascending=False).iterrows():
        src, dst = box.get(flow["from_node"]), box.get(flow["to_node"])
        if src is None or dst is None:
            continue
        x0, x1 = src[0] + width, dst[0]
        y0, y1 = src[1] + src[3], dst[1] + dst[4]
        t = flow["t"]
        src[3] += t
        dst[4] += t
        mid = (x0 + x1) / 2
        verts = [
            (x0, y0), (mid, y0), (mid, y1), (x1, y1),
            (x1, y1 + t), (mid, y1 + t), (mid, y0 + t), (x0, y0 + t), (x0, y0),
        ]  # fmt: skip
        codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3
        codes += [MplPath.CLOSEPOLY]
        tint = colors.get(flow["to_node"], KIND_COLORS.get(kinds.get(flow["to_node"], ""), "0.6"))
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=tint, alpha=0.35, lw=0))
    # Labels of one column two lines apart at least, so that small nodes' never overlap.
    axes_pt = diagram_in * 72
    line = 2 * 1.3 * FLOW_FONTSIZE * total * 1.1 / axes_pt
    placed: dict[float, float] = {}
    for n, (x, y, h, _, _) in sorted(box.items(), key=lambda item: (item[1][0], item[1][1])):
        color = colors.get(n, KIND_COLORS.get(kinds[n], "0.5"))
        ax.add_patch(Rectangle((x, y), width, h, facecolor=color, edgecolor="white"))
        at = max(y + h / 2, placed.get(x, -np.inf) + line)
        placed[x] = at
        ax.text(
            x + width + pad,
            at,
            labels[n],
            va="center",
            fontsize=FLOW_FONTSIZE,
            linespacing=1.1,
            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.75),
        )
    ax.set_xlim(-0.05, right)
    ax.set_ylim(-gap, max(total * 1.05, max(placed.values()) + line / 2))
    ax.set_title(
        f"Gold shipped down each route over the whole run, tonnes: {results.meta['scenario']}"
        f"\nmean of {results.replications} replication(s); columns: mines, then buyers and "
        "refiners, then partners;\na box is the larger of what entered it and what left it",
        fontsize=FLOW_FONTSIZE + 1,
    )
    fig.text(0.1 / wide, 0.1 / high, note, fontsize=FLOW_FONTSIZE, va="bottom", gid="flow-note")
    return fig
