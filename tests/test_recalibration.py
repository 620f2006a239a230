"""Tests for multimodal_deterioration.evidence.recalibration against independent references: a
maximum-likelihood fit with scipy, scikit-learn's IsotonicRegression and brier_score_loss, and
data miscalibrated by construction with known slope and intercept."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.recalibration import fit_calibrator, recalibration_summary
from multimodal_deterioration.learning.calibrator import RECALIBRATION_METHODS, Calibrator

TRUE_SLOPE = 2.0
TRUE_INTERCEPT = 0.5


def miscalibrated(n: int, seed: int):
    """Model probabilities p whose true risk is sigmoid(2 * logit(p) + 0.5): too timid and
    too low, as a network trained with a positive-class weight is not."""
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(scale=1.2, size=n))
    y = (rng.random(n) < expit(TRUE_SLOPE * logit(p) + TRUE_INTERCEPT)).astype(int)
    return y, p


def assert_plain(value):
    """Only the types torch.load(weights_only=True) and JSON both accept without numpy."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain(item)
    else:
        assert type(value) in (str, float), type(value)


# --------------------------------------------------------------------------- Platt


def test_platt_parameters_equal_an_independent_maximum_likelihood_fit():
    y, p = miscalibrated(3000, seed=1)
    p[:2] = [0.0, 1.0]  # the clip keeps these finite in both fits
    y[:2] = [1, 0]
    x = logit(np.clip(p, 1e-6, 1 - 1e-6))

    def negative_log_likelihood(theta):
        eta = theta[0] + theta[1] * x
        return np.sum(np.logaddexp(0.0, eta) - y * eta)

    def gradient(theta):
        residual = expit(theta[0] + theta[1] * x) - y
        return np.array([residual.sum(), residual @ x])

    reference = minimize(
        negative_log_likelihood,
        [0.0, 1.0],
        jac=gradient,
        method="BFGS",
        options={"gtol": 1e-8},
    )
    # BFGS may report precision loss this close to the optimum; the score equations decide.
    assert np.abs(gradient(reference.x)).max() < 1e-6
    calibrator = fit_calibrator(y, p, "platt")
    assert calibrator.parameters["intercept"] == pytest.approx(reference.x[0], abs=1e-4)
    assert calibrator.parameters["slope"] == pytest.approx(reference.x[1], abs=1e-4)


def test_platt_is_the_default_method():
    y, p = miscalibrated(500, seed=2)
    assert fit_calibrator(y, p).method == "platt"


def test_platt_recovers_a_known_miscalibration_and_improves_test_calibration():
    y_val, p_val = miscalibrated(100_000, seed=3)
    y_test, p_test = miscalibrated(50_000, seed=4)
    result = recalibration_summary(y_val, p_val, y_test, p_test, "platt")
    parameters = result.summary["parameters"]
    # Standard errors at this n are about 0.01; 0.05 leaves room without hiding a wrong fit.
    assert parameters["slope"] == pytest.approx(TRUE_SLOPE, abs=0.05)
    assert parameters["intercept"] == pytest.approx(TRUE_INTERCEPT, abs=0.05)
    test = result.summary["test"]
    assert test["brier_before"] == pytest.approx(brier_score_loss(y_test, p_test), abs=1e-12)
    assert test["brier_after"] == pytest.approx(
        brier_score_loss(y_test, result.test_prob), abs=1e-12
    )
    assert test["brier_after"] < test["brier_before"]
    assert test["ece_after"] < 0.5 * test["ece_before"]


def test_platt_transform_is_the_logistic_map_on_clipped_logits():
    calibrator = Calibrator("platt", {"slope": 1.7, "intercept": -0.3})
    p = np.array([0.0, 1e-9, 0.2, 0.5, 0.93, 1.0])
    expected = 1 / (
        1
        + np.exp(
            -(-0.3 + 1.7 * np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6))))
        )
    )
    np.testing.assert_allclose(calibrator.transform(p), expected, rtol=1e-12)


def test_validation_probabilities_that_separate_the_outcomes_stop_platt_scaling():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.4, 0.4, 0.7, 0.9])  # quasi-complete: a tie at the cut-off
    with pytest.raises(PipelineError, match="isotonic"):
        fit_calibrator(y, p, "platt")
    assert fit_calibrator(y, p, "isotonic").method == "isotonic"


# --------------------------------------------------------------------------- isotonic


def test_isotonic_transform_equals_isotonic_regression_predict_and_is_monotone():
    y, p = miscalibrated(2000, seed=5)
    p = 0.1 + 0.8 * p  # new points below 0.1 and above 0.9 exercise the clipping
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p, y)
    calibrator = fit_calibrator(y, p, "isotonic")
    new = np.concatenate([np.linspace(0, 1, 1001), np.random.default_rng(6).random(500)])
    ours = calibrator.transform(new)
    np.testing.assert_allclose(ours, reference.predict(new), rtol=0, atol=1e-12)
    ordered = calibrator.transform(np.linspace(0, 1, 1001))
    assert (np.diff(ordered) >= 0).all()
    assert ours.min() >= 0 and ours.max() <= 1


