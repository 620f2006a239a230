"""One training routine for the fused model and every baseline.

Weighted BCE (``pos_weight`` = negatives/positives of the training split), Adam, gradient
clipping, and early stopping with checkpoint selection on validation AUROC. With the same seed
the numbers are identical on CPU.
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
from tqdm.auto import tqdm

from ..base.errors import PipelineError
from ..base.settings import check_settings, setting

# Batch size for inference only; it affects speed and memory, not the result. On CUDA the whole
# validation split usually fits one batch, which saves launches.
PREDICTION_BATCH_SIZE = 512
CUDA_PREDICTION_BATCH_SIZE = 8192
# Eager steps on a side stream before a CUDA graph is captured, so that the optimizer's state and
# the libraries' workspaces exist before capture (PyTorch's "whole network capture" recipe).
CUDA_GRAPH_WARMUP_STEPS = 3

# Population std of a constant feature comes out as floating-point residue (~1e-14 relative to
# the mean), not exactly zero; anything this small relative to the feature's scale is constant.
CONSTANT_FEATURE_RELATIVE_STD = 1e-9

Split = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings; the defaults are the reference setup."""

    epochs: int = setting(30, "maximum epochs per model", minimum=1)
    patience: int = setting(
        7, "stop after this many epochs without a better validation AUROC", minimum=1
    )
    batch_size: int = setting(32, "training batch size", minimum=1)
    learning_rate: float = setting(1e-3, "Adam learning rate", above=0)
    grad_clip: float = setting(1.0, "gradient norm clipping", above=0)
    seed: int = 42
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


def training_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    vitals: torch.Tensor,
    text: torch.Tensor,
    labels: torch.Tensor,
    pos_weight: torch.Tensor,
    grad_clip: float,
) -> torch.Tensor:
    """One optimisation step on one batch; returns the batch's mean loss, left on its device.

    The eager loop runs this, and the CUDA graph is a capture of exactly this call.
    """
    logits = model(vitals, text)
    loss = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss


def _train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    split: Split,
    pos_weight: torch.Tensor,
    config: TrainingConfig,
    generator: torch.Generator,
    device: torch.device,
) -> float:
    """One pass over shuffled batches; returns the mean training loss per sample."""
    model.train()
    vitals, text, labels = (torch.as_tensor(array) for array in split)
    order = torch.randperm(labels.shape[0], generator=generator)
    total_loss = 0.0
    for start in range(0, labels.shape[0], config.batch_size):
        batch = order[start : start + config.batch_size]
        loss = training_step(
            model,
            optimizer,
            vitals[batch].to(device, non_blocking=True),
            text[batch].to(device, non_blocking=True),
            labels[batch].to(device, non_blocking=True),
            pos_weight,
            config.grad_clip,
        )
        total_loss += loss.item() * batch.shape[0]
    return total_loss / labels.shape[0]


