"""Prefect tasks of the model registry: plan tonight's training, load the champion, pick who forecasts."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from flows.steps import stage
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tasks import predict as predict_stage
from tasks import registry
from tasks import scale as scale_stage
from tasks import store as store_stage
from tasks import train as train_stage


@dataclasses.dataclass(frozen=True)
class ModelState:
    """A stored model, the scaler it was trained with, and its card (kind and target)."""

    model: object
    scaler: scale_stage.ScalerParams
    card: train_stage.ModelCard = train_stage.ModelCard()

    def incompatibility(self, settings: Settings) -> str | None:
        """Why this model cannot be fine-tuned with settings, or None."""
        time_step = int(self.model.input_shape[1])
        for name, theirs, ours in (("time_step", time_step, settings.time_step),
                                   ("model", self.card.model, settings.model),
                                   ("target", self.card.target, settings.target)):
            if theirs != ours:
                return f"another {name} ({theirs}, not {ours})"
        return None

    def predict_last_days(self, closes: np.ndarray, days: int) -> np.ndarray:
        """This model's one-step predictions of the last `days` closes, in price units."""
        return predict_stage.predict_last_days(self.model, closes, self.scaler, days, self.card.target)

    def forecast(self, closes: np.ndarray, as_of: dt.date, horizon: int):
        """This model's recursive forecast for horizon business days after as_of, in price units."""
        return predict_stage.forecast_from_closes(self.model, closes, self.scaler, as_of, horizon, self.card.target)


@dataclasses.dataclass(frozen=True)
class Selection:
    """The registry's decision and the forecasts of whichever model is champion after it."""

    decision: registry.Decision
    forecast_version: str
    predictions: predict_stage.Predictions


def load_state(warehouse: Warehouse, ticker: str, run_id: str) -> ModelState:
    """A registered model's .keras file (safe mode), scaler.json and model.json, from its run's model folder."""
    folder = warehouse.model_dir(ticker, run_id)
    return ModelState(model=train_stage.load_model(folder / "model.keras"),
                      scaler=scale_stage.ScalerParams.load(folder / "scaler.json"),
                      card=train_stage.ModelCard.load(folder / "model.json"))


@stage("plan_training")
def plan_training(warehouse: Warehouse, settings: Settings, as_of: dt.date) -> tuple[registry.TrainingPlan, ModelState | None]:
    """Full retrain or fine-tune of the champion (loaded here when fine-tuning), and why."""
    champion = registry.current_champion(warehouse, settings.symbol)
    state = None
    if champion is not None and settings.full_retrain_every_days > 0:
        state = load_state(warehouse, settings.symbol, champion.run_id)
    incompatible = None if state is None else state.incompatibility(settings)
    last_full = registry.last_full_training(warehouse, settings.symbol)
    plan = registry.plan_training(champion, last_full, as_of, settings.full_retrain_every_days, incompatible)
    return plan, (state if plan.mode == "fine_tune" else None)


def model_facts(run: store_stage.RunInfo, settings: Settings, prices: pd.DataFrame, train_end: dt.date,
                model_path: str, evaluation) -> dict:
    """Tonight's model as the registry describes it."""
    return {"model_version": store_stage.model_version(run, settings.model), "ticker": run.ticker,
            "run_id": run.run_id, "model": settings.model, "target": settings.target,
            "time_step": settings.time_step, "path": model_path,
            "trained_at": pd.Timestamp.now(tz="UTC"), "data_start": prices["date"].iloc[0].date(),
            "data_end": prices["date"].iloc[-1].date(), "train_end": train_end,
            "rmse": evaluation.model.rmse, "naive_rmse": evaluation.naive.rmse, "skill": evaluation.skill}


@stage("select_champion")
def select_champion(warehouse: Warehouse, settings: Settings, plan: registry.TrainingPlan, facts: dict,
                    predictions: predict_stage.Predictions, closes: np.ndarray) -> Selection:
    """Compare tonight's model with the champion on the latest test days, record the decision, and
    forecast with whichever is champion afterwards. Under the ticker's registry lock, so two runs of
    one ticker never both replace the same champion."""
    ticker = settings.symbol
    days = min(settings.comparison_days, len(predictions.actual))
    challenger = registry.recent_rmse(predictions.actual, predictions.predicted, days)
    with warehouse.lock(f"registry-{ticker}"):
        champion = registry.current_champion(warehouse, ticker)
        state = champion_rmse = None
        if champion is not None:
            state = load_state(warehouse, ticker, champion.run_id)
            champion_rmse = registry.recent_rmse(predictions.actual[-days:], state.predict_last_days(closes, days),
                                                 days)
        decision = registry.decide(challenger, champion_rmse, champion and champion.model_version, days,
                                   settings.promotion_tolerance)
        retired = registry.latest_row(warehouse, champion.model_version) if decision.promoted and champion else None
        events = registry.model_events(facts, decision, plan, retired, pd.Timestamp.now(tz="UTC"))
        warehouse.write_run_table("model_events", ticker, facts["run_id"], events)
    if decision.promoted:
        return Selection(decision, facts["model_version"], predictions)
    dates, values = state.forecast(closes, predictions.as_of, settings.horizon)
    return Selection(decision, champion.model_version,
                     dataclasses.replace(predictions, target_dates=dates, forecasts=values))
