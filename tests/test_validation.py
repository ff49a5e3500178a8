"""Bad scenario input is rejected with an issue naming the file, the key path and the reason.

Each test edits the small valid scenario of ``conftest.py`` (``tiny_toml``),
writes it into tmp_path and checks the :class:`~flowsim.errors.Issue` that
:func:`~flowsim.scenario.load_scenario` raises. No simulation is run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowsim.cli import main
from flowsim.errors import Issue, ScenarioError
from flowsim.scenario import load_scenario

SCENARIOS = Path(__file__).parents[1] / "scenarios"

# Extra tables appended to the tiny scenario by the graph tests.
LONELY_BUYER = """
[nodes.b2]
kind = "buyer"
jurisdiction = "VEN"
entity = "lonely buyers"
legal_status = "informal"
region = "bolivar"
capacity_kg_per_day = 5.0
"""
SECOND_MINE = """
[nodes.m2]
kind = "mine"
jurisdiction = "VEN"
entity = "other miners"
legal_status = "illegal"
region = "bolivar"
production_kg_per_day = 1.0
"""


def route(rid: str, source: str, target: str) -> str:
    return f'\n[routes.{rid}]\nfrom = "{source}"\nto = "{target}"\n'


def edit(text: str, old: str, new: str) -> str:
    """Replace ``old``, which must occur exactly once, by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the scenario"
    return text.replace(old, new)


def issues_of(path: Path, overrides=()) -> list[Issue]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    assert info.value.issues, "a ScenarioError must carry at least one issue"
    return info.value.issues


def issue_at(issues: list[Issue], key_path: str) -> Issue:
    found = [i for i in issues if i.path == key_path]
    assert len(found) == 1, f"expected one issue at {key_path!r}, got {issues}"
    return found[0]


def assert_issue(issues: list[Issue], file: Path | str, key_path: str, fragment: str) -> Issue:
    issue = issue_at(issues, key_path)
    assert issue.file == str(file)
    assert fragment in issue.message, f"{fragment!r} not in {issue.message!r}"
    return issue


# --- the fixture itself --------------------------------------------------------------


def test_tiny_scenario_is_valid(tiny_toml, write_toml):
    scenario = load_scenario(write_toml(tiny_toml))
    assert scenario.name == "tiny"
    assert set(scenario.nodes) == {"m1", "gangs", "refinery", "turkey", "swiss"}
    assert set(scenario.routes) == {"r1", "r2", "r3", "r4"}
    assert scenario.policies.sanctions["s1"].enabled
    assert set(scenario.policies.raids) == {"raid1"}
    assert set(scenario.policies.fuel_restrictions) == {"f1"}


# --- unknown keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            "production_kg_per_day = 10.0",
            "producton_kg_per_day = 10.0",
            "nodes.m1.producton_kg_per_day",
            "unknown key 'producton_kg_per_day'; did you mean 'production_kg_per_day'?",
            id="node-key",
        ),
        pytest.param(
            "[calendar]",
            "[calender]",
            "calender",
            "unknown key 'calender'; did you mean 'calendar'?",
            id="top-level-section",
        ),
        pytest.param(
            "seizure_probability = 0.02",
            "seizure_probabilty = 0.02",
            "routes.r2.seizure_probabilty",
            "unknown key 'seizure_probabilty'; did you mean 'seizure_probability'?",
            id="route-key",
        ),
        pytest.param(
            "compliance = { turkey",
            "complaince = { turkey",
            "policies.sanctions.s1.complaince",
            "unknown key 'complaince'; did you mean 'compliance'?",
            id="sanction-key",
        ),
        pytest.param(
            'nodes = ["m1"]',
            'nodes = ["m1"]\nrecovery_day = 30.0',
            "policies.raids.raid1.recovery_day",
            "unknown key 'recovery_day'; did you mean 'recovery_days'?",
            id="raid-key",
        ),
        pytest.param(
            "supply_cut = 0.5",
            "suply_cut = 0.5",
            "policies.fuel_restrictions.f1.suply_cut",
            "unknown key 'suply_cut'; did you mean 'supply_cut'?",
            id="fuel-restriction-key",
        ),
        pytest.param(
            "weight = 0.7",
            "weight = 0.7\nspeed = 3",
            "routes.r3.speed",
            "unknown key 'speed'; valid keys: capacity_kg_per_day, cost_usd_per_kg, declared,",
            id="no-close-match-lists-valid-keys",
        ),
    ],
)
def test_unknown_key_suggests_nearest(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, message)


