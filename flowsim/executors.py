"""Where a sweep's runs execute: in this process, in a pool of processes, or on Dask.

An executor is a function ``executor(function, items)`` that yields
``function(item)`` for each item as it finishes, in any order. Each keeps only
a few runs in flight, so that a sweep of many runs holds little in memory.
Results do not depend on the executor: a run's randomness comes from its own
seed and replication number.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any

from flowsim.errors import FlowsimError

__all__ = ["dask_executor", "pool_executor", "serial_executor"]

Executor = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]


def available_cores() -> int:
    """Cores this process may use: its CPU affinity where the system tells, which
    respects a container's or a batch system's limit, else the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def serial_executor(function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
    for item in items:
        yield function(item)


def pool_executor(workers: int | None = None) -> Executor:
    """A pool of ``workers`` processes (default: one per core).

    Workers are started with "spawn", not "fork": a forked child inherits the
    parent's threads' locks in whatever state they were, which is how process
    pools hang.
    """
    workers = workers or available_cores()

    def run(function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
        context = multiprocessing.get_context("spawn")
        queue = iter(items)
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_ignore_interrupts
        ) as pool:
            pending: set[Future] = {pool.submit(function, i) for i in islice(queue, 2 * workers)}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending.add(pool.submit(function, nxt))
            finally:
                for future in pending:
                    future.cancel()

    return run


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_executor(address: str, workers: int | None = None) -> Executor:
    """Run on a Dask cluster: ``"local"`` starts a LocalCluster of ``workers``
    single-threaded processes; otherwise ``address`` is a scheduler such as
    ``tcp://host:8786``, which must be trusted (Dask runs what it is sent)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise FlowsimError("--dask needs Dask distributed: pip install 'flowsim[dask]'") from None

    def run(function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
        cluster = None
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers or available_cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="30s")
            except (OSError, TimeoutError) as exc:
                raise FlowsimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            in_flight = 2 * max(1, len(client.scheduler_info()["workers"]))
            queue = iter(items)
            futures = as_completed(
                [client.submit(function, i, pure=False) for i in islice(queue, in_flight)]
            )
            for future in futures:
                yield future.result()
                future.release()
                nxt = next(queue, None)
                if nxt is not None:
                    futures.add(client.submit(function, nxt, pure=False))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    return run
