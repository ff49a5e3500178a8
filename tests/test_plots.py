"""The report's figures, checked through their matplotlib objects: colours, steps,
bands, legends, labels and the flow diagram's note."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from conftest import TINY_SCENARIO
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.textpath import TextPath
from matplotlib.transforms import Bbox
from scipy.special import stdtrit

import flowsim
from flowsim import flows, plots
from flowsim.plots import PALETTE, partner_colors

VENEZUELA = ["switzerland", "turkey", "uae", "united_states"]
SCENARIOS = Path(__file__).parents[1] / "scenarios"
VENEZUELA_BASELINE_FILE = SCENARIOS / "venezuela_baseline.toml"
VENEZUELA_SANCTIONS_FILE = SCENARIOS / "venezuela_sanctions.toml"


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


# --- figures of a small run -------------------------------------------------------------

# The small scenario of conftest, with a partner that refuses some of the sanctioned
# gold (so lots are refused and sent back), a hub that sells a share on, and a risky
# route into a partner.
REFUSING = (
    "compliance = { turkey = 0.0, swiss = 1.0 }",
    "compliance = { turkey = 0.0, swiss = 0.6 }",
)
HUB = ('region = "turkey"\n', 'region = "turkey"\nre_export_share = 0.3\n')
HUB_ROUTE = '\n[routes.r5]\nfrom = "turkey"\nto = "swiss"\n'
RISKY = (
    'to = "turkey"\nweight = 0.7\n',
    'to = "turkey"\nweight = 0.7\nseizure_probability = 0.03\n',
)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[flowsim.Results, flowsim.Results]:
    """The small scenario and its baseline without the sanction, three replications each."""
    text = TINY_SCENARIO.replace(*REFUSING).replace(*HUB).replace(*RISKY) + HUB_ROUTE
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "tiny.toml").write_text(text)
    base = text.replace('[meta]\nname = "tiny"', '[meta]\nname = "tiny_baseline"')
    base = base.replace('issuer = "USA"', 'issuer = "USA"\nenabled = false')
    (folder / "base.toml").write_text(base)
    runs = [flowsim.load_scenario(folder / name) for name in ("tiny.toml", "base.toml")]
    scenario, baseline = (flowsim.simulate(s, seed=1, replications=3) for s in runs)
    return scenario, baseline


def drawn(fig: Figure) -> Figure:
    """The figure laid out, as saving it would, so that extents are final."""
    FigureCanvasAgg(fig).draw()
    return fig


def figures(results: flowsim.Results, baseline: flowsim.Results) -> dict[str, Figure]:
    """Every figure of the report."""
    return {
        "monthly_exports": plots.monthly_exports(results, baseline),
        "exports_difference": plots.exports_difference(results, baseline),
        "flow_diagram": flows.flow_diagram(results),
        "exposure_chart": plots.exposure_chart(results),
        "seizures_chart": plots.seizures_chart(results),
        "production_chart": plots.production_chart(results),
        "holds_chart": plots.holds_chart(results),
        "policy_timeline": plots.policy_timeline(results),
    }


def month_starts(results: flowsim.Results) -> pd.DatetimeIndex:
    return pd.date_range(results.start, results.end, freq="MS")


def test_monthly_values_are_steps_that_hold_over_their_month(pair):
    results, baseline = pair
    # The month after the last: a value drawn to it ends on the last day of its month.
    closing = pd.Timestamp(results.end) + pd.Timedelta(days=1)
    edges = month_starts(results).append(pd.DatetimeIndex([closing]))
    means = results.exports_monthly.groupby(["partner", "month"])["kg"].mean() / 1000
    for fig in (
        plots.monthly_exports(results, baseline),
        plots.exports_difference(results, baseline),
    ):
        (ax,) = fig.axes
        lines = [line for line in ax.lines if line.get_label() in results.partners]
        assert {line.get_label() for line in lines} == set(results.partners)
        for line in lines:
            assert line.get_drawstyle() == "steps-post"
            assert pd.DatetimeIndex(line.get_xdata()).equals(edges)
            y = np.asarray(line.get_ydata(), dtype=float)
            assert y[-1] == y[-2]
    fig = plots.monthly_exports(results, baseline)
    for line in fig.axes[0].lines:
        if line.get_label() in results.partners:
            expected = means[line.get_label()].to_numpy()
            assert np.allclose(np.asarray(line.get_ydata(), dtype=float)[:-1], expected)


def test_a_policy_line_falls_where_its_effect_starts(pair):
    results, baseline = pair
    # The sanction takes effect on 1 June: the difference from the baseline is zero up
    # to the step that starts on that day, not on the first of May.
    fig = plots.exports_difference(results, baseline)
    (ax,) = fig.axes
    (mark,) = [line for line in ax.lines if line.get_gid() == "mark:2020-06-01"]
    assert pd.Timestamp(mark.get_xdata()[0]) == pd.Timestamp("2020-06-01")
    swiss = next(line for line in ax.lines if line.get_label() == "swiss")
    x = pd.DatetimeIndex(swiss.get_xdata())
    y = np.asarray(swiss.get_ydata(), dtype=float)
    assert np.all(y[x < pd.Timestamp("2020-03-01")] == 0.0)  # before the raid, alike
    assert y[x == pd.Timestamp("2020-06-01")][0] != 0.0


def band_vertices(ax) -> list[np.ndarray]:
    return [path.vertices for c in ax.collections for path in c.get_paths() if len(path.vertices)]


def test_bands_hold_over_their_month_and_never_go_below_zero(pair):
    results, baseline = pair
    # The swiss partner takes little some months: its raw 95% interval dips below zero.
    table = results.exports_monthly
    swiss = table[table["partner"] == "swiss"].groupby("month")["kg"]
    half = stdtrit(2, 0.975) * swiss.std() / np.sqrt(3)
    assert (swiss.mean() - half < 0).any()
    fig = plots.monthly_exports(results, baseline)
    bands = band_vertices(fig.axes[0])
    assert len(bands) == len(results.partners)
    edges = mdates.date2num(
        month_starts(results).append(
            pd.DatetimeIndex([pd.Timestamp(results.end) + pd.Timedelta(days=1)])
        )
    )
    for vertices in bands:
        assert vertices[:, 1].min() >= 0.0
        assert set(np.round(vertices[:, 0], 6)) <= set(np.round(edges, 6))


def overlaps(a: Bbox, b: Bbox) -> bool:
    return a.width > 0 and b.width > 0 and a.overlaps(b)


def data_extents(fig: Figure) -> list[Bbox]:
    """The window extents of every artist that draws data, in every axes."""
    found = []
    for ax in fig.axes:
        for artist in (*ax.lines, *ax.patches, *ax.collections):
            if artist.get_visible():
                found.append(artist.get_window_extent())
    return found


def test_no_legend_covers_data(pair):
    for name, fig in figures(*pair).items():
        drawn(fig)
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        legends += fig.legends
        for legend in legends:
            box = legend.get_window_extent()
            for ax in fig.axes:
                assert not overlaps(box, ax.get_window_extent()), name
            for extent in data_extents(fig):
                assert not overlaps(box, extent), name


def marks(ax) -> tuple[dict[str, Line2D], dict[str, Text]]:
    lines = {line.get_gid(): line for line in ax.lines if str(line.get_gid()).startswith("mark:")}
    labels = {t.get_gid(): t for t in ax.texts if str(t.get_gid()).startswith("mark:")}
    return lines, labels


def test_no_line_crosses_a_policy_label_and_labels_clear_each_other_and_the_title(pair):
    results, baseline = pair
    dated = [plots.monthly_exports(results, baseline), plots.exports_difference(results, baseline)]
    dated += [plots.seizures_chart(results), plots.holds_chart(results)]
    for fig in dated:
        drawn(fig)
        ax = fig.axes[0]
        lines, labels = marks(ax)
        assert set(labels) == {f"mark:{p['from']}" for p in results.meta["policies"]}
        assert set(lines) == set(labels)
        boxes = {gid: Text.get_window_extent(label) for gid, label in labels.items()}
        title = ax.title.get_window_extent()
        for gid, box in boxes.items():
            assert not any(overlaps(box, line.get_window_extent()) for line in lines.values())
            assert not overlaps(box, title)
            assert not any(overlaps(box, other) for k, other in boxes.items() if k != gid)
            # Above its own line, the line's date on the label's span.
            x = lines[gid].get_window_extent().x0
            assert box.y0 >= ax.get_window_extent().y1
            assert box.x0 - 12 <= x <= box.x1 + 12


REPORT_WIDTH_PX = 1100  # the report's max-width: a wider figure is scaled down to it
PX_PER_INCH = 96  # an SVG's points in a browser: 72 to the inch, 96 px to the inch


def shown_scale(fig: Figure) -> float:
    """Pixels on the page per pixel of the figure drawn at PX_PER_INCH: the report embeds
    it cropped to its tight box and scales it down to the page's width if wider."""
    fig.set_dpi(PX_PER_INCH)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width_px = fig.get_tightbbox(canvas.get_renderer()).width * PX_PER_INCH
    return min(1.0, REPORT_WIDTH_PX / width_px)


