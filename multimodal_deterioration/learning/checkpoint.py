"""A self-describing checkpoint: rebuild the trained model and predict without the training script.

``best_multimodal_model.pt`` is a plain dict (loadable with ``torch.load(weights_only=True)``)
holding the state dict, the model config, the vital standardisation statistics, the chosen
threshold, the training config, the best epoch with its validation AUROC, and the calibrator
fitted on the validation split.

Example::

    from multimodal_deterioration.learning.checkpoint import load_checkpoint
    model = load_checkpoint("best_multimodal_model.pt")
    probabilities = model.predict(X_vital, X_text)          # raw vitals, (N, T, F) and (N, 384)
    alerts = probabilities >= model.threshold               # the threshold is on this scale
    risks = model.predict(X_vital, X_text, calibrated=True)  # recalibrated on validation
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
from .training import TrainingConfig, TrainingResult, VitalStandardizer, predict_proba

CHECKPOINT_FORMAT = 1
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
        self, X_vital: np.ndarray, X_text: np.ndarray, device: str = "cpu", calibrated: bool = False
    ) -> np.ndarray:
        """Probabilities of deterioration for raw (unstandardised) vitals and note embeddings.

        The network's outputs are inflated by the class-weighted training; ``calibrated=True``
        maps them through the calibrator fitted on the validation split, giving probabilities
        that can be read as risks. ``threshold`` applies to the uncalibrated outputs.
        """
        if calibrated and self.calibrator is None:
            raise PipelineError(
                "this checkpoint holds no calibrator (it was saved without one or by an older "
                "version); predict with calibrated=False or retrain"
            )
        X_vital = np.asarray(X_vital, dtype=np.float32)
        X_text = np.asarray(X_text, dtype=np.float32)
        expected_text = self.config.text_dim
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
        if self.standardizer is not None:
            X_vital = self.standardizer.transform(X_vital)
        probabilities = predict_proba(
            self.network.to(device), X_vital, X_text, torch.device(device)
        )
        return self.calibrator.transform(probabilities) if calibrated else probabilities


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
