"""Many SimpleRNN fits as the lanes of one computation: each lane gets the fit it would get alone."""

import numpy as np
import pytest

from nightcast.candidates import candidate
from nightcast.errors import InputError
from nightcast.settings import Settings
from nightcast.stage_options import Fitting, TrainOptions
from tasks.forecasting import forecasters
from tasks.training.train import train_model, train_models
from tasks.training.window import make_windows


def walk(seed: int, n: int) -> np.ndarray:
    steps = np.random.default_rng(seed).normal(0.0005, 0.02, n)
    return 50.0 * np.exp(np.cumsum(steps))


def windows(seed: int, n: int, time_step: int = 8):
    series = walk(seed, n)
    scaled = ((series - series.min()) / (series.max() - series.min())).astype("float32")
    w = make_windows(scaled, time_step)
    return w.X, w.y


def assert_same_fit(lane, alone) -> None:
    """Two fits of the same job agree to float32 rounding: the lanes' batched products sum in another order
    than one model's (and another CPU may order them differently again), ~1e-7 per operation, which a few
    epochs of Adam keep far below these bounds; a lane that trained on another lane's data, took another
    lane's rates or skipped a step would miss them by orders of magnitude (see the spread checked below)."""
    np.testing.assert_allclose(lane.losses, alone.losses, rtol=1e-3)
    np.testing.assert_allclose(lane.val_losses, alone.val_losses, rtol=1e-3)
    assert lane.best_epoch == alone.best_epoch
    for a, b in zip(lane.model.get_weights(), alone.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-4)


def test_lanes_train_each_model_as_it_would_train_alone():
    """Jobs of different lengths (so different steps per epoch and learning-rate schedules), one starting from
    trained weights, each with early stopping on its own validation slice, trained as one stack."""
    jobs = [windows(1, 120), windows(2, 75), windows(3, 200)]
    options = TrainOptions(epochs=12, batch_size=16, seed=4, validation_fraction=0.25, patience=2, learning_rate=0.01)
    start = train_model(*jobs[2], TrainOptions(epochs=2, batch_size=16, seed=9)).model.get_weights()
    stacked = train_models([(*jobs[0], None), (*jobs[1], None), (*jobs[2], start)], options)
    alone = [
        train_model(*jobs[0], options),
        train_model(*jobs[1], options),
        train_model(*jobs[2], options, initial_weights=start),
    ]
    for lane, single in zip(stacked, alone, strict=True):
        assert_same_fit(lane, single)
    spread = np.abs(stacked[0].model.get_weights()[0] - stacked[1].model.get_weights()[0]).max()
    assert spread > 1e-2  # lanes on different data end far apart: the bounds above can tell them apart
    assert len({len(f.losses) for f in stacked}) > 1  # the lanes stopped at different epochs


def test_more_jobs_than_one_stack_holds(monkeypatch):
    from tasks.training import train

    monkeypatch.setattr(train, "MAX_LANES", 2)
    jobs = [windows(seed, 60 + 10 * seed) for seed in range(5)]
    options = TrainOptions(epochs=3, batch_size=16, seed=0)
    stacked = train_models([(X, y, None) for X, y in jobs], options)
    assert len(stacked) == 5
    for (X, y), lane in zip(jobs, stacked, strict=True):
        assert_same_fit(lane, train_model(X, y, options))


@pytest.mark.parametrize(
    ("count", "width", "sizes"),
    [(25, 4, [4, 4, 4, 4, 3, 3, 3]), (4, 4, [4]), (5, 2, [2, 2, 1]), (1, 4, [1]), (0, 4, []), (9, 4, [3, 3, 3])],
)
def test_stacks_are_near_equal_and_cover_every_job_once(count, width, sizes):
    from tasks.training.train import stacks

    parts = stacks(count, width)
    assert [len(p) for p in parts] == sizes
    assert [i for p in parts for i in p] == list(range(count))


def test_a_chunk_trains_in_stacks_of_at_most_max_lanes(monkeypatch):
    from tasks.training import lanes, train

    widths: list[int] = []
    real = lanes.train_stack
    monkeypatch.setattr(train, "train_stack", lambda jobs, *a, **k: widths.append(len(jobs)) or real(jobs, *a, **k))
    jobs = [windows(seed, 40) for seed in range(6)]
    done = train_models([(X, y, None) for X, y in jobs], TrainOptions(epochs=1, batch_size=16, seed=0))
    assert len(done) == 6
    assert widths == [3, 3] and train.MAX_LANES == 4


def test_train_models_refuses_a_bad_job():
    with pytest.raises(ValueError, match="matching, non-empty"):
        train_models([(*windows(1, 60), None), (np.zeros((0, 8, 1)), np.zeros(0), None)], TrainOptions(1, 16, 0))


def test_fit_many_fails_only_the_ticker_with_bad_data(monkeypatch):
    """An RNN candidate's fits of many tickers: the one with too few closes fails alone; every other ticker
    gets the fit `fit` gives it alone (fine-tunes and fits from scratch in the same call)."""
    from tasks.training import train

    stacks: list[int] = []
    real = train.train_models
    monkeypatch.setattr(train, "train_models", lambda jobs, *a, **k: stacks.append(len(jobs)) or real(jobs, *a, **k))
    fitting = Fitting.from_settings(Settings(time_step=8, epochs=3, fine_tune_epochs=2, batch_size=16))
    rnn = candidate("simple_rnn-log_return")
    previous = forecasters.fit(rnn, walk(7, 90), fitting)
    jobs = [(walk(1, 120), None), (walk(2, 5), None), (walk(3, 150), previous.state)]
    jobs.append((walk(4, 100), None))
    stacks.clear()
    done = forecasters.fit_many(rnn, jobs, fitting)
    assert stacks == [2, 1]  # the two fits from scratch as one stack, then the fine-tune
    assert isinstance(done[1], InputError) and "needs at least" in str(done[1])
    for i in (0, 2, 3):
        fitted = done[i]
        assert isinstance(fitted, forecasters.Fitted)
        closes, before = jobs[i]
        alone = forecasters.fit(rnn, closes, fitting, before)
        assert fitted.training == alone.training == ("fine_tune" if i == 2 else "full")
        assert fitted.epochs == alone.epochs
        np.testing.assert_allclose(
            forecasters.forecast(fitted, closes, np.array([len(closes) - 1]), 3),
            forecasters.forecast(alone, closes, np.array([len(closes) - 1]), 3),
            rtol=1e-4,
        )
