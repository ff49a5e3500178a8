"""A scenario that extends several files: two networks composed into one (a joint
operation on top of both countries' files), shared partners merged, and a value the two
parents disagree on refused until the child says which it takes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import flowsim
from flowsim.errors import ScenarioError

PERU = """
[meta]
name = "peru"
[calendar]
start = 2014-01-01
end = 2014-03-31
[prices]
usd_per_oz = { 2014 = 1265.58 }
[nodes.pe_mine]
kind = "mine"
jurisdiction = "PER"
entity = "miners (Peru)"
legal_status = "illegal"
region = "madre_de_dios"
production_kg_per_day = 10.0
[nodes.switzerland]
kind = "partner"
jurisdiction = "CHE"
entity = "Swiss refiners"
legal_status = "licensed"
region = "switzerland"
[routes.pe_to_ch]
from = "pe_mine"
to = "switzerland"
transit_days = 2.0
"""

COLOMBIA = """
[meta]
name = "colombia"
[calendar]
start = 2014-01-01
end = 2014-03-31
[prices]
usd_per_oz = { 2014 = 1265.58 }
[nodes.co_mine]
kind = "mine"
jurisdiction = "COL"
entity = "miners (Choco)"
legal_status = "illegal"
region = "choco"
production_kg_per_day = 6.0
[nodes.switzerland]
kind = "partner"
jurisdiction = "CHE"
entity = "Swiss refiners"
legal_status = "licensed"
region = "switzerland"
[routes.co_to_ch]
from = "co_mine"
to = "switzerland"
transit_days = 3.0
"""

JOINT = """
extends = ["peru.toml", "colombia.toml"]
[meta]
name = "joint"
"""


@pytest.fixture
def folder(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    write("peru.toml", PERU)
    write("colombia.toml", COLOMBIA)
    write.path = tmp_path
    return write


def test_two_networks_compose_into_one_with_their_shared_partner_merged(folder):
    joint = folder("joint.toml", JOINT)
    scenario = flowsim.load_scenario(joint)
    assert scenario.name == "joint"
    assert set(scenario.nodes) == {"pe_mine", "co_mine", "switzerland"}
    assert set(scenario.routes) == {"pe_to_ch", "co_to_ch"}
    names = [p.split("/")[-1] for p in scenario.files]
    assert names[0] == "joint.toml" and sorted(names[1:]) == ["colombia.toml", "peru.toml"]
    results = flowsim.simulate(scenario, seed=1)
    results.check_balance()
    produced = results.summary()["production_kg_by_mine"]
    assert produced["pe_mine"] > 0 and produced["co_mine"] > 0


def test_a_value_the_parents_disagree_on_is_refused_until_the_child_sets_it(folder):
    folder("colombia.toml", COLOMBIA.replace("end = 2014-03-31", "end = 2014-06-30"))
    joint = folder("joint.toml", JOINT)
    with pytest.raises(ScenarioError) as caught:
        flowsim.load_scenario(joint)
    (issue,) = caught.value.issues
    assert issue.path == "calendar.end"
    assert "peru.toml and colombia.toml" in issue.message
    assert "(2014-03-31 and 2014-06-30): set it in this file" in issue.message
    folder("joint.toml", JOINT + "[calendar]\nend = 2014-06-30\n")
    assert str(flowsim.load_scenario(joint).calendar.end) == "2014-06-30"


def test_a_shared_node_that_differs_is_refused_by_its_key(folder):
    folder("colombia.toml", COLOMBIA.replace('region = "switzerland"', 'region = "ticino"'))
    with pytest.raises(ScenarioError) as caught:
        flowsim.load_scenario(folder("joint.toml", JOINT))
    assert [i.path for i in caught.value.issues] == ["nodes.switzerland.region"]


def test_parents_that_share_a_grandparent_are_not_a_loop(folder):
    folder("world.toml", PERU)
    folder("peru.toml", 'extends = "world.toml"\n[meta]\nname = "peru"\n')
    folder("colombia.toml", 'extends = "world.toml"\n[meta]\nname = "colombia"\n')
    assert set(flowsim.load_scenario(folder("joint.toml", JOINT)).nodes) == {
        "pe_mine",
        "switzerland",
    }


@pytest.mark.parametrize(
    ("extends", "message"),
    [
        ('["peru.toml", "peru.toml"]', "names a file twice"),
        ("[]", "must be a file name or a list of file names"),
        ('["peru.toml", 3]', "must be a file name or a list of file names"),
        ('["peru.toml", "nowhere.toml"]', "file not found: nowhere.toml"),
    ],
)
def test_a_bad_list_of_parents_is_a_clear_error(folder, extends, message):
    joint = folder("joint.toml", JOINT.replace('["peru.toml", "colombia.toml"]', extends))
    with pytest.raises(ScenarioError) as caught:
        flowsim.load_scenario(joint)
    (issue,) = caught.value.issues
    assert issue.path == "extends" and message in issue.message, issue


def test_a_loop_through_a_list_of_parents_is_caught(folder):
    folder("colombia.toml", 'extends = "joint.toml"\n' + COLOMBIA)
    with pytest.raises(ScenarioError, match="extends itself in a loop"):
        flowsim.load_scenario(folder("joint.toml", JOINT))


def test_each_file_is_read_once_and_its_notes_come_from_that_reading(monkeypatch):
    """The data, the assumptions and the citations of a scenario and the files it
    extends all come from one reading of each file, so a file that changes while it is
    read cannot give them different texts."""
    import builtins

    from flowsim.scenario import read_scenario
    from flowsim.schema import assumptions_in
    from flowsim.sources import citations_in

    path = Path(__file__).resolve().parents[1] / "scenarios" / "peru_colombia_joint_operation.toml"
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    source = read_scenario(path)
    monkeypatch.setattr(builtins, "open", real_open)
    tomls = [f for f in opened if f.endswith(".toml")]
    assert len(source.files) == 4
    assert sorted(tomls) == sorted(source.files)
    assert list(source.assumptions) == assumptions_in(source.files)
    assert source.citations == citations_in(source.files)
