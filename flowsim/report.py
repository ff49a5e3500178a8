"""A self-contained HTML report of a run, optionally against its baseline.

One file that opens in any browser with no server: the key findings first, figures
embedded as SVG data (and written as SVG files, and PNG on request, into a run folder's
``figures/`` by :func:`write_figures`), styles inline, and nothing loaded from the
network. Every string that comes from a scenario is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from flowsim import flows, maps, plots
from flowsim._version import __version__
from flowsim.compare import compare_exports, compare_exposure
from flowsim.drawing import png_bytes, svg_and_box
from flowsim.errors import FlowsimError
from flowsim.folders import MANIFEST, add_to_manifest, replace_signed_file
from flowsim.headlines import headlines, interval_note
from flowsim.runfolder import REPORT, own_name
from flowsim.sources import sources_table
from flowsim.trade import net_exports

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = ["ReportFigure", "render_report", "write_figures", "write_report"]

# Marks a page as flowsim's, so that writing a report replaces only an earlier report.
GENERATOR = f'<meta name="generator" content="flowsim {__version__}">'
GENERATOR_MARK = b'<meta name="generator" content="flowsim '

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.meta { color: #555; font-size: 0.9em; } code { font-size: 0.9em; }
ul.findings { font-size: 1.05em; line-height: 1.5; } p.note { color: #7a4b00; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def embed_figure(fig: Figure, caption: str, svg: bytes | None = None) -> str:
    """The figure as an SVG image in the page (``svg``, if already drawn). An image in
    a data URI cannot load anything, and its ids cannot clash with the other figures'."""
    data = base64.b64encode(svg if svg is not None else svg_and_box(fig)[0]).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the report: the name of its files, its caption, the figure and the
    SVG the page embeds, so that the files and the page show the same drawing."""

    name: str
    caption: str
    figure: Figure
    svg: bytes
    bbox: Bbox  # the crop of the SVG, which a PNG shares


def _figure(name: str, fig: Figure, caption: str, drawn: list[ReportFigure] | None) -> str:
    svg, bbox = svg_and_box(fig)
    if drawn is not None:
        drawn.append(ReportFigure(name, caption, fig, svg, bbox))
    return embed_figure(fig, caption, svg)


def write_figures(
    folder: str | Path, figures: Iterable[ReportFigure], png: bool = False, dpi: int = 110
) -> list[Path]:
    """Write each figure as ``<name>.svg`` (the report's drawing), and with ``png`` as
    ``<name>.png`` too (a second drawing of each, rasterised), into ``folder``, a
    folder being built (a run folder's ``figures/``, before it appears)."""
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    written = []
    for figure in figures:
        svg = folder / f"{figure.name}.svg"
        svg.write_bytes(figure.svg)
        written.append(svg)
        if png:
            path = folder / f"{figure.name}.png"
            path.write_bytes(png_bytes(figure.figure, figure.bbox, dpi))
            written.append(path)
    return written


def _table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    formats = formats or {}
    head = "".join(
        f'<th class="{"text" if not pd.api.types.is_numeric_dtype(frame[c]) else ""}">{_e(c)}</th>'
        for c in frame.columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column, value in row.items():
            if isinstance(value, float):
                text = "\u2013" if pd.isna(value) else formats.get(column, "{:,.1f}").format(value)
                cells.append(f"<td>{_e(text)}</td>")
            else:
                cells.append(f'<td class="text">{_e(value)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _cited_rows(ids: list[str]) -> list[str]:
    """The rows of the sources table the scenario cites, each row with its id as an
    anchor that the sources and assumptions above link to: what a reader needs to
    check a figure without the repository."""
    if not ids:
        return []
    table = sources_table()
    columns = ("id", "figure", "value", "published", "where")
    rows = "".join(
        f'<tr id="source-{_e(r.id)}">'
        + "".join(f'<td class="text">{_e(getattr(r, c))}</td>' for c in columns)
        + "</tr>"
        for r in (table[i] for i in ids if i in table)
    )
    head = "".join(f'<th class="text">{c}</th>' for c in columns)
    parts = [
        "<h3>The rows of flowsim's sources table that these scenario files cite</h3>",
        "<p>flowsim ships the whole table as <code>sources.md</code> "
        "(<code>flowsim examples copy</code> writes it).</p>",
        f"<table><tr>{head}</tr>{rows}</table>",
    ]
    missing = [i for i in ids if i not in table]
    if missing:
        parts.append(f"<p>Cited but not in the table: {_e(', '.join(missing))}.</p>")
    return parts


def _linked(text: str, ids: list[str]) -> str:
    """``text`` escaped, each cited id in it a link to its row below."""
    html = _e(text)
    if not ids:
        return html
    pattern = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))
    return pattern.sub(lambda m: f'<a href="#source-{m.group(0)}">{m.group(0)}</a>', html)


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def _interval(ci: Any) -> str:
    return f"[{ci[0]:,.1f}, {ci[1]:,.1f}]"


def _economy(results: Results, summary: dict[str, Any]) -> list[str]:
    """Production by mine, the prices paid along the chain, reserves and rents."""
    parts = ["<h2>Production by mine</h2>"]
    produced = summary["production_kg_by_mine"]
    parts.append(
        _table(
            pd.DataFrame(
                {
                    "mine": list(produced),
                    "kg": list(produced.values()),
                    **_interval_column(summary, "production_kg_by_mine", produced),
                }
            )
        )
    )
    costs = {
        "transport (routes' cost per kg)": "transport_cost_usd",
        "black-market fuel premium (mines under a fuel cut)": "black_market_fuel_premium_usd",
    }
    if any(summary[key] for key in costs.values()):
        parts.append("<h2>Costs</h2>")
        rows = {
            "cost": list(costs),
            "USD million": [summary[key] / 1e6 for key in costs.values()],
        }
        if summary["replications"] >= 2:
            rows["95% interval (USD million)"] = [
                _interval([v / 1e6 for v in summary["ci95"][key]]) for key in costs.values()
            ]
        parts.append(_table(pd.DataFrame(rows), {"USD million": "{:,.2f}"}))
    prices = results.prices_monthly
    if len(prices):
        means = prices.groupby(["node", "month"], sort=False)[["usd_per_kg", "margin_usd_per_kg"]]
        means = means.mean().reset_index()
        first, last = means["month"].min(), means["month"].max()
        table = pd.DataFrame(
            {
                "node": means.loc[means["month"] == first, "node"].to_numpy(),
                f"USD/kg {first:%Y-%m}": means.loc[
                    means["month"] == first, "usd_per_kg"
                ].to_numpy(),
                f"USD/kg {last:%Y-%m}": means.loc[means["month"] == last, "usd_per_kg"].to_numpy(),
                f"margin USD/kg {last:%Y-%m}": means.loc[
                    means["month"] == last, "margin_usd_per_kg"
                ].to_numpy(),
            }
        )
        parts.append("<h2>Prices along the chain</h2>")
        parts.append(
            "<p>What each node pays for a kg of fine gold (a mine: receives for a kg of its "
            "doré) on the first of the month, and what it keeps of it.</p>"
        )
        parts.append(_table(table, {c: "{:,.0f}" for c in table.columns}))
    if summary["reserve_kg_end_by_node"]:
        levels = results.reserves.groupby(["node", "month"], sort=False)["kg"].mean()
        levels = levels.reset_index()
        parts.append("<h2>Reserves (kg at the end of the month)</h2>")
        wide = levels.pivot(index="month", columns="node", values="kg").reset_index()
        wide["month"] = wide["month"].dt.strftime("%Y-%m")
        parts.append(_table(wide))
    if summary["rents_usd_by_node"]:
        rents = summary["rents_usd_by_node"]
        parts.append("<h2>Rents: what each node earned</h2>")
        parts.append(
            _table(
                pd.DataFrame(
                    {"node": list(rents), "USD million": [v / 1e6 for v in rents.values()]}
                ),
                {"USD million": "{:,.2f}"},
            )
        )
    return parts


def _declared(results: Results, summary: dict[str, Any]) -> list[str]:
    """What customs and buyers saw against what happened: declared exports against
    production, mirror gaps, gold taken on clean papers, and gold that came through hubs."""
    exports = summary["declared_exports_kg_by_jurisdiction"]
    if not exports and results.trade_statistics.empty:
        return []
    parts = ["<h2>Declared against true</h2>"]
    parts.append(
        "<p>What customs recorded from the papers (<code>trade_statistics</code>), against "
        "what the mines produced and what partners took. A jurisdiction that declares more "
        "than it mines exports gold smuggled in and re-papered.</p>"
    )
    against = summary["declared_exports_less_production_kg_by_jurisdiction"]
    imports = summary["declared_imports_kg_by_jurisdiction"]
    where = results.nodes.set_index("node")["jurisdiction"]
    produced: dict[str, float] = {}
    for mine, kg in summary["production_kg_by_mine"].items():
        produced[where[mine]] = produced.get(where[mine], 0.0) + kg
    codes = sorted(set(exports) | set(against) | set(imports))
    parts.append(
        _table(
            pd.DataFrame(
                {
                    "jurisdiction": codes,
                    "declared exports kg": [exports.get(c, 0.0) for c in codes],
                    "production kg": [produced.get(c, 0.0) for c in codes],
                    "declared less production kg": [against.get(c, 0.0) for c in codes],
                    "declared imports kg": [imports.get(c, 0.0) for c in codes],
                }
            ),
            {"declared less production kg": "{:+,.1f}"},
        )
    )
    crossed = _crossings(results)
    if len(crossed):
        parts.append(
            "<h3>Crossings: what moved against what customs recorded, kg</h3>"
            "<p>Gold shipped across each border, and what the exporter's and the "
            "importer's customs recorded of it; smuggled and paperless gold is the "
            "difference.</p>"
        )
        parts.append(_table(crossed))
    gaps = summary["mirror_gap_kg_by_pair"]
    if gaps:
        parts.append(
            "<h3>Mirror gaps: the importer's reported imports less the exporter's reported "
            "exports</h3>"
        )
        pairs = sorted(gaps, key=lambda name: -abs(gaps[name]))
        parts.append(
            _table(
                pd.DataFrame(
                    {
                        "exporter": [p.split("_to_")[0] for p in pairs],
                        "importer": [p.split("_to_")[1] for p in pairs],
                        "gap kg": [gaps[p] for p in pairs],
                    }
                ),
                {"gap kg": "{:+,.1f}"},
            )
        )
    checks = summary["due_diligence_kg_by_partner"]
    exposure = summary["exposure_by_partner"]
    parts.append("<h3>What partners took without knowing, and what they refused</h3>")
    parts.append(
        _table(
            pd.DataFrame(
                {
                    "partner": list(exposure),
                    "received kg": [e["received_kg"] for e in exposure.values()],
                    "accepted as clean kg": [e["accepted_as_clean_kg"] for e in exposure.values()],
                    "accepted as clean share": [
                        e["accepted_as_clean_share"] for e in exposure.values()
                    ],
                    "refused on papers kg": [
                        checks.get(p, {}).get("refused_on_papers", 0.0) for p in exposure
                    ],
                    "refused on detection kg": [
                        checks.get(p, {}).get("refused_on_detection", 0.0) for p in exposure
                    ],
                }
            ),
            {"accepted as clean share": "{:.3f}"},
        )
    )
    routes = results.exposure_by_destination
    through = routes[routes["node"] != routes["first_destination"]]
    if len(through):
        keys = ["node", "first_destination"]
        columns = ["received_kg", "sanctioned_jurisdiction_share", "sanctioned_entity_share"]
        table = through.groupby(keys, sort=False)[[*columns, "accepted_as_clean_share"]].mean()
        table = table.reset_index().rename(columns={"node": "partner", "first_destination": "via"})
        parts.append("<h3>Gold that reached a partner through a hub</h3>")
        parts.append(_table(table, {c: "{:.3f}" for c in table.columns if c.endswith("share")}))
    return parts


def _crossings(results: Results) -> pd.DataFrame:
    """By pair of jurisdictions: kg shipped across the border (the truth) and what each
    side's customs recorded of it, means over replications."""
    where = results.nodes.set_index("node")["jurisdiction"]
    routes = results.routes.set_index("route")
    source = routes["from_node"].map(where)
    target = routes["to_node"].map(where)
    crossing = routes.index[source != target]
    ledger = results.ledger
    shipped = ledger[(ledger["event"] == "shipped") & ledger["route"].isin(crossing)]
    route = shipped["route"].astype(str)
    pairs = pd.DataFrame(
        {"exporter": route.map(source).to_numpy(), "importer": route.map(target).to_numpy()}
    )
    moved = shipped["kg"].groupby([pairs["exporter"].values, pairs["importer"].values]).sum()
    trade = results.trade_statistics
    out = net_exports(trade)
    exported = out.groupby(["reporterISO", "partnerISO"])["netWgt"].sum()
    into = trade[trade["flowCode"] == "M"]
    imported = into.groupby([into["partnerISO"], into["reporterISO"]])["netWgt"].sum()
    replications = results.replications
    rows = [
        {
            "exporter": a,
            "importer": b,
            "shipped kg": kg / replications,
            "exporter recorded kg": exported.get((a, b), 0.0) / replications,
            "importer recorded kg": imported.get((a, b), 0.0) / replications,
        }
        for (a, b), kg in moved.items()
    ]
    return pd.DataFrame(rows)


def _interval_column(
    summary: dict[str, Any], section: str, keys: Iterable[str]
) -> dict[str, list[str]]:
    """The 95% interval column of ``section``'s figures, or no column with one
    replication, whose figures have no interval."""
    if summary["replications"] < 2:
        return {}
    return {"95% interval": [_interval(summary["ci95"][section][k]) for k in keys]}


def _findings(
    results: Results, baseline: Results | None, drawn: list[ReportFigure] | None
) -> list[str]:
    """The answer first: the key findings in sentences, then the headline figure."""
    parts = ["<h2>Key findings</h2>", '<ul class="findings">']
    parts.extend(f"<li>{_e(h.text)}</li>" for h in headlines(results, baseline))
    parts.append("</ul>")
    note = interval_note(
        min(results.replications, baseline.replications)
        if baseline is not None
        else results.replications
    )
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    if baseline is not None:
        figure = plots.export_changes(compare_exports(baseline, results), results, baseline)
        caption = f"Change in exports by partner against {baseline.meta.scenario}"
        parts.append(_figure("export_changes", figure, caption, drawn))
    else:
        figure = plots.monthly_exports(results)
        parts.append(
            _figure("monthly_exports", figure, "Monthly exports by partner, tonnes", drawn)
        )
    return parts


def _exports(results: Results, summary: dict[str, Any], baseline: Results | None) -> list[str]:
    parts = ["<h2>Exports by partner</h2>"]
    exported = summary["exports_kg_by_partner"]
    table = pd.DataFrame(
        {
            "partner": list(exported),
            "kg": list(exported.values()),
            **_interval_column(summary, "exports_kg_by_partner", exported),
            "USD million": [v / 1e6 for v in summary["exports_usd_by_partner"].values()],
        }
    )
    parts.append(_table(table))
    if baseline is not None:
        compared = compare_exports(baseline, results)
        shown = compared[["partner", "baseline_kg", "scenario_kg", "change_kg", "change_pct"]]
        shown = shown.copy()
        if "change_pct_low" in compared:
            shown["change 95% interval"] = [
                _pct_interval(low, high)
                for low, high in zip(
                    compared["change_pct_low"], compared["change_pct_high"], strict=True
                )
            ]
        parts.append(f"<p>Against {_e(baseline.meta.scenario)}:</p>")
        parts.append(_table(shown, {"change_pct": "{:+.1f}%", "change_kg": "{:+,.1f}"}))
    return parts


def _pct_interval(low: float, high: float) -> str:
    if pd.isna(low):
        return "none (no exports in the baseline)"
    return f"[{low:+.1f}%, {'+inf' if high == float('inf') else f'{high:+.1f}%'}]"


def _exposure(results: Results, summary: dict[str, Any], baseline: Results | None) -> list[str]:
    parts = ["<h2>Exposure of partners' imports (share of mass received)</h2>"]
    if baseline is not None:
        compared = compare_exposure(baseline, results)
        shown = compared[["partner", "metric", "baseline", "scenario", "change_points"]].copy()
        if "change_points_low" in compared:
            shown["change 95% interval (points)"] = [
                f"[{low:+.1f}, {high:+.1f}]"
                for low, high in zip(
                    compared["change_points_low"], compared["change_points_high"], strict=True
                )
            ]
        shares = {"baseline": "{:.3f}", "scenario": "{:.3f}", "change_points": "{:+.1f}"}
        parts.append(_table(shown, shares))
        return parts
    rows = []
    for partner, figures in summary["exposure_by_partner"].items():
        row: dict[str, Any] = {"partner": partner}
        for key, value in figures.items():
            if key.endswith("_share"):
                row[key] = value
                if summary["replications"] >= 2:
                    ci = summary["ci95"]["exposure_by_partner"][partner][key]
                    row[f"{key} 95%"] = f"[{ci[0]:.3f}, {ci[1]:.3f}]"
        rows.append(row)
    exposure = pd.DataFrame(rows)
    parts.append(_table(exposure, {c: "{:.3f}" for c in exposure.columns}))
    return parts


def render_report(
    results: Results,
    baseline: Results | None = None,
    *,
    figures: list[ReportFigure] | None = None,
    outlines: list | None = None,
) -> str:
    """The report as an HTML string: the key findings first (against ``baseline`` if
    given), then the tables and figures they come from, then the run's checks. Each
    figure drawn is appended to ``figures``, if given, to be written as files. The map
    of routes, where nodes have places, draws ``outlines`` (:func:`flowsim.maps.read_outlines`)
    under them."""
    meta = results.meta
    summary = results.summary()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        GENERATOR,
        f"<title>flowsim report: {_e(meta['scenario'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>flowsim report: {_e(meta['scenario'])}</h1>",
        f"<p>{_e(meta.get('description', ''))}</p>",
        f'<p class="meta">{_e(meta["start"])} to {_e(meta["end"])}; seed {_e(meta["seed"])}; '
        f"{_e(results.replications)} replication(s)"
        + (f"; compared with {_e(baseline.meta['scenario'])}" if baseline is not None else "")
        + "</p>",
    ]
    parts.extend(_findings(results, baseline, figures))
    parts.extend(_exports(results, summary, baseline))
    parts.extend(_exposure(results, summary, baseline))

    parts.append("<h2>Figures</h2>")
    shown = []
    if baseline is not None:  # alone, the monthly exports are the headline figure above
        shown += [
            (
                "monthly_exports",
                plots.monthly_exports(results, baseline),
                "Monthly exports by partner against the baseline, tonnes",
            ),
            (
                "monthly_change_against_baseline",
                plots.exports_difference(results, baseline),
                "Change against the baseline",
            ),
        ]
    shown += [
        ("flows", flows.flow_diagram(results), "Flows from mines to partners, tonnes shipped"),
        ("exposure", plots.exposure_chart(results), "Exposure of each partner's imports"),
        ("seizures_monthly", plots.seizures_chart(results), "Seizures per month"),
        (
            "production_by_mine",
            plots.production_chart(results),
            "Production by mine, with raids and fuel cuts",
        ),
        (
            "refusals_and_waiting",
            plots.holds_chart(results),
            "Refusals, and gold waiting at mines, buyers and refiners",
        ),
        (
            "policy_timeline",
            plots.policy_timeline(results),
            "Policies: when each acts and how strongly",
        ),
    ]
    routes_map = maps.route_map(results, outlines)
    if routes_map is not None:
        shown.append(
            ("route_map", routes_map, "The routes on the map, as wide as the tonnes shipped")
        )
    parts.extend(_figure(name, fig, caption, figures) for name, fig, caption in shown)

    parts.extend(_economy(results, summary))
    parts.extend(_declared(results, summary))

    parts.append("<h2>Policies</h2>")
    policies = pd.DataFrame(meta.get("policies", []), columns=["kind", "name", "enabled", "from"])
    parts.append(_table(policies.astype(str)) if not policies.empty else "<p>None.</p>")

    parts.append("<h2>Sources</h2>")
    cited = [i for i in meta.get("citations", []) if i in sources_table()]
    sources = meta.get("sources", [])
    if sources:
        parts.append("<ul>" + "".join(f"<li>{_linked(x, cited)}</li>" for x in sources) + "</ul>")
    else:
        parts.append("<p>None given.</p>")
    parts.extend(_cited_rows(meta.get("citations", [])))
    parts.append("<h2>Assumptions marked in the scenario files</h2>")
    assumptions = meta.get("assumptions", [])
    if assumptions:
        items = (_linked(f"{a['file']}:{a['line']}: {a['text']}", cited) for a in assumptions)
        parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    else:
        parts.append("<p>None marked.</p>")

    parts.append("<h2>Checks: the mass balance (kg)</h2>")
    parts.append(
        "<p>Every kg the run began with or produced is exported, seized, lost, in stock or "
        "in transit at the end; flowsim checks that these terms add up in every "
        "replication.</p>"
    )
    totals = pd.DataFrame(
        {
            "term": list(summary["totals_kg"]),
            "kg (mean)": list(summary["totals_kg"].values()),
            **_interval_column(summary, "totals_kg", summary["totals_kg"]),
        }
    )
    parts.append(_table(totals))

    parts.append("<h2>Manifest</h2>")
    manifest = pd.DataFrame(
        {
            "field": ["flowsim version", "scenario hash", "seed", "replications", "wall time (s)"],
            "value": [
                meta.get("flowsim_version"),
                meta.get("scenario_hash"),
                meta.get("seed"),
                meta.get("replications"),
                f"{meta.get('wall_seconds', float('nan')):.2f}",
            ],
        }
    )
    parts.append(_table(manifest.astype(str)))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    results: Results,
    path: str | Path,
    baseline: Results | None = None,
    *,
    outlines: str | Path | None = None,
) -> Path:
    """Write the report atomically to ``path`` and return it. A file already at
    ``path`` is replaced only if it is a flowsim report; written into a run
    folder as ``report.html``, the report is added to the folder's manifest. The map
    of routes draws the country outlines of the GeoJSON file ``outlines``, if given."""
    path = Path(path)
    rings = maps.read_outlines(outlines) if outlines is not None else None
    data = render_report(results, baseline, outlines=rings).encode("utf-8")
    replace_signed_file(path, data, signed=lambda head: GENERATOR_MARK in head, what="the report")
    if path.name == REPORT and (path.parent / MANIFEST).is_file():
        try:
            add_to_manifest(path.parent, REPORT, own_name)
        except FlowsimError:
            pass  # not a run folder of this format: nothing lists its files
        except OSError as exc:
            raise FlowsimError(
                f"wrote {path}, but cannot record it in {path.parent / MANIFEST}: "
                f"{exc.strerror or exc}"
            ) from None
    return path
