"""Tests for multimodal_deterioration.evidence.delong, each against an independent reference:
naive pairwise re-implementations written here from the definitions (DeLong's and Obuchowski's
variances), the grouped bootstrap, or published values (pROC's DeLong results on its aSAH data
set)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.bootstrap import bootstrap_replicates
from multimodal_deterioration.evidence.delong import (
    CLUSTERED_DELONG_METHOD,
    DELONG_METHOD,
    DeLongResult,
    _delong_variance,
    _obuchowski_variance,
    _structural_components,
    delong_auc_variance,
    delong_test,
)

from helpers import make_scores, naive_delong

# --------------------------------------------------------------------------- DeLong


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_delong_test_equals_naive_pairwise_implementation_with_ties(decimals):
    y, prob_a, prob_b = make_scores(160, seed=9, decimals=decimals)
    theta_a, theta_b, _, variance, z, p_value = naive_delong(list(y), list(prob_a), list(prob_b))
    result = delong_test(y, prob_a, prob_b)
    assert isinstance(result, DeLongResult)
    assert result.auc_a == pytest.approx(theta_a, rel=1e-12)
    assert result.auc_b == pytest.approx(theta_b, rel=1e-12)
    assert result.auc_difference == pytest.approx(theta_a - theta_b, rel=1e-10)
    assert result.variance == pytest.approx(variance, rel=1e-10)
    assert result.z == pytest.approx(z, rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)
    assert result.auc_a == pytest.approx(roc_auc_score(y, prob_a), rel=1e-12)


def test_delong_auc_variance_equals_naive_variance(tied_scores):
    y, prob_a, prob_b = tied_scores
    theta_a, _, variance_a, _, _, _ = naive_delong(list(y), list(prob_a), list(prob_b))
    auc, variance = delong_auc_variance(y, prob_a)
    assert auc == pytest.approx(theta_a, rel=1e-12)
    assert variance == pytest.approx(variance_a, rel=1e-10)


def test_delong_test_reports_no_difference_for_identical_rankings(tied_scores):
    y, prob, _ = tied_scores
    identical = delong_test(y, prob, prob.copy())
    assert (identical.z, identical.p_value, identical.variance) == (0.0, 1.0, 0.0)
    assert identical.auc_difference == 0.0
    monotone = delong_test(y, prob, prob**2)  # same ordering, different values
    assert (monotone.z, monotone.p_value) == (0.0, 1.0)


def test_delong_test_is_antisymmetric_in_the_two_models(smooth_scores):
    y, prob_a, prob_b = smooth_scores
    forward, backward = delong_test(y, prob_a, prob_b), delong_test(y, prob_b, prob_a)
    assert backward.z == pytest.approx(-forward.z, rel=1e-12)
    assert backward.p_value == pytest.approx(forward.p_value, rel=1e-12)


def test_delong_needs_two_rows_of_each_class():
    with pytest.raises(PipelineError):
        delong_test([0, 0, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])


# aSAH: 113 patients with aneurysmal subarachnoid haemorrhage, shipped with the R package pROC
# (Turck et al. 2010, Intensive Care Med 36:107; Robin et al. 2011, BMC Bioinformatics 12:77).
# Columns: outcome (1 = "Poor", 0 = "Good"), wfns, s100b, ndka, in the package's row order.
# pROC ships the data only as a binary .rda; the values were transcribed from the copy in
# erenozen/opendose, engine/tests/test_methodcomp_extras.py (commit f73f9f00), and checked
# here against pROC's own expected values: every AUC and DeLong variance below agrees to
# 12 significant digits, which also confirmed every per-row placement value in pROC's
# tests/testthat/helper-deLongPlacementsCpp-expected.R.
ASAH = """
    0 1 0.13   3.01   0 1 0.14   8.54   0 1 0.10   8.09   0 1 0.04  10.42
    1 3 0.13  17.40   1 2 0.10  12.75   0 5 0.47   6.00   1 4 0.16  13.20
    0 1 0.18  15.54   0 2 0.10   6.01   1 5 0.12  15.96   0 2 0.10  17.86
    1 5 0.44   5.18   1 5 0.71   8.90   0 1 0.04  13.41   0 2 0.08  20.75
    1 5 0.49  11.60   0 2 0.04  16.11   1 2 0.07  32.37   1 5 0.33  54.82
    1 2 0.09  32.41   0 1 0.09  49.94   1 1 0.07  40.34   0 1 0.11   9.47
    0 1 0.07   6.29   0 2 0.17  12.53   0 1 0.07   6.54   0 2 0.11   6.30
    0 1 0.13  80.30   0 1 0.19  12.80   0 3 0.05   9.80   0 4 0.16   9.81
    1 2 0.41   9.85   0 1 0.14  18.21   0 4 0.34   5.03   1 5 0.35  14.04
    1 4 0.48  21.93   0 1 0.09   8.02   1 4 0.96   7.42   1 2 0.25   8.38
    0 5 0.50   6.59   0 5 0.46   9.63   0 1 0.16  13.12   0 1 0.07   7.96
    0 2 0.43  14.34   0 4 0.45  41.43   0 1 0.11   7.63   0 1 0.08   7.06
    0 2 0.09  12.59   1 5 0.86  13.56   1 5 0.52   3.87   0 2 0.08   9.44
    0 1 0.06   7.66   0 2 0.13  12.98   1 5 2.07 419.19   0 1 0.10  27.19
    0 2 0.14  22.27   0 2 0.15   9.95   1 2 0.07  21.22   0 1 0.06  11.73
    1 5 0.77  10.40   0 1 0.05  58.83   0 1 0.09   6.39   1 2 0.30  11.09
    1 5 0.03  12.22   1 2 0.09  13.67   0 1 0.04  17.21   1 4 0.23  22.63
    1 5 0.70  12.90   0 2 0.09   9.70   1 4 0.27  21.57   1 4 0.71   8.23
    1 1 0.08  72.57   1 4 0.26  15.54   0 1 0.08  10.51   0 2 0.16  10.60
    0 1 0.09  14.57   1 4 0.13   5.19   1 2 0.10   9.63   0 1 0.08   4.61
    1 2 0.11  21.48   0 3 0.33  17.30   0 2 0.11  12.71   0 4 0.28   9.44
    0 2 0.07  11.07   0 1 0.10  19.46   0 4 0.32  10.83   1 5 0.22   5.37
    0 1 0.07  11.97   0 1 0.05   7.75   0 5 0.24   9.83   0 4 0.38  10.55
    0 2 0.10  28.49   0 2 0.15   8.53   0 1 0.08  12.57   0 1 0.14  12.90
    0 1 0.10  46.83   0 3 0.07  11.68   0 1 0.04  12.67   0 2 0.19   9.01
    1 5 0.56   9.57   1 2 0.14  34.06   1 2 0.58  11.72   1 5 0.32  14.26
    1 5 0.82  47.61   1 5 0.74  11.67   0 2 0.15  24.58   0 4 0.47  10.33
    0 4 0.17  13.87   1 5 0.44  15.89   0 1 0.15  22.43   0 1 0.50   6.79
    0 1 0.48  13.45
