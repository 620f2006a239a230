"""Metrics, thresholds and calibration, for every model.

One module judges the fused model, the unimodal baselines and the controls alike, so their
numbers are comparable; DeLong's test of two AUROCs is in
:mod:`multimodal_deterioration.evidence.delong` and the bootstrap confidence intervals in
:mod:`multimodal_deterioration.evidence.bootstrap`. Conventions shared by every function here:

- Labels are 0/1 with 1 = deteriorated (the positive class); a score is higher for rows more
  likely to be positive. Nothing flips a model's direction: a model worse than chance gets an
  AUROC below 0.5 (pROC's ``direction="auto"`` would flip it; we do not).
- A row is predicted positive when ``prob >= threshold``.
- A ratio whose denominator is zero (e.g. sensitivity with no positive rows) is ``None``, not
  NaN, because JSON has no portable NaN and a reader must see "undefined", not a number.
- Errors a user can cause (one class only, mismatched lengths, non-finite scores) raise
  ``PipelineError`` with the fix (:mod:`multimodal_deterioration.base.inputs`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from ..base.errors import PipelineError
from ..base.inputs import as_labels, as_probabilities, as_scores, require_both_classes

# Guo et al. (2017), "On calibration of modern neural networks", use 10 equal-width bins;
# it is also scikit-learn's calibration_curve default.
DEFAULT_CALIBRATION_BINS = 10


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# --------------------------------------------------------------------------- point metrics


def auroc(y_true, prob) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``); ties count one half.

    Args:
        y_true: 0/1 labels, shape (N,) or (N, 1), both classes present.
        prob: one score per row, higher for rows more likely positive (probabilities or
            logits: only the order matters).

    Returns:
        The AUROC in [0, 1]; below 0.5 for a model that ranks backwards (never flipped).

    Example:
        >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    y = as_labels(y_true)
    scores = as_scores(prob, y.size)
    require_both_classes(y, "AUROC")
    return float(roc_auc_score(y, scores))


def auprc(y_true, prob) -> float:
    """Average precision (scikit-learn's ``average_precision_score``, step-wise, no
    interpolation) -- the usual estimate of the area under the precision-recall curve.

    Args:
        y_true: 0/1 labels with at least one positive.
        prob: one score per row, higher for rows more likely positive.

    Returns:
        The average precision in [0, 1]; a model without skill scores about the positive rate.

    Example:
        >>> round(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
        0.8333
    """
    y = as_labels(y_true)
    scores = as_scores(prob, y.size)
    if not y.any():
        raise PipelineError(
            f"AUPRC needs at least one positive row, got none in {y.size} rows; evaluate on "
            "a split that contains deteriorations"
        )
    return float(average_precision_score(y, scores))


def brier_score(y_true, prob) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome.

    Args:
        y_true: 0/1 labels.
        prob: predicted probabilities in [0, 1] (not logits).

    Returns:
        The Brier score in [0, 1]; lower is better.

    Example:
        >>> round(brier_score([0, 1, 1], [0.1, 0.9, 0.6]), 4)
        0.06
    """
    y = as_labels(y_true)
    p = as_probabilities(prob, y.size)
    return float(np.mean((p - y) ** 2))


def discrimination_slope(y_true, prob) -> float:
    """Yates' discrimination slope: mean predicted probability of the positive rows minus
    that of the negative rows (Yates 1982, Organ Behav Hum Perform 30:132-156).

    Args:
        y_true: 0/1 labels, both classes present.
        prob: predicted probabilities in [0, 1].

    Returns:
        A number in [-1, 1]; 0 for a model that gives both classes the same mean probability.

    Example:
        >>> round(discrimination_slope([1, 1, 0, 0], [0.9, 0.7, 0.2, 0.4]), 4)
        0.5
    """
    y = as_labels(y_true)
    p = as_probabilities(prob, y.size)
    require_both_classes(y, "the discrimination slope")
    return float(p[y == 1].mean() - p[y == 0].mean())


def integrated_discrimination_improvement(y_true, prob_new, prob_old) -> float:
    """IDI of Pencina et al. (2008, Stat Med 27:157-172) of a new model over an old one.

    (mean p_new - mean p_old over the positives) - (mean p_new - mean p_old over the
    negatives), which is ``discrimination_slope(new) - discrimination_slope(old)``. Positive
    when the new model separates the classes' probabilities further apart.

    Args:
        y_true: 0/1 labels, both classes present.
        prob_new: the new model's probabilities in [0, 1] (e.g. vitals and notes).
        prob_old: the old model's probabilities for the same rows (e.g. vitals only).

    Returns:
        The IDI, a number in [-2, 2].

    Example:
        >>> y = [1, 1, 0, 0, 0]
        >>> new = [0.9, 0.7, 0.2, 0.1, 0.3]  # positives' mean 0.8, negatives' 0.2
        >>> old = [0.6, 0.5, 0.4, 0.3, 0.2]  # positives' mean 0.55, negatives' 0.3
        >>> round(integrated_discrimination_improvement(y, new, old), 4)
        0.35
    """
    y = as_labels(y_true)
    p_new = as_probabilities(prob_new, y.size, "prob_new")
    p_old = as_probabilities(prob_old, y.size, "prob_old")
    return discrimination_slope(y, p_new) - discrimination_slope(y, p_old)


def _calibration_table(y: np.ndarray, p: np.ndarray, n_bins: int) -> pd.DataFrame:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise PipelineError(f"n_bins must be a positive integer, got {n_bins!r}")
    # Edges k / n_bins computed by division (not linspace) so 0.3 is exactly the edge
    # between bins 2 and 3 when n_bins is 10. Bins are [lo, hi); the last is [lo, 1].
    edges = np.arange(n_bins + 1) / n_bins
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    filled = counts > 0
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(filled),
            "bin_lower": edges[:-1][filled],
            "bin_upper": edges[1:][filled],
            "mean_predicted": sum_p[filled] / counts[filled],
            "observed_rate": sum_y[filled] / counts[filled],
            "count": counts[filled],
        }
    )


