"""The declared layer of a run: customs statistics as UN Comtrade lays them out, and
the mirror gaps that analysts compute from them.

``trade_statistics`` holds what each jurisdiction's customs recorded of gold (HS 7108,
mined; HS 7112, scrap), by month, reporter, partner and flow, with the origin the
papers declared. ``mirror_gaps`` sets each exporter's reported exports to a partner
against the partner's reported imports from it, and each jurisdiction's declared
exports against the gold its mines produced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from flowsim.results import Results

__all__ = ["FLOW_CODES", "mirror_gaps", "net_exports", "trade_table"]

# Comtrade's flow codes and descriptions, in the order of flowsim.papers.FLOWS.
FLOW_CODES = ("M", "X", "RX", "RM")
FLOW_NAMES = ("Import", "Export", "Re-export", "Re-import")
TRADE_COLUMNS = (
    "replication", "month", "period", "reporterISO", "partnerISO", "flowCode", "flowDesc",
    "cmdCode", "declaredOriginISO", "netWgt", "primaryValue",
)  # fmt: skip
GAP_COLUMNS = (
    "replication", "month", "comparison", "jurisdiction", "partner", "reported_kg",
    "counterpart_kg", "gap_kg", "reported_usd", "counterpart_usd", "gap_usd",
)  # fmt: skip


def trade_table(
    k: int, records: tuple[tuple, ...], months: pd.DatetimeIndex, codes: tuple[str, ...]
) -> pd.DataFrame:
    """Replication ``k``'s customs records, (month, reporter, partner, flow, HS code,
    declared origin, kg, USD) on jurisdiction indices into ``codes``, as a table."""
    columns = list(zip(*records, strict=True)) if records else [()] * 8
    month, reporter, partner, flow, hs, origin, kg, usd = columns
    when = pd.DatetimeIndex([months[m] for m in month], dtype="datetime64[ns]")
    return pd.DataFrame(
        {
            "replication": np.full(len(records), k, dtype=np.int64),
            "month": when,
            "period": np.asarray(when.year * 100 + when.month, dtype=np.int64),
            "reporterISO": pd.Series([codes[j] for j in reporter], dtype=object),
            "partnerISO": pd.Series([codes[j] for j in partner], dtype=object),
            "flowCode": pd.Series([FLOW_CODES[f] for f in flow], dtype=object),
            "flowDesc": pd.Series([FLOW_NAMES[f] for f in flow], dtype=object),
            "cmdCode": pd.Series([str(c) for c in hs], dtype=object),
            "declaredOriginISO": pd.Series(
                [codes[j] if j >= 0 else "" for j in origin], dtype=object
            ),
            "netWgt": np.asarray(kg, dtype=float),
            "primaryValue": np.asarray(usd, dtype=float),
        }
    )


def net_exports(trade: pd.DataFrame) -> pd.DataFrame:
    """The rows of exports and re-exports, and of re-imports with their kg and USD
    negative: a refused lot's return (RM) takes back what its exporter recorded when it
    left. Summed by reporter, they are its declared exports."""
    sign = trade["flowCode"].map({"X": 1.0, "RX": 1.0, "RM": -1.0, "M": 0.0})
    signed = trade.assign(netWgt=trade["netWgt"] * sign, primaryValue=trade["primaryValue"] * sign)
    return signed[sign != 0.0]


def mirror_gaps(results: Results) -> pd.DataFrame:
    """For every replication and month: each pair's reported exports against the
    partner's reported imports (``comparison`` "partner_imports", gap = imports -
    exports), and each jurisdiction's declared exports against its mines' production
    (``comparison`` "production", gap = exports - production; no USD)."""
    trade = results.trade_statistics
    if trade.empty:
        return pd.DataFrame({c: pd.Series([], dtype=_GAP_DTYPES[c]) for c in GAP_COLUMNS})
    keys = ["replication", "month"]
    values = ["netWgt", "primaryValue"]
    out_flows = net_exports(trade)
    exports = out_flows.groupby([*keys, "reporterISO", "partnerISO"])[values].sum()
    exports.index.names = [*keys, "jurisdiction", "partner"]
    imports = trade[trade["flowCode"] == "M"]
    imports = imports.groupby([*keys, "partnerISO", "reporterISO"])[["netWgt", "primaryValue"]]
    imports = imports.sum()
    imports.index.names = [*keys, "jurisdiction", "partner"]
    pairs = pd.concat(
        [exports.add_suffix("_x"), imports.add_suffix("_m")], axis=1, join="outer"
    ).fillna(0.0)
    pairs = pd.DataFrame(
        {
            "comparison": "partner_imports",
            "reported_kg": pairs["netWgt_x"],
            "counterpart_kg": pairs["netWgt_m"],
            "gap_kg": pairs["netWgt_m"] - pairs["netWgt_x"],
            "reported_usd": pairs["primaryValue_x"],
            "counterpart_usd": pairs["primaryValue_m"],
            "gap_usd": pairs["primaryValue_m"] - pairs["primaryValue_x"],
        }
    ).reset_index()

    # Against production: what the exporter declares as its own gold, less its returns.
    own = out_flows[out_flows["declaredOriginISO"] == out_flows["reporterISO"]]
    declared = own.groupby([*keys, "reporterISO"])["netWgt"].sum()
    declared.index.names = [*keys, "jurisdiction"]
    mines = results.nodes.set_index("node")["jurisdiction"]
    production = (
        results.production_monthly.assign(jurisdiction=lambda t: t["mine"].map(mines))
        .groupby([*keys, "jurisdiction"])["kg"]
        .sum()
    )
    both = pd.concat({"exports": declared, "production": production}, axis=1).fillna(0.0)
    both = both[(both["exports"] > 0.0) | (both["production"] > 0.0)]
    production_rows = pd.DataFrame(
        {
            "comparison": "production",
            "partner": None,
            "reported_kg": both["exports"],
            "counterpart_kg": both["production"],
            "gap_kg": both["exports"] - both["production"],
            "reported_usd": np.nan,
            "counterpart_usd": np.nan,
            "gap_usd": np.nan,
        }
    ).reset_index()
    table = pd.concat([pairs, production_rows], ignore_index=True)
    table["replication"] = table["replication"].astype(np.int64)
    table["month"] = pd.to_datetime(table["month"]).astype("datetime64[ns]")
    table["partner"] = table["partner"].astype(object)
    return (
        table[list(GAP_COLUMNS)]
        .sort_values(
            ["replication", "comparison", "jurisdiction", "partner", "month"], na_position="first"
        )
        .reset_index(drop=True)
    )


_GAP_DTYPES = {
    "replication": "int64",
    "month": "datetime64[ns]",
    "comparison": "object",
    "jurisdiction": "object",
    "partner": "object",
    **{c: "float64" for c in GAP_COLUMNS[5:]},
}
