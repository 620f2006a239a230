"""The input checks every evidence module runs before it computes anything.

Labels, scores, probabilities and group ids arrive as lists, numpy arrays or column vectors;
each check returns them in one form (a flat numpy array of a fixed dtype) or raises
``PipelineError`` with a message that says what to fix. Conventions: labels are 0/1 with
1 = deteriorated (the positive class), and a score is higher for rows more likely positive.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import PipelineError


def as_labels(y_true) -> np.ndarray:
    """0/1 labels of shape (N,) as int64, from (N,) or (N, 1), bool or numeric input.

    Example:
        >>> as_labels([[True], [False]])
        array([1, 0])
    """
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise PipelineError(
            f"labels must be one 0/1 value per row, got an array of shape {y.shape}; "
            "flatten y (shape (N,) or (N, 1)) before evaluating"
        )
    if y.size == 0:
        raise PipelineError("cannot evaluate on zero rows; check that the split has samples")
    if y.dtype == bool:
        return y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise PipelineError(
            f"labels must be numeric 0/1, got dtype {y.dtype}; encode the outcome as "
            "1 = deteriorated, 0 = not"
        )
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        examples = ", ".join(str(v) for v in np.unique(y[bad])[:5])
        raise PipelineError(
            f"labels must be 0 or 1, found {examples}; binarise the outcome "
            "(1 = deteriorated) before evaluating"
        )
    return y.astype(np.int64)


def as_scores(prob, n_rows: int, name: str = "predictions") -> np.ndarray:
    """Finite float64 scores of shape (n_rows,); ``name`` names them in the error message."""
    scores = np.asarray(prob, dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 1 or scores.shape[0] != n_rows:
        raise PipelineError(
            f"{name} must hold one score per row ({n_rows} rows), got shape {scores.shape}; "
            "pass scores aligned with the labels"
        )
    if not np.isfinite(scores).all():
        count = int((~np.isfinite(scores)).sum())
        raise PipelineError(
            f"{name} contain {count} NaN or infinite values; the model diverged or the "
            "inputs hold NaN -- fix them before evaluating"
        )
    return scores


def as_probabilities(prob, n_rows: int, name: str = "predictions") -> np.ndarray:
    """Like :func:`as_scores`, and every value must lie in [0, 1]."""
    scores = as_scores(prob, n_rows, name)
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise PipelineError(
            f"{name} must be probabilities in [0, 1], got range "
            f"[{scores.min():.4g}, {scores.max():.4g}]; apply a sigmoid to the logits first"
        )
    return scores


def require_both_classes(y: np.ndarray, what: str, minimum: int = 1) -> None:
    """Raise unless the 0/1 labels ``y`` hold ``minimum`` rows of each class; ``what`` names
    the computation that needs them in the message."""
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos < minimum or n_neg < minimum:
        raise PipelineError(
            f"{what} needs at least {minimum} positive and {minimum} negative row(s), got "
            f"{n_pos} positive and {n_neg} negative in {y.size} rows; evaluate on a larger "
            "split or one that contains both outcomes"
        )


def group_codes(groups, n_rows: int) -> np.ndarray:
    """Group number (0..G-1, in sorted id order) of every row.

    Example:
        >>> group_codes(["b", "a", "b"], 3)
        array([1, 0, 1])
    """
    group_ids = np.asarray(groups)
    if group_ids.ndim != 1 or group_ids.shape[0] != n_rows:
        raise PipelineError(
            f"groups must hold one id per row ({n_rows} rows), got shape "
            f"{group_ids.shape}; pass the ids aligned with the labels (e.g. ids_test)"
        )
    return np.unique(group_ids, return_inverse=True)[1].reshape(-1)
