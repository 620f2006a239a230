"""Metrics, thresholds, calibration and DeLong's test, for every model.

One module judges the fused model, the unimodal baselines and the controls alike, so their
numbers are comparable; their bootstrap confidence intervals are in
:mod:`multimodal_deterioration.evidence.bootstrap`. Conventions shared by every function here:

- Labels are 0/1 with 1 = deteriorated (the positive class); a score is higher for rows more
  likely to be positive. Nothing flips a model's direction: a model worse than chance gets an
  AUROC below 0.5 (pROC's ``direction="auto"`` would flip it; we do not).
- A row is predicted positive when ``prob >= threshold``.
- A ratio whose denominator is zero (e.g. sensitivity with no positive rows) is ``None``, not
  NaN, because JSON has no portable NaN and a reader must see "undefined", not a number.
- Errors a user can cause (one class only, mismatched lengths, non-finite scores) raise
  ``PipelineError`` with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from ..base.errors import PipelineError

# Guo et al. (2017), "On calibration of modern neural networks", use 10 equal-width bins;
# it is also scikit-learn's calibration_curve default.
DEFAULT_CALIBRATION_BINS = 10


# --------------------------------------------------------------------------- validation


def _as_labels(y_true) -> np.ndarray:
    """0/1 labels of shape (N,) as int64, from (N,) or (N, 1), bool or numeric input."""
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


def _as_scores(prob, n_rows: int, name: str = "predictions") -> np.ndarray:
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


def _as_probabilities(prob, n_rows: int, name: str = "predictions") -> np.ndarray:
    """Like :func:`_as_scores`, and every value must lie in [0, 1]."""
    scores = _as_scores(prob, n_rows, name)
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise PipelineError(
            f"{name} must be probabilities in [0, 1], got range "
            f"[{scores.min():.4g}, {scores.max():.4g}]; apply a sigmoid to the logits first"
        )
    return scores


def _require_both_classes(y: np.ndarray, what: str, minimum: int = 1) -> None:
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos < minimum or n_neg < minimum:
        raise PipelineError(
            f"{what} needs at least {minimum} positive and {minimum} negative row(s), got "
            f"{n_pos} positive and {n_neg} negative in {y.size} rows; evaluate on a larger "
            "split or one that contains both outcomes"
        )


def _group_codes(groups, n_rows: int) -> np.ndarray:
    """Group number (0..G-1, in sorted id order) of every row."""
    group_ids = np.asarray(groups)
    if group_ids.ndim != 1 or group_ids.shape[0] != n_rows:
        raise PipelineError(
            f"groups must hold one id per row ({n_rows} rows), got shape "
            f"{group_ids.shape}; pass the ids aligned with the labels (e.g. ids_test)"
        )
    return np.unique(group_ids, return_inverse=True)[1].reshape(-1)


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
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
    _require_both_classes(y, "AUROC")
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
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
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
    y = _as_labels(y_true)
    p = _as_probabilities(prob, y.size)
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
    y = _as_labels(y_true)
    p = _as_probabilities(prob, y.size)
    _require_both_classes(y, "the discrimination slope")
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
    y = _as_labels(y_true)
    p_new = _as_probabilities(prob_new, y.size, "prob_new")
    p_old = _as_probabilities(prob_old, y.size, "prob_old")
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
    y = _as_labels(y_true)
    return _calibration_table(y, _as_probabilities(prob, y.size), n_bins)


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
    y = _as_labels(y_true)
    table = _calibration_table(y, _as_probabilities(prob, y.size), n_bins)
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
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
    _require_both_classes(y, "Youden's threshold")
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
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
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
    y = _as_labels(y_true)
    p = _as_probabilities(prob, y.size)
    return {
        "auroc": auroc(y, p),
        "auprc": auprc(y, p),
        "positive_rate": float(y.mean()),
        "brier_score": brier_score(y, p),
        "expected_calibration_error": expected_calibration_error(y, p),
    }


# --------------------------------------------------------------------------- DeLong

DELONG_METHOD = "DeLong"
CLUSTERED_DELONG_METHOD = "DeLong, clustered (Obuchowski 1997)"


@dataclass(frozen=True)
class DeLongResult:
    """DeLong's test of two correlated AUROCs; ``variance`` is that of ``auc_difference``.

    ``method`` is :data:`DELONG_METHOD` or, when rows were grouped and some group holds
    several rows, :data:`CLUSTERED_DELONG_METHOD`; ``clusters`` is then the number of groups
    (e.g. patients), and ``None`` for the ordinary test.
    """

    auc_a: float
    auc_b: float
    auc_difference: float
    variance: float
    z: float
    p_value: float
    method: str
    clusters: int | None


def _structural_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values V10 (per positive) and V01 (per negative), one row per model.

    V10_i = share of negatives scored below positive i (ties count 1/2); V01_j = share of
    positives scored above negative j. Computed from midranks as in Sun & Xu (2014), so the
    cost is O(n log n) rather than DeLong's O(n_pos * n_neg) pair comparisons.
    """
    pos = scores[:, y == 1]
    neg = scores[:, y == 0]
    n_pos, n_neg = pos.shape[1], neg.shape[1]
    combined = rankdata(np.concatenate([pos, neg], axis=1), method="average", axis=1)
    v10 = (combined[:, :n_pos] - rankdata(pos, method="average", axis=1)) / n_neg
    v01 = 1.0 - (combined[:, n_pos:] - rankdata(neg, method="average", axis=1)) / n_pos
    return v10, v01


