"""``multimodal_data.npz``: the one file the preparation script hands to the training script.

Layout (DESIGN.md): ``X_vital_{split}``, ``X_text_{split}``, ``y_{split}``, ``note_index_{split}``
(row of the paired note, the most recent when several are aggregated, -1 if none),
``note_count_{split}`` (notes aggregated per sample), optional ``note_hours_{split}`` (hours
from the most recent aggregated note's chart time to the prediction time, NaN without a note;
written only for notes linked by id with chart times and prediction times), optional
``ids_{split}`` and ``feature_names``, and ``meta`` (a JSON string). The reference layout
(vitals and text without labels) is read too, with the labels taken from the user's
``processed_data.npz``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.artifacts import read_npz, save_npz
from ..base.errors import PipelineError
from .arrays import (
    SPLITS,
    VITAL_AXES,
    read_feature_names,
    read_ids,
    read_labels,
    read_labels_of_rows,
    read_real_array,
    read_vital_sign_file,
)

# The axes of the note-embedding array, named in messages about its shape.
TEXT_AXES = ("samples", "embedding dimensions")
# DeLong's variance of an AUROC needs two samples of each class (delong.delong_test).
DELONG_MIN_PER_CLASS = 2


@dataclass(frozen=True)
class MultimodalSplit:
    X_vital: np.ndarray  # (N, T, F) float32
    X_text: np.ndarray  # (N, D) float32; zeros where a sample has no note
    y: np.ndarray  # (N,) int64
    note_index: np.ndarray | None  # (N,) int64, -1 where no note; the most recent of several
    ids: np.ndarray | None  # (N,) str
    note_count: np.ndarray | None = None  # (N,) int64, notes aggregated into X_text
    # (N,) float64: hours from the most recent aggregated note's chart time to the prediction
    # time; NaN where the sample has no note; None when note or prediction times are unknown.
    note_hours: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)


def has_eligible_note(split: MultimodalSplit) -> np.ndarray:
    """Whether each sample has an eligible note: ``note_count > 0`` when the split records it,
    else ``note_index >= 0``, else a note vector that is not all zero.

    >>> split = MultimodalSplit(np.zeros((3, 1, 1)), np.zeros((3, 2)), np.array([0, 1, 0]),
    ...                         None, None, note_count=np.array([0, 2, 1]))
    >>> has_eligible_note(split).tolist()
    [False, True, True]
    """
    if split.note_count is not None:
        return np.asarray(split.note_count) > 0
    if split.note_index is not None:
        return np.asarray(split.note_index) >= 0
    return np.any(np.asarray(split.X_text) != 0, axis=1)


@dataclass(frozen=True)
class MultimodalData:
    splits: dict[str, MultimodalSplit]
    meta: dict
    feature_names: tuple[str, ...] | None = None
    labels_path: Path | None = None  # the file the labels were read from, named in messages

    @property
    def has_ids(self) -> bool:
        return all(split.ids is not None for split in self.splits.values())

    def require_both_classes(self) -> None:
        """Check, before training, the class counts that the evaluation will need.

        AUROC, early stopping and the class weight need both labels in every split; DeLong's
        test on the test split needs two of each; with ids, the patient-level bootstrap needs a
        test patient with a positive row and one without.
        """
        source = f"{self.labels_path}: " if self.labels_path else ""
        for name, split in self.splits.items():
            present = sorted(set(np.unique(split.y).tolist()))
            if len(present) < 2:
                only = present[0] if present else "none"
                raise PipelineError(
                    f"{source}the {name} split has only label {only} ({len(split)} samples); "
                    "AUROC is undefined, so every split needs both classes: re-split your data, "
                    "stratified by label"
                )
        test = self.splits["test"]
        n_positive = int(test.y.sum())
        n_negative = len(test) - n_positive
        if min(n_positive, n_negative) < DELONG_MIN_PER_CLASS:
            raise PipelineError(
                f"{source}the test split has {n_positive} positive and {n_negative} negative "
                f"samples; DeLong's test needs at least {DELONG_MIN_PER_CLASS} of each: re-split "
                "your data with a larger test split, stratified by label"
            )
        if test.ids is not None and len(np.unique(test.ids)) < len(test.ids):
            # Repeated ids make DeLong's test clustered (Obuchowski), whose variance needs two
            # ids with a positive sample and two with a negative one.
            ids_with = {label: len(np.unique(test.ids[test.y == label])) for label in (0, 1)}
            if min(ids_with.values()) < DELONG_MIN_PER_CLASS:
                raise PipelineError(
                    f"{source}the test split's samples come from {ids_with[1]} id(s) with a "
                    f"positive sample and {ids_with[0]} with a negative one; the clustered "
                    f"DeLong test needs at least {DELONG_MIN_PER_CLASS} of each: re-split your "
                    "data with more patients in the test split"
                )
        if test.ids is not None:
            positive_ids = set(test.ids[test.y == 1].tolist())
            if positive_ids >= set(test.ids.tolist()):
                raise PipelineError(
                    f"{source}every patient id in the test split has a positive sample, so the "
                    "patient-level bootstrap cannot stratify; re-split by patient so the test "
                    "split also holds patients without deterioration"
                )


def save_multimodal_data(path: str | os.PathLike, data: MultimodalData) -> Path:
    arrays: dict[str, np.ndarray] = {}
    for name, split in data.splits.items():
        arrays[f"X_vital_{name}"] = split.X_vital.astype(np.float32)
        arrays[f"X_text_{name}"] = split.X_text.astype(np.float32)
        arrays[f"y_{name}"] = split.y.astype(np.int64)
        arrays[f"note_index_{name}"] = split.note_index.astype(np.int64)
        if split.note_count is not None:
            arrays[f"note_count_{name}"] = split.note_count.astype(np.int64)
        if split.note_hours is not None:
            arrays[f"note_hours_{name}"] = split.note_hours.astype(np.float64)
        if split.ids is not None:
            arrays[f"ids_{name}"] = split.ids.astype(str)
    if data.feature_names is not None:
        arrays["feature_names"] = np.array(data.feature_names)
    arrays["meta"] = np.array(json.dumps(data.meta))
    return save_npz(path, **arrays)


def load_multimodal_data(
    path: str | os.PathLike, vitals_path: str | os.PathLike | None = None
) -> MultimodalData:
    """Read and check a multimodal file; labels come from ``vitals_path`` when it is given."""
    path = Path(path)
    arrays = read_npz(
        path,
        "data file",
        missing_fix="run download_and_prepare_clinical_notes.py first, or pass the file with --data",
        invalid_fix="re-create it with download_and_prepare_clinical_notes.py",
    )
    labels = None
    if vitals_path is not None:
        labels = _labels_from_vitals_file(vitals_path)
    elif not any(f"y_{name}" in arrays for name in SPLITS):
        found = ", ".join(sorted(arrays)) or "none"
        raise PipelineError(
            f"{path} has no labels (y_train/y_val/y_test; keys found: {found}), as in the "
            "reference layout; pass the vital-sign file that holds them with "
            "--vitals processed_data.npz"
        )
    splits = {name: _split(arrays, path, name, labels) for name in SPLITS}
    _check_consistent(splits, path)
    names = read_feature_names(arrays, path, splits["train"].X_vital.shape[2])
    labels_path = Path(vitals_path) if vitals_path is not None else path
    return MultimodalData(splits, _meta(arrays, path), names, labels_path)


def _labels_from_vitals_file(vitals_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``y_{split}`` of the user's vital-sign file, for a data file in the reference layout;
    checked against the rows of that file's ``X_{split}`` where it has one."""
    vitals_path = Path(vitals_path)
    arrays = read_vital_sign_file(vitals_path)
    labels = {}
    for name in SPLITS:
        X = arrays.get(f"X_{name}")
        if X is None or X.ndim == 0:
            labels[name] = read_labels(arrays, vitals_path, name)
        else:
            labels[name] = read_labels_of_rows(arrays, vitals_path, name, len(X))
    return labels