"""


@pytest.fixture(scope="module")
def asah():
    table = np.array(ASAH.split(), dtype=float).reshape(-1, 4)
    assert table.shape == (113, 4)
    outcome = table[:, 0].astype(int)
    assert (outcome.sum(), (1 - outcome).sum()) == (41, 72)
    return outcome, {"wfns": table[:, 1], "s100b": table[:, 2], "ndka": table[:, 3]}


# pROC tests/testthat/test-var.R and helper-deLongPlacementsCpp-expected.R (theta).
PROC_AUC_AND_VARIANCE = {
    "wfns": (0.823678861788618, 0.00146991470882363),
    "ndka": (0.611957994579946, 0.0031908105493913),
    "s100b": (0.731368563685637, 0.00266868245717244),
}


@pytest.mark.parametrize("marker", sorted(PROC_AUC_AND_VARIANCE))
def test_delong_auc_variance_matches_proc_on_asah(asah, marker):
    outcome, markers = asah
    expected_auc, expected_variance = PROC_AUC_AND_VARIANCE[marker]
    auc, variance = delong_auc_variance(outcome, markers[marker])
    assert auc == pytest.approx(expected_auc, rel=1e-12)
    assert variance == pytest.approx(expected_variance, rel=1e-10)


# pROC tests/testthat/test-roc.test.R, "roc.test statistic and p are as expected with
# defaults": paired DeLong's test, Z, two-sided p and 95 % CI of the AUC difference.
PROC_ROC_TEST = [
    ("wfns", "s100b", 2.20898359144091, 0.0271757822291882, 0.0104061769564846, 0.174214419249478),
    ("wfns", "ndka", 2.79777591868904, 0.00514557970691098, 0.0634011709339876, 0.3600405634833566),
    (
        "ndka",
        "s100b",
        -1.39077002573558,
        0.164295175223054,
        -0.2876917446341914,
        0.0488706064228094,
    ),
]


@pytest.mark.parametrize("marker_a, marker_b, z, p_value, ci_low, ci_high", PROC_ROC_TEST)
def test_delong_test_matches_proc_roc_test_on_asah(
    asah, marker_a, marker_b, z, p_value, ci_low, ci_high
):
    outcome, markers = asah
    result = delong_test(outcome, markers[marker_a], markers[marker_b])
    assert result.z == pytest.approx(z, rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)
    # pROC's interval is difference -/+ qnorm(0.975) * sqrt(variance of the difference).
    half_width = norm.ppf(0.975) * math.sqrt(result.variance)
    assert result.auc_difference - half_width == pytest.approx(ci_low, rel=1e-10)
    assert result.auc_difference + half_width == pytest.approx(ci_high, rel=1e-10)


def test_delong_test_reproduces_procs_documented_example(asah):
    # roc.test(roc(aSAH$outcome, aSAH$s100b), roc(aSAH$outcome, aSAH$wfns)) prints
    # "Z = -2.209, p-value = 0.02718" and AUCs 0.7314 and 0.8237 (pROC manual, roc.test).
    outcome, markers = asah
    result = delong_test(outcome, markers["s100b"], markers["wfns"])
    assert round(result.z, 3) == -2.209
    assert round(result.p_value, 5) == 0.02718
    assert (round(result.auc_a, 4), round(result.auc_b, 4)) == (0.7314, 0.8237)


# --------------------------------------------------------------------------- clustered DeLong


def naive_obuchowski(y, prob_a, prob_b, clusters):
    """Obuchowski (1997) written from the paper with explicit loops over clusters and pairs.

    theta = (1/MN) sum over every (positive, negative) pair of psi; V10(X_ij) = (1/N) sum over
    all negatives of psi(X_ij, Y); V01(Y_ik) = (1/M) sum over all positives of psi(X, Y_ik);
    per cluster V10(X_i.) and V01(Y_i.) sum these over its positives / negatives.
    S10 = I10/((I10-1)M) sum_i (V10(X_i.) - m_i theta)^2, likewise S01 with I01, N, n_i, and
    S11 = I/(I-1) sum_i (V10(X_i.) - m_i theta)(V01(Y_i.) - n_i theta);
    var = S10/M + S01/N + 2 S11/(MN). For two tests the covariance uses the cross products,
    with S11 taken both ways (X of test a with Y of test b, and X of b with Y of a).
    Returns (var_a, var_b, var_a - var_b's difference).
    """

    def psi(x, t):
        return 1.0 if x > t else 0.5 if x == t else 0.0

    ids = sorted(set(clusters))
    positives = [i for i, label in enumerate(y) if label == 1]
    negatives = [i for i, label in enumerate(y) if label == 0]
    big_m, big_n = len(positives), len(negatives)
    per_test = []
    for prob in (prob_a, prob_b):
        theta = sum(psi(prob[i], prob[k]) for i in positives for k in negatives) / (big_m * big_n)
        x_parts, y_parts = [], []
        for cid in ids:
            cluster_pos = [i for i in positives if clusters[i] == cid]
            cluster_neg = [k for k in negatives if clusters[k] == cid]
            v10 = sum(sum(psi(prob[i], prob[k]) for k in negatives) / big_n for i in cluster_pos)
            v01 = sum(sum(psi(prob[i], prob[k]) for i in positives) / big_m for k in cluster_neg)
            x_parts.append(v10 - len(cluster_pos) * theta)
            y_parts.append(v01 - len(cluster_neg) * theta)
        per_test.append((x_parts, y_parts))
    n_clusters = len(ids)
    with_positive = len({clusters[i] for i in positives})
    with_negative = len({clusters[k] for k in negatives})

    def covariance(first, second):
        (x1, y1), (x2, y2) = first, second
        s10 = with_positive / ((with_positive - 1) * big_m) * sum(a * b for a, b in zip(x1, x2))
        s01 = with_negative / ((with_negative - 1) * big_n) * sum(a * b for a, b in zip(y1, y2))
        s11_12 = n_clusters / (n_clusters - 1) * sum(a * b for a, b in zip(x1, y2))
        s11_21 = n_clusters / (n_clusters - 1) * sum(a * b for a, b in zip(x2, y1))
        return s10 / big_m + s01 / big_n + (s11_12 + s11_21) / (big_m * big_n)

    var_a = covariance(per_test[0], per_test[0])
    var_b = covariance(per_test[1], per_test[1])
    cov_ab = covariance(per_test[0], per_test[1])
    return var_a, var_b, var_a + var_b - 2 * cov_ab


def make_clustered_scores(n_patients: int, rows_per_patient: int, seed: int, row_noise=0.2):
    """Rows of a patient share the patient's risk (so labels vary within a patient) and each
    model's patient-level error, so rows of one patient are far from independent."""
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(n_patients), rows_per_patient)
    risk = rng.normal(size=n_patients)
    y = (rng.random(patient.size) < 1 / (1 + np.exp(1.5 - 4 * risk[patient]))).astype(int)
    effect_a, effect_b = rng.normal(size=n_patients), rng.normal(size=n_patients)
    noise_a, noise_b = rng.normal(scale=row_noise, size=(2, patient.size))
    prob_a = 1 / (1 + np.exp(-(1.0 * y + effect_a[patient] + noise_a)))
    prob_b = 1 / (1 + np.exp(-(0.6 * y + effect_b[patient] + noise_b)))
    return y, prob_a, prob_b, patient


