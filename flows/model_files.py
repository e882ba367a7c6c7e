"""A model folder's files, written and read without pickle: model.keras (Keras' format, loaded in safe mode),
scaler.json and model.json (the card that says what the model predicts) for an RNN candidate; params.json for a
statistical one. The chunk step writes them into a temporary folder that appears whole or not at all
(nightcast.files.write_folder_atomic); the stages in tasks/ only ever see the loaded state."""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from nightcast.candidates import Candidate
from nightcast.candidates import candidate as lookup
from nightcast.quiet_import import load_keras
from tasks.forecasting import baselines
from tasks.forecasting.forecasters import Fitted, RnnState
from tasks.training.models import ModelCard, architecture_of, template
from tasks.training.scale import ScalerParams

if TYPE_CHECKING:  # pragma: no cover
    import keras


def save_model(model: keras.Model, path: Path) -> None:
    """Write the model in Keras 3's .keras format (no pickle)."""
    if path.suffix != ".keras":
        raise ValueError(f"model files end in .keras, got {path.name}")
    model.save(path)


def load_model(path: Path) -> keras.Model:
    """Load a .keras model with safe mode on (no arbitrary code from the file).

    The first file of an architecture (per thread) is loaded by Keras in safe mode to make the template; every
    file whose config.json describes that architecture gets a copy of the template with the file's weights
    (0.05 s instead of 0.08 s on an idle machine: a night loads every ticker's previous model). The model comes back
    uncompiled, without the saved optimizer state: a fine-tune starts from the weights alone
    (tasks/training/train.py) and forecasts need none."""
    with zipfile.ZipFile(path) as archive:
        key = architecture_of(json.loads(archive.read("config.json")))
    keras = load_keras()
    model = keras.models.clone_model(template(key, lambda: keras.models.load_model(path, safe_mode=True)))
    model.load_weights(path)
    return model


def write_card(card: ModelCard, path: Path) -> None:
    """Write a model card as JSON."""
    path.write_text(json.dumps(asdict(card), sort_keys=True))


def read_card(path: Path) -> ModelCard:
    """Read a card; a model stored before cards existed is the tutorial's price model."""
    return ModelCard(**json.loads(path.read_text())) if path.exists() else ModelCard()


def save(fitted: Fitted, folder: Path) -> None:
    """Write a fitted candidate's state into folder (an empty, temporary model folder)."""
    if fitted.candidate.is_rnn:
        state: RnnState = fitted.state
        (folder / "scaler.json").write_text(state.scaler.to_json())
        write_card(
            ModelCard(model=fitted.candidate.kind or "", target=fitted.candidate.target or ""), folder / "model.json"
        )
        save_model(state.model, folder / "model.keras")
    else:
        (folder / "params.json").write_text(json.dumps(asdict(fitted.state), sort_keys=True))


def load_rnn(folder: Path) -> RnnState:
    """A stored RNN candidate (model.keras in safe mode, scaler.json)."""
    return RnnState(load_model(folder / "model.keras"), ScalerParams.from_json((folder / "scaler.json").read_text()))


def load_state(candidate: Candidate, folder: Path) -> RnnState | baselines.StatFit:
    """A stored candidate's fitted state: an RNN's model and scaler, or a statistical model's parameters."""
    if candidate.is_rnn:
        return load_rnn(folder)
    stored = json.loads((folder / "params.json").read_text())
    return baselines.StatFit(str(stored["kind"]), tuple(float(p) for p in stored["params"]))


def card_of(folder: Path) -> Candidate:
    """The candidate a stored RNN folder holds, from its model.json card."""
    card = read_card(folder / "model.json")
    return lookup(f"{card.model}-{card.target}")
