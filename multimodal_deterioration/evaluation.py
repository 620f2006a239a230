"""Metrics, thresholds, bootstrap confidence intervals and DeLong's test, for every model.

One module judges the fused model, the unimodal baselines and the controls alike, so their
numbers are comparable. Conventions shared by every function here:

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

import itertools
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from tqdm.auto import tqdm

from .errors import PipelineError

# Guo et al. (2017), "On calibration of modern neural networks", use 10 equal-width bins;
# it is also scikit-learn's calibration_curve default.
DEFAULT_CALIBRATION_BINS = 10
# Enough resamples for stable 2.5/97.5 percentiles (Efron & Tibshirani 1993, ch. 13 suggest
# 1,000 or more for percentile intervals).
DEFAULT_BOOTSTRAP_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_BOOTSTRAP_SEED = 0
# Resamples are scored in blocks of about this many (resample x row) cells, so memory stays
# near 16 MB per float64 matrix whatever the number of resamples.
BOOTSTRAP_BLOCK_CELLS = 2_000_000


# --------------------------------------------------------------------------- validation


def _as_labels(y_true) -> np.ndarray:
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
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``); ties count one half."""
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
    _require_both_classes(y, "AUROC")
    return float(roc_auc_score(y, scores))


def auprc(y_true, prob) -> float:
    """Average precision (scikit-learn's ``average_precision_score``, step-wise, no
    interpolation) -- the usual estimate of the area under the precision-recall curve."""
    y = _as_labels(y_true)
    scores = _as_scores(prob, y.size)
    if not y.any():
        raise PipelineError(
            f"AUPRC needs at least one positive row, got none in {y.size} rows; evaluate on "
            "a split that contains deteriorations"
        )
    return float(average_precision_score(y, scores))


def brier_score(y_true, prob) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome."""
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
    also holds p = 1. Columns: bin, bin_lower, bin_upper, mean_predicted, observed_rate, count.
    """
    y = _as_labels(y_true)
    return _calibration_table(y, _as_probabilities(prob, y.size), n_bins)


def expected_calibration_error(y_true, prob, n_bins: int = DEFAULT_CALIBRATION_BINS) -> float:
    """ECE: sum over bins of (rows in bin / all rows) * |mean predicted - observed rate|.

    Uses the bins of :func:`reliability_curve`; empty bins carry no weight.
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
    """Threshold-free metrics: auroc, auprc, positive_rate, brier_score,
    expected_calibration_error (10 bins)."""
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
            :func:`stratified_bootstrap_indices`). When some id repeats, rows of one group
            are not independent, and the variance is Obuchowski's (1997, Biometrics
            53:567-578) clustered estimator: placement values summed per group, so k copies
            of a row weigh like one row, not like k independent ones. The AUCs are unchanged.
            Without repeats (or without groups) it is DeLong's variance.

    Returns:
        A :class:`DeLongResult`; ``method`` says which variance was used.
    """
    y = _as_labels(y_true)
    scores = np.vstack(
        [_as_scores(prob_a, y.size, "prob_a"), _as_scores(prob_b, y.size, "prob_b")]
    )
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


# --------------------------------------------------------------------------- bootstrap


def stratified_bootstrap_indices(
    y_true, n_resamples: int, seed: int, groups=None
) -> Iterator[np.ndarray]:
    """Yield ``n_resamples`` arrays of row indices, each a stratified bootstrap resample.

    Without ``groups``: positives and negatives are drawn separately with replacement, each
    keeping its count, so every resample has both classes in the original numbers. With
    ``groups`` (one id per row, e.g. the patient): whole groups are drawn instead, so a
    patient's rows always move together; groups are stratified by whether they contain any
    positive row, and each stratum keeps its number of groups. Each yielded array lists the
    drawn positives (or positive groups' rows) first. The first k resamples are the same
    whatever ``n_resamples`` is, so asking for more only extends the sequence.
    """
    y = _as_labels(y_true)
    n_resamples = _positive_int(n_resamples, "n_resamples")
    group_of_row = np.arange(y.size) if groups is None else _group_codes(groups, y.size)
    group_sizes = np.bincount(group_of_row)
    group_has_positive = np.bincount(group_of_row, weights=y) > 0
    positive_groups = np.flatnonzero(group_has_positive)
    negative_groups = np.flatnonzero(~group_has_positive)
    if positive_groups.size == 0 or negative_groups.size == 0:
        unit = "row" if groups is None else "group"
        raise PipelineError(
            f"the stratified bootstrap needs at least one {unit} with a positive and one "
            f"without, got {positive_groups.size} and {negative_groups.size}; evaluate on a "
            "split that contains both outcomes"
        )
    rows_by_group = np.argsort(group_of_row, kind="stable")
    group_starts = np.cumsum(group_sizes) - group_sizes
    return _draw_resamples(
        np.random.default_rng(seed),
        n_resamples,
        positive_groups,
        negative_groups,
        rows_by_group,
        group_starts,
        group_sizes,
    )


