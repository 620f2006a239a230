"""Whatever arrays an .npz holds, the loaders accept them consistently or raise PipelineError.

Hypothesis draws the split sizes and the contracted arrays, breaks up to two keys each in one
way (missing, wrong rank, a wrong or empty axis, another dtype, non-binary labels, NaN or
infinity), and writes them with numpy.savez as a user would (object arrays get pickled).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.contract.multimodal_data import load_multimodal_data
from multimodal_deterioration.preparation.vitals import load_vitals

SPLITS = ("train", "val", "test")
DTYPES = ("float32", "float64", "int64", "bool", "object", "str")
BREAKAGES = ("missing", "rank", "axis", "dtype", "values")
# Values of a valid array, and of one broken in its values.
VITAL_VALUES, BAD_VITAL_VALUES = (-1.5, 0.0, 2.0), (0.0, np.nan, np.inf, -np.inf)
LABEL_VALUES, BAD_LABEL_VALUES = (0, 1), (-1, 0, 1, 2, 0.5, np.nan)
EXAMPLES = 400


def contract_shapes(sizes: dict[str, int], n_steps: int, n_features: int, text_dim: int):
    """The shape each key must have: vitals (N, T, F), text (N, D), labels (N,)."""
    shapes = {}
    for split, n in sizes.items():
        shapes[f"X_{split}"] = shapes[f"X_vital_{split}"] = (n, n_steps, n_features)
        shapes[f"X_text_{split}"] = (n, text_dim)
        shapes[f"y_{split}"] = (n,)
    return shapes


@st.composite
def array_for(draw, key: str, shape: tuple[int, ...], breakage: str | None):
    """The contracted array for ``key``, or one broken in the way ``breakage`` names."""
    if breakage == "rank":
        rank = draw(st.sampled_from([r for r in range(5) if r != len(shape)]))
        shape = tuple(draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank)))
    elif breakage == "axis":
        axis = draw(st.integers(0, len(shape) - 1))
        shape = shape[:axis] + (draw(st.integers(0, 4)),) + shape[axis + 1 :]
    is_label = key.startswith("y_")
    if is_label:
        allowed = BAD_LABEL_VALUES if breakage == "values" else LABEL_VALUES
    else:
        allowed = BAD_VITAL_VALUES if breakage == "values" else VITAL_VALUES
    size = int(np.prod(shape))
    values = draw(st.lists(st.sampled_from(allowed), min_size=size, max_size=size))
    values = np.array(values, dtype=float).reshape(shape)
    if breakage == "dtype":
        dtype = draw(st.sampled_from(DTYPES))
    else:
        dtype = "int64" if is_label and breakage != "values" else "float32"
    with np.errstate(invalid="ignore"):  # NaN cast to int is part of what is drawn
        return values.astype(dtype)


@st.composite
def npz_payload(draw, layout: str):
    """The arrays of a vitals or multimodal file with up to two keys broken."""
    sizes = {split: draw(st.integers(1, 4)) for split in SPLITS}
    dims = (draw(st.integers(1, 3)) for _ in range(3))
    shapes = contract_shapes(sizes, *dims)
    prefixes = ("X_",) if layout == "vitals" else ("X_vital_", "X_text_")
    keys = [f"{prefix}{split}" for prefix in (*prefixes, "y_") for split in SPLITS]
    broken = draw(st.dictionaries(st.sampled_from(keys), st.sampled_from(BREAKAGES), max_size=2))
    arrays = {}
    for key in keys:
        if broken.get(key) != "missing":
            arrays[key] = draw(array_for(key, shapes[key], broken.get(key)))
    return arrays


def load(loader, arrays: dict[str, np.ndarray]):
    """What ``loader`` returns for a file holding ``arrays``, or None for a clear PipelineError."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "data.npz"
        np.savez(path, **arrays)
        try:
            result = loader(path)
        except PipelineError as error:
            assert "\n" not in str(error) and str(path) in str(error), str(error)
            event("rejected")
            return None
    event("accepted")
    return result


def assert_binary_labels(y: np.ndarray, n: int) -> None:
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) <= {0, 1}


PROPERTY = settings(max_examples=EXAMPLES, deadline=None)


@PROPERTY
@given(npz_payload("vitals"))
def test_load_vitals_accepts_a_consistent_file_or_raises_the_clear_error(arrays):
    vitals = load(load_vitals, arrays)
    if vitals is None:
        return
    shapes = set()
    for split in vitals.splits.values():
        assert split.X.dtype == np.float32 and split.X.ndim == 3 and min(split.X.shape) >= 1
        assert np.isfinite(split.X).all()
        assert_binary_labels(split.y, len(split.X))
        shapes.add(split.X.shape[1:])
    assert len(shapes) == 1


@PROPERTY
@given(npz_payload("multimodal"))
def test_load_multimodal_data_accepts_a_consistent_file_or_raises_the_clear_error(arrays):
    data = load(load_multimodal_data, arrays)
    if data is None:
        return
    shapes = set()
    for split in data.splits.values():
        for X, rank in ((split.X_vital, 3), (split.X_text, 2)):
            assert X.dtype == np.float32 and X.ndim == rank and min(X.shape) >= 1
            assert np.isfinite(X).all() and len(X) == len(split.y)
        assert_binary_labels(split.y, len(split.y))
        shapes.add((split.X_vital.shape[1:], split.X_text.shape[1]))
    assert len(shapes) == 1
