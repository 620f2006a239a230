"""Load and validate the user's vital-sign sequences (``processed_data.npz``).

Validation happens before any expensive step, so a wrong file fails in seconds with a message
that names the file, the key and what was expected. The checked reads shared with
``multimodal_data.npz`` (``SPLITS``, labels, ids, feature names) are the contract's
(``contract.arrays``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.errors import PipelineError
from ..base.timestamps import Timestamps, parse_times
from ..contract.arrays import (
    SPLITS,
    VITAL_AXES,
    one_per_sample,
    read_feature_names,
    read_ids,
    read_labels_of_rows,
    read_real_array,
    read_vital_sign_file,
)


@dataclass(frozen=True)
class VitalSplit:
    X: np.ndarray  # (N, T, F) float32
    y: np.ndarray  # (N,) int64, 0/1
    ids: np.ndarray | None  # (N,) str, patient or stay identifiers
    times: Timestamps | None = None  # (N,) prediction times: the end of each observation window

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Vitals:
    splits: dict[str, VitalSplit]
    feature_names: tuple[str, ...] | None
    path: Path

    @property
    def has_ids(self) -> bool:
        return all(split.ids is not None for split in self.splits.values())

    @property
    def has_times(self) -> bool:
        return all(split.times is not None for split in self.splits.values())

    @property
    def n_features(self) -> int:
        return self.splits["train"].X.shape[2]

    @property
    def n_timesteps(self) -> int:
        return self.splits["train"].X.shape[1]


def load_vitals(path: str | os.PathLike, require_labels: bool = True) -> Vitals:
    """Read ``X_{split}``, ``y_{split}`` and optional ``ids_``/``times_{split}`` and
    ``feature_names``, checked."""
    path = Path(path)
    arrays = read_vital_sign_file(path)
    splits = {}
    for split in SPLITS:
        X = read_real_array(arrays, path, f"X_{split}", VITAL_AXES, split)
        y = read_labels_of_rows(arrays, path, split, len(X)) if require_labels else None
        ids = read_ids(arrays, path, split, f"X_{split}", len(X))
        times = _prediction_times(arrays, path, split, len(X))
        splits[split] = VitalSplit(X=X, y=y, ids=ids, times=times)
    _check_same_shape_across_splits(splits, path)
    _check_times_across_splits(splits, path)
    feature_names = read_feature_names(arrays, path, splits["train"].X.shape[2])
    return Vitals(splits=splits, feature_names=feature_names, path=path)


def _prediction_times(arrays: dict, path: Path, split: str, n_samples: int) -> Timestamps | None:
    key = f"times_{split}"
    values = one_per_sample(
        arrays, path, key, n_samples, f"(one prediction time per sample of X_{split})"
    )
    if values is None:
        return None
    times = parse_times(values, f"{path}: {key}")
    if times.missing.any():
        raise PipelineError(
            f"{path}: {key} has {int(times.missing.sum())} missing time(s) of {n_samples}; every "
            "sample needs its prediction time (the end of its observation window)"
        )
    return times


def _check_times_across_splits(splits: dict[str, VitalSplit], path: Path) -> None:
    with_times = [name for name, split in splits.items() if split.times is not None]
    if with_times and len(with_times) < len(splits):
        missing = ", ".join(f"times_{name}" for name in splits if name not in with_times)
        raise PipelineError(
            f"{path} has prediction times for some splits but not {missing}; give every split "
            "its times, or none"
        )
    forms = {(splits[name].times.kind, splits[name].times.timezone_aware) for name in with_times}
    if len(forms) > 1:
        raise PipelineError(
            f"{path}: times_train/val/test are not all of one kind (datetimes with or without a "
            "time zone, or numbers); write them all in one form"
        )


def _check_same_shape_across_splits(splits: dict[str, VitalSplit], path: Path) -> None:
    n_features = {name: split.X.shape[2] for name, split in splits.items()}
    if len(set(n_features.values())) > 1:
        raise PipelineError(
            f"{path}: the feature count differs between splits ({n_features}); every split needs "
            "the same vital signs in the same order"
        )
    n_steps = {name: split.X.shape[1] for name, split in splits.items()}
    if len(set(n_steps.values())) > 1:
        raise PipelineError(
            f"{path}: the number of time steps differs between splits ({n_steps}); pad or "
            "truncate the sequences to one length"
        )
