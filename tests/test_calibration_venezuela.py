"""The Venezuela calibration (scenarios/venezuela_sanctions.calibration.toml), run whole,
and the check that its granularity does not move its answer.

The calibration runs in shipment mode at batches of 3 days, for speed. Over 40 draws of
its posterior, each simulated in per-lot mode and in shipment mode, the mean
difference of every target between the modes must stay within half the spread the
posterior itself gives that target (its sd over the draws). Beside it, the test prints
the spread chance alone gives: two per-lot runs of each draw with different seeds.
About 13 minutes on 2 cores (the calibration 11, the check 1): run by ``make calibrate``
(set FLOWSIM_CALIBRATE=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from flowsim import calibrate, load_calibration_file, load_posterior
from flowsim.calibration.model import FlowsimModel
from flowsim.scenario import with_overrides

pytestmark = pytest.mark.skipif(
    os.environ.get("FLOWSIM_CALIBRATE") != "1",
    reason="long: set FLOWSIM_CALIBRATE=1 (make calibrate runs it)",
)

FILE = Path(__file__).parent.parent / "scenarios" / "venezuela_sanctions.calibration.toml"
DRAWS = 40


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A fresh calibration, or the finished folder FLOWSIM_VENEZUELA_FOLDER names (to
    check a calibration already run without running it again)."""
    given = os.environ.get("FLOWSIM_VENEZUELA_FOLDER")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("venezuela") / "calibration"
    calibrate(FILE, out=out, workers=2, progress=True)
    return out


def test_the_calibration_writes_its_folder_and_reports_its_held_out_targets(folder):
    summary = json.loads((folder / "summary.json").read_text())
    print(json.dumps({k: summary[k] for k in summary if k not in ("parameters", "targets")}))
    predictive = pd.read_parquet(folder / "predictive.parquet")
    print(predictive.to_string())
    print(pd.read_parquet(folder / "posterior.parquet").to_string())
    print(pd.read_parquet(folder / "generations.parquet").to_string())
    held_out = predictive[predictive["held_out"]]
    assert set(held_out["target"]) == {
        "turkey_jan_jul_2018_usd",
        "turkey_2018_usd",
        "production_2018_2019",
    }
    assert held_out[["median", "q05", "q95"]].notna().all().all()
    particles = pd.read_parquet(folder / "particles.parquet")
    assert (particles["generation"] == particles["generation"].max()).sum() >= 500


def test_shipment_mode_does_not_move_the_posterior_beyond_its_own_spread(folder):
    calibration, shipments = load_calibration_file(FILE)
    per_lot = with_overrides(shipments, {"simulation.granularity": "lot"})
    posterior = load_posterior(folder)
    by_shipment = FlowsimModel(shipments, calibration)
    by_lot = FlowsimModel(per_lot, calibration)
    records = []
    for k in range(DRAWS):
        values = posterior.draw(2018, k)
        seed = 1_000 + k
        lot, other, shipment = (
            by_lot.run(values, seed),
            by_lot.run(values, seed + 10_000),
            by_shipment.run(values, seed),
        )
        for target in lot:
            records.append(
                {
                    "target": target,
                    "lot": lot[target],
                    "lot_other_seed": other[target],
                    "shipment": shipment[target],
                }
            )
    table = pd.DataFrame(records)
    table["granularity"] = table["shipment"] - table["lot"]
    table["chance"] = table["lot_other_seed"] - table["lot"]
    check = table.groupby("target").agg(
        posterior_sd=("lot", "std"),
        granularity_mean=("granularity", "mean"),
        granularity_sd=("granularity", "std"),
        chance_mean=("chance", "mean"),
        chance_sd=("chance", "std"),
    )
    check["shift_over_posterior_sd"] = check["granularity_mean"].abs() / check["posterior_sd"]
    print(check.to_string())
    assert (check["shift_over_posterior_sd"] < 0.5).all(), check