def _split(arrays: dict, path: Path, name: str, labels: dict | None) -> MultimodalSplit:
    X_vital = read_real_array(arrays, path, f"X_vital_{name}", VITAL_AXES, name)
    X_text = read_real_array(arrays, path, f"X_text_{name}", TEXT_AXES, name)
    y = labels[name] if labels is not None else read_labels(arrays, path, name)
    if not (len(X_vital) == len(X_text) == len(y)):
        source = "the --vitals file" if labels is not None else str(path)
        raise PipelineError(
            f"{path}: split {name!r} has {len(X_vital)} vital rows, {len(X_text)} text rows and "
            f"{len(y)} labels (from {source}); they must match row for row"
        )
    note_index, note_count = (
        _per_sample_integers(arrays, path, f"{key}_{name}", len(y))
        for key in ("note_index", "note_count")
    )
    ids = read_ids(arrays, path, name, f"X_vital_{name}", len(y))
    note_hours = _note_hours(arrays, path, f"note_hours_{name}", len(y))
    return MultimodalSplit(X_vital, X_text, y, note_index, ids, note_count, note_hours)


def _note_hours(arrays: dict, path: Path, key: str, n_samples: int) -> np.ndarray | None:
    """``note_hours_{split}``: real, one per sample, NaN (no note) or at least zero (a note is
    charted at or before the prediction time)."""
    values = arrays.get(key)
    if values is None:
        return None
    if values.shape != (n_samples,) or values.dtype.kind != "f":
        raise PipelineError(
            f"{path}: {key} has shape {values.shape} and dtype {values.dtype}, expected "
            f"({n_samples},) real hours; re-create the file with download_and_prepare_clinical_notes.py"
        )
    if (values[~np.isnan(values)] < 0).any() or np.isinf(values).any():
        raise PipelineError(
            f"{path}: {key} holds negative or infinite hours; a note must be charted at or "
            "before the prediction time: re-create the file with download_and_prepare_clinical_notes.py"
        )
    return values.astype(np.float64)


def _per_sample_integers(arrays: dict, path: Path, key: str, n_samples: int) -> np.ndarray | None:
    values = arrays.get(key)
    if values is not None and (values.shape != (n_samples,) or values.dtype.kind not in "iu"):
        raise PipelineError(
            f"{path}: {key} has shape {values.shape} and dtype {values.dtype}, expected "
            f"({n_samples},) integers; re-create the file with download_and_prepare_clinical_notes.py"
        )
    return values


def _meta(arrays: dict, path: Path) -> dict:
    if "meta" not in arrays:
        return {}
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict):
        raise PipelineError(
            f"{path}: meta is not a JSON object; re-create the file with "
            "download_and_prepare_clinical_notes.py, or remove the key"
        )
    return meta


def _check_consistent(splits: dict[str, MultimodalSplit], path: Path) -> None:
    shapes = {name: (s.X_vital.shape[1:], s.X_text.shape[1]) for name, s in splits.items()}
    if len({shape for shape in shapes.values()}) > 1:
        raise PipelineError(
            f"{path}: splits differ in time steps, vital features or text dimension ({shapes}); "
            "re-create the file from one vital-sign file"
        )
