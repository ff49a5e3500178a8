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
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection, wait
from typing import Any

from flowsim.errors import FlowsimError

__all__ = [
    "DaskExecutor",
    "WithShared",
    "WorkerLost",
    "WorkerPool",
    "check_dask_address",
    "check_worker_versions",
    "dask_executor",
    "pool_executor",
    "serial_executor",
]

Executor = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]


def available_cores() -> int:
    """Cores this process may use: its CPU affinity where the system tells, which
    respects a container's or a batch system's limit, else the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


@dataclass(frozen=True)
class WithShared:
    """``function(item, shared)`` as a function of the item alone, which an executor
    may run wherever it likes: ``shared``, what every item needs (a sweep's scenario
    files), then travels to each worker once, not with each item. A pool sends it as
    it starts its workers; Dask scatters it to every worker."""

    function: Callable[[Any, Any], Any]
    shared: Any

    def __call__(self, item: Any) -> Any:
        return self.function(item, self.shared)


def serial_executor(function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
    for item in items:
        yield function(item)


def pool_executor(workers: int | None = None) -> Executor:
    """A pool of ``workers`` processes (default: one per core).

    Each worker runs one item at a time, sent down its own pipe, so the pool
    always knows which item each worker holds. A worker that dies (killed by
    the system, as for want of memory) stops the pool with
    :class:`WorkerLost`, naming that item. Workers watch their parent and
    exit within a second of it, whatever killed it; stopping the pool (an
    error, Ctrl-C, SIGTERM) terminates them at once.

    Workers are started with "spawn", not "fork": a forked child inherits the
    parent's threads' locks in whatever state they were, which is how process
    pools hang.
    """
    workers = workers or available_cores()

    def run(function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
        pool = _Pool(function, min(workers, max(1, len(items))))
        try:
            yield from pool.results(items)
        finally:
            pool.close()

    return run


class WorkerPool:
    """A pool of worker processes kept between calls, for work sent in rounds (a
    calibration's generations), where starting processes for each round would cost
    more than the round. ``pool(function, items)`` works as any executor, for the
    function the pool was started with; :meth:`close` (or leaving a ``with`` block)
    stops the workers."""

    def __init__(self, function: Callable[[Any], Any], workers: int | None = None):
        self.function = function
        self.workers = workers or available_cores()
        self._pool: _Pool | None = _Pool(function, self.workers)

    def __call__(self, function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
        if function is not self.function:
            raise ValueError(f"this pool runs {self.function.__name__}, not {function.__name__}")
        if self._pool is None:
            raise ValueError("the pool is closed")
        yield from self._pool.results(list(items))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WorkerLost(FlowsimError):
    """A worker process died while it held an item."""

    def __init__(self, item: Any, pid: int, exitcode: int | None):
        self.item, self.pid, self.exitcode = item, pid, exitcode
        if exitcode is not None and exitcode < 0:
            try:
                how = f"killed by {signal.Signals(-exitcode).name}"
            except ValueError:
                how = f"killed by signal {-exitcode}"
            if -exitcode == signal.SIGKILL:
                how += " (as the system does when memory runs out)"
        else:
            how = f"exited with code {exitcode}"
        self.how = how
        held = repr(item) if len(repr(item)) <= 80 else repr(item)[:77] + "..."
        super().__init__(f"a worker process (pid {pid}) died while it ran {held}: {how}")


# How often a worker checks that its parent is still there, in seconds.
PARENT_CHECK_SECONDS = 0.5


@dataclass
class _Worker:
    process: Any
    conn: Connection
    item: Any = None
    busy: bool = False


class _Pool:
    def __init__(self, function: Callable[[Any], Any], workers: int):
        context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        parent = os.getpid()
        for _ in range(workers):
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=_worker_main, args=(theirs, function, parent), daemon=True
            )
            process.start()
            theirs.close()
            self.workers.append(_Worker(process, ours))

    def results(self, items: list[Any]) -> Iterator[Any]:
        queue = iter(items)
        for worker in self.workers:
            self._send(worker, queue)
        while any(w.busy for w in self.workers):
            busy = [w for w in self.workers if w.busy]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                if worker.conn in ready:
                    try:
                        status, value = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(1.0)
                        raise WorkerLost(
                            worker.item, worker.process.pid, worker.process.exitcode
                        ) from None
                    worker.busy = False
                    if status == "error":
                        raise value
                    self._send(worker, queue)
                    yield value
                elif worker.process.sentinel in ready:
                    worker.process.join(1.0)
                    raise WorkerLost(worker.item, worker.process.pid, worker.process.exitcode)

    def _send(self, worker: _Worker, queue: Iterator[Any]) -> None:
        for item in queue:
            worker.item, worker.busy = item, True
            worker.conn.send(item)
            return

    def close(self) -> None:
        for worker in self.workers:
            if worker.busy or not worker.process.is_alive():
                worker.process.terminate()
            else:
                try:
                    worker.conn.send(None)  # done: exit
                except OSError:
                    worker.process.terminate()
        for worker in self.workers:
            worker.process.join(5.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def _worker_main(conn: Connection, function: Callable[[Any], Any], parent: int) -> None:
    """A worker: run what arrives down ``conn`` until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", function(item))
        except Exception as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (OSError, ValueError, EOFError):
            return
        except Exception as exc:  # the reply would not pickle: send its text instead
            text = f"{type(reply[1]).__name__}: {reply[1]}" if reply[0] == "error" else ""
            conn.send(("error", RuntimeError(text or f"a result that cannot be sent: {exc}")))


def _exit_with_parent(parent: int) -> None:
    """Exit once the parent is gone: an orphan would run on for minutes."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


DASK_SCHEMES = ("tcp", "ws")
# Protocols Dask has that need more than an address: a security configuration (TLS) or
# a library flowsim does not install (UCX).
NOT_FROM_AN_ADDRESS = {
    "tls": "needs Dask's TLS security settings, which flowsim does not take",
    "wss": "needs Dask's TLS security settings, which flowsim does not take",
    "ucx": "needs UCX, which flowsim does not install",
}


def check_dask_address(address: str) -> str:
    """``"local"`` or ``scheme://host:port``; :class:`FlowsimError` otherwise."""
    example = "give 'local', or a scheduler address such as tcp://127.0.0.1:8786"
    if address == "local":
        return address
    scheme, sep, rest = address.partition("://")
    if not sep:
        raise FlowsimError(f"--dask {address!r}: not a scheduler address; {example}")
    if scheme in NOT_FROM_AN_ADDRESS:
        raise FlowsimError(
            f"--dask {address!r}: {scheme}:// {NOT_FROM_AN_ADDRESS[scheme]}; connect with "
            "tcp:// or ws://, or from Python pass a distributed.Client of your own to "
            "flowsim.dask_executor"
        )
    if scheme not in DASK_SCHEMES:
        raise FlowsimError(
            f"--dask {address!r}: unknown protocol {scheme!r} (Dask speaks "
            f"{', '.join(DASK_SCHEMES)}); {example}"
        )
    host, colon, port = rest.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address
    valid_host = bool(host) and all(c.isalnum() or c in ".-_:" for c in host)
    if not colon or not valid_host:
        raise FlowsimError(f"--dask {address!r}: needs a host and a port; {example}")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise FlowsimError(f"--dask {address!r}: {port!r} is not a port (1 to 65535); {example}")
    return address


def dask_executor(
    address: Any, workers: int | None = None, dashboard: bool = False
) -> DaskExecutor:
    """Run on a Dask cluster: ``"local"`` starts a LocalCluster of ``workers``
    single-threaded processes (with its dashboard if ``dashboard``); a string such as
    ``tcp://host:8786`` is a scheduler, which must be trusted (Dask runs what it is
    sent); a ``distributed.Client`` of your own (for TLS, UCX or any setting an
    address cannot carry) is used as it is, and left open. An address is checked
    here, and :meth:`DaskExecutor.start` connects and checks that every worker runs
    this flowsim, both before a sweep writes anything."""
    return DaskExecutor(address, workers, dashboard)


class DaskExecutor:
    """An executor on Dask; connects on :meth:`start` (or at its first use)."""

    def __init__(self, address: Any, workers: int | None = None, dashboard: bool = False):
        try:
            import distributed
        except ImportError:
            raise FlowsimError(
                "--dask needs Dask distributed: pip install 'flowsim[dask]'"
            ) from None
        self._distributed = distributed
        self.workers = workers
        self.dashboard = dashboard
        # Kept connected after each call, for work sent in rounds; close() ends it.
        self.keep_open = False
        self.client: Any = None
        self.cluster: Any = None
        self._checked = False
        self.own_client = not isinstance(address, distributed.Client)
        if self.own_client:
            self.address = check_dask_address(address)
        else:
            self.client, self.address = address, str(address.scheduler.address)
        if dashboard and self.address == "local" and not _has_bokeh():
            raise FlowsimError(
                "--dask-dashboard: Dask's dashboard needs bokeh: pip install 'bokeh>=3.1'"
            )

    def start(self) -> None:
        if self.client is None:
            self._connect()
        if not self._checked:
            try:
                check_worker_versions(self.client)
            except BaseException:
                self.close()
                raise
            self._checked = True

    def _connect(self) -> None:
        distributed = self._distributed
        if self.address == "local":
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers or available_cores(),
                threads_per_worker=1,
                processes=True,
                # Dask's own default port; another free one if it is taken.
                dashboard_address=":8787" if self.dashboard else None,
            )
            self.client = distributed.Client(self.cluster)
            return
        try:
            self.client = distributed.Client(self.address, timeout="30s")
        except Exception as exc:  # Dask raises many kinds for a scheduler it cannot use
            raise FlowsimError(
                f"cannot reach the Dask scheduler at {self.address}: {type(exc).__name__}: {exc}"
            ) from None

    @property
    def dashboard_link(self) -> str | None:
        """The address of the cluster's dashboard, once connected; None without one."""
        if self.client is None:
            return None
        try:
            services = self.client.scheduler_info().get("services", {})
            return str(self.client.dashboard_link) if "dashboard" in services else None
        except Exception:  # an older scheduler that does not say
            return None

    def close(self) -> None:
        if not self.own_client:
            return  # the caller's, to close
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None
        self._checked = False

    def __call__(self, function: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
        self.start()
        client = self.client
        shared = None
        try:
            if isinstance(function, WithShared):
                # Once to every worker, kept there for the whole call; a worker that
                # joins later copies it from another.
                shared = client.scatter(function.shared, broadcast=True, hash=False)
                run, extra = function.function, (shared,)
            else:
                run, extra = function, ()
            in_flight = 2 * max(1, len(client.scheduler_info()["workers"]))
            queue = iter(items)
            futures = self._distributed.as_completed(
                [client.submit(run, i, *extra, pure=False) for i in islice(queue, in_flight)]
            )
            for future in futures:
                yield future.result()
                future.release()
                nxt = next(queue, None)
                if nxt is not None:
                    futures.add(client.submit(run, nxt, *extra, pure=False))
        finally:
            if shared is not None:
                shared.release()
            if not self.keep_open:
                self.close()


def check_worker_versions(client: Any) -> None:
    """Refuse a cluster whose workers run another flowsim, or none: they could give
    other figures, or fail on the first run."""
    from flowsim._version import __version__

    found = client.run(_worker_version, on_error="return")
    wrong = []
    for address, version in sorted(found.items()):
        if isinstance(version, BaseException):
            wrong.append(f"{address} cannot run flowsim ({type(version).__name__}: {version})")
        elif version != __version__:
            wrong.append(f"{address} runs flowsim {version}")
    if wrong:
        raise FlowsimError(
            f"the Dask workers must run flowsim {__version__}, as this one does: "
            + "; ".join(wrong)
            + f"; install flowsim {__version__} on every worker"
        )


def _worker_version() -> str:
    import flowsim._version  # read now: the worker's own, whatever it had imported

    return flowsim._version.__version__


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None
