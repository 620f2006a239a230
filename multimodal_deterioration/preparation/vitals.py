"""Load and validate the user's vital-sign sequences (``processed_data.npz``).

Validation happens before any expensive step, so a wrong file fails in seconds with a message
that names the file, the key and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.artifacts import read_npz
from ..base.errors import PipelineError
from ..base.identifiers import ids_as_text
from ..base.timestamps import Timestamps, parse_times

SPLITS = ("train", "val", "test")
# The axes of a vital-sign array, named in messages about its shape.
VITAL_AXES = ("samples", "time steps", "features")


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
    arrays = read_npz(
        path,
        "vital-sign file",
        missing_fix="pass your file with --vitals, or run with --demo",
        invalid_fix="save it with numpy.savez(path, X_train=..., y_train=..., ...)",
    )
    splits = {}
    for split in SPLITS:
        X = read_real_array(arrays, path, f"X_{split}", VITAL_AXES, split)
        y = _labels(arrays, path, split, len(X)) if require_labels else None
        ids = read_ids(arrays, path, split, f"X_{split}", len(X))
        times = _prediction_times(arrays, path, split, len(X))
        splits[split] = VitalSplit(X=X, y=y, ids=ids, times=times)
    _check_same_shape_across_splits(splits, path)
    _check_times_across_splits(splits, path)
    feature_names = read_feature_names(arrays, path, splits["train"].X.shape[2])
    return Vitals(splits=splits, feature_names=feature_names, path=path)


def missing_key(arrays: dict, path: Path, key: str, expected: str) -> PipelineError:
    found = ", ".join(sorted(arrays)) or "none"
    return PipelineError(f"{path} has no key {key!r} ({expected}); keys found: {found}")


def read_real_array(
    arrays: dict, path: Path, key: str, axes: tuple[str, ...], split: str
) -> np.ndarray:
    """``arrays[key]`` as finite float32 with one non-empty axis per name in ``axes``."""
    if key not in arrays:
        raise missing_key(arrays, path, key, f"a real array of ({', '.join(axes)})")
    X = arrays[key]
    if X.ndim != len(axes):
        raise PipelineError(
            f"{path}: {key} has shape {X.shape}, expected {len(axes)} dimensions "
            f"({', '.join(axes)})"
        )
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise PipelineError(f"{path}: {key} has dtype {X.dtype}, expected real numbers")
    empty = [axis for axis, size in zip(axes, X.shape) if size == 0]
    if empty:
        raise PipelineError(
            f"{path}: {key} has no {empty[0]} (shape {X.shape}); every split needs at least one"
        )
    X = X.astype(np.float32)
    bad = ~np.isfinite(X)
    if bad.any():
        bad_samples = int(bad.reshape(len(X), -1).any(axis=1).sum())
        raise PipelineError(
            f"{path}: {key} contains {int(bad.sum())} NaN or infinite values in {bad_samples} "
            f"of {len(X)} {split} samples; impute or drop them before running the pipeline"
        )
    return X


def read_labels(arrays: dict, path: Path, split: str) -> np.ndarray:
    """``y_{split}`` as int64 0/1 of shape (N,); (N, 1) is flattened."""
    key = f"y_{split}"
    if key not in arrays:
        raise missing_key(arrays, path, key, "binary labels of shape (N,) or (N, 1)")
    y = arrays[key]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise PipelineError(f"{path}: {key} has shape {y.shape}, expected (N,) or (N, 1)")
    if y.dtype.kind not in "biuf":
        raise PipelineError(f"{path}: {key} has dtype {y.dtype}, expected binary 0/1 labels")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        shown = sorted(values - {0, 1})[:5]
        raise PipelineError(
            f"{path}: {key} is not binary (found values {shown}); labels must be 0 or 1"
        )
    return y.astype(np.int64)


def _labels(arrays: dict, path: Path, split: str, n_samples: int) -> np.ndarray:
    y = read_labels(arrays, path, split)
    if len(y) != n_samples:
        raise PipelineError(
            f"{path}: y_{split} has {len(y)} labels but X_{split} has {n_samples} samples; "
            "they must match row for row"
        )
    return y


def read_ids(arrays: dict, path: Path, split: str, x_key: str, n_samples: int) -> np.ndarray | None:
    ids = _one_per_sample(arrays, path, f"ids_{split}", n_samples, f"to match {x_key}")
    if ids is None:
        return None
    text = ids_as_text(ids)
    if any(value is None for value in text.tolist()):
        raise PipelineError(f"{path}: ids_{split} has missing ids; every sample needs one")
    return text.astype(str)


def _prediction_times(arrays: dict, path: Path, split: str, n_samples: int) -> Timestamps | None:
    key = f"times_{split}"
    values = _one_per_sample(
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


def _one_per_sample(
    arrays: dict, path: Path, key: str, n_samples: int, expected: str
) -> np.ndarray | None:
    """``arrays[key]`` as shape (n_samples,), (N, 1) flattened; None when the key is absent."""
    if key not in arrays:
        return None
    values = np.asarray(arrays[key])
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or len(values) != n_samples:
        raise PipelineError(
            f"{path}: {key} has shape {values.shape}, expected ({n_samples},) {expected}"
        )
    return values


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


def read_feature_names(arrays: dict, path: Path, n_features: int) -> tuple[str, ...] | None:
    if "feature_names" not in arrays:
        return None
    names = np.asarray(arrays["feature_names"]).astype(str).ravel()
    if len(names) != n_features:
        raise PipelineError(
            f"{path}: feature_names lists {len(names)} names but the vitals have {n_features} "
            "features"
        )
    return tuple(names.tolist())
