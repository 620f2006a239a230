"""Choose the torch device: CUDA when present, CPU otherwise, or what the user forces."""

from __future__ import annotations

import torch

from .errors import PipelineError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    if name not in DEVICE_CHOICES:
        raise PipelineError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError(
            "--device cuda was asked for but PyTorch sees no CUDA GPU; use --device auto or cpu, "
            "or install a CUDA build of torch"
        )
    return torch.device(name)
