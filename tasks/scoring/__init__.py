"""Evidence and intervals: out-of-sample errors, interval quantiles, scores beside naive, the calibration replays,
the champion rule, and the one-step errors of a holdout comparison."""
