"""How much history a run needs: a candidate's fewest closes, a night's and a comparison's fewest rows, a
backtest's folds.

Kept apart from the fitting code (tasks.forecasting.forecasters imports scikit-learn, seconds on 2 cores) so that the
command line's pre-flight can tell a file is too short before anything heavy is imported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nightcast.candidates import Candidate
from nightcast.candidates import candidate as lookup
from nightcast.errors import InputError
from tasks.training import target as target_stage


def min_closes(candidate: Candidate, time_step: int) -> int:
    """Fewest closes a candidate can be fitted on (an RNN needs one window of time_step closes and its target)."""
    if not candidate.is_rnn:
        return 3
    return time_step + 1 + target_stage.extra_rows(candidate.target or "price")


def minimum_history(candidates: Sequence[str], time_step: int) -> int:
    """Fewest rows every candidate can be fitted on, plus one day to forecast from."""
    return max(min_closes(lookup(name), time_step) for name in candidates) + 1


def split_rows(time_step: int, train_fraction: float, recipes: Sequence[str]) -> int:
    """Fewest rows a comparison needs: a training window and a test day for every recipe, in the split."""
    from tasks.training.split import minimum_rows as split_minimum

    extra = max(target_stage.extra_rows(lookup(name).target or "price") for name in recipes)
    return split_minimum(time_step, train_fraction, extra)


@dataclass(frozen=True)
class Fold:
    """One refit: fit on rows [0, train_end), forecast from origin rows train_end - 1 .. train_end + k - 2."""

    fold: int
    """1 for the oldest fold."""
    train_end: int
    refit_every: int

    @property
    def origins(self) -> np.ndarray:
        return np.arange(self.train_end - 1, self.train_end - 1 + self.refit_every)


def fold_plan(n_rows: int, min_rows: int, refit_every: int, folds: int) -> list[Fold]:
    """Folds over the last folds x refit_every origins, oldest first; the first must fit on min_rows rows."""
    for name, value in (("refit_every", refit_every), ("folds", folds)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    first_train_end = n_rows - folds * refit_every
    if first_train_end < min_rows:
        raise InputError(
            f"{n_rows} rows is too few for {folds} folds of {refit_every} days: the first fold needs {min_rows} "
            f"rows to fit on, so at least {folds * refit_every + min_rows} rows; use fewer folds, a smaller "
            "backtest_refit_every or a smaller time_step"
        )
    return [Fold(k + 1, first_train_end + k * refit_every, refit_every) for k in range(folds)]
