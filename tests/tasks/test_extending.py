"""Adding an RNN layer kind or a target is one registry entry: a toy kind and a toy target, registered
the way a new one would be, backtest, fit, forecast and compete like the built-in candidates."""

import numpy as np
import pandas as pd
import pytest

from nightcast import candidates
from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from nightcast.targets import TARGET_SPECS, Target
from tasks.forecasting import forecasters, rolling_origin, tonight
from tasks.scoring import champion, evidence
from tests.conftest import random_walk_prices

DIFF = Target(
    "diff",
    1,
    lambda closes: np.diff(closes),
    lambda values, previous: previous + values,
    lambda values, last: last[:, None] + np.cumsum(values, axis=1),
)
"""A toy target: the day's change of the close."""


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(candidates.KINDS, "toy", "GRU")  # a new kind: one entry naming its keras layer
    monkeypatch.setitem(TARGET_SPECS, "diff", DIFF)  # a new target: one spec
    monkeypatch.setattr(candidates, "CANDIDATES", candidates.build_candidates())
    return candidates.candidate("toy-diff")


def test_a_toy_kind_and_target_run_through_every_stage(toy):
    settings = Settings(
        candidates=["toy-diff"],
        time_step=5,
        epochs=1,
        fine_tune_epochs=1,
        horizon=3,
        batch_size=16,
        backtest_folds=2,
        backtest_refit_every=5,
    )
    assert settings.candidates == ["naive", "toy-diff"] and (toy.kind, toy.target) == ("toy", "diff")
    plan, prices = ForecastPlan.from_settings(settings), random_walk_prices(60, ticker="ACME", seed=3)
    folds = rolling_origin.run_backtest(prices, toy, plan)
    assert [f.fitted.training for f in folds] == ["full", "fine_tune"]
    assert folds[0].fitted.state.model.layers[0].__class__.__name__ == "GRU"
    naive = rolling_origin.run_backtest(prices, candidates.candidate("naive"), plan)
    rows = pd.concat(
        [
            rolling_origin.backtest_rows("r", "ACME", toy.name, folds),
            rolling_origin.backtest_rows("r", "ACME", "naive", naive),
        ]
    )
    history = tonight.history_until(prices, prices["date"].iloc[-1].date())
    realized = evidence.realized(rows, evidence.price_facts(history), history["date"].iloc[-1].date(), 0)
    fitted = forecasters.fit(toy, history["close"].to_numpy(), plan.fitting)
    path = tonight.forecast_candidate(fitted, "ACME", history, realized, plan)
    assert path["forecast"].notna().all() and (path["lower_80"] < path["upper_80"]).all()
    decision = champion.choose_champion(realized, ["naive", toy.name], None, 0.02, 5)
    duel = decision.evidence  # the toy competed: scored against naive on the forecasts both made
    assert decision.action in ("cold start", "naive fallback") and {duel.candidate, duel.other} == {"naive", toy.name}
    assert duel.n == len(rows[rows["candidate"] == toy.name]) > 0 and duel.mase > 0


def test_without_the_entries_the_toy_is_unknown():
    with pytest.raises(ValueError, match="unknown candidate 'toy-diff'"):
        Settings(candidates=["toy-diff"])
