"""Sweep folders open in every reader: one schema, SQL-safe names, metadata, compaction."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from test_sweep import ROOT, TINY_SCENARIO, sorted_table

import flowsim
from flowsim.cli import main
from flowsim.parquet import SQL_RESERVED, metric_unit, read_metadata, sql_name
from flowsim.sweep import load_sweep_file

# A text parameter, a number, and a baseline that sets neither: the mix that broke
# readers when each part took its types from its own rows.
MIXED = """
[sweep]
name = "mixed"
scenario = "tiny.toml"
method = "grid"
replications = 1
seed = 3

[parameters]
"nodes.buyer.legal_status" = ["informal", "licensed"]
"routes.mine_buyer.seizure_probability" = [0.0, 0.1]

[[scenarios]]
name = "baseline"
vary = false

[[scenarios]]
name = "varied"
"""
STATUS, SEIZURE = "nodes__buyer__legal_status", "routes__mine_buyer__seizure_probability"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One mixed sweep, first with its parts, then compacted by --resume."""
    root = tmp_path_factory.mktemp("mixed")
    (root / "tiny.toml").write_text(TINY_SCENARIO)
    (root / "sweep.toml").write_text(MIXED)
    out = root / "out"
    argv = ["sweep", str(root / "sweep.toml"), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--no-compact"]) == 0
    parts = root / "parts-copy"
    parts.mkdir()
    for path in (out / "parts").iterdir():
        (parts / path.name).write_bytes(path.read_bytes())
    from_parts = flowsim.load_sweep(out)
    assert main([*argv, "--resume"]) == 0
    return {"root": root, "out": out, "parts": parts, "from_parts": from_parts, "argv": argv}


def test_every_part_has_the_one_schema_the_baseline_included(mixed):
    schemas = {pq.read_schema(p).remove_metadata() for p in mixed["parts"].iterdir()}
    assert len(schemas) == 1
    schema = schemas.pop()
    assert str(schema.field(STATUS).type) == "string"
    assert str(schema.field(SEIZURE).type) == "double"
    assert str(schema.field("unit").type) == "string"


def test_pandas_pyarrow_and_polars_read_the_parts_and_the_compacted_file(mixed):
    out, parts = mixed["out"], mixed["parts"]
    for frame in (pd.read_parquet(parts), pd.read_parquet(out / "sweep.parquet")):
        assert len(frame) == len(mixed["from_parts"])
        baseline = frame[frame["scenario"] == "baseline"]
        assert baseline[STATUS].isna().all() and baseline[SEIZURE].isna().all()
        assert set(frame.loc[frame["scenario"] == "varied", STATUS]) == {"informal", "licensed"}
    assert ds.dataset(parts).to_table().num_rows == len(mixed["from_parts"])
    polars = pytest.importorskip("polars", reason="polars comes with the dev extra")
    table = polars.read_parquet(str(parts / "*.parquet"))
    assert table.height == len(mixed["from_parts"]) and table.schema[STATUS] == polars.String


def test_duckdb_reads_a_glob_of_parts_and_sweep_parquet_with_unquoted_names(mixed):
    duckdb = pytest.importorskip("duckdb", reason="DuckDB comes with the dev extra")
    query = (
        f"select {STATUS}, count(*) as runs, sum(value) as kg from read_parquet('{{}}') "
        f"where metric = 'totals_kg.exported' and {STATUS} is not null group by {STATUS} "
        f"order by {STATUS}"
    )
    from_parts = duckdb.sql(query.format(mixed["parts"] / "*.parquet")).fetchall()
    compacted = duckdb.sql(query.format(mixed["out"] / "sweep.parquet")).fetchall()
    assert from_parts == compacted
    assert [row[:2] for row in compacted] == [("informal", 2), ("licensed", 2)]


def test_sql_reserved_words_are_duckdbs():
    duckdb = pytest.importorskip("duckdb", reason="DuckDB comes with the dev extra")
    rows = duckdb.sql(
        "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
    ).fetchall()
    assert {r[0] for r in rows} <= SQL_RESERVED


@pytest.mark.parametrize(
    "name, safe",
    [
        ("policies.fuel_controls.venezuela.cut", "policies__fuel_controls__venezuela__cut"),
        ("Compliance-Rate", "compliance_rate"),
        ("from", "p_from"),
        ("2nd", "p_2nd"),
    ],
)
def test_sql_names(name, safe):
    assert sql_name(name) == safe
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", safe) and safe not in SQL_RESERVED


def test_compaction_keeps_the_table_and_removes_only_the_parts(mixed):
    out = mixed["out"]
    assert not (out / "parts").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "design.json",
        "manifest.jsonl",
        "sweep.parquet",
    ]
    pd.testing.assert_frame_equal(
        sorted_table(flowsim.load_sweep(out)), sorted_table(mixed["from_parts"])
    )
    last = json.loads((out / "manifest.jsonl").read_text().splitlines()[-1])
    assert last["compacted"] == "sweep.parquet" and last["runs"] == 5
    assert last["bytes"] == (out / "sweep.parquet").stat().st_size


