"""Scenario fuzzing: hypothesis strategies of valid and invalid inputs, and their properties.

Shared by ``tests/test_fuzz.py`` (a quick, derandomized profile inside ``make
test``) and ``tools/fuzz.py`` (``make fuzz``, thousands of examples).

- :func:`valid_scenarios` extends the generator of ``tests/test_properties.py``
  (calendars of one day to eighteen months, logit routing, batches, opening
  stock, interdictions, displacement, non-ASCII labels and texts).
  :func:`check_valid` is the property: the scenario survives a round trip
  through a TOML file, runs, balances, has every exposure share in [0, 1],
  no NaN or infinity in its summary or monthly tables, and the same seed
  gives the same ledger.
- :data:`INVALID` maps each kind of broken input to a strategy of
  :class:`InvalidCase`: files to write, ``--set`` overrides, and what the
  error must name. :func:`check_invalid` is the property: ``load_scenario``
  raises :class:`~flowsim.errors.ScenarioError` and nothing else, naming the
  key (or the file); ``flowsim validate`` and ``flowsim run`` exit 2 with a
  message on stderr, no traceback, and write nothing.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import json
import math
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from test_properties import scenarios

import flowsim
from flowsim.cli import main
from flowsim.errors import Issue, ScenarioError
from flowsim.provenance import EXPOSURES

__all__ = [
    "INVALID",
    "INVALID_KINDS",
    "KINDS",
    "KIND_WEIGHTS",
    "KNOWN_BUG_KINDS",
    "InvalidCase",
    "call_main",
    "check_extreme",
    "check_invalid",
    "check_valid",
    "format_path",
    "to_toml",
    "valid_scenarios",
]

Path_ = tuple[str | int, ...]

# --- TOML ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"no TOML for {value!r}")


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and "dist" in value


def to_toml(data: dict[str, Any], extends: Any = None) -> str:
    """A scenario dictionary as a TOML file (``None`` values are left out, as unset)."""
    lines: list[str] = []
    if extends is not None:
        lines.append(f"extends = {toml_value(extends)}")
    _table(data, (), lines)
    return "\n".join(lines) + "\n"


def _table(table: dict[str, Any], prefix: tuple[str, ...], lines: list[str]) -> None:
    scalars, tables, arrays = [], [], []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and not _is_distribution(value):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            scalars.append((key, value))
    if prefix:
        lines.append("\n[" + ".".join(toml_key(p) for p in prefix) + "]")
    lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars)
    for key, value in tables:
        _table(value, (*prefix, key), lines)
    for key, items in arrays:
        header = ".".join(toml_key(p) for p in (*prefix, key))
        for item in items:
            lines.append(f"\n[[{header}]]")
            lines.extend(
                f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items() if v is not None
            )


# --- paths in a scenario dictionary ----------------------------------------------------


def format_path(path: Path_) -> str:
    """A key path as flowsim prints it: ``routes.r1.transit_days``, ``expect[0].name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def get_path(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def set_path(data: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    get_path(data, path[:-1])[path[-1]] = value
    return data


def delete_path(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    data = copy.deepcopy(data)
    del get_path(data, path[:-1])[path[-1]]
    return data


def rename_key(data: dict[str, Any], path: Path_, new: str) -> dict[str, Any]:
    """Rename the key at ``path``, keeping its place among its siblings."""
    data = copy.deepcopy(data)
    parent = get_path(data, path[:-1])
    items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return data


def leaves(data: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every value that is not a table, lists included, then the items of lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*prefix, key))
    elif isinstance(data, list):
        yield prefix, data
        for i, value in enumerate(data):
            if isinstance(value, dict):
                yield from leaves(value, (*prefix, i))
            else:
                yield (*prefix, i), value
    else:
        yield prefix, data


def tables(data: dict[str, Any], prefix: Path_ = ()) -> Iterator[Path_]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield (*prefix, key)
            yield from tables(value, (*prefix, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield (*prefix, key, i)
                    yield from tables(item, (*prefix, key, i))


# The kind of value each key holds, by its name (and, for a few, its place).
PROBABILITY_KEYS = {
    "seizure_probability",
    "fuel_dependence",
    "supply_cut",
    "black_market_share",
    "capacity_loss",
    "stock_seized",
    "route_seizure_increase",
    "risk_learning_rate",
    "displacement_share",
    "release_share",
    "default_compliance",
    "seizure_increase",
    "level",
}
PURITY_KEYS = {"dore_purity", "purity", "output_purity"}
BELOW_ONE_KEYS = {"loss_fraction", "discount"}
POSITIVE_KEYS = {
    "production_kg_per_day",
    "capacity_kg_per_day",
    "price_factor",
    "rate_per_year",
    "risk_memory_days",
    "batch_kg",
    "lot_kg",
    "kg",
    "fuel_price_usd_per_gal",
}
NON_NEGATIVE_KEYS = {
    "production_cv",
    "fuel_gal_per_kg",
    "weight",
    "cost_usd_per_kg",
    "recovery_days",
    "hold_days",
    "route_seizure_days",
    "logit_sensitivity",
    "displacement_delay_days",
    "black_market_premium",
    "transit_days",
    "processing_days",
}
DISTRIBUTION_KEYS = {"transit_days", "processing_days", "lot_interval_days"}
DISTRIBUTION_FIELDS = {
    "dist": "choice",
    "mean": "positive",
    "cv": "non_negative",
    "low": "non_negative",
    "mode": "non_negative",
    "high": "non_negative",
    "value": "non_negative",
}
CHOICE_KEYS = {"kind", "legal_status", "pick", "route_choice"}
JURISDICTION_KEYS = {"jurisdiction", "issuer"}
REFERENCE_KEYS = {"from", "to", "origin", "partner"}
DATE_KEYS = {"start", "end", "effective", "until", "window_start", "window_end", "date"}
LIST_ITEMS = {
    "target_jurisdictions": "jurisdiction",
    "into_jurisdictions": "jurisdiction",
    "from_jurisdictions": "jurisdiction",
    "node_kinds": "choice",
    "nodes": "reference",
    "displacement_to": "reference",
    "routes": "reference",
    "target_entities": "nonempty_text",
    "sources": "text",
}
NUMERIC = ("probability", "purity", "below_one", "positive", "non_negative", "int_positive")


def field_class(path: Path_, value: Any) -> str | None:
    """What a leaf holds: decides which values break it."""
    last = path[-1]
    if isinstance(value, list):
        return "list" if isinstance(last, str) and last in LIST_ITEMS else None
    if isinstance(last, int):
        owner = path[-2]
        return LIST_ITEMS.get(owner) if isinstance(owner, str) else None
    parent = path[-2] if len(path) > 1 else None
    if path[0] == "expect":
        return "real" if last in ("at_least", "at_most", "ci_excludes") else None
    if parent == "usd_per_oz":
        return "positive"
    if parent == "compliance":
        return "probability"
    if path == ("meta", "name"):
        return "identifier"
    if parent in DISTRIBUTION_KEYS and isinstance(parent, str):
        return DISTRIBUTION_FIELDS.get(last)
    if last == "lot_interval_days":
        return "positive" if path[0] == "simulation" else "non_negative"
    if last == "servers":
        return "int_positive"
    if last == "dist":
        return "choice"
    for keys, kind in (
        (PROBABILITY_KEYS, "probability"),
        (PURITY_KEYS, "purity"),
        (BELOW_ONE_KEYS, "below_one"),
        (POSITIVE_KEYS, "positive"),
        (NON_NEGATIVE_KEYS, "non_negative"),
        (CHOICE_KEYS, "choice"),
        (JURISDICTION_KEYS, "jurisdiction"),
        (REFERENCE_KEYS, "reference"),
        (DATE_KEYS, "date"),
    ):
        if last in keys:
            return kind
    if last in ("entity", "region") and path[0] in ("nodes", "policies"):
        return "nonempty_text"
    if last in ("name", "description"):
        return "text"
    if last == "enabled":
        return "flag"
    return None


# Values that break a leaf of each class, by the kind of mistake.
WRONG_TYPE: dict[str, list[Any]] = {
    **{c: ["ten", "0.5", True, False, [1.0], {"x": 1.0}] for c in NUMERIC},
    **{
        c: [42, 1.5, True, ["a"], {"a": 1}]
        for c in ("identifier", "reference", "jurisdiction", "choice", "nonempty_text", "text")
    },
    "date": [True, "soon", "2018-13-45", "01/02/2018", [2018], {"year": 2018}],
    "flag": ["yes", "true", 1, 0.5],
    "list": ["A", 5, {"a": 1}, True],
}
OUT_OF_RANGE: dict[str, list[Any]] = {
    "probability": [1.5, -0.1, 1.0000001, -5e-324, 2],
    "purity": [0.0, 1.5, -0.5, 1.0000001],
    "below_one": [1.0, -0.1, 7],
    "positive": [0.0, -0.0, -1.0, -5e-324],
    "non_negative": [-1.0, -5e-324, -1e-9],
    "int_positive": [0, -3, 2.5],
    "jurisdiction": ["ven", "VENE", "V", "", "V3N"],
    "choice": ["bogus", "Mine", "", "mine "],
    "identifier": ["", "1abc", "a b", "a" * 65, "-x", "a.b"],
    "nonempty_text": [""],
    "text": ["x" * 10_001],
    "date": [datetime.date(1900, 1, 1), datetime.date(2199, 12, 31)],
}
NAN_INF = [math.nan, math.inf, -math.inf]
HUGE_BOUNDED = [1e308, 1.7976931348623157e308, -1e308]
HUGE_NEGATIVE = [-1e308, -1.7976931348623157e308]
UNSAFE_NAMES = [
    "../evil",
    "..",
    ".",
    "a/b",
    "/tmp/x",
    "a\\b",
    "~root",
    "a b",
    "C:evil",
    "a\x00b",
    "evil/../../x",
]


# --- valid scenarios -----------------------------------------------------------------

DAY = datetime.date.fromisoformat


def _drop_policies_outside(data: dict[str, Any], end: datetime.date) -> None:
    for kind, table in data["policies"].items():
        for name in list(table):
            dates = [v for k, v in leaves(table[name]) if k and k[-1] in DATE_KEYS]
            if any(DAY(str(d)) > end for d in dates):
                del data["policies"][kind][name]


def _dates_as_dates(data: Any) -> Any:
    """ISO strings under date keys as ``datetime.date``, as TOML gives them."""
    if isinstance(data, dict):
        return {
            k: (DAY(v) if k in DATE_KEYS and isinstance(v, str) else _dates_as_dates(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_dates_as_dates(v) for v in data]
    return data


LABELS = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def valid_scenarios(draw, long_calendars: bool = True) -> dict[str, Any]:
    """A random valid scenario: ``scenarios()`` of tests/test_properties.py, plus more."""
    data = draw(scenarios())
    nodes, routes, policies = data["nodes"], data["routes"], data["policies"]
    mines = [n for n, spec in nodes.items() if spec["kind"] == "mine"]
    middle = [n for n, spec in nodes.items() if spec["kind"] in ("buyer", "refiner")]
    partners = [n for n, spec in nodes.items() if spec["kind"] == "partner"]

    spans = ["quarter", "day", "week", "month"] + (["eighteen_months"] if long_calendars else [])
    span = draw(st.sampled_from(spans))
    start = DAY("2018-01-01")
    end = {
        "quarter": DAY("2018-03-31"),
        "day": start,
        "week": DAY("2018-01-07"),
        "month": DAY("2018-01-31"),
        "eighteen_months": DAY("2019-06-30"),
    }[span]
    data["calendar"]["end"] = str(end)
    if end.year == 2019:
        data["prices"]["usd_per_oz"]["2019"] = draw(st.floats(100.0, 5000.0))
    _drop_policies_outside(data, end)

    if draw(st.booleans()):  # labels and texts in any script, control characters included
        entities = {e: draw(LABELS) for e in sorted({s["entity"] for s in nodes.values()})}
        regions = {r: draw(LABELS) for r in sorted({s["region"] for s in nodes.values()})}
        for spec in nodes.values():
            spec["entity"] = entities[spec["entity"]]
            spec["region"] = regions[spec["region"]]
            spec["name"] = draw(st.text(max_size=20))
        for regime in policies["sanctions"].values():
            regime["target_entities"] = [entities[e] for e in regime["target_entities"]]
        for rule in [*policies["raids"].values(), *policies["fuel_restrictions"].values()]:
            rule["region"] = regions[rule["region"]]
        data["meta"]["description"] = draw(st.text(max_size=200))
        data["meta"]["sources"] = draw(st.lists(st.text(max_size=40), max_size=3))

    if draw(st.booleans()):
        data["behaviour"] = {
            "route_choice": "logit",
            "logit_sensitivity": draw(st.sampled_from([0.0, 5.0, 20.0, 200.0])),
            "risk_learning_rate": draw(st.floats(0.0, 1.0)),
            "risk_memory_days": draw(st.floats(1.0, 120.0)),
        }
    for x in middle:
        spec = nodes[x]
        if spec["kind"] == "refiner" and draw(st.booleans()):
            spec["batch_kg"] = draw(st.floats(0.5, 1e4))
        if draw(st.integers(0, 3)) == 0:
            kg = draw(st.floats(0.001, 1000.0))
            spec["initial_stock"] = [
                {
                    "origin": draw(st.sampled_from(mines)),
                    "kg": kg,
                    "lot_kg": kg / draw(st.integers(1, 20)),
                }
            ]
    for m in mines:
        others = [o for o in mines if o != m]
        if others and draw(st.booleans()):
            nodes[m]["displacement_to"] = draw(
                st.lists(st.sampled_from(others), min_size=1, unique=True)
            )
            nodes[m]["displacement_share"] = draw(st.floats(0.0, 1.0))
        if draw(st.booleans()):
            nodes[m]["legal_status"] = draw(st.sampled_from(["licensed", "informal", "illegal"]))
    if draw(st.booleans()):
        policies["interdictions"] = {
            "op": {
                "start": str(start),
                "end": str(end),
                "routes": draw(st.lists(st.sampled_from(sorted(routes)), min_size=1, unique=True)),
                "seizure_increase": draw(st.floats(0.0, 1.0)),
            }
        }
    if draw(st.booleans()):
        data.setdefault("simulation", {})["granularity"] = "shipment"
        if draw(st.booleans()):
            data["simulation"]["collection_days"] = draw(st.floats(1 / 24, 40.0))
            data["simulation"]["batch_days"] = draw(st.floats(1 / 24, 40.0))
    if draw(st.booleans()):
        partner = draw(st.sampled_from(partners))
        data["expect"] = [
            {
                "name": "exports are never negative",
                "metric": f"exports_kg_by_partner.{partner}",
                "at_least": 0.0,
            }
        ]
    if draw(st.integers(0, 9)) == 0:
        _cut_all_fuel(data)
    if draw(st.booleans()):
        data = _dates_as_dates(data)
    return data


def _cut_all_fuel(data: dict[str, Any]) -> None:
    """Nothing is ever produced: every mine depends wholly on fuel, and the fuel of
    every region is cut for the whole calendar."""
    cuts = {}
    for spec in data["nodes"].values():
        if spec["kind"] == "mine":
            spec["fuel_dependence"] = 1.0
            spec.pop("displacement_to", None)
            spec.pop("displacement_share", None)
            cuts[f"cut_{len(cuts)}"] = {
                "region": spec["region"],
                "start": data["calendar"]["start"],
                "end": data["calendar"]["end"],
            }
    data["policies"]["fuel_restrictions"] = cuts


def _numbers(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from _numbers(value, f"{prefix}[{i}]")
    elif isinstance(tree, (int, float, np.number)) and not isinstance(tree, bool):
        yield prefix, tree


def non_finite_numbers(tree: Any) -> list[str]:
    return [key for key, value in _numbers(tree) if not math.isfinite(float(value))]


def check_numbers(summary: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
    """No NaN or infinity anywhere; every exposure share in [0, 1]."""
    bad = non_finite_numbers(summary)
    assert not bad, f"NaN or infinity in summary(): {bad[:5]}"
    json.dumps(summary, allow_nan=False)  # summary.json is strict JSON
    for group in ("exposure_by_partner", "exposure_by_refiner"):
        for node, values in summary[group].items():
            for name in EXPOSURES:
                share = values[f"{name}_share"]
                assert 0.0 <= share <= 1.0, f"{group}.{node}.{name}_share = {share}"
    for name, table in tables.items():
        numbers = table.select_dtypes("number").to_numpy(dtype=float)
        assert np.isfinite(numbers).all(), f"NaN or infinity in {name}"
    for column in [c for c in tables["exposure_monthly"] if c.endswith("_share")]:
        shares = tables["exposure_monthly"][column]
        assert ((shares >= 0) & (shares <= 1)).all(), column


def check_valid(
    data: dict[str, Any], seed: int, replications: int = 1, workdir: Path | None = None
) -> None:
    """The property of a valid scenario (see the module's docstring)."""
    scenario = flowsim.scenario_from_dict(data)
    if workdir is not None:
        path = workdir / "valid.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        loaded = flowsim.load_scenario(path)
        assert loaded.model_dump() == scenario.model_dump(), "TOML round trip changed it"
    results = flowsim.simulate(scenario, seed=seed, replications=replications)  # checks balance
    assert results.balance()["ok"].all()
    check_numbers(
        results.summary(),
        {
            "exports_monthly": results.exports_monthly,
            "exposure_monthly": results.exposure_monthly,
            "stocks_monthly": results.stocks_monthly,
        },
    )
    again = flowsim.simulate(scenario, seed=seed, replications=replications)
    pd.testing.assert_frame_equal(results.ledger, again.ledger)


# --- invalid inputs -----------------------------------------------------------------


@dataclass(frozen=True)
class InvalidCase:
    """Files to write (``main`` is loaded), overrides, and what the error must name."""

    kind: str
    files: dict[str, str | bytes]
    overrides: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # the error names one of these key paths (or its entry)
    mentions: tuple[str, ...] = ()  # ... or its message holds one of these texts
    file_level: bool = False  # the error is about a file, and names it
    origin: str | None = None  # the issue naming the key comes from this file
    main: str = "scenario.toml"
    note: str = ""  # what was broken, for the reader of a failure

    def write(self, folder: Path) -> Path:
        for name, content in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return folder / self.main


def _names_key(issue: Issue, key: str) -> bool:
    """The issue is at ``key``, inside it, or at its entry (a path of two parts or more)."""
    path = issue.path
    if path == key or path.startswith((key + ".", key + "[")):
        return True
    entry = "." in path or "[" in path
    return entry and key.startswith((path + ".", path + "["))


def call_main(argv: Sequence[str]) -> tuple[int, str, str]:
    """Run the CLI in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def check_invalid(case: InvalidCase, workdir: Path) -> None:
    """The property of an invalid input (see the module's docstring)."""
    path = case.write(workdir)
    try:
        flowsim.load_scenario(path, case.overrides)
    except ScenarioError as exc:
        error = exc
    except Exception as exc:
        raise AssertionError(
            f"load_scenario raised {type(exc).__name__}, not ScenarioError: {exc}"
        ) from exc
    else:
        raise AssertionError(f"load_scenario accepted an invalid input ({case.note})")
    text = str(error)
    assert error.issues and text.strip(), "an empty error"
    assert all(i.message.strip() for i in error.issues), "an issue without a message"
    files = {(workdir / name).resolve() for name in case.files}
    if case.file_level:
        assert any(Path(i.file).resolve() in files for i in error.issues), (
            f"the error does not name the file: {text[:300]}"
        )
    if case.keys or case.mentions:
        named = [i for i in error.issues if any(_names_key(i, k) for k in case.keys)]
        mentioned = any(m in text for m in case.mentions)
        assert named or mentioned, (
            f"the error names none of {case.keys or case.mentions}: {text[:400]}"
        )
        if case.origin is not None and named:
            where = (workdir / case.origin).resolve()
            assert any(Path(i.file).resolve() == where for i in named), (
                f"the issue should name {case.origin}: {text[:300]}"
            )
    check_cli_rejects(case, path, workdir)


def check_cli_rejects(case: InvalidCase, path: Path, workdir: Path) -> None:
    sets = [f"--set={o}" for o in case.overrides]
    out = workdir / "run-out"
    for argv in (
        ["validate", str(path), *sets],
        ["run", str(path), "--out", str(out), "--no-report", *sets],
    ):
        try:
            code, stdout, stderr = call_main(argv)
        except Exception as exc:
            raise AssertionError(f"flowsim {argv[0]} raised {type(exc).__name__}: {exc}") from exc
        assert code == 2, f"flowsim {argv[0]} exited {code}: {stderr[-300:]}"
        assert stderr.strip(), f"flowsim {argv[0]} printed no message on stderr"
        assert "Traceback" not in stderr + stdout
    assert not out.exists(), "a rejected run wrote a run folder"
    assert not list(workdir.glob(".run-out*")), "a rejected run left a temporary folder"


# --- strategies of invalid inputs -------------------------------------------------------

BASES = valid_scenarios(long_calendars=False)


def _candidates(data: dict[str, Any], table: dict[str, list[Any]]) -> list[tuple[Path_, str]]:
    found = []
    for path, value in leaves(data):
        kind = field_class(path, value)
        if table.get(kind):
            found.append((path, kind))
    return found


def _leaf_mutation(draw, data: dict[str, Any], table: dict[str, list[Any]]):
    """Break one leaf with a value from ``table``; return the data, the path and keys."""
    path, kind = draw(st.sampled_from(_candidates(data, table)))
    value = draw(st.sampled_from(table[kind]))
    if kind == "date" and table is OUT_OF_RANGE:
        if path == ("calendar", "start"):
            value = datetime.date(2199, 12, 31)
        elif path == ("calendar", "end"):
            value = datetime.date(1900, 1, 1)
    keys = (format_path(path),)
    if path[:1] == ("calendar",):
        keys = ("calendar.start", "calendar.end")
    return set_path(data, path, value), path, keys, value


def _simple(kind: str, data: dict[str, Any], keys: Sequence[str], note: str, **extra: Any):
    return InvalidCase(kind, {"scenario.toml": to_toml(data)}, keys=tuple(keys), note=note, **extra)


def _leaf_kind(kind: str, table: dict[str, list[Any]]):
    @st.composite
    def strategy(draw) -> InvalidCase:
        data = draw(BASES)
        broken, path, keys, value = _leaf_mutation(draw, data, table)
        return _simple(kind, broken, keys, f"{format_path(path)} = {value!r}"[:200])

    return strategy()


NUMERIC_NAN_INF = {c: NAN_INF for c in (*NUMERIC, "real")}
HUGE = {
    **{c: HUGE_BOUNDED for c in ("probability", "purity", "below_one", "positive", "non_negative")},
    "int_positive": [-(10**30)],
}


@st.composite
def wrong_table_type(draw) -> InvalidCase:
    """A table given as a number, a string, a list or a flag."""
    data = draw(BASES)
    paths = [p for p in tables(data) if not isinstance(p[-1], int)]
    path = draw(st.sampled_from(paths))
    value = draw(st.sampled_from(["text", [1, 2], True, 5]))
    if _is_distribution(get_path(data, path)) and isinstance(value, int):
        value = True  # a number is a fixed duration: valid
    broken = set_path(data, path, value)
    return _simple("wrong_type", broken, [format_path(path)], f"{format_path(path)} = {value!r}")


def _required(data: dict[str, Any]) -> list[Path_]:
    found: list[Path_] = [(k,) for k in ("meta", "calendar", "prices", "nodes", "routes")]
    found += [("meta", "name"), ("calendar", "start"), ("calendar", "end")]
    found.append(("prices", "usd_per_oz"))
    by_kind = {
        "mine": ["production_kg_per_day"],
        "buyer": ["capacity_kg_per_day"],
        "refiner": ["capacity_kg_per_day"],
        "partner": [],
    }
    for nid, spec in data["nodes"].items():
        for key in [
            "kind",
            "jurisdiction",
            "entity",
            "legal_status",
            "region",
            *by_kind[spec["kind"]],
        ]:
            found.append(("nodes", nid, key))
        for i, _ in enumerate(spec.get("initial_stock", [])):
            found += [
                ("nodes", nid, "initial_stock", i, "origin"),
                ("nodes", nid, "initial_stock", i, "kg"),
            ]
    for rid in data["routes"]:
        found += [("routes", rid, "from"), ("routes", rid, "to")]
    needs = {
        "sanctions": ["issuer", "effective"],
        "fuel_restrictions": ["region", "start", "end"],
        "interdictions": ["start", "end"],
    }
    for kind, keys in needs.items():
        for name in data.get("policies", {}).get(kind, {}):
            found += [("policies", kind, name, key) for key in keys]
    dist_needs = {
        "fixed": ["value"],
        "exponential": ["mean"],
        "uniform": ["low", "high"],
        "triangular": ["low", "mode", "high"],
        "lognormal": ["mean", "cv"],
    }
    for path in tables(data):
        value = get_path(data, path)
        if _is_distribution(value):
            found += [(*path, key) for key in ["dist", *dist_needs.get(value["dist"], [])]]
    return [p for p in found if _has(data, p)]


def _has(data: Any, path: Path_) -> bool:
    try:
        get_path(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


@st.composite
def missing_key(draw) -> InvalidCase:
    data = draw(BASES)
    path = draw(st.sampled_from(_required(data)))
    return _simple(
        "missing_key", delete_path(data, path), [format_path(path)], f"no {format_path(path)}"
    )


def _schema_keys() -> set[str]:
    from pydantic import BaseModel

    import flowsim.schema as schema

    names: set[str] = set()
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for name, info in obj.model_fields.items():
                names.add(name)
                if info.alias:
                    names.add(info.alias)
    return names


SCHEMA_KEYS = _schema_keys()
FREE_TABLES = {"nodes", "routes", "usd_per_oz", "compliance", "sanctions", "raids"}
FREE_TABLES |= {"fuel_restrictions", "interdictions"}


@st.composite
def unknown_key(draw) -> InvalidCase:
    """A key no model knows: a made-up one, or a typo of a key that is there."""
    data = draw(BASES)
    paths = [(), *(p for p in tables(data) if p[-1] not in FREE_TABLES)]
    path = draw(st.sampled_from(paths))
    table = get_path(data, path)
    # A key set to None is left out of the file (unset): renaming it changes nothing.
    keys = [k for k, v in table.items() if isinstance(k, str) and len(k) > 2 and v is not None]
    if keys and draw(st.booleans()):
        old = draw(st.sampled_from(keys))
        i = draw(st.integers(0, len(old) - 1))
        new = old[:i] + old[i + 1 :] if draw(st.booleans()) else old[:i] + old[i] + old[i:]
        if new in SCHEMA_KEYS or new in table:
            new = old + "_x"
        broken = rename_key(data, (*path, old), new)
        expected = [format_path((*path, new)), format_path((*path, old))]
    else:
        new = draw(st.sampled_from(["colour", "notes", "capacity", "Kind", "from_", "ÿ"]))
        broken = set_path(data, (*path, new), draw(st.sampled_from([1.0, "x", True])))
        expected = [format_path((*path, new))]
    return _simple("unknown_key", broken, expected, f"key {expected[0]}")


GHOSTS = ["ghost", "m9", "zz_top", "P0", "nobody"]


@st.composite
def unknown_reference(draw) -> InvalidCase:
    """A route, raid, sanction, stock, displacement or interdiction names what is not there."""
    data = draw(BASES)
    ghost = draw(st.sampled_from(GHOSTS))
    options: list[tuple[Path_, Any]] = []
    for rid in data["routes"]:
        options += [(("routes", rid, "from"), ghost), (("routes", rid, "to"), ghost)]
    for path, value in leaves(data):
        kind = field_class(path, value)
        if kind == "reference" and path[0] != "routes":
            options.append((path, ghost))
        if isinstance(path[-1], int) and path[-2] == "target_entities":
            options.append((path, "Nobody Ltd"))
        if isinstance(path[-1], int) and path[-2] in ("target_jurisdictions", "into_jurisdictions"):
            options.append((path, "XYZ"))
        if path[-1] == "region" and path[0] == "policies":
            options.append((path, "atlantis"))
    path, value = draw(st.sampled_from(options))
    broken = set_path(data, path, value)
    keys = [format_path(path)]
    sanctions = data["policies"].get("sanctions", {})
    if sanctions and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(sanctions)))
        where = ("policies", "sanctions", name, "compliance", ghost)
        broken = set_path(data, where, 0.5)
        keys = [format_path(where)]
    return _simple("unknown_reference", broken, keys, f"{keys[0]} -> {value}")


NON_ASCII = st.text(
    alphabet=st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), min_size=1, max_size=4
)


def _rename_everywhere(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """Rename a node and every reference to it."""

    def walk(value: Any, key: Any = None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if value == old and key in ("from", "to", "origin", "nodes", "displacement_to"):
            return new
        return value

    data = rename_key(data, ("nodes", old), new)
    data["routes"] = walk(data["routes"])
    data["nodes"] = walk(data["nodes"])
    data["policies"] = walk(data["policies"])
    return data


def _bad_id(kind: str, names: st.SearchStrategy[str]):
    @st.composite
    def strategy(draw) -> InvalidCase:
        data = draw(BASES)
        bad = draw(names)
        where = draw(st.sampled_from(["meta", "node", "route", "policy"]))
        policies = [("policies", k, n) for k, t in data["policies"].items() for n in t]
        if where == "policy" and not policies:
            where = "route"
        if where == "meta":
            broken = set_path(data, ("meta", "name"), bad)
            keys = ["meta.name"]
        elif where == "node":
            old = draw(st.sampled_from(sorted(data["nodes"])))
            new = bad if draw(st.booleans()) else old + bad
            broken = _rename_everywhere(data, old, new)
            keys = [format_path(("nodes", new))]
        elif where == "route":
            old = draw(st.sampled_from(sorted(data["routes"])))
            new = bad if draw(st.booleans()) else old + bad
            broken = rename_key(data, ("routes", old), new)
            keys = [format_path(("routes", new))]
        else:
            path = draw(st.sampled_from(policies))
            broken = rename_key(data, path, bad)
            keys = [format_path((*path[:-1], bad))]
        return _simple(kind, broken, keys, f"{keys[0]!r}")

    return strategy()


GRAPH_BREAKS = [
    "self_loop",
    "into_mine",
    "out_of_partner",
    "cycle",
    "orphan",
    "no_mine",
    "no_partner",
]


@st.composite
def broken_graph(draw) -> InvalidCase:
    data = copy.deepcopy(draw(BASES))
    nodes, routes = data["nodes"], data["routes"]
    mines = [n for n, s in nodes.items() if s["kind"] == "mine"]
    middle = [n for n, s in nodes.items() if s["kind"] in ("buyer", "refiner")]
    partners = [n for n, s in nodes.items() if s["kind"] == "partner"]
    how = draw(st.sampled_from(GRAPH_BREAKS))
    if how == "cycle" and len(middle) < 2:
        how = "self_loop"
    mentions: tuple[str, ...] = ()
    if how == "self_loop":
        x = draw(st.sampled_from(mines + middle))
        routes["loop"] = {"from": x, "to": x}
        keys = ["routes.loop"]
    elif how == "into_mine":
        target = draw(st.sampled_from(mines))
        sources = [n for n in mines + middle if n != target] or [target]
        routes["back"] = {"from": draw(st.sampled_from(sources)), "to": target}
        keys = ["routes.back"]
    elif how == "out_of_partner":
        routes["leave"] = {
            "from": draw(st.sampled_from(partners)),
            "to": draw(st.sampled_from(middle + partners + mines)),
        }
        keys = ["routes.leave"]
    elif how == "cycle":
        a, b = draw(st.lists(st.sampled_from(middle), min_size=2, max_size=2, unique=True))
        routes["loop_a"] = {"from": a, "to": b}
        routes["loop_b"] = {"from": b, "to": a}
        keys = ["routes.loop_a", "routes.loop_b"]
        mentions = ("routing cycle",)
    elif how == "orphan":
        nodes["orphan"] = {
            "kind": "buyer",
            "jurisdiction": "VEN",
            "entity": "nobody",
            "legal_status": "informal",
            "region": "north",
            "capacity_kg_per_day": 1.0,
        }
        keys = ["nodes.orphan"]
    else:
        gone = set(mines if how == "no_mine" else partners)
        for n in gone:
            del nodes[n]
        for rid in [r for r, spec in routes.items() if {spec["from"], spec["to"]} & gone]:
            del routes[rid]
        keys = ["nodes"]
    return _simple("broken_graph", data, keys, how, mentions=mentions)


@st.composite
def empty_file(draw) -> InvalidCase:
    lines = draw(
        st.lists(
            st.sampled_from(["", " ", "\t", "# comment", "#", "   # a note", "\r"]), max_size=6
        )
    )
    text = "\n".join(lines)
    return InvalidCase("empty_file", {"scenario.toml": text}, file_level=True, note=repr(text))


@st.composite
def garbage_file(draw) -> InvalidCase:
    how = draw(st.sampled_from(["bytes", "bad_utf8", "truncated", "duplicate_key", "text"]))
    if how == "bytes":
        content: bytes | str = draw(st.binary(min_size=1, max_size=2000))
    elif how == "text":
        content = draw(st.text(min_size=1, max_size=500))
    else:
        text = to_toml(draw(BASES))
        if how == "bad_utf8":
            at = draw(st.integers(0, len(text)))
            junk = draw(
                st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x80abc"])
            )
            content = text[:at].encode() + junk + text[at:].encode()
        elif how == "truncated":
            content = text[: draw(st.integers(0, text.index("\n[routes]")))]
        else:
            lines = text.splitlines()
            candidates = [i for i, line in enumerate(lines) if " = " in line]
            i = draw(st.sampled_from(candidates))
            lines.insert(i + 1, lines[i])
            content = "\n".join(lines)
    return InvalidCase("garbage_file", {"scenario.toml": content}, file_level=True, note=how)


@st.composite
def extends_cycle(draw) -> InvalidCase:
    text = to_toml(draw(BASES))
    how = draw(st.sampled_from(["self", "self_dot", "two", "three"]))
    if how == "self":
        files = {"scenario.toml": to_toml({}, extends="scenario.toml") + text}
    elif how == "self_dot":
        files = {"scenario.toml": to_toml({}, extends="./sub/../scenario.toml") + text}
        files["sub/keep.toml"] = "# a folder to pass through\n"
    elif how == "two":
        files = {
            "scenario.toml": to_toml({}, extends="b.toml") + text,
            "b.toml": 'extends = "scenario.toml"\n[meta]\nname = "b"\n',
        }
    else:
        files = {
            "scenario.toml": to_toml({}, extends="b.toml"),
            "b.toml": 'extends = "sub/c.toml"\n[meta]\nname = "b"\n',
            "sub/c.toml": 'extends = "../scenario.toml"\n' + text,
        }
    return InvalidCase(
        "extends_cycle", files, keys=("extends",), mentions=("loop",), file_level=True, note=how
    )


@st.composite
def extends_missing(draw) -> InvalidCase:
    text = to_toml(draw(BASES))
    target = draw(
        st.sampled_from(
            [
                "missing.toml",
                "sub/missing.toml",
                "",
                ".",
                "sub",
                "base.toml\x00",
                5,
                True,
                ["b.toml"],
            ]
        )
    )
    files = {"scenario.toml": to_toml({}, extends=target) + text, "sub/keep.toml": "# here\n"}
    return InvalidCase(
        "extends_missing", files, keys=("extends",), file_level=True, note=repr(target)
    )


@st.composite
def extends_child_error(draw) -> InvalidCase:
    """A valid base file and a child that breaks one key: the error names the child."""
    data = draw(BASES)
    table = draw(st.sampled_from([OUT_OF_RANGE, WRONG_TYPE, NUMERIC_NAN_INF]))
    candidates = [
        (p, k) for p, k in _candidates(data, table) if not any(isinstance(x, int) for x in p)
    ]
    candidates = [(p, k) for p, k in candidates if p[0] != "calendar"]
    path, kind = draw(st.sampled_from(candidates))
    value = draw(st.sampled_from(table[kind]))
    child: dict[str, Any] = {}
    node = child
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    files = {
        "base.toml": to_toml(data),
        "scenario.toml": to_toml(child, extends="base.toml"),
    }
    key = format_path(path)
    return InvalidCase(
        "extends_child_error", files, keys=(key,), origin="scenario.toml", note=f"{key} = {value!r}"
    )


RAW_BAD_NUMBERS = ["ten", "1,5", "0.5.1", "½", "1e999", "-1e999", "0x", "nan", "inf"]


@st.composite
def bad_set(draw) -> InvalidCase:
    """A bad --set: a key path that leads nowhere, or a value that breaks the key."""
    data = draw(BASES)
    files = {"scenario.toml": to_toml(data)}
    how = draw(st.sampled_from(["path", "path", "value", "value", "raw"]))
    if how == "path":
        mine = next(n for n, s in data["nodes"].items() if s["kind"] == "mine")
        numbers = [r for r, s in data["routes"].items() if not isinstance(s["transit_days"], dict)]
        through_a_value = [f"routes.{r}.transit_days.mean=2.0" for r in numbers[:1]]
        text = draw(
            st.sampled_from(
                [
                    *through_a_value,
                    "nodes.ghost.production_kg_per_day=1.0",
                    "meta.name.x=1",
                    "calendar.start.day=1",
                    "meta..name=x",
                    ".meta=x",
                    "meta.=x",
                    "=5",
                    "meta.name",
                    "  =  ",
                    f"nodes.{mine}.colour=1",
                    "policies.raids.ghost.date=2018-01-05",
                    "metta.name=x",
                    "nodes.ghost=1",
                ]
            )
        )
        key = text.partition("=")[0].strip() if "=" in text else text
        keys = (key, text) if key else (text,)
        return InvalidCase("bad_set", files, overrides=(text,), keys=keys, note=text)
    table = (
        OUT_OF_RANGE
        if how == "raw"
        else draw(st.sampled_from([OUT_OF_RANGE, WRONG_TYPE, NUMERIC_NAN_INF, HUGE]))
    )
    candidates = [
        (p, k) for p, k in _candidates(data, table) if not any(isinstance(x, int) for x in p)
    ]
    if how == "raw":
        candidates = [(p, k) for p, k in candidates if k in NUMERIC and k != "int_positive"]
    path, kind = draw(st.sampled_from(candidates))
    if how == "raw":
        literal = draw(st.sampled_from(RAW_BAD_NUMBERS))
    else:
        literal = toml_value(draw(st.sampled_from(table[kind])))
        if kind == "date" and path[:1] == ("calendar",):
            literal = "2199-12-31" if path[-1] == "start" else "1900-01-01"
    key = ".".join(str(p) for p in path)
    keys = ("calendar.start", "calendar.end") if path[0] == "calendar" else (key,)
    text = f"{key}={literal}"
    return InvalidCase("bad_set", files, overrides=(text,), keys=keys, note=text[:200])


@st.composite
def deep_nesting(draw) -> InvalidCase:
    """Arrays, inline tables or table headers nested a few to thousands deep."""
    depth = draw(st.integers(2, 5000))
    how = draw(st.sampled_from(["array", "inline_table", "table_header"]))
    if how == "array":
        text = "v = " + "[" * depth + "]" * depth + "\n"
    elif how == "inline_table":
        text = "v = " + "{ a = " * depth + "1" + " }" * depth + "\n"
    else:
        text = "[" + ".".join(["a"] * depth) + "]\n"
    return InvalidCase(
        "deep_nesting", {"scenario.toml": text}, file_level=True, note=f"{how} {depth} deep"
    )


INVALID: dict[str, st.SearchStrategy[InvalidCase]] = {
    "wrong_type": st.one_of(_leaf_kind("wrong_type", WRONG_TYPE), wrong_table_type()),
    "missing_key": missing_key(),
    "unknown_key": unknown_key(),
    "unknown_reference": unknown_reference(),
    "out_of_range": _leaf_kind("out_of_range", OUT_OF_RANGE),
    "nan_inf": _leaf_kind("nan_inf", NUMERIC_NAN_INF),
    "huge_number": _leaf_kind("huge_number", HUGE),
    "non_ascii_id": _bad_id("non_ascii_id", NON_ASCII),
    "unsafe_id": _bad_id("unsafe_id", st.sampled_from(UNSAFE_NAMES)),
    "broken_graph": broken_graph(),
    "empty_file": empty_file(),
    "garbage_file": garbage_file(),
    "deep_nesting": deep_nesting(),
    "extends_cycle": extends_cycle(),
    "extends_missing": extends_missing(),
    "extends_child_error": extends_child_error(),
    "bad_set": bad_set(),
}
INVALID_KINDS = tuple(INVALID)


# --- values at the edge of their range ---------------------------------------------------


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this thread (the main one) after ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# The largest value the schema accepts (1e12 for kg, days and USD), zero, and the
# smallest positive doubles.
EXTREME = {
    "positive": [1e12, 1e-300, 5e-324],
    "non_negative": [1e12, 0.0, 5e-324],
}
COUNT_KEYS = ("servers", "rate_per_year")  # they set how many processes or raids a run makes


@st.composite
def extreme_value(draw) -> tuple[dict[str, Any], str]:
    data = draw(BASES)
    special = COUNT_KEYS
    candidates = [(p, k) for p, k in _candidates(data, EXTREME) if p[-1] not in special]
    path, kind = draw(st.sampled_from(candidates))
    return set_path(data, path, draw(st.sampled_from(EXTREME[kind]))), format_path(path)


ZERO_INTERVALS = [
    0.0,
    0,
    {"dist": "fixed", "value": 0.0},
    {"dist": "uniform", "low": 0.0, "high": 0.0},
    {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 0.0},
]


@st.composite
def zero_interval(draw) -> InvalidCase:
    """A mine whose lots come every 0 days on average: refused, naming the key."""
    data = draw(BASES)
    mine = draw(st.sampled_from([n for n, s in data["nodes"].items() if s["kind"] == "mine"]))
    path = ("nodes", mine, "lot_interval_days")
    broken = set_path(data, path, draw(st.sampled_from(ZERO_INTERVALS)))
    key = format_path(path)
    return _simple("zero_interval", broken, [key], f"{key} = {get_path(broken, path)!r}")


@st.composite
def extreme_count(draw) -> tuple[dict[str, Any], str]:
    """Many servers at a buyer or refiner, or many raids a year."""
    data = copy.deepcopy(draw(BASES))
    middle = [n for n, spec in data["nodes"].items() if spec["kind"] in ("buyer", "refiner")]
    if middle and draw(st.booleans()):
        path: Path_ = ("nodes", draw(st.sampled_from(middle)), "servers")
        value: Any = draw(st.sampled_from([100_000, 100_001, 10**7, 10**18]))
    else:
        mine = next(n for n, spec in data["nodes"].items() if spec["kind"] == "mine")
        data["policies"]["raids"]["many"] = {
            "rate_per_year": 1.0,
            "window_start": data["calendar"]["start"],
            "window_end": data["calendar"]["end"],
            "nodes": [mine],
        }
        path = ("policies", "raids", "many", "rate_per_year")
        value = draw(st.sampled_from([36_500.0, 36_501.0, 1e10, 1e12]))
    return set_path(data, path, value), format_path(path)


@st.composite
def all_held(draw) -> tuple[dict[str, Any], str]:
    """Many lots that no partner takes for a while (a sanction every partner complies
    with, which may lapse): held lots wait for the day a lever may open a route, so
    the run costs time in proportion to its lots, not to lots times days."""
    data = copy.deepcopy(draw(BASES))
    start = datetime.date.fromisoformat(str(data["calendar"]["start"]))
    end = datetime.date.fromisoformat(str(data["calendar"]["end"]))
    sanction: dict[str, Any] = {
        "issuer": "USA",
        "effective": str(start),
        "target_jurisdictions": ["VEN"],
        "default_compliance": 1.0,
    }
    if draw(st.booleans()) and end > start:
        lapse = start + datetime.timedelta(days=draw(st.integers(0, (end - start).days - 1)))
        sanction["until"] = str(lapse)
    data["policies"]["sanctions"] = {"all": sanction}
    data.setdefault("simulation", {})["lot_interval_days"] = draw(st.sampled_from([0.05, 0.2]))
    for spec in data["nodes"].values():
        spec.pop("lot_interval_days", None)
    return data, "policies.sanctions.all"


def check_extreme(data: dict[str, Any], key: str, workdir: Path, seconds: float = 30.0) -> None:
    """A value the schema may accept: refused with an error naming the key (or the number
    of lots it would make), or run to the end within ``seconds``, with finite figures;
    never exit 3, a traceback or a hang."""
    path = workdir / "scenario.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    value = get_path(data, parse_path(key))
    try:
        flowsim.load_scenario(path)
    except ScenarioError as exc:
        lots = any(i.path == "simulation" and "lots" in i.message for i in exc.issues)
        assert lots or any(_names_key(i, key) for i in exc.issues), str(exc)[:300]
        return
    out = workdir / "run-out"
    try:
        with time_limit(seconds):
            code, _, stderr = call_main(["run", str(path), "--out", str(out), "--no-report"])
    except Exception as exc:
        # Not chained: a traceback cut by SIGALRM can lack line numbers, which trips
        # pytest's report; the type and message say what happened.
        raise AssertionError(
            f"{key} = {value!r}: flowsim run raised {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    assert code == 0, f"{key} = {value!r} is accepted, then flowsim run exits {code}: {stderr}"
    text = (out / "summary.json").read_text()
    for constant in ("NaN", "Infinity"):
        assert constant not in text, f"{key} = {value!r}: summary.json holds {constant}"
    bad = non_finite_numbers(json.loads(text))
    assert not bad, f"{key} = {value!r} gives non-finite figures: {bad[:3]}"


def parse_path(key: str) -> Path_:
    parts: list[str | int] = []
    for part in key.split("."):
        name, _, index = part.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)


SEEDS = st.integers(0, 2**32 - 1)
Check = Callable[[Any, Path], None]

# Every kind of example, with the property it must have.
KINDS: dict[str, tuple[st.SearchStrategy[Any], Check]] = {
    "valid": (
        st.tuples(valid_scenarios(), SEEDS, st.integers(1, 2)),
        lambda example, workdir: check_valid(*example, workdir=workdir),
    ),
    **{kind: (strategy, check_invalid) for kind, strategy in INVALID.items()},
    "extreme_value": (
        extreme_value(),
        lambda example, workdir: check_extreme(*example, workdir=workdir),
    ),
    "extreme_count": (
        extreme_count(),
        lambda example, workdir: check_extreme(*example, workdir=workdir),
    ),
    "zero_interval": (zero_interval(), check_invalid),
    "all_held": (
        all_held(),
        lambda example, workdir: check_extreme(*example, workdir=workdir, seconds=15.0),
    ),
}

# Kinds that fail because of a known bug in flowsim, listed in docs/reliability.md.
# tools/fuzz.py runs them and counts them apart; it fails if one of them
# stops failing, as a strict xfail does, so that the list is kept true.
KNOWN_BUG_KINDS: dict[str, tuple[st.SearchStrategy[Any], Check]] = {}

# Kinds that take long per example get fewer of them in tools/fuzz.py (default 1).
KIND_WEIGHTS = {"extreme_count": 0.1, "all_held": 0.05, "zero_interval": 0.2}
