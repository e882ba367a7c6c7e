"""Registry decisions, training plans and event rows: pure functions, hand-checked."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nightcast.warehouse import Warehouse
from tasks import registry

CHAMP = registry.Champion(model_version="simple_rnn-A", run_id="A", full_as_of=dt.date(2013, 2, 25))


def test_recent_rmse_uses_only_the_last_days():
    actual = np.array([100.0, 100.0, 10.0, 20.0])
    predicted = np.array([0.0, 0.0, 13.0, 16.0])  # errors 3 and 4 on the last two days
    assert registry.recent_rmse(actual, predicted, 2) == pytest.approx(np.sqrt((9 + 16) / 2))


@pytest.mark.parametrize("days, n_pred", [(0, 4), (5, 4), (2, 3)])
def test_recent_rmse_refuses_bad_lengths(days, n_pred):
    with pytest.raises(ValueError, match="recent days"):
        registry.recent_rmse(np.ones(4), np.ones(n_pred), days)


def test_first_model_is_promoted():
    decision = registry.decide(5.0, None, None, 20, 0.0)
    assert decision.promoted and "no champion yet" in decision.reason


@pytest.mark.parametrize("challenger, tolerance, promoted", [
    (9.9, 0.0, True), (10.0, 0.0, True), (10.1, 0.0, False), (10.4, 0.05, True), (10.6, 0.05, False)])
def test_promotion_against_champion_with_tolerance(challenger, tolerance, promoted):
    decision = registry.decide(challenger, 10.0, "simple_rnn-A", 20, tolerance)
    assert decision.promoted is promoted
    assert "simple_rnn-A" in decision.reason and "last 20 test days" in decision.reason
    assert decision.reason.startswith("promoted" if promoted else "kept champion simple_rnn-A")


def test_plan_full_without_champion_or_when_disabled():
    assert registry.plan_training(None, None, dt.date(2013, 3, 1), 7).mode == "full"
    plan = registry.plan_training(CHAMP, dt.date(2013, 2, 28), dt.date(2013, 3, 1), 0)
    assert plan.mode == "full" and "full_retrain_every_days = 0" in plan.reason


def test_plan_fine_tunes_within_the_week_and_retrains_after():
    within = registry.plan_training(CHAMP, dt.date(2013, 2, 25), dt.date(2013, 3, 1), 7)  # 4 days later
    assert within.mode == "fine_tune" and within.champion == CHAMP and "4 days" in within.reason
    due = registry.plan_training(CHAMP, dt.date(2013, 2, 25), dt.date(2013, 3, 4), 7)  # 7 days later
    assert due.mode == "full" and due.champion is None and "full retrain due" in due.reason


def test_plan_counts_from_the_last_full_retrain_even_if_it_was_refused():
    # the champion's own full training is old, but a (refused) full retrain ran 2 days ago: fine-tune
    old_champion = registry.Champion("simple_rnn-A", "A", full_as_of=dt.date(2013, 1, 2))
    plan = registry.plan_training(old_champion, dt.date(2013, 2, 27), dt.date(2013, 3, 1), 7)
    assert plan.mode == "fine_tune" and plan.champion == old_champion


def test_plan_full_when_the_champion_is_incompatible():
    plan = registry.plan_training(CHAMP, dt.date(2013, 2, 25), dt.date(2013, 3, 1), 7,
                                  incompatible="another time_step (60, not 100)")
    assert plan.mode == "full" and "another time_step (60, not 100)" in plan.reason


FACTS = {"model_version": "simple_rnn-B", "ticker": "GOOG", "run_id": "B", "model": "simple_rnn", "time_step": 100,
         "path": "/wh/models/ticker=GOOG/B/model.keras", "trained_at": pd.Timestamp("2026-01-02", tz="UTC"),
         "data_start": dt.date(2004, 8, 19), "data_end": dt.date(2013, 3, 1), "train_end": dt.date(2011, 5, 2),
         "rmse": 12.0, "naive_rmse": 10.0, "skill": -0.2}


def test_events_for_a_promotion_retire_the_old_champion():
    plan = registry.plan_training(CHAMP, dt.date(2013, 2, 25), dt.date(2013, 3, 1), 7)
    decision = registry.decide(9.0, 10.0, CHAMP.model_version, 20, 0.0)
    old = {**FACTS, "model_version": "simple_rnn-A", "run_id": "A", "status": "champion", "reason": "first"}
    now = pd.Timestamp("2026-01-02 21:30", tz="UTC")
    rows = registry.model_events(FACTS, decision, plan, old, now)
    assert rows["model_version"].tolist() == ["simple_rnn-B", "simple_rnn-A"]
    assert rows["status"].tolist() == ["champion", "retired"]
    new = rows.iloc[0]
    assert new["training"] == "fine_tune" and new["parent_version"] == "simple_rnn-A"
    assert new["full_as_of"] == CHAMP.full_as_of  # a fine-tune inherits its parent's full training date
    assert new["recent_rmse"] == 9.0 and new["champion_recent_rmse"] == 10.0
    assert rows.iloc[1]["reason"].startswith("replaced by simple_rnn-B")


def test_events_for_a_refusal_keep_the_champion():
    plan = registry.plan_training(None, None, dt.date(2013, 3, 1), 7)
    decision = registry.decide(11.0, 10.0, CHAMP.model_version, 20, 0.0)
    rows = registry.model_events(FACTS, decision, plan, None, pd.Timestamp.now(tz="UTC"))
    assert len(rows) == 1 and rows.iloc[0]["status"] == "challenger"
    assert rows.iloc[0]["full_as_of"] == FACTS["data_end"] and rows.iloc[0]["training"] == "full"


def test_registry_round_trip_through_the_models_view(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    assert registry.current_champion(wh, "GOOG") is None and registry.last_full_training(wh, "GOOG") is None
    first = registry.model_events({**FACTS, "model_version": "simple_rnn-A", "run_id": "A"},
                                  registry.decide(10.0, None, None, 20, 0.0),
                                  registry.plan_training(None, None, dt.date(2013, 2, 25), 7), None,
                                  pd.Timestamp("2026-01-01", tz="UTC"))
    wh.write_run_table("model_events", "GOOG", "A", first)
    champion = registry.current_champion(wh, "GOOG")
    assert registry.last_full_training(wh, "GOOG") == dt.date(2013, 3, 1)
    assert champion.model_version == "simple_rnn-A" and champion.full_as_of == dt.date(2013, 3, 1)
    retired = registry.latest_row(wh, "simple_rnn-A")
    second = registry.model_events(FACTS, registry.decide(9.0, 10.0, "simple_rnn-A", 20, 0.0),
                                   registry.plan_training(champion, dt.date(2013, 3, 1), dt.date(2013, 3, 1), 7), retired,
                                   pd.Timestamp("2026-01-02", tz="UTC"))
    wh.write_run_table("model_events", "GOOG", "B", second)
    assert registry.current_champion(wh, "GOOG").model_version == "simple_rnn-B"
    models = wh.query("select model_version, status from models order by model_version")
    assert models.values.tolist() == [["simple_rnn-A", "retired"], ["simple_rnn-B", "champion"]]
    assert int(wh.query("select count(*) n from model_events")["n"][0]) == 3  # history kept
    with pytest.raises(LookupError, match="not in the registry"):
        registry.latest_row(wh, "simple_rnn-Z")
