"""The note-availability indicator (``--note-indicator``): columns appended to the text input.

A sample without an eligible note carries an all-zero note vector, and without help the network
has to infer that missingness from the zeros. With the indicator, the text input is the note
vector followed by

- ``has_note``: 1 when the sample has an eligible note, else 0;
- ``hours_since_note`` (only when every split records note times, ``note_hours_{split}``): the
  hours from the most recent eligible note to the prediction time, scaled to [0, 1] by
  ``log1p(min(h, H)) / log1p(H)`` with ``H`` = :data:`NOTE_HOURS_SCALE` (one week); 0 without a
  note, where the flag tells the two zeros apart.

The indicator is part of the text input: it travels with its note vector when the notes
controls permute notes, is zeroed with it by the notes-zeroed control (no note: flag 0, hours
0), and is seen by the text-only control. ``ModelConfig.text_dim`` counts its columns and
``ModelConfig.note_indicator`` records them, so a checkpoint rebuilds the same columns.

Example::

    indicator = indicator_for(data.splits.values())  # has_note, and the hours when known
    X_text = with_note_indicator(split.X_text, indicator, has_eligible_note(split), split.note_hours)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base.errors import PipelineError
from ..contract.multimodal_data import MultimodalSplit, has_eligible_note

HAS_NOTE = "has_note"
HOURS_SINCE_NOTE = "hours_since_note"
# Hours at which the note's age saturates: one week. A log scale resolves the first hours, where
# a note's age says most about how current it is, as finely as the first days (1 h -> 0.14,
# 6 h -> 0.38, 24 h -> 0.63, 72 h -> 0.83), keeps the column in [0, 1] like the flag, and treats
# every note older than a week as equally stale.
NOTE_HOURS_SCALE = 168.0


@dataclass(frozen=True)
class NoteIndicator:
    """Which indicator columns follow the note vector, and the hours' scale ``H`` (None without
    the hours column)."""

    columns: tuple[str, ...] = (HAS_NOTE,)
    hours_scale: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        if self.columns not in ((HAS_NOTE,), (HAS_NOTE, HOURS_SINCE_NOTE)):
            raise PipelineError(
                f"unknown note indicator columns {list(self.columns)}; expected [{HAS_NOTE!r}] "
                f"or [{HAS_NOTE!r}, {HOURS_SINCE_NOTE!r}]: retrain the model with this version"
            )
        if self.has_hours != (self.hours_scale is not None and self.hours_scale > 0):
            raise PipelineError(
                f"note indicator hours scale {self.hours_scale!r} does not fit its columns "
                f"{list(self.columns)}: retrain the model with this version"
            )

    @property
    def has_hours(self) -> bool:
        return HOURS_SINCE_NOTE in self.columns

    @property
    def width(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "hours_scale": self.hours_scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoteIndicator:
        if not isinstance(data, dict) or set(data) != {"columns", "hours_scale"}:
            raise PipelineError(
                f"the stored note indicator {data!r} is not a {{'columns', 'hours_scale'}} dict; "
                "retrain the model with this version"
            )
        scale = data["hours_scale"]
        return cls(tuple(data["columns"]), None if scale is None else float(scale))


def indicator_for(splits: Iterable[MultimodalSplit]) -> NoteIndicator:
    """The flag, with the hours column when every split records note times."""
    if all(split.note_hours is not None for split in splits):
        return NoteIndicator((HAS_NOTE, HOURS_SINCE_NOTE), NOTE_HOURS_SCALE)
    return NoteIndicator()


def scaled_note_hours(
    note_hours: np.ndarray, has_note: np.ndarray, scale: float = NOTE_HOURS_SCALE
) -> np.ndarray:
    """``log1p(min(h, scale)) / log1p(scale)`` where a sample has a note, 0 elsewhere.

    >>> scaled_note_hours(np.array([0.0, 168.0, 1000.0, np.nan]), np.array([1, 1, 1, 0], bool))
    array([0., 1., 1., 0.])
    """
    hours = np.asarray(note_hours, dtype=np.float64)
    with_note = np.asarray(has_note, dtype=bool)
    missing = int((with_note & np.isnan(hours)).sum())
    if missing:
        raise PipelineError(
            f"note_hours is NaN for {missing} sample(s) that have a note; give the hours from "
            "each sample's most recent note to its prediction time (NaN only without a note)"
        )
    if (hours[with_note] < 0).any() or np.isinf(hours[with_note]).any():
        raise PipelineError(
            "note_hours holds negative or infinite hours; a note must be charted at or before "
            "the prediction time"
        )
    scaled = np.log1p(np.minimum(np.where(with_note, hours, 0.0), scale)) / np.log1p(scale)
    return np.where(with_note, scaled, 0.0)


def indicator_columns(
    indicator: NoteIndicator, has_note: np.ndarray, note_hours: np.ndarray | None = None
) -> np.ndarray:
    """The ``(N, indicator.width)`` float32 columns for samples with ``has_note`` and, for the
    hours column, ``note_hours`` (hours since the most recent note, NaN without one)."""
    flag = np.asarray(has_note, dtype=bool)
    columns = [flag.astype(np.float32)]
    if indicator.has_hours:
        if note_hours is None:
            raise PipelineError(
                "the note indicator has an hours column but no note_hours were given"
            )
        columns.append(scaled_note_hours(note_hours, flag, indicator.hours_scale))
    return np.stack(columns, axis=1).astype(np.float32)


def with_note_indicator(
    X_text: np.ndarray,
    indicator: NoteIndicator,
    has_note: np.ndarray,
    note_hours: np.ndarray | None = None,
) -> np.ndarray:
    """``X_text`` (float32) with the indicator's columns appended: the network's text input."""
    X_text = np.asarray(X_text, dtype=np.float32)
    return np.concatenate([X_text, indicator_columns(indicator, has_note, note_hours)], axis=1)


def split_text_input(split: MultimodalSplit, indicator: NoteIndicator | None) -> np.ndarray:
    """One split's text input: its note vectors, with the indicator's columns when given."""
    if indicator is None:
        return split.X_text
    return with_note_indicator(split.X_text, indicator, has_eligible_note(split), split.note_hours)
