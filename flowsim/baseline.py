"""A scenario's baseline: the run it is compared with, run or read back.

A scenario names its baseline in ``meta.baseline``. :func:`run_baseline` runs it with
the same seed and replications, so that replication k of both runs shares its random
streams and their differences are paired (flowsim.compare), and writes its run folder
beside the scenario's. A folder there that already holds this baseline's run, of the
same content, seed, replications and flowsim, is read instead of run again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

from flowsim._version import __version__
from flowsim.errors import FlowsimError
from flowsim.results import Results
from flowsim.runfolder import read_summary
from flowsim.scenario import load_scenario, scenario_hash, shared_overrides
from flowsim.schema import Scenario
from flowsim.simulation import simulate

__all__ = ["BaselineRun", "run_baseline"]


@dataclass(frozen=True)
class BaselineRun:
    """The baseline's results, where its run folder is, and how it came to be."""

    results: Results
    folder: Path
    reused: bool  # read from a run folder, not run again
    applied: list[str] = field(default_factory=list)  # --set overrides given to it too
    skipped: list[str] = field(default_factory=list)  # --set overrides it has no table for


def run_baseline(
    scenario: Scenario,
    next_to: str | Path,
    *,
    seed: int,
    replications: int,
    overrides: Iterable[str] = (),
    source: str | Path | None = None,
    write: bool = True,
    figures: bool = True,
    png: bool = False,
) -> BaselineRun:
    """The baseline of ``scenario``, run or read back, for a comparison.

    ``source`` is a scenario file or a run folder; by default the file that
    ``meta.baseline`` names. A scenario file is run with ``seed`` and ``replications``
    into a run folder beside ``next_to`` (the scenario's own run folder), named after
    the baseline, unless that folder already holds its run. ``overrides`` are the
    scenario's ``--set`` strings: those whose table the baseline has too
    (``calendar.end``, a shared node) are applied to it, so that both runs describe the
    same world but for what the scenario changes; the others are skipped and listed.
    With ``write`` false, a new run is not saved; saved, it holds its report and, with
    ``figures``, the report's figures as SVG files (and with ``png`` as PNG). Raises
    :class:`FlowsimError` when the scenario names no baseline, or when the baseline's
    calendar differs from the scenario's.
    """
    what = "--baseline" if source is not None else "meta.baseline"
    source = Path(source) if source is not None else scenario.baseline_file
    if source is None:
        raise FlowsimError(f"{scenario.name}: names no baseline (meta.baseline)")
    if source.is_dir():
        results = Results.load(source)
        _check_calendar(
            scenario, results.start.date(), results.end.date(), results.meta.scenario, what
        )
        return BaselineRun(results, source, True)
    applied, skipped = shared_overrides(source, list(overrides))
    baseline = load_scenario(source, applied)
    calendar = baseline.calendar
    _check_calendar(scenario, calendar.start, calendar.end, baseline.name, what)
    folder = Path(next_to).parent / baseline.name
    if folder.resolve() == Path(next_to).resolve():
        raise FlowsimError(
            f"{what}: the baseline has the scenario's name ({baseline.name}), so both would "
            f"write {folder}; give --out a folder of another name"
        )
    earlier = _earlier_run(folder, baseline, seed, replications)
    if earlier is not None:
        return BaselineRun(earlier, folder, True, applied, skipped)
    results = simulate(baseline, seed=seed, replications=replications)
    if write:
        try:
            results.save(folder, report=True, figures=figures, png=png)
        except FlowsimError as exc:
            raise FlowsimError(
                f"{what}: cannot write the baseline's run beside the scenario's ({exc}); "
                "give --baseline RUN_DIR, --no-baseline, or another --out"
            ) from None
    return BaselineRun(results, folder, False, applied, skipped)


def _earlier_run(folder: Path, scenario: Scenario, seed: int, replications: int) -> Results | None:
    """The run in ``folder`` if it is this scenario's, run as asked, by this flowsim."""
    if not folder.is_dir():
        return None
    try:
        summary = read_summary(folder)
    except FlowsimError:
        return None  # not a run folder flowsim can read: run again (saving checks it is ours)
    same = (
        summary.get("scenario_hash") == scenario_hash(scenario)
        and summary.get("seed") == seed
        and summary.get("replications") == replications
        and summary.get("flowsim_version") == __version__
        and "posterior" not in summary
    )
    if not same:
        return None
    results = Results.load(folder)
    return results if results.meta.first_replication == 0 else None


def _check_calendar(scenario: Scenario, start: Date, end: Date, name: str, what: str) -> None:
    """Refuse a baseline over another calendar: the differences would be those of the
    periods, not of the scenario."""
    calendar = scenario.calendar
    if (calendar.start, calendar.end) != (start, end):
        raise FlowsimError(
            f"{what}: the baseline {name} runs from {start} to {end}, the scenario "
            f"{scenario.name} from {calendar.start} to {calendar.end}: a comparison needs "
            "the same calendar"
        )
