"""Turn a trained experiment into ``multimodal_results.json`` and ``test_predictions.csv``.

The reference keys come first, unchanged in meaning: ``model``, ``vital_only_auroc``,
``multimodal_auroc``, ``improvement_percent``, and for the fused model at threshold 0.5
``sensitivity``, ``specificity``, ``f1_score``, ``accuracy``, ``test_samples`` and the confusion
counts. Everything added (the quoted baseline, validation-chosen thresholds, confidence
intervals, the DeLong test, per-seed values, controls) sits under further keys. Every key is
declared, with its meaning, in :mod:`multimodal_deterioration.results_schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import evaluation
from .bootstrap import (
    DEFAULT_BOOTSTRAP_RESAMPLES,
    DEFAULT_BOOTSTRAP_SEED,
    bootstrap_confidence_intervals,
)
from .decision_curve import better_ranges, decision_curve, format_threshold_ranges, useful_ranges
from .errors import PipelineError
from .experiment import BASELINE_MODEL, CONTROL_MODELS, MAIN_MODEL, Experiment
from .linkage import describe_linkage
from .model import build_model, count_parameters
from .multimodal_data import MultimodalData
from .recalibration import (
    DEFAULT_RECALIBRATION_METHOD,
    RECALIBRATION_METHODS,
    Recalibration,
    recalibration_summary,
)
from .results_schema import (
    ControlsNotRun,
    ControlsRun,
    DataSummary,
    DecisionCurve,
    PairingSummary,
    RecalibratedMetrics,
    Results,
    SeedSummary,
)
from .settings import check_settings, setting

REFERENCE_THRESHOLD = 0.5
# A within-class note shuffle keeps only what the notes say about the label as a class. When it
# still holds this share of the fused model's gain, the notes' value is not patient-specific.
LEAK_RETAINED_FRACTION = 0.75
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
        "the smallest AUROC gain (multimodal minus vital-only) that would matter; the verdict "
        "says whether the difference's 95% CI excludes it",
        minimum=0,
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

    mm_auroc = evaluation.auroc(y_test, test_prob[MAIN_MODEL])
    vo_auroc = evaluation.auroc(y_test, test_prob[BASELINE_MODEL])
    at_reference = evaluation.threshold_metrics(y_test, test_prob[MAIN_MODEL], REFERENCE_THRESHOLD)

    results = {
        "model": REFERENCE_MODEL_NAME,
        "vital_only_auroc": vo_auroc,
        "multimodal_auroc": mm_auroc,
        "improvement_percent": improvement_percent(mm_auroc, vo_auroc),
        "sensitivity": at_reference["sensitivity"],
        "specificity": at_reference["specificity"],
        "f1_score": at_reference["f1_score"],
        "accuracy": at_reference["accuracy"],
        "test_samples": int(len(y_test)),
        "true_positives": at_reference["true_positives"],
        "false_positives": at_reference["false_positives"],
        "false_negatives": at_reference["false_negatives"],
        "true_negatives": at_reference["true_negatives"],
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
    results["data"] = describe_data(data)
    results["pairing"] = describe_pairing(data.meta)
    results["metrics"] = {
        name: {
            **evaluation.summary_metrics(y_test, test_prob[name]),
            "at_reference_threshold": evaluation.threshold_metrics(
                y_test, test_prob[name], REFERENCE_THRESHOLD
            ),
            "at_validation_threshold": evaluation.threshold_metrics(
                y_test, test_prob[name], thresholds[name]
            ),
            "recalibrated": recalibrated_summary(recalibrations[name], settings.recalibration),
        }
        for name in models
    }
    results["decision_curve"] = decision_curve_summary(y_test, test_prob, recalibrations)
    groups = data.splits["test"].ids if data.splits["test"].ids is not None else None
    results["confidence_intervals"] = bootstrap_confidence_intervals(
        y_test,
        test_prob,
        thresholds=thresholds,
        n_resamples=settings.bootstrap_resamples,
        seed=settings.bootstrap_seed,
        groups=groups,
        paired_differences=[(MAIN_MODEL, BASELINE_MODEL), *control_differences(list(models))],
        progress=settings.progress,
    )
    results["bootstrap"] = {
        "resamples": settings.bootstrap_resamples,
        "seed": settings.bootstrap_seed,
        "stratified": True,
        "resampled_by": "sample id" if groups is not None else "sample",
        "interval": "95% percentile",
        "thresholds": "each model's validation-chosen threshold for sensitivity and specificity",
    }
    delong = evaluation.delong_test(
        y_test, test_prob[MAIN_MODEL], test_prob[BASELINE_MODEL], groups=groups
    )
    results["statistics"] = {
        "delong_multimodal_vs_vital_only": {
            "auc_difference": delong.auc_difference,
            "z": delong.z,
            "p_value": delong.p_value,
            # "DeLong" on independent samples; clustered by id (Obuchowski 1997) when test ids
            # repeat, since several samples of one patient are not independent evidence.
            "method": delong.method,
            "clusters": delong.clusters,
        }
    }
    difference = results["confidence_intervals"][f"{MAIN_MODEL}_minus_{BASELINE_MODEL}"]
    results["added_value"] = {
        "min_gain_auroc": settings.min_gain,
        **gain_verdict(difference["auroc"], settings.min_gain),
        # Both on the models' raw outputs and on the same paired resamples as the AUROC CIs.
        "delta_brier": {
            "value": results["metrics"][MAIN_MODEL]["brier_score"]
            - results["metrics"][BASELINE_MODEL]["brier_score"],
            "ci": difference["brier"],
            "definition": "Brier(multimodal) - Brier(vital-only); below zero favours multimodal",
        },
        "idi": {
            "value": evaluation.integrated_discrimination_improvement(
                y_test, test_prob[MAIN_MODEL], test_prob[BASELINE_MODEL]
            ),
            "ci": difference["discrimination_slope"],
            "definition": "integrated discrimination improvement (Pencina et al. 2008): the "
            "change in mean predicted probability of positives minus that of negatives",
        },
    }
    results["seeds"] = seed_summary(experiment, y_test)
    results["controls"] = control_summary(results, list(models))
    results["model_parameters"] = {
        name: count_parameters(build_model(model.model_config)) for name, model in models.items()
    }
    results["training"] = {
        name: {
            "best_epoch": model.training.best_epoch,
            "best_val_auroc": model.training.best_val_auroc,
            "epochs_run": len(model.training.history),
            "stopped_early": model.training.stopped_early,
        }
        for name, model in models.items()
        if model.training is not None
    }
    return results


GAIN_VERDICTS = {
    "worse": "the whole interval lies below zero: adding the notes made discrimination worse",
    "meaningful_gain": "the whole interval lies at or above the smallest gain of interest",
    "gain_below_min": "the interval lies above zero but below the smallest gain of interest: a "
    "real gain too small to matter",
    "gain_size_unclear": "the interval lies above zero and includes the smallest gain of "
    "interest: a gain, possibly smaller than one that matters",
    "no_meaningful_gain": "the interval includes zero and lies below the smallest gain of "
    "interest: evidence of no meaningful gain",
    "inconclusive": "the interval includes both zero and the smallest gain of interest: "
    "inconclusive, a larger test split is needed",
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


def gain_verdict(difference_ci: list[float], min_gain: float) -> dict:
    """Read the 95% CI of the AUROC difference (fused minus vital-only) against zero and the
    smallest gain of interest ``min_gain``.

    An interval that includes zero is not evidence of no gain; one that also lies wholly below
    ``min_gain`` is (as in an equivalence test), which gives a null result a student can defend.
    Returns ``{"verdict": key of GAIN_VERDICTS, "statement": its sentence}``.
    """
    low, high = difference_ci
    if high < 0:
        verdict = "worse"
    elif low >= min_gain:
        verdict = "meaningful_gain"
    elif low > 0:
        verdict = "gain_below_min" if high < min_gain else "gain_size_unclear"
    else:
        verdict = "no_meaningful_gain" if high < min_gain else "inconclusive"
    return {"verdict": verdict, "statement": GAIN_VERDICTS[verdict]}


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
    unchecked note timing) reach the results and the report through here, not only stderr.
    """
    pairing = meta.get("pairing") or {}
    return {
        "method": pairing.get("method"),
        "seed": pairing.get("seed"),
        "clinically_linked": bool(pairing.get("clinically_linked", False)),
        "timing_checked": pairing.get("timing_checked"),
        "description": describe_linkage(pairing) or None,
        "warnings": list(pairing.get("warnings") or []),
    }


