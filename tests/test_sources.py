"""Every citation in a shipped file resolves to a row of docs/sources.md.

A scenario, sweep or calibration file cites a figure by the id of its row in the
sources table (``VEN-TUR-MAY``); an id that is not a row there, or a row id given
twice, leaves a reader with a figure they cannot check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SOURCES = ROOT / "docs" / "sources.md"
ROW = re.compile(r"^\| (?P<id>[A-Z]{3,5}(?:-[A-Z0-9]+)+) \|", re.MULTILINE)
SHIPPED = sorted((ROOT / "scenarios").rglob("*.toml")) + sorted((ROOT / "data").glob("*.csv"))


def row_ids() -> list[str]:
    return ROW.findall(SOURCES.read_text())


def citation(prefixes: set[str]) -> re.Pattern[str]:
    """An id of the table's form: one of its prefixes, then parts of capitals and digits."""
    return re.compile(rf"\b(?:{'|'.join(sorted(prefixes))})(?:-[A-Z0-9]+)+\b")


def test_each_row_id_is_given_once():
    ids = row_ids()
    assert len(ids) > 40
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_each_citation_of_a_shipped_file_is_a_row_of_the_sources_table(path):
    ids = set(row_ids())
    cited = citation({i.split("-")[0] for i in ids}).findall(path.read_text())
    unknown = sorted(set(cited) - ids)
    assert unknown == [], f"{path.name} cites ids that docs/sources.md has no row for"


def test_an_unknown_id_is_caught(tmp_path):
    pattern = citation({"VEN", "PER"})
    text = "compliance = 0.5  # VEN-TUR-MAY; and PER-NOWHERE-9, but not GI-TOC or VENTURE-1"
    assert pattern.findall(text) == ["VEN-TUR-MAY", "PER-NOWHERE-9"]


def test_a_run_records_the_rows_its_files_cite_and_the_report_shows_and_links_them(tmp_path):
    import flowsim
    from flowsim.sources import sources_table

    results = flowsim.simulate(ROOT / "scenarios" / "venezuela_sanctions.toml", seed=1)
    cited = results.meta.citations
    folder = ROOT / "scenarios"
    texts = [
        (folder / f).read_text() for f in ("venezuela_sanctions.toml", "venezuela_baseline.toml")
    ]
    assert {"VEN-EO13850", "VEN-TUR-MAY", "VEN-BCV-APR"} <= set(cited)
    assert len(cited) == len(set(cited)) and set(cited) <= set(sources_table())
    assert all(any(i in text for text in texts) for i in cited)
    page = flowsim.render_report(results)
    anchors = set(re.findall(r'<tr id="source-([A-Z0-9-]+)">', page))
    links = set(re.findall(r'<a href="#source-([A-Z0-9-]+)">', page))
    assert anchors == set(cited) and links and links <= anchors
    row = sources_table()["VEN-TUR-MAY"]
    assert row.value in page.replace("&#x27;", "'") and row.where in page
    # Kept in the run folder, and read back.
    out = results.save(tmp_path / "run", report=False)
    assert flowsim.Results.load(out).meta.citations == cited


def test_a_scenario_of_ones_own_cites_only_rows_the_table_has(tmp_path):
    from flowsim.sources import cited_ids, sources_table

    table = sources_table()
    text = "# VEN-TUR-MAY says 20.15 t; VEN-NOT-A-ROW and MYORG-1 are not rows"
    assert cited_ids([text], table) == ["VEN-TUR-MAY"]
    assert cited_ids([text], {}) == []


