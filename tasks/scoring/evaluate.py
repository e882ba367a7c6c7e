"""Evaluate stage: one-step errors in price units for a model and for naive persistence (nightcast compare)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, root_mean_squared_error


@dataclass(frozen=True)
class Scores:
    """RMSE, MAE and MAPE (in percent) of one forecast against the actual closes."""

    rmse: float
    mae: float
    mape: float


@dataclass(frozen=True)
class Evaluation:
    """The model's and the naive forecast's scores on the same days, and the skill of the model."""

    model: Scores
    naive: Scores
    skill: float

    def as_row(self) -> dict[str, float]:
        """Flat columns for the metrics table."""
        row = asdict(self.model)
        row.update({f"naive_{k}": v for k, v in asdict(self.naive).items()})
        row["skill"] = self.skill
        return row


def naive_forecast(previous_close: float, actual: np.ndarray) -> np.ndarray:
    """Persistence: each day's forecast is the previous day's actual close."""
    values = np.asarray(actual, dtype="float64").reshape(-1)
    return np.concatenate([[float(previous_close)], values[:-1]])


def score(actual: np.ndarray, predicted: np.ndarray) -> Scores:
    """Errors in price units; MAPE in percent."""
    actual = np.asarray(actual, dtype="float64").reshape(-1)
    predicted = np.asarray(predicted, dtype="float64").reshape(-1)
    if len(actual) == 0 or len(actual) != len(predicted):
        raise ValueError(f"need equal, non-empty actual and predicted, got {len(actual)} and {len(predicted)}")
    return Scores(
        rmse=float(root_mean_squared_error(actual, predicted)),
        mae=float(mean_absolute_error(actual, predicted)),
        mape=float(mean_absolute_percentage_error(actual, predicted) * 100.0),
    )


def evaluate_predictions(actual: np.ndarray, predicted: np.ndarray, naive: np.ndarray) -> Evaluation:
    """Score model and naive on the same days; skill = 1 - RMSE / RMSE_naive."""
    model, baseline = score(actual, predicted), score(actual, naive)
    skill = 1.0 - model.rmse / baseline.rmse if baseline.rmse > 0 else float("nan")
    return Evaluation(model=model, naive=baseline, skill=skill)
