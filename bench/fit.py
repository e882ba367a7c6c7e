"""One fit in a fresh process, reported as a JSON line: `python -m bench.fit {tutorial,nightcast} TICKER SEED`.

tutorial:  bench.tutorial.tutorial_fit, Keras defaults (the reference).
nightcast: tasks.training.train.train_with_options with default Settings (what `nightcast run` trains).
Both on the same windows from nightcast's stages; `seconds` times the whole fit (model construction,
compilation and every epoch), test RMSE is in price units. The process is what `maxrss` is measured on.
"""

from __future__ import annotations

import argparse
import json
import time

from nightcast.quiet_import import load_keras


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fit")
    parser.add_argument("kind", choices=["tutorial", "nightcast"])
    parser.add_argument("ticker")
    parser.add_argument("seed", type=int)
    parser.add_argument("--epochs", type=int, default=None, help="default: 80 (tutorial) / Settings.epochs")
    args = parser.parse_args()

    from bench.common import load_series, test_rmse

    data = load_series(args.ticker)
    if args.kind == "tutorial":
        load_keras()  # imported before the clock starts, as for nightcast

        from bench.tutorial import TUTORIAL_EPOCHS, tutorial_fit

        epochs = args.epochs or TUTORIAL_EPOCHS
        started = time.perf_counter()
        model, history = tutorial_fit(data.train_X, data.train_y, args.seed, epochs)
        seconds = time.perf_counter() - started
        epochs_run, best_epoch = len(history.history["loss"]), None
    else:
        from nightcast.settings import Settings
        from nightcast.stage_options import Fitting
        from tasks.training import train

        load_keras()  # TensorFlow imported before the clock starts, as for the tutorial
        settings = Settings(ticker=args.ticker, seed=args.seed)
        if args.epochs:
            settings = Settings(**{**settings.model_dump(), "epochs": args.epochs})
        started = time.perf_counter()
        trained = train.train_with_options(data.train_X, data.train_y, Fitting.from_settings(settings))
        seconds = time.perf_counter() - started
        model, epochs_run, best_epoch = trained.model, trained.epochs_run, trained.best_epoch
    rmse = test_rmse(model, data)
    print(
        json.dumps(
            {
                "kind": args.kind,
                "ticker": args.ticker,
                "seed": args.seed,
                "seconds": seconds,
                "rmse": rmse,
                "epochs_run": epochs_run,
                "best_epoch": best_epoch,
                "n_train": len(data.train_y),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
