"""Buyers and refiners are multi-server queues: they reproduce the M/M/1,
M/M/c (Erlang C) and Burke / Jackson tandem laws.

Poisson arrivals: a mine whose ``lot_interval_days`` is exponential with mean
``1 / lambda`` makes lots at the points of a Poisson process (its first lot
comes on day 0, after which the gaps are independent exponentials). A route
with a fixed one-day transit shifts the process and keeps it Poisson. The
stage under test has exponential ``processing_days`` of mean ``1 / mu`` and a
``capacity_kg_per_day`` so large that ``mass / capacity`` adds 1e-12 days to
a 1 kg lot. Time in system is read off the ledger: from the lot's
``delivered`` row at the node to its ``shipped`` row from it.

Tolerances: the means are over 28,000 to 38,000 lots at utilisation 0.5. The
relative standard error of the mean time in system is then about 1.5% for
M/M/1 (4,000 replications of the Lindley recursion), 1.4% for M/M/2 and 1%
for M/M/3, so 5% is more than three standard errors (an M/M/1 run of this
length misses it about once in 800 seeds). Seeds are fixed, so the tests are
deterministic.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
from networks import chain, node, route, rows, run

# Lots arriving in the first WARM_UP days are dropped (the queue starts empty),
# and so are those arriving in the last END_MARGIN days (some would still be
# in the system when the run ends). Both are hundreds of mean times in system.
WARM_UP = 20.0
END_MARGIN = 20.0
LAMBDA = 10.0  # lots (of 1 kg) a day
MU = 20.0  # lots a server finishes a day


def erlang_c_time_in_system(lam: float, mu: float, servers: int) -> float:
    """Mean time in system of an M/M/c queue (Erlang C): C(c, a) / (c mu - lambda) + 1 / mu."""
    a = lam / mu
    rho = a / servers
    assert rho < 1
    below = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / math.factorial(servers) / (1 - rho)
    waits = top / (below + top)  # probability that an arrival waits
    return waits / (servers * mu - lam) + 1 / mu


def poisson_mine_to_queues(days: int, servers: int, second_stage: bool) -> dict:
    """mine (Poisson, LAMBDA lots/day) -> refinery (servers x Exp(MU)) [-> exporter,
    a buyer with one Exp(MU) server] -> partner, one fixed day on each route."""
    data = chain(days=days)
    last = datetime.date(2018, 1, 1) + datetime.timedelta(days=days)
    data["prices"]["usd_per_oz"] = {str(y): 1000.0 for y in range(2018, last.year + 1)}
    exponential = {"dist": "exponential", "mean": 1.0 / MU}
    data["nodes"] = {
        "mine": node(
            "mine",
            production_kg_per_day=LAMBDA,  # 1 kg a lot
            lot_interval_days={"dist": "exponential", "mean": 1.0 / LAMBDA},
        ),
        "refinery": node(
            "refiner", capacity_kg_per_day=1e12, servers=servers, processing_days=exponential
        ),
        "partner": node("partner"),
    }
    data["routes"] = {"mine_refinery": route("mine", "refinery")}
    if second_stage:
        data["nodes"]["exporter"] = node(
            "buyer", capacity_kg_per_day=1e12, processing_days=exponential
        )
        data["routes"]["refinery_exporter"] = route("refinery", "exporter")
        data["routes"]["exporter_partner"] = route("exporter", "partner")
    else:
        data["routes"]["refinery_partner"] = route("refinery", "partner")
    return data


def stage(results, where: str, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Time in system of each lot at ``where``, and the sorted days they arrived there."""
    delivered = rows(results, "delivered")
    shipped = rows(results, "shipped")
    arrived = delivered[delivered["node"] == where].set_index("lot")["day"]
    left = shipped[shipped["node"] == where].set_index("lot")["day"]
    arrived = arrived[(arrived >= WARM_UP) & (arrived < days - END_MARGIN)]
    sojourn = (left.reindex(arrived.index) - arrived).to_numpy()
    assert not np.isnan(sojourn).any()  # every lot counted has left
    return sojourn, np.sort(arrived.to_numpy())


