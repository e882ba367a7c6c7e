"""80% and 95% intervals for every forecast: adaptive, normalized conformal intervals from the candidate's
own out-of-sample errors.

Normalized: an error is the volatility-scaled log error z of tasks/scoring/evidence.py, so tonight's bounds are
forecast * exp(q * sigma_now * sqrt(h)) with q quantiles of the candidate's recent z at that horizon;
a calm period's errors then still size a storm's bands.

Adaptive (Gibbs and Candes, "Adaptive conformal inference under distribution shift", 2021): the share
alpha left outside the band starts at the nominal one (0.20, 0.05) and moves by ACI_STEP for every live
forecast of the evidence window, down after a close that fell outside its band, up after one inside:
alpha = nominal + ACI_STEP * sum(nominal - miss). So a run of misses widens the bands within days, and a
calm spell narrows them again. Backtest forecasts, which carry no band, shape q but not alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

LEVELS = (80, 95)
ACI_STEP = 0.05
MIN_ERRORS = 20
"""Fewer z than this at a horizon: the bands use a normal distribution's quantiles instead."""
ALPHA_RANGE = (0.002, 0.9)
TAIL_LEVELS = (95,)
"""The bands a long tail memory may widen: jumps land in the 95% band's tails; widening the 80% band too
over-covered calm spells after a storm in the replays (0.90 at h5, tests/tasks/scoring/test_calibration.py)."""


@dataclass(frozen=True)
class Errors:
    """A candidate's standardized errors at one horizon, and the alpha each level uses tonight."""

    z: np.ndarray
    alphas: dict[int, float]


def adapted_alpha(rows: pd.DataFrame, level: int) -> float:
    """Nominal alpha moved by ACI_STEP for each live forecast's hit or miss of its `level`% band."""
    nominal = 1 - level / 100
    if f"lower_{level}" not in rows.columns or f"upper_{level}" not in rows.columns:
        return nominal
    lower, upper = (rows[f"{side}_{level}"].to_numpy("float64", na_value=np.nan) for side in ("lower", "upper"))
    actual = rows["actual"].to_numpy("float64")
    live = ~(np.isnan(lower) | np.isnan(upper))
    misses = ~((actual >= lower) & (actual <= upper))[live]
    alpha = nominal + ACI_STEP * float((nominal - misses.astype(float)).sum())
    return min(max(alpha, ALPHA_RANGE[0]), ALPHA_RANGE[1])


def errors_by_horizon(evidence: pd.DataFrame, candidate: str) -> dict[int, Errors]:
    """A candidate's standardized errors and adapted alphas per horizon."""
    own = evidence[evidence["candidate"] == candidate]
    return {
        int(h): Errors(group["z"].to_numpy("float64"), {lv: adapted_alpha(group, lv) for lv in LEVELS})
        for h, group in own.groupby("horizon")
    }


def finite(z: np.ndarray) -> np.ndarray:
    """The finite values of a set of standardized errors, as float64."""
    values = np.asarray(z, dtype="float64")
    return values[np.isfinite(values)]


def interval_quantiles(z: np.ndarray, alpha: float) -> tuple[float, float]:
    """The (lower, upper) quantiles of standardized errors leaving alpha outside, half on each side."""
    values = finite(z)
    if len(values) < MIN_ERRORS:
        edge = NormalDist().inv_cdf(1 - alpha / 2)
        return -edge, edge
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))


def horizon_quantiles(own: Errors, level: int, tails: np.ndarray | None) -> tuple[float, float]:
    """The (lower, upper) quantiles at one horizon: the candidate's own, and for the TAIL_LEVELS widened to those
    of the long-memory tails (naive's z over tail_memory origins, at the same adapted alpha, centred on the
    candidate's own median) where those reach further."""
    lower, upper = interval_quantiles(own.z, own.alphas[level])
    if tails is None or len(tails) < MIN_ERRORS or level not in TAIL_LEVELS:
        return lower, upper
    far_lower, far_upper = interval_quantiles(tails, own.alphas[level])
    shift = _center(own.z) - _center(tails)  # naive's drift is in its errors, and a drifting forecast's is not
    return min(lower, far_lower + shift), max(upper, far_upper + shift)


def _center(z: np.ndarray) -> float:
    """The median of the finite errors (0 with fewer than MIN_ERRORS: the normal fallback is centred)."""
    values = finite(z)
    return float(np.median(values)) if len(values) >= MIN_ERRORS else 0.0


def intervals(
    forecasts: np.ndarray,
    errors: dict[int, Errors],
    sigma_now: float,
    tails: dict[int, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """lower_80, upper_80, lower_95, upper_95 for a path of forecasts (horizon 1 first); tails: naive's z per
    horizon over a long memory, a floor under the bands' reach (tasks/scoring/evidence.naive_z), or None."""
    path = np.asarray(forecasts, dtype="float64")
    spread = sigma_now * np.sqrt(np.arange(1, len(path) + 1))
    bounds: dict[str, np.ndarray] = {}
    for level in LEVELS:
        nominal = Errors(np.empty(0), {level: 1 - level / 100})
        pairs = [
            horizon_quantiles(errors.get(h, nominal), level, (tails or {}).get(h)) for h in range(1, len(path) + 1)
        ]
        bounds[f"lower_{level}"] = path * np.exp(np.array([lo for lo, _ in pairs]) * spread)
        bounds[f"upper_{level}"] = path * np.exp(np.array([hi for _, hi in pairs]) * spread)
    return bounds
