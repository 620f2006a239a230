"""One training routine for the fused model and every baseline.

Weighted BCE (``pos_weight`` = negatives/positives of the training split), Adam, gradient
clipping, and early stopping with checkpoint selection on validation AUROC. With the same seed
the numbers are identical on CPU. One epoch's steps (eager, or replayed from a CUDA graph) are
in :mod:`multimodal_deterioration.learning.epochs`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from ..base.errors import PipelineError
from ..base.progress import line_writer, progress_bar
from ..base.settings import check_settings, setting
from .epochs import GraphedEpochs, Split, make_optimizer, train_one_epoch

# Batch size for inference only; it affects speed and memory, not the result. On CUDA the whole
# validation split usually fits one batch, which saves launches.
PREDICTION_BATCH_SIZE = 512
CUDA_PREDICTION_BATCH_SIZE = 8192

# Population std of a constant feature comes out as floating-point residue (~1e-14 relative to
# the mean), not exactly zero; anything this small relative to the feature's scale is constant.
CONSTANT_FEATURE_RELATIVE_STD = 1e-9


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings; the defaults are the reference setup. The seed is not one of them:
    each training gets its own (``ExperimentConfig.seeds``, passed to :func:`train_model`)."""

    epochs: int = setting(30, "maximum epochs per model", minimum=1)
    patience: int = setting(
        7, "stop after this many epochs without a better validation AUROC", minimum=1
    )
    batch_size: int = setting(32, "training batch size", minimum=1)
    learning_rate: float = setting(1e-3, "Adam learning rate", above=0)
    grad_clip: float = setting(1.0, "gradient norm clipping", above=0)
    # At batch 32 an eager CUDA step is mostly kernel-launch overhead.
    cuda_graph: bool = setting(
        True,
        "on CUDA, run every training step eagerly (with fused Adam) instead of replaying one "
        "captured CUDA graph per batch; no effect on CPU",
        flag="--no-cuda-graph",
    )

    def __post_init__(self) -> None:
        check_settings(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


@dataclass(frozen=True)
class VitalStandardizer:
    """Per-feature z-scoring with statistics from the training split only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X_train: np.ndarray) -> VitalStandardizer:
        """Mean and population std of each feature over all samples and time steps."""
        X = np.asarray(X_train, dtype=np.float64)
        if X.ndim != 3 or X.shape[0] == 0:
            raise PipelineError(
                f"training vitals must have shape (samples, time steps, features) with at least "
                f"one sample (got {X.shape}); check X_train in the vitals file"
            )
        mean = X.mean(axis=(0, 1))
        std = X.std(axis=(0, 1))
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise PipelineError(
                "training vitals contain NaN or infinite values; "
                "impute or drop them before training"
            )
        constant = std <= CONSTANT_FEATURE_RELATIVE_STD * np.maximum(np.abs(mean), 1.0)
        # A constant feature carries no information; dividing by 1 keeps it at zero after centring.
        return cls(mean=mean, std=np.where(constant, 1.0, std))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[2] != self.mean.shape[0]:
            raise PipelineError(
                f"vitals have shape {X.shape} but the standardiser was fitted on "
                f"{self.mean.shape[0]} features; use vitals with the training feature layout"
            )
        return ((X - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VitalStandardizer:
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float64),
            std=np.asarray(data["std"], dtype=np.float64),
        )


class EarlyStopping:
    """Track the best validation score; ask to stop after ``patience`` epochs without improving.

    Improvement means ``score > best_score + min_delta``, so ties do not count and a NaN score
    (undefined AUROC, diverged model) never improves.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if patience < 1:
            raise PipelineError(f"early-stopping patience must be at least 1 (got {patience})")
        self.patience = patience
        self.min_delta = min_delta
        self.best_score = -math.inf
        self.best_epoch: int | None = None
        self.epochs_without_improvement = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record ``score`` for ``epoch``; return True when training should stop now."""
        if score > self.best_score + self.min_delta:
            self.best_score = score
            self.best_epoch = epoch
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    val_auroc: float


@dataclass
class TrainingResult:
    best_state_dict: dict[str, torch.Tensor]
    best_epoch: int
    best_val_auroc: float
    history: list[EpochRecord]
    stopped_early: bool


def positive_class_weight(y_train: np.ndarray) -> float:
    """negatives / positives of the training labels, the ``pos_weight`` of the loss."""
    y = np.asarray(y_train).ravel()
    positives = int(np.count_nonzero(y == 1))
    if positives == 0:
        raise PipelineError(
            "the training split has no positive labels, so the class weight is undefined; "
            "re-split the data so that training contains deteriorating patients"
        )
    return (y.size - positives) / positives


def _checked_split(split: Split, name: str) -> Split:
    """Validate one (X_vital, X_text, y) split; return float32 arrays with y flattened."""
    if len(split) != 3:
        raise PipelineError(
            f"the {name} split must be (X_vital, X_text, y), got {len(split)} arrays"
        )
    X_vital = np.asarray(split[0], dtype=np.float32)
    X_text = np.asarray(split[1], dtype=np.float32)
    y = np.asarray(split[2]).ravel()
    if X_vital.ndim != 3 or X_text.ndim != 2:
        raise PipelineError(
            f"the {name} split needs vitals of shape (N, T, F) and text of shape (N, D); "
            f"got {X_vital.shape} and {X_text.shape}"
        )
    if not X_vital.shape[0] == X_text.shape[0] == y.shape[0]:
        raise PipelineError(
            f"the {name} split has {X_vital.shape[0]} vital samples, {X_text.shape[0]} text "
            f"samples and {y.shape[0]} labels; they must match"
        )
    if not np.isin(y, (0, 1)).all():
        raise PipelineError(
            f"the {name} split has labels other than 0 and 1; labels must be binary"
        )
    if np.unique(y).size < 2:
        only = f"only label {int(y[0])}" if y.size else "no samples"
        raise PipelineError(
            f"the {name} split has {only}, but both classes are needed in it (AUROC and the "
            "class weight are undefined otherwise); re-split so every split has both classes"
        )
    return X_vital, X_text, y.astype(np.float32)


def _predict_logits(
    model: nn.Module,
    X_vital: np.ndarray,
    X_text: np.ndarray,
    device: torch.device,
    batch_size: int = PREDICTION_BATCH_SIZE,
) -> torch.Tensor:
    """Logits in eval mode without gradients, returned on the CPU."""
    model.to(device).eval()
    vitals = torch.as_tensor(np.asarray(X_vital, dtype=np.float32))
    text = torch.as_tensor(np.asarray(X_text, dtype=np.float32))
    chunks = []
    with torch.no_grad():
        for start in range(0, vitals.shape[0], batch_size):
            stop = start + batch_size
            logits = model(
                vitals[start:stop].to(device, non_blocking=True),
                text[start:stop].to(device, non_blocking=True),
            )
            chunks.append(logits.float().cpu())
    return torch.cat(chunks) if chunks else torch.empty(0)


def predict_proba(
    model: nn.Module,
    X_vital: np.ndarray,
    X_text: np.ndarray,
    device: torch.device,
    batch_size: int = PREDICTION_BATCH_SIZE,
) -> np.ndarray:
    """Predicted probability of deterioration per sample (float64)."""
    return _probabilities(_predict_logits(model, X_vital, X_text, device, batch_size))


def _probabilities(logits: torch.Tensor) -> np.ndarray:
    # float64 sigmoid so confident predictions do not collapse into ties at 1.0.
    return torch.sigmoid(logits.double()).numpy()


def _validation_auroc(y: np.ndarray, probabilities: np.ndarray) -> float:
    """AUROC, or NaN when the model produced non-finite outputs (it diverged)."""
    if not np.isfinite(probabilities).all():
        return math.nan
    return float(roc_auc_score(y, probabilities))


def train_model(
    model: nn.Module,
    train: Split,
    val: Split,
    config: TrainingConfig,
    device: torch.device,
    *,
    seed: int,
    description: str = "model",
    log: Callable[[str], None] | None = print,
    progress: bool = True,
) -> TrainingResult:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    ``train`` and ``val`` are ``(X_vital (N,T,F) standardised, X_text (N,D), y (N,))``. ``seed``
    fixes the batch order and the dropout draws; seed torch before building the model as well if
    the initial weights must repeat. ``log`` gets one line per epoch and one when training ends
    (``None``: silence); ``progress`` shows a bar over the epochs where one can be drawn.
    """
    train = _checked_split(train, "training")
    val = _checked_split(val, "validation")
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    pos_weight = torch.tensor([positive_class_weight(train[2])], dtype=torch.float32)
    emit = line_writer(log)
    run_epoch = _epoch_runner(model, train, pos_weight, config, device, emit)
    stopper = EarlyStopping(config.patience)
    history: list[EpochRecord] = []
    best_state: dict[str, torch.Tensor] | None = None
    # Whether the patience rule fired, also when it fires at the last allowed epoch: counting
    # epochs run would call that "ran all epochs" and hide that training had plateaued.
    stopped_early = False
    epochs = range(1, config.epochs + 1)
    with progress_bar(
        epochs, enabled=progress, desc=f"training {description}", unit="epoch"
    ) as bar:
        for epoch in bar:
            train_loss = run_epoch(generator)
            val_loss, val_auroc = _validation_scores(model, val, pos_weight, device)
            history.append(EpochRecord(epoch, train_loss, val_loss, val_auroc))
            stop = stopper.update(epoch, val_auroc)
            if stopper.best_epoch == epoch:
                best_state = _copy_to_cpu(model.state_dict())
            bar.set_postfix(val_auroc=f"{val_auroc:.4f}", best=f"{stopper.best_score:.4f}")
            if emit is not None:
                emit(_epoch_summary(description, history[-1], config.epochs, stopper))
            if stop:
                stopped_early = True
                break
    _restore_best_epoch(model, best_state, description)
    if emit is not None:
        emit(_closing_summary(description, config, stopper, stopped_early))
    return TrainingResult(
        best_state_dict=best_state,
        best_epoch=stopper.best_epoch,
        best_val_auroc=stopper.best_score,
        history=history,
        stopped_early=stopped_early,
    )


def _epoch_runner(
    model: nn.Module,
    train: Split,
    pos_weight: torch.Tensor,
    config: TrainingConfig,
    device: torch.device,
    log: Callable[[str], None] | None,
) -> Callable[[torch.Generator], float]:
    """Put ``model`` on ``device`` and give it its optimizer; return the call that trains one
    epoch in the batch order of the generator it is given and returns the mean training loss:
    the replay of a CUDA graph on CUDA (unless ``config.cuda_graph`` is off), else the eager
    loop."""
    model.to(device)
    optimizer = make_optimizer(model, config, device)
    device_pos_weight = pos_weight.to(device)
    if device.type == "cuda" and config.cuda_graph:
        graphed = GraphedEpochs(model, optimizer, train, device_pos_weight, config, device, log=log)
        return graphed.run_epoch
    return lambda generator: train_one_epoch(
        model, optimizer, train, device_pos_weight, config, generator, device
    )


def _validation_scores(
    model: nn.Module, val: Split, pos_weight: torch.Tensor, device: torch.device
) -> tuple[float, float]:
    """The validation split's weighted loss (the training loss's ``pos_weight``) and AUROC."""
    batch_size = CUDA_PREDICTION_BATCH_SIZE if device.type == "cuda" else PREDICTION_BATCH_SIZE
    logits = _predict_logits(model, val[0], val[1], device, batch_size)
    labels = torch.as_tensor(val[2])
    loss = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight).item()
    return loss, _validation_auroc(val[2], _probabilities(logits))


