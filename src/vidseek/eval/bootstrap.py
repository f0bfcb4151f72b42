"""Bootstrap confidence intervals over samples, with a fixed seed (the same run gives the
same interval)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["RESAMPLES", "bootstrap_ci"]

RESAMPLES = 1000
LEVEL = 0.95


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, resamples: int = RESAMPLES,
                 level: float = LEVEL) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of per-sample ``values``.

    Args:
        values: one number per sample (1/0 for right/wrong, an IoU, an AP).
        seed: seeds the resampling.
        resamples: how many resamples.
        level: coverage, e.g. 0.95.

    Returns:
        ``(low, high)``, or None with no values.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)
