"""The ``flowsim`` command: a thin shell over the public API.

It uses only what ``flowsim.__all__`` exports, each name when a command needs it:
``flowsim --version`` imports neither pandas nor SimPy.

Exit codes: 0 success; 1 an expectation failed; 2 a problem with the user's
input (scenario, options, files); 3 a broken mass balance, which is a bug in
flowsim; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). A bare ``flowsim``
prints its help and exits 0: it is a question, not a mistake.

Output: ``--quiet`` and ``--verbose`` go before or after the command. ``--json``
(``run``, ``validate``) prints one JSON document on stdout and nothing else there,
also when the command fails; the error lines still go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import numbers
import os
import shlex
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
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
# How much a command tells people: --quiet, the default, --verbose.
QUIET, NORMAL, VERBOSE = 0, 1, 2
# The commands whose --json prints a document of what they did, also when they fail.
JSON_COMMANDS = ("run", "validate")
EXIT_CODES_HELP = f"""\
output:
  -q and -v go before or after the command. --quiet prints errors, warnings and
  what was written; --verbose adds the files read and written, timings and every
  warning. run --json and validate --json print one JSON document on stdout, also
  on failure; errors still go to stderr.

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


class UsageError(Exception):
    """A command line argparse refused: main prints it, and a --json document."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # main exits 2, as argparse does, after its usage
        raise UsageError(self, message)

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
    _output_options(parser, default=False)
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
        "--no-report",
        action="store_true",
        help="do not write report.html, nor its figures, in the run folder",
    )
    run.add_argument(
        "--outlines",
        type=Path,
        metavar="GEOJSON",
        help="country outlines for the report's map of routes (a GeoJSON file)",
    )
    shown = run.add_mutually_exclusive_group()
    shown.add_argument(
        "--no-figures",
        action="store_true",
        help="do not write the report's figures as SVG files into RUN_DIR/figures/",
    )
    shown.add_argument(
        "--png",
        action="store_true",
        help="also write each figure as PNG into RUN_DIR/figures/ (a second, rasterised "
        "drawing of each, which more than doubles what the figures cost)",
    )
    compared = run.add_mutually_exclusive_group()
    compared.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE_OR_RUN_DIR",
        help="compare with this scenario file or run folder (default: the scenario's "
        "meta.baseline, run beside --out with the same seed and replications)",
    )
    compared.add_argument(
        "--no-baseline", action="store_true", help="do not run or compare with a baseline"
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
    run.add_argument("--json", action="store_true", help="print what was run and written as JSON")

    report = sub.add_parser("report", help="write a self-contained HTML report of a run folder")
    report.add_argument("run_dir", type=Path, help="run folder written by flowsim run")
    report.add_argument(
        "--baseline", type=Path, metavar="RUN_DIR", help="run folder to compare with"
    )
    report.add_argument("--out", type=Path, help="HTML file to write (default RUN_DIR/report.html)")
    report.add_argument(
        "--outlines",
        type=Path,
        metavar="GEOJSON",
        help="country outlines for the map of routes (a GeoJSON file)",
    )

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario, sweep or calibration files, or of summary.json",
    )
    schema.add_argument(
        "kind",
        nargs="?",
        choices=["scenario", "sweep", "calibration", "summary"],
        default="scenario",
    )
    schema.add_argument(
        "--partial",
        action="store_true",
        help="scenario schema with no required keys, for files that use extends",
    )

    validate = sub.add_parser(
        "validate",
        help="check scenario files (or *.calibration.toml files) and print OK or their errors",
    )
    validate.add_argument("scenario", type=Path, nargs="+")
    scenario_options(validate)
    validate.add_argument(
        "--require-sources",
        action="store_true",
        help="also fail on each figure that cites no row of the sources table and is not "
        "marked as an assumption or as fitted (docs/sources.md)",
    )
    validate.add_argument(
        "--json", action="store_true", help="print the verdict and any errors as JSON"
    )

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
        "--dask-dashboard",
        action="store_true",
        help="with --dask: print the address of Dask's dashboard (--dask local starts one)",
    )
    sweep.add_argument(
        "--resume", action="store_true", help="continue a sweep folder, skipping finished runs"
    )
    sweep.add_argument(
        "--overwrite", action="store_true", help="delete an earlier sweep folder at --out first"
    )
    sweep.add_argument(
        "--no-compact",
        dest="compact",
        action="store_false",
        help="keep one Parquet part a run rather than gathering them into sweep.parquet",
    )
    sweep.add_argument(
        "--junit", type=Path, metavar="FILE", help="write the expectations as JUnit XML"
    )
    sweep.add_argument(
        "--sensitivity", metavar="METRIC", help="print a tornado table for this metric"
    )
    sweep.add_argument(
        "--method",
        choices=["sobol", "morris", "delta", "rbd_fast"],
        help=(
            "with --sensitivity, also SALib's indices (needs flowsim[salib]): sobol on a "
            "sobol design, morris on a morris one, delta or rbd_fast on a sampled one"
        ),
    )

    discover = sub.add_parser(
        "discover",
        help="the boxes of parameters of a sweep in which an outcome happens (PRIM)",
    )
    discover.add_argument("sweep_dir", type=Path, help="sweep folder written by flowsim sweep")
    discover.add_argument("--metric", help="the metric whose mean over replications is judged")
    side = discover.add_mutually_exclusive_group()
    side.add_argument("--below", type=float, metavar="X", help="the outcome: the metric below X")
    side.add_argument("--above", type=float, metavar="X", help="the outcome: the metric above X")
    discover.add_argument(
        "--rule", metavar="NAME", help="the outcome: the sweep's [[expect]] rule NAME fails"
    )
    discover.add_argument("--scenario", help="the scenario, where several vary")
    discover.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        help="the least density of a box: the share of its points where it happens (0.8)",
    )
    discover.add_argument(
        "--out", type=Path, metavar="FILE", help="also draw the boxes into FILE.svg or FILE.png"
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
    examples = sub.add_parser(
        "examples", help="list the example scenarios, sweeps and calibration, or copy them"
    )
    examples.set_defaults(examples_parser=examples)
    actions = examples.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.add_parser("list", help="name each example file and say what it is")
    copy = actions.add_parser(
        "copy",
        help="copy every example, with the sources table they cite, into a folder to start from",
    )
    copy.add_argument(
        "folder", type=Path, help="folder to copy into (created; no file there is replaced)"
    )
    for command in (*sub.choices.values(), *actions.choices.values()):
        # Not set unless given here, so that one given before the command stands.
        _output_options(command, default=argparse.SUPPRESS)
    return parser


def _output_options(parser: argparse.ArgumentParser, default: Any) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print only errors, warnings and what was written",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="print more: the files read and written, timings, every warning",
    )


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
    started = time.monotonic()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.quiet and args.verbose:
            parser.error("--quiet and --verbose contradict each other; choose one")
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        echo(f"flowsim: error: {exc}", file=sys.stderr)
        command = next((word for word in argv if word in JSON_COMMANDS), None)
        if command is not None and "--json" in argv:
            _print_failure(command, None, EXIT_USER_ERROR, [_error_record(str(exc))])
        raise SystemExit(EXIT_USER_ERROR) from None
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    args.verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    args.json = getattr(args, "json", False)
    args.started = started
    with warnings.catch_warnings(), _terminate_as_interrupt():
        warnings.simplefilter("always", FlowsimWarning)
        if args.verbosity == VERBOSE:
            warnings.simplefilter("always")  # every warning, each time, not once a place
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
            "discover": _discover,
            "report": _report,
            "schema": _schema,
            "calibrate": _calibrate,
            "examples": _examples,
        }
        return commands[args.command](args)
    except ScenarioError as exc:
        for issue in exc.issues:
            echo(f"error: {issue}", file=sys.stderr)
        errors = [_error_record(i.message, i.file, i.path) for i in exc.issues]
        return _failed(args, EXIT_USER_ERROR, errors)
    except MassBalanceError as exc:
        echo(f"flowsim: internal error: {exc}", file=sys.stderr)
        return _failed(args, EXIT_BALANCE, [_error_record(f"internal error: {exc}")])
    except FlowsimError as exc:
        echo(f"error: {exc}", file=sys.stderr)
        return _failed(args, EXIT_USER_ERROR, [_error_record(str(exc))])
    except Terminated:
        echo("terminated", file=sys.stderr)
        return _failed(args, EXIT_TERMINATED, [_error_record("terminated")])
    except KeyboardInterrupt:
        echo("interrupted", file=sys.stderr)
        return _failed(args, EXIT_INTERRUPTED, [_error_record("interrupted")])
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
        return _failed(args, EXIT_USER_ERROR, [_error_record(f"{where}{reason}")])


# --- what a command prints -------------------------------------------------------------


def _say(args: argparse.Namespace, *values: object, level: int = NORMAL) -> None:
    """A line for people, printed at ``level`` of verbosity or above. With --json
    the document says it all: only --verbose's lines are printed, on stderr."""
    if args.verbosity < level:
        return
    if not args.json:
        echo(*values)
    elif level == VERBOSE:
        echo(*values, file=sys.stderr)