def test_clustered_delong_with_singleton_groups_is_ordinary_delong(smooth_scores, tied_scores):
    for y, prob_a, prob_b in (smooth_scores, tied_scores):
        ordinary = delong_test(y, prob_a, prob_b)
        singletons = delong_test(y, prob_a, prob_b, groups=np.arange(y.size)[::-1])
        # One row per group: the ordinary code path is taken, so the result is identical.
        assert singletons == ordinary
        assert (ordinary.method, ordinary.clusters) == (DELONG_METHOD, None)
        assert delong_auc_variance(y, prob_a, groups=np.arange(y.size)) == delong_auc_variance(
            y, prob_a
        )
        # Obuchowski's formula itself reduces to DeLong's with singleton clusters: I10 = M and
        # I01 = N turn S10 and S01 into n-1 sample variances, and S11 = 0 because no cluster
        # holds both classes. Equal in exact arithmetic; here to rounding (rel 1e-12).
        v10, v01 = _structural_components(y, np.vstack([prob_a, prob_b]))
        difference10, difference01 = v10[0] - v10[1], v01[0] - v01[1]
        clustered = _obuchowski_variance(y, difference10, difference01, np.arange(y.size))
        assert clustered == pytest.approx(ordinary.variance, rel=1e-12)
        assert clustered == pytest.approx(naive_delong(y, prob_a, prob_b)[3], rel=1e-10)
        assert _delong_variance(difference10, difference01) == ordinary.variance