def capital_height_px(text: Text, scale: float) -> float:
    """How tall the text's capitals are on the page, in pixels."""
    points = TextPath((0, 0), "H", prop=text.get_fontproperties()).get_extents().height
    return points / 72 * PX_PER_INCH * scale


def test_flow_diagram_labels_are_readable_at_the_reports_width(pair):
    results, _ = pair
    venezuela = flowsim.simulate(flowsim.load_scenario(VENEZUELA_BASELINE_FILE), seed=1)
    for fig in (flows.flow_diagram(results), flows.flow_diagram(venezuela)):
        scale = shown_scale(fig)
        (ax,) = fig.axes
        texts = [*ax.texts, *fig.texts]
        assert len(ax.texts) == sum(isinstance(p, Rectangle) for p in ax.patches)  # one a box
        for text in texts:
            assert capital_height_px(text, scale) >= 9.0, text.get_text()
        boxes = [t.get_window_extent() for t in texts]
        for i, a in enumerate(boxes):
            assert not any(overlaps(a, b) for b in boxes[i + 1 :]), texts[i].get_text()


NUMBER = r"([\d,]+\.\d) t"


def test_the_flow_diagrams_note_adds_up_to_the_exports_table(pair):
    results, _ = pair
    arrivals = flows.partner_arrivals(results)
    assert arrivals["refused"] > 0 and arrivals["to_hubs"] > 0 and arrivals["seized"] > 0
    fig = flows.flow_diagram(results)
    (note,) = [t for t in fig.texts if t.get_gid() == "flow-note"]
    text = " ".join(note.get_text().split())
    sentences = r"Into partners: (.*?)\. Exports table: (.*?)\. "
    into, exports = re.search(sentences, text).groups()
    shipped, *parts = (float(n.replace(",", "")) for n in re.findall(NUMBER, into))
    assert len(parts) == 5
    # Each figure is rounded to 0.1 t: the sum may be off by half of that for each term.
    assert sum(parts) == pytest.approx(shipped, abs=0.05 * len(parts))
    table, *terms = (float(n.replace(",", "")) for n in re.findall(NUMBER, exports))
    exported = sum(results.summary()["exports_kg_by_partner"].values()) / 1000
    assert table == pytest.approx(exported, abs=0.05)
    assert sum(terms) == pytest.approx(table, abs=0.05 * len(terms))
    # The diagram's bands into partners are the tonnes shipped that the note starts from.
    ledger = results.ledger
    into_partners = results.routes.loc[results.routes["to_node"].isin(results.partners), "route"]
    sent = ledger[(ledger["event"] == "shipped") & ledger["route"].isin(into_partners)]
    assert shipped == pytest.approx(sent["kg"].sum() / results.replications / 1000, abs=0.05)


