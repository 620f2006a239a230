"""Recalibration: a map from a model's probabilities to better-calibrated ones, fitted on the
validation split and applied unchanged to the test split.

Training with ``pos_weight = negatives/positives`` makes a network over-predict risk, and a
decision curve or a Brier score reads the probabilities literally, so they are recalibrated
before being reported. The calibrator never sees test labels; the test split only measures
whether recalibration helped.

Methods:

- ``"platt"`` (default): logistic regression of the outcome on logit(p), unpenalised
  (Platt 1999; as a recalibration model, Cox 1958). Two parameters, so it is stable on a
  small validation split, and it keeps the model's ranking (AUROC unchanged). A slope below 1
  says the model's probabilities are too extreme, above 1 too timid.
- ``"isotonic"``: the non-decreasing least-squares fit of scikit-learn's
  ``IsotonicRegression`` (Zadrozny & Elkan 2002), linear between its knots and constant beyond
  them. More flexible, needs more validation rows, and can tie rows the model ranked apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ..base.errors import PipelineError
from ..base.inputs import as_labels, as_probabilities, require_both_classes
from ..learning.calibrator import (
    Calibrator,
    check_method,
    platt_feature,
)
from .evaluation import brier_score, expected_calibration_error

DEFAULT_RECALIBRATION_METHOD = "platt"
# Newton steps on two parameters converge quadratically; a tight tolerance costs a few steps
# and makes the fit agree with any other exact maximum-likelihood solver to ~1e-8.
_PLATT_TOLERANCE = 1e-10


def _separates_classes(feature: np.ndarray, y: np.ndarray) -> bool:
    # With one feature and an intercept the unpenalised logistic fit is infinite exactly when
    # a cut-off puts every positive on one side and every negative on the other, ties at the
    # cut-off allowed (complete or quasi-complete separation, Albert & Anderson 1984).
    positives, negatives = feature[y == 1], feature[y == 0]
    return positives.min() >= negatives.max() or positives.max() <= negatives.min()


def fit_calibrator(y_val, p_val, method: str = DEFAULT_RECALIBRATION_METHOD) -> Calibrator:
    """Fit a recalibration map on validation labels and probabilities.

    Args:
        y_val: 0/1 validation outcomes; both classes must occur.
        p_val: the model's validation probabilities, in [0, 1].
        method: ``"platt"`` or ``"isotonic"`` (see the module docstring).

    Returns:
        A :class:`Calibrator`; apply it to test probabilities with ``.transform``.
    """
    method = check_method(method)
    y = as_labels(y_val)
    p = as_probabilities(p_val, y.size, "validation probabilities")
    require_both_classes(y, "recalibration")
    if method == "isotonic":
        isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return Calibrator(
            "isotonic",
            {
                "x_thresholds": [float(v) for v in isotonic.X_thresholds_],
                "y_thresholds": [float(v) for v in isotonic.y_thresholds_],
            },
        )
    feature = platt_feature(p)
    if _separates_classes(feature, y):
        raise PipelineError(
            "the validation probabilities separate the outcomes perfectly, so Platt scaling "
            "has no finite fit; use method='isotonic' or a larger validation split"
        )
    # C=inf is scikit-learn's unpenalised fit (penalty=None is deprecated since 1.8).
    platt = LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=_PLATT_TOLERANCE, max_iter=1000
    ).fit(feature[:, np.newaxis], y)
    return Calibrator(
        "platt", {"slope": float(platt.coef_[0, 0]), "intercept": float(platt.intercept_[0])}
    )


@dataclass(frozen=True)
class Recalibration:
    """The outcome of :func:`recalibration_summary`.

    ``calibrator``: the map fitted on validation. ``summary``: JSON-ready ``{"method",
    "fitted_on": "validation", "parameters", "test": {"brier_before", "brier_after",
    "ece_before", "ece_after"}}``. ``test_prob``: the recalibrated test probabilities, row for
    row, for a reliability diagram or a decision curve.
    """

    calibrator: Calibrator
    summary: dict
    test_prob: np.ndarray


def recalibration_summary(
    y_val, p_val, y_test, p_test, method: str = DEFAULT_RECALIBRATION_METHOD
) -> Recalibration:
    """Fit a calibrator on validation, apply it to test, and score test calibration before
    and after: Brier score and 10-bin ECE from :mod:`multimodal_deterioration.evidence.evaluation`.

    Test labels are used only for those scores, never for the fit.
    """
    calibrator = fit_calibrator(y_val, p_val, method)
    y = as_labels(y_test)
    before = as_probabilities(p_test, y.size, "test probabilities")
    after = calibrator.transform(before)
    summary = {
        "method": calibrator.method,
        "fitted_on": "validation",
        "parameters": calibrator.to_dict()["parameters"],
        "test": {
            "brier_before": brier_score(y, before),
            "brier_after": brier_score(y, after),
            "ece_before": expected_calibration_error(y, before),
            "ece_after": expected_calibration_error(y, after),
        },
    }
    return Recalibration(calibrator=calibrator, summary=summary, test_prob=after)