SCENARIO_FILES = sorted((ROOT / "scenarios").rglob("*.toml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_figure_of_a_shipped_file_is_cited_or_marked(path):
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    unsupported = unsupported_figures(path.read_text(), sources_table())
    assert [str(u) for u in unsupported] == [], path.name


def test_the_scan_finds_a_figure_with_no_note_and_only_that():
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    text = """
# Assumption: above the table, so it supports no figure in it.
[nodes.mine]
name = "Mine of 2014"   # a string's digits are no figure
lat = -12.5
production_kg_per_day = 30.0
production_cv = 0.3  # assumption: the spread of daily output
# VEN-TUR-MAY: Turkey's imports
appetite = 4000.0
# a comment with no mark
capacity = 60.0
price = { 2018 = 1269.23 }  # VEN-NOT-A-ROW

[[targets]]
observed = 20150.0
source = "VEN-TUR-MAY"

[[targets]]
observed = 1.0
source = "a newspaper"

[simulation]
lot_interval_days = 1.0
"""
    found = unsupported_figures(text, sources_table())
    assert [(u.line, u.table, u.key) for u in found] == [
        (6, "nodes.mine", "production_kg_per_day"),
        (11, "nodes.mine", "capacity"),
        (12, "nodes.mine", "price"),
        (19, "targets", "observed"),
    ]
    assert "nodes.mine.capacity = 60.0" in str(found[1])


def test_validate_require_sources_names_each_unsupported_figure(tmp_path, capsys):
    from flowsim.cli import main

    shipped = ROOT / "scenarios"
    assert main(["validate", "--require-sources", str(shipped / "venezuela_sanctions.toml")]) == 0
    # The baseline, and the calibration that fits some of its figures.
    for name in ("venezuela_baseline.toml", "venezuela_sanctions.calibration.toml"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    mine = tmp_path / "venezuela_sanctions.toml"
    note = "discount = 0.05  # assumption: buyers who take the risk pay a little less"
    text = (shipped / "venezuela_sanctions.toml").read_text()
    assert note in text
    mine.write_text(text.replace(note, "discount = 0.05"))
    capsys.readouterr()
    assert main(["validate", "--require-sources", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1, err
    assert str(mine) in err and "policies.sanctions.eo13850_gold_sector.discount" in err
    assert "the figure 0.05 cites no row" in err
    assert main(["validate", str(mine)]) == 0


def test_the_gold_price_row_is_a_row_and_a_figure_can_cite_it():
    """The gold price table is a row of five cells like the others, and a comment that
    names it supports the figure."""
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    table = sources_table()
    assert "2017: 1,257.56" in table["GOLD-PRICE"].value
    text = """
[prices]
# World Bank Pink Sheet annual mean (GOLD-PRICE)
usd_per_oz = { 2017 = 1257.56 }
dore_purity = 0.9  # GOLD-PRICES is not a row
"""
    found = unsupported_figures(text, table)
    assert [(u.line, u.key) for u in found] == [(5, "dore_purity")]


def test_a_value_over_several_lines_has_each_figure_noted_or_a_note_for_the_whole():
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    text = """
[nodes.exporter]
initial_stock = [
  { origin = "mine_a", kg = 10.0 },  # assumption: steady state
  { origin = "mine_b", kg = 20.0 },
]
# VEN-TUR-MAY: what the list holds
sales = [
  { date = 2019-02-01, kg = 1000.0 },
]
[simulation]
set = [
  1.0,
]
"""
    found = unsupported_figures(text, sources_table())
    assert [(u.line, u.key) for u in found] == [(5, "initial_stock")]


def test_an_assumption_gives_its_reason_and_a_fitted_figure_names_its_calibration():
    """A bare "assumption", or "fitted" with no calibration named, supports nothing; a
    note that points above is supported only when the reason is there."""
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    text = """
[nodes.mine]
production_cv = 0.3  # assumption
fuel_dependence = 0.9  # an assumption (see above)
servers = 4  # assumption: not a bottleneck
lot_interval_days = 1.0  # assumption: daily lots
capacity_loss = 0.2  # assumption, as above
production_kg_per_day = 30.0  # fitted
weight = 2.0  # fitted by mine.calibration.toml
price_factor = 0.9  # fitted (above)

[nodes.buyer]
servers = 6  # assumption, as above
capacity_kg_per_day = 10.0  # assumption (above)

# Assumption: the buyer's habit; no published split.
[routes.mine_to_buyer]
weight = 0.5  # assumption (above)
cost_usd_per_kg = 100.0  # assumption, as above
"""
    found = unsupported_figures(text, sources_table())
    assert [(u.line, u.key) for u in found] == [
        (3, "production_cv"),
        (4, "fuel_dependence"),
        (8, "production_kg_per_day"),
        (14, "capacity_kg_per_day"),
    ]
    # "as above" on capacity_loss points at servers' and lot_interval_days' reasons in
    # its own table; "fitted (above)" at the calibration named earlier; "servers" in
    # the buyer's table at the mine's reasoned servers; the route's figures at the note
    # above their table. The buyer's capacity points at nothing.
    assert "with its reason" in str(found[0])


@pytest.mark.parametrize(
    "text",
    [
        "[n]\nx = 1  # assumption (see note above)\n",
        "[n]\nx = 1  # assumption, as before\n",
        "[n]\nx = 1  # assumption (below)\n",
        "[n]\nx = 1  # assuming\n",
        "[n]\nx = 1  # assumption TBD\n",
        "[n]\nx = 1  # not an assumption\n",
        "[nodes.a]\nx = 1  # not fitted; see venezuela_sanctions.calibration.toml\n",
        "[nodes.a]\nx = 1  # fitted by nowhere.calibration.toml\n",
        "[nodes.bcv.reserve]\npurity = 1  # fitted by venezuela_sanctions.calibration.toml\n",
        "[a]\nweight = 0.9  # VEN-UNIT\n[b]\nweight = 0.1  # assumption, as above\n",
        "[a]\npurity = 0.9  # VEN-UNIT\ncapacity = 50  # assumption (above)\n",
        "# weight is unknown\n[a]\nweight = 0.1  # assumption, as above\n",
        "[a]\nw = 1  # assumption, as above\n[b]\nw = 2  # assumption, as above\n",
        '# assumption: x\n[[parameters]]\nlow = 1.0\nassumption = "as above"\n',
    ],
    ids=lambda text: text.splitlines()[-1][:40],
)
def test_a_note_that_gives_no_reason_or_points_at_none_supports_nothing(text):
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    assert unsupported_figures(text, sources_table(), ROOT / "scenarios")


@pytest.mark.parametrize(
    "text",
    [
        "[nodes.bcv.reserve]\nkg = 1  # fitted by venezuela_sanctions.calibration.toml\n",
        "[routes.r]  # assumption: a habit of the traders\nweight = 0.1  # assumption (above)\n",
        "[a]\nx = [\n  # assumption: a steady state of the flow\n  1.0,\n]\n",
        "[a]\nw = 1  # assumption: by air\n[b]\nw = 2  # assumption, as above\n",
    ],
    ids=lambda text: text.splitlines()[-1][:40],
)
def test_a_note_with_its_reason_or_a_calibration_that_fits_the_key_supports(text):
    from flowsim.notes import unsupported_figures
    from flowsim.sources import sources_table

    assert unsupported_figures(text, sources_table(), ROOT / "scenarios") == []