TANDEM_DAYS = 3800


@pytest.fixture(scope="module")
def tandem():
    """One long run of the two-stage line, shared by the tests that read it."""
    return run(poisson_mine_to_queues(TANDEM_DAYS, servers=1, second_stage=True), seed=1)


def assert_poisson(arrivals: np.ndarray, lam: float) -> None:
    gaps = np.diff(arrivals)
    assert gaps.mean() == pytest.approx(1 / lam, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.03)
    assert (gaps > 1 / lam).mean() == pytest.approx(math.exp(-1), abs=0.01)


def test_mine_with_exponential_lot_intervals_is_a_poisson_source(tandem):
    """The arrivals are what the M/M/c formulas assume: inter-arrival times at
    the refinery are exponential of mean 1/lambda (mean, coefficient of
    variation 1, and P(gap > 1/lambda) = e^-1 of a Poisson process)."""
    _, arrivals = stage(tandem, "refinery", TANDEM_DAYS)
    assert len(arrivals) > 35_000
    assert_poisson(arrivals, LAMBDA)


def test_single_refiner_matches_mm1_time_in_system(tandem):
    """M/M/1 (Poisson arrivals, one exponential server, FIFO): mean time in
    system W = 1 / (mu - lambda) within 5%, and the time in system is itself
    exponential with that mean, so P(T > W) = e^-1."""
    sojourn, _ = stage(tandem, "refinery", TANDEM_DAYS)
    theory = 1.0 / (MU - LAMBDA)
    assert sojourn.mean() == pytest.approx(theory, rel=0.05)
    assert (sojourn > theory).mean() == pytest.approx(math.exp(-1), abs=0.02)


def test_lots_leaving_an_mm1_refiner_form_a_poisson_stream(tandem):
    """Burke's theorem and Jackson networks: the departures of a stable M/M/1
    queue are a Poisson process of the arrival rate, so a buyer that takes the
    refiner's output is itself an M/M/1 queue: its inter-arrival times are
    exponential of mean 1/lambda and its mean time in system is 1 / (mu -
    lambda), within 5%."""
    sojourn, arrivals = stage(tandem, "exporter", TANDEM_DAYS)
    assert_poisson(arrivals, LAMBDA)
    assert sojourn.mean() == pytest.approx(1.0 / (MU - LAMBDA), rel=0.05)


@pytest.mark.parametrize(
    ("servers", "lam", "days"),
    [(2, 20.0, 2000), (3, 30.0, 1000)],
    ids=["M/M/2", "M/M/3"],
)
def test_refiner_with_parallel_servers_matches_erlang_c(servers, lam, days):
    """M/M/c (Poisson arrivals, c exponential servers, one shared FIFO queue):
    mean time in system equals the Erlang C value C(c, a) / (c mu - lambda) +
    1 / mu within 5%, at rho = 0.5 (about 40,000 lots for c=2 and 30,000 for
    c=3). The value lies between the two models a refiner with c servers could
    be mistaken for, each more than 20% away: one server c times as fast
    (M/M/1 at rate c mu, quicker) and c separate queues (c M/M/1 queues at
    lambda / c each, slower)."""
    data = poisson_mine_to_queues(days, servers=servers, second_stage=False)
    data["nodes"]["mine"].update(
        production_kg_per_day=lam, lot_interval_days={"dist": "exponential", "mean": 1.0 / lam}
    )
    sojourn, _ = stage(run(data, seed=2), "refinery", days)
    theory = erlang_c_time_in_system(lam, MU, servers)
    one_fast_server = 1.0 / (servers * MU - lam)
    separate_queues = 1.0 / (MU - lam / servers)
    assert one_fast_server < theory / 1.2 and separate_queues > 1.2 * theory
    assert sojourn.mean() == pytest.approx(theory, rel=0.05)
