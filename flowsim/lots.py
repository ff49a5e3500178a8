"""A lot of gold and its provenance: what it is, where it was mined, what it touched.

A lot from one mine has ``mix`` None: its origin category is its mine's. A
batch melted at a refiner carries ``mix``, the share of its mass by (origin
category, touched a designated entity). This module is the one place that
knows how provenance combines; the engine, the route choosers and the levers
only read it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Lot", "blend", "blend_papers", "mark_touched", "papers_of"]


class Lot:
    """A parcel of gold: its mass, where it was mined, and where it has been.

    Provenance: a lot from one mine has ``mix`` None, its origin category is
    the mine's and ``touched`` says whether it passed through a designated
    entity. A batch melted at a refiner has ``mix``: the share of its mass by
    (origin category, touched).
    """

    __slots__ = (
        "arrived",
        "book",
        "checked",
        "id",
        "launders",
        "mass",
        "mix",
        "origin",
        "papers",
        "purity",
        "refused_by",
        "scrap",
        "seen",
        "taint",
        "touched",
        "via",
    )

    def __init__(self, lot_id: int, mass: float, origin: int, purity: float, day: float):
        self.id = lot_id
        self.mass = mass
        self.origin = origin  # the mine; for a melted batch, its largest contributor
        self.purity = purity
        self.taint = 0  # bit k: touched a target of sanctions regime k while it applied
        self.touched = False
        self.mix: dict[tuple[int, bool], float] | None = None
        self.arrived = day  # when it reached the node it is at
        self.refused_by: tuple[int, ...] = ()
        self.book = 0.0  # USD its owner has paid for it, transport included (rents only)
        # Its papers: the share of its mass by the node that issued them; None while they
        # are its mine's (for a melted batch without papers on lots, the truth's).
        self.papers: dict[int, float] | None = None
        # The regimes its papers show it touched: all of them until it is re-papered,
        # then those it touched since.
        self.seen = 0
        self.launders = 0  # laundering steps it went through (for a batch, its most)
        self.via = -1  # the first partner it reached, when a hub sold it on
        self.scrap = False  # declared as scrap (HS 7112) rather than mined gold


def mark_touched(lot: Lot) -> None:
    """The whole lot passed through a designated entity."""
    lot.touched = True
    if lot.mix is not None:
        merged: dict[tuple[int, bool], float] = {}
        for (category, _), share in lot.mix.items():
            merged[(category, True)] = merged.get((category, True), 0.0) + share
        lot.mix = merged


def papers_of(lot: Lot) -> dict[int, float]:
    """The share of ``lot``'s mass by the node that issued its papers (with papers on
    lots, every melted batch has its own, so only a mine's lot falls back on its mine)."""
    return lot.papers if lot.papers is not None else {lot.origin: 1.0}


def blend_papers(batch: Sequence[Lot], by_fine_gold: bool) -> dict[int, float]:
    """The papers of a batch melted from ``batch``, weighed as :func:`blend` weighs
    provenance: a bar's papers list what went into it."""
    mass = sum(lot.mass for lot in batch)
    fine = sum(lot.mass * lot.purity for lot in batch)
    papers: dict[int, float] = {}
    for lot in batch:
        weight = lot.mass * lot.purity / fine if by_fine_gold else lot.mass / mass
        for issuer, share in papers_of(lot).items():
            papers[issuer] = papers.get(issuer, 0.0) + share * weight
    return papers


def blend(
    batch: Sequence[Lot], category_of: Sequence[int], by_fine_gold: bool
) -> dict[tuple[int, bool], float]:
    """The provenance of a batch melted from ``batch``: each lot weighs by what it
    puts into the bar, its fine gold when the refiner then removes impurities
    (``by_fine_gold``), else its mass."""
    mass = sum(lot.mass for lot in batch)
    fine = sum(lot.mass * lot.purity for lot in batch)
    mix: dict[tuple[int, bool], float] = {}
    for lot in batch:
        weight = lot.mass * lot.purity / fine if by_fine_gold else lot.mass / mass
        if lot.mix is None:  # one mine's gold
            key = (category_of[lot.origin], lot.touched)
            mix[key] = mix.get(key, 0.0) + weight
        else:
            for key, share in lot.mix.items():
                mix[key] = mix.get(key, 0.0) + share * weight
    return mix