def test_misspelt_required_key_is_also_reported_missing(tiny_toml, write_toml):
    path = write_toml(edit(tiny_toml, "[calendar]", "[calender]"))
    assert_issue(issues_of(path), path, "calendar", "is required but missing")


# --- wrong types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            "production_kg_per_day = 10.0",
            'production_kg_per_day = "ten"',
            "nodes.m1.production_kg_per_day",
            "valid number",
            id="string-for-number-in-node",
        ),
        pytest.param(
            "seizure_probability = 0.02",
            'seizure_probability = "low"',
            "routes.r2.seizure_probability",
            "valid number",
            id="string-for-number-in-route",
        ),
        pytest.param(
            "effective = 2020-06-01",
            'effective = "June 2020"',
            "policies.sanctions.s1.effective",
            "is not a date",
            id="string-for-date",
        ),
        pytest.param(
            'target_entities = ["state refiner"]',
            'target_entities = { name = "state refiner" }',
            "policies.sanctions.s1.target_entities",
            "valid list",
            id="table-for-list",
        ),
        pytest.param(
            "output_purity = 0.95",
            'output_purity = 0.95\ninitial_stock = { origin = "m1", kg = 100.0 }',
            "nodes.refinery.initial_stock",
            "valid list",
            id="table-for-list-of-tables",
        ),
        pytest.param(
            "usd_per_oz = { 2020 = 1770.0 }",
            "usd_per_oz = [1770.0]",
            "prices.usd_per_oz",
            "valid dictionary",
            id="list-for-table",
        ),
    ],
)
def test_wrong_type(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, message)


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        pytest.param(
            "production_kg_per_day = 10.0",
            "production_kg_per_day = true",
            "nodes.m1.production_kg_per_day",
            id="production",
        ),
        pytest.param(
            "seizure_probability = 0.02",
            "seizure_probability = true",
            "routes.r2.seizure_probability",
            id="seizure-probability",
        ),
    ],
)
def test_boolean_where_number_expected(tiny_toml, write_toml, old, new, key_path):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, "number")


# --- rates and capacities that must be positive --------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        pytest.param(
            "production_kg_per_day = 10.0",
            "production_kg_per_day = 0",
            "nodes.m1.production_kg_per_day",
            id="zero-production",
        ),
        pytest.param(
            "production_kg_per_day = 10.0",
            "production_kg_per_day = -5.0",
            "nodes.m1.production_kg_per_day",
            id="negative-production",
        ),
        pytest.param(
            "capacity_kg_per_day = 50.0",
            "capacity_kg_per_day = 0.0",
            "nodes.gangs.capacity_kg_per_day",
            id="zero-buyer-capacity",
        ),
        pytest.param(
            "capacity_kg_per_day = 40.0",
            "capacity_kg_per_day = -1",
            "nodes.refinery.capacity_kg_per_day",
            id="negative-refiner-capacity",
        ),
        pytest.param(
            "weight = 0.7",
            "weight = 0.7\ncapacity_kg_per_day = 0",
            "routes.r3.capacity_kg_per_day",
            id="zero-route-capacity",
        ),
    ],
)
def test_rate_or_capacity_must_be_positive(tiny_toml, write_toml, old, new, key_path):
    path = write_toml(edit(tiny_toml, old, new))
    value = new.rpartition("= ")[2]  # as written in the file, e.g. -5.0
    assert_issue(issues_of(path), path, key_path, f"Input should be greater than 0 (got {value})")


