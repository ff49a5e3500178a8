"""Results: tables, summary contract, and the atomic run folder."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from networks import chain, run

import flowsim
from flowsim.results import SUMMARY_TOTALS, Results


@pytest.fixture(scope="module")
def results() -> Results:
    data = chain(days=90)
    data["nodes"]["mine"]["production_cv"] = 0.3
    data["routes"]["mine_buyer"]["seizure_probability"] = 0.1
    return run(data, seed=3, replications=2)


def test_summary_holds_the_contract_fields(results):
    summary = results.summary()
    for key in ("scenario", "seed", "replications", "start", "end", "flowsim_version"):
        assert key in summary
    assert set(summary["totals_kg"]) == set(SUMMARY_TOTALS)
    assert set(summary["exports_kg_by_partner"]) == {"partner"}
    assert set(summary["exports_usd_by_partner"]) == {"partner"}
    assert summary["replications"] == 2
    json.dumps(summary)  # plain JSON types only


def test_each_reader_of_the_summary_gets_its_own_copy(results):
    """The summary is made once; a caller that edits what it got does not change what
    the next caller (the run folder, the report) reads."""
    first = results.summary()
    first["exports_kg_by_partner"].clear()
    first["scenario"] = "edited"
    again = results.summary()
    assert again["exports_kg_by_partner"] and again["scenario"] != "edited"
    assert again == results.summary()


def test_summary_figures_are_means_over_replications(results):
    per_replication = results.totals_kg().set_index("replication")
    assert per_replication["produced"].nunique() == 2
    mean = per_replication["produced"].mean()
    assert results.summary()["totals_kg"]["produced"] == pytest.approx(mean)


def test_monthly_tables_cover_every_month_and_sum_to_the_totals(results):
    exports = results.exports_monthly
    assert len(exports) == 2 * 3  # two replications x Jan-Mar
    produced = results.production_monthly.groupby("replication")["kg"].sum()
    assert produced.to_list() == pytest.approx(results.totals_kg()["produced"].to_list())


def test_balance_table_has_every_term_and_a_zero_residual(results):
    table = results.balance()
    assert list(table.columns) == ["replication", *SUMMARY_TOTALS, "residual", "ok"]
    assert table["ok"].all()
    assert table["residual"].abs().max() < 1e-6


def test_a_broken_balance_raises(results):
    broken = Results(
        ledger=results.ledger,
        receipts=results.receipts,
        melts=results.melts,
        nodes=results.nodes,
        routes=results.routes,
        categories=results.categories,
        end_state=results.end_state.assign(kg=results.end_state["kg"] + 1.0),
        runs=results.runs,
        meta=results.meta,
    )
    with pytest.raises(flowsim.MassBalanceError, match="mass balance broken"):
        broken.check_balance()


def test_save_and_load_round_trip(results, tmp_path):
    out = results.save(tmp_path / "run")
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "manifest.json", "ledger.parquet", "exports_monthly.parquet"} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert len(manifest["scenario_hash"]) == 64
    loaded = Results.load(out)
    pd.testing.assert_frame_equal(loaded.ledger, results.ledger)
    assert loaded.summary() == results.summary()
    loaded.check_balance()
    assert json.loads((out / "summary.json").read_text()) == results.summary()


def test_save_replaces_an_older_run_and_leaves_no_temporary_folder(results, tmp_path):
    target = results.save(tmp_path / "run", extras=lambda f: (f / "report.html").write_text("r"))
    results.save(target)  # no report this time: the earlier one goes with its run
    assert not (target / "report.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_failed_save_leaves_no_folder(results, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", fail)
    with pytest.raises(flowsim.FlowsimError, match="No space left"):
        results.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_the_older_run(results, tmp_path, monkeypatch):
    target = results.save(tmp_path / "run")
    before = (target / "summary.json").read_text()
    monkeypatch.setattr(
        pq, "write_table", lambda *a, **k: (_ for _ in ()).throw(OSError(5, "I/O error"))
    )
    with pytest.raises(flowsim.FlowsimError):
        results.save(target)
    assert (target / "summary.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_load_rejects_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(flowsim.FlowsimError, match="not a flowsim run folder"):
        Results.load(tmp_path)


def test_save_refuses_to_overwrite_a_folder_that_is_not_a_run(results, tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    with pytest.raises(flowsim.FlowsimError, match="not a flowsim run"):
        results.save(precious)
    assert (precious / "chapter1.tex").read_text() == "years of work"
    file_target = tmp_path / "notes.txt"
    file_target.write_text("keep")
    with pytest.raises(flowsim.FlowsimError, match="not a folder"):
        results.save(file_target)
    assert file_target.read_text() == "keep"


def test_run_folder_has_ordinary_permissions(results, tmp_path):
    out = results.save(tmp_path / "run")
    assert out.stat().st_mode & 0o055  # readable by others unless the umask forbids it