def test_every_file_carries_versions_hashes_and_units(mixed):
    design = json.loads((mixed["out"] / "design.json").read_text())
    for path in [*mixed["parts"].iterdir(), mixed["out"] / "sweep.parquet"]:
        meta = read_metadata(pq.read_schema(path))
        assert meta["format"] == "flowsim-sweep" and meta["format_version"] == 3
        assert meta["flowsim_version"] == flowsim.__version__
        assert meta["fingerprint"] == design["fingerprint"]
        assert meta["columns"][STATUS] == {
            "parameter": "nodes.buyer.legal_status",
            "type": "string",
            "unit": None,
        }
        assert set(meta["columns"]) == set(pq.read_schema(path).names)
        if path.name == "sweep.parquet":
            assert set(meta["scenario_hashes"]) == {"baseline", "varied"}
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", meta["scenario_hash"])
    table = flowsim.load_sweep(mixed["out"])
    units = dict(zip(table["metric"], table["unit"], strict=False))
    assert units["totals_kg.exported"] == "kg"
    assert units["exports_usd_total"] == "USD"
    assert units["exposure_by_partner.tur.illegal_origin_share"] == "1"
    assert all(metric_unit(m) == u for m, u in units.items())


def test_a_metric_filter_reads_what_filtering_afterwards_keeps(mixed):
    every = flowsim.load_sweep(mixed["out"])
    some = flowsim.load_sweep(mixed["out"], ["totals_kg", "exports_usd_total"])
    keep = every["metric"].str.startswith("totals_kg.") | (every["metric"] == "exports_usd_total")
    pd.testing.assert_frame_equal(sorted_table(some), sorted_table(every[keep]))


def test_a_mixed_parameter_and_a_shared_column_name_are_refused(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY_SCENARIO)
    for body, problem in [
        (MIXED.replace('["informal", "licensed"]', '["informal", 1.0]'), "mixes double and string"),
        (
            MIXED + "\n[parameters.routes__mine_buyer__seizure_probability]\n"
            'paths = ["routes.buyer_usa.weight"]\nvalues = [1.0]\n',
            "would share the column",
        ),
    ]:
        (tmp_path / "s.toml").write_text(body.replace("[[scenarios]]", "[[scenarios]]", 1))
        with pytest.raises(flowsim.ScenarioError, match=problem):
            load_sweep_file(tmp_path / "s.toml")