# --- probabilities ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            "seizure_probability = 0.02",
            "seizure_probability = 1.5",
            "routes.r2.seizure_probability",
            "less than or equal to 1 (got 1.5)",
            id="seizure-above-1",
        ),
        pytest.param(
            "swiss = 1.0 }",
            "swiss = -0.1 }",
            "policies.sanctions.s1.compliance.swiss",
            "greater than or equal to 0 (got -0.1)",
            id="compliance-below-0",
        ),
        pytest.param(
            "fuel_dependence = 0.5",
            "fuel_dependence = 1.01",
            "nodes.m1.fuel_dependence",
            "less than or equal to 1 (got 1.01)",
            id="fuel-dependence-above-1",
        ),
        pytest.param(
            'nodes = ["m1"]',
            'nodes = ["m1"]\ncapacity_loss = 2',
            "policies.raids.raid1.capacity_loss",
            "less than or equal to 1 (got 2)",
            id="raid-capacity-loss-above-1",
        ),
        pytest.param(
            "supply_cut = 0.5",
            "supply_cut = -0.5",
            "policies.fuel_restrictions.f1.supply_cut",
            "greater than or equal to 0 (got -0.5)",
            id="supply-cut-below-0",
        ),
    ],
)
def test_probability_outside_0_1(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, message)


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            "end = 2020-12-31",
            "end = 2019-12-31",
            "calendar.end",
            "2019-12-31 is before calendar.start (2020-01-01)",
            id="calendar-end-before-start",
        ),
        pytest.param(
            "end = 2020-05-01",
            "end = 2020-03-15",
            "policies.fuel_restrictions.f1.end",
            "2020-03-15 is before start (2020-04-01)",
            id="fuel-restriction-end-before-start",
        ),
        pytest.param(
            "date = 2020-03-01",
            "date = 2021-03-01",
            "policies.raids.raid1.date",
            "2021-03-01 is outside the calendar (2020-01-01 to 2020-12-31)",
            id="raid-after-calendar-end",
        ),
        pytest.param(
            "effective = 2020-06-01",
            "effective = 2019-06-01",
            "policies.sanctions.s1.effective",
            "2019-06-01 is outside the calendar",
            id="sanction-before-calendar-start",
        ),
        pytest.param(
            "effective = 2020-06-01",
            "effective = 2020-06-01\nuntil = 2020-05-01",
            "policies.sanctions.s1.until",
            "2020-05-01 is before effective (2020-06-01)",
            id="sanction-until-before-effective",
        ),
        pytest.param(
            "start = 2020-04-01",
            "start = 2019-04-01",
            "policies.fuel_restrictions.f1.start",
            "2019-04-01 is outside the calendar",
            id="fuel-restriction-start-before-calendar",
        ),
    ],
)
def test_bad_dates(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, message)


# --- routes and the graph -------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            'to = "refinery"',
            'to = "refinary"',
            "routes.r2.to",
            "unknown node 'refinary'; did you mean 'refinery'?",
            id="misspelt-target",
        ),
        pytest.param(
            'from = "gangs"',
            'from = "gang"',
            "routes.r2.from",
            "unknown node 'gang'; did you mean 'gangs'?",
            id="misspelt-source",
        ),
        pytest.param(
            'from = "m1"',
            'from = "nowhere"',
            "routes.r1.from",
            "unknown node 'nowhere'",
            id="no-close-match",
        ),
    ],
)
def test_route_names_unknown_node(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    assert_issue(issues_of(path), path, key_path, message)


@pytest.mark.parametrize(
    ("extra", "key_path", "message"),
    [
        pytest.param(
            LONELY_BUYER,
            "nodes.b2",
            "no mine's gold can reach this node",
            id="node-no-mine-reaches",
        ),
        pytest.param(
            LONELY_BUYER + route("r5", "m1", "b2"),
            "nodes.b2",
            "no partner can be reached from this node",
            id="dead-end-buyer",
        ),
        pytest.param(
            SECOND_MINE,
            "nodes.m2",
            "no partner can be reached from this node",
            id="mine-without-routes",
        ),
    ],
)
def test_unreachable_nodes(tiny_toml, write_toml, extra, key_path, message):
    path = write_toml(tiny_toml + extra)
    issues = issues_of(path)
    assert_issue(issues, path, key_path, message)
    assert len(issues) == 1, issues


@pytest.mark.parametrize(
    ("extra", "key_path", "message"),
    [
        pytest.param(
            route("back", "refinery", "gangs"),
            "routes.r2",
            "routing cycle: gangs -> refinery -> gangs (through routes r2, back)",
            id="two-node-cycle",
        ),
        pytest.param(
            LONELY_BUYER + route("r5", "refinery", "b2") + route("r6", "b2", "gangs"),
            "routes.r2",
            "routing cycle: gangs -> refinery -> b2 -> gangs (through routes r2, r5, r6)",
            id="three-node-cycle",
        ),
        pytest.param(
            route("r5", "gangs", "gangs"),
            "routes.r5.to",
            "route leads from 'gangs' back to itself",
            id="self-loop",
        ),
    ],
)
def test_routing_cycle(tiny_toml, write_toml, extra, key_path, message):
    path = write_toml(tiny_toml + extra)
    assert_issue(issues_of(path), path, key_path, message)


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            'kind = "mine"',
            'kind = "mien"',
            "nodes.m1.kind",
            "'mien' is not one of mine, buyer, refiner, partner; did you mean 'mine'?",
            id="mien",
        ),
        pytest.param(
            'kind = "refiner"',
            'kind = "refinr"',
            "nodes.refinery.kind",
            "'refinr' is not one of mine, buyer, refiner, partner; did you mean 'refiner'?",
            id="refinr",
        ),
        pytest.param(
            'kind = "buyer"',
            'kind = "byer"',
            "nodes.gangs.kind",
            "'byer' is not one of mine, buyer, refiner, partner; did you mean 'buyer'?",
            id="byer",
        ),
        pytest.param(
            'kind = "mine"\n',
            "",
            "nodes.m1.kind",
            "is required but missing",
            id="missing-kind",
        ),
    ],
)
def test_unknown_node_kind(tiny_toml, write_toml, old, new, key_path, message):
    path = write_toml(edit(tiny_toml, old, new))
    issue = assert_issue(issues_of(path), path, key_path, message)
    if "valid kind" in message:
        assert "(one of mine, buyer, refiner, partner)" in issue.message