def test_every_shipment_into_a_partner_is_accounted_for_in_a_real_run():
    results = flowsim.simulate(flowsim.load_scenario(VENEZUELA_SANCTIONS_FILE), seed=2)
    t = flows.partner_arrivals(results)
    assert t["refused"] > 0 and t["to_hubs"] > 0
    parts = t["taken"] + t["to_hubs"] + t["refused"] + t["seized"] + t["on_the_way"]
    assert parts == pytest.approx(t["shipped"], rel=1e-9)
    exported = sum(results.summary()["exports_kg_by_partner"].values())
    assert t["taken"] + t["kept"] == pytest.approx(exported, rel=1e-9)


def bars(ax) -> dict[str, Rectangle]:
    return {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith("policy:")}


def day_of(x: float) -> pd.Timestamp:
    return pd.Timestamp(mdates.num2date(x).date())


def x_span(patch) -> tuple[float, float]:
    """Where a patch starts and ends along x, in data: axvspan draws a Rectangle from
    matplotlib 3.9 on, a Polygon before."""
    x = patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 0]
    return float(x.min()), float(x.max())


def test_the_policy_timeline_gives_each_policys_days_and_strength(pair):
    results, _ = pair
    fig = plots.policy_timeline(results)
    (ax,) = fig.axes
    found = bars(ax)
    # From the first day each acts to the first day it no longer does.
    expected = {
        "policy:sanction:s1": ("2020-06-01", "2021-01-01", 0.6),  # to the end of the run
        "policy:raid:raid1": ("2020-03-01", "2020-05-30", 0.5),  # recovered in 90 days
        "policy:fuel_restriction:f1": ("2020-04-01", "2020-05-02", 0.5),  # to 1 May
    }
    assert set(found) == set(expected)
    for gid, (start, end, strength) in expected.items():
        bar = found[gid]
        assert day_of(bar.get_x()) == pd.Timestamp(start)
        assert day_of(bar.get_x() + bar.get_width()) == pd.Timestamp(end)
        assert bar.get_alpha() == pytest.approx(0.25 + 0.75 * strength)
    words = " ".join(t.get_text() for t in ax.texts)
    for said in ("swiss 60%", "turkey 0%", "capacity destroyed 50%", "fuel supply cut 50%"):
        assert said in words


