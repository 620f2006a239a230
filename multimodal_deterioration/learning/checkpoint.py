"""A self-describing checkpoint: rebuild the trained model and predict without the training script.

``best_multimodal_model.pt`` is a plain dict (loadable with ``torch.load(weights_only=True)``)
holding the state dict, the model config (with the note indicator's columns and hours scale
when the model was trained with ``--note-indicator``, also under the key ``note_indicator``,
absent otherwise), the vital standardisation statistics, the chosen threshold, the training config,
the best epoch with its validation AUROC, and the calibrator fitted on the validation split.

Example::

    from multimodal_deterioration.learning.checkpoint import load_checkpoint
    model = load_checkpoint("best_multimodal_model.pt")
    probabilities = model.predict(X_vital, X_text)          # raw vitals, (N, T, F) and (N, 384)
    alerts = probabilities >= model.threshold               # the threshold is on this scale
    risks = model.predict(X_vital, X_text, calibrated=True)  # recalibrated on validation

A model trained with ``--note-indicator`` builds its indicator columns from the notes per sample
(``note_count_{split}`` of multimodal_data.npz) and, when it was trained with note times, the
hours since the most recent note (``note_hours_{split}``, NaN without a note)::

    probabilities = model.predict(X_vital, X_text, note_count=note_count, note_hours=note_hours)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from pickle import UnpicklingError

import numpy as np
import torch

from ..base.artifacts import require_readable_file, write_atomically
from ..base.errors import PipelineError, first_line
from .calibrator import Calibrator
from .model import ModelConfig, build_model
from .note_indicator import with_note_indicator
from .training import TrainingConfig, TrainingResult, VitalStandardizer, predict_proba

CHECKPOINT_FORMAT = 1
# What LoadedModel.predict's note arguments hold, for the message when one is missing.
NOTE_ARGUMENTS = {
    "note_count": "notes aggregated per sample, 0 where a sample has none: note_count_{split} of "
    "multimodal_data.npz, or (note_index >= 0) for data without it",
    "note_hours": "hours from each sample's most recent note to its prediction time, NaN where "
    "it has none: note_hours_{split} of multimodal_data.npz",
}
# What loading and rebuilding raise for a file that is not a checkpoint of this format.
NOT_A_CHECKPOINT = (
    OSError,
    RuntimeError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    UnpicklingError,
)


def save_checkpoint(
    path: str | os.PathLike,
    model_config: ModelConfig,
    result: TrainingResult,
    standardizer: VitalStandardizer | None,
    threshold: float,
    training_config: TrainingConfig,
    extra: dict | None = None,
    calibrator: Calibrator | None = None,
) -> Path:
    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": result.best_state_dict,
        "model_config": model_config.to_dict(),
        "standardizer": standardizer.to_dict() if standardizer else None,
        "threshold": float(threshold),
        "training_config": training_config.to_dict(),
        "best_epoch": int(result.best_epoch),
        "best_val_auroc": float(result.best_val_auroc),
        "calibrator": calibrator.to_dict() if calibrator else None,
        **(extra or {}),
    }
    if model_config.note_indicator is not None:
        # Also in model_config, which rebuilds it; here so a reader of the file sees it first.
        payload["note_indicator"] = model_config.note_indicator.to_dict()
    return write_atomically(path, lambda tmp: torch.save(payload, tmp))


def recalibrated_checkpoint(
    source: str | os.PathLike, destination: str | os.PathLike, calibrator: Calibrator | None
) -> Path:
    """Write ``source``'s checkpoint to ``destination`` (atomically; it may be the same file)
    with ``calibrator`` in place of the one it holds: what an evaluation of saved predictions
    with another recalibration method changes in a checkpoint."""
    source = Path(source)
    require_readable_file(source, "checkpoint", "train a model with train_multimodal_lstm.py")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except NOT_A_CHECKPOINT as error:
        raise PipelineError(
            f"{source} is not a checkpoint written by train_multimodal_lstm.py "
            f"({type(error).__name__}: {first_line(error)})"
        ) from error
    payload["calibrator"] = calibrator.to_dict() if calibrator else None
    return write_atomically(destination, lambda tmp: torch.save(payload, tmp))


@dataclass
class LoadedModel:
    network: torch.nn.Module
    config: ModelConfig
    standardizer: VitalStandardizer | None
    threshold: float
    payload: dict
    calibrator: Calibrator | None = None

    def predict(
        self,
        X_vital: np.ndarray,
        X_text: np.ndarray,
        device: str = "cpu",
        calibrated: bool = False,
        *,
        note_count: np.ndarray | None = None,
        note_hours: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probabilities of deterioration for raw (unstandardised) vitals and note embeddings.

        The network's outputs are inflated by the class-weighted training; ``calibrated=True``
        maps them through the calibrator fitted on the validation split, giving probabilities
        that can be read as risks. ``threshold`` applies to the uncalibrated outputs.

        A model trained with the note indicator needs ``note_count`` (notes per sample, 0 where
        a sample has none) and, when it was trained with note times, ``note_hours`` (hours from
        the most recent note to the prediction time, NaN without a note); other models ignore
        both.
        """
        if calibrated and self.calibrator is None:
            raise PipelineError(
                "this checkpoint holds no calibrator (it was saved without one or by an older "
                "version); predict with calibrated=False or retrain"
            )
        X_vital = np.asarray(X_vital, dtype=np.float32)
        X_text = np.asarray(X_text, dtype=np.float32)
        expected_text = self.config.note_dim
        n_features = self.config.n_vital_features
        if X_vital.ndim != 3 or X_vital.shape[1] == 0 or X_vital.shape[2] != n_features:
            raise PipelineError(
                f"the checkpoint expects vitals of shape (N, T >= 1, {n_features}), "
                f"got {X_vital.shape}; use data prepared with the same vital-sign features"
            )
        if X_text.ndim != 2 or X_text.shape[1] != expected_text or len(X_text) != len(X_vital):
            raise PipelineError(
                f"the checkpoint expects note embeddings of shape ({len(X_vital)}, {expected_text}), "
                f"got {X_text.shape}; embed the notes with the same model"
            )
        n_bad = int((~np.isfinite(X_vital)).sum() + (~np.isfinite(X_text)).sum())
        if n_bad:
            raise PipelineError(
                f"the inputs hold {n_bad} NaN or infinite values; impute or drop them before "
                "predicting"
            )
        X_text = self.text_input(X_text, note_count, note_hours)
        if self.standardizer is not None:
            X_vital = self.standardizer.transform(X_vital)
        probabilities = predict_proba(
            self.network.to(device), X_vital, X_text, torch.device(device)
        )
        return self.calibrator.transform(probabilities) if calibrated else probabilities

    def text_input(
        self, X_text: np.ndarray, note_count: np.ndarray | None, note_hours: np.ndarray | None
    ) -> np.ndarray:
        """The network's text input: ``X_text``, with the note indicator's columns when the
        model was trained with them."""
        indicator = self.config.note_indicator
        if indicator is None:
            return X_text
        needed = {"note_count": note_count}
        if indicator.has_hours:
            needed["note_hours"] = note_hours
        for name, values in needed.items():
            if values is None:
                raise PipelineError(
                    f"this checkpoint was trained with --note-indicator ({', '.join(indicator.columns)}): "
                    f"pass {name}= to predict ({NOTE_ARGUMENTS[name]})"
                )
            if np.shape(values) != (len(X_text),):
                raise PipelineError(
                    f"{name} has shape {np.shape(values)}, expected ({len(X_text)},): one value "
                    "per sample, in the rows of X_text"
                )
        has_note = np.asarray(note_count) > 0
        hours = None if note_hours is None else np.asarray(note_hours, dtype=np.float64)
        return with_note_indicator(X_text, indicator, has_note, hours)


def load_checkpoint(path: str | os.PathLike) -> LoadedModel:
    path = Path(path)
    require_readable_file(path, "checkpoint", "train a model with train_multimodal_lstm.py")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        config = ModelConfig.from_dict(payload["model_config"])
        network = build_model(config)
        network.load_state_dict(payload["state_dict"])
        stats = payload.get("standardizer")
        standardizer = VitalStandardizer.from_dict(stats) if stats else None
        threshold = float(payload["threshold"])
        calibration = payload.get("calibrator")
        calibrator = Calibrator.from_dict(calibration) if calibration else None
    except NOT_A_CHECKPOINT as error:
        raise PipelineError(
            f"{path} is not a checkpoint written by train_multimodal_lstm.py "
            f"({type(error).__name__}: {first_line(error)})"
        ) from error
    network.eval()
    return LoadedModel(network, config, standardizer, threshold, payload, calibrator)