# --- extends ------------------------------------------------------------------------------

CHILD = """\
extends = "parent.toml"

[meta]
name = "tiny_child"

[policies.sanctions.s1]
enabled = false
"""


def test_extends_merges_parent(tiny_toml, write_toml):
    write_toml(tiny_toml, "parent.toml")
    scenario = load_scenario(write_toml(CHILD, "child.toml"))
    assert scenario.name == "tiny_child"
    assert not scenario.policies.sanctions["s1"].enabled
    assert scenario.policies.sanctions["s1"].target_entities == ["state refiner"]
    assert set(scenario.nodes) == {"m1", "gangs", "refinery", "turkey", "swiss"}


def test_extends_missing_file(write_toml):
    child = write_toml(edit(CHILD, "parent.toml", "no_such_parent.toml"), "child.toml")
    assert_issue(
        issues_of(child), child, "extends", "file not found: no_such_parent.toml (looked in "
    )


def test_extends_loop(tiny_toml, write_toml):
    a = write_toml('extends = "b.toml"\n' + tiny_toml, "a.toml")
    write_toml('extends = "a.toml"\n', "b.toml")
    assert_issue(issues_of(a), a, "extends", "extends itself in a loop: a.toml -> b.toml -> a.toml")


def test_extends_itself(write_toml):
    path = write_toml('extends = "self.toml"\n', "self.toml")
    assert_issue(issues_of(path), path, "extends", "extends itself in a loop")


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        pytest.param(
            "production_kg_per_day = 10.0",
            "production_kg_per_day = -1.0",
            "nodes.m1.production_kg_per_day",
            "greater than 0",
            id="schema-error",
        ),
        pytest.param(
            "date = 2020-03-01",
            "date = 2021-03-01",
            "policies.raids.raid1.date",
            "outside the calendar",
            id="check-error",
        ),
        pytest.param(
            "seizure_probability = 0.02",
            "seizure_probabilty = 0.02",
            "routes.r2.seizure_probabilty",
            "did you mean 'seizure_probability'?",
            id="unknown-key",
        ),
    ],
)
def test_error_in_parent_names_parent_file(tiny_toml, write_toml, old, new, key_path, message):
    parent = write_toml(edit(tiny_toml, old, new), "parent.toml")
    # The child touches the same tables as the error, to check the error still
    # names the parent.
    child = write_toml(
        CHILD + "\n[nodes.m1]\nproduction_cv = 0.2\n\n[routes.r2]\nweight = 1.0\n",
        "child.toml",
    )
    assert_issue(issues_of(child), parent, key_path, message)


def test_error_in_child_names_child_file(tiny_toml, write_toml):
    write_toml(tiny_toml, "parent.toml")
    child = write_toml(CHILD + "\n[policies.raids.raid1]\ndate = 2021-01-01\n", "child.toml")
    assert_issue(issues_of(child), child, "policies.raids.raid1.date", "outside the calendar")


def test_toml_error_in_parent_names_parent_file(write_toml):
    parent = write_toml("[meta\nname = 1\n", "parent.toml")
    child = write_toml(CHILD, "child.toml")
    assert_issue(issues_of(child), parent, "", "is not valid TOML")


