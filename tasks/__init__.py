"""The stage functions, grouped by concern; each subpackage imports only those listed after it here.

records      what a run leaves behind: its rows, summaries and picture (imports forecasting)
forecasting  candidate families, baselines, folds, rolling-origin backtests, the registry's training rules,
             tonight's forecasts, a panel's night and its replay, the holdout comparison (imports scoring,
             training)
scoring      evidence, intervals, scores beside naive, calibration replays, the champion rule
training     split, scale, window, target, the Keras model, the training loop, predict
prices       revisions of stored closes, the price suite with its pre-flight and reports
"""
