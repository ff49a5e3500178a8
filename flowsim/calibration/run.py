"""``calibrate``: ABC-SMC over a scenario's unknowns, resumable and deterministic.

pyabc runs the algorithm (Toni et al. 2009; Beaumont et al. 2009): each
generation proposes parameters from a kernel fitted to the last one, keeps
those whose simulated targets lie within a tolerance of the observed ones, and
weighs them by prior over proposal density. flowsim supplies the model (a
:func:`~flowsim.simulate` run), the distance (on standardised targets), and a
sampler that makes the result a function of the seed alone. The work lives in
a state folder beside the output until the calibration finishes; ``--resume``
continues from the last finished generation, and gives what an uninterrupted
run gives.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim._version import __version__
from flowsim.errors import FlowsimError
from flowsim.executors import WorkerPool, available_cores, dask_executor, serial_executor
from flowsim.folders import atomic_write_bytes, check_path, check_replaceable
from flowsim.scenario import scenario_hash

from .folder import SUMMARY, own_name, prior_sample_table, write_calibration_folder
from .model import FlowsimModel, pyabc_prior
from .report import render_calibration_report
from .sampler import evaluate_candidates, make_sampler
from .spec import Calibration, load_calibration_file
from .stopping import run_until_stopped

__all__ = ["CalibrationRun", "calibrate"]

STATE_FORMAT = "flowsim-calibration-state"
DESIGN = "design.json"
HISTORY = "abc.db"
PRIOR_SAMPLE = "prior_sample.parquet"
# What a state folder may hold: its design, the sample from the prior, pyabc's
# database and SQLite's journals.
STATE_FILES = (
    DESIGN,
    PRIOR_SAMPLE,
    HISTORY,
    f"{HISTORY}-journal",
    f"{HISTORY}-wal",
    f"{HISTORY}-shm",
)


@dataclass(frozen=True)
class CalibrationRun:
    """What :func:`calibrate` did: where its folder is, and how it ended."""

    folder: Path
    generations: int
    simulations: int
    stop: str
    seconds: float


def need_pyabc() -> Any:
    try:
        import pyabc
    except ImportError:
        raise FlowsimError(
            "flowsim calibrate needs pyabc: pip install 'flowsim[calibrate]'"
        ) from None
    return pyabc


def state_folder(out: Path) -> Path:
    """Where a calibration keeps its work until it finishes: a hidden sibling of ``out``."""
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.calibrating"


def calibrate(
    path: str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    dask: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> CalibrationRun:
    """Calibrate the scenario of the calibration file ``path``; write its folder.

    ``workers`` processes (default: one per core), or a Dask cluster (``dask``,
    as for sweeps). The folder (default ``results/calibrations/<name>``) is
    written whole when the calibration finishes; until then the work is kept
    in a hidden folder beside it, from which ``resume`` continues.
    """
    pyabc = need_pyabc()
    started = time.perf_counter()
    path = Path(path)
    calibration, scenario = load_calibration_file(path)
    name = calibration.calibration.name
    out = Path(out) if out is not None else Path("results") / "calibrations" / name
    design = _design(path, calibration, scenario)
    state = _open_state(out, design, resume=resume, overwrite=overwrite)
    method = calibration.method
    prior_file = state / PRIOR_SAMPLE
    names = [p.name for p in calibration.parameters]
    targets = [t.name for t in calibration.targets]

    def keep_prior_sample(particles: list[Any]) -> None:
        table = prior_sample_table(particles, names, targets)
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        atomic_write_bytes(prior_file, buffer.getvalue())

    with _executor(workers, dask) as (run, count):
        show = _Progress(progress)
        sampler = make_sampler(
            run,
            method.seed,
            count,
            method.budget,
            on_batch=show.batch,
            on_prior_sample=keep_prior_sample,
            prior_seen=prior_file.exists(),
        )
        abc = pyabc.ABCSMC(
            models=FlowsimModel(scenario, calibration),
            parameter_priors=pyabc.Distribution(
                **{p.name: pyabc_prior(p) for p in calibration.parameters}
            ),
            distance_function=pyabc.PNormDistance(
                p=2,
                fixed_weights={
                    t.name: 0.0 if t.held_out else 1.0 / t.standard_deviation
                    for t in calibration.targets
                },
            ),
            # Without nr_calibration_particles, pyabc would take values[-1], the last
            # size, for the prior sample.
            population_size=pyabc.populationstrategy.ListPopulationSize(
                [method.population_of(t) for t in range(method.generation_count)],
                nr_calibration_particles=method.population_of(0),
            ),
            eps=(
                pyabc.ListEpsilon(list(method.tolerances))
                if method.tolerances is not None
                else pyabc.QuantileEpsilon(alpha=method.quantile, weighted=True)
            ),
            sampler=sampler,
        )
        db = f"sqlite:///{state / HISTORY}"
        observed = {t.name: float(t.observed) for t in calibration.targets}
        with _quiet_pyabc():
            history = abc.load(db, 1) if (state / HISTORY).exists() else abc.new(db, observed)
            stop = run_until_stopped(abc, history, calibration, sampler)
        show.close()
        if history.max_t < 0:
            raise FlowsimError(
                f"{name}: no generation finished within the budget of {method.budget:,} "
                "simulations: raise method.budget, or lower method.population (its first size, "
                "for a schedule)"
            )
        prior_sample = pd.read_parquet(prior_file)
        folder = write_calibration_folder(
            out,
            state,
            path,
            calibration,
            scenario,
            history,
            sampler,
            run,
            prior_sample,
            started,
            render_calibration_report,
            stop,
        )
    _remove_state(state)
    summary = json.loads((folder / SUMMARY).read_text())
    return CalibrationRun(
        folder=folder,
        generations=int(summary["generations"]),
        simulations=int(summary["simulations_run"]),
        stop=str(summary["stop"]),
        seconds=time.perf_counter() - started,
    )


def _design(path: Path, calibration: Calibration, scenario: Any) -> dict[str, Any]:
    """What a resumed calibration must share with the one it continues."""
    import pyabc

    content = calibration.model_dump(mode="json")
    text = json.dumps(
        {"calibration": content, "scenario": scenario_hash(scenario), "pyabc": pyabc.__version__},
        sort_keys=True,
    )
    return {
        "format": STATE_FORMAT,
        "flowsim_version": __version__,
        "pyabc_version": pyabc.__version__,
        "file": str(path),
        "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
    }


def _open_state(out: Path, design: dict[str, Any], *, resume: bool, overwrite: bool) -> Path:
    """The state folder of this calibration: new, continued or started again. Only
    a state folder flowsim wrote is continued or removed."""
    if resume and overwrite:
        raise FlowsimError("--resume and --overwrite contradict each other; choose one")
    check_path(out, "cannot write the calibration to")
    if out.exists() or out.is_symlink():
        if resume:
            raise FlowsimError(f"{out} is a finished calibration: there is nothing to resume")
        if not overwrite:
            raise FlowsimError(
                f"{out} exists: pass --overwrite to replace it (only a calibration folder "
                "flowsim wrote is replaced), or choose another --out"
            )
        check_replaceable(out, "the calibration", own_name)
    state = state_folder(out)
    if state.exists() or state.is_symlink():
        stored = _read_state(state)
        if overwrite:
            _remove_state(state)
        elif not resume:
            raise FlowsimError(
                f"a calibration to {out} was interrupted ({state} holds its work): pass "
                "--resume to continue it, or --overwrite to start it again"
            )
        else:
            if stored.get("flowsim_version") != design["flowsim_version"]:
                raise FlowsimError(
                    f"the calibration in {state} was started by flowsim "
                    f"{stored.get('flowsim_version')}, and this is flowsim {__version__}: "
                    "start it again with --overwrite"
                )
            if stored.get("fingerprint") != design["fingerprint"]:
                raise FlowsimError(
                    f"the calibration in {state} was started from a different calibration "
                    "file, scenario or pyabc version: start it again with --overwrite, or "
                    "choose another --out"
                )
            return state
    elif resume:
        raise FlowsimError(f"nothing to resume: no interrupted calibration to {out}")
    try:
        state.mkdir(parents=True)
        text = json.dumps(design, sort_keys=True, indent=2) + "\n"
        atomic_write_bytes(state / DESIGN, text.encode())
    except OSError as exc:
        raise FlowsimError(
            f"cannot write the calibration to {out}: {exc.strerror or exc}"
        ) from None
    return state


def _read_state(state: Path) -> dict[str, Any]:
    """The design of a state folder; :class:`FlowsimError` if flowsim did not write it."""
    foreign = FlowsimError(
        f"{state} was not written by flowsim (no calibration design in it): move it away"
    )
    if state.is_symlink() or not state.is_dir():
        raise foreign
    names = {p.name for p in state.iterdir()}
    stray = sorted(names - set(STATE_FILES))
    if stray:
        raise FlowsimError(
            f"{state} holds {stray[0]}, which flowsim did not write there: move it away"
        )
    try:
        design = json.loads((state / DESIGN).read_text())
    except (OSError, ValueError):
        raise foreign from None
    if not isinstance(design, dict) or design.get("format") != STATE_FORMAT:
        raise foreign
    return design


def _remove_state(state: Path) -> None:
    """Remove a state folder's own files, then the folder; anything else stays."""
    if not state.is_dir() or state.is_symlink():
        return
    for name in STATE_FILES:
        with contextlib.suppress(FileNotFoundError):
            (state / name).unlink()
    with contextlib.suppress(OSError):
        state.rmdir()


