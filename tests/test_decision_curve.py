"""Tests for multimodal_deterioration.evidence.decision_curve against independent references: counts
worked by hand, a brute-force loop over rows, a published treat-all table, and the dcurves
package (skipped when it is not installed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.decision_curve import (
    DEFAULT_THRESHOLDS,
    better_ranges,
    decision_curve,
    format_threshold_ranges,
    net_benefit,
    useful_ranges,
)

# Ten rows, four with the outcome; p = 0.20 sits exactly on a threshold below.
HAND_Y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0])
HAND_P = np.array([0.95, 0.80, 0.70, 0.45, 0.30, 0.20, 0.15, 0.10, 0.05, 0.02])
HAND_THRESHOLDS = [0.10, 0.20, 0.50, 0.75]
# Treated rows (p >= t), counted by hand:
#   t=0.10: 0.95+ 0.80- 0.70+ 0.45+ 0.30- 0.20- 0.15+ 0.10-  -> TP 4, FP 4
#   t=0.20: 0.95+ 0.80- 0.70+ 0.45+ 0.30- 0.20-              -> TP 3, FP 3
#   t=0.50: 0.95+ 0.80- 0.70+                                -> TP 2, FP 1
#   t=0.75: 0.95+ 0.80-                                      -> TP 1, FP 1
HAND_NET_BENEFIT = [
    4 / 10 - 4 / 10 * (0.10 / 0.90),  # 0.3556
    3 / 10 - 3 / 10 * (0.20 / 0.80),  # 0.225
    2 / 10 - 1 / 10 * (0.50 / 0.50),  # 0.1
    1 / 10 - 1 / 10 * (0.75 / 0.25),  # -0.2
]
# Treat all: prevalence 0.4 -> 0.4 - 0.6 * t/(1-t).
HAND_TREAT_ALL = [0.4 - 0.6 / 9, 0.4 - 0.6 / 4, 0.4 - 0.6, 0.4 - 0.6 * 3]


def brute_force_net_benefit(y, p, thresholds):
    values = []
    for t in thresholds:
        tp = fp = 0
        for label, prob in zip(y, p):
            if prob >= t:
                if label == 1:
                    tp += 1
                else:
                    fp += 1
        values.append(tp / len(y) - fp / len(y) * t / (1 - t))
    return values


def brute_force_runs(thresholds, flags):
    runs, start = [], None
    for i, flag in enumerate(flags):
        if flag and start is None:
            start = i
        if not flag and start is not None:
            runs.append((thresholds[start], thresholds[i - 1]))
            start = None
    if start is not None:
        runs.append((thresholds[start], thresholds[-1]))
    return runs


def random_cohort(n=400, seed=0, prevalence=0.25):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    logits = -1.2 + 1.5 * y + rng.normal(size=n)
    # Two decimals put many scores exactly on a grid threshold, where >= matters.
    return y, np.round(1 / (1 + np.exp(-logits)), 2)


# --------------------------------------------------------------------------- net benefit


def test_default_thresholds_are_the_exact_decimals_one_to_fifty_percent():
    assert DEFAULT_THRESHOLDS.tolist() == [float(f"0.{k:02d}") for k in range(1, 50)] + [0.5]


def test_net_benefit_matches_counts_worked_by_hand():
    np.testing.assert_allclose(
        net_benefit(HAND_Y, HAND_P, HAND_THRESHOLDS), HAND_NET_BENEFIT, rtol=0, atol=1e-15
    )


def test_net_benefit_matches_a_brute_force_loop_with_scores_on_the_thresholds():
    y, p = random_cohort()
    assert np.isin(p, DEFAULT_THRESHOLDS).sum() > 50
    np.testing.assert_allclose(
        net_benefit(y, p, DEFAULT_THRESHOLDS),
        brute_force_net_benefit(y, p, DEFAULT_THRESHOLDS),
        rtol=0,
        atol=1e-15,
    )


def test_a_perfect_model_has_net_benefit_equal_to_the_prevalence_at_every_threshold():
    y, _ = random_cohort(seed=3)
    thresholds = np.concatenate([[0.001], DEFAULT_THRESHOLDS, [0.9, 0.999]])
    np.testing.assert_allclose(
        net_benefit(y, y.astype(float), thresholds),
        np.full(thresholds.size, y.mean()),
        rtol=0,
        atol=1e-15,
    )


def test_net_benefit_accepts_column_labels_and_scores():
    expected = net_benefit(HAND_Y, HAND_P, HAND_THRESHOLDS)
    actual = net_benefit(HAND_Y[:, None], HAND_P[:, None], HAND_THRESHOLDS)
    np.testing.assert_array_equal(actual, expected)


# --------------------------------------------------------------------------- decision curve


def test_decision_curve_holds_models_and_both_reference_strategies():
    curve = decision_curve(HAND_Y, {"model": HAND_P}, HAND_THRESHOLDS)
    assert curve["thresholds"] == HAND_THRESHOLDS
    assert set(curve["net_benefit"]) == {"model", "treat_all", "treat_none"}
    np.testing.assert_allclose(curve["net_benefit"]["model"], HAND_NET_BENEFIT, atol=1e-15)
    np.testing.assert_allclose(curve["net_benefit"]["treat_all"], HAND_TREAT_ALL, atol=1e-15)
    assert curve["net_benefit"]["treat_none"] == [0.0] * 4
    assert curve["prevalence"] == 0.4
    assert "t / (1 - t)" in curve["definition"]


def test_decision_curve_is_plain_json():
    y, p = random_cohort()
    curve = decision_curve(y, {"a": p, "b": np.sqrt(p)})
    assert json.loads(json.dumps(curve)) == curve
    for values in curve["net_benefit"].values():
        assert len(values) == len(DEFAULT_THRESHOLDS)
        assert all(type(v) is float for v in values)


def test_treat_all_reproduces_a_published_table():
    # PMC6993280, Table 4 (HCC in cirrhotic patients with AFP < 400 ug/L): "intervention to
    # all patients" at a prevalence of 0.3, printed to three decimals.
    published = {
        0.03: 0.278,
        0.05: 0.263,
        0.08: 0.239,
        0.10: 0.222,
        0.20: 0.125,
        0.30: 0.000,
        0.40: -0.167,
        0.50: -0.400,
        0.60: -0.750,
        0.70: -1.333,
        0.80: -2.500,
        0.90: -6.000,
        0.96: -16.50,
    }
    y = np.array([1] * 3 + [0] * 7)
    curve = decision_curve(y, {"model": np.full(10, 0.5)}, list(published))
    np.testing.assert_allclose(
        curve["net_benefit"]["treat_all"], list(published.values()), rtol=0, atol=5e-4
    )


def test_treat_all_equals_a_model_that_treats_every_row_exactly():
    y, _ = random_cohort(seed=5)
    curve = decision_curve(y, {"everyone": np.ones(y.size)})
    assert curve["net_benefit"]["everyone"] == curve["net_benefit"]["treat_all"]
    assert useful_ranges(curve, "everyone") == []


def test_decision_curve_matches_the_dcurves_package():
    dcurves = pytest.importorskip("dcurves")
    import pandas as pd

    y, p = random_cohort(n=300, seed=7)
    ours = decision_curve(y, {"model": p})
    theirs = dcurves.dca(
        data=pd.DataFrame({"outcome": y, "model": p}),
        outcome="outcome",
        modelnames=["model"],
        thresholds=list(DEFAULT_THRESHOLDS),
    )
    for their_name, our_name in (("model", "model"), ("all", "treat_all"), ("none", "treat_none")):
        rows = theirs[theirs["model"] == their_name].sort_values("threshold")
        np.testing.assert_allclose(rows["threshold"], ours["thresholds"], atol=1e-12)
        np.testing.assert_allclose(
            rows["net_benefit"], ours["net_benefit"][our_name], rtol=0, atol=1e-12
        )


@pytest.mark.parametrize(
    "thresholds",
    [[0.0, 0.1], [0.1, 1.0], [-0.1], [0.2, float("nan")], [], [0.2, 0.1], [0.1, 0.1], [[0.1]]],
)
def test_thresholds_outside_the_open_unit_interval_or_unsorted_are_refused(thresholds):
    with pytest.raises(PipelineError, match="threshold"):
        net_benefit(HAND_Y, HAND_P, thresholds)
    with pytest.raises(PipelineError, match="threshold"):
        decision_curve(HAND_Y, {"model": HAND_P}, thresholds)


def test_model_names_that_clash_with_a_reference_strategy_are_refused():
    with pytest.raises(PipelineError, match="rename"):
        decision_curve(HAND_Y, {"treat_all": HAND_P})


def test_an_empty_set_of_models_is_refused():
    with pytest.raises(PipelineError, match="at least one model"):
        decision_curve(HAND_Y, {})


def test_scores_outside_zero_one_are_refused():
    with pytest.raises(PipelineError, match="probabilities"):
        decision_curve(HAND_Y, {"logits": HAND_P * 4 - 2})


# --------------------------------------------------------------------------- ranges


def test_useful_ranges_keep_the_gap_of_the_hand_worked_example():
    # Model vs max(treat all, 0): 0.356 > 0.333 yes; 0.225 < 0.25 no; 0.1 > 0 yes; -0.2 no.
    curve = decision_curve(HAND_Y, {"model": HAND_P}, HAND_THRESHOLDS)
    assert useful_ranges(curve, "model") == [(0.10, 0.10), (0.50, 0.50)]


def test_useful_and_better_ranges_match_brute_force_comparisons():
    y, p = random_cohort(n=300, seed=11)
    rng = np.random.default_rng(12)
    q = np.clip(p + rng.normal(scale=0.15, size=p.size), 0, 1).round(2)
    curve = decision_curve(y, {"a": p, "b": q})
    t = curve["thresholds"]
    nb_a = brute_force_net_benefit(y, p, t)
    nb_b = brute_force_net_benefit(y, q, t)
    treat_all = brute_force_net_benefit(y, np.ones(y.size), t)
    useful = [a > max(all_, 0.0) for a, all_ in zip(nb_a, treat_all)]
    a_beats_b = [a > b for a, b in zip(nb_a, nb_b)]
    assert 0 < sum(useful) < len(t)
    assert 0 < sum(a_beats_b) < len(t)
    assert useful_ranges(curve, "a") == brute_force_runs(t, useful)
    assert better_ranges(curve, "a", "b") == brute_force_runs(t, a_beats_b)


def test_a_model_that_treats_everyone_at_low_thresholds_is_not_called_useful_there():
    rng = np.random.default_rng(4)
    y = (rng.random(500) < 0.3).astype(int)
    p = np.clip(0.3 + 0.4 * y + rng.normal(scale=0.1, size=500), 0.3, 0.99)
    curve = decision_curve(y, {"model": p})
    ranges = useful_ranges(curve, "model")
    assert ranges and ranges[0][0] > p.min()


def test_better_ranges_of_a_model_against_itself_are_empty():
    curve = decision_curve(HAND_Y, {"a": HAND_P, "b": HAND_P.copy()}, HAND_THRESHOLDS)
    assert better_ranges(curve, "a", "b") == []
    assert better_ranges(curve, "a", "treat_none") == [(0.10, 0.50)]


def test_ranges_of_an_unknown_model_are_refused():
    curve = decision_curve(HAND_Y, {"model": HAND_P}, HAND_THRESHOLDS)
    with pytest.raises(PipelineError, match="no model fused"):
        useful_ranges(curve, "fused")


@pytest.mark.parametrize(
    "ranges, text",
    [
        ([], "no threshold"),
        ([(0.05, 0.32)], "5%-32%"),
        ([(0.01, 0.01), (0.07, 0.29), (0.4, 0.5)], "1%, 7%-29% and 40%-50%"),
    ],
)
def test_ranges_read_as_percent_runs(ranges, text):
    assert format_threshold_ranges(ranges) == text
