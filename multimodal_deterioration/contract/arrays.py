"""Checked reads of the npz arrays that ``processed_data.npz`` and ``multimodal_data.npz`` share.

The user's vital-sign file and the multimodal data file both hold per-split arrays: real-valued
samples (``X_{split}``, ``X_vital_{split}``, ``X_text_{split}``), binary labels ``y_{split}``,
optional ids ``ids_{split}`` and optional ``feature_names``. Each reader takes the file's arrays
(from ``base.artifacts.read_npz``) and its path, and raises one ``PipelineError`` that names the
file, the key and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..base.artifacts import read_npz
from ..base.errors import PipelineError
from ..base.identifiers import ids_as_text

SPLITS = ("train", "val", "test")
# The axes of a vital-sign array, named in messages about its shape.
VITAL_AXES = ("samples", "time steps", "features")


def read_vital_sign_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the user's vital-sign file (``processed_data.npz``), unchecked."""
    return read_npz(
        Path(path),
        "vital-sign file",
        missing_fix="pass your file with --vitals, or run with --demo",
        invalid_fix="save it with numpy.savez(path, X_train=..., y_train=..., ...)",
    )


def missing_key(arrays: dict, path: Path, key: str, expected: str) -> PipelineError:
    """The error for a key that ``arrays`` lacks, listing the keys it has.

    >>> print(missing_key({"X_train": None}, Path("data.npz"), "y_train", "binary labels"))
    data.npz has no key 'y_train' (binary labels); keys found: X_train
    """
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
    """``y_{split}`` as int64 0/1 of shape (N,); (N, 1) is flattened.

    >>> read_labels({"y_val": np.array([[1.0], [0.0]])}, Path("data.npz"), "val")
    array([1, 0])
    """
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


def read_labels_of_rows(arrays: dict, path: Path, split: str, n_samples: int) -> np.ndarray:
    """``read_labels``, checked to hold one label per each of the ``n_samples`` rows of
    ``X_{split}``."""
    y = read_labels(arrays, path, split)
    if len(y) != n_samples:
        raise PipelineError(
            f"{path}: y_{split} has {len(y)} labels but X_{split} has {n_samples} samples; "
            "they must match row for row"
        )
    return y


def read_ids(arrays: dict, path: Path, split: str, x_key: str, n_samples: int) -> np.ndarray | None:
    """``ids_{split}`` as text, one per sample of ``x_key``; None when the file has no ids."""
    ids = one_per_sample(arrays, path, f"ids_{split}", n_samples, f"to match {x_key}")
    if ids is None:
        return None
    text = ids_as_text(ids)
    if any(value is None for value in text.tolist()):
        raise PipelineError(f"{path}: ids_{split} has missing ids; every sample needs one")
    return text.astype(str)


def one_per_sample(
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


def read_feature_names(arrays: dict, path: Path, n_features: int) -> tuple[str, ...] | None:
    """``feature_names`` as a tuple of ``n_features`` names; None when the file has none."""
    if "feature_names" not in arrays:
        return None
    names = np.asarray(arrays["feature_names"]).astype(str).ravel()
    if len(names) != n_features:
        raise PipelineError(
            f"{path}: feature_names lists {len(names)} names but the vitals have {n_features} "
            "features"
        )
    return tuple(names.tolist())