class GraphedEpochs:
    """Training epochs whose full batches replay one captured CUDA graph of ``training_step``.

    The training split lives on the device; each step gathers its batch into fixed input
    buffers by index and replays the graph, so a step costs three gathers and one launch instead
    of the hundreds of small kernels of an eager LSTM step. The batch order comes from the same
    generator as the eager loop's, every sample is seen once per epoch, and the last, partial
    batch runs ``training_step`` eagerly, as on the CPU. With ``capture=False`` every full batch
    runs eagerly through the same buffers (how capture is tested without a GPU, and the path
    taken if capture fails).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        split: Split,
        pos_weight: torch.Tensor,
        config: TrainingConfig,
        device: torch.device,
        capture: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.model, self.optimizer, self.config, self.device = model, optimizer, config, device
        self.pos_weight, self.capture, self.log = pos_weight, capture, log
        self.vitals, self.text, self.labels = (torch.as_tensor(array).to(device) for array in split)
        size = min(config.batch_size, self.labels.shape[0])
        self.batch = (
            torch.empty((size, *self.vitals.shape[1:]), device=device),
            torch.empty((size, *self.text.shape[1:]), device=device),
            torch.empty((size,), device=device),
        )
        self.graph = None
        self.graph_loss: torch.Tensor | None = None
        self.eager_steps = 0

    def run_epoch(self, generator: torch.Generator) -> float:
        """One pass over shuffled batches; returns the mean training loss per sample."""
        self.model.train()
        n = self.labels.shape[0]
        order = torch.randperm(n, generator=generator).to(self.device)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        full = n - n % self.config.batch_size
        for start in range(0, full, self.config.batch_size):
            loss = self._full_batch(order[start : start + self.config.batch_size])
            total += loss.detach().double() * self.config.batch_size
        if full < n:
            index = order[full:]
            loss = training_step(
                self.model,
                self.optimizer,
                self.vitals[index],
                self.text[index],
                self.labels[index],
                self.pos_weight,
                self.config.grad_clip,
            )
            total += loss.detach().double() * index.shape[0]
        return total.item() / n

    def _full_batch(self, index: torch.Tensor) -> torch.Tensor:
        for source, buffer in zip((self.vitals, self.text, self.labels), self.batch):
            torch.index_select(source, 0, index, out=buffer)
        if self.graph is not None:
            self.graph.replay()
            return self.graph_loss
        if self.capture and self.eager_steps >= CUDA_GRAPH_WARMUP_STEPS:
            if self._capture():
                self.graph.replay()
                return self.graph_loss
        self.eager_steps += 1
        return self._eager_step()

    def _eager_step(self) -> torch.Tensor:
        if not self.capture:
            return training_step(
                self.model, self.optimizer, *self.batch, self.pos_weight, self.config.grad_clip
            )
        # Warm-up steps run on a side stream, as capture requires.
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            loss = training_step(
                self.model, self.optimizer, *self.batch, self.pos_weight, self.config.grad_clip
            )
        torch.cuda.current_stream(self.device).wait_stream(side)
        return loss

    def _capture(self) -> bool:
        """Capture ``training_step`` on the current buffers; False (and eager from then on) if
        this GPU or library build cannot."""
        graph = torch.cuda.CUDAGraph()
        try:
            self.optimizer.zero_grad(set_to_none=True)
            with torch.cuda.graph(graph):
                self.graph_loss = training_step(
                    self.model,
                    self.optimizer,
                    *self.batch,
                    self.pos_weight,
                    self.config.grad_clip,
                )
        except RuntimeError as error:
            self.capture, self.graph_loss = False, None
            if self.log is not None:
                self.log(
                    f"CUDA graph capture failed ({str(error).splitlines()[0]}); "
                    "training continues eagerly"
                )
            return False
        self.graph = graph
        return True


def make_optimizer(model: nn.Module, config: TrainingConfig, device: torch.device):
    """Adam as in the reference; on CUDA, capturable for graphs, else fused (fewer launches).

    The same algorithm in every case; on CPU exactly ``torch.optim.Adam(params, lr)``.
    """
    params = model.parameters()
    if device.type != "cuda":
        return torch.optim.Adam(params, lr=config.learning_rate)
    if config.cuda_graph:
        return torch.optim.Adam(params, lr=config.learning_rate, capturable=True)
    return torch.optim.Adam(params, lr=config.learning_rate, fused=True)


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
    description: str = "model",
    log: Callable[[str], None] | None = print,
    progress: bool = True,
) -> TrainingResult:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    ``train`` and ``val`` are ``(X_vital (N,T,F) standardised, X_text (N,D), y (N,))``. Seed torch
    before building the model as well if the initial weights must repeat.
    """
    train = _checked_split(train, "training")
    val = _checked_split(val, "validation")
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model.to(device)
    optimizer = make_optimizer(model, config, device)
    pos_weight = torch.tensor([positive_class_weight(train[2])], dtype=torch.float32)
    device_pos_weight = pos_weight.to(device)
    graphed = None
    if device.type == "cuda" and config.cuda_graph:
        graphed = GraphedEpochs(model, optimizer, train, device_pos_weight, config, device, log=log)
    prediction_batch = (
        CUDA_PREDICTION_BATCH_SIZE if device.type == "cuda" else PREDICTION_BATCH_SIZE
    )
    val_labels = torch.as_tensor(val[2])
    stopper = EarlyStopping(config.patience)
    # print would tear the progress bar; tqdm.write prints above it.
    emit = tqdm.write if log is print else log

    history: list[EpochRecord] = []
    best_state: dict[str, torch.Tensor] | None = None
    # Whether the patience rule fired, also when it fires at the last allowed epoch: counting
    # epochs run would call that "ran all epochs" and hide that training had plateaued.
    stopped_early = False
    with tqdm(
        range(1, config.epochs + 1),
        desc=f"training {description}",
        unit="epoch",
        disable=not progress,
    ) as epochs:
        for epoch in epochs:
            if graphed is not None:
                train_loss = graphed.run_epoch(generator)
            else:
                train_loss = _train_one_epoch(
                    model, optimizer, train, device_pos_weight, config, generator, device
                )
            val_logits = _predict_logits(model, val[0], val[1], device, prediction_batch)
            val_loss = F.binary_cross_entropy_with_logits(
                val_logits, val_labels, pos_weight=pos_weight
            ).item()
            val_auroc = _validation_auroc(val[2], _probabilities(val_logits))
            history.append(EpochRecord(epoch, train_loss, val_loss, val_auroc))
            stop = stopper.update(epoch, val_auroc)
            if stopper.best_epoch == epoch:
                best_state = {
                    key: value.detach().to("cpu", copy=True)
                    for key, value in model.state_dict().items()
                }
            epochs.set_postfix(val_auroc=f"{val_auroc:.4f}", best=f"{stopper.best_score:.4f}")
            if emit is not None:
                emit(_epoch_summary(description, history[-1], config.epochs, stopper))
            if stop:
                stopped_early = True
                break

    if best_state is None:
        raise PipelineError(
            f"training {description} gave non-finite predictions in every epoch; "
            "lower the learning rate or check the inputs for extreme values"
        )
    model.load_state_dict(best_state)
    model.eval()
    if emit is not None:
        reason = (
            f"stopped early after {config.patience} epochs without improvement"
            if stopped_early
            else f"ran all {config.epochs} epochs"
        )
        emit(
            f"{description}: {reason}; restored epoch {stopper.best_epoch} "
            f"(val AUROC {stopper.best_score:.4f})"
        )
    return TrainingResult(
        best_state_dict=best_state,
        best_epoch=stopper.best_epoch,
        best_val_auroc=stopper.best_score,
        history=history,
        stopped_early=stopped_early,
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
