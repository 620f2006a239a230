"""The two-level (seeds, then test rows) paired bootstrap against direct computations."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.bootstrap import (
    bootstrap_confidence_intervals,
    stratified_bootstrap_indices,
)
from multimodal_deterioration.evidence.comparisons import (
    SEED_DRAW_STREAM,
    compare_over_seeds,
    seed_draw_weights,
)

SEEDS = (42, 43, 44)


def fake_runs(n: int = 60, seed_effects=(0.0, 0.4, -0.3), seed: int = 0):
    """Labels and two models' probabilities per training seed; model a is stronger, by an
    amount that changes from seed to seed (training randomness)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    y[:2] = [0, 1]
    predictions = {"a": {}, "b": {}}
    for s, effect in zip(SEEDS, seed_effects):
        shared = rng.normal(size=n)
        predictions["a"][s] = 1 / (1 + np.exp(-((1.2 + effect) * y + shared)))
        predictions["b"][s] = 1 / (1 + np.exp(-(0.8 * y + shared + rng.normal(0, 0.5, n))))
    return y, predictions


def test_the_interval_equals_resampling_seeds_then_rows_computed_directly():
    y, predictions = fake_runs()
    n_resamples, bootstrap_seed = 60, 5
    result = compare_over_seeds(
        y, predictions, [("a", "b")], n_resamples=n_resamples, seed=bootstrap_seed
    )
    rows = list(stratified_bootstrap_indices(y, n_resamples, bootstrap_seed))
    # The documented seed draws: S indices with replacement per resample, from their own stream.
    drawn = np.random.default_rng([bootstrap_seed, SEED_DRAW_STREAM, len(SEEDS)]).integers(
        0, len(SEEDS), size=(n_resamples, len(SEEDS))
    )
    direct = []
    for r in range(n_resamples):
        resampled = y[rows[r]]
        differences = [
            roc_auc_score(resampled, predictions["a"][SEEDS[i]][rows[r]])
            - roc_auc_score(resampled, predictions["b"][SEEDS[i]][rows[r]])
            for i in drawn[r]
        ]
        direct.append(np.mean(differences))
    entry = result["pairs"]["a_minus_b"]["auroc"]
    np.testing.assert_allclose(entry["ci"], np.percentile(direct, [2.5, 97.5]), atol=1e-12)
    per_seed = [
        roc_auc_score(y, predictions["a"][s]) - roc_auc_score(y, predictions["b"][s]) for s in SEEDS
    ]
    assert entry["estimate"] == pytest.approx(np.mean(per_seed), abs=1e-12)
    assert entry["per_seed"] == {str(s): pytest.approx(v) for s, v in zip(SEEDS, per_seed)}
    assert entry["sd_over_seeds"] == pytest.approx(np.std(per_seed, ddof=1))


def test_the_probability_of_outperforming_counts_seed_and_resample_pairs():
    y, predictions = fake_runs()
    result = compare_over_seeds(y, predictions, [("a", "b")], n_resamples=50, seed=1)
    rows = list(stratified_bootstrap_indices(y, 50, 1))
    wins = [
        np.sign(
            roc_auc_score(y[r], predictions["a"][s][r])
            - roc_auc_score(y[r], predictions["b"][s][r])
        )
        for s in SEEDS
        for r in rows
    ]
    expected = np.mean([1.0 if w > 0 else 0.5 if w == 0 else 0.0 for w in wins])
    assert result["pairs"]["a_minus_b"]["auroc"]["probability_of_outperforming"] == pytest.approx(
        expected
    )


def test_with_one_seed_the_interval_is_the_ordinary_paired_bootstrap():
    y, predictions = fake_runs()
    one = {name: {42: by_seed[42]} for name, by_seed in predictions.items()}
    result = compare_over_seeds(y, one, [("a", "b")], n_resamples=200, seed=3)
    ordinary = bootstrap_confidence_intervals(
        y,
        {name: by_seed[42] for name, by_seed in one.items()},
        n_resamples=200,
        seed=3,
        paired_differences=[("a", "b")],
    )
    np.testing.assert_allclose(
        result["pairs"]["a_minus_b"]["auroc"]["ci"], ordinary["a_minus_b"]["auroc"]
    )
    assert result["pairs"]["a_minus_b"]["auroc"]["sd_over_seeds"] is None


def test_seeds_that_disagree_widen_the_interval_beyond_test_sampling():
    """Training randomness enters the interval: the same test rows, but per-seed gains that
    differ a lot, give a wider interval than one seed's rows alone."""
    y, predictions = fake_runs(n=300, seed_effects=(1.5, -0.7, 0.2))
    over_seeds = compare_over_seeds(y, predictions, [("a", "b")], n_resamples=400, seed=0)
    widths = [np.diff(over_seeds["pairs"]["a_minus_b"]["auroc"]["ci"])[0]]
    for s in SEEDS:
        single = {name: {s: by_seed[s]} for name, by_seed in predictions.items()}
        ci = compare_over_seeds(y, single, [("a", "b")], n_resamples=400, seed=0)
        widths.append(np.diff(ci["pairs"]["a_minus_b"]["auroc"]["ci"])[0])
    assert widths[0] > max(widths[1:])


def test_seed_draw_weights_are_seed_means():
    weights = seed_draw_weights(5, 100, seed=2)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert set(np.unique(weights * 5)) <= set(range(6))


def test_models_are_compared_on_the_seeds_they_share_and_refused_without_one():
    y, predictions = fake_runs()
    predictions["c"] = {42: predictions["b"][42]}
    result = compare_over_seeds(y, predictions, [("a", "c")], n_resamples=20)
    assert result["pairs"]["a_minus_c"]["seeds"] == [42]
    predictions["d"] = {7: predictions["b"][42]}
    with pytest.raises(PipelineError, match="share no training seed"):
        compare_over_seeds(y, predictions, [("a", "d")], n_resamples=20)


def test_brier_and_idi_differences_are_seed_means_of_the_formulas():
    y, predictions = fake_runs()
    result = compare_over_seeds(
        y, predictions, [("a", "b")], metrics=("brier", "discrimination_slope"), n_resamples=30
    )

    def slope(p):
        return p[y == 1].mean() - p[y == 0].mean()

    pair = result["pairs"]["a_minus_b"]
    brier = [
        np.mean((predictions["a"][s] - y) ** 2 - (predictions["b"][s] - y) ** 2) for s in SEEDS
    ]
    idi = [slope(predictions["a"][s]) - slope(predictions["b"][s]) for s in SEEDS]
    assert pair["brier"]["estimate"] == pytest.approx(np.mean(brier), abs=1e-12)
    assert pair["discrimination_slope"]["estimate"] == pytest.approx(np.mean(idi), abs=1e-12)
