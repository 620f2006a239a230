"""The fitted recalibration map that a checkpoint carries and applies: a map from a model's
probabilities to better-calibrated ones (fitted on the validation split by
:func:`multimodal_deterioration.evidence.recalibration.fit_calibrator`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from ..base.errors import PipelineError
from ..base.inputs import as_probabilities

RECALIBRATION_METHODS = ("platt", "isotonic")
# Keeps logit(p) finite for p = 0 or 1 (a saturated sigmoid in float32 gives exactly these)
# while leaving every probability a float32 network can otherwise emit (> 1e-6) untouched.
LOGIT_CLIP = 1e-6

PARAMETER_NAMES = {"platt": ("slope", "intercept"), "isotonic": ("x_thresholds", "y_thresholds")}


def check_method(method) -> str:
    if method not in RECALIBRATION_METHODS:
        raise PipelineError(
            f"unknown recalibration method {method!r}; choose one of "
            f"{', '.join(RECALIBRATION_METHODS)}"
        )
    return method


def platt_feature(p: np.ndarray) -> np.ndarray:
    """logit(p), with p clipped to [1e-6, 1 - 1e-6]: what Platt scaling regresses on."""
    return logit(np.clip(p, LOGIT_CLIP, 1.0 - LOGIT_CLIP))


@dataclass(frozen=True)
class Calibrator:
    """A fitted recalibration map, storable in a checkpoint.

    ``parameters`` holds plain Python values only, so ``to_dict()`` survives
    ``torch.load(weights_only=True)`` and JSON:

    - ``method="platt"``: ``{"slope": float, "intercept": float}``; the map is
      ``sigmoid(intercept + slope * logit(clip(p, 1e-6, 1 - 1e-6)))``.
    - ``method="isotonic"``: ``{"x_thresholds": [float, ...], "y_thresholds": [float, ...]}``
      (IsotonicRegression's knots); the map interpolates linearly between knots and is
      constant beyond the first and last, as ``IsotonicRegression(out_of_bounds="clip")``.

    Build one with :func:`fit_calibrator` or :meth:`from_dict`.
    """

    method: str
    parameters: dict

    def __post_init__(self) -> None:
        check_method(self.method)

    def transform(self, prob) -> np.ndarray:
        """Recalibrated probabilities (float64, in [0, 1]) for probabilities in [0, 1]."""
        p = as_probabilities(prob, np.size(prob), "probabilities to recalibrate")
        if self.method == "platt":
            return expit(self.parameters["intercept"] + self.parameters["slope"] * platt_feature(p))
        return np.interp(p, self.parameters["x_thresholds"], self.parameters["y_thresholds"])

    def to_dict(self) -> dict:
        """``{"method": str, "parameters": {...}}`` of plain floats, lists and strings."""
        # Lists are copied so that editing the dict cannot change this frozen calibrator.
        return {
            "method": self.method,
            "parameters": {
                name: list(value) if isinstance(value, list) else value
                for name, value in self.parameters.items()
            },
        }

    @classmethod
    def from_dict(cls, data) -> Calibrator:
        """Rebuild a calibrator from :meth:`to_dict`'s output (e.g. read from a checkpoint)."""
        if not isinstance(data, dict) or set(data) != {"method", "parameters"}:
            raise PipelineError(
                "the stored calibrator is not a {'method', 'parameters'} dict; the checkpoint "
                "was not written by this version -- retrain to rebuild it"
            )
        method = check_method(data["method"])
        parameters = data["parameters"]
        expected = set(PARAMETER_NAMES[method])
        if not isinstance(parameters, dict) or set(parameters) != expected:
            raise PipelineError(
                f"the stored {method} calibrator needs parameters {', '.join(sorted(expected))}; "
                "the checkpoint was not written by this version -- retrain to rebuild it"
            )
        try:
            if method == "platt":
                plain = {name: float(value) for name, value in parameters.items()}
            else:
                plain = {name: [float(v) for v in value] for name, value in parameters.items()}
        except (TypeError, ValueError) as error:
            raise PipelineError(
                f"the stored {method} calibrator holds a non-numeric parameter ({error}); "
                "retrain to rebuild it"
            ) from None
        return cls(method, plain)