def _repeated_clusters(groups, n_rows: int) -> np.ndarray | None:
    """Cluster number (0..I-1) of every row when some group holds several rows, else None:
    with one row per group the clustered variance reduces to DeLong's, which is used as is."""
    if groups is None:
        return None
    clusters = _group_codes(groups, n_rows)
    return clusters if np.bincount(clusters).max() > 1 else None


def _delong_variance(v10: np.ndarray, v01: np.ndarray) -> float:
    """DeLong et al. (1988): var(V10)/m + var(V01)/n with n-1 denominators (pROC's var())."""
    return float(np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size)


def _obuchowski_variance(
    y: np.ndarray, v10: np.ndarray, v01: np.ndarray, clusters: np.ndarray
) -> float:
    """Obuchowski's (1997) variance of an AUROC estimated from clustered rows.

    ``v10``/``v01`` are the placement values of :func:`_structural_components` (or the
    difference of two models' placements, which gives the variance of the AUC difference:
    every term below is bilinear in the placements). With M positives and N negatives in I
    clusters, of which I10 hold a positive and I01 a negative, theta the AUC, and per
    cluster i with m_i positives and n_i negatives
        X_i = sum of V10 over its positives - m_i theta,
        Y_i = sum of V01 over its negatives - n_i theta,
    the paper's estimator is
        var = S10/M + S01/N + 2 S11/(M N),
        S10 = I10 / ((I10 - 1) M) sum_i X_i^2,
        S01 = I01 / ((I01 - 1) N) sum_i Y_i^2,
        S11 = I / (I - 1) sum_i X_i Y_i.
    Cross-checked against the R implementations in iMRMC (``doAUCcluster``, adapted from the
    Cleveland Clinic's ``funcs_clusteredROC.R``) and fastAUC (``auc(..., cluster=)``). It is
    never negative: I/(I-1) <= I10/(I10-1), I01/(I01-1), so it is I/(I-1) sum_i (X_i/M +
    Y_i/N)^2 plus non-negative terms.
    """
    n_clusters = int(clusters.max()) + 1
    positive_clusters = clusters[y == 1]
    negative_clusters = clusters[y == 0]
    clusters_with_positive = np.unique(positive_clusters).size
    clusters_with_negative = np.unique(negative_clusters).size
    if clusters_with_positive < 2 or clusters_with_negative < 2:
        raise PipelineError(
            "the clustered DeLong variance needs at least 2 groups with a positive row and 2 "
            f"with a negative row, got {clusters_with_positive} and {clusters_with_negative} "
            f"of {n_clusters} groups; evaluate on a split with more patients"
        )
    m, n = v10.size, v01.size
    theta = v10.mean()
    x = np.bincount(positive_clusters, weights=v10 - theta, minlength=n_clusters)
    y_sums = np.bincount(negative_clusters, weights=v01 - theta, minlength=n_clusters)
    s10 = clusters_with_positive / ((clusters_with_positive - 1) * m) * np.dot(x, x)
    s01 = clusters_with_negative / ((clusters_with_negative - 1) * n) * np.dot(y_sums, y_sums)
    s11 = n_clusters / (n_clusters - 1) * np.dot(x, y_sums)
    return float(s10 / m + s01 / n + 2.0 * s11 / (m * n))