def test_bad_kind_in_parent_names_parent_file(tiny_toml, write_toml):
    parent = write_toml(edit(tiny_toml, 'kind = "mine"', 'kind = "mien"'), "parent.toml")
    child = write_toml(CHILD + "\n[nodes.m1]\nproduction_cv = 0.2\n", "child.toml")
    [issue] = [i for i in issues_of(child) if "'mien' is not one of" in i.message]
    assert issue.path == "nodes.m1.kind"
    assert issue.file == str(parent)


# --- --set overrides ------------------------------------------------------------------


def test_override_applies(tiny_toml, write_toml):
    path = write_toml(tiny_toml)
    scenario = load_scenario(
        path, ["policies.sanctions.s1.enabled=false", "nodes.m1.production_kg_per_day=12.5"]
    )
    assert scenario.policies.sanctions["s1"].enabled is False
    assert scenario.nodes["m1"].production_kg_per_day == 12.5
    assert load_scenario(path).policies.sanctions["s1"].enabled is True


def test_override_as_mapping(tiny_toml, write_toml):
    scenario = load_scenario(write_toml(tiny_toml), {"policies.sanctions.s1.enabled": False})
    assert scenario.policies.sanctions["s1"].enabled is False


def test_override_applies_over_extends(tiny_toml, write_toml):
    write_toml(tiny_toml, "parent.toml")
    child = write_toml(CHILD, "child.toml")
    scenario = load_scenario(child, ["policies.sanctions.s1.enabled=true"])
    assert scenario.policies.sanctions["s1"].enabled is True


@pytest.mark.parametrize(
    ("override", "key_path", "message"),
    [
        pytest.param(
            "nodes.nope.x=1",
            "nodes.nope.x",
            "no table 'nodes.nope' in {file}; valid keys: gangs, m1, refinery, swiss, turkey",
            id="unknown-node",
        ),
        pytest.param(
            "polices.sanctions.s1.enabled=false",
            "polices.sanctions.s1.enabled",
            "no table 'polices' in {file}; did you mean 'policies'?",
            id="misspelt-section",
        ),
        pytest.param(
            "policies.sanctions.s2.enabled=false",
            "policies.sanctions.s2.enabled",
            "no table 'policies.sanctions.s2' in {file}; valid keys: s1",
            id="unknown-sanction",
        ),
        pytest.param(
            "nodes.m1.production_kg_per_day.x=1",
            "nodes.m1.production_kg_per_day.x",
            "'nodes.m1.production_kg_per_day' is a value, not a table",
            id="through-a-value",
        ),
        pytest.param(
            "nodes.m1.production_kg_per_day",
            "nodes.m1.production_kg_per_day",
            "expected KEY=VALUE",
            id="no-equals-sign",
        ),
        pytest.param(
            "nodes..m1=1",
            "nodes..m1",
            "has an empty part in its key path",
            id="empty-part",
        ),
    ],
)
def test_override_bad_path(tiny_toml, write_toml, override, key_path, message):
    path = write_toml(tiny_toml)
    assert_issue(issues_of(path, [override]), "--set", key_path, message.format(file=path))


@pytest.mark.parametrize(
    ("override", "key_path", "message"),
    [
        pytest.param(
            "nodes.m1.production_kg_per_day=-3",
            "nodes.m1.production_kg_per_day",
            "greater than 0 (got -3)",
            id="negative-production",
        ),
        pytest.param(
            "routes.r2.seizure_probability=2",
            "routes.r2.seizure_probability",
            "less than or equal to 1 (got 2)",
            id="probability-above-1",
        ),
        pytest.param(
            "policies.sanctions.s1.enabled=perhaps",
            "policies.sanctions.s1.enabled",
            "valid boolean",
            id="not-a-boolean",
        ),
        pytest.param(
            "calendar.end=2019-01-01",
            "calendar.end",
            "2019-01-01 is before calendar.start (2020-01-01)",
            id="date-check",
        ),
        pytest.param(
            "nodes.m1.producton_kg_per_day=3",
            "nodes.m1.producton_kg_per_day",
            "unknown key 'producton_kg_per_day'; did you mean 'production_kg_per_day'?",
            id="unknown-leaf-key",
        ),
    ],
)
def test_override_bad_value(tiny_toml, write_toml, override, key_path, message):
    path = write_toml(tiny_toml)
    assert_issue(issues_of(path, [override]), "--set", key_path, message)


