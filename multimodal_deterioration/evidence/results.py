"""Turn a trained experiment into ``multimodal_results.json`` and ``test_predictions.csv``.

The reference keys come first, unchanged in meaning: ``model``, ``vital_only_auroc``,
``multimodal_auroc``, ``improvement_percent``, and for the fused model at threshold 0.5
``sensitivity``, ``specificity``, ``f1_score``, ``accuracy``, ``test_samples`` and the confusion
counts. Everything added (the quoted baseline, validation-chosen thresholds, confidence
intervals, the DeLong test, per-seed values, controls) sits under further keys. Every key is
declared, with its meaning, in :mod:`multimodal_deterioration.evidence.results_schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..base.errors import PipelineError
from ..base.settings import check_settings, setting
from ..contract.multimodal_data import MultimodalData
from ..learning.calibrator import RECALIBRATION_METHODS
from ..learning.experiment import (
    BASELINE_MODEL,
    CONTROL_MODELS,
    MAIN_MODEL,
    Experiment,
)
from ..learning.model import build_model, count_parameters, describe_architecture
from . import evaluation
from .bootstrap import (
    DEFAULT_BOOTSTRAP_RESAMPLES,
    DEFAULT_BOOTSTRAP_SEED,
    bootstrap_confidence_intervals,
)
from .decision_curve import better_ranges, decision_curve, format_threshold_ranges, useful_ranges
from .delong import delong_test
from .over_seeds import (
    added_value,
    control_summary,
    seed_aware_comparisons,
    seed_summary,
)
from .recalibration import DEFAULT_RECALIBRATION_METHOD, Recalibration, recalibration_summary
from .results_schema import (
    DataSummary,
    DecisionCurve,
    PairingSummary,
    RecalibratedMetrics,
    Results,
)
from .subgroups import subgroup_results

REFERENCE_THRESHOLD = 0.5
REFERENCE_MODEL_NAME = "MultiModalLSTM"
DEFAULT_REPORTED_BASELINE_AUROC = 0.9941  # the reference user's earlier vital-only LSTM
# The smallest AUROC gain worth adding notes for. Published gains from adding notes to vitals
# are about 0.01-0.03 AUROC; a gain below 0.01 would rarely justify a text pipeline at a bedside.
DEFAULT_MIN_GAIN = 0.01

DISPLAY_NAMES = {
    "multimodal": "Multimodal (vitals + notes)",
    "vital_only": "Vital-only",
    "text_only": "Text-only",
    "notes_shuffled": "Notes shuffled within split",
    "notes_shuffled_within_class": "Notes shuffled within class",
    "notes_zeroed_at_test": "Multimodal, notes zeroed at test",
}


@dataclass(frozen=True)
class EvaluationSettings:
    """How the test split is judged: the quoted baseline, the bootstrap, the smallest gain of
    interest and the recalibration method."""

    reported_baseline_auroc: float = setting(
        DEFAULT_REPORTED_BASELINE_AUROC,
        "a vital-only AUROC quoted from earlier work, reported beside (not instead of) the "
        "in-run baseline",
        flag="--baseline-auroc",
        minimum=0,
        maximum=1,
    )
    bootstrap_resamples: int = setting(
        DEFAULT_BOOTSTRAP_RESAMPLES,
        "bootstrap resamples for 95% confidence intervals",
        flag="--bootstrap",
        minimum=1,
    )
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED
    progress: bool = field(default=False, metadata={"record": False})
    min_gain: float = setting(
        DEFAULT_MIN_GAIN,
        "the smallest AUROC gain that would matter, above 0; the verdict reads the 95% CI of "
        "the notes' gain (fused model minus the same network on shuffled notes, over seeds and "
        "test rows) against 0 and against it",
        above=0,
        below=1,
    )
    recalibration: str = setting(
        DEFAULT_RECALIBRATION_METHOD,
        "how probabilities are recalibrated on the validation split for the calibrated "
        "metrics, the decision curve and the checkpoint's calibrated predictions",
        choices=RECALIBRATION_METHODS,
    )

    def __post_init__(self) -> None:
        check_settings(self)


def improvement_percent(new: float, old: float) -> float:
    """Relative change of ``new`` over ``old`` in percent (the reference script's measure)."""
    return (new - old) / old * 100.0


def recalibrate_models(
    experiment: Experiment, data: MultimodalData, method: str
) -> dict[str, Recalibration | str]:
    """Each model's calibrator fitted on its validation predictions and applied to test.

    A model whose calibrator cannot be fitted (e.g. validation scores that separate the classes
    perfectly, where Platt scaling has no finite solution) maps to the reason instead, so one
    degenerate control does not stop the run.
    """
    y_val, y_test = data.splits["val"].y, data.splits["test"].y
    fitted: dict[str, Recalibration | str] = {}
    for name, model in experiment.models.items():
        try:
            fitted[name] = recalibration_summary(
                y_val, model.val_prob, y_test, model.test_prob, method
            )
        except PipelineError as error:
            fitted[name] = str(error)
    return fitted


def build_results(
    experiment: Experiment,
    data: MultimodalData,
    settings: EvaluationSettings,
    recalibrations: dict[str, Recalibration | str] | None = None,
) -> Results:
    """The results dict written as ``multimodal_results.json`` (keys: :class:`Results`).

    ``recalibrations`` are :func:`recalibrate_models`' output, computed here when not given.
    """
    if recalibrations is None:
        recalibrations = recalibrate_models(experiment, data, settings.recalibration)
    y_val, y_test = data.splits["val"].y, data.splits["test"].y
    models = experiment.models
    test_prob = {name: model.test_prob for name, model in models.items()}
    thresholds = {
        name: evaluation.youden_threshold(y_val, model.val_prob) for name, model in models.items()
    }
    results = reference_keys(y_test, test_prob, settings)
    results["data"] = describe_data(data)
    results["pairing"] = describe_pairing(data.meta)
    results["metrics"] = {
        name: model_metrics(
            y_test, test_prob[name], thresholds[name], recalibrations[name], settings
        )
        for name in models
    }
    results["decision_curve"] = decision_curve_summary(y_test, test_prob, recalibrations)
    results.update(main_seed_statistics(data, test_prob, thresholds, settings))
    comparisons = seed_aware_comparisons(experiment, data, settings)
    results["comparisons"] = comparisons
    results["added_value"] = added_value(comparisons, settings.min_gain)
    results["seeds"] = seed_summary(experiment, y_test, comparisons)
    results["controls"] = control_summary(results, list(models))
    results["subgroups"] = subgroup_results(
        experiment, data.splits["test"], settings.bootstrap_resamples, settings.bootstrap_seed
    )
    results["model_parameters"] = {
        name: count_parameters(build_model(model.model_config)) for name, model in models.items()
    }
    results["architecture"] = {
        name: describe_architecture(model.model_config) for name, model in models.items()
    }
    results["training"] = training_summary(experiment)
    return results


def reference_keys(
    y_test: np.ndarray, test_prob: dict[str, np.ndarray], settings: EvaluationSettings
) -> dict:
    """The reference script's keys, in its order, then the quoted baseline and the thresholds."""
    mm_auroc = evaluation.auroc(y_test, test_prob[MAIN_MODEL])
    vo_auroc = evaluation.auroc(y_test, test_prob[BASELINE_MODEL])
    at_reference = evaluation.threshold_metrics(y_test, test_prob[MAIN_MODEL], REFERENCE_THRESHOLD)
    return {
        "model": REFERENCE_MODEL_NAME,
        "vital_only_auroc": vo_auroc,
        "multimodal_auroc": mm_auroc,
        "improvement_percent": improvement_percent(mm_auroc, vo_auroc),
        **{
            key: at_reference[key] for key in ("sensitivity", "specificity", "f1_score", "accuracy")
        },
        "test_samples": int(len(y_test)),
        **{
            key: at_reference[key]
            for key in ("true_positives", "false_positives", "false_negatives", "true_negatives")
        },
        "reported_baseline_auroc": settings.reported_baseline_auroc,
        "improvement_vs_reported_percent": improvement_percent(
            mm_auroc, settings.reported_baseline_auroc
        ),
        "reported_baseline_note": (
            "quoted from earlier work with --baseline-auroc; NOT re-measured in this run. "
            "vital_only_auroc is the baseline trained here on the same split and seed."
        ),
        "reference_threshold": REFERENCE_THRESHOLD,
        "validation_threshold_method": "Youden's J (sensitivity + specificity - 1) maximised on the validation split",
    }


def model_metrics(
    y_test: np.ndarray,
    prob: np.ndarray,
    threshold: float,
    recalibration: Recalibration | str,
    settings: EvaluationSettings,
) -> dict:
    """``metrics.<model>``: threshold-free metrics, both thresholds, and the recalibrated ones."""
    return {
        **evaluation.summary_metrics(y_test, prob),
        "at_reference_threshold": evaluation.threshold_metrics(y_test, prob, REFERENCE_THRESHOLD),
        "at_validation_threshold": evaluation.threshold_metrics(y_test, prob, threshold),
        "recalibrated": recalibrated_summary(recalibration, settings.recalibration),
    }


def main_seed_statistics(
    data: MultimodalData,
    test_prob: dict[str, np.ndarray],
    thresholds: dict[str, float],
    settings: EvaluationSettings,
) -> dict:
    """``confidence_intervals``, ``bootstrap`` and ``statistics``: the main seed's fitted models
    held fixed, resampling test rows (by id when ids are known)."""
    test = data.splits["test"]
    groups = test.ids
    intervals = bootstrap_confidence_intervals(
        test.y,
        test_prob,
        thresholds=thresholds,
        n_resamples=settings.bootstrap_resamples,
        seed=settings.bootstrap_seed,
        groups=groups,
        paired_differences=[(MAIN_MODEL, BASELINE_MODEL), *control_differences(list(test_prob))],
        progress=settings.progress,
    )
    delong = delong_test(test.y, test_prob[MAIN_MODEL], test_prob[BASELINE_MODEL], groups=groups)
    return {
        "confidence_intervals": intervals,
        "bootstrap": {
            "resamples": settings.bootstrap_resamples,
            "seed": settings.bootstrap_seed,
            "stratified": True,
            "resampled_by": "sample id" if groups is not None else "sample",
            "interval": "95% percentile",
            "thresholds": "each model's validation-chosen threshold for sensitivity and specificity",
        },
        "statistics": {
            "delong_multimodal_vs_vital_only": {
                "auc_difference": delong.auc_difference,
                "z": delong.z,
                "p_value": delong.p_value,
                # "DeLong" on independent samples; clustered by id (Obuchowski 1997) when test
                # ids repeat, since several samples of one patient are not independent evidence.
                "method": delong.method,
                "clusters": delong.clusters,
            }
        },
    }


def training_summary(experiment: Experiment) -> dict:
    """``training``: the main seed's trained models' early-stopping record."""
    return {
        name: {
            "best_epoch": model.training.best_epoch,
            "best_val_auroc": model.training.best_val_auroc,
            "epochs_run": len(model.training.history),
            "stopped_early": model.training.stopped_early,
        }
        for name, model in experiment.models.items()
        if model.training is not None
    }


def recalibrated_summary(recalibration: Recalibration | str, method: str) -> RecalibratedMetrics:
    """``metrics.<model>.recalibrated``: the fitted calibrator's summary, or the reason none
    could be fitted (a string from :func:`recalibrate_models`)."""
    if isinstance(recalibration, str):
        return {"method": method, "fitted_on": "validation", "not_fitted": recalibration}
    return recalibration.summary


def decision_curve_summary(
    y_test: np.ndarray,
    test_prob: dict[str, np.ndarray],
    recalibrations: dict[str, Recalibration | str],
) -> DecisionCurve:
    """Net benefit of the fused and vital-only models over thresholds 1-50%.

    Net benefit reads a probability as a risk, and the class-weighted training inflates the raw
    outputs, so the curve uses the validation-recalibrated probabilities when both models have
    them; the raw curves are kept under ``net_benefit_uncalibrated``.
    """
    compared = (MAIN_MODEL, BASELINE_MODEL)
    recalibrated = all(not isinstance(recalibrations[name], str) for name in compared)
    probabilities = {
        name: recalibrations[name].test_prob if recalibrated else test_prob[name]
        for name in compared
    }
    curve = decision_curve(y_test, probabilities)
    raw = decision_curve(y_test, {name: test_prob[name] for name in compared})
    return {
        **curve,
        "probabilities": (
            f"probabilities recalibrated on the validation split "
            f"({recalibrations[MAIN_MODEL].calibrator.method})"
            if recalibrated
            else "the uncalibrated model outputs (recalibration could not be fitted)"
        ),
        "net_benefit_uncalibrated": {name: raw["net_benefit"][name] for name in compared},
        "useful_thresholds": {
            name: format_threshold_ranges(useful_ranges(curve, name)) for name in compared
        },
        "multimodal_better_thresholds": format_threshold_ranges(
            better_ranges(curve, MAIN_MODEL, BASELINE_MODEL)
        ),
        "vital_only_better_thresholds": format_threshold_ranges(
            better_ranges(curve, BASELINE_MODEL, MAIN_MODEL)
        ),
    }


def describe_data(data: MultimodalData) -> DataSummary:
    """``data``: sample and positive counts per split and the shapes the models saw."""
    train = data.splits["train"]
    return {
        "samples": {name: len(split) for name, split in data.splits.items()},
        "positives": {name: int(split.y.sum()) for name, split in data.splits.items()},
        "timesteps": int(train.X_vital.shape[1]),
        "vital_features": int(train.X_vital.shape[2]),
        "feature_names": list(data.feature_names) if data.feature_names else None,
        "text_dimension": int(train.X_text.shape[1]),
        "has_sample_ids": data.has_ids,
        "samples_without_text": {
            name: int((~split.X_text.any(axis=1)).sum()) for name, split in data.splits.items()
        },
    }


def describe_pairing(meta: dict) -> PairingSummary:
    """How notes were paired with samples, in words and warnings, from the data file's ``meta``.

    The preparation script's warnings (patients in several splits, samples without a note,
    unchecked note timing) reach the results and the report through here, not only stderr; the
    report, the tables and the summary read the pairing from here, not from ``meta``.
    """
    pairing = meta.get("pairing") or {}
    return {
        "method": pairing.get("method"),
        "seed": pairing.get("seed"),
        "clinically_linked": bool(pairing.get("clinically_linked", False)),
        "timing_checked": pairing.get("timing_checked"),
        "description": pairing.get("description") or None,
        "warnings": list(pairing.get("warnings") or []),
        "reused_samples": sum((pairing.get("reused_samples") or {}).values()),
    }


def control_differences(names: list[str]) -> list[tuple[str, str]]:
    """The main seed's paired AUROC differences for the controls: each control against
    vital-only (what it adds to the vitals) and the fused model against each control."""
    controls = [name for name in CONTROL_MODELS if name in names]
    return [(name, BASELINE_MODEL) for name in controls] + [(MAIN_MODEL, name) for name in controls]


def predictions_table(experiment: Experiment, data: MultimodalData) -> pd.DataFrame:
    """One row per test sample: the label and every model's probability (main seed)."""
    test = data.splits["test"]
    columns = {}
    if test.ids is not None:
        columns["sample_id"] = test.ids
    columns["y_true"] = test.y
    for name, model in experiment.models.items():
        columns[f"p_{name}"] = model.test_prob
    return pd.DataFrame(columns)