def delong_auc_variance(y_true, prob, groups=None) -> tuple[float, float]:
    """(AUROC, its DeLong variance) for one model; the variance uses n-1 denominators, as in
    DeLong et al. (1988) and pROC's ``var()``.

    With ``groups`` (one id per row, e.g. the patient) in which some id repeats, the variance
    is Obuchowski's (1997) clustered one instead (see :func:`delong_test`).

    Args:
        y_true: 0/1 labels, at least two rows of each class.
        prob: one score per row.
        groups: optional id per row, as for :func:`delong_test`.

    Returns:
        ``(auroc, variance)``; ``sqrt(variance)`` is the AUROC's standard error.

    Example:
        >>> auc, variance = delong_auc_variance([0, 0, 0, 1, 1, 1], [0.1, 0.4, 0.3, 0.35, 0.8, 0.9])
        >>> round(auc, 4), round(variance, 4)
        (0.8889, 0.0247)
    """
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
    _require_both_classes(y, "DeLong's variance", minimum=2)
    clusters = _repeated_clusters(groups, y.size)
    v10, v01 = _structural_components(y, scores[np.newaxis, :])
    if clusters is None:
        variance = _delong_variance(v10[0], v01[0])
    else:
        variance = _obuchowski_variance(y, v10[0], v01[0], clusters)
    return float(v10[0].mean()), variance


def delong_test(y_true, prob_a, prob_b, groups=None) -> DeLongResult:
    """DeLong, DeLong & Clarke-Pearson (1988) test of AUROC(a) = AUROC(b) on the same rows.

    Two-sided p-value from the standard normal. ``auc_difference = auc_a - auc_b`` and z has
    its sign. When the variance of the difference is 0 -- the two models order every
    positive/negative pair alike, e.g. identical predictions or one a monotone transform of
    the other -- the AUCs are equal and we report z = 0, p = 1. If the variance is 0 while
    the AUCs differ (only when each model's placements are constant, e.g. a perfect model
    against a constant one), z is +/-inf and p = 0, as pROC reports; such a result says the
    sample is too degenerate for the test, not that the evidence is overwhelming.

    Args:
        y_true: 0/1 labels, at least two rows of each class.
        prob_a, prob_b: the two models' scores for the same rows.
        groups: optional id per row (e.g. the patient, as for
            :func:`multimodal_deterioration.evidence.bootstrap.stratified_bootstrap_indices`). When
            some id repeats, rows of one group are not independent, and the variance is
            Obuchowski's (1997, Biometrics 53:567-578) clustered estimator: placement values
            summed per group, so k copies of a row weigh like one row, not like k independent
            ones. The AUCs are unchanged. Without repeats (or without groups) it is DeLong's
            variance.

    Returns:
        A :class:`DeLongResult`; ``method`` says which variance was used.

    Example:
        >>> y = [0, 0, 0, 1, 1, 1]
        >>> result = delong_test(y, [0.1, 0.4, 0.3, 0.35, 0.8, 0.9], [0.2, 0.1, 0.5, 0.4, 0.6, 0.3])
        >>> round(result.auc_difference, 4), round(result.p_value, 4), result.method
        (0.1111, 0.7237, 'DeLong')
    """
    y = _as_labels(y_true)
    scores = np.vstack([_as_scores(prob_a, y.size, "prob_a"), _as_scores(prob_b, y.size, "prob_b")])
    _require_both_classes(y, "DeLong's test", minimum=2)
    clusters = _repeated_clusters(groups, y.size)
    v10, v01 = _structural_components(y, scores)
    auc_a, auc_b = v10.mean(axis=1)
    difference = float(auc_a - auc_b)
    # The variance of the difference from the differences of the placements rather than as
    # S_aa + S_bb - 2 S_ab: same quantity, but never negative through cancellation, and
    # exactly 0 when the placements coincide.
    if clusters is None:
        variance = _delong_variance(v10[0] - v10[1], v01[0] - v01[1])
    else:
        variance = _obuchowski_variance(y, v10[0] - v10[1], v01[0] - v01[1], clusters)
    if variance > 0:
        z = difference / np.sqrt(variance)
        p_value = float(2.0 * norm.sf(abs(z)))
    elif difference == 0:
        z, p_value = 0.0, 1.0
    else:
        z, p_value = float(np.copysign(np.inf, difference)), 0.0
    return DeLongResult(
        auc_a=float(auc_a),
        auc_b=float(auc_b),
        auc_difference=difference,
        variance=variance,
        z=float(z),
        p_value=p_value,
        method=DELONG_METHOD if clusters is None else CLUSTERED_DELONG_METHOD,
        clusters=None if clusters is None else int(clusters.max()) + 1,
    )
