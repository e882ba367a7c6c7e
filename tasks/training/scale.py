"""Scale stage: a MinMaxScaler fit on the training period only, kept as explicit JSON-able parameters."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.preprocessing import MinMaxScaler


@dataclass(frozen=True)
class ScalerParams:
    """Fitted min-max parameters: scaled = value * scale + offset (sklearn's scale_ and min_)."""

    data_min: float
    data_max: float
    scale: float
    offset: float

    def to_json(self) -> str:
        """Serialize without pickle."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ScalerParams:
        """Rebuild from to_json's output."""
        return cls(**{k: float(v) for k, v in json.loads(text).items()})


def fit_scaler(train: np.ndarray) -> ScalerParams:
    """Fit sklearn's MinMaxScaler to (0, 1) on training values only."""
    values = np.asarray(train, dtype="float64").reshape(-1, 1)
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("cannot fit the scaler: training values are empty or not finite")
    scaler = MinMaxScaler(feature_range=(0, 1)).fit(values)
    return ScalerParams(
        data_min=float(scaler.data_min_[0]),
        data_max=float(scaler.data_max_[0]),
        scale=float(scaler.scale_[0]),
        offset=float(scaler.min_[0]),
    )


def transform(values: np.ndarray, params: ScalerParams) -> np.ndarray:
    """Scale values with fitted parameters (test values may fall outside [0, 1])."""
    return np.asarray(values, dtype="float64") * params.scale + params.offset


def inverse_transform(scaled: np.ndarray, params: ScalerParams) -> np.ndarray:
    """Map scaled values back to price units."""
    return (np.asarray(scaled, dtype="float64") - params.offset) / params.scale


@dataclass(frozen=True)
class ScaledSplit:
    """Training and test closes scaled with parameters fit on the training closes alone."""

    train: np.ndarray
    test: np.ndarray
    params: ScalerParams


def scale_split(train: np.ndarray, test: np.ndarray, params: ScalerParams | None = None) -> ScaledSplit:
    """Fit on train only (unless fitted params are given, e.g. a champion's), then scale train and test."""
    params = params or fit_scaler(train)
    return ScaledSplit(train=transform(train, params), test=transform(test, params), params=params)
