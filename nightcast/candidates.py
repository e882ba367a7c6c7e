"""The candidate models, defined once: settings validate names against this, the flows and the command line
look candidates up here, and tasks/forecasting/forecasters.py maps each family to its fit and forecast functions.

Two families:
* statistical: naive persistence, random walk with drift, ETS and ARIMA (statsmodels), refitted nightly;
* rnn: the tutorial's three-layer recurrent stack (20 units per layer) of a layer kind, predicting a
  target; named `<kind>-<target>`. `simple_rnn-price` is exactly the tutorial's model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nightcast.targets import TARGET_SPECS

KINDS: dict[str, str] = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
"""Recurrent layer kinds of the 3 x 20-unit stack and their keras.layers class: simple_rnn (the
tutorial's, trained by the fast trainer), lstm and gru (Keras' fit). Adding a kind is one entry here."""
TARGETS: tuple[str, ...] = tuple(TARGET_SPECS)
"""What an RNN predicts (nightcast/targets.py): the min-max scaled close (the tutorial's) or the next day's
log return."""
STATISTICAL: dict[str, str] = {
    "naive": "naive persistence: every horizon = the last close",
    "drift": "random walk with drift: the last close moved by the mean daily log return",
    "ets": "ETS(A,Ad,N) on log closes: additive errors, damped additive trend (statsmodels)",
    "arima": "ARIMA(1,1,1) with drift on log closes (statsmodels)",
}
NAIVE = "naive"
TUTORIAL = "simple_rnn-price"
DEFAULT_CANDIDATES: tuple[str, ...] = ("naive", "drift", "ets", "arima", "simple_rnn-log_return")
"""What the nightly runs by default: every statistical baseline and the RNN recipe that came closest to
naive in `nightcast compare`, within the nightly time budget (docs: Models and targets)."""


@dataclass(frozen=True)
class Candidate:
    """One candidate model: its name, family and, for an RNN, layer kind and target."""

    name: str
    family: Literal["statistical", "rnn"]
    description: str
    kind: str | None = None
    target: str | None = None

    @property
    def is_rnn(self) -> bool:
        return self.family == "rnn"


def rnn_name(kind: str, target: str) -> str:
    """The candidate name of an RNN recipe, e.g. simple_rnn-log_return."""
    return f"{kind}-{target}"


def build_candidates() -> dict[str, Candidate]:
    """Every candidate: the statistical ones, then one per RNN layer kind and target."""
    return {
        **{name: Candidate(name, "statistical", text) for name, text in STATISTICAL.items()},
        **{
            rnn_name(k, t): Candidate(
                rnn_name(k, t),
                "rnn",
                f"3 x {k}(20) + Dense(1) predicting the {t}"
                + (" (the tutorial's model)" if rnn_name(k, t) == TUTORIAL else ""),
                k,
                t,
            )
            for k in KINDS
            for t in TARGET_SPECS
        },
    }


CANDIDATES: dict[str, Candidate] = build_candidates()


def candidate(name: str) -> Candidate:
    """The candidate of that name; an unknown name is refused with the list of known ones."""
    if name not in CANDIDATES:
        raise ValueError(f"unknown candidate {name!r}: use one of {', '.join(CANDIDATES)}")
    return CANDIDATES[name]


def check_candidates(names: list[str]) -> list[str]:
    """Known, distinct candidate names with naive first (always run: it is the fallback served)."""
    for name in names:
        candidate(name)
    return list(dict.fromkeys([NAIVE, *names]))
