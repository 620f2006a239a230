"""The sections of ``multimodal_results.json`` read over every training seed: ``comparisons``
(the two-level bootstrap of every pair), ``added_value`` (the verdict on the notes and its
attribution), ``controls`` and ``seeds``. The main seed's per-model sections are built in
:mod:`multimodal_deterioration.evidence.results`.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import PipelineError
from ..contract.multimodal_data import MultimodalData
from ..learning.experiment import (
    BASELINE_MODEL,
    CONTROL_MODELS,
    MAIN_MODEL,
    SHUFFLED_CONTROL,
    Experiment,
)
from . import evaluation
from .comparisons import compare_over_seeds
from .recalibration import recalibration_summary
from .results_schema import ControlsNotRun, ControlsRun, SeedSummary
from .verdict import (
    LEAK_RULE,
    attribute_gain,
    established,
    gain_verdict,
    leak_suspected,
    retained_fraction,
)

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


def seed_aware_comparisons(experiment: Experiment, data: MultimodalData, settings) -> dict:
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
