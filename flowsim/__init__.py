"""flowsim: a simulator of illicit gold flows and of sanctions exposure.

Three lines to a result::

    import flowsim
    results = flowsim.simulate(flowsim.load_scenario("scenarios/venezuela_sanctions.toml"), seed=1)
    results.exports_monthly

Everything public is a name of this package (``__all__``). Each is imported on first
use, so that ``import flowsim`` and ``flowsim --version`` cost milliseconds, and a
command pays only for what it uses (pandas, SimPy, matplotlib...).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from flowsim._version import __version__

# Where each public name lives.
_PUBLIC = {
    "FlowsimError": "flowsim.errors",
    "FlowsimWarning": "flowsim.errors",
    "Issue": "flowsim.errors",
    "MassBalanceError": "flowsim.errors",
    "ScenarioError": "flowsim.errors",
    "Results": "flowsim.results",
    "RunMeta": "flowsim.runmeta",
    "MAX_SEED": "flowsim.limits",
    "Scenario": "flowsim.schema",
    "load_scenario": "flowsim.scenario",
    "scenario_from_dict": "flowsim.scenario",
    "scenario_schema": "flowsim.schemas",
    "summary_schema": "flowsim.schemas",
    "sweep_schema": "flowsim.schemas",
    "calibration_schema": "flowsim.schemas",
    "simulate": "flowsim.simulation",
    "BaselineRun": "flowsim.baseline",
    "run_baseline": "flowsim.baseline",
    "compare_exports": "flowsim.compare",
    "compare_exposure": "flowsim.compare",
    "read_trade_data": "flowsim.mirror",
    "compare_trade": "flowsim.mirror",
    "read_summary": "flowsim.runfolder",
    "render_report": "flowsim.report",
    "write_report": "flowsim.report",
    "tornado": "flowsim.sensitivity",
    "experiments_outcomes": "flowsim.sensitivity",
    "sensitivity_indices": "flowsim.indices",
    "check_sensitivity_design": "flowsim.indices",
    "discover": "flowsim.discovery",
    "prim": "flowsim.discovery",
    "Calibration": "flowsim.calibration",
    "CalibrationRun": "flowsim.calibration",
    "calibrate": "flowsim.calibration",
    "load_calibration_file": "flowsim.calibration",
    "load_posterior": "flowsim.calibration",
    "Posterior": "flowsim.calibration",
    "load_sweep": "flowsim.sweeptable",
    "sweep_arrow": "flowsim.sweeptable",
    "load_sweep_file": "flowsim.sweep",
    "run_sweep": "flowsim.sweep",
    "sweep_runs": "flowsim.sweep",
    "metric_intervals": "flowsim.intervals",
    "available_cores": "flowsim.executors",
    "dask_executor": "flowsim.executors",
    "pool_executor": "flowsim.executors",
    "serial_executor": "flowsim.executors",
    "evaluate_expectations": "flowsim.expectations",
    "write_junit": "flowsim.expectations",
    "check_path": "flowsim.folders",
    "printable": "flowsim.text",
    "spelling_hint": "flowsim.findings",
    "Example": "flowsim.examples",
    "CopiedExamples": "flowsim.examples",
    "list_examples": "flowsim.examples",
    "copy_examples": "flowsim.examples",
    "unsupported_figures_in": "flowsim.notes",
}
# Public names that differ from their name in the module that defines them.
_RENAMED = {
    "check_sensitivity_design": "check_design",
    "evaluate_expectations": "evaluate",
    "spelling_hint": "hint",
    "sweep_runs": "expand",
}

__all__ = [
    "MAX_SEED",
    "BaselineRun",
    "Calibration",
    "CalibrationRun",
    "CopiedExamples",
    "Example",
    "FlowsimError",
    "FlowsimWarning",
    "Issue",
    "MassBalanceError",
    "Posterior",
    "Results",
    "RunMeta",
    "Scenario",
    "ScenarioError",
    "__version__",
    "available_cores",
    "calibrate",
    "calibration_schema",
    "check_path",
    "check_sensitivity_design",
    "compare_exports",
    "compare_exposure",
    "compare_trade",
    "copy_examples",
    "dask_executor",
    "discover",
    "evaluate_expectations",
    "experiments_outcomes",
    "list_examples",
    "load_calibration_file",
    "load_posterior",
    "load_scenario",
    "load_sweep",
    "load_sweep_file",
    "metric_intervals",
    "pool_executor",
    "prim",
    "printable",
    "read_summary",
    "read_trade_data",
    "render_report",
    "run_baseline",
    "run_sweep",
    "scenario_from_dict",
    "scenario_schema",
    "sensitivity_indices",
    "serial_executor",
    "simulate",
    "spelling_hint",
    "summary_schema",
    "sweep_arrow",
    "sweep_runs",
    "sweep_schema",
    "tornado",
    "unsupported_figures_in",
    "write_junit",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'flowsim' has no attribute {name!r}")
    value = getattr(_load(module), _RENAMED.get(name, name))
    globals()[name] = value  # imported once
    return value


def _load(module: str) -> ModuleType:
    """The module, imported by a plain import statement: the names are this file's."""
    if module == "flowsim.calibration":
        from flowsim import calibration as loaded
    elif module == "flowsim.compare":
        from flowsim import compare as loaded
    elif module == "flowsim.discovery":
        from flowsim import discovery as loaded
    elif module == "flowsim.errors":
        from flowsim import errors as loaded
    elif module == "flowsim.examples":
        from flowsim import examples as loaded
    elif module == "flowsim.executors":
        from flowsim import executors as loaded
    elif module == "flowsim.expectations":
        from flowsim import expectations as loaded
    elif module == "flowsim.findings":
        from flowsim import findings as loaded
    elif module == "flowsim.folders":
        from flowsim import folders as loaded
    elif module == "flowsim.intervals":
        from flowsim import intervals as loaded
    elif module == "flowsim.indices":
        from flowsim import indices as loaded
    elif module == "flowsim.limits":
        from flowsim import limits as loaded
    elif module == "flowsim.baseline":
        from flowsim import baseline as loaded
    elif module == "flowsim.mirror":
        from flowsim import mirror as loaded
    elif module == "flowsim.report":
        from flowsim import report as loaded
    elif module == "flowsim.results":
        from flowsim import results as loaded
    elif module == "flowsim.runfolder":
        from flowsim import runfolder as loaded
    elif module == "flowsim.runmeta":
        from flowsim import runmeta as loaded
    elif module == "flowsim.scenario":
        from flowsim import scenario as loaded
    elif module == "flowsim.schema":
        from flowsim import schema as loaded
    elif module == "flowsim.schemas":
        from flowsim import schemas as loaded
    elif module == "flowsim.sensitivity":
        from flowsim import sensitivity as loaded
    elif module == "flowsim.simulation":
        from flowsim import simulation as loaded
    elif module == "flowsim.notes":
        from flowsim import notes as loaded
    elif module == "flowsim.sweep":
        from flowsim import sweep as loaded
    elif module == "flowsim.sweeptable":
        from flowsim import sweeptable as loaded
    elif module == "flowsim.text":
        from flowsim import text as loaded
    else:  # pragma: no cover - every value of _PUBLIC is listed above
        raise AttributeError(module)
    return loaded


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and editors see
    from flowsim.calibration import (
        Calibration,
        CalibrationRun,
        Posterior,
        calibrate,
        load_calibration_file,
        load_posterior,
    )
    from flowsim.compare import compare_exports, compare_exposure
    from flowsim.discovery import discover, prim
    from flowsim.errors import FlowsimError, FlowsimWarning, Issue, MassBalanceError, ScenarioError
    from flowsim.examples import CopiedExamples, Example, copy_examples, list_examples
    from flowsim.executors import available_cores, dask_executor, pool_executor, serial_executor
    from flowsim.expectations import evaluate as evaluate_expectations
    from flowsim.expectations import write_junit
    from flowsim.findings import hint as spelling_hint
    from flowsim.folders import check_path
    from flowsim.indices import check_design as check_sensitivity_design
    from flowsim.indices import sensitivity_indices
    from flowsim.intervals import metric_intervals
    from flowsim.limits import MAX_SEED
    from flowsim.mirror import compare_trade, read_trade_data
    from flowsim.notes import unsupported_figures_in
    from flowsim.report import render_report, write_report
    from flowsim.results import Results
    from flowsim.runfolder import read_summary
    from flowsim.runmeta import RunMeta
    from flowsim.scenario import load_scenario, scenario_from_dict
    from flowsim.schema import Scenario
    from flowsim.schemas import calibration_schema, scenario_schema, summary_schema, sweep_schema
    from flowsim.sensitivity import experiments_outcomes, tornado
    from flowsim.simulation import simulate
    from flowsim.sweep import expand as sweep_runs
    from flowsim.sweep import load_sweep_file, run_sweep
    from flowsim.sweeptable import load_sweep, sweep_arrow
    from flowsim.text import printable