def _draw_resamples(
    rng: np.random.Generator,
    n_resamples: int,
    positive_groups: np.ndarray,
    negative_groups: np.ndarray,
    rows_by_group: np.ndarray,
    group_starts: np.ndarray,
    group_sizes: np.ndarray,
) -> Iterator[np.ndarray]:
    for _ in range(n_resamples):
        drawn = np.concatenate(
            [
                positive_groups[rng.integers(0, positive_groups.size, positive_groups.size)],
                negative_groups[rng.integers(0, negative_groups.size, negative_groups.size)],
            ]
        )
        lengths = group_sizes[drawn]
        # Position of every drawn row inside rows_by_group: its group's start plus 0..size-1.
        first_slot = np.cumsum(lengths) - lengths
        positions = np.repeat(group_starts[drawn] - first_slot, lengths) + np.arange(
            lengths.sum()
        )
        yield rows_by_group[positions]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise PipelineError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class _RankedModel:
    """One model's score orderings (and probabilities), computed once and reused by every
    resample.

    Per-positive arrays follow the order of ``positive_rows`` in :func:`bootstrap_replicates`.
    """

    positives_ascending: np.ndarray  # row indices of positives, by increasing score
    negatives_ascending: np.ndarray  # row indices of negatives, by increasing score
    positives_below: np.ndarray  # per positive: positives scored strictly lower
    negatives_below: np.ndarray  # per positive: negatives scored strictly lower
    negatives_not_above: np.ndarray  # per positive: negatives scored lower or equal
    # Per-row values whose weighted sums give the remaining metrics, one row of the array per
    # value, so that each class needs a single matrix product per block:
    # positives: flagged (score >= threshold), and if probabilities, p and (1 - p)^2;
    # negatives: not flagged, and if probabilities, p and p^2.
    positive_values: np.ndarray
    negative_values: np.ndarray


def _rank_model(
    scores: np.ndarray,
    positive_rows: np.ndarray,
    negative_rows: np.ndarray,
    threshold: float,
    probabilities: bool,
) -> _RankedModel:
    positives_ascending = positive_rows[np.argsort(scores[positive_rows], kind="stable")]
    negatives_ascending = negative_rows[np.argsort(scores[negative_rows], kind="stable")]
    positive_scores = scores[positive_rows]
    negative_scores = scores[negative_rows]
    sorted_negatives = scores[negatives_ascending]
    positive_values = [positive_scores >= threshold]
    negative_values = [negative_scores < threshold]
    if probabilities:
        positive_values += [positive_scores, (1.0 - positive_scores) ** 2]
        negative_values += [negative_scores, negative_scores**2]
    return _RankedModel(
        positives_ascending=positives_ascending,
        negatives_ascending=negatives_ascending,
        positives_below=np.searchsorted(scores[positives_ascending], positive_scores, "left"),
        negatives_below=np.searchsorted(sorted_negatives, positive_scores, "left"),
        negatives_not_above=np.searchsorted(sorted_negatives, positive_scores, "right"),
        positive_values=np.vstack(positive_values).astype(np.float64),
        negative_values=np.vstack(negative_values).astype(np.float64),
    )


@dataclass(frozen=True)
class _ResampleBlock:
    """A block of resamples, split by class once and shared by every model."""

    weights: np.ndarray  # rows x resamples: how often each row was drawn
    positive_weights: np.ndarray  # weights[positive_rows]
    negative_weights: np.ndarray  # weights[negative_rows]
    positive_total: np.ndarray  # per resample: positives drawn
    negative_total: np.ndarray  # per resample: negatives drawn


def _resample_block(
    chunk: Sequence[np.ndarray], n_rows: int, positive_rows: np.ndarray, negative_rows: np.ndarray
) -> _ResampleBlock:
    # Rows x resamples, so gathering rows in score order copies contiguous memory and
    # cumulative sums run down the rows.
    weights = np.column_stack([np.bincount(rows, minlength=n_rows) for rows in chunk]).astype(
        np.float64
    )
    positive_weights = weights[positive_rows]
    negative_weights = weights[negative_rows]
    return _ResampleBlock(
        weights=weights,
        positive_weights=positive_weights,
        negative_weights=negative_weights,
        positive_total=positive_weights.sum(axis=0),
        negative_total=negative_weights.sum(axis=0),
    )