def _took(args: argparse.Namespace) -> None:
    _say(args, f"took {time.monotonic() - args.started:.2f} s", level=VERBOSE)


def _print_json(document: dict[str, Any]) -> None:
    echo(json.dumps(_strict_json(document), indent=2, allow_nan=False))


def _strict_json(value: Any) -> Any:
    """As :func:`_finite_or_null`, but a count stays a whole number."""
    if isinstance(value, dict):
        return {str(k): _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return _finite_or_null(value)


def _error_record(message: str, file: str | None = None, key: str = "") -> dict[str, Any]:
    return {"file": file, "key": key, "message": message}


def _failed(args: argparse.Namespace, code: int, errors: list[dict[str, Any]]) -> int:
    """``code``, after the JSON document of the failure where --json asked for one."""
    if args.json and args.command in JSON_COMMANDS:
        _print_failure(args.command, str(args.scenario), code, errors)
    return code


def _print_failure(command: str, file: str | None, code: int, errors: list[dict[str, Any]]) -> None:
    if command == "validate":
        kind = file and ("calibration" if file.endswith(CALIBRATION_SUFFIX) else "scenario")
        verdict = {"valid": False, "kind": kind, "scenario": None}
    else:
        verdict = {"ok": False}
    _print_json({"file": file, **verdict, "exit_code": code, "errors": errors})


def _run(args: argparse.Namespace) -> int:
    for path, what in ((args.out, "cannot write results to"), (args.junit, "--junit")):
        if path is not None:
            check_path(path, what, temporary=True)
    if args.outlines is not None:
        check_path(args.outlines, "--outlines")
    if args.draws is not None and args.posterior is None:
        raise FlowsimError("--draws needs --posterior CALIB_DIR")
    if args.png and args.no_report:
        raise FlowsimError("--png draws the report's figures, which --no-report leaves out")
    if args.posterior is not None and args.replications != 1:
        raise FlowsimError(
            "--posterior runs one replication a draw: give --draws, not --replications"
        )
    scenario = flowsim.load_scenario(args.scenario, args.overrides)
    if args.junit and not scenario.expect:
        raise FlowsimError(f"--junit: {args.scenario} has no [[expect]] rules")
    posterior = flowsim.load_posterior(args.posterior) if args.posterior is not None else None
    replications = args.replications if posterior is None else (args.draws or 100)
    out = args.out if args.out is not None else Path("results") / scenario.name
    # First, so that a baseline that cannot be compared stops the run before its work.
    baseline = _baseline(args, scenario, out, replications, posterior is not None)
    against = baseline.results if baseline is not None else None
    results = flowsim.simulate(
        scenario, seed=args.seed, replications=replications, posterior=posterior
    )
    # Written straight into the folder being built: they appear with the run, or not at all.
    results.save(
        out,
        report=not args.no_report,
        figures=not (args.no_figures or args.no_report),
        png=args.png,
        baseline=against,
        outlines=args.outlines,
    )
    return _finish_run(args, scenario, results, out, posterior, baseline)


def _finish_run(
    args: argparse.Namespace,
    scenario: flowsim.Scenario,
    results: flowsim.Results,
    out: Path,
    posterior: flowsim.Posterior | None,
    baseline: flowsim.BaselineRun | None,
) -> int:
    """What a run prints once its folder is written, for people or as JSON; its
    expectations judged."""
    summary = results.summary()
    _say(args, f"scenario files: {', '.join(scenario.files)}", level=VERBOSE)
    for override in args.overrides:
        _say(args, f"--set {override}", level=VERBOSE)
    over = f", over {posterior.calibration}'s posterior" if posterior is not None else ""
    _say(
        args,
        f"{scenario.name}: {summary['start']} to {summary['end']}, seed {args.seed}, "
        f"{results.replications} replication(s){over}",
    )
    _say(args, _summary_table(summary))
    compared = None
    if baseline is not None:
        compared = flowsim.compare_exports(baseline.results, results)
        _say(args, f"\nexports by partner against {baseline.results.meta.scenario} (kg)")
        _say(args, _comparison_table(compared))
    for path in _files_in(out):
        _say(args, f"wrote {path}", level=VERBOSE)
    _say(args, f"wrote {out}", level=QUIET)
    report = None if args.no_report else out / "report.html"
    if report is not None:
        _say(args, f"report: {report}", level=QUIET)
    verdicts = []
    if scenario.expect:
        table = results.metrics().assign(scenario=scenario.name, point=0)
        verdicts = _report_expectations(args, scenario.expect, table, args.junit, scenario.name)
    code = _exit_code_of(verdicts)
    _took(args)
    if args.json:
        _print_json(
            {
                "file": str(args.scenario),
                "ok": code == 0,
                "exit_code": code,
                "errors": [],
                "scenario": scenario.name,
                "run_folder": str(out),
                "report": None if report is None else str(report),
                "junit": None if args.junit is None else str(args.junit),
                "seed": args.seed,
                "replications": results.replications,
                "posterior": None if posterior is None else posterior.calibration,
                "start": summary["start"],
                "end": summary["end"],
                **{key: summary[key] for key in SUMMARY_FIGURES},
                "baseline": None
                if baseline is None
                else {
                    "scenario": baseline.results.meta.scenario,
                    "run_folder": str(baseline.folder),
                    "reused": baseline.reused,
                    "overrides_not_applied": baseline.skipped,
                    "exports": compared.to_dict(orient="records"),
                },
                "expectations": [_verdict_record(v) for v in verdicts],
            }
        )
    return code


# The figures of summary.json that run's tables show, and so its --json document.
SUMMARY_FIGURES = ("totals_kg", "exports_kg_by_partner", "exports_usd_by_partner")


def _files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _verdict_record(verdict: Any) -> dict[str, Any]:
    return {
        "name": verdict.rule.name,
        "group": verdict.group,
        "passed": verdict.passed,
        "mean": verdict.mean,
        "message": verdict.message,
    }


def _baseline(
    args: argparse.Namespace,
    scenario: flowsim.Scenario,
    out: Path,
    replications: int,
    over_posterior: bool,
) -> flowsim.BaselineRun | None:
    """The run to compare with: --baseline, or the scenario's meta.baseline."""
    if args.no_baseline or (args.baseline is None and scenario.baseline_file is None):
        return None
    if over_posterior and args.baseline is None:
        echo(
            f"note: {scenario.name}'s baseline is not run over a calibration's posterior; "
            "give --baseline RUN_DIR to compare with a run of your choosing",
            file=sys.stderr,
        )
        return None
    if args.baseline is not None:
        check_path(args.baseline, "--baseline")
    baseline = flowsim.run_baseline(
        scenario,
        out,
        seed=args.seed,
        replications=replications,
        overrides=args.overrides,
        source=args.baseline,
        figures=not (args.no_figures or args.no_report),
        png=args.png,
    )
    how = "read" if baseline.reused else "ran it and wrote"
    _say(args, f"baseline {baseline.results.meta.scenario}: {how} {baseline.folder}")
    if baseline.skipped:
        _say(
            args,
            "  --set not applied to the baseline, which has no such table: "
            + ", ".join(baseline.skipped),
        )
    return baseline


def _comparison_table(table: pd.DataFrame) -> str:
    """The exports comparison, with 95% intervals of the change where there are any."""
    shown = table[["partner", "baseline_kg", "scenario_kg", "change_kg", "change_pct"]].copy()
    if "change_pct_low" in table:
        shown["change_pct 95%"] = [
            _pct_interval(low, high)
            for low, high in zip(table["change_pct_low"], table["change_pct_high"], strict=True)
        ]
    return _format(shown, {"change_pct": "{:+.1f}%", "change_kg": "{:+,.1f}"})


def _pct_interval(low: float, high: float) -> str:
    if math.isnan(low):
        return "from none"
    upper = "+inf" if math.isinf(high) else f"{high:+.1f}%"
    return f"[{low:+.1f}%, {upper}]"


def _report_expectations(
    args: argparse.Namespace, rules, table: pd.DataFrame, junit: Path | None, suite: str
) -> list[Any]:
    """Judge the rules, print the verdicts (with --quiet, the failed ones) and write
    the JUnit file if asked."""
    verdicts = flowsim.evaluate_expectations(rules, table)
    failed = [v for v in verdicts if not v.passed]
    shown = verdicts if args.verbosity >= NORMAL else failed
    if shown:
        _say(args, "expectations:", level=QUIET)
    for verdict in shown:
        _say(args, f"  {verdict.line()}", level=QUIET)
    if junit is not None:
        flowsim.write_junit(verdicts, junit, suite)
        _say(args, f"wrote {junit}", level=QUIET)
    if failed:
        echo(f"{len(failed)} of {len(verdicts)} expectation(s) failed", file=sys.stderr)
    return verdicts


def _print_indices(args: argparse.Namespace, runs: pd.DataFrame, sweep: Any) -> None:
    swept = list(sweep.parameters)
    varied = runs[runs[swept].notna().any(axis=1)] if swept else runs.iloc[:0]
    # No scenario that varies: sensitivity_indices says so.
    for label in list(dict.fromkeys(varied["scenario"])) or [None]:
        indices = flowsim.sensitivity_indices(
            runs,
            args.sensitivity,
            args.method,
            scenario=label,
            design=sweep.sweep.method,
            levels=sweep.sweep.levels,
        )
        about = indices.attrs
        _say(
            args,
            f"{args.method} indices of {args.sensitivity} ({about['scenario']}, SALib, over "
            f"{about['points']} points; each point the mean of its {about['replications']} "
            "replication(s)):",
            level=QUIET,
        )
        _say(args, _format(indices, dict.fromkeys(indices.columns, "{:.3f}")), level=QUIET)


def _discover(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_path(args.out, "--out")
    found = flowsim.discover(
        args.sweep_dir,
        metric=args.metric,
        below=args.below,
        above=args.above,
        rule=args.rule,
        scenario=args.scenario,
        threshold=args.threshold,
    )
    _say(
        args,
        f"{found.outcome} at {found.cases} of {found.points} points of '{found.scenario}' "
        f"(each point judged on its {found.replications} replication(s)); PRIM boxes:",
        level=QUIET,
    )
    if not found.boxes:
        _say(args, f"no box reaches a density of {args.threshold:g}: the outcome is scattered")
    for k, box in enumerate(found.boxes, start=1):
        _say(
            args,
            f"box {k}: coverage {box.coverage:.0%}, density {box.density:.0%}, "
            f"mass {box.mass:.0%} ({box.cases} of its {box.points} points)",
            level=QUIET,
        )
        if box.limits:
            _say(args, _format(box.table(), {"low": "{:.4g}", "high": "{:.4g}"}), level=QUIET)
        else:
            _say(args, "  (every point left: no parameter restricted)", level=QUIET)
    if args.out is not None and found.boxes:
        _say(args, f"wrote {found.draw(args.out)}", level=QUIET)
    return 0


def _exit_code_of(verdicts: list[Any]) -> int:
    return EXIT_EXPECTATION if any(not v.passed for v in verdicts) else 0


def _sweep(args: argparse.Namespace) -> int:
    sweep, folder = flowsim.load_sweep_file(args.sweep_file)
    out = args.out if args.out is not None else Path("results") / "sweeps" / sweep.sweep.name
    if args.overwrite and args.resume:
        raise FlowsimError("--overwrite and --resume contradict each other; choose one")
    if args.junit and not sweep.expect:
        raise FlowsimError(f"--junit: {args.sweep_file} has no [[expect]] rules")
    if args.method is not None:  # a design that cannot give the indices fails before it runs
        if not args.sensitivity:
            raise FlowsimError("--method needs --sensitivity METRIC: the metric to analyse")
        flowsim.check_sensitivity_design(args.method, sweep.sweep.method, args.sweep_file)
    check_path(out, "cannot write the sweep to")
    if args.junit is not None:
        check_path(args.junit, "--junit", temporary=True)
    if args.dask_dashboard and args.dask is None:
        raise FlowsimError("--dask-dashboard is Dask's: give --dask local or --dask ADDRESS")
    if args.dask is not None:
        executor = flowsim.dask_executor(args.dask, args.workers, dashboard=args.dask_dashboard)
        where = f"Dask ({args.dask})"
    elif args.workers == 1:
        executor, where = flowsim.serial_executor, "this process"
    else:
        executor = flowsim.pool_executor(args.workers)
        where = f"{args.workers or flowsim.available_cores()} processes"
    _say(args, f"sweep {sweep.sweep.name}: {sweep.run_count()} runs on {where}, into {out}")
    with Progress(shown=args.verbosity >= NORMAL) as progress:
        report = flowsim.run_sweep(
            sweep,
            folder,
            out,
            executor=executor,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=_with_dashboard(args, executor, progress.update),
            compact=args.compact,
        )
    _say(
        args,
        f"done: {report.ran} run(s) in {report.seconds:.1f} s"
        + (f", {report.done_before} finished before" if report.done_before else ""),
    )
    if report.ran:
        _say(args, f"{report.seconds / report.ran:.2f} s a run", level=VERBOSE)
    _say(args, f"wrote {out}", level=QUIET)
    if args.sensitivity:
        _say(args, f"sensitivity of {args.sensitivity}:", level=QUIET)
        runs = flowsim.load_sweep(out, [args.sensitivity])
        _say(args, _format(flowsim.tornado(runs, args.sensitivity), {}), level=QUIET)
        if args.method is not None:
            _print_indices(args, runs, sweep)
    verdicts = []
    if sweep.expect:
        # Only the metrics the rules name are read back: a large sweep stays small in memory.
        table = flowsim.load_sweep(out, {rule.metric for rule in sweep.expect})
        verdicts = _report_expectations(args, sweep.expect, table, args.junit, sweep.sweep.name)
    _took(args)
    return _exit_code_of(verdicts)


def _with_dashboard(
    args: argparse.Namespace, executor: Any, update: Callable[[int, int], None]
) -> Callable[[int, int], None]:
    """``update``, which first says where the Dask dashboard is: once connected, the
    sweep's first progress. Always said with --dask-dashboard, else only with -v."""
    if not hasattr(executor, "dashboard_link"):  # not Dask
        return update
    said = False

    def first_the_dashboard(done: int, total: int) -> None:
        nonlocal said
        if not said:
            said = True
            link = executor.dashboard_link
            if not args.dask_dashboard:
                if link is not None:
                    _say(args, f"Dask dashboard: {link}", level=VERBOSE)
                return update(done, total)
            answer = _answers(link) if link is not None else False
            if answer is False:
                _say(
                    args,
                    f"the Dask scheduler at {executor.address} serves no dashboard: start it "
                    "with its dashboard (which needs bokeh where the scheduler runs)",
                )
            elif answer is None:
                _say(args, f"Dask dashboard: {link} (it does not answer from this machine)")
            else:
                _say(args, f"Dask dashboard: {link}")
        update(done, total)

    return first_the_dashboard


def _answers(link: str) -> bool | None:
    """Whether a dashboard answers at ``link``: a scheduler started without one still
    names a link, where it answers 404; None if nothing answers from here."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(link, timeout=3):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code != 404
    except (OSError, ValueError):
        return None


class Progress:
    """A progress bar on a terminal; plain lines at most every 10 s elsewhere (CI logs)."""

    def __init__(self, shown: bool = True) -> None:
        self.shown = shown
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
        if not self.shown:
            return
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
        progress=args.verbosity >= NORMAL,
    )
    summary = json.loads((run.folder / "summary.json").read_text())
    _say(
        args,
        f"{summary['calibration']}: {run.generations} generation(s), stopped on its {run.stop}, "
        f"{run.simulations:,} simulations in {run.seconds:.0f} s",
    )
    parameters = pd.DataFrame.from_dict(summary["parameters"], orient="index")
    parameters.index.name = "parameter"
    shown = {"median": "{:.4g}", "q05": "{:.4g}", "q95": "{:.4g}", "width_ratio": "{:.2f}"}
    _say(args, _format(parameters.reset_index(), shown))
    targets = pd.DataFrame.from_dict(summary["targets"], orient="index")
    targets.index.name = "target"
    shown = {name: "{:,.4g}" for name in ("observed", "median", "q05", "q95")}
    _say(args, _format(targets.reset_index(), shown))
    for line in summary["warnings"]:
        echo(f"warning: {line}", file=sys.stderr)
    for path in _files_in(run.folder):
        _say(args, f"wrote {path}", level=VERBOSE)
    _say(args, f"wrote {run.folder}", level=QUIET)
    _took(args)
    return 0


def _examples(args: argparse.Namespace) -> int:
    if args.action is None:
        args.examples_parser.print_help(sys.stdout)
        return 0
    if args.action == "list":
        found = flowsim.list_examples()
        width = max(len(example.name) for example in found)
        for example in found:
            _say(args, f"{example.name:<{width}}  {example.description}", level=QUIET)
        _say(args, "\ncopy them to start from: flowsim examples copy examples")
        return 0
    copied = flowsim.copy_examples(args.folder)
    for path in copied.written:
        _say(args, f"wrote {path}", level=QUIET)
    for path in copied.unchanged:
        _say(args, f"already there, the same: {path}", level=VERBOSE)
    if not copied.written:
        _say(args, f"{args.folder} holds every example already, unchanged", level=QUIET)
    _say(args, f"next: flowsim run {shlex.quote(str(copied.first_scenario))}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    if args.kind in ("sweep", "calibration", "summary"):
        if args.partial:
            raise FlowsimError("--partial applies to the scenario schema only")
        schema = {
            "sweep": flowsim.sweep_schema,
            "calibration": flowsim.calibration_schema,
            "summary": flowsim.summary_schema,
        }[args.kind]()
        echo(json.dumps(schema, indent=2))
    else:
        echo(json.dumps(flowsim.scenario_schema(partial=args.partial), indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:
    results = flowsim.Results.load(args.run_dir)
    baseline = flowsim.Results.load(args.baseline) if args.baseline is not None else None
    out = args.out if args.out is not None else args.run_dir / "report.html"
    flowsim.write_report(results, out, baseline, outlines=args.outlines)
    echo(f"wrote {out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Each file in turn, every one reported (a pre-commit hook passes many): exit 2 if
    any is wrong."""
    files = args.scenario
    args.scenario = files[0]
    if len(files) == 1:
        return _validate_one(args)
    if args.json:
        raise FlowsimError("--json reports on one file: give one file, or one command a file")
    worst = 0
    for file in files:
        args.scenario = file
        try:
            _validate_one(args)
        except ScenarioError as exc:
            for issue in exc.issues:
                echo(f"error: {issue}", file=sys.stderr)
            worst = EXIT_USER_ERROR
        except FlowsimError as exc:
            echo(f"error: {file}: {exc}", file=sys.stderr)
            worst = EXIT_USER_ERROR
    return worst


def _validate_one(args: argparse.Namespace) -> int:
    if args.scenario.name.endswith(CALIBRATION_SUFFIX):
        if args.overrides:
            raise FlowsimError(
                "--set changes a scenario, not a calibration file: set it in [calibration] set"
            )
        calibration, base = flowsim.load_calibration_file(args.scenario)  # needs no pyabc
        fitted = sum(not t.held_out for t in calibration.targets)
        held_out = len(calibration.targets) - fitted
        line = (
            f"OK: {args.scenario} ({calibration.calibration.name}: calibrates {base.name}, "
            f"{len(calibration.parameters)} parameters, {fitted} fitted targets, "
            f"{held_out} held out)"
        )
        files = (str(args.scenario), *base.files)
        facts = {
            "kind": "calibration",
            "scenario": base.name,
            "calibration": calibration.calibration.name,
            "parameters": len(calibration.parameters),
            "fitted_targets": fitted,
            "held_out_targets": held_out,
        }
    else:
        scenario = flowsim.load_scenario(args.scenario, args.overrides)
        line = (
            f"OK: {args.scenario} ({scenario.name}: {len(scenario.nodes)} nodes, "
            f"{len(scenario.routes)} routes)"
        )
        files = scenario.files
        facts = {
            "kind": "scenario",
            "scenario": scenario.name,
            "nodes": len(scenario.nodes),
            "routes": len(scenario.routes),
        }
    for file in files:
        _say(args, f"read {file}", level=VERBOSE)
    if args.require_sources:
        unsupported = flowsim.unsupported_figures_in(files)
        if unsupported:
            raise ScenarioError(unsupported)
    _say(args, line)
    _took(args)
    if args.json:
        document = {"file": str(args.scenario), "valid": True, "exit_code": 0, "errors": []}
        _print_json({**document, **facts, "files": list(files)})
    return 0


def _compare(args: argparse.Namespace) -> int:
    base = _results_of(args.baseline, args)
    other = _results_of(args.scenario, args)
    exports = flowsim.compare_exports(base, other)
    exposure = flowsim.compare_exposure(base, other)
    if args.json:
        records = {
            "exports": exports.to_dict(orient="records"),
            "exposure": exposure.to_dict(orient="records"),
        }
        echo(json.dumps(_finite_or_null(records), indent=2, allow_nan=False))
        return 0
    echo(f"exports by partner: {other.meta.scenario} against {base.meta.scenario} (kg)")
    echo(_comparison_table(exports))
    if not exposure.empty:
        echo("\nexposure by partner (share of received mass)")
        shares = {"baseline": "{:.3f}", "scenario": "{:.3f}", "change_points": "{:+.1f} pt"}
        shown = exposure[["partner", "metric", "baseline", "scenario", "change_points"]].copy()
        if "change_points_low" in exposure:
            shown["change 95% (pt)"] = [
                f"[{low:+.1f}, {high:+.1f}]"
                for low, high in zip(
                    exposure["change_points_low"], exposure["change_points_high"], strict=True
                )
            ]
        echo(_format(shown, shares))
    if min(base.replications, other.replications) < 2:
        echo("\none replication: no interval; give --replications 10 for 95% intervals")
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


def _results_of(path: Path, args: argparse.Namespace) -> flowsim.Results:
    """A run folder read back, or a scenario file run: replications give intervals."""
    check_path(path, "cannot read")
    if path.is_dir():
        flowsim.read_summary(path)  # verified too: a folder with a changed summary is refused
        return flowsim.Results.load(path)
    return flowsim.simulate(path, seed=args.seed, replications=args.replications)


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