def test_a_sweep_parquet_this_sweep_did_not_write_is_never_replaced(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text(TINY_SCENARIO)
    (tmp_path / "sweep.toml").write_text(MIXED)
    out = tmp_path / "out"
    argv = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--no-compact"]) == 0
    (out / "sweep.parquet").write_bytes(b"someone's own table")
    assert main([*argv, "--resume"]) == 2
    assert "this sweep did not write it" in capsys.readouterr().err
    assert (out / "sweep.parquet").read_bytes() == b"someone's own table"
    assert len(list((out / "parts").iterdir())) == 5  # the parts stay


def test_a_kill_before_the_compacted_line_or_a_damaged_file_resumes_to_the_same_table(
    mixed, tmp_path, capsys
):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(mixed["out"], out)
    reference = sorted_table(flowsim.load_sweep(out))
    argv = [*mixed["argv"][:3], str(out), "--workers", "1", "--resume"]
    # The file written, its line lost: the parts are gone, so every run is run again.
    log = out / "manifest.jsonl"
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:-1]))
    assert main(argv) == 0
    assert "those runs will be run again" in capsys.readouterr().err
    pd.testing.assert_frame_equal(sorted_table(flowsim.load_sweep(out)), reference)
    # A damaged sweep.parquet is not read: load_sweep says so; --resume runs again.
    data = bytearray((out / "sweep.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / "sweep.parquet").write_bytes(bytes(data))
    with pytest.raises(flowsim.FlowsimError, match="changed since it was written"):
        flowsim.load_sweep(out)
    assert main(argv) == 0
    assert "sweep.parquet changed since it was written" in capsys.readouterr().err
    pd.testing.assert_frame_equal(sorted_table(flowsim.load_sweep(out)), reference)


# --- run folders ----------------------------------------------------------------------


def test_a_run_folders_tables_carry_metadata_units_and_sql_safe_names(tmp_path):
    results = flowsim.simulate(ROOT / "scenarios" / "venezuela_sanctions.toml", seed=1)
    out = results.save(tmp_path / "run", report=False)
    tables = sorted(out.glob("*.parquet"))
    assert len(tables) > 20
    for path in tables:
        schema = pq.read_schema(path)
        meta = read_metadata(schema)
        assert meta["format"] == "flowsim-run" and meta["table"] == path.stem
        assert meta["scenario_hash"] == results.meta.scenario_hash
        assert set(meta["columns"]) == set(schema.names)
        for field in schema:
            assert str(field.type) != "null", f"{path.name}: {field.name} has no type"
            # Comtrade's own column names are camel case: SQL takes them unquoted too.
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field.name), field.name
            assert field.name.lower() not in SQL_RESERVED, f"{path.name}: {field.name}"
            if str(field.type) == "double":
                assert meta["columns"][field.name]["unit"], f"{path.name}: {field.name}"
    duckdb = pytest.importorskip("duckdb", reason="DuckDB comes with the dev extra")
    rows = duckdb.sql(
        f"select from_node, to_node from read_parquet('{out / 'routes.parquet'}') "
        "where to_node = 'turkey'"
    ).fetchall()
    assert rows and all(to == "turkey" for _, to in rows)
    # flowsim reads the folder back as it wrote it.
    assert len(flowsim.Results.load(out).routes) == len(results.routes)


def test_a_run_folder_written_before_the_renaming_reads_as_now(tmp_path):
    import hashlib

    results = flowsim.simulate(ROOT / "scenarios" / "venezuela_sanctions.toml", seed=1)
    out = results.save(tmp_path / "run", report=False)
    # routes.parquet as flowsim wrote it before: `from` and `to`, recorded as such.
    old = results.routes.rename(columns={"from_node": "from", "to_node": "to"})
    old.to_parquet(out / "routes.parquet", index=False)
    data = (out / "routes.parquet").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["routes.parquet"] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    loaded = flowsim.Results.load(out)
    pd.testing.assert_frame_equal(loaded.routes, results.routes, check_dtype=False)


# --- summary.json's schema -------------------------------------------------------------


def test_summary_json_follows_its_schema_and_a_broken_one_does_not(tmp_path, capsys):
    import copy

    jsonschema = pytest.importorskip("jsonschema")
    assert main(["schema", "summary"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads((ROOT / "docs" / "schema" / "summary.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for replications in (1, 3):
        results = flowsim.simulate(
            ROOT / "scenarios" / "venezuela_sanctions.toml", seed=1, replications=replications
        )
        out = results.save(tmp_path / f"r{replications}", report=False)
        summary = json.loads((out / "summary.json").read_text())
        assert list(validator.iter_errors(summary)) == []
    broken = []
    for path, value in [
        (("totals_kg", "exported"), -1.0),
        (("exposure_by_partner", "turkey", "illegal_origin_share"), 1.5),
        (("ci95", "totals_kg", "exported"), [1.0]),
        (("format_version",), 2),
    ]:
        damaged = copy.deepcopy(summary)
        node = damaged
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        broken.append(damaged)
    missing = copy.deepcopy(summary)
    del missing["mirror_gap_kg_by_pair"]
    extra = copy.deepcopy(summary)
    extra["exports_kg"] = {}
    for damaged in [*broken, missing, extra]:
        assert list(validator.iter_errors(damaged)), "the schema let a broken summary pass"


def test_a_parameters_column_type_is_the_one_its_runs_take():
    from flowsim.sweep import RunSpec
    from flowsim.sweeplog import parameter_columns

    def runs(*values):
        return [
            RunSpec(k, "s", "f.toml", k, {} if v is None else {"p": v}, {}, 0, 0)
            for k, v in enumerate(values)
        ]

    # As an external design gives them: a parameter with paths only takes its file's values.
    assert parameter_columns(["p"], runs("a", None, "b"))["p"] == {"column": "p", "type": "string"}
    assert parameter_columns(["p"], runs(None))["p"]["type"] == "double"
    assert parameter_columns(["p"], runs(True, False))["p"]["type"] == "bool"
    assert parameter_columns(["p"], runs([1, 2]))["p"]["type"] == "json"
    with pytest.raises(flowsim.FlowsimError, match="takes double and string values"):
        parameter_columns(["p"], runs(0.5, "none"))
