"""Decision curve analysis: the net benefit of acting on a model's risk, over risk thresholds.

Vickers & Elkin (2006), "Decision curve analysis: a novel method for evaluating prediction
models", Med Decis Making 26:565-574. A clinician who would act (escalate care) on a patient
whose risk is at least t values a missed deterioration (t/(1-t))^-1 times as much as an
unnecessary escalation, so at threshold t

    NB(t) = TP/n - FP/n * t/(1-t)

where a row is treated when its predicted probability is >= t (the convention of
:mod:`multimodal_deterioration.evidence.evaluation` and of the ``dcurves`` package), TP and FP count
treated rows with and without the outcome, and n counts all rows. Two default strategies are
the reference: treat everyone (NB = prevalence - (1 - prevalence) * t/(1-t)) and treat no one
(NB = 0). A model is worth using at t only where its NB beats both.

Every net benefit here is computed by one formula from integer counts, so a model that treats
everyone ties treat-all exactly (no rounding difference can pass for a benefit), and the
comparison helpers use strict inequalities. Curves are estimates on one sample with no
confidence band; the helpers say where the estimate is higher, not that the difference is
significant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..base.errors import PipelineError
from ..base.inputs import as_labels, as_probabilities

# 1% to 50% in steps of 1%: the range Vickers et al. (2019, Diagn Progn Res 3:18) call
# clinically reasonable for most decisions; an early-warning escalation above 50% risk would
# mean accepting more missed deteriorations than false alarms. Rounded so each value is the
# exact decimal (0.07, not 0.07000000000000001) a reader sees in the JSON.
DEFAULT_THRESHOLDS = np.round(np.arange(1, 51) / 100, 2)

REFERENCE_STRATEGIES = ("treat_all", "treat_none")

NET_BENEFIT_DEFINITION = (
    "net benefit at threshold probability t = true positives / n - false positives / n "
    "* t / (1 - t), where a row is treated when its predicted probability is >= t "
    "(Vickers & Elkin 2006); treat_all treats every row (prevalence - (1 - prevalence) "
    "* t / (1 - t)); treat_none treats no row (0)"
)


def _as_thresholds(thresholds) -> np.ndarray:
    values = np.asarray(thresholds, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise PipelineError(
            f"thresholds must be a non-empty list of numbers, got shape {values.shape}; "
            "pass e.g. DEFAULT_THRESHOLDS (0.01 to 0.50)"
        )
    # t = 0 and t = 1 make the harm weight t/(1-t) zero or infinite; NaN fails both tests.
    outside = ~((values > 0.0) & (values < 1.0))
    if outside.any():
        examples = ", ".join(f"{v:g}" for v in values[outside][:5])
        raise PipelineError(
            f"decision-curve thresholds must lie strictly between 0 and 1, got {examples}; "
            "drop 0 and 1 (e.g. use 0.01 to 0.99)"
        )
    if values.size > 1 and not (np.diff(values) > 0).all():
        raise PipelineError(
            "decision-curve thresholds must be strictly increasing; sort them and drop duplicates"
        )
    return values


def _net_benefit_from_counts(
    true_pos, false_pos, n_rows: int, thresholds: np.ndarray
) -> np.ndarray:
    return true_pos / n_rows - false_pos / n_rows * (thresholds / (1.0 - thresholds))


def net_benefit(y_true, prob, thresholds=DEFAULT_THRESHOLDS) -> np.ndarray:
    """Net benefit of treating the rows with ``prob >= t``, at each threshold t.

    Args:
        y_true: 0/1 outcome per row (1 = deteriorated).
        prob: predicted probability per row, in [0, 1].
        thresholds: strictly increasing threshold probabilities, each strictly in (0, 1).

    Returns:
        float array, one net benefit per threshold: TP/n - FP/n * t/(1-t).

    Example:
        >>> net_benefit([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1], [0.5])
        array([0.])
    """
    y = as_labels(y_true)
    p = as_probabilities(prob, y.size)
    t = _as_thresholds(thresholds)
    positives = np.sort(p[y == 1])
    negatives = np.sort(p[y == 0])
    # Rows at or above t: everything from the first sorted score >= t onwards.
    true_pos = positives.size - np.searchsorted(positives, t, side="left")
    false_pos = negatives.size - np.searchsorted(negatives, t, side="left")
    return _net_benefit_from_counts(true_pos, false_pos, y.size, t)


def decision_curve(
    y_true, predictions: Mapping[str, np.ndarray], thresholds=DEFAULT_THRESHOLDS
) -> dict:
    """Net benefit of each model and of treating everyone or no one, JSON-ready.

    Args:
        y_true: 0/1 outcome per row.
        predictions: ``{model name: probability per row}``; every model on the same rows.
        thresholds: strictly increasing threshold probabilities in (0, 1).

    Returns:
        ``{"thresholds": [t, ...], "net_benefit": {model: [nb, ...], ..., "treat_all":
        [...], "treat_none": [0.0, ...]}, "prevalence": float, "definition": str}``, every
        list as long as ``thresholds`` and every number a plain Python float.
    """
    y = as_labels(y_true)
    t = _as_thresholds(thresholds)
    if not predictions:
        raise PipelineError("no predictions for the decision curve; pass at least one model")
    clashes = [name for name in predictions if name in REFERENCE_STRATEGIES]
    if clashes:
        raise PipelineError(
            f"model name {clashes[0]} clashes with a reference strategy of the decision "
            "curve; rename the model"
        )
    n_pos = int(y.sum())
    curves = {
        name: net_benefit(y, as_probabilities(prob, y.size, f"predictions of {name}"), t)
        for name, prob in predictions.items()
    }
    curves["treat_all"] = _net_benefit_from_counts(n_pos, y.size - n_pos, y.size, t)
    curves["treat_none"] = np.zeros_like(t)
    return {
        "thresholds": [float(v) for v in t],
        "net_benefit": {name: [float(v) for v in nb] for name, nb in curves.items()},
        "prevalence": n_pos / y.size,
        "definition": NET_BENEFIT_DEFINITION,
    }


def _curve_of(curve: Mapping, name: str) -> np.ndarray:
    curves = curve["net_benefit"]
    if name not in curves:
        raise PipelineError(
            f"the decision curve has no model {name} (it has {', '.join(curves)}); fix the name"
        )
    return np.asarray(curves[name], dtype=np.float64)


def _threshold_runs(thresholds: Sequence[float], mask: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) threshold of every maximal run of consecutive grid points in ``mask``."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2] - 1
    return [(float(thresholds[a]), float(thresholds[b])) for a, b in zip(starts, stops)]


def useful_ranges(curve: Mapping, model: str) -> list[tuple[float, float]]:
    """Where on the grid the model's net benefit is strictly above treat-all and treat-none.

    Returns the maximal runs of consecutive grid thresholds where that holds, as
    ``[(first, last), ...]`` in increasing order; ``[]`` if it holds nowhere. A run
    ``(0.05, 0.32)`` on the default grid means "at every threshold from 5% to 32% in 1% steps",
    so a report can state it as is; a gap in the runs is a threshold where the model was not
    better, which a single (lowest, highest) pair would hide.

    Args:
        curve: the dict returned by :func:`decision_curve`.
        model: a model name in ``curve["net_benefit"]``.
    """
    nb = _curve_of(curve, model)
    best_default = np.maximum(_curve_of(curve, "treat_all"), _curve_of(curve, "treat_none"))
    return _threshold_runs(curve["thresholds"], nb > best_default)


def better_ranges(curve: Mapping, model_a: str, model_b: str) -> list[tuple[float, float]]:
    """Runs of grid thresholds where model_a's net benefit is strictly above model_b's.

    Same form as :func:`useful_ranges`. Either name may be a reference strategy
    (``"treat_all"``, ``"treat_none"``).
    """
    return _threshold_runs(
        curve["thresholds"], _curve_of(curve, model_a) > _curve_of(curve, model_b)
    )


def format_threshold_ranges(ranges: Sequence[tuple[float, float]]) -> str:
    """Runs as text for a report sentence, in percent: ``"5%-32% and 40%-45%"``; a run of
    one threshold reads ``"12%"``; no run reads ``"no threshold"``."""
    if not ranges:
        return "no threshold"
    parts = [f"{lo * 100:g}%" if lo == hi else f"{lo * 100:g}%-{hi * 100:g}%" for lo, hi in ranges]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