def test_the_policy_timeline_of_a_run_folder_without_the_scenario(pair):
    # Run folders record the scenario as run; one that does not still gives first days.
    results = copy.copy(pair[0])
    results.meta = results.meta.model_copy(update={"scenario_json": {}})
    spans = plots.policy_spans(results)
    assert [(s.name, s.end, s.strength) for s in spans] == [
        ("s1", None, None),
        ("raid1", None, None),
        ("f1", None, None),
    ]
    fig = plots.policy_timeline(results)
    (ax,) = fig.axes
    assert day_of(bars(ax)["policy:raid:raid1"].get_x()) == pd.Timestamp("2020-03-01")
    assert "does not record its end" in " ".join(t.get_text() for t in ax.texts)


def test_production_is_marked_with_raids_fuel_cuts_and_displaced_miners(pair):
    results, _ = pair
    (ax,) = plots.production_chart(results).axes
    _, labels = marks(ax)
    assert labels["mark:2020-03-01"].get_text() == "raid raid1"
    # The fuel cut shaded from its first day to the day after its last.
    (cut,) = [p for p in ax.patches if p.get_label().startswith("fuel cut f1")]
    start, end = x_span(cut)
    assert day_of(start) == pd.Timestamp("2020-04-01")
    assert day_of(end) == pd.Timestamp("2020-05-02")
    peru = flowsim.simulate(flowsim.load_scenario(SCENARIOS / "peru_mercurio_2019.toml"), seed=1)
    (ax,) = plots.production_chart(peru).axes
    _, labels = marks(ax)
    assert labels["mark:2019-02-19"].get_text() == "raid mercurio_la_pampa"
    # La Pampa's miners arrive at the other mines 30 days after the raid.
    assert labels["mark:2019-03-21"].get_text() == "miners from la_pampa arrive"
    mines = {line.get_label() for line in ax.lines} & set(peru.mines)
    assert mines == set(peru.mines)


def test_the_holds_chart_counts_every_refusal_and_the_gold_waiting(pair):
    results, _ = pair
    top, bottom = plots.holds_chart(results).axes
    ledger = results.ledger
    refused = ledger.loc[ledger["event"] == "refused", "kg"].sum() / results.replications
    assert refused > 0
    drawn_refused = sum(
        np.asarray(line.get_ydata(), dtype=float)[:-1].sum()
        for line in top.lines
        if line.get_label() in results.partners
    )
    assert drawn_refused == pytest.approx(refused)
    stock = results.stocks_monthly.groupby("month")["kg"].sum() / results.replications
    reserve = results.reserves.groupby("month")["kg"].sum() / results.replications
    waiting = stock.sub(reserve, fill_value=0.0)
    drawn_waiting = sum(
        np.asarray(line.get_ydata(), dtype=float)[:-1]
        for line in bottom.lines
        if not str(line.get_gid()).startswith("mark:")
    )
    assert np.allclose(drawn_waiting, waiting.to_numpy())