def _cumulative_weights(weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Row k: total weight of the first k of ``rows`` (so row 0 is zero), per resample."""
    cumulative = np.zeros((rows.size + 1, weights.shape[1]))
    np.cumsum(weights[rows], axis=0, out=cumulative[1:])
    return cumulative


def _weighted_ranking_metrics(
    model: _RankedModel, block: _ResampleBlock
) -> tuple[np.ndarray, np.ndarray]:
    """AUROC and average precision per resample; ``block.weights[i, r]`` is how often row i
    was drawn in resample r.

    They equal roc_auc_score and average_precision_score on the resampled rows:
    AUROC = mean over drawn (positive, negative) pairs of [positive above] + 1/2 [tie];
    AP = mean over drawn positives of the precision at that positive's score used as the
    threshold (tied positives share one threshold, as in scikit-learn's step-wise sum).
    """
    positive_weights = block.positive_weights
    positive_total, negative_total = block.positive_total, block.negative_total
    below_negatives = _cumulative_weights(block.weights, model.negatives_ascending)
    below_positives = _cumulative_weights(block.weights, model.positives_ascending)

    wins = below_negatives[model.negatives_below] + below_negatives[model.negatives_not_above]
    auroc_values = 0.5 * np.einsum("ir,ir->r", positive_weights, wins) / (
        positive_total * negative_total
    )

    true_pos = positive_total - below_positives[model.positives_below]
    flagged = true_pos + negative_total - below_negatives[model.negatives_below]
    # A positive not drawn in a resample has weight 0, so its 0/0 precision is never used.
    precision = np.divide(true_pos, flagged, out=np.zeros_like(true_pos), where=flagged > 0)
    average_precision = np.einsum("ir,ir->r", positive_weights, precision) / positive_total
    return auroc_values, average_precision


def _score_block(model: _RankedModel, block: _ResampleBlock) -> dict[str, np.ndarray]:
    """Every bootstrap metric of one model for a block of resamples (columns of weights)."""
    auroc_values, average_precision = _weighted_ranking_metrics(model, block)
    # einsum, not @: OpenBLAS threads made these small products 10-60x slower whenever other
    # work kept the cores busy (2-core machine); on idle cores a whole run takes as long.
    positive_sums = np.einsum("ki,ir->kr", model.positive_values, block.positive_weights)
    negative_sums = np.einsum("ki,ir->kr", model.negative_values, block.negative_weights)
    values = {
        "auroc": auroc_values,
        "auprc": average_precision,
        "sensitivity": positive_sums[0] / block.positive_total,
        "specificity": negative_sums[0] / block.negative_total,
    }
    if len(positive_sums) > 1:  # the probability rows of positive_values are present
        values["brier"] = (positive_sums[2] + negative_sums[2]) / (
            block.positive_total + block.negative_total
        )
        values["discrimination_slope"] = (
            positive_sums[1] / block.positive_total - negative_sums[1] / block.negative_total
        )
    return values


def _difference_key(name_a: str, name_b: str) -> str:
    return f"{name_a}_minus_{name_b}"


def _resolve_thresholds(
    thresholds: Mapping[str, float] | float, names: Sequence[str]
) -> dict[str, float]:
    if isinstance(thresholds, Mapping):
        missing = [name for name in names if name not in thresholds]
        if missing:
            raise PipelineError(
                f"no threshold given for model(s) {', '.join(missing)}; pass one threshold per "
                "model (e.g. each model's youden_threshold on validation data) or one float"
            )
        resolved = {name: float(thresholds[name]) for name in names}
    else:
        resolved = {name: float(thresholds) for name in names}
    for name, value in resolved.items():
        if np.isnan(value):
            raise PipelineError(f"the threshold for model {name} is NaN; choose a number")
    return resolved


def bootstrap_replicates(
    y_true,
    predictions: Mapping[str, np.ndarray],
    *,
    thresholds: Mapping[str, float] | float = 0.5,
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    groups: np.ndarray | None = None,
    paired_differences: Sequence[tuple[str, str]] = (),
    progress: bool = False,
) -> dict[str, dict[str, np.ndarray]]:
    """The metric of every resample, each an array of length ``n_resamples``::

        {model: {"auroc", "auprc", "sensitivity", "specificity",
                 "brier", "discrimination_slope"},
         "<a>_minus_<b>": {"auroc", "auprc", "brier", "discrimination_slope"}}

    Every model is scored on the same resamples (paired), drawn by
    :func:`stratified_bootstrap_indices`, and a difference is model a's value minus model
    b's in the same resample. ``brier`` is the mean squared error of the probability (so a
    negative Brier difference favours a); ``discrimination_slope`` is Yates' slope, the mean
    probability of the positives minus that of the negatives, and its difference is the
    integrated discrimination improvement (IDI) of Pencina et al. (2008) of a over b. Both
    need probabilities: they are present only when every model's scores lie in [0, 1], and
    left out (for every model and difference) otherwise. Each value equals the metric
    computed on the resampled rows. :func:`bootstrap_confidence_intervals` turns these into
    percentile intervals; they are exposed for histograms and further tests.
    """
    y = _as_labels(y_true)
    if not predictions:
        raise PipelineError("no predictions to bootstrap; pass at least one model's scores")
    names = list(predictions)
    scores = {
        name: _as_scores(predictions[name], y.size, f"predictions of {name}") for name in names
    }
    model_thresholds = _resolve_thresholds(thresholds, names)
    pairs = [(str(a), str(b)) for a, b in paired_differences]
    for name_a, name_b in pairs:
        for name in (name_a, name_b):
            if name not in scores:
                raise PipelineError(
                    f"paired difference names model {name}, which is not among the "
                    f"predictions ({', '.join(names)}); fix the name"
                )
        if _difference_key(name_a, name_b) in scores:
            raise PipelineError(
                f"model name {_difference_key(name_a, name_b)} clashes with a paired "
                "difference key; rename the model"
            )

    indices = stratified_bootstrap_indices(y, n_resamples, seed, groups)
    positive_rows = np.flatnonzero(y == 1)
    negative_rows = np.flatnonzero(y == 0)
    probabilities = all(s.min() >= 0.0 and s.max() <= 1.0 for s in scores.values())
    probability_metrics = ("brier", "discrimination_slope") if probabilities else ()
    ranked = {
        name: _rank_model(
            scores[name], positive_rows, negative_rows, model_thresholds[name], probabilities
        )
        for name in names
    }
    metrics = ("auroc", "auprc", "sensitivity", "specificity", *probability_metrics)
    values = {name: {metric: np.empty(n_resamples) for metric in metrics} for name in names}

    block = max(1, BOOTSTRAP_BLOCK_CELLS // y.size)
    done = 0
    with tqdm(total=n_resamples, desc="bootstrap", unit="resample", disable=not progress) as bar:
        while done < n_resamples:
            chunk = list(itertools.islice(indices, block))
            resamples = _resample_block(chunk, y.size, positive_rows, negative_rows)
            span = slice(done, done + len(chunk))
            for name, model in ranked.items():
                block_values = _score_block(model, resamples)
                for metric, metric_values in block_values.items():
                    values[name][metric][span] = metric_values
            done += len(chunk)
            bar.update(len(chunk))

    for name_a, name_b in pairs:
        values[_difference_key(name_a, name_b)] = {
            metric: values[name_a][metric] - values[name_b][metric]
            for metric in ("auroc", "auprc", *probability_metrics)
        }
    return values


def bootstrap_confidence_intervals(
    y_true,
    predictions: Mapping[str, np.ndarray],
    *,
    thresholds: Mapping[str, float] | float = 0.5,
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    groups: np.ndarray | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    paired_differences: Sequence[tuple[str, str]] = (),
    progress: bool = False,
) -> dict:
    """Stratified, paired, percentile bootstrap intervals.

    Returns ``{model: {"auroc": [lo, hi], "auprc": [...], "sensitivity": [...],
    "specificity": [...], "brier": [...], "discrimination_slope": [...]},
    "<a>_minus_<b>": {"auroc": [lo, hi], "auprc": [...], "brier": [...],
    "discrimination_slope": [...]}}``, the metrics of :func:`bootstrap_replicates`: ``brier``
    and ``discrimination_slope`` only when every model's scores are probabilities in [0, 1];
    the difference's ``discrimination_slope`` is the IDI of a over b (Pencina et al. 2008).
    Sensitivity and specificity use each model's threshold (a dict per model, or one float).
    Every model sees the same resamples, so a difference interval reflects the pairing. See
    :func:`stratified_bootstrap_indices` for the resampling and ``groups``. Interval ends are
    numpy's linearly interpolated percentiles of the resample values.
    """
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise PipelineError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    replicates = bootstrap_replicates(
        y_true,
        predictions,
        thresholds=thresholds,
        n_resamples=n_resamples,
        seed=seed,
        groups=groups,
        paired_differences=paired_differences,
        progress=progress,
    )
    tail = 100.0 * (1.0 - confidence) / 2.0
    return {
        key: {
            metric: [float(v) for v in np.percentile(samples, [tail, 100.0 - tail])]
            for metric, samples in by_metric.items()
        }
        for key, by_metric in replicates.items()
    }
