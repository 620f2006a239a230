"""``multimodal_data.npz``: the one file the preparation script hands to the training script.

Layout (DESIGN.md): ``X_vital_{split}``, ``X_text_{split}``, ``y_{split}``, ``note_index_{split}``
(row of the paired note, -1 if none), optional ``ids_{split}`` and ``feature_names``, and ``meta``
(a JSON string). The reference layout (vitals and text without labels) is read too, with the
labels taken from the user's ``processed_data.npz``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import read_npz, save_npz
from .errors import PipelineError
from .pairing import NO_NOTE, Pairing
from .vitals import SPLITS, Vitals, load_vitals


@dataclass(frozen=True)
class MultimodalSplit:
    X_vital: np.ndarray  # (N, T, F) float32
    X_text: np.ndarray  # (N, D) float32; zeros where a sample has no note
    y: np.ndarray  # (N,) int64
    note_index: np.ndarray | None  # (N,) int64, -1 where no note
    ids: np.ndarray | None  # (N,) str

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class MultimodalData:
    splits: dict[str, MultimodalSplit]
    meta: dict
    feature_names: tuple[str, ...] | None = None

    @property
    def has_ids(self) -> bool:
        return all(split.ids is not None for split in self.splits.values())

    def require_both_classes(self) -> None:
        """AUROC, early stopping and the class weight all need both labels in every split."""
        for name, split in self.splits.items():
            present = sorted(set(np.unique(split.y).tolist()))
            if len(present) < 2:
                raise PipelineError(
                    f"the {name} split has only label {present[0] if present else 'none'} "
                    f"({len(split)} samples); AUROC is undefined, so every split needs both "
                    "classes: re-split your data, stratified by label"
                )


def assemble(vitals: Vitals, embeddings: np.ndarray, pairing: Pairing, meta: dict) -> MultimodalData:
    """Give every sample the embedding of its paired note (a zero vector where it has none)."""
    splits = {}
    for name in SPLITS:
        vital_split = vitals.splits[name]
        index = pairing.note_index[name]
        text = np.zeros((len(index), embeddings.shape[1]), dtype=np.float32)
        has_note = index != NO_NOTE
        text[has_note] = embeddings[index[has_note]]
        splits[name] = MultimodalSplit(vital_split.X, text, vital_split.y, index, vital_split.ids)
    return MultimodalData(splits, meta, vitals.feature_names)


def save_multimodal_data(path: str | os.PathLike, data: MultimodalData) -> Path:
    arrays: dict[str, np.ndarray] = {}
    for name, split in data.splits.items():
        arrays[f"X_vital_{name}"] = split.X_vital.astype(np.float32)
        arrays[f"X_text_{name}"] = split.X_text.astype(np.float32)
        arrays[f"y_{name}"] = split.y.astype(np.int64)
        arrays[f"note_index_{name}"] = split.note_index.astype(np.int64)
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
        labels = {name: split.y for name, split in load_vitals(vitals_path).splits.items()}
    elif not all(f"y_{name}" in arrays for name in SPLITS):
        raise PipelineError(
            f"{path} has no labels (y_train/y_val/y_test), as in the reference layout; pass the "
            "vital-sign file that holds them with --vitals processed_data.npz"
        )
    splits = {name: _split(arrays, path, name, labels) for name in SPLITS}
    _check_consistent(splits, path)
    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    names = tuple(arrays["feature_names"].astype(str).tolist()) if "feature_names" in arrays else None
    return MultimodalData(splits, meta, names)


def _split(arrays: dict, path: Path, name: str, labels: dict | None) -> MultimodalSplit:
    found = ", ".join(sorted(arrays))
    for key in (f"X_vital_{name}", f"X_text_{name}"):
        if key not in arrays:
            raise PipelineError(f"{path} has no key {key!r}; keys found: {found}")
    X_vital = arrays[f"X_vital_{name}"].astype(np.float32)
    X_text = arrays[f"X_text_{name}"].astype(np.float32)
    y = labels[name] if labels is not None else arrays[f"y_{name}"]
    y = np.asarray(y).reshape(len(y), -1)[:, 0] if np.ndim(y) == 2 else np.asarray(y)
    if X_vital.ndim != 3 or X_text.ndim != 2:
        raise PipelineError(
            f"{path}: X_vital_{name} must be (N, T, F) and X_text_{name} (N, D); got "
            f"{X_vital.shape} and {X_text.shape}"
        )
    if not (len(X_vital) == len(X_text) == len(y)):
        source = "the --vitals file" if labels is not None else str(path)
        raise PipelineError(
            f"{path}: split {name!r} has {len(X_vital)} vital rows, {len(X_text)} text rows and "
            f"{len(y)} labels (from {source}); they must match row for row"
        )
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise PipelineError(f"{path}: y_{name} is not binary; labels must be 0 or 1")
    for key, values in ((f"X_vital_{name}", X_vital), (f"X_text_{name}", X_text)):
        n_bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if n_bad:
            raise PipelineError(f"{path}: {key} contains {n_bad} NaN or infinite values")
    note_index = arrays.get(f"note_index_{name}")
    ids = arrays[f"ids_{name}"].astype(str) if f"ids_{name}" in arrays else None
    return MultimodalSplit(X_vital, X_text, y.astype(np.int64), note_index, ids)


def _check_consistent(splits: dict[str, MultimodalSplit], path: Path) -> None:
    shapes = {name: (s.X_vital.shape[1:], s.X_text.shape[1]) for name, s in splits.items()}
    if len({shape for shape in shapes.values()}) > 1:
        raise PipelineError(
            f"{path}: splits differ in time steps, vital features or text dimension ({shapes}); "
            "re-create the file from one vital-sign file"
        )