@pytest.mark.parametrize("seed, decimals", [(31, None), (32, 1), (33, 2)])
def test_clustered_delong_equals_naive_pairwise_implementation_of_obuchowski(seed, decimals):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=25)
    patient = np.repeat(rng.permutation(1000)[:25], sizes)  # arbitrary, non-contiguous ids
    y = (rng.random(patient.size) < 0.35).astype(int)
    y[:4] = [0, 1, 0, 1]
    prob_a = rng.random(patient.size) * 0.6 + 0.3 * y
    prob_b = rng.random(patient.size) * 0.8 + 0.1 * y
    if decimals is not None:
        prob_a, prob_b = np.round(prob_a, decimals), np.round(prob_b, decimals)
    shuffle = rng.permutation(patient.size)  # rows of a patient need not be adjacent
    y, prob_a, prob_b, patient = y[shuffle], prob_a[shuffle], prob_b[shuffle], patient[shuffle]

    var_a, var_b, var_difference = naive_obuchowski(
        list(y), list(prob_a), list(prob_b), list(patient)
    )
    result = delong_test(y, prob_a, prob_b, groups=patient)
    assert result.method == CLUSTERED_DELONG_METHOD
    assert result.clusters == 25
    assert result.variance == pytest.approx(var_difference, rel=1e-10)
    assert result.auc_a == pytest.approx(roc_auc_score(y, prob_a), rel=1e-12)
    expected_z = (result.auc_a - result.auc_b) / math.sqrt(var_difference)
    assert result.z == pytest.approx(expected_z, rel=1e-10)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(expected_z)), rel=1e-8)
    assert delong_auc_variance(y, prob_a, groups=patient)[1] == pytest.approx(var_a, rel=1e-10)
    assert delong_auc_variance(y, prob_b, groups=patient)[1] == pytest.approx(var_b, rel=1e-10)