def control_differences(names: list[str]) -> list[tuple[str, str]]:
    """The paired AUROC differences the controls are read by: each control against vital-only
    (what it adds to the vitals) and the fused model against each control (what it loses)."""
    controls = [name for name in CONTROL_MODELS if name in names]
    return [(name, BASELINE_MODEL) for name in controls] + [(MAIN_MODEL, name) for name in controls]


def control_summary(results: dict, names: list[str]) -> ControlsRun | ControlsNotRun:
    """How much of the fused model's test-AUROC gain over vital-only each control keeps.

    ``retained_fraction`` = (control - vital-only) / (fused - vital-only). It is computed only
    when the fused gain's bootstrap CI lies above zero: a share of a gain indistinguishable from
    noise is itself noise (a control 0.003 above vital-only "kept" most of a +0.003 gain and set
    off the leak flag). Shuffling notes across a split should erase a real gain; a within-class
    shuffle that keeps most of it means the notes carry the label as a class, not the patient: a
    pairing or labelling leak to rule out before believing the gain. Each control also carries
    the CIs of its gain over vital-only and of the fused model's lead over it, so its reading can
    rest on intervals rather than point estimates.
    """
    controls = [name for name in CONTROL_MODELS if name in names]
    if not controls:
        return {"ran": False}
    intervals = results["confidence_intervals"]
    baseline = results["vital_only_auroc"]
    fused = results["multimodal_auroc"]
    gain = fused - baseline
    gain_ci = intervals[f"{MAIN_MODEL}_minus_{BASELINE_MODEL}"]["auroc"]
    gain_established = gain_ci[0] > 0
    summary = {
        "ran": True,
        "fused_gain_auroc": gain,
        "fused_gain_ci": gain_ci,
        "fused_gain_established": gain_established,
        "clinically_linked": bool((results.get("pairing") or {}).get("clinically_linked")),
    }
    for name in controls:
        control_auroc = results["metrics"][name]["auroc"]
        summary[name] = {
            "auroc": control_auroc,
            "gain_vs_vital_only": control_auroc - baseline,
            "gain_vs_vital_only_ci": intervals[f"{name}_minus_{BASELINE_MODEL}"]["auroc"],
            "fused_minus_control": fused - control_auroc,
            "fused_minus_control_ci": intervals[f"{MAIN_MODEL}_minus_{name}"]["auroc"],
            "retained_fraction": (control_auroc - baseline) / gain if gain_established else None,
        }
    within = summary.get("notes_shuffled_within_class", {}).get("retained_fraction")
    summary["label_leak_suspected"] = bool(within is not None and within >= LEAK_RETAINED_FRACTION)
    summary["label_leak_rule"] = (
        "flagged when the fused model's AUROC gain over vital-only has a 95% CI above zero and "
        f"notes shuffled within each class keep >= {LEAK_RETAINED_FRACTION:.0%} of that gain"
    )
    return summary


def seed_summary(experiment: Experiment, y_test: np.ndarray) -> SeedSummary:
    """``seeds``: every model's test AUROC per training seed, with mean and SD over seeds."""
    per_seed = {
        str(seed): {name: evaluation.auroc(y_test, prob) for name, prob in by_model.items()}
        for seed, by_model in experiment.test_prob_by_seed.items()
    }
    names = list(experiment.models)
    values = {
        name: np.array([per_seed[str(seed)][name] for seed in experiment.config.seeds])
        for name in names
    }
    return {
        "main_seed": experiment.config.main_seed,
        "seeds": list(experiment.config.seeds),
        "test_auroc": per_seed,
        "mean_test_auroc": {name: float(v.mean()) for name, v in values.items()},
        # Sample SD across seeds; undefined (None) for a single seed.
        "sd_test_auroc": {
            name: float(v.std(ddof=1)) if len(v) > 1 else None for name, v in values.items()
        },
    }


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
