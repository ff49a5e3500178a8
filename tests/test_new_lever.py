"""A fifth lever, as docs/levers.md writes one: one module (tests/example_blockade.py),
its place in LEVERS, its schema section (here a stand-in) and its tests. Nothing else
of flowsim changes: the engine holds lots, reopens routes and balances mass through
the facade."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import example_blockade
import numpy as np
import pandas as pd
import pytest
from networks import chain

import flowsim
from flowsim import levers
from flowsim.engine import make_engine
from flowsim.network import Network

ROOT = Path(__file__).resolve().parents[1]


def blockade(start: str, end: str, nodes: list[str]) -> SimpleNamespace:
    import datetime

    day = datetime.date.fromisoformat
    return SimpleNamespace(enabled=True, start=day(start), end=day(end), nodes=nodes)


def network_with(data: dict, rules: dict) -> Network:
    """The network of ``data``, with the blockades' tables compiled beside the others'
    (the stand-in for the schema section: the rules come from here, not the file)."""
    scenario = flowsim.scenario_from_dict(data)
    network = Network.build(scenario)
    index = {node: i for i, node in enumerate(network.node_ids)}
    tables = dict(network.levers)
    tables[example_blockade.SECTION] = example_blockade.compile_rules(rules, index, scenario.day_of)
    return Network(**{**network.__dict__, "levers": tables})


def test_a_new_lever_acts_through_the_facade_alone(monkeypatch):
    """The buyer is blockaded from day 10 to day 19: the mine holds its gold, and ships
    it all on day 20, when the blockade ends."""
    data = chain(days=40)
    network = network_with(data, {"strike": blockade("2018-01-11", "2018-01-20", ["buyer"])})
    monkeypatch.setattr(levers, "LEVERS", (*levers.LEVERS, example_blockade))
    out = make_engine(network, np.random.default_rng(0)).run()
    ledger = out.ledger.to_frame(network.node_ids, network.route_ids)
    shipped = ledger[(ledger["event"] == "shipped") & (ledger["route"] == "mine_buyer")]
    days = shipped.groupby("day")["kg"].sum()
    assert not any(10.0 <= day < 20.0 for day in days.index)
    assert days.loc[20.0] == pytest.approx(10.0 * 11)  # days 10 to 20
    assert days.loc[9.0] == pytest.approx(10.0)


def test_without_the_lever_in_levers_its_tables_change_nothing():
    data = chain(days=40)
    plain = Network.build(flowsim.scenario_from_dict(data))
    network = network_with(data, {"strike": blockade("2018-01-11", "2018-01-20", ["buyer"])})
    frames = []
    for net in (plain, network):
        out = make_engine(net, np.random.default_rng(0)).run()
        frames.append(out.ledger.to_frame(net.node_ids, net.route_ids))
    pd.testing.assert_frame_equal(*frames)


def test_the_guide_shows_the_module_as_it_is():
    guide = (ROOT / "docs" / "levers.md").read_text()
    module = (ROOT / "tests" / "example_blockade.py").read_text()
    assert module.strip() in guide