@contextlib.contextmanager
def _executor(workers: int | None, dask: Any) -> Iterator[tuple[Callable[..., Any], int]]:
    """A map over candidates that keeps its workers for the whole calibration."""
    if dask is not None:
        executor = dask_executor(dask, workers)
        executor.keep_open = True
        executor.start()
        try:
            count = len(executor.client.scheduler_info()["workers"]) or 1
            yield executor, count
        finally:
            executor.keep_open = False
            executor.close()
        return
    count = workers or available_cores()
    if count == 1:
        yield serial_executor, 1
        return
    with WorkerPool(evaluate_candidates, count) as pool:
        yield pool, count


@contextlib.contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """pyabc logs every step at INFO; flowsim shows its own progress instead."""
    logger = logging.getLogger("ABC")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Progress:
    """A line per batch on stderr, rewritten in place on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.last_generation: int | None = None

    def batch(self, generation: int, accepted: int, wanted: int, simulations: int) -> None:
        if not self.enabled:
            return
        what = "prior sample" if generation < 0 else f"generation {generation}"
        line = f"{what}: {accepted}/{wanted} accepted, {simulations} simulations"
        if self.tty:
            sys.stderr.write("\r" + line.ljust(70))
        elif generation != self.last_generation or accepted == wanted:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.last_generation = generation

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
