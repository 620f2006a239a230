"""The fused vitals + notes network and its two unimodal baselines.

All three models take ``forward(vitals, text)`` and return one logit per sample, ignoring the
input they do not use, so a single training routine and a single evaluation path serve them all.
They share the pathway modules, so the vital-only baseline's vital pathway is layer for layer the
fused model's vital pathway (and likewise for text): a comparison between them isolates the
contribution of the other modality rather than a difference in architecture.

Reference architecture (241,409 trainable parameters with 6 vital features and 384-d text)::

    vitals (N,T,F) -> LSTM(F->128, 2 layers) -> last step -> 128->64->32
    text   (N,384) -> 384->64->32
    concat (64)    -> 32 -> 16 -> 1 logit
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from ..base.errors import PipelineError
from .note_indicator import NoteIndicator

MODEL_KINDS = ("multimodal", "vital_only", "text_only")

# Layer widths of the reference architecture (see the module docstring).
VITAL_PROJECTION_WIDTHS = (64, 32)
TEXT_PROJECTION_WIDTHS = (64, 32)
FUSION_HEAD_WIDTHS = (32, 16)
UNIMODAL_HEAD_WIDTHS = (16,)

# Dimension of all-MiniLM-L6-v2 sentence embeddings, the default text encoder.
DEFAULT_TEXT_DIM = 384


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model from a checkpoint and give it its inputs.

    ``text_dim`` is the width of the text input: the note vector, plus the columns of
    ``note_indicator`` when the model was trained with ``--note-indicator`` (None: the note
    vector alone, the reference setup).
    """

    kind: str
    n_vital_features: int
    text_dim: int = DEFAULT_TEXT_DIM
    lstm_hidden: int = 128
    lstm_layers: int = 2
    dropout: float = 0.3
    note_indicator: NoteIndicator | None = None

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise PipelineError(
                f"unknown model kind {self.kind!r}; choose one of {', '.join(MODEL_KINDS)}"
            )
        for name in ("n_vital_features", "text_dim", "lstm_hidden", "lstm_layers"):
            if getattr(self, name) < 1:
                raise PipelineError(
                    f"model config {name} must be at least 1 (got {getattr(self, name)})"
                )
        if not 0.0 <= self.dropout < 1.0:
            raise PipelineError(f"model config dropout must be in [0, 1) (got {self.dropout})")
        if self.note_indicator is not None and self.text_dim <= self.note_indicator.width:
            raise PipelineError(
                f"model config text_dim {self.text_dim} leaves no room for the note vector "
                f"beside the note indicator's {self.note_indicator.width} column(s)"
            )

    @property
    def note_dim(self) -> int:
        """The width of the note vector alone (``text_dim`` less the indicator's columns)."""
        return self.text_dim - (self.note_indicator.width if self.note_indicator else 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain values only, for a checkpoint and for JSON: the indicator as its dict, and no
        ``note_indicator`` key without one (the reference setup's record is unchanged)."""
        record = asdict(self)
        del record["note_indicator"]
        if self.note_indicator is not None:
            record["note_indicator"] = self.note_indicator.to_dict()
        return record

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PipelineError(
                f"model config has unknown keys {unknown}; the checkpoint was written by an "
                "incompatible version, retrain the model"
            )
        indicator = data.get("note_indicator")
        if indicator is not None:
            data = {**data, "note_indicator": NoteIndicator.from_dict(indicator)}
        return cls(**data)


def _dense_stack(widths: tuple[int, ...], dropout: float) -> nn.Sequential:
    """Linear -> ReLU -> Dropout between each consecutive pair of ``widths``."""
    layers: list[nn.Module] = []
    for in_features, out_features in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(in_features, out_features), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


def _classifier_head(
    in_features: int, hidden_widths: tuple[int, ...], dropout: float
) -> nn.Sequential:
    """Dense stack through ``hidden_widths`` followed by a single-logit output layer."""
    widths = (in_features, *hidden_widths)
    return nn.Sequential(*_dense_stack(widths, dropout), nn.Linear(widths[-1], 1))


class VitalEncoder(nn.Module):
    """LSTM over the vital-sign sequence; its last time step projected to 32 features."""

    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=n_features,
            hidden_size=hidden,
            num_layers=layers,
            batch_first=True,
            # torch applies this between stacked layers only and warns when there is just one.
            dropout=dropout if layers > 1 else 0.0,
        )
        self.projection = _dense_stack((hidden, *VITAL_PROJECTION_WIDTHS), dropout)
        self.out_features = VITAL_PROJECTION_WIDTHS[-1]

    def forward(self, vitals: torch.Tensor) -> torch.Tensor:
        sequence_output, _ = self.lstm(vitals)
        return self.projection(sequence_output[:, -1, :])


class TextEncoder(nn.Module):
    """MLP from a note embedding to 32 features."""

    def __init__(self, text_dim: int, dropout: float) -> None:
        super().__init__()
        self.projection = _dense_stack((text_dim, *TEXT_PROJECTION_WIDTHS), dropout)
        self.out_features = TEXT_PROJECTION_WIDTHS[-1]

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        return self.projection(text)


def _vital_encoder(config: ModelConfig) -> VitalEncoder:
    return VitalEncoder(
        config.n_vital_features, config.lstm_hidden, config.lstm_layers, config.dropout
    )


class MultiModalLSTM(nn.Module):
    """Late fusion: concatenated vital and text features -> 32 -> 16 -> 1 logit."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.vital_encoder = _vital_encoder(config)
        self.text_encoder = TextEncoder(config.text_dim, config.dropout)
        fused_features = self.vital_encoder.out_features + self.text_encoder.out_features
        self.head = _classifier_head(fused_features, FUSION_HEAD_WIDTHS, config.dropout)

    def forward(self, vitals: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.vital_encoder(vitals), self.text_encoder(text)], dim=1)
        return self.head(fused).squeeze(-1)


class VitalOnlyLSTM(nn.Module):
    """The fused model's vital pathway with its own 32 -> 16 -> 1 head; ignores text."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.vital_encoder = _vital_encoder(config)
        self.head = _classifier_head(
            self.vital_encoder.out_features, UNIMODAL_HEAD_WIDTHS, config.dropout
        )

    def forward(self, vitals: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self.head(self.vital_encoder(vitals)).squeeze(-1)


class TextOnlyMLP(nn.Module):
    """The fused model's text pathway with its own 32 -> 16 -> 1 head; ignores vitals."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.text_encoder = TextEncoder(config.text_dim, config.dropout)
        self.head = _classifier_head(
            self.text_encoder.out_features, UNIMODAL_HEAD_WIDTHS, config.dropout
        )

    def forward(self, vitals: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self.head(self.text_encoder(text)).squeeze(-1)


_MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "multimodal": MultiModalLSTM,
    "vital_only": VitalOnlyLSTM,
    "text_only": TextOnlyMLP,
}


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised model of ``config.kind`` (seed torch first for repeatable weights)."""
    return _MODEL_CLASSES[config.kind](config)


def describe_architecture(config: ModelConfig) -> dict[str, Any]:
    """The layer widths of ``config``'s network, pathway by pathway (None for a pathway the
    model does not have), for the results and the methods paragraph.

    The note indicator is what the text input holds, not a layer: it is left out here (its
    columns are counted in ``text_dim``, so ``text_dim`` less the data's note dimension is the
    number of indicator columns, and ``run.config.note_indicator`` says whether it was on).

    >>> describe_architecture(ModelConfig("vital_only", 6))["head"]
    [32, 16, 1]
    """
    vital = config.kind != "text_only"
    text = config.kind != "vital_only"
    head_in = VITAL_PROJECTION_WIDTHS[-1] * vital + TEXT_PROJECTION_WIDTHS[-1] * text
    hidden = FUSION_HEAD_WIDTHS if config.kind == "multimodal" else UNIMODAL_HEAD_WIDTHS
    settings = {key: value for key, value in config.to_dict().items() if key != "note_indicator"}
    return {
        **settings,
        "vital_projection": [config.lstm_hidden, *VITAL_PROJECTION_WIDTHS] if vital else None,
        "text_projection": [config.text_dim, *TEXT_PROJECTION_WIDTHS] if text else None,
        "head": [head_in, *hidden, 1],
    }


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
