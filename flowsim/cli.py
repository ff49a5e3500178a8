"""The ``flowsim`` command: a thin shell over the public API.

It uses only what ``flowsim.__all__`` exports, each name when a command needs it:
``flowsim --version`` imports neither pandas nor SimPy.

Exit codes: 0 success; 1 an expectation failed; 2 a problem with the user's
input (scenario, options, files); 3 a broken mass balance, which is a bug in
flowsim; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). A bare ``flowsim``
prints its help and exits 0: it is a question, not a mistake.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import numbers
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flowsim
from flowsim import (  # cheap: the package imports what it exports on first use
    MAX_SEED,
    FlowsimError,
    FlowsimWarning,
    MassBalanceError,
    ScenarioError,
    __version__,
    check_path,
    printable,
    spelling_hint,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]


def echo(*values: object, file: Any = None, flush: bool = False) -> None:
    """print(), with control characters in the text shown as escapes: names and
    paths come from users' files and may hold anything."""
    text = printable(" ".join(str(v) for v in values))
    stream = file if file is not None else sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    # A terminal that cannot show a character gets its escape, not an error after the work.
    text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    print(text, file=stream, flush=flush)


EXIT_EXPECTATION = 1
EXIT_USER_ERROR = 2
EXIT_BALANCE = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_CODES_HELP = f"""\
exit codes:
  0    success
  {EXIT_EXPECTATION}    an [[expect]] rule failed
  {EXIT_USER_ERROR}    a problem with the input: a scenario, sweep or calibration file, an
       option, a missing or unreadable file or folder
  {EXIT_BALANCE}    a broken mass balance: a bug in flowsim
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_TERMINATED}  terminated (SIGTERM)
"""
# A file so named is a calibration file, beside the scenario it calibrates.
CALIBRATION_SUFFIX = ".calibration.toml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"flowsim: error: {message}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse lists every choice; a suggestion of the one meant reads better.
        if action.choices is not None and value not in action.choices:
            suggestion = spelling_hint(str(value), [str(c) for c in action.choices])
            if action.dest == "command":
                raise argparse.ArgumentError(None, f"unknown command {value!r}{suggestion}")
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{suggestion}")
        super()._check_value(action, value)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="flowsim",
        description="Simulate illicit gold flows under sanctions, raids and fuel restrictions.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flowsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def scenario_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a value of the scenario, e.g. policies.sanctions.eo13850.enabled=false",
        )

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
        p.add_argument(
            "--replications",
            type=_positive_int,
            default=1,
            help="number of replications (default 1)",
        )

    def executor_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workers",
            type=_positive_int,
            help="processes to use; 1 runs in this process (default: all cores)",
        )
        p.add_argument(
            "--dask",
            metavar="ADDRESS",
            help="run on Dask: 'local' or a trusted scheduler tcp://host:port",
        )

    run = sub.add_parser("run", help="run a scenario and write a run folder")
    run.add_argument("scenario", type=Path, help="scenario file (TOML)")
    run_options(run)
    run.add_argument(
        "--out", type=Path, help="run folder to write (default results/<scenario name>)"
    )
    scenario_options(run)
    run.add_argument(
        "--junit", type=Path, metavar="FILE", help="write the expectations as JUnit XML"
    )
    run.add_argument(
        "--no-report", action="store_true", help="do not write report.html in the run folder"
    )
    run.add_argument(
        "--posterior",
        type=Path,
        metavar="CALIB_DIR",
        help="run over a calibration's posterior: each replication draws its parameters",
    )
    run.add_argument(
        "--draws",
        type=_positive_int,
        help="with --posterior: posterior draws, one replication each (default 100)",
    )

    report = sub.add_parser("report", help="write a self-contained HTML report of a run folder")
    report.add_argument("run_dir", type=Path, help="run folder written by flowsim run")
    report.add_argument(
        "--baseline", type=Path, metavar="RUN_DIR", help="run folder to compare with"
    )
    report.add_argument("--out", type=Path, help="HTML file to write (default RUN_DIR/report.html)")

    schema = sub.add_parser(
        "schema", help="print the JSON Schema of scenario, sweep or calibration files"
    )
    schema.add_argument(
        "kind", nargs="?", choices=["scenario", "sweep", "calibration"], default="scenario"
    )
    schema.add_argument(
        "--partial",
        action="store_true",
        help="scenario schema with no required keys, for files that use extends",
    )

    validate = sub.add_parser(
        "validate",
        help="check a scenario file (or a *.calibration.toml file) and print OK or its errors",
    )
    validate.add_argument("scenario", type=Path)
    scenario_options(validate)

    compare = sub.add_parser(
        "compare", help="exports by partner of a scenario against its baseline"
    )
    compare.add_argument("baseline", type=Path, help="scenario file or run folder")
    compare.add_argument("scenario", type=Path, help="scenario file or run folder")
    run_options(compare)
    compare.add_argument("--json", action="store_true", help="print the table as JSON")

    mirror = sub.add_parser(
        "mirror", help="a run's declared trade statistics beside published ones, with the gaps"
    )
    mirror.add_argument("run_dir", type=Path, help="run folder written by flowsim run")
    mirror.add_argument(
        "data", type=Path, help="CSV of trade statistics (UN Comtrade or comtradeapicall layout)"
    )
    mirror.add_argument("--json", action="store_true", help="print the table as JSON")

    sweep = sub.add_parser("sweep", help="run a sweep file: many runs over parameters")
    sweep.add_argument("sweep_file", type=Path, help="sweep file (TOML)")
    sweep.add_argument("--out", type=Path, help="sweep folder (default results/sweeps/<name>)")
    executor_options(sweep)
    sweep.add_argument(
        "--resume", action="store_true", help="continue a sweep folder, skipping finished runs"
    )
    sweep.add_argument(
        "--overwrite", action="store_true", help="delete an earlier sweep folder at --out first"
    )
    sweep.add_argument(
        "--junit", type=Path, metavar="FILE", help="write the expectations as JUnit XML"
    )
    sweep.add_argument(
        "--sensitivity", metavar="METRIC", help="print a tornado table for this metric"
    )

    calibrate = sub.add_parser(
        "calibrate",
        help="fit a scenario's unknowns to published figures (ABC-SMC; needs flowsim[calibrate])",
    )
    calibrate.add_argument("calibration_file", type=Path, help="calibration file (TOML)")
    calibrate.add_argument(
        "--out", type=Path, help="calibration folder (default results/calibrations/<name>)"
    )
    executor_options(calibrate)
    calibrate.add_argument(
        "--resume", action="store_true", help="continue an interrupted calibration to --out"
    )
    calibrate.add_argument(
        "--overwrite",
        action="store_true",
        help="start again: replace the calibration folder at --out, or its interrupted work",
    )
    return parser


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _seed(text: str) -> int:
    value = _non_negative_int(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**63 - 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    with warnings.catch_warnings(), _terminate_as_interrupt():
        warnings.simplefilter("always", FlowsimWarning)
        warnings.showwarning = _show_warning
        return _main(args)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that cleanup runs as for Ctrl-C."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, FlowsimWarning):
        echo(f"warning: {message}", file=sys.stderr)
    else:
        echo(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr)


def _main(args: argparse.Namespace) -> int:
    try:
        commands = {
            "run": _run,
            "validate": _validate,
            "compare": _compare,
            "mirror": _mirror,
            "sweep": _sweep,
            "report": _report,
            "schema": _schema,
            "calibrate": _calibrate,
        }
        return commands[args.command](args)
    except ScenarioError as exc:
        for issue in exc.issues:
            echo(f"error: {issue}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MassBalanceError as exc:
        echo(f"flowsim: internal error: {exc}", file=sys.stderr)
        return EXIT_BALANCE
    except FlowsimError as exc:
        echo(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Terminated:
        echo("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        echo("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `flowsim compare ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, UnicodeError) as exc:
        # A path the system refused (too long, not encodable, no permission) that no
        # check above named: still the user's to fix, and still no traceback.
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        echo(f"error: {where}{reason}", file=sys.stderr)
        return EXIT_USER_ERROR


def _run(args: argparse.Namespace) -> int:
    for path, what in ((args.out, "cannot write results to"), (args.junit, "--junit")):
        if path is not None:
            check_path(path, what, temporary=True)
    if args.draws is not None and args.posterior is None:
        raise FlowsimError("--draws needs --posterior CALIB_DIR")
    if args.posterior is not None and args.replications != 1:
        raise FlowsimError(
            "--posterior runs one replication a draw: give --draws, not --replications"
        )
    scenario = flowsim.load_scenario(args.scenario, args.overrides)
    if args.junit and not scenario.expect:
        raise FlowsimError(f"--junit: {args.scenario} has no [[expect]] rules")
    posterior = flowsim.load_posterior(args.posterior) if args.posterior is not None else None
    replications = args.replications if posterior is None else (args.draws or 100)
    results = flowsim.simulate(
        scenario, seed=args.seed, replications=replications, posterior=posterior
    )
    out = args.out if args.out is not None else Path("results") / scenario.name
    extras = (
        None
        if args.no_report
        # Written straight into the folder being built: it appears with the run, or not at all.
        else (
            lambda folder: (folder / "report.html").write_bytes(
                flowsim.render_report(results).encode()
            )
        )
    )
    results.save(out, extras=extras)
    summary = results.summary()
    over = f", over {posterior.calibration}'s posterior" if posterior is not None else ""
    echo(
        f"{scenario.name}: {summary['start']} to {summary['end']}, seed {args.seed}, "
        f"{replications} replication(s){over}"
    )
    echo(_summary_table(summary))
    echo(f"wrote {out}")
    if not scenario.expect:
        return 0
    table = results.metrics().assign(scenario=scenario.name, point=0)
    return _report_expectations(scenario.expect, table, args.junit, scenario.name)


def _report_bytes(results: flowsim.Results) -> bytes:
    return flowsim.render_report(results).encode()


def _report_expectations(rules, table: pd.DataFrame, junit: Path | None, suite: str) -> int:
    verdicts = flowsim.evaluate_expectations(rules, table)
    echo("expectations:")
    for verdict in verdicts:
        echo(f"  {verdict.line()}")
    if junit is not None:
        flowsim.write_junit(verdicts, junit, suite)
        echo(f"wrote {junit}")
    failed = sum(not v.passed for v in verdicts)
    if failed:
        echo(f"{failed} of {len(verdicts)} expectation(s) failed", file=sys.stderr)
        return EXIT_EXPECTATION
    return 0


def _sweep(args: argparse.Namespace) -> int:
    sweep, folder = flowsim.load_sweep_file(args.sweep_file)
    out = args.out if args.out is not None else Path("results") / "sweeps" / sweep.sweep.name
    if args.overwrite and args.resume:
        raise FlowsimError("--overwrite and --resume contradict each other; choose one")
    if args.junit and not sweep.expect:
        raise FlowsimError(f"--junit: {args.sweep_file} has no [[expect]] rules")
    check_path(out, "cannot write the sweep to")
    if args.junit is not None:
        check_path(args.junit, "--junit", temporary=True)
    if args.dask is not None:
        executor = flowsim.dask_executor(args.dask, args.workers)
        where = f"Dask ({args.dask})"
    elif args.workers == 1:
        executor, where = flowsim.serial_executor, "this process"
    else:
        executor = flowsim.pool_executor(args.workers)
        where = f"{args.workers or flowsim.available_cores()} processes"
    echo(f"sweep {sweep.sweep.name}: {sweep.run_count()} runs on {where}, into {out}")
    with Progress() as progress:
        report = flowsim.run_sweep(
            sweep,
            folder,
            out,
            executor=executor,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=progress.update,
        )
    echo(
        f"done: {report.ran} run(s) in {report.seconds:.1f} s"
        + (f", {report.done_before} finished before" if report.done_before else "")
    )
    if args.sensitivity:
        echo(f"sensitivity of {args.sensitivity}:")
        echo(
            _format(
                flowsim.tornado(flowsim.load_sweep(out, [args.sensitivity]), args.sensitivity), {}
            )
        )
    if not sweep.expect:
        return 0
    # Only the metrics the rules name are read back: a large sweep stays small in memory.
    table = flowsim.load_sweep(out, {rule.metric for rule in sweep.expect})
    return _report_expectations(sweep.expect, table, args.junit, sweep.sweep.name)


class Progress:
    """A progress bar on a terminal; plain lines at most every 10 s elsewhere (CI logs)."""

    def __init__(self) -> None:
        self.bar = None
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.first: tuple[float, int] | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, done: int, total: int) -> None:
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                # A terminal that reports no width would get an empty bar.
                width = shutil.get_terminal_size((80, 20)).columns or 80
                self.bar = tqdm(
                    total=total, initial=done, unit="run", file=sys.stderr, ncols=min(width, 100)
                )
            else:
                self.bar.update(done - self.bar.n)
            return
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)
        if done < total and now - self.last < 10.0:
            return
        self.last = now
        elapsed = now - self.first[0]
        rate = (done - self.first[1]) / elapsed if elapsed > 0 else 0.0
        eta = f", about {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
        echo(f"sweep: {done}/{total} runs ({rate:.2f} runs/s{eta})", file=sys.stderr, flush=True)


def _calibrate(args: argparse.Namespace) -> int:
    import pandas as pd

    if args.dask is not None and args.workers is not None and args.dask != "local":
        raise FlowsimError(
            "--workers sets the size of a local cluster: drop it with --dask ADDRESS"
        )
    run = flowsim.calibrate(
        args.calibration_file,
        out=args.out,
        workers=args.workers,
        dask=args.dask,
        resume=args.resume,
        overwrite=args.overwrite,
    )
    summary = json.loads((run.folder / "summary.json").read_text())
    echo(
        f"{summary['calibration']}: {run.generations} generation(s), stopped on its {run.stop}, "
        f"{run.simulations:,} simulations in {run.seconds:.0f} s"
    )
    parameters = pd.DataFrame.from_dict(summary["parameters"], orient="index")
    parameters.index.name = "parameter"
    shown = {"median": "{:.4g}", "q05": "{:.4g}", "q95": "{:.4g}", "width_ratio": "{:.2f}"}
    echo(_format(parameters.reset_index(), shown))
    targets = pd.DataFrame.from_dict(summary["targets"], orient="index")
    targets.index.name = "target"
    shown = {name: "{:,.4g}" for name in ("observed", "median", "q05", "q95")}
    echo(_format(targets.reset_index(), shown))
    for line in summary["warnings"]:
        echo(f"warning: {line}", file=sys.stderr)
    echo(f"wrote {run.folder}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    if args.kind in ("sweep", "calibration"):
        if args.partial:
            raise FlowsimError("--partial applies to the scenario schema only")
        schema = flowsim.sweep_schema() if args.kind == "sweep" else flowsim.calibration_schema()
        echo(json.dumps(schema, indent=2))
    else:
        echo(json.dumps(flowsim.scenario_schema(partial=args.partial), indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:
    results = flowsim.Results.load(args.run_dir)
    baseline = flowsim.Results.load(args.baseline) if args.baseline is not None else None
    out = args.out if args.out is not None else args.run_dir / "report.html"
    flowsim.write_report(results, out, baseline)
    echo(f"wrote {out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    if args.scenario.name.endswith(CALIBRATION_SUFFIX):
        if args.overrides:
            raise FlowsimError(
                "--set changes a scenario, not a calibration file: set it in [calibration] set"
            )
        calibration, base = flowsim.load_calibration_file(args.scenario)  # needs no pyabc
        fitted = sum(not t.held_out for t in calibration.targets)
        echo(
            f"OK: {args.scenario} ({calibration.calibration.name}: calibrates {base.name}, "
            f"{len(calibration.parameters)} parameters, {fitted} fitted targets, "
            f"{len(calibration.targets) - fitted} held out)"
        )
        return 0
    scenario = flowsim.load_scenario(args.scenario, args.overrides)
    echo(
        f"OK: {args.scenario} ({scenario.name}: {len(scenario.nodes)} nodes, "
        f"{len(scenario.routes)} routes)"
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    base = _summary_of(args.baseline, args)
    other = _summary_of(args.scenario, args)
    exports = flowsim.compare_exports(base, other)
    exposure = flowsim.compare_exposure(base, other)
    if args.json:
        records = {
            "exports": exports.to_dict(orient="records"),
            "exposure": exposure.to_dict(orient="records"),
        }
        echo(json.dumps(_finite_or_null(records), indent=2, allow_nan=False))
        return 0
    echo(f"exports by partner: {other['scenario']} against {base['scenario']} (kg)")
    echo(_format(exports, {"change_pct": "{:+.1f}%", "change_kg": "{:+,.1f}"}))
    if not exposure.empty:
        echo("\nexposure by partner (share of received mass)")
        shares = {"baseline": "{:.3f}", "scenario": "{:.3f}", "change_points": "{:+.1f} pt"}
        echo(_format(exposure, shares))
    return 0


def _mirror(args: argparse.Namespace) -> int:
    results = flowsim.Results.load(args.run_dir)
    data = flowsim.read_trade_data(args.data)
    if results.trade_statistics.empty:
        raise FlowsimError(
            f"{args.run_dir}: the run has no declared trade statistics: its lots carried no "
            "papers, or nothing crossed a declared border (set simulation.documents = true)"
        )
    table = flowsim.compare_trade(
        results.trade_statistics, data, results.replications, results.start, results.end
    )
    if args.json:
        echo(json.dumps(_finite_or_null(table.to_dict(orient="records")), indent=2))
        return 0
    echo(
        f"declared trade statistics of {results.meta.scenario} (mean of "
        f"{results.replications} replication(s)) against {args.data}"
    )
    shown = table.drop(columns=["source"])
    kg = "{:,.0f}"
    usd = "{:,.3g}"
    echo(
        _format(
            shown,
            {
                "data_kg": kg,
                "model_kg": kg,
                "gap_kg": "{:+,.0f}",
                "data_usd": usd,
                "model_usd": usd,
                "gap_usd": "{:+,.3g}",
            },
        )
    )
    outside = table["model_kg"].isna().sum()
    if outside:
        echo(f"\n{outside} row(s) fall outside the run's calendar: no figure (shown as n/a)")
    skipped = data.attrs.get("skipped_flows", [])
    if skipped:
        echo(f"rows of flows a run does not record were left out: {', '.join(skipped)}")
    echo("gap = model - data; W00 (or WLD) is every partner together")
    return 0


def _finite_or_null(value: Any) -> Any:
    """Strict JSON: a number that is not finite (a change against zero) is null."""
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_null(v) for v in value]
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def _summary_of(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    check_path(path, "cannot read")
    if path.is_dir():
        return flowsim.read_summary(path)
    return flowsim.simulate(path, seed=args.seed, replications=args.replications).summary()


def _summary_table(summary: dict[str, Any]) -> str:
    import pandas as pd  # a run has imported it already

    totals = pd.DataFrame(
        {"kg": list(summary["totals_kg"].values())}, index=list(summary["totals_kg"])
    )
    partners = pd.DataFrame(
        {
            "partner": list(summary["exports_kg_by_partner"]),
            "kg": list(summary["exports_kg_by_partner"].values()),
            "usd_million": [v / 1e6 for v in summary["exports_usd_by_partner"].values()],
        }
    )
    return (
        "totals (kg):\n"
        + _format(totals.reset_index(names="term"), {})
        + "\nexports by partner:\n"
        + _format(partners, {"usd_million": "{:,.1f}"})
    )


def _format(table: pd.DataFrame, formats: dict[str, str]) -> str:
    def cell(col: str, value: Any) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "n/a"
            return formats.get(col, "{:,.1f}").format(value)
        return str(value)

    return table.to_string(
        index=False,
        na_rep="n/a",
        formatters={c: (lambda v, c=c: cell(c, v)) for c in table.columns},
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
