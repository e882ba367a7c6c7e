"""The registry inside the retrain flow: promotion, refusal, forecasts by the champion, warm start."""

import json

import pytest

from flows.retrain import retrain
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


@pytest.fixture
def price_file(tmp_path, prices):
    path = tmp_path / "acme.csv"
    frame = prices(200, ticker="ACME", seed=7)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    return path


def settings(tmp_path, path, **extra) -> Settings:
    base = dict(source="file", path=str(path), ticker="ACME", time_step=10, batch_size=32,
                warehouse=str(tmp_path / "wh"), full_retrain_every_days=0)
    return Settings(**{**base, **extra})


GOOD = dict(epochs=30, learning_rate=0.01)
BAD = dict(epochs=1, learning_rate=1e-6)


def models(tmp_path):
    return Warehouse(tmp_path / "wh").query("select * from models order by decided_at, status")


def forecasts(tmp_path, run_id):
    return Warehouse(tmp_path / "wh").query("select * from forecasts where run_id = ? order by horizon", [run_id])


def test_worse_model_is_refused_and_the_champion_forecasts(tmp_path, price_file):
    first = retrain(settings=settings(tmp_path, price_file, **GOOD))
    second = retrain(settings=settings(tmp_path, price_file, **BAD))
    assert first.decision.promoted and not second.decision.promoted
    assert second.decision.challenger_rmse > second.decision.champion_rmse
    assert second.forecast_version == f"simple_rnn-{first.run_id}"
    status = dict(models(tmp_path)[["run_id", "status"]].values)
    assert status == {first.run_id: "champion", second.run_id: "challenger"}
    mine, champ = forecasts(tmp_path, second.run_id), forecasts(tmp_path, first.run_id)
    assert (mine["model_version"] == f"simple_rnn-{first.run_id}").all()
    # same data: the champion's forecast tonight is the one it made when it was trained
    assert mine["forecast"].tolist() == pytest.approx(champ["forecast"].tolist(), rel=1e-6)
    # the refused model's own test predictions are still stored and scored
    wh = Warehouse(tmp_path / "wh")
    assert int(wh.query("select count(*) n from predictions where run_id = ?", [second.run_id])["n"][0]) == 40


def test_better_model_is_promoted_and_the_old_champion_retired(tmp_path, price_file):
    first = retrain(settings=settings(tmp_path, price_file, **BAD))
    second = retrain(settings=settings(tmp_path, price_file, **GOOD))
    assert second.decision.promoted and second.decision.champion_version == f"simple_rnn-{first.run_id}"
    assert second.decision.challenger_rmse <= second.decision.champion_rmse
    status = dict(models(tmp_path)[["run_id", "status"]].values)
    assert status == {first.run_id: "retired", second.run_id: "champion"}
    assert (forecasts(tmp_path, second.run_id)["model_version"] == f"simple_rnn-{second.run_id}").all()
    events = Warehouse(tmp_path / "wh").query("select run_id, status from model_events order by decided_at, run_id")
    assert events.values.tolist() == [[first.run_id, "champion"], [first.run_id, "retired"],
                                      [second.run_id, "champion"]]


def test_nights_within_a_week_fine_tune_the_champion(tmp_path, price_file):
    first = retrain(settings=settings(tmp_path, price_file, epochs=3, full_retrain_every_days=7))
    second = retrain(settings=settings(tmp_path, price_file, epochs=3, full_retrain_every_days=7, fine_tune_epochs=2))
    assert first.training.mode == "full" and second.training.mode == "fine_tune"
    wh = Warehouse(tmp_path / "wh")
    row = wh.query("select * from models where run_id = ?", [second.run_id]).iloc[0]
    assert row["training"] == "fine_tune" and row["parent_version"] == f"simple_rnn-{first.run_id}"
    epochs = dict(wh.query("select run_id, epochs from metrics").values)
    assert epochs == {first.run_id: 3, second.run_id: 2}
    folder = tmp_path / "wh" / "models" / "ticker=ACME"
    scaler = [json.loads((folder / r / "scaler.json").read_text()) for r in (first.run_id, second.run_id)]
    assert scaler[0] == scaler[1]  # a fine-tune keeps the champion's scaler


def test_a_full_retrain_is_due_a_week_after_the_last(tmp_path, price_file, prices):
    frame = prices(200, ticker="ACME", seed=7)
    early_end = frame["date"].iloc[-8].date()  # 7 business days before the last date: over a week earlier
    first = retrain(settings=settings(tmp_path, price_file, epochs=2, full_retrain_every_days=7, end=early_end))
    second = retrain(settings=settings(tmp_path, price_file, epochs=2, full_retrain_every_days=7))
    assert first.training.mode == "full"
    assert second.training.mode == "full" and "full retrain due" in second.training.reason


def test_a_champion_of_another_target_is_not_fine_tuned_but_scored_in_prices(tmp_path, price_file):
    first = retrain(settings=settings(tmp_path, price_file, epochs=3, full_retrain_every_days=7))
    second = retrain(settings=settings(tmp_path, price_file, model="gru", target="log_return", epochs=2,
                                       full_retrain_every_days=7))
    assert second.training.mode == "full"
    assert f"champion simple_rnn-{first.run_id} has another model (simple_rnn, not gru)" in second.training.reason
    # the price-target champion was scored on the same days, in prices, beside the returns model
    assert second.decision.champion_rmse is not None and second.decision.champion_rmse > 0
    wh = Warehouse(tmp_path / "wh")
    rows = wh.query("select run_id, model, target from models order by trained_at")
    assert rows.values.tolist() == [[first.run_id, "simple_rnn", "price"], [second.run_id, "gru", "log_return"]]
    card = json.loads((tmp_path / "wh" / "models" / "ticker=ACME" / second.run_id / "model.json").read_text())
    assert card == {"model": "gru", "target": "log_return"}
    assert dict(wh.query("select run_id, target from metrics").values) == {first.run_id: "price",
                                                                           second.run_id: "log_return"}
