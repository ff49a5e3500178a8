"""Exposure: how much of what each partner and refiner received is tainted.

Computed from the receipts table the engine writes (one row per received lot
and origin category). For each receiving node, three shares of received mass,
each with its USD value:

- ``illegal_origin``: gold mined at illegal or informal mines;
- ``sanctioned_entity``: gold that passed through an entity designated under a
  sanctions regime while the designation applied;
- ``sanctioned_jurisdiction``: gold mined in a jurisdiction under sanctions on
  the day it was received;
- ``accepted_as_clean``: gold that is one of the three above, taken on papers that
  showed legal gold that touched no one designated (with papers on lots only:
  without them, partners see the truth).

A node that received nothing has every share 0, not NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["EXPOSURES", "exposure_table"]

EXPOSURES = (
    "illegal_origin",
    "sanctioned_entity",
    "sanctioned_jurisdiction",
    "accepted_as_clean",
)
ILLEGAL_STATUSES = ("illegal", "informal")


def exposure_table(
    receipts: pd.DataFrame,
    categories: pd.DataFrame,
    keys: list[str],
    grid: pd.MultiIndex,
) -> pd.DataFrame:
    """Sum received and exposed kg and USD by ``keys`` over ``grid`` (a full
    index of the key combinations), and add the shares."""
    illegal = categories.set_index("category")["legal_status"].isin(ILLEGAL_STATUSES)
    flags = {
        "illegal_origin": illegal.reindex(receipts["category"]).to_numpy(dtype=bool),
        "sanctioned_entity": receipts["touched_designated_entity"].to_numpy(dtype=bool),
        "sanctioned_jurisdiction": receipts["sanctioned_jurisdiction"].to_numpy(dtype=bool),
    }
    exposed = np.logical_or.reduce(list(flags.values()))
    flags["accepted_as_clean"] = exposed & receipts["papers_clean"].to_numpy(dtype=bool)
    columns = {"received_kg": receipts["kg"], "received_usd": receipts["usd"]}
    for name, flag in flags.items():
        columns[f"{name}_kg"] = receipts["kg"].where(flag, 0.0)
        columns[f"{name}_usd"] = receipts["usd"].where(flag, 0.0)
    frame = receipts[keys].assign(**columns)
    for key in keys:
        if isinstance(frame[key].dtype, pd.CategoricalDtype):
            frame[key] = frame[key].astype(str)
    sums = frame.groupby(keys, observed=True).sum().reindex(grid, fill_value=0.0)
    return with_shares(sums).reset_index()


def with_shares(sums: pd.DataFrame) -> pd.DataFrame:
    """Add ``<exposure>_share`` = exposed kg / received kg, 0 where nothing arrived."""
    received = sums["received_kg"].to_numpy()
    out = sums.copy()
    for name in EXPOSURES:
        exposed = sums[f"{name}_kg"].to_numpy()
        share = np.divide(exposed, received, out=np.zeros_like(exposed), where=received > 0)
        out[f"{name}_share"] = np.clip(share, 0.0, 1.0)
    return out
