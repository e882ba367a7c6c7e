"""The groups stages take (#27): built from a run's Settings by their from_settings, with the settings' defaults,
and no ticker in them (a stage is handed the ticker with its inputs)."""

from dataclasses import fields, replace

from nightcast.settings import Settings
from nightcast.stage_options import BacktestPlan, EvidencePolicy, Fitting, ForecastPlan, TrainOptions


def test_the_groups_defaults_are_the_settings_defaults():
    assert ForecastPlan.from_settings(Settings()) == ForecastPlan()
    assert Fitting.from_settings(Settings()) == Fitting()


def test_a_plan_carries_what_the_stages_read_and_no_ticker():
    settings = Settings(
        ticker="VOD.L",
        candidates=["naive", "drift"],
        horizon=3,
        time_step=12,
        epochs=7,
        fine_tune_epochs=2,
        backtest_folds=4,
        backtest_refit_every=6,
        evidence_window=50,
        tail_memory=30,
        champion_margin=0.05,
        min_forecasts=9,
        full_retrain_every_days=3,
    )
    plan = ForecastPlan.from_settings(settings)
    assert plan.candidates == ("naive", "drift") and plan.horizon == 3 and plan.full_retrain_every_days == 3
    assert plan.backtest == BacktestPlan(4, 6) and plan.evidence == EvidencePolicy(50, 30, 0.05, 9)
    assert plan.fitting.time_step == 12 and plan.fitting.options() == TrainOptions.from_settings(settings)
    assert plan.fitting.options(fine_tune=True) == replace(TrainOptions.from_settings(settings), epochs=2)
    assert "ticker" not in {f.name for f in fields(ForecastPlan)}
    assert plan.exchange("VOD.L") == settings.exchange == "XLON" and plan.exchange("GOOG") == "XNYS"
    assert ForecastPlan.from_settings(Settings(calendar="24/7")).exchange("VOD.L") == "24/7"
