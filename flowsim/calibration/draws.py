"""Running a scenario over a calibration's posterior: answers that carry the
uncertainty of the parameters nobody knows, beside chance.

:func:`load_posterior` reads a calibration folder (checked against its manifest);
``simulate(..., posterior=...)`` then runs replication ``k`` with the parameters of
a particle drawn by weight from the final generation, with its own seed, so that
the spread over replications is the spread of the answer under both.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError
from flowsim.folders import read_verified, run_files

from .adjustment import posterior_sample
from .folder import PARTICLES, POSTERIOR, own_name

__all__ = ["Posterior", "load_posterior"]

# The spawn key's second part for the draw of replication k: (k, DRAW_KEY), apart from
# the chance of replication k, which is (k,).
DRAW_KEY = 1


@dataclass(frozen=True)
class Posterior:
    """The final generation of a calibration: its particles, their weights, and the key
    path each parameter sets."""

    calibration: str
    folder: str
    keys: Mapping[str, str]
    particles: pd.DataFrame  # one column per parameter
    weights: np.ndarray

    def draw(self, seed: int, replication: int) -> dict[str, float]:
        """The parameters of replication ``replication``: a particle drawn by weight,
        from a stream of its own, so the same whatever other replications run."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, DRAW_KEY)))
        chosen = int(rng.choice(len(self.weights), p=self.weights))
        return {name: float(self.particles.iloc[chosen][name]) for name in self.keys}

    def overrides(self, values: Mapping[str, float]) -> dict[str, float]:
        return {self.keys[name]: value for name, value in values.items()}


def load_posterior(folder: str | Path) -> Posterior:
    """The posterior of the calibration folder ``folder``, written by ``flowsim
    calibrate``; :class:`FlowsimError` if it is not one, or a file changed."""
    folder = Path(folder)
    not_one = f"{folder}: not a calibration folder (flowsim calibrate writes one)"
    try:
        owned = run_files(folder, own_name)
    except FlowsimError as exc:
        raise FlowsimError(f"{not_one}: {exc}") from None
    if owned.manifest.get("kind") != "calibration":
        raise FlowsimError(not_one)
    particles = _table(folder, owned, PARTICLES)
    posterior = _table(folder, owned, POSTERIOR)
    keys = dict(zip(posterior["parameter"], posterior["key"], strict=True))
    last = particles[particles["generation"] == particles["generation"].max()]
    last = posterior_sample(last, list(keys))
    weights = last["weight"].to_numpy(float)
    return Posterior(
        calibration=str(owned.manifest.get("calibration", folder.name)),
        folder=str(folder),
        keys=keys,
        particles=last[list(keys)],
        weights=weights / weights.sum(),
    )


def _table(folder: Path, owned: Any, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(read_verified(folder, owned, name)))
    except (OSError, ValueError) as exc:
        raise FlowsimError(f"{folder / name}: cannot be read ({exc})") from None
