"""Calibration: fit a scenario's unknowns to published figures with ABC-SMC, keep
held-out figures to test the fit, and write what was found (docs/calibration.md).

pyabc is needed to run a calibration (``pip install 'flowsim[calibrate]'``); the
calibration file is read and checked without it.
"""

from __future__ import annotations

from .draws import Posterior, load_posterior
from .run import CalibrationRun, calibrate, state_folder
from .spec import (
    Calibration,
    CalibrationParameter,
    CalibrationTarget,
    load_calibration_file,
)

__all__ = [
    "Calibration",
    "CalibrationParameter",
    "CalibrationRun",
    "CalibrationTarget",
    "Posterior",
    "calibrate",
    "load_calibration_file",
    "load_posterior",
    "state_folder",
]