# --- files that are not scenarios -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "key_path", "message"),
    [
        pytest.param(
            "this is [not toml\n",
            "",
            "is not valid TOML: Expected '=' after a key in a key/value pair (at line 1",
            id="not-toml",
        ),
        pytest.param(
            "[meta]\nname = 'a'\n[meta]\nname = 'b'\n",
            "",
            "is not valid TOML",
            id="duplicate-table",
        ),
        pytest.param("", "", "is empty", id="empty"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01",
            "",
            "is not UTF-8 text (bad byte at offset 0)",
            id="binary",
        ),
        pytest.param(
            b'[meta]\nname = "caf\xe9"\n',
            "",
            "is not UTF-8 text (bad byte at offset 18)",
            id="latin-1",
        ),
    ],
)
def test_unreadable_file(write_toml, content, key_path, message):
    path = write_toml(content)
    assert_issue(issues_of(path), path, key_path, message)


def test_file_with_only_comments_is_reported_as_empty(write_toml):
    path = write_toml("# nothing here yet\n")
    [issue] = issues_of(path)
    assert issue.file == str(path)
    assert "is empty" in issue.message and "[calendar]" in issue.message


def test_missing_file(tmp_path):
    path = tmp_path / "no_such_scenario.toml"
    assert_issue(issues_of(path), path, "", "file not found")


def test_folder_is_not_a_scenario(tmp_path):
    assert_issue(issues_of(tmp_path), tmp_path, "", "is a folder, not a scenario file")


# --- the command line -------------------------------------------------------------------


def test_cli_validate_ok(tiny_toml, write_toml, capsys):
    path = write_toml(tiny_toml)
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"OK: {path} (tiny: 5 nodes, 4 routes)")
    assert err == ""


def test_cli_validate_misspelt_key(tiny_toml, write_toml, capsys):
    path = write_toml(edit(tiny_toml, "production_kg_per_day", "producton_kg_per_day"))
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        f"error: {path}: nodes.m1.producton_kg_per_day: unknown key 'producton_kg_per_day'; "
        "did you mean 'production_kg_per_day'?\n"
    ) in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--set", "nodes.m1.production_kg_per_day=-3"],
            "error: --set: nodes.m1.production_kg_per_day: Input should be greater than 0 (got -3)",
            id="bad-override-value",
        ),
        pytest.param(
            ["--set", "nodes.nope.x=1"],
            "error: --set: nodes.nope.x: no table 'nodes.nope'",
            id="bad-override-path",
        ),
    ],
)
def test_cli_validate_bad_override(tiny_toml, write_toml, capsys, args, expected):
    path = write_toml(tiny_toml)
    assert main(["validate", str(path), *args]) == 2
    out, err = capsys.readouterr()
    assert expected in err
    assert "Traceback" not in out + err


def test_cli_validate_override_ok(tiny_toml, write_toml, capsys):
    path = write_toml(tiny_toml)
    assert main(["validate", str(path), "--set", "policies.sanctions.s1.enabled=false"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="missing"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param("not = [toml", id="not-toml"),
    ],
)
def test_cli_validate_unreadable_file(tmp_path, capsys, content):
    path = tmp_path / "scenario.toml"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {path}: ")
    assert "Traceback" not in out + err


@pytest.mark.parametrize("scenario", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_cli_validate_shipped_scenarios(scenario, capsys):
    assert main(["validate", str(scenario)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"OK: {scenario}")
    assert err == ""


def test_shipped_scenarios_exist():
    assert len(list(SCENARIOS.glob("*.toml"))) >= 2


def test_child_distribution_replaces_the_parents_whole(write_toml, tiny_toml):
    lognormal = 'transit_days = { dist = "lognormal", mean = 2.0, cv = 0.5 }'
    text = edit(tiny_toml, 'to = "gangs"\ntransit_days = 1.0', f'to = "gangs"\n{lognormal}')
    parent = write_toml(text, "parent.toml")
    uniform = '{ dist = "uniform", low = 1.0, high = 2.0 }'
    child = write_toml(
        f'extends = "{parent.name}"\n[routes.r1]\ntransit_days = {uniform}\n', "child.toml"
    )
    assert load_scenario(child).routes["r1"].transit_days.dist == "uniform"


def test_buyer_cannot_set_output_purity(write_toml, tiny_toml):
    path = write_toml(tiny_toml + "\n")
    text = path.read_text()
    path = write_toml(edit(text, 'kind = "buyer"', 'kind = "buyer"\noutput_purity = 0.99'))
    assert_issue(issues_of(path), path, "nodes.gangs.output_purity", "only refiners change purity")
