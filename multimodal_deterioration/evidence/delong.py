"""DeLong's test of two correlated AUROCs, and its clustered form for repeated ids.

DeLong, DeLong & Clarke-Pearson (1988, Biometrics 44:837-845) compare two models' AUROCs on
the same rows through their placement values; when rows share an id (several samples of one
patient), Obuchowski's (1997, Biometrics 53:567-578) clustered variance sums the placements
per id instead. The conventions of :mod:`multimodal_deterioration.evidence.evaluation` hold:
1 = deteriorated, higher scores for rows more likely positive, no model's direction flipped,
and errors a user can cause raise ``PipelineError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

from ..base.errors import PipelineError
from ..base.inputs import as_labels, as_scores, group_codes, require_both_classes

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
    clusters = group_codes(groups, n_rows)
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
    y = as_labels(y_true)
    scores = as_scores(prob, y.size)
    require_both_classes(y, "DeLong's variance", minimum=2)
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
    y = as_labels(y_true)
    scores = np.vstack([as_scores(prob_a, y.size, "prob_a"), as_scores(prob_b, y.size, "prob_b")])
    require_both_classes(y, "DeLong's test", minimum=2)
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
    z, p_value = _two_sided_z_test(difference, variance)
    return DeLongResult(
        auc_a=float(auc_a),
        auc_b=float(auc_b),
        auc_difference=difference,
        variance=variance,
        z=z,
        p_value=p_value,
        method=DELONG_METHOD if clusters is None else CLUSTERED_DELONG_METHOD,
        clusters=None if clusters is None else int(clusters.max()) + 1,
    )


def _two_sided_z_test(difference: float, variance: float) -> tuple[float, float]:
    """(z, two-sided p) of ``difference`` against 0 with ``variance``; z = 0, p = 1 for no
    difference and no variance, z = +/-inf, p = 0 for a difference without variance."""
    if variance > 0:
        z = difference / np.sqrt(variance)
        return float(z), float(2.0 * norm.sf(abs(z)))
    if difference == 0:
        return 0.0, 1.0
    return float(np.copysign(np.inf, difference)), 0.0
