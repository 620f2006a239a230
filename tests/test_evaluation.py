"""Tests for multimodal_deterioration.evidence.evaluation, each against an independent reference:
scikit-learn or naive re-implementations written here from the definitions."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.evaluation import (
    auprc,
    auroc,
    brier_score,
    discrimination_slope,
    expected_calibration_error,
    integrated_discrimination_improvement,
    reliability_curve,
    summary_metrics,
    threshold_metrics,
    youden_threshold,
)

from helpers import make_scores

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- point metrics


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_auroc_auprc_and_brier_equal_scikit_learn_including_ties(decimals):
    y, prob, _ = make_scores(500, seed=3, decimals=decimals)
    assert auroc(y, prob) == pytest.approx(roc_auc_score(y, prob), rel=1e-12)
    assert auprc(y, prob) == pytest.approx(average_precision_score(y, prob), rel=1e-12)
    assert brier_score(y, prob) == pytest.approx(brier_score_loss(y, prob), rel=1e-12)


def test_metrics_accept_column_vectors_and_boolean_labels(tied_scores):
    y, prob, _ = tied_scores
    assert auroc(y.astype(bool).reshape(-1, 1), prob.reshape(-1, 1)) == auroc(y, prob)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0, 1.5])
def test_threshold_metrics_equal_scikit_learn_with_scores_on_the_threshold(tied_scores, threshold):
    y, prob, _ = tied_scores
    predicted = (prob >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    result = threshold_metrics(y, prob, threshold)

    assert (result["true_positives"], result["false_positives"]) == (tp, fp)
    assert (result["false_negatives"], result["true_negatives"]) == (fn, tn)
    assert result["threshold"] == threshold
    assert result["sensitivity"] == pytest.approx(recall_score(y, predicted))
    assert result["specificity"] == pytest.approx(recall_score(y, predicted, pos_label=0))
    assert result["accuracy"] == pytest.approx(accuracy_score(y, predicted))
    if tp + fp:
        assert result["ppv"] == pytest.approx(precision_score(y, predicted))
        assert result["f1_score"] == pytest.approx(f1_score(y, predicted))
    else:
        assert result["ppv"] is None
    if tn + fn:
        assert result["npv"] == pytest.approx(precision_score(y, predicted, pos_label=0))
    else:
        assert result["npv"] is None


def test_threshold_metrics_has_exactly_the_documented_keys_and_int_counts(tied_scores):
    y, prob, _ = tied_scores
    result = threshold_metrics(y, prob, 0.5)
    assert list(result) == [
        "threshold",
        "sensitivity",
        "specificity",
        "f1_score",
        "accuracy",
        "ppv",
        "npv",
        "true_positives",
        "false_positives",
        "false_negatives",
        "true_negatives",
    ]
    counts = [result[key] for key in list(result)[-4:]]
    assert all(type(count) is int for count in counts)
    assert sum(counts) == y.size


def test_threshold_metrics_reports_undefined_ratios_as_none_and_stays_valid_json():
    no_positives = threshold_metrics([0, 0, 0], [0.1, 0.2, 0.3], 0.5)
    assert no_positives["sensitivity"] is None
    assert no_positives["ppv"] is None
    assert no_positives["f1_score"] is None
    assert no_positives["specificity"] == 1.0
    assert no_positives["npv"] == 1.0

    nobody_flagged = threshold_metrics([0, 1, 1], [0.1, 0.2, 0.3], 0.9)
    assert nobody_flagged["ppv"] is None
    assert nobody_flagged["f1_score"] == 0.0
    assert nobody_flagged["sensitivity"] == 0.0

    json.dumps(no_positives, allow_nan=False)
    json.dumps(nobody_flagged, allow_nan=False)


def test_summary_metrics_reports_the_documented_values(tied_scores):
    y, prob, _ = tied_scores
    summary = summary_metrics(y, prob)
    assert summary == {
        "auroc": auroc(y, prob),
        "auprc": auprc(y, prob),
        "positive_rate": pytest.approx(y.mean()),
        "brier_score": brier_score(y, prob),
        "expected_calibration_error": expected_calibration_error(y, prob),
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda: auroc([0, 0, 0], [0.1, 0.2, 0.3]),
        lambda: auroc([1, 1], [0.1, 0.2]),
        lambda: auroc([0, 1, 2], [0.1, 0.2, 0.3]),
        lambda: auroc([0, 1, 1], [0.1, 0.2]),
        lambda: auroc([0, 1, 1], [0.1, np.nan, 0.3]),
        lambda: auroc([], []),
        lambda: auprc([0, 0], [0.1, 0.2]),
        lambda: brier_score([0, 1], [0.2, 1.3]),
        lambda: summary_metrics([0, 1, 1], [-0.1, 0.5, 0.9]),
        lambda: youden_threshold([1, 1, 1], [0.1, 0.2, 0.3]),
        lambda: expected_calibration_error([0, 1], [0.2, 0.8], n_bins=0),
        lambda: discrimination_slope([0, 1], [-0.5, 0.5]),
        lambda: discrimination_slope([1, 1], [0.2, 0.5]),
        lambda: integrated_discrimination_improvement([0, 1], [0.2, 0.8], [0.2, 1.8]),
    ],
)
def test_bad_input_raises_pipeline_error(call):
    with pytest.raises(PipelineError):
        call()


def test_idi_equals_the_hand_formula_on_a_worked_example():
    y = np.array([1, 1, 0, 0, 0])
    p_new = np.array([0.9, 0.7, 0.2, 0.1, 0.3])
    p_old = np.array([0.6, 0.5, 0.4, 0.3, 0.2])
    # Positives: new mean 0.8, old mean 0.55 (+0.25); negatives: new 0.2, old 0.3 (-0.1).
    assert integrated_discrimination_improvement(y, p_new, p_old) == pytest.approx(0.35)
    assert discrimination_slope(y, p_new) == pytest.approx(0.8 - 0.2)
    assert discrimination_slope(y, p_old) == pytest.approx(0.55 - 0.3)


def test_idi_equals_pencinas_formula_on_random_data(smooth_scores):
    y, p_new, p_old = smooth_scores
    pos, neg = y == 1, y == 0
    expected = (p_new[pos].mean() - p_old[pos].mean()) - (p_new[neg].mean() - p_old[neg].mean())
    assert integrated_discrimination_improvement(y, p_new, p_old) == pytest.approx(
        expected, rel=1e-12
    )


# --------------------------------------------------------------------------- calibration


def naive_expected_calibration_error(y, prob, n_bins):
    """ECE written out bin by bin: bins [k/n, (k+1)/n), the last one closed at 1."""
    total = 0.0
    for k in range(n_bins):
        lower, upper = k / n_bins, (k + 1) / n_bins
        members = [
            i for i, p in enumerate(prob) if lower <= p < upper or (k == n_bins - 1 and p == 1.0)
        ]
        if members:
            mean_p = sum(prob[i] for i in members) / len(members)
            rate = sum(y[i] for i in members) / len(members)
            total += len(members) / len(prob) * abs(mean_p - rate)
    return total


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_expected_calibration_error_equals_naive_loop_including_bin_edges(n_bins):
    y, prob, _ = make_scores(300, seed=4, decimals=2)
    prob[:6] = [0.0, 1.0, 0.3, 0.7, 0.1, 0.9]  # values exactly on bin edges
    expected = naive_expected_calibration_error(list(y), list(prob), n_bins)
    assert expected_calibration_error(y, prob, n_bins) == pytest.approx(expected, abs=1e-12)


def test_expected_calibration_error_is_zero_when_calibrated_and_gap_when_not():
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    calibrated = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    assert expected_calibration_error(y, calibrated) == pytest.approx(0.0, abs=1e-15)
    overconfident = np.full(8, 0.9)  # says 90 % when half are positive
    assert expected_calibration_error(y, overconfident) == pytest.approx(0.4)


def test_reliability_curve_lists_non_empty_bins_with_their_rates():
    y = np.array([0, 1, 0, 0, 1, 1])
    prob = np.array([0.05, 0.05, 0.32, 0.38, 0.95, 1.0])
    curve = reliability_curve(y, prob, n_bins=10)
    assert list(curve["bin"]) == [0, 3, 9]
    assert list(curve["count"]) == [2, 2, 2]
    assert curve["mean_predicted"].tolist() == pytest.approx([0.05, 0.35, 0.975])
    assert curve["observed_rate"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert curve["bin_lower"].tolist() == pytest.approx([0.0, 0.3, 0.9])
    assert curve["bin_upper"].tolist() == pytest.approx([0.1, 0.4, 1.0])


# --------------------------------------------------------------------------- Youden


def brute_force_youden(y, prob):
    """Highest threshold among those maximising sens + spec - 1, in exact fractions."""
    n_pos = sum(y)
    n_neg = len(y) - n_pos
    best_j, best_t = None, None
    for t in sorted(set(prob), reverse=True):
        tp = sum(1 for label, p in zip(y, prob) if label == 1 and p >= t)
        tn = sum(1 for label, p in zip(y, prob) if label == 0 and p < t)
        j = Fraction(tp, n_pos) + Fraction(tn, n_neg) - 1
        if best_j is None or j > best_j:
            best_j, best_t = j, t
    return best_t


@pytest.mark.parametrize("seed, decimals", [(5, None), (6, 1), (7, 2), (8, 1)])
def test_youden_threshold_equals_brute_force_over_all_unique_thresholds(seed, decimals):
    y, prob, _ = make_scores(250, seed=seed, decimals=decimals)
    threshold = youden_threshold(y, prob)
    assert math.isfinite(threshold)
    assert threshold == brute_force_youden(list(y), list(prob))


def test_youden_threshold_breaks_ties_towards_the_highest_threshold():
    # t = 0.8 gives sens 1/2, spec 1 (J = 1/2); t = 0.4 gives sens 1, spec 1/2 (J = 1/2).
    y = [0, 0, 1, 1]
    prob = [0.2, 0.6, 0.4, 0.8]
    assert youden_threshold(y, prob) == 0.8


def test_youden_threshold_is_finite_for_a_model_that_ranks_backwards():
    y = [1, 1, 0, 0]
    prob = [0.1, 0.2, 0.8, 0.9]
    threshold = youden_threshold(y, prob)
    assert math.isfinite(threshold)
    assert threshold == 0.1  # J = 0 (flag everyone) beats every negative J
