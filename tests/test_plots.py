"""The report's figures, checked through their matplotlib objects: colours, steps,
bands, legends, labels and the flow diagram's note."""

from __future__ import annotations

import matplotlib.colors as mcolors

from flowsim.plots import PALETTE, partner_colors

VENEZUELA = ["switzerland", "turkey", "uae", "united_states"]


def test_a_partner_keeps_its_colour_whatever_other_partners_are_present():
    alone = {p: partner_colors([p])[p] for p in VENEZUELA}
    assert partner_colors(VENEZUELA) == alone
    assert partner_colors([*VENEZUELA, "zambia", "venezuela_hub"])["turkey"] == alone["turkey"]
    assert partner_colors(["uae", "turkey"]) == {"uae": alone["uae"], "turkey": alone["turkey"]}
    # The order of the list is not the partner's position in any palette.
    assert partner_colors(list(reversed(VENEZUELA))) == alone


def test_a_partners_colour_is_the_same_in_every_process():
    # A colour taken from Python's salted hash would differ from one run to the next.
    assert partner_colors(["turkey"])["turkey"] == mcolors.to_rgb("#1f77b4")
    assert partner_colors(["uae"])["uae"] == mcolors.to_rgb("#ff7f0e")


def test_partners_of_one_figure_never_share_a_colour():
    # "partner" and "p2" rank the same colour first: the id that sorts first keeps it.
    assert partner_colors(["partner"])["partner"] == partner_colors(["p2"])["p2"]
    both = partner_colors(["partner", "p2"])
    assert both["p2"] == partner_colors(["p2"])["p2"]
    assert both["partner"] != both["p2"]
    many = partner_colors([f"partner_{k}" for k in range(len(PALETTE))])
    assert len(set(many.values())) == len(PALETTE)


def test_a_colour_gives_way_only_to_a_partner_that_sorts_before_it():
    own = partner_colors(["m_partner"])["m_partner"]

    def rivals(prefix: str) -> list[str]:
        """Ids that rank m_partner's colour first too."""
        ids = (f"{prefix}{k:02d}" for k in range(80))
        return [p for p in ids if partner_colors([p])[p] == own]

    before, after = rivals("a")[0], rivals("z")[0]
    assert partner_colors([before, "m_partner"])[before] == own
    assert partner_colors([before, "m_partner"])["m_partner"] != own
    kept = partner_colors(["m_partner", after])
    assert kept["m_partner"] == own and kept[after] != own