def reliability_curve(y_true, prob, n_bins: int = DEFAULT_CALIBRATION_BINS) -> pd.DataFrame:
    """Calibration points for a reliability diagram, one row per non-empty bin.

    Equal-width bins on [0, 1]: bin k holds ``k/n_bins <= p < (k+1)/n_bins`` and the last bin
    also holds p = 1.

    Args:
        y_true: 0/1 labels.
        prob: predicted probabilities in [0, 1].
        n_bins: number of equal-width bins.

    Returns:
        A DataFrame with columns bin (0..n_bins-1), bin_lower, bin_upper, mean_predicted,
        observed_rate (share of positives) and count (rows in the bin); a perfectly calibrated
        model has mean_predicted equal to observed_rate in every row.

    Example:
        >>> table = reliability_curve([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
        >>> table[["bin", "mean_predicted", "observed_rate", "count"]].to_numpy().round(2)
        array([[0.  , 0.15, 0.  , 2.  ],
               [1.  , 0.8 , 1.  , 2.  ]])
    """
    y = as_labels(y_true)
    return _calibration_table(y, as_probabilities(prob, y.size), n_bins)


def expected_calibration_error(y_true, prob, n_bins: int = DEFAULT_CALIBRATION_BINS) -> float:
    """ECE: sum over bins of (rows in bin / all rows) * |mean predicted - observed rate|.

    Uses the bins of :func:`reliability_curve`; empty bins carry no weight.

    Args:
        y_true: 0/1 labels.
        prob: predicted probabilities in [0, 1].
        n_bins: number of equal-width bins.

    Returns:
        The ECE in [0, 1]; 0 when every bin's mean prediction equals its observed rate.

    Example:
        >>> # bin [0, 0.5): predicted 0.15, observed 0; bin [0.5, 1]: predicted 0.8, observed 1
        >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2), 4)
        0.175
    """
    y = as_labels(y_true)
    table = _calibration_table(y, as_probabilities(prob, y.size), n_bins)
    gaps = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((table["count"] * gaps).sum() / y.size)