def test_clustered_delong_standard_error_agrees_with_the_grouped_bootstrap():
    y, prob_a, prob_b, patient = make_clustered_scores(80, 4, seed=0)
    replicates = bootstrap_replicates(
        y,
        {"a": prob_a, "b": prob_b},
        n_resamples=2000,
        seed=1,
        groups=patient,
        paired_differences=[("a", "b")],
    )
    bootstrap_se = np.std(replicates["a_minus_b"]["auroc"], ddof=1)
    clustered_se = math.sqrt(delong_test(y, prob_a, prob_b, groups=patient).variance)
    ordinary_se = math.sqrt(delong_test(y, prob_a, prob_b).variance)
    # Two estimates of the same sampling SE from the same data (about 1 % apart here; seeds
    # 0-5 give 0.98-1.01); the ordinary SE treats the 320 rows as independent.
    assert clustered_se == pytest.approx(bootstrap_se, rel=0.2)
    assert ordinary_se < 0.7 * bootstrap_se


def test_duplicating_rows_adds_no_evidence_to_the_clustered_delong_test():
    y, prob_a, prob_b = make_scores(80, seed=14)
    undup = delong_test(y, prob_a, prob_b)
    copies = 4
    patient = np.repeat(np.arange(80), copies)
    y4, a4, b4 = (np.repeat(values, copies) for values in (y, prob_a, prob_b))
    clustered = delong_test(y4, a4, b4, groups=patient)
    naive = delong_test(y4, a4, b4)
    # Each copy keeps its placement value (shares of the other class are unchanged), so a
    # cluster's sum is 4 V and I10, I01 are the undup'd counts: the variance is the
    # undup'd DeLong variance exactly, up to rounding.
    assert clustered.p_value == pytest.approx(undup.p_value, rel=1e-9)
    assert clustered.variance == pytest.approx(undup.variance, rel=1e-12)
    assert clustered.auc_difference == pytest.approx(undup.auc_difference, rel=1e-12)
    assert (clustered.method, clustered.clusters) == (CLUSTERED_DELONG_METHOD, 80)
    assert naive.variance == pytest.approx(undup.variance / copies, rel=0.1)
    assert naive.p_value < undup.p_value / 10


def test_clustered_delong_reports_zero_variance_for_identical_rankings():
    y, prob, _, patient = make_clustered_scores(30, 3, seed=2)
    identical = delong_test(y, prob, prob**3, groups=patient)
    assert (identical.variance, identical.z, identical.p_value) == (0.0, 0.0, 1.0)


def test_clustered_delong_needs_two_groups_of_each_class():
    y = np.array([0, 1, 1, 0, 0, 0])
    prob = np.array([0.1, 0.8, 0.7, 0.2, 0.3, 0.4])
    with pytest.raises(PipelineError, match="at least 2 groups with a positive"):
        delong_test(y, prob, prob[::-1], groups=[1, 1, 1, 2, 2, 3])
    with pytest.raises(PipelineError, match="one id per row"):
        delong_test(y, prob, prob[::-1], groups=[1, 1, 2])
