"""Declared statistics from outside, beside a run's own: ``flowsim mirror``.

:func:`read_trade_data` reads a CSV in the layout of UN Comtrade's bulk download
("Reporter ISO", "Trade Flow Code", "Netweight (kg)", ...) or of the
``comtradeapicall`` package's output (``reporterISO``, ``flowCode``, ``netWgt``,
``primaryValue``, ...), gold rows only (HS 7108, and 7112 for scrap). Two optional
columns of flowsim's own extend it: ``lastPeriod``, the last month of a figure
that sums several (a published figure for January to May), and ``source``.
:func:`compare_trade` sets each row beside the run's declared statistics for the
same reporter, partner, flow, heading and months: the mean over replications.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError

__all__ = ["compare_trade", "read_trade_data"]

# Comtrade's flow codes; the bulk download numbers them.
_BULK_FLOWS = {1: "M", 2: "X", 3: "RX", 4: "RM"}
# Columns of each layout, by what flowsim calls them.
_LAYOUTS = {
    "comtradeapicall": {
        "reporter": "reporterISO",
        "partner": "partnerISO",
        "flow": "flowCode",
        "period": "period",
        "commodity": "cmdCode",
        "kg": "netWgt",
        "usd": "primaryValue",
    },
    "bulk download": {
        "reporter": "Reporter ISO",
        "partner": "Partner ISO",
        "flow": "Trade Flow Code",
        "period": "Period",
        "commodity": "Commodity Code",
        "kg": "Netweight (kg)",
        "usd": "Trade Value (US$)",
    },
}
# Comtrade's partner "World", every partner together: W00 in its API, WLD in older files.
WORLD = ("W00", "WLD")
# The flows a run's customs record (flowsim.trade.FLOW_CODES).
FLOWS = ("M", "X", "RX", "RM")
HEADINGS = ("7108", "7112")


def read_trade_data(path: Path) -> pd.DataFrame:
    """The gold rows of a trade-statistics CSV: reporter, partner, flow (M, X, RX),
    heading (7108 or 7112), first and last month (Timestamps), kg, USD (NaN where the
    file has none) and source."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise FlowsimError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FlowsimError(f"{path}: not a readable CSV file ({exc})") from None
    layout = next((cols for cols in _LAYOUTS.values() if cols["reporter"] in raw.columns), None)
    if layout is None:
        raise FlowsimError(
            f"{path}: no column 'reporterISO' or 'Reporter ISO': not a file in the layout of "
            "UN Comtrade's bulk download or of comtradeapicall"
        )
    missing = [c for c in layout.values() if c not in raw.columns]
    if missing:
        raise FlowsimError(f"{path}: no column {missing[0]!r}")
    rows = []
    skipped: set[str] = set()
    for number, record in enumerate(raw.to_dict(orient="records"), start=2):
        where = f"{path}, line {number}"
        commodity = record[layout["commodity"]].strip()
        heading = commodity[:4]
        if heading not in HEADINGS:
            continue  # another commodity: not gold
        flow = record[layout["flow"]].strip()
        if flow.isdigit():
            flow = _BULK_FLOWS.get(int(flow), flow)
        if not flow:
            raise FlowsimError(f"{where}: no flow in column {layout['flow']!r}")
        if flow not in FLOWS:
            skipped.add(flow)
            continue  # a flow customs in a run do not record (DX, FM, ...)
        first = _month(record[layout["period"]], where, layout["period"], last=False)
        last = _month(record[layout["period"]], where, layout["period"], last=True)
        if record.get("lastPeriod", "").strip():
            last = _month(record["lastPeriod"], where, "lastPeriod", last=True)
            if last < first:
                raise FlowsimError(f"{where}: lastPeriod is before period")
        rows.append(
            {
                "reporter": record[layout["reporter"]].strip(),
                "partner": record[layout["partner"]].strip(),
                "flow": flow,
                "heading": heading,
                "first": first,
                "last": last,
                "kg": _number(record[layout["kg"]], where, layout["kg"]),
                "usd": _number(record[layout["usd"]], where, layout["usd"]),
                "source": record.get("source", "").strip(),
            }
        )
    if not rows:
        extra = f" in the flows a run records ({', '.join(FLOWS)})" if skipped else ""
        raise FlowsimError(f"{path}: no row of gold (HS 7108 or 7112){extra}")
    table = pd.DataFrame(rows)
    table.attrs["skipped_flows"] = sorted(skipped)
    return table


def _month(text: str, where: str, column: str, last: bool) -> pd.Timestamp:
    """The first month of a period YYYY or YYYYMM, or its last with ``last``."""
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        return pd.Timestamp(int(text), 12 if last else 1, 1)
    if len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12:
        return pd.Timestamp(int(text[:4]), int(text[4:]), 1)
    raise FlowsimError(f"{where}: {column} {text!r} is not a year (YYYY) or a month (YYYYMM)")


def _number(text: str, where: str, column: str) -> float:
    text = text.strip().replace(",", "")
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise FlowsimError(f"{where}: {column} {text!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise FlowsimError(f"{where}: {column} {text!r} is not a non-negative number")
    return value


def compare_trade(
    trade: pd.DataFrame, data: pd.DataFrame, replications: int, start, end
) -> pd.DataFrame:
    """Each row of ``data`` with the run's figure for it (mean over ``replications``) and
    the gap (model - data); rows whose months fall outside the run have no figure."""
    months = trade["month"]
    first_month = pd.Timestamp(start).to_period("M").to_timestamp()
    last_month = pd.Timestamp(end).to_period("M").to_timestamp()
    out = []
    for row in data.to_dict(orient="records"):
        inside = first_month <= row["first"] and row["last"] <= last_month
        flows = ["X", "RX"] if row["flow"] == "X" else [row["flow"]]
        if row["flow"] == "X":  # exports net of the returns of refused lots
            flows.append("RM")
        chosen = (
            (trade["reporterISO"] == row["reporter"])
            & trade["flowCode"].isin(flows)
            & (trade["cmdCode"] == row["heading"])
            & (months >= row["first"])
            & (months <= row["last"])
        )
        if row["partner"] not in WORLD:
            chosen &= trade["partnerISO"] == row["partner"]
        sign = np.where((trade["flowCode"] == "RM") & (row["flow"] != "RM"), -1.0, 1.0)
        kg = (trade["netWgt"] * sign)[chosen].sum()
        usd = (trade["primaryValue"] * sign)[chosen].sum()
        model_kg = kg / replications if inside else np.nan
        model_usd = usd / replications if inside else np.nan
        period = _period_text(row["first"], row["last"])
        out.append(
            {
                "reporter": row["reporter"],
                "partner": row["partner"],
                "flow": row["flow"],
                "hs": row["heading"],
                "period": period,
                "data_kg": row["kg"],
                "model_kg": model_kg,
                "gap_kg": model_kg - row["kg"],
                "data_usd": row["usd"],
                "model_usd": model_usd,
                "gap_usd": model_usd - row["usd"],
                "source": row["source"],
            }
        )
    return pd.DataFrame(out)


def _period_text(first: pd.Timestamp, last: pd.Timestamp) -> str:
    if first.month == 1 and last.month == 12:
        years = f"{first.year}" if first.year == last.year else f"{first.year}-{last.year}"
        return years
    if first == last:
        return f"{first:%Y-%m}"
    return f"{first:%Y-%m} to {last:%Y-%m}"
