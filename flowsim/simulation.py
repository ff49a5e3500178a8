"""``simulate``: the one entry point for a run, used by the CLI, tests and notebooks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim._version import __version__
from flowsim.checks import MAX_LOTS, expected_lots
from flowsim.engine import make_engine
from flowsim.errors import FlowsimError, ScenarioError
from flowsim.levers import describe_levers
from flowsim.limits import MAX_REPLICATIONS, MAX_SEED
from flowsim.network import Network
from flowsim.papers import OUTCOMES
from flowsim.results import Results
from flowsim.runfolder import empty_table
from flowsim.runmeta import PosteriorRun, RunMeta
from flowsim.scenario import load_scenario, scenario_hash, with_overrides
from flowsim.schema import Scenario
from flowsim.trade import trade_table

if TYPE_CHECKING:
    from flowsim.calibration.draws import Posterior

__all__ = ["MAX_SEED", "simulate"]


def simulate(
    scenario: Scenario | str | Path,
    seed: int = 0,
    replications: int = 1,
    *,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    check_balance: bool = True,
    first_replication: int = 0,
    posterior: Posterior | None = None,
) -> Results:
    """Run a scenario ``replications`` times and return one :class:`Results`.

    ``scenario`` is a :class:`Scenario` or the path of a scenario file (then
    ``overrides`` apply, as with ``--set``). Replication ``k`` draws from the
    ``k``-th child of ``numpy.random.SeedSequence(seed)``, so it is the same
    whatever else runs; ``first_replication`` runs replications
    ``first_replication ...`` of a larger set (sweeps hand out one each). The
    mass balance is checked unless ``check_balance`` is false; a broken
    balance raises :class:`~flowsim.errors.MassBalanceError`.

    With a ``posterior`` (:func:`flowsim.load_posterior`), replication ``k`` also
    sets the parameters of a particle drawn for it by weight from the calibration's
    posterior: the spread over replications is then that of parameters and chance
    together (docs/calibration.md, "Answers with parameter uncertainty").
    """
    if isinstance(overrides, Iterable) and not isinstance(overrides, (Mapping, str, bytes)):
        overrides = list(overrides)  # read once: it may be a generator
    _check_arguments(scenario, seed, replications, overrides, first_replication)
    if isinstance(scenario, (str, os.PathLike)):
        scenario = load_scenario(Path(scenario), overrides)
    elif overrides:
        scenario = with_overrides(scenario, overrides)

    lots = expected_lots(scenario) * int(replications)
    if lots > MAX_LOTS or replications > MAX_REPLICATIONS:
        raise FlowsimError(
            f"{replications:,} replications of {scenario.name} would make about {lots:.3g} "
            f"lots, held in memory at once (at most {MAX_LOTS:,} lots and "
            f"{MAX_REPLICATIONS:,} replications): run fewer replications, or a sweep, "
            "which writes each one to disk as it finishes"
        )
    network = Network.build(scenario)
    draws = []
    if posterior is not None:
        replicated = range(first_replication, first_replication + int(replications))
        draws = [posterior.draw(int(seed), k) for k in replicated]
        networks = [_network_for(scenario, posterior, values) for values in draws]
        if any((n.papers is None) != (network.papers is None) for n in networks):
            raise FlowsimError(
                f"the posterior of {posterior.calibration} turns papers on lots on in some "
                "draws and off in others: set [simulation] documents in the scenario"
            )
    else:
        networks = [network] * int(replications)
    # Replication k draws from the k-th child of SeedSequence(seed): made by its spawn
    # key, the same child that SeedSequence(seed).spawn(k + 1)[k] gives, without the k
    # before it.
    streams = [
        np.random.SeedSequence(int(seed), spawn_key=(k,))
        for k in range(first_replication, first_replication + int(replications))
    ]
    ledgers, receipts, melts, end_states, runs, reserves, prices = [], [], [], [], [], [], []
    rents, appetites, trade, diligence = [], [], [], []
    codes = network.papers.jurisdiction_codes if network.papers else ()
    months = pd.date_range(
        pd.Timestamp(scenario.calendar.start).to_period("M").to_timestamp(),
        periods=len(network.month_start_days),
        freq="MS",
    )
    started = time.perf_counter()
    for k, stream in enumerate(streams):
        t0 = time.perf_counter()
        out = make_engine(networks[k], np.random.default_rng(stream)).run()
        ledgers.append(out.ledger.to_frame(network.node_ids, network.route_ids, replication=k))
        receipts.append(out.receipts.to_frame(network.node_ids, replication=k))
        melts.append(out.melts.to_frame(network.node_ids, replication=k))
        end_states.append(
            pd.DataFrame(
                {
                    "replication": k,
                    "node": list(network.node_ids),
                    "kg": np.asarray(out.stock_kg_by_node, dtype=float),
                }
            )
        )
        ids = network.node_ids
        reserves.append(_monthly_table("reserves", k, out.reserve_levels, months, ids))
        prices.append(_monthly_table("prices_monthly", k, out.prices, months, ids))
        rents.append(_monthly_table("rents_monthly", k, out.rents, months, ids))
        appetites.append(_monthly_table("appetite_monthly", k, out.appetite, months, ids))
        trade.append(trade_table(k, out.trade, months, codes))
        named = tuple((m, n, OUTCOMES[o], kg, usd) for m, n, o, kg, usd in out.diligence)
        diligence.append(_monthly_table("diligence_monthly", k, named, months, ids))
        runs.append(
            {
                "replication": k,
                "lots": out.lots,
                "ledger_rows": len(out.ledger),
                # Floats even when nothing is in transit: one type in every run folder.
                "in_transit_kg": float(out.in_transit_kg),
                "fuel_premium_usd": float(out.fuel_premium_usd),
                "wall_seconds": time.perf_counter() - t0,
            }
        )
    meta = RunMeta(
        scenario=scenario.name,
        description=scenario.meta.description,
        sources=list(scenario.meta.sources),
        assumptions=scenario.assumptions(),
        citations=scenario.citations(),
        start=scenario.calendar.start,
        end=scenario.calendar.end,
        seed=int(seed),
        replications=int(replications),
        first_replication=int(first_replication),
        flowsim_version=__version__,
        scenario_hash=scenario_hash(scenario),
        wall_seconds=time.perf_counter() - started,
        policies=describe_levers(scenario),
        scenario_json=scenario.model_dump(mode="json", by_alias=True),
        documents=network.papers is not None,
        posterior=(
            None
            if posterior is None
            else PosteriorRun(
                calibration=posterior.calibration,
                folder=posterior.folder,
                keys=dict(posterior.keys),
                draws=draws,
            )
        ),
    )
    results = Results(
        ledger=_stack(ledgers),
        receipts=_stack(receipts),
        melts=_stack(melts),
        categories=network.category_table(),
        nodes=network.node_table(),
        routes=network.route_table(),
        end_state=pd.concat(end_states, ignore_index=True),
        reserves=pd.concat(reserves, ignore_index=True),
        prices_monthly=pd.concat(prices, ignore_index=True),
        rents_monthly=pd.concat(rents, ignore_index=True),
        schedules=network.schedule_table(),
        appetite_monthly=pd.concat(appetites, ignore_index=True),
        trade_statistics=pd.concat(trade, ignore_index=True),
        diligence_monthly=pd.concat(diligence, ignore_index=True),
        runs=pd.DataFrame(runs),
        meta=meta,
    )
    if check_balance:
        results.check_balance()
    return results


def _network_for(scenario: Scenario, posterior: Posterior, values: Mapping[str, float]) -> Network:
    try:
        return Network.build(with_overrides(scenario, posterior.overrides(values)))
    except ScenarioError as exc:
        raise FlowsimError(
            f"the posterior of {posterior.calibration} ({posterior.folder}) does not fit "
            f"{scenario.name}: {exc}"
        ) from None


def _check_arguments(
    scenario: object, seed: object, replications: object, overrides: object, first: object
) -> None:
    """A wrong type is a TypeError that says what is wanted; a bad value, a ValueError."""
    if not isinstance(scenario, (Scenario, str, os.PathLike)):
        hint = (
            "; for a dictionary, use flowsim.scenario_from_dict(data)"
            if isinstance(scenario, Mapping)
            else ""
        )
        raise TypeError(
            "simulate() takes a Scenario (from flowsim.load_scenario) or the path of a "
            f"scenario file, not {type(scenario).__name__}{hint}"
        )
    for name, value, low in (("seed", seed, 0), ("replications", replications, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value!r}")
    if seed > MAX_SEED:
        raise ValueError(f"seed must be at most 2**63 - 1, got {seed!r}")
    if isinstance(first, bool) or not isinstance(first, (int, np.integer)):
        raise TypeError(f"first_replication must be an integer, not {type(first).__name__}")
    if not 0 <= first <= MAX_SEED:
        raise ValueError(f"first_replication must be from 0 to 2**63 - 1, got {first!r}")
    if isinstance(overrides, (str, bytes)) or not isinstance(overrides, (Iterable, Mapping)):
        raise TypeError(
            "overrides must be a list of 'key.path=value' strings or a mapping of key paths "
            f"to values, not {type(overrides).__name__}"
        )
    if not isinstance(overrides, Mapping):
        for item in overrides:
            if not isinstance(item, str):
                raise TypeError(
                    f"overrides must be 'key.path=value' strings, not {type(item).__name__}"
                )


def _monthly_table(
    name: str,
    k: int,
    records: tuple[tuple, ...],
    months: pd.DatetimeIndex,
    node_ids: tuple[str, ...],
) -> pd.DataFrame:
    """Base table ``name`` of replication ``k`` from the engine's records: (month of the
    run, node index, then the table's other columns in order)."""
    table = empty_table(name)
    columns = list(table.columns)  # replication, month, the node's column, the values
    values = list(zip(*records, strict=True)) if records else [()] * (len(columns) - 1)
    data = {
        "replication": np.full(len(records), k, dtype=np.int64),
        "month": pd.DatetimeIndex([months[m] for m in values[0]], dtype="datetime64[ns]"),
        columns[2]: pd.Series([node_ids[n] for n in values[1]], dtype=object),
    }
    for column, column_values in zip(columns[3:], values[2:], strict=True):
        data[column] = np.asarray(column_values, dtype=table[column].dtype)
    return pd.DataFrame(data)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One table of all replications; with one, the table itself, uncopied."""
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