def test_isotonic_improves_test_calibration_of_a_miscalibrated_model():
    y_val, p_val = miscalibrated(20_000, seed=7)
    y_test, p_test = miscalibrated(20_000, seed=8)
    test = recalibration_summary(y_val, p_val, y_test, p_test, "isotonic").summary["test"]
    assert test["brier_after"] < test["brier_before"]
    assert test["ece_after"] < 0.5 * test["ece_before"]


# --------------------------------------------------------------------------- storage


@pytest.mark.parametrize("method", RECALIBRATION_METHODS)
def test_a_stored_calibrator_transforms_identically_after_torch_weights_only_load(method, tmp_path):
    y, p = miscalibrated(1000, seed=9)
    calibrator = fit_calibrator(y, p, method)
    stored = calibrator.to_dict()
    assert_plain(stored)
    torch.save({"calibrator": stored}, tmp_path / "checkpoint.pt")
    loaded = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["calibrator"]
    assert loaded == stored
    assert json.loads(json.dumps(stored)) == stored
    new = np.random.default_rng(10).random(300)
    np.testing.assert_array_equal(
        Calibrator.from_dict(loaded).transform(new), calibrator.transform(new)
    )


def test_editing_the_stored_dict_leaves_the_calibrator_unchanged():
    y, p = miscalibrated(1000, seed=11)
    calibrator = fit_calibrator(y, p, "isotonic")
    before = calibrator.transform(np.linspace(0, 1, 50))
    stored = calibrator.to_dict()
    stored["parameters"]["y_thresholds"][:] = [0.0] * len(stored["parameters"]["y_thresholds"])
    np.testing.assert_array_equal(calibrator.transform(np.linspace(0, 1, 50)), before)


@pytest.mark.parametrize(
    "stored",
    [
        {"method": "platt"},
        {"method": "temperature", "parameters": {"t": 1.0}},
        {"method": "platt", "parameters": {"slope": 1.0}},
        {"method": "platt", "parameters": {"slope": "steep", "intercept": 0.0}},
        [("method", "platt")],
    ],
)
def test_malformed_stored_calibrators_are_refused(stored):
    with pytest.raises(PipelineError):
        Calibrator.from_dict(stored)


# --------------------------------------------------------------------------- summary


@pytest.mark.parametrize("method", RECALIBRATION_METHODS)
def test_the_fit_never_sees_test_labels(method):
    y_val, p_val = miscalibrated(3000, seed=12)
    y_test, p_test = miscalibrated(3000, seed=13)
    shuffled = np.random.default_rng(14).permutation(y_test)
    assert not np.array_equal(shuffled, y_test)
    original = recalibration_summary(y_val, p_val, y_test, p_test, method)
    permuted = recalibration_summary(y_val, p_val, shuffled, p_test, method)
    assert permuted.summary["parameters"] == original.summary["parameters"]
    np.testing.assert_array_equal(permuted.test_prob, original.test_prob)
    assert permuted.summary["test"]["brier_after"] != original.summary["test"]["brier_after"]


def test_summary_is_plain_json_with_the_documented_keys():
    y_val, p_val = miscalibrated(2000, seed=15)
    y_test, p_test = miscalibrated(1000, seed=16)
    result = recalibration_summary(y_val, p_val, y_test, p_test)
    summary = result.summary
    assert set(summary) == {"method", "fitted_on", "parameters", "test"}
    assert summary["method"] == "platt" and summary["fitted_on"] == "validation"
    assert set(summary["test"]) == {"brier_before", "brier_after", "ece_before", "ece_after"}
    assert summary["parameters"] == result.calibrator.to_dict()["parameters"]
    assert json.loads(json.dumps(summary)) == summary
    assert result.test_prob.shape == (1000,)


# --------------------------------------------------------------------------- errors


def test_an_unknown_method_is_refused_with_the_choices():
    y, p = miscalibrated(200, seed=17)
    with pytest.raises(PipelineError, match="platt, isotonic"):
        fit_calibrator(y, p, "temperature")
    with pytest.raises(PipelineError, match="platt, isotonic"):
        recalibration_summary(y, p, y, p, "Platt")
    with pytest.raises(PipelineError, match="platt, isotonic"):
        Calibrator("temperature", {"t": 1.5})


@pytest.mark.parametrize("method", RECALIBRATION_METHODS)
def test_validation_labels_of_one_class_are_refused(method):
    with pytest.raises(PipelineError, match="recalibration needs"):
        fit_calibrator(np.zeros(50, dtype=int), np.linspace(0.01, 0.99, 50), method)


def test_probabilities_outside_zero_one_are_refused_by_fit_and_transform():
    y, p = miscalibrated(200, seed=18)
    with pytest.raises(PipelineError, match="sigmoid"):
        fit_calibrator(y, logit(p))
    with pytest.raises(PipelineError, match="sigmoid"):
        fit_calibrator(y, p).transform(logit(p))
