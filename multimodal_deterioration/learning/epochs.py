"""One training epoch: the eager loop over shuffled batches, or the same steps replayed from a
captured CUDA graph.

Both run :func:`training_step`, take the batch order from the same generator and see every
sample once per epoch, so on a CPU they agree bit for bit; on CUDA the graph saves the hundreds
of small kernel launches of an eager LSTM step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:  # training.py imports this module; the config is only named here
    from .training import TrainingConfig

# Eager steps on a side stream before a CUDA graph is captured, so that the optimizer's state and
# the libraries' workspaces exist before capture (PyTorch's "whole network capture" recipe).
CUDA_GRAPH_WARMUP_STEPS = 3

Split = tuple[np.ndarray, np.ndarray, np.ndarray]


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


def train_one_epoch(
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
