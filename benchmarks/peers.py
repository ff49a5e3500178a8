"""The chain of `networks.chain_scenario` in Ciw, a general queueing-network library.

Five Ciw nodes in series stand for flowsim's schedule: transit to the buyer,
the buyer, transit to the refiner, the refiner, transit to the partner.
Transits are nodes with infinite servers (every lot starts its exponential
transit at once, as a flowsim route does); the buyer and the refiner have the
chain's servers and exponential service. Poisson arrivals enter node 1 and
each node sends its lots straight to the next; after the last they leave,
which is flowsim's export. Ciw is imported only here, so that the rest of the
benchmarks run without it (it comes with `pip install 'flowsim[bench]'`).
"""

from __future__ import annotations

from typing import Any

from benchmarks.networks import BUYER_SERVICE, REFINER_SERVICE, TRANSIT_DAYS, Chain

NODES = 5  # transit, buyer, transit, refiner, transit


def _ciw() -> Any:
    try:
        import ciw
    except ImportError:
        raise SystemExit(
            "the ciw section needs Ciw: pip install -e '.[bench]' (make bench does)"
        ) from None
    return ciw


def ciw_version() -> str:
    return _ciw().__version__


def ciw_network(chain: Chain) -> Any:
    """The Ciw network of the chain (a ``ciw.Network``)."""
    ciw = _ciw()

    exponential = ciw.dists.Exponential
    infinite = float("inf")
    routing = ciw.routing
    return ciw.create_network(
        arrival_distributions=[exponential(rate=chain.lots_per_day), None, None, None, None],
        service_distributions=[
            exponential(rate=1.0 / TRANSIT_DAYS),
            exponential(rate=1.0 / BUYER_SERVICE),
            exponential(rate=1.0 / TRANSIT_DAYS),
            exponential(rate=1.0 / REFINER_SERVICE),
            exponential(rate=1.0 / TRANSIT_DAYS),
        ],
        number_of_servers=[infinite, chain.servers, infinite, chain.servers, infinite],
        routing=routing.NetworkRouting(
            routers=[routing.Direct(to=k + 2) for k in range(NODES - 1)] + [routing.Leave()]
        ),
    )


def ciw_run(network: Any, days: float, seed: int) -> Any:
    """Simulate ``days`` days; returns the ``ciw.Simulation`` (the part to time)."""
    ciw = _ciw()

    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(days)
    return simulation


def ciw_figures(simulation: Any) -> dict[str, float]:
    """Lots that entered, lots that left the last node (exports), and their mean
    time from arrival to exit in days, to check the two models agree."""
    entered: dict[int, float] = {}
    left: dict[int, float] = {}
    for record in simulation.get_all_records():
        if record.node == 1:
            entered[record.id_number] = record.arrival_date
        elif record.node == NODES:
            left[record.id_number] = record.exit_date
    sojourns = [exit_day - entered[i] for i, exit_day in left.items()]
    return {
        "arrived": simulation.nodes[0].number_of_individuals,
        "completed": len(left),
        "mean_days_in_chain": sum(sojourns) / len(sojourns) if sojourns else float("nan"),
    }
