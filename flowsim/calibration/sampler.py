"""A pyabc sampler whose result depends on the seed only, not on who ran it.

pyabc's own parallel samplers keep the particles that finish first, each worker
drawing from entropy, so two runs with the same seed differ. This one numbers
the candidates of a generation 0, 1, 2, ..., draws candidate ``i`` of
generation ``t`` from its own seed, ``SeedSequence(seed, spawn_key=(t, i))``,
evaluates them in batches on any flowsim executor, and keeps the first ``n``
accepted in the order of their numbers: exactly what one process drawing them
one after another would keep. A batch may run past the ``n``-th acceptance;
what lies past it is counted as simulations run, never as particles.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["candidate_seed", "evaluate_candidates", "make_sampler", "run_candidates"]

# The smallest and the largest batch of candidates sent out at once.
MIN_BATCH = 8
MAX_BATCH = 20_000
# Generations of pyabc are numbered from 0; -1 is the sample from the prior with which
# an adaptive tolerance starts. Spawn keys are non-negative: shift them by one.
_KEY_SHIFT = 1


def candidate_seed(seed: int, generation: int, index: int) -> int:
    """The 32-bit seed of candidate ``index`` of ``generation``, for numpy's and
    Python's legacy global generators, which pyabc draws its proposals from."""
    sequence = np.random.SeedSequence(seed, spawn_key=(generation + _KEY_SHIFT, index))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def evaluate_candidates(
    job: tuple[Callable[[int], Any], int, int, int, int],
) -> tuple[list[tuple[int, Any]], float]:
    """Evaluate candidates ``start`` to ``stop - 1`` of a generation, each with numpy's
    and Python's global generators seeded by its own number (pyabc draws proposals
    from them, and the model its run's seed). Runs in a worker; returns the results
    and the seconds spent."""
    function, seed, generation, start, stop = job
    began = time.perf_counter()
    out = []
    for index in range(start, stop):
        chosen = candidate_seed(seed, generation, index)
        np.random.seed(chosen)
        random.seed(chosen)
        out.append((index, function(index)))
    return out, time.perf_counter() - began


class _Candidate:
    """pyabc's ``simulate_one`` as a function of the candidate's number, which its
    seed already carries."""

    def __init__(self, simulate_one: Callable[[], Any]):
        self.simulate_one = simulate_one

    def __call__(self, index: int) -> Any:
        return self.simulate_one()


def run_candidates(
    run: Runner,
    function: Callable[[int], Any],
    seed: int,
    generation: int,
    start: int,
    count: int,
    workers: int,
) -> tuple[dict[int, Any], float]:
    """``function(i)`` for candidates ``start ... start + count - 1`` of a generation,
    on the executor ``run``; the results by number, and the seconds spent in them."""
    found: dict[int, Any] = {}
    seconds = 0.0
    jobs = list(_chunks(function, seed, generation, start, count, workers))
    for results, spent in run(evaluate_candidates, jobs):
        found.update(results)
        seconds += spent
    return found, seconds


Runner = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]


def make_sampler(
    run: Runner,
    seed: int,
    workers: int,
    budget: int,
    on_batch: Callable[[int, int, int, int], None] | None = None,
    on_prior_sample: Callable[[list[Any]], None] | None = None,
    prior_seen: bool = False,
) -> Any:
    """A pyabc sampler over ``run`` (a flowsim executor's map), with ``budget``
    simulations at most over its lifetime; ``on_batch(t, accepted, wanted, run)``
    reports progress; ``on_prior_sample(particles)`` receives every candidate drawn
    from the prior (pyabc's sample that starts an adaptive tolerance, else the first
    generation's), unless ``prior_seen``."""
    from pyabc.sampler import Sampler

    # Defined here: pyabc is imported only when a calibration runs.
    class OrderedSampler(Sampler):
        def __init__(self) -> None:
            super().__init__()
            self.seed = seed
            self.workers = max(1, workers)
            self.budget = budget
            self.simulations_run = 0
            self.simulation_seconds = 0.0
            self.simulations_by_generation: dict[int, int] = {}
            self.prior_seen = prior_seen
            self.stopped_by: str | None = None

        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            function = _Candidate(simulate_one)
            found: dict[int, Any] = {}
            accepted = 0
            next_index = 0
            while accepted < n:
                room = self.budget - self.simulations_run
                if room <= 0:
                    self.stopped_by = "budget"
                    break
                if next_index >= max_eval:
                    self.stopped_by = "acceptance rate"
                    break
                wanted = n - accepted
                if next_index == 0:
                    size = n
                else:
                    rate = max(accepted / next_index, 1.0 / next_index)
                    size = math.ceil(wanted / rate * 1.1)
                size = int(min(max(size, MIN_BATCH), MAX_BATCH, room))
                if math.isfinite(max_eval):
                    size = int(min(size, max_eval - next_index))
                results, seconds = run_candidates(
                    run, function, self.seed, t, next_index, size, self.workers
                )
                found.update(results)
                next_index += size
                self.simulations_run += size
                self.simulation_seconds += seconds
                self.simulations_by_generation[t] = self.simulations_by_generation.get(t, 0) + size
                accepted = sum(1 for p in found.values() if p.accepted)
                if on_batch is not None:
                    on_batch(t, min(accepted, n), n, self.simulations_by_generation[t])
            sample = self._create_empty_sample()
            kept = evaluated = 0
            for index in range(next_index):
                if kept == n:
                    break
                particle = found[index]
                sample.append(particle)
                evaluated += 1
                kept += bool(particle.accepted)
            # What one process drawing candidates one by one would have needed.
            self.nr_evaluations_ = evaluated
            if on_prior_sample is not None and (t == -1 or (t == 0 and not self.prior_seen)):
                self.prior_seen = True
                on_prior_sample([found[i] for i in range(next_index)])
            if kept < n:
                sample.ok = False
            return sample

    return OrderedSampler()


def _chunks(
    function: Callable[[int], Any], seed: int, generation: int, start: int, size: int,
    workers: int,
) -> Iterator[tuple[Callable[[int], Any], int, int, int, int]]:  # fmt: skip
    """Split candidates ``start ... start + size - 1`` into jobs: about four per
    worker, so that a slow one does not hold up the batch for long. Each job carries
    the generation's function (pyabc's proposal, simulation and acceptance), which
    the executor sends as it sends any work item."""
    step = max(1, math.ceil(size / (4 * workers)))
    for first in range(start, start + size, step):
        yield (function, seed, generation, first, min(first + step, start + size))
