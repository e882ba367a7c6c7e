"""Candidates and forecasting: each family's fit and forecast, the statistical baselines, rolling-origin folds and
backtests, the registry's training rules, one ticker's forecasts and a panel's night, and the holdout comparison of
an RNN recipe."""
