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
from ..learning.experiment import (
    BASELINE_MODEL,
    CONTROL_MODELS,
    MAIN_MODEL,
    SHUFFLED_CONTROL,
    Experiment,
)
from ..learning.model import build_model, count_parameters, describe_architecture
from ..preparation.linkage import describe_linkage
from . import evaluation
from .bootstrap import (
    DEFAULT_BOOTSTRAP_RESAMPLES,
    DEFAULT_BOOTSTRAP_SEED,
    bootstrap_confidence_intervals,
)
from .comparisons import compare_over_seeds
from .decision_curve import better_ranges, decision_curve, format_threshold_ranges, useful_ranges
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
from .verdict import (
    LEAK_RULE,
    attribute_gain,
    established,
    gain_verdict,
    leak_suspected,
    retained_fraction,
)

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
    comparisons = seed_aware_comparisons(experiment, data, settings)
    results["comparisons"] = comparisons
    results["added_value"] = added_value(comparisons, settings.min_gain)
    results["seeds"] = seed_summary(experiment, y_test, comparisons)
    results["controls"] = control_summary(results, list(models))
    results["model_parameters"] = {
        name: count_parameters(build_model(model.model_config)) for name, model in models.items()
    }
    results["architecture"] = {
        name: describe_architecture(model.model_config) for name, model in models.items()
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
    """The main seed's paired AUROC differences for the controls: each control against
    vital-only (what it adds to the vitals) and the fused model against each control."""
    controls = [name for name in CONTROL_MODELS if name in names]
    return [(name, BASELINE_MODEL) for name in controls] + [(MAIN_MODEL, name) for name in controls]


# The two comparisons the verdict reads, each with Brier and IDI beside AUROC.
HEADLINE_PAIRS = ((MAIN_MODEL, SHUFFLED_CONTROL), (MAIN_MODEL, BASELINE_MODEL))
# Headline metric names in the comparisons, by their name in compare_over_seeds.
PROBABILITY_METRICS = {"brier": "brier", "discrimination_slope": "idi"}


def comparison_pairs(names: list[str]) -> list[tuple[str, str]]:
    """Every seed-aware comparison: the headline two, what the network gains on shuffled notes
    over vital-only, and each further control against the fused model, vital-only and (for the
    within-class shuffle, which the leak rule reads) the shuffled-notes control."""
    pairs = [*HEADLINE_PAIRS, (SHUFFLED_CONTROL, BASELINE_MODEL)]
    for name in CONTROL_MODELS:
        if name in names and name != SHUFFLED_CONTROL:
            pairs += [(MAIN_MODEL, name), (name, BASELINE_MODEL)]
    if "notes_shuffled_within_class" in names:
        pairs.append(("notes_shuffled_within_class", SHUFFLED_CONTROL))
    return pairs


def recalibrated_by_seed(
    experiment: Experiment, data: MultimodalData, method: str, names: tuple[str, ...]
) -> tuple[dict[str, dict[int, np.ndarray]], list[str]]:
    """Test probabilities of ``names`` for every seed, each recalibrated on its own validation
    predictions; and the reasons for any calibrator that could not be fitted."""
    y_val, y_test = data.splits["val"].y, data.splits["test"].y
    recalibrated: dict[str, dict[int, np.ndarray]] = {}
    failures = []
    for name in names:
        recalibrated[name] = {}
        for seed, model in experiment.by_seed(name).items():
            try:
                recalibrated[name][seed] = recalibration_summary(
                    y_val, model.val_prob, y_test, model.test_prob, method
                ).test_prob
            except PipelineError as error:
                failures.append(f"{name} (seed {seed}): {error}")
    return recalibrated, failures


def seed_aware_comparisons(
    experiment: Experiment, data: MultimodalData, settings: EvaluationSettings
) -> dict:
    """``comparisons``: every pair of :func:`comparison_pairs` by the two-level bootstrap of
    :func:`~multimodal_deterioration.evidence.comparisons.compare_over_seeds` (seeds, then test rows);
    the headline pairs also with ΔBrier and IDI on raw and on validation-recalibrated
    probabilities, and with their ``--min-gain`` verdict."""
    test = data.splits["test"]
    names = list(experiment.models)
    resampling = {
        "n_resamples": settings.bootstrap_resamples,
        "seed": settings.bootstrap_seed,
        "groups": test.ids,
    }
    raw = {
        name: {seed: model.test_prob for seed, model in experiment.by_seed(name).items()}
        for name in names
    }
    comparisons = compare_over_seeds(test.y, raw, comparison_pairs(names), **resampling)
    headline_models = tuple(dict.fromkeys(name for pair in HEADLINE_PAIRS for name in pair))
    recalibrated, failures = recalibrated_by_seed(
        experiment, data, settings.recalibration, headline_models
    )
    probability_sets = {"": raw}
    if not failures:
        probability_sets["_recalibrated"] = recalibrated
    for suffix, predictions in probability_sets.items():
        extra = compare_over_seeds(
            test.y,
            predictions,
            HEADLINE_PAIRS,
            metrics=tuple(PROBABILITY_METRICS),
            **resampling,
        )
        for a, b in HEADLINE_PAIRS:
            key = f"{a}_minus_{b}"
            for metric, label in PROBABILITY_METRICS.items():
                comparisons["pairs"][key][label + suffix] = extra["pairs"][key][metric]
    comparisons["method"] = (
        "two-level paired bootstrap: each resample draws the seeds with replacement, then the "
        f"test rows (stratified by label, by {'sample id' if test.ids is not None else 'sample'}"
        "), the same rows for every model and seed; the estimate is the mean over seeds of the "
        "per-seed difference on the whole test split; 95% percentile intervals"
    )
    for a, b in HEADLINE_PAIRS:
        entry = comparisons["pairs"][f"{a}_minus_{b}"]
        entry.update(gain_verdict(entry["auroc"]["ci"], settings.min_gain))
        entry["recalibration"] = (
            f"each seed's model recalibrated on its validation predictions ({settings.recalibration})"
            if not failures
            else "not fitted: " + "; ".join(failures)
        )
    return comparisons


def added_value(comparisons: dict, min_gain: float) -> dict:
    """``added_value``: the verdict on the notes (fused minus the same network on shuffled
    notes), its attribution, the comparison with vital-only, and ΔBrier and IDI against
    vital-only on recalibrated probabilities (the raw ones kept as secondary lines)."""
    notes = comparisons["pairs"][f"{MAIN_MODEL}_minus_{SHUFFLED_CONTROL}"]
    vitals = comparisons["pairs"][f"{MAIN_MODEL}_minus_{BASELINE_MODEL}"]
    n_seeds = len(notes["seeds"])
    attribution = attribute_gain(notes["auroc"]["ci"], vitals["auroc"]["ci"])
    recalibrated = "brier_recalibrated" in vitals
    suffix = "_recalibrated" if recalibrated else ""
    probabilities = (
        "probabilities recalibrated on the validation split (each seed's model on its own)"
        if recalibrated
        else "the raw model outputs (a calibrator could not be fitted: see comparisons)"
    )

    def seed_averaged(entry: dict) -> dict:
        return {
            "value": entry["estimate"],
            "ci": entry["ci"],
            "sd_over_seeds": entry["sd_over_seeds"],
        }

    brier_definition = "Brier(multimodal) - Brier(vital-only); below zero favours multimodal"
    idi_definition = (
        "integrated discrimination improvement (Pencina et al. 2008): the change in mean "
        "predicted probability of positives minus that of negatives"
    )
    return {
        "min_gain_auroc": min_gain,
        "compared_with": SHUFFLED_CONTROL,
        "verdict": notes["verdict"],
        "statement": notes["statement"],
        "gain_auroc": notes["auroc"]["estimate"],
        "gain_auroc_ci": notes["auroc"]["ci"],
        "probability_of_outperforming": notes["auroc"]["probability_of_outperforming"],
        "attribution": attribution["attribution"],
        "attribution_statement": attribution["statement"],
        "over_vital_only": {
            "verdict": vitals["verdict"],
            "statement": vitals["statement"],
            "gain_auroc": vitals["auroc"]["estimate"],
            "gain_auroc_ci": vitals["auroc"]["ci"],
            "probability_of_outperforming": vitals["auroc"]["probability_of_outperforming"],
        },
        "seeds": n_seeds,
        "includes_training_randomness": n_seeds > 1,
        "delta_brier": {
            **seed_averaged(vitals["brier" + suffix]),
            "probabilities": probabilities,
            "definition": brier_definition,
        },
        "idi": {
            **seed_averaged(vitals["idi" + suffix]),
            "probabilities": probabilities,
            "definition": idi_definition,
        },
        "delta_brier_raw": {**seed_averaged(vitals["brier"]), "definition": brier_definition},
        "idi_raw": {**seed_averaged(vitals["idi"]), "definition": idi_definition},
    }


def control_summary(results: dict, names: list[str]) -> ControlsRun | ControlsNotRun:
    """What the controls say, read from the seed-aware comparisons.

    Each control carries its seed-averaged AUROC, its gain over vital-only and the fused model's
    lead over it, with two-level CIs. ``retained_fraction`` is the share of the notes' gain
    (fused minus shuffled notes) that the within-class shuffle keeps, computed only when that
    gain is established: a share of a gain indistinguishable from noise is itself noise. A
    within-class shuffle that keeps most of it means the notes carry the label as a class, not
    the patient: a pairing or labelling leak to rule out before believing the gain.
    """
    controls = [name for name in CONTROL_MODELS if name in names and name != SHUFFLED_CONTROL]
    if not controls:
        return {"ran": False}
    comparisons = results["comparisons"]
    pairs = comparisons["pairs"]
    notes = pairs[f"{MAIN_MODEL}_minus_{SHUFFLED_CONTROL}"]["auroc"]
    vitals = pairs[f"{MAIN_MODEL}_minus_{BASELINE_MODEL}"]["auroc"]
    notes_established = established(notes["ci"])
    summary = {
        "ran": True,
        "fused_gain_auroc": vitals["estimate"],
        "fused_gain_ci": vitals["ci"],
        "fused_gain_established": established(vitals["ci"]),
        "notes_gain_auroc": notes["estimate"],
        "notes_gain_ci": notes["ci"],
        "notes_gain_established": notes_established,
        "clinically_linked": bool((results.get("pairing") or {}).get("clinically_linked")),
    }
    for name in (SHUFFLED_CONTROL, *controls):
        over_vitals = pairs[f"{name}_minus_{BASELINE_MODEL}"]
        lead = pairs[f"{MAIN_MODEL}_minus_{name}"]
        summary[name] = {
            "auroc": comparisons["models"][name]["auroc"]["estimate"],
            "seeds": len(over_vitals["seeds"]),
            "gain_vs_vital_only": over_vitals["auroc"]["estimate"],
            "gain_vs_vital_only_ci": over_vitals["auroc"]["ci"],
            "fused_minus_control": lead["auroc"]["estimate"],
            "fused_minus_control_ci": lead["auroc"]["ci"],
            "retained_fraction": None,
        }
    within = summary.get("notes_shuffled_within_class")
    if within is not None and notes_established:
        kept = pairs[f"notes_shuffled_within_class_minus_{SHUFFLED_CONTROL}"]["auroc"]
        within["retained_fraction"] = retained_fraction(kept["estimate"], notes["estimate"])
    summary["label_leak_suspected"] = bool(
        within is not None and leak_suspected(notes["ci"], within["retained_fraction"])
    )
    summary["label_leak_rule"] = LEAK_RULE
    return summary


def seed_summary(experiment: Experiment, y_test: np.ndarray, comparisons: dict) -> SeedSummary:
    """``seeds``: every model's test AUROC per training seed, with mean and SD over the seeds
    it was trained with, and the two-level CI of the seed-averaged AUROC."""
    per_seed = {
        str(seed): {name: evaluation.auroc(y_test, model.test_prob) for name, model in run.items()}
        for seed, run in experiment.runs.items()
    }
    names = list(experiment.models)
    values = {
        name: np.array([per_seed[str(seed)][name] for seed in experiment.by_seed(name)])
        for name in names
    }
    return {
        "main_seed": experiment.config.main_seed,
        "seeds": list(experiment.config.seeds),
        "trained_seeds": {name: list(experiment.by_seed(name)) for name in names},
        "test_auroc": per_seed,
        "mean_test_auroc": {name: float(v.mean()) for name, v in values.items()},
        # Sample SD across seeds; undefined (None) for a model trained with one seed.
        "sd_test_auroc": {
            name: float(v.std(ddof=1)) if len(v) > 1 else None for name, v in values.items()
        },
        "mean_test_auroc_ci": {
            name: comparisons["models"][name]["auroc"]["ci"]
            for name in names
            if name in comparisons["models"]
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
