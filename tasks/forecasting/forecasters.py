"""Fit any candidate on the closes up to an origin and forecast horizons 1..H from origins, whatever its family.

Statistical candidates (tasks/forecasting/baselines.py) refit in well under a second. An RNN candidate trains its
3-layer stack on every window of the closes it is given, from scratch or (fine-tune) starting from its
previous version's weights and scaler. The fitted state is data; flows/model_files.py writes and reads its
model folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nightcast.candidates import Candidate
from nightcast.errors import InputError
from tasks.forecasting import baselines
from tasks.forecasting.folds import min_closes
from tasks.training import target as target_stage
from tasks.training.models import TrainedModel
from tasks.training.predict import forecast_from_origins
from tasks.training.scale import ScalerParams, fit_scaler, transform
from tasks.training.train import train_many_with_options, train_with_options
from tasks.training.window import Windows, make_windows

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from nightcast.stage_options import Fitting


@dataclass(frozen=True)
class RnnState:
    """A trained RNN and the scaler its inputs were scaled with."""

    model: keras.Model
    scaler: ScalerParams


@dataclass(frozen=True)
class Fitted:
    """A candidate fitted on closes up to some row: its state, how it was trained and how long it took."""

    candidate: Candidate
    state: Any
    """baselines.StatFit, or RnnState."""
    training: str
    """"fit" (statistical), "full" (RNN from scratch) or "fine_tune" (RNN from its previous version)."""
    seconds: float = 0.0
    epochs: int = 0


def checked_closes(candidate: Candidate, closes: np.ndarray, fitting: Fitting) -> np.ndarray:
    """The closes as a float64 vector, refused (InputError) when too few to fit the candidate on."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    needed = min_closes(candidate, fitting.time_step)
    if len(values) < needed:
        raise InputError(f"{candidate.name} needs at least {needed} closes to fit, got {len(values)}")
    return values


def fit(
    candidate: Candidate,
    closes: np.ndarray,
    fitting: Fitting,
    previous: RnnState | baselines.StatFit | None = None,
    log: Callable[[str], None] | None = None,
) -> Fitted:
    """Fit the candidate on every close given (all of them up to the origin). With its previous version, an
    RNN fine-tunes it and a statistical model keeps its parameters (tonight's closes are only filtered when
    it forecasts)."""
    values = checked_closes(candidate, closes, fitting)
    started = time.perf_counter()
    if not candidate.is_rnn:
        if isinstance(previous, baselines.StatFit):
            return Fitted(candidate, previous, "filter", 0.0)
        state = baselines.FITS[candidate.name][0](values)
        return Fitted(candidate, state, "fit", time.perf_counter() - started)
    assert previous is None or isinstance(previous, RnnState)
    scaler, windows = rnn_inputs(candidate, values, fitting, previous)
    trained = train_with_options(
        windows.X,
        windows.y,
        fitting,
        kind=candidate.kind or "",
        log=log,
        start_from=None if previous is None else previous.model,
    )
    return rnn_fitted(candidate, scaler, trained, previous)


def rnn_inputs(
    candidate: Candidate, values: np.ndarray, fitting: Fitting, previous: RnnState | None
) -> tuple[ScalerParams, Windows]:
    """An RNN's scaler (its previous version's when it fine-tunes) and training windows of the closes."""
    assert candidate.target
    series = target_stage.to_series(values, candidate.target)
    scaler = previous.scaler if previous is not None else fit_scaler(series)
    return scaler, make_windows(transform(series, scaler), fitting.time_step)


def rnn_fitted(candidate: Candidate, scaler: ScalerParams, trained: TrainedModel, previous: Any) -> Fitted:
    """The fitted record of a trained RNN."""
    training = "full" if previous is None else "fine_tune"
    return Fitted(candidate, RnnState(trained.model, scaler), training, trained.seconds, trained.epochs_run)


def forecast(fitted: Fitted, closes: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Price forecasts of horizons 1..horizon from each origin row (reading closes up to it), (origins, horizon)."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    origins = np.asarray(origins, dtype="int64").reshape(-1)
    if fitted.candidate.is_rnn:
        state: RnnState = fitted.state
        return forecast_from_origins(
            state.model, values, origins, state.scaler, fitted.candidate.target or "price", horizon
        )
    return baselines.forecast_origins(fitted.candidate.name, fitted.state, values, origins, horizon)


Job = tuple[np.ndarray, RnnState | baselines.StatFit | None]
"""One ticker's fit: its closes and the candidate's previous version (None: from scratch)."""


def fit_many(
    candidate: Candidate, jobs: list[Job], fitting: Fitting, log: Callable[[str], None] | None = None
) -> list[Fitted | Exception]:
    """Fit one candidate for many tickers: each job's fit, or the exception that job's data raised (the
    other jobs are not affected). An RNN's fits train together, as the lanes of one computation
    (tasks/training/lanes.py); should that computation fail, each job is fitted alone so the failure stays its own."""
    if not candidate.is_rnn:
        return [fit_or_error(candidate, closes, fitting, previous, log) for closes, previous in jobs]
    out: list[Fitted | Exception | None] = []
    inputs: dict[int, tuple[ScalerParams, Windows, Any]] = {}
    for i, (closes, previous) in enumerate(jobs):
        try:
            values = checked_closes(candidate, closes, fitting)
            assert previous is None or isinstance(previous, RnnState)
            inputs[i] = (*rnn_inputs(candidate, values, fitting, previous), previous)
            out.append(None)
        except Exception as error:  # a ticker's bad data fails that ticker alone
            out.append(error)
    try:
        trained = train_many_with_options(
            [(w.X, w.y, None if p is None else p.model) for _, w, p in inputs.values()], fitting, candidate.kind or ""
        )
    except Exception as error:  # one ticker's fit broke the shared computation: fit each alone
        if log:
            log(f"{candidate.name}: the stacked fit of {len(inputs)} tickers failed ({error}); fitting each alone")
        return [fit_or_error(candidate, closes, fitting, previous, log) for closes, previous in jobs]
    for i, done in zip(inputs, trained, strict=True):
        scaler, _, previous = inputs[i]
        out[i] = rnn_fitted(candidate, scaler, done, previous)
    return [fitted for fitted in out if fitted is not None]


def fit_or_error(
    candidate: Candidate, closes: np.ndarray, fitting: Fitting, previous: Any, log: Callable[[str], None] | None
) -> Fitted | Exception:
    """One job's fit, or the exception its data raised."""
    try:
        return fit(candidate, closes, fitting, previous, log)
    except Exception as error:
        return error