def _copy_to_cpu(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.detach().to("cpu", copy=True) for key, value in state_dict.items()}


def _restore_best_epoch(
    model: nn.Module, best_state: dict[str, torch.Tensor] | None, description: str
) -> None:
    """Load the best epoch's weights and leave ``model`` in eval mode."""
    if best_state is None:
        raise PipelineError(
            f"training {description} gave non-finite predictions in every epoch; "
            "lower the learning rate or check the inputs for extreme values"
        )
    model.load_state_dict(best_state)
    model.eval()


def _closing_summary(
    description: str, config: TrainingConfig, stopper: EarlyStopping, stopped_early: bool
) -> str:
    reason = (
        f"stopped early after {config.patience} epochs without improvement"
        if stopped_early
        else f"ran all {config.epochs} epochs"
    )
    return (
        f"{description}: {reason}; restored epoch {stopper.best_epoch} "
        f"(val AUROC {stopper.best_score:.4f})"
    )


def _epoch_summary(
    description: str, record: EpochRecord, total_epochs: int, stopper: EarlyStopping
) -> str:
    best = (
        f"{stopper.best_score:.4f} (epoch {stopper.best_epoch})"
        if stopper.best_epoch is not None
        else "none yet"
    )
    return (
        f"{description} epoch {record.epoch:>3}/{total_epochs}  "
        f"train loss {record.train_loss:.4f}  val loss {record.val_loss:.4f}  "
        f"val AUROC {record.val_auroc:.4f}  best {best}"
    )
