"""flowsim: a simulator of illicit gold flows and of sanctions exposure.

Three lines to a result::

    import flowsim
    results = flowsim.simulate(flowsim.load_scenario("scenarios/venezuela_sanctions.toml"), seed=1)
    results.exports_monthly
"""

from flowsim._version import __version__
from flowsim.compare import compare_exports, compare_exposure
from flowsim.errors import FlowsimError, Issue, MassBalanceError, ScenarioError
from flowsim.results import Results
from flowsim.scenario import load_scenario, scenario_from_dict
from flowsim.schema import Scenario
from flowsim.sensitivity import tornado
from flowsim.simulation import simulate
from flowsim.sweep import load_sweep, load_sweep_file, run_sweep

__all__ = [
    "FlowsimError",
    "Issue",
    "MassBalanceError",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare_exports",
    "compare_exposure",
    "load_scenario",
    "load_sweep",
    "load_sweep_file",
    "run_sweep",
    "scenario_from_dict",
    "simulate",
    "tornado",
]