def youden_threshold(y_true, prob) -> float:
    """The score threshold maximising Youden's J = sensitivity + specificity - 1.

    Choose it on validation data and apply it unchanged to the test split. Candidates are the
    distinct scores (``roc_curve`` with every point kept), each applied as ``prob >= t``;
    scikit-learn's leading ``inf`` threshold (predict nobody positive) is never returned.
    Ties go to the highest threshold, i.e. the fewest alarms among equally good cut-offs.
    J is compared in exact integer arithmetic, so ties are real ties, not rounding.

    Args:
        y_true: 0/1 labels (of the validation split), both classes present.
        prob: one score per row.

    Returns:
        One of the scores in ``prob``, to be used as ``prob >= threshold``.

    Example:
        >>> # 0.8 and 0.35 both give J = 0.5; the higher one raises fewer alarms
        >>> youden_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.8
    """
    y = as_labels(y_true)
    scores = as_scores(prob, y.size)
    require_both_classes(y, "Youden's threshold")
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    fpr, tpr, thresholds = roc_curve(y, scores, drop_intermediate=False)
    true_pos = np.rint(tpr * n_pos).astype(np.int64)
    false_pos = np.rint(fpr * n_neg).astype(np.int64)
    # J * n_pos * n_neg, exact in integers; index 0 is the "nobody positive" point.
    scaled_j = true_pos[1:] * n_neg - false_pos[1:] * n_pos
    return float(thresholds[1 + int(np.argmax(scaled_j))])


def threshold_metrics(y_true, prob, threshold: float) -> dict:
    """Confusion counts and ratios with rows predicted positive when ``prob >= threshold``.

    Counts are ints; a ratio with a zero denominator is ``None`` (undefined), e.g. PPV when no
    row is predicted positive. F1 = 2TP / (2TP + FP + FN).

    Args:
        y_true: 0/1 labels.
        prob: one score per row.
        threshold: the cut-off, e.g. :func:`youden_threshold` on validation data.

    Returns:
        A dict with threshold, sensitivity, specificity, f1_score, accuracy, ppv, npv (floats
        or ``None``) and true_positives, false_positives, false_negatives, true_negatives.

    Example:
        >>> y, prob = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
        >>> metrics = threshold_metrics(y, prob, threshold=0.35)
        >>> metrics["sensitivity"], metrics["specificity"], metrics["false_positives"]
        (1.0, 0.5, 1)
        >>> threshold_metrics(y, prob, threshold=0.9)["ppv"] is None  # nobody flagged
        True
    """
    y = as_labels(y_true)
    scores = as_scores(prob, y.size)
    threshold = float(threshold)
    if np.isnan(threshold):
        raise PipelineError("the decision threshold is NaN; choose it with youden_threshold")
    predicted = scores >= threshold
    actual = y == 1
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    tn = int(np.sum(~predicted & ~actual))
    return {
        "threshold": threshold,
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "f1_score": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, y.size),
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "true_negatives": tn,
    }


def summary_metrics(y_true, prob) -> dict:
    """Threshold-free metrics of one model, as reported for every model in the results.

    Args:
        y_true: 0/1 labels, both classes present.
        prob: predicted probabilities in [0, 1].

    Returns:
        A dict of floats: auroc, auprc, positive_rate (share of positive rows), brier_score
        and expected_calibration_error (10 bins).
    """
    y = as_labels(y_true)
    p = as_probabilities(prob, y.size)
    return {
        "auroc": auroc(y, p),
        "auprc": auprc(y, p),
        "positive_rate": float(y.mean()),
        "brier_score": brier_score(y, p),
        "expected_calibration_error": expected_calibration_error(y, p),
    }
