"""The results are built from the right split at every step where a leak could slip in.

These run on a fake experiment (chosen predictions, no training) or a one-epoch experiment on
random data, so each leak-prone choice is pinned by a fast unit test rather than only by the
slow end-to-end runs, whose loose checks did not notice these choices being flipped.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from multimodal_deterioration.evidence import evaluation
from multimodal_deterioration.evidence.decision_curve import net_benefit
from multimodal_deterioration.evidence.recalibration import fit_calibrator
from multimodal_deterioration.evidence.results import EvaluationSettings, build_results
from multimodal_deterioration.learning.checkpoint import load_checkpoint, save_checkpoint
from multimodal_deterioration.learning.experiment import (
    CONTROL_MODELS,
    ExperimentConfig,
    permute_text,
    run_experiment,
)
from multimodal_deterioration.learning.training import TrainingConfig

from helpers import fake_data, fake_experiment, fake_predictions

SETTINGS = EvaluationSettings(bootstrap_resamples=200)


def test_each_models_threshold_is_chosen_on_validation_and_applied_unchanged_to_test():
    data = fake_data()
    val_prob = fake_predictions(data, "val", ablations=False, seed=1)
    # Cubing the test probabilities keeps their order but moves the best test cut-off far from
    # the best validation cut-off, so a threshold chosen on test could not pass for one chosen on
    # validation.
    test_prob = {
        name: prob**3 for name, prob in fake_predictions(data, "test", False, seed=2).items()
    }
    results = build_results(fake_experiment(data, val_prob, test_prob), data, SETTINGS)
    y_val, y_test = data.splits["val"].y, data.splits["test"].y
    for name in ("multimodal", "vital_only"):
        on_validation = evaluation.youden_threshold(y_val, val_prob[name])
        on_test = evaluation.youden_threshold(y_test, test_prob[name])
        assert abs(on_validation - on_test) > 0.05, "scenario must separate the two optima"
        chosen = results["metrics"][name]["at_validation_threshold"]
        assert chosen["threshold"] == on_validation
        assert chosen == evaluation.threshold_metrics(y_test, test_prob[name], on_validation)


def test_every_reported_metric_is_computed_on_the_test_split():
    data = fake_data()
    val_prob = fake_predictions(data, "val", ablations=True, seed=1)
    test_prob = fake_predictions(data, "test", ablations=True, seed=2)
    results = build_results(
        fake_experiment(data, val_prob, test_prob, ablations=True), data, SETTINGS
    )
    y_test = data.splits["test"].y
    assert results["test_samples"] == len(y_test)
    for name, prob in test_prob.items():
        assert results["metrics"][name]["auroc"] == evaluation.auroc(y_test, prob)
        assert results["metrics"][name]["brier_score"] == evaluation.brier_score(y_test, prob)
    assert results["multimodal_auroc"] == evaluation.auroc(y_test, test_prob["multimodal"])
    for control in CONTROL_MODELS:
        assert f"{control}_minus_vital_only" in results["confidence_intervals"]
        assert f"multimodal_minus_{control}" in results["confidence_intervals"]


def shifted_split(split, offset: float):
    return dataclasses.replace(split, X_vital=split.X_vital + np.float32(offset))


def test_the_vital_standardiser_is_fitted_on_the_training_split_alone_and_saved_as_such(tmp_path):
    data = fake_data(sizes={"train": 60, "val": 40, "test": 40})
    # Validation and test vitals far from the training ones: statistics that saw them would
    # differ from the training split's by several units.
    splits = {
        "train": data.splits["train"],
        "val": shifted_split(data.splits["val"], 10.0),
        "test": shifted_split(data.splits["test"], -7.0),
    }
    data = dataclasses.replace(data, splits=splits)
    config = ExperimentConfig(TrainingConfig(epochs=1, batch_size=16), seeds=(3,))
    experiment = run_experiment(data, config, torch.device("cpu"), log=None, progress=False)
    train_vitals = splits["train"].X_vital.astype(np.float64)
    np.testing.assert_allclose(experiment.standardizer.mean, train_vitals.mean(axis=(0, 1)))
    np.testing.assert_allclose(experiment.standardizer.std, train_vitals.std(axis=(0, 1)))

    model = experiment.models["multimodal"]
    path = save_checkpoint(
        tmp_path / "model.pt",
        model.model_config,
        model.training,
        experiment.standardizer,
        0.5,
        config.training,
    )
    loaded = load_checkpoint(path)
    np.testing.assert_allclose(loaded.standardizer.mean, train_vitals.mean(axis=(0, 1)))
    np.testing.assert_allclose(loaded.standardizer.std, train_vitals.std(axis=(0, 1)))
    # The saved model reproduces the experiment's test predictions from raw vitals.
    test = splits["test"]
    np.testing.assert_allclose(
        loaded.predict(test.X_vital, test.X_text), model.test_prob, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_within_class_shuffle_is_a_permutation_that_keeps_each_rows_label(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.3).astype(np.int64)
    # Each row's "note" is its own index, so the shuffled text says which row it came from.
    text = np.arange(200, dtype=np.float32)[:, None].repeat(3, axis=1)
    shuffled = permute_text(text, "shuffled_within_class", y, np.random.default_rng(seed))
    source = shuffled[:, 0].astype(np.int64)
    assert sorted(source.tolist()) == list(range(200))
    np.testing.assert_array_equal(y[source], y)
    assert (source != np.arange(200)).mean() > 0.5, "the notes must actually move"


def test_the_across_split_shuffle_is_a_permutation_that_ignores_labels():
    y = np.repeat([0, 1], 100)
    text = np.arange(200, dtype=np.float32)[:, None]
    source = permute_text(text, "shuffled", y, np.random.default_rng(0))[:, 0].astype(np.int64)
    assert sorted(source.tolist()) == list(range(200))
    assert (y[source] != y).mean() > 0.3


def built_results(ablations: bool = False):
    data = fake_data()
    val_prob = fake_predictions(data, "val", ablations, seed=1)
    test_prob = fake_predictions(data, "test", ablations, seed=2)
    experiment = fake_experiment(data, val_prob, test_prob, ablations)
    return data, val_prob, test_prob, build_results(experiment, data, SETTINGS)


def test_the_decision_curve_uses_probabilities_recalibrated_on_the_validation_split():
    data, val_prob, test_prob, results = built_results()
    y_val, y_test = data.splits["val"].y, data.splits["test"].y
    curve = results["decision_curve"]
    for name in ("multimodal", "vital_only"):
        calibrator = fit_calibrator(y_val, val_prob[name], "platt")
        np.testing.assert_allclose(
            curve["net_benefit"][name],
            net_benefit(y_test, calibrator.transform(test_prob[name]), curve["thresholds"]),
        )
        np.testing.assert_allclose(
            curve["net_benefit_uncalibrated"][name],
            net_benefit(y_test, test_prob[name], curve["thresholds"]),
        )
        recalibrated = results["metrics"][name]["recalibrated"]
        assert recalibrated["parameters"] == calibrator.to_dict()["parameters"]
        assert recalibrated["test"]["brier_after"] == evaluation.brier_score(
            y_test, calibrator.transform(test_prob[name])
        )


def idi_and_delta_brier(y: np.ndarray, new: np.ndarray, old: np.ndarray) -> tuple[float, float]:
    """The textbook formulas (Pencina et al. 2008; Brier 1950), written out."""
    idi = (new[y == 1].mean() - old[y == 1].mean()) - (new[y == 0].mean() - old[y == 0].mean())
    return idi, np.mean((new - y) ** 2) - np.mean((old - y) ** 2)


def test_delta_brier_and_idi_are_computed_on_validation_recalibrated_probabilities():
    data, val_prob, test_prob, results = built_results()
    y_val, y = data.splits["val"].y, data.splits["test"].y
    recalibrated = {
        name: fit_calibrator(y_val, val_prob[name], "platt").transform(test_prob[name])
        for name in ("multimodal", "vital_only")
    }
    added = results["added_value"]
    idi, delta_brier = idi_and_delta_brier(
        y, recalibrated["multimodal"], recalibrated["vital_only"]
    )
    assert added["idi"]["value"] == pytest.approx(idi, abs=1e-12)
    assert added["delta_brier"]["value"] == pytest.approx(delta_brier, abs=1e-12)
    assert "recalibrated" in added["delta_brier"]["probabilities"]
    raw_idi, raw_brier = idi_and_delta_brier(y, test_prob["multimodal"], test_prob["vital_only"])
    assert added["idi_raw"]["value"] == pytest.approx(raw_idi, abs=1e-12)
    assert added["delta_brier_raw"]["value"] == pytest.approx(raw_brier, abs=1e-12)
    for key in ("idi", "delta_brier", "idi_raw", "delta_brier_raw"):
        low, high = added[key]["ci"]
        assert low < added[key]["value"] < high


def test_over_seeds_delta_brier_and_idi_average_each_seeds_own_recalibration():
    data = fake_data()
    seeds = (42, 7)
    val_prob = {s: fake_predictions(data, "val", False, seed=10 * s) for s in seeds}
    test_prob = {s: fake_predictions(data, "test", False, seed=10 * s + 1) for s in seeds}
    names = list(val_prob[42])
    experiment = fake_experiment(
        data,
        {name: {s: val_prob[s][name] for s in seeds} for name in names},
        {name: {s: test_prob[s][name] for s in seeds} for name in names},
        seeds=seeds,
    )
    results = build_results(experiment, data, SETTINGS)
    y_val, y = data.splits["val"].y, data.splits["test"].y
    per_seed = []
    for s in seeds:
        fused, vitals = (
            fit_calibrator(y_val, val_prob[s][name], "platt").transform(test_prob[s][name])
            for name in ("multimodal", "vital_only")
        )
        per_seed.append(idi_and_delta_brier(y, fused, vitals))
    added = results["added_value"]
    assert added["idi"]["value"] == pytest.approx(np.mean([v[0] for v in per_seed]), abs=1e-12)
    assert added["delta_brier"]["value"] == pytest.approx(
        np.mean([v[1] for v in per_seed]), abs=1e-12
    )
    assert added["seeds"] == 2 and added["includes_training_randomness"] is True


def test_delong_is_clustered_exactly_when_test_ids_repeat():
    for ids, method in ((False, "DeLong"), (True, "DeLong, clustered (Obuchowski 1997)")):
        data = fake_data(ids=ids)
        val_prob = fake_predictions(data, "val", False, seed=1)
        test_prob = fake_predictions(data, "test", False, seed=2)
        results = build_results(fake_experiment(data, val_prob, test_prob), data, SETTINGS)
        delong = results["statistics"]["delong_multimodal_vs_vital_only"]
        assert delong["method"] == method
        assert delong["clusters"] == (50 if ids else None)
