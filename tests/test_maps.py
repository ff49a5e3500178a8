"""The map of routes: nodes' places, arrows as wide as the tonnes, outlines from GeoJSON."""

from __future__ import annotations

import json

import pytest
from matplotlib.patches import FancyArrowPatch
from networks import chain, node, route, run

import flowsim
from flowsim.cli import main
from flowsim.maps import read_outlines, route_map


def _placed() -> dict:
    """A mine and a buyer in Bolivar, a partner in Istanbul (far beyond the frame), and
    a second partner with no place: a route to it is left off the map."""
    return chain(
        days=40,
        nodes={
            "mine": node("mine", lat=7.35, lon=-61.83, name="El Callao"),
            "buyer": node("buyer", lat=8.12, lon=-63.55, name="Ciudad Bolivar"),
            "partner": node("partner", lat=41.01, lon=28.98, name="Turkey"),
            "nowhere": node("partner", name="Elsewhere"),
        },
        routes={
            "mine_buyer": route("mine", "buyer"),
            "buyer_partner": route("buyer", "partner", weight=3.0),
            "buyer_nowhere": route("buyer", "nowhere", weight=1.0),
        },
    )


def test_a_place_needs_both_its_coordinates(tmp_path, tiny_toml, capsys):
    path = tmp_path / "s.toml"
    path.write_text(tiny_toml.replace('region = "turkey"', 'region = "turkey"\nlat = 41.0'))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nodes.turkey" in err and "lat is given without lon" in err
    path.write_text(
        tiny_toml.replace('region = "turkey"', 'region = "turkey"\nlat = 95.0\nlon = 0.0')
    )
    assert main(["validate", str(path)]) == 2
    assert "nodes.turkey.lat" in capsys.readouterr().err


def test_no_map_without_places():
    assert route_map(run(chain(days=20))) is None


def test_arrows_are_as_wide_as_the_tonnes_and_far_places_sit_at_the_edge():
    results = run(_placed())
    fig = route_map(results)
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 2  # the route to the partner with no place is left off
    shipped = results.ledger[results.ledger["event"] == "shipped"]
    tonnes = shipped.groupby("route", observed=True)["kg"].sum()
    widths = sorted(a.get_linewidth() for a in arrows)
    heavier = tonnes["mine_buyer"] > tonnes["buyer_partner"]
    assert (widths[1] > widths[0]) and heavier  # the mine's route carries everything
    labels = [t.get_text() for t in ax.texts]
    assert "to Turkey" in labels and "El Callao" in labels
    assert ax.get_xlim()[1] < 28.98  # Istanbul is beyond the frame, drawn at its edge
    assert (results.nodes.set_index("node").loc["nowhere", ["lat", "lon"]].isna()).all()


def test_outlines_come_from_geojson(tmp_path):
    square = [[[-64.0, 6.0], [-60.0, 6.0], [-60.0, 9.0], [-64.0, 9.0], [-64.0, 6.0]]]
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": square},
            },
            {"type": "Feature", "properties": {}, "geometry": None},
        ],
    }
    path = tmp_path / "outlines.geojson"
    path.write_text(json.dumps(data))
    rings = read_outlines(path)
    assert rings == [[(-64.0, 6.0), (-60.0, 6.0), (-60.0, 9.0), (-64.0, 9.0), (-64.0, 6.0)]]
    fig = route_map(run(_placed()), rings)
    assert any(list(line.get_xdata()) == [p[0] for p in rings[0]] for line in fig.axes[0].lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a GeoJSON file"),
        ('{"features": []}', "no 'type'"),
        ('{"type": "Point", "coordinates": [0, 0]}', "holds no Polygon"),
        ('{"type": "LineString", "coordinates": [[0, 0], [200, 0]]}', "outside longitude"),
    ],
)
def test_bad_outlines_are_a_clear_error(tmp_path, text, message, tiny_toml):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(flowsim.FlowsimError, match=message) as caught:
        read_outlines(path)
    assert str(path) in str(caught.value)


def test_run_with_outlines_draws_the_map_into_the_folder(tmp_path, capsys):
    scenario = tmp_path / "placed.toml"
    from fuzz_strategies import to_toml

    scenario.write_text(to_toml(_placed()))
    outlines = tmp_path / "o.geojson"
    outlines.write_text('{"type": "LineString", "coordinates": [[-70, 5], [-60, 10]]}')
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--outlines", str(outlines)]) == 0
    assert (out / "figures" / "route_map.svg").is_file()
    assert "The routes on the map" in (out / "report.html").read_text()
    outlines.write_text("[]")
    assert main(["run", str(scenario), "--out", str(out), "--outlines", str(outlines)]) == 2
    assert "o.geojson: not GeoJSON outlines" in capsys.readouterr().err
