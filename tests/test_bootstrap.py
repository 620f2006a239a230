"""Tests for multimodal_deterioration.evidence.bootstrap: each resample's metrics against scikit-learn
on the same rows, the resampling's strata and groups, and the intervals' shape and behaviour."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, recall_score, roc_auc_score

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.bootstrap import (
    bootstrap_confidence_intervals,
    bootstrap_replicates,
    stratified_bootstrap_indices,
)
from multimodal_deterioration.evidence.evaluation import (
    auprc,
    auroc,
    integrated_discrimination_improvement,
    threshold_metrics,
    youden_threshold,
)

from helpers import make_scores


def test_bootstrap_indices_keep_class_counts_in_every_resample(tied_scores):
    y, _, _ = tied_scores
    resamples = list(stratified_bootstrap_indices(y, 50, seed=3))
    assert len(resamples) == 50
    for rows in resamples:
        assert rows.size == y.size
        assert y[rows].sum() == y.sum()
        assert rows.min() >= 0 and rows.max() < y.size
    assert any(np.unique(rows).size < y.size for rows in resamples)  # drawn with replacement


def test_bootstrap_indices_are_reproducible_and_extend_with_more_resamples(tied_scores):
    y, _, _ = tied_scores
    first = list(stratified_bootstrap_indices(y, 20, seed=11))
    again = list(stratified_bootstrap_indices(y, 20, seed=11))
    longer = list(stratified_bootstrap_indices(y, 40, seed=11))
    other = list(stratified_bootstrap_indices(y, 20, seed=12))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(np.array_equal(a, b) for a, b in zip(first, longer))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.fixture
def grouped_rows():
    """Patients with 1-4 rows each; a deteriorating patient has some negative rows too."""
    rng = np.random.default_rng(21)
    sizes = rng.integers(1, 5, size=60)
    patient = np.repeat(np.arange(60) * 7 + 100, sizes)  # ids need not be 0..n-1
    deteriorates = rng.random(60) < 0.3
    y = np.zeros(patient.size, dtype=int)
    for pid, bad in zip(np.arange(60) * 7 + 100, deteriorates):
        rows = np.flatnonzero(patient == pid)
        if bad:
            y[rows[-1]] = 1  # only the last window before deterioration is positive
    shuffle = rng.permutation(patient.size)  # rows of one patient need not be adjacent
    return y[shuffle], patient[shuffle]


def test_group_bootstrap_keeps_patients_whole_and_keeps_group_strata(grouped_rows):
    y, patient = grouped_rows
    ids = np.unique(patient)
    rows_of = {pid: np.flatnonzero(patient == pid) for pid in ids}
    positive_patients = {pid for pid in ids if y[rows_of[pid]].any()}
    for rows in stratified_bootstrap_indices(y, 30, seed=5, groups=patient):
        counts = np.bincount(rows, minlength=y.size)
        drawn_positive_patients = 0
        for pid in ids:
            patient_counts = counts[rows_of[pid]]
            assert np.all(patient_counts == patient_counts[0])  # all rows or none, equally often
            if pid in positive_patients:
                drawn_positive_patients += patient_counts[0]
        assert drawn_positive_patients == len(positive_patients)
        assert counts.sum() == rows.size


def test_group_bootstrap_needs_a_patient_without_any_positive():
    with pytest.raises(PipelineError):
        list(stratified_bootstrap_indices([0, 1, 0, 1], 5, seed=0, groups=[1, 1, 2, 2]))


@pytest.mark.parametrize("use_groups", [False, True])
def test_bootstrap_replicates_equal_scikit_learn_on_the_same_resamples(grouped_rows, use_groups):
    y, patient = grouped_rows
    rng = np.random.default_rng(8)
    prob_a = np.round(np.clip(0.3 * y + rng.random(y.size) * 0.7, 0, 1), 1)  # heavy ties
    prob_b = rng.random(y.size)
    groups = patient if use_groups else None
    thresholds = {"a": 0.5, "b": 0.4}
    replicates = bootstrap_replicates(
        y,
        {"a": prob_a, "b": prob_b},
        thresholds=thresholds,
        n_resamples=25,
        seed=4,
        groups=groups,
        paired_differences=[("a", "b")],
    )
    resamples = stratified_bootstrap_indices(y, 25, seed=4, groups=groups)
    for r, rows in enumerate(resamples):
        y_r = y[rows]
        for name, prob in (("a", prob_a), ("b", prob_b)):
            p_r = prob[rows]
            predicted = (p_r >= thresholds[name]).astype(int)
            expected = {
                "auroc": roc_auc_score(y_r, p_r),
                "auprc": average_precision_score(y_r, p_r),
                "sensitivity": recall_score(y_r, predicted),
                "specificity": recall_score(y_r, predicted, pos_label=0),
                "brier": brier_score_loss(y_r, p_r),
                "discrimination_slope": p_r[y_r == 1].mean() - p_r[y_r == 0].mean(),
            }
            assert set(replicates[name]) == set(expected)
            for metric, value in expected.items():
                assert replicates[name][metric][r] == pytest.approx(value, rel=1e-12)
        a_r, b_r = prob_a[rows], prob_b[rows]
        expected_difference = {
            "auroc": roc_auc_score(y_r, a_r) - roc_auc_score(y_r, b_r),
            "auprc": average_precision_score(y_r, a_r) - average_precision_score(y_r, b_r),
            "brier": brier_score_loss(y_r, a_r) - brier_score_loss(y_r, b_r),
            "discrimination_slope": (a_r[y_r == 1].mean() - b_r[y_r == 1].mean())
            - (a_r[y_r == 0].mean() - b_r[y_r == 0].mean()),  # IDI, Pencina et al. (2008)
        }
        assert set(replicates["a_minus_b"]) == set(expected_difference)
        for metric, value in expected_difference.items():
            assert replicates["a_minus_b"][metric][r] == pytest.approx(value, rel=1e-10, abs=1e-14)


def test_bootstrap_leaves_out_probability_metrics_unless_every_model_gives_probabilities(
    tied_scores,
):
    y, prob, _ = tied_scores
    logits = np.log(np.clip(prob, 0.01, 0.99) / (1 - np.clip(prob, 0.01, 0.99)))
    replicates = bootstrap_replicates(
        y,
        {"probability": prob, "logit": logits},
        n_resamples=10,
        paired_differences=[("probability", "logit")],
    )
    for key in ("probability", "logit"):
        assert set(replicates[key]) == {"auroc", "auprc", "sensitivity", "specificity"}
    assert set(replicates["probability_minus_logit"]) == {"auroc", "auprc"}


def test_bootstrap_intervals_are_reproducible_with_the_seed(smooth_scores):
    y, prob_a, prob_b = smooth_scores
    predictions = {"fused": prob_a, "vitals": prob_b}
    kwargs = dict(n_resamples=200, paired_differences=[("fused", "vitals")])
    first = bootstrap_confidence_intervals(y, predictions, seed=1, **kwargs)
    assert first == bootstrap_confidence_intervals(y, predictions, seed=1, **kwargs)
    assert first != bootstrap_confidence_intervals(y, predictions, seed=2, **kwargs)


def test_bootstrap_intervals_have_the_documented_shape_and_contain_the_estimate(smooth_scores):
    y, prob_a, prob_b = smooth_scores
    threshold = youden_threshold(y, prob_a)
    intervals = bootstrap_confidence_intervals(
        y,
        {"fused": prob_a, "vitals": prob_b},
        thresholds={"fused": threshold, "vitals": 0.5},
        n_resamples=500,
        paired_differences=[("fused", "vitals")],
    )
    assert set(intervals) == {"fused", "vitals", "fused_minus_vitals"}
    assert set(intervals["fused"]) == {
        "auroc",
        "auprc",
        "sensitivity",
        "specificity",
        "brier",
        "discrimination_slope",
    }
    assert set(intervals["fused_minus_vitals"]) == {
        "auroc",
        "auprc",
        "brier",
        "discrimination_slope",
    }
    json.dumps(intervals, allow_nan=False)

    point = threshold_metrics(y, prob_a, threshold)
    estimates = {
        "auroc": auroc(y, prob_a),
        "auprc": auprc(y, prob_a),
        "sensitivity": point["sensitivity"],
        "specificity": point["specificity"],
        "brier": brier_score_loss(y, prob_a),
        "discrimination_slope": prob_a[y == 1].mean() - prob_a[y == 0].mean(),
    }
    for metric, estimate in estimates.items():
        low, high = intervals["fused"][metric]
        assert low < estimate < high
    differences = {
        "auroc": auroc(y, prob_a) - auroc(y, prob_b),
        "brier": brier_score_loss(y, prob_a) - brier_score_loss(y, prob_b),
        "discrimination_slope": integrated_discrimination_improvement(y, prob_a, prob_b),
    }
    for metric, estimate in differences.items():
        low, high = intervals["fused_minus_vitals"][metric]
        assert low < estimate < high


def test_paired_difference_of_identical_models_is_exactly_zero(tied_scores):
    y, prob, _ = tied_scores
    intervals = bootstrap_confidence_intervals(
        y,
        {"fused": prob, "copy": prob.copy()},
        n_resamples=100,
        paired_differences=[("fused", "copy")],
    )
    assert intervals["fused_minus_copy"] == {
        "auroc": [0.0, 0.0],
        "auprc": [0.0, 0.0],
        "brier": [0.0, 0.0],
        "discrimination_slope": [0.0, 0.0],
    }


def test_bootstrap_interval_narrows_with_more_data():
    widths = []
    for n in (200, 3000):
        y, prob, _ = make_scores(n, seed=13)
        low, high = bootstrap_confidence_intervals(y, {"m": prob}, n_resamples=300)["m"]["auroc"]
        widths.append(high - low)
    # The width scales roughly with 1/sqrt(n): 15x the data, about 3.9x narrower.
    assert widths[1] < widths[0] / 2.5


def test_bootstrap_rejects_unknown_models_and_missing_thresholds(tied_scores):
    y, prob, _ = tied_scores
    with pytest.raises(PipelineError, match="not among the predictions"):
        bootstrap_confidence_intervals(
            y, {"a": prob}, n_resamples=5, paired_differences=[("a", "b")]
        )
    with pytest.raises(PipelineError, match="no threshold given"):
        bootstrap_confidence_intervals(
            y, {"a": prob, "b": prob}, thresholds={"a": 0.5}, n_resamples=5
        )


def test_bootstrap_of_six_models_on_thousands_of_rows_takes_seconds():
    n_rows, n_models = 3000, 6
    rng = np.random.default_rng(17)
    y = (rng.random(n_rows) < 0.15).astype(int)
    predictions = {
        f"model_{k}": 1.0 / (1.0 + np.exp(-(y + rng.normal(size=n_rows)))) for k in range(n_models)
    }
    start = time.perf_counter()
    bootstrap_confidence_intervals(
        y, predictions, n_resamples=2000, paired_differences=[("model_0", "model_1")]
    )
    # About 2 s on a 2-core machine; the bound only guards against a slide back to minutes.
    assert time.perf_counter() - start < 30
