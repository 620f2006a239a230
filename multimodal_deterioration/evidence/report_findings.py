"""The report's Results section, written from the results: the verdict on the notes, every
model's metrics in tables, calibration, added value beyond AUROC, the decision curve, the spread
over seeds and redrawn splits, and the negative controls. Sentences are chosen by the numbers: an
interval that includes zero is reported as no evidence of a difference, and point estimates
alone are never interpreted.
"""

from __future__ import annotations

from .results import DISPLAY_NAMES
from .results_schema import ControlReading, ControlsRun, PairingSummary, Results, ResultsFile
from .verdict import LEAK_RETAINED_FRACTION
from .wording import interval, number, p_value, pairing_phrase, signed, with_ci

# A spread across seeds is a sample SD, which needs two seeds; with fewer the report says how
# to measure the variation due to initialisation instead of showing a table.
MIN_SEEDS_FOR_SPREAD = 2


def main_finding(results: Results) -> str:
    """The headline: the verdict on the notes read from seed-aware intervals, who gets the
    credit, the comparison with vital-only, and the main seed's conditional DeLong test."""
    added = results["added_value"]
    seeds = results["seeds"]
    n_seeds = added["seeds"]
    models = results["comparisons"]["models"]
    test = results["metrics"]["multimodal"]

    def averaged(name: str) -> str:
        entry = models[name]["auroc"]
        return f"{number(entry['estimate'])} (95% CI {interval(entry['ci'])})"

    over = (
        f"averaged over {n_seeds} training seeds"
        if n_seeds > 1
        else f"with seed {seeds['main_seed']}"
    )
    lines = [
        f"On the test split ({results['test_samples']:,} samples, positive rate "
        f"{number(test['positive_rate'], 3)}), {over}, the multimodal model reached an AUROC of "
        f"{averaged('multimodal')}, the same network trained on shuffled notes "
        f"{averaged('notes_shuffled')} and the vital-only model {averaged('vital_only')}."
    ]
    vitals = added["over_vital_only"]
    shuffled_network = results["comparisons"]["pairs"]["notes_shuffled_minus_vital_only"]["auroc"]
    lines.append(
        f"**Do the notes add value?** The notes' gain (multimodal minus the same network on "
        f"shuffled notes) was {signed(added['gain_auroc'])} (95% CI "
        f"{interval(added['gain_auroc_ci'])}); the multimodal model beat it in "
        f"{added['probability_of_outperforming']:.0%} of seed and test resamples. Against the "
        f"smallest gain of interest of {number(added['min_gain_auroc'], 3)} AUROC "
        f"(`--min-gain`): {added['statement']}."
    )
    lines.append(
        f"Against the vital-only baseline, the comparison the study design asks for, the "
        f"difference was {signed(vitals['gain_auroc'])} (95% CI {interval(vitals['gain_auroc_ci'])}"
        f"; the multimodal model better in {vitals['probability_of_outperforming']:.0%}): "
        f"{vitals['statement']}. Part of it can come from the network rather than the notes: "
        f"the same network on shuffled notes differed from vital-only by "
        f"{signed(shuffled_network['estimate'])} (95% CI {interval(shuffled_network['ci'])})."
    )
    lines.append(added["attribution_statement"])
    if not added["includes_training_randomness"]:
        lines.append(
            "With a single training seed these intervals reflect test sampling only and ignore "
            "training randomness, which moves a test AUROC by about as much as the gains at "
            "stake; run with several seeds (the default) before quoting a verdict."
        )
    lines.append(main_seed_sentence(results))
    quoted = results["reported_baseline_auroc"]
    lines.append(
        f"The vital-only AUROC of {number(quoted)} quoted from earlier work was not re-measured "
        f"here; relative to it the main seed's multimodal AUROC differs by "
        f"{signed(results['improvement_vs_reported_percent'], 2)}%, a comparison across different "
        "runs (and possibly different data) that should not be read as an effect of the notes."
    )
    return " ".join(lines)


def main_seed_sentence(results: Results) -> str:
    """The main seed's fitted models compared by DeLong and the row bootstrap, labelled as
    conditional on those fits, so it cannot be mistaken for the verdict."""
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    difference_ci = results["confidence_intervals"]["multimodal_minus_vital_only"]["auroc"]
    return (
        f"Conditional on the main seed's ({results['seeds']['main_seed']}) two fitted networks, "
        f"which it treats as fixed (training randomness and the shuffled-notes comparator left "
        f"out, so it can disagree with the verdict above): multimodal "
        f"{with_ci(results, 'multimodal', 'auroc')} against vital-only "
        f"{with_ci(results, 'vital_only', 'auroc')}, a difference of "
        f"{signed(delong['auc_difference'])} (95% CI {interval(difference_ci)}, test rows only; "
        f"DeLong z = {delong['z']:.2f}, {p_value(delong['p_value'])})."
    )


def results_table(results: Results) -> str:
    """Markdown table of every model's test metrics, thresholded ones at its validation
    threshold."""
    ci = results["confidence_intervals"]
    header = (
        "| Model | AUROC (95% CI) | AUPRC (95% CI) | Sensitivity (95% CI) | Specificity (95% CI) "
        "| PPV | NPV | Brier | ECE |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for name, metrics in results["metrics"].items():
        chosen = metrics["at_validation_threshold"]
        rows.append(
            f"| {DISPLAY_NAMES[name]} | {with_ci(results, name, 'auroc')} | {with_ci(results, name, 'auprc')} "
            f"| {number(chosen['sensitivity'], 3)} ({interval(ci[name]['sensitivity'], 3)}) "
            f"| {number(chosen['specificity'], 3)} ({interval(ci[name]['specificity'], 3)}) "
            f"| {number(chosen['ppv'], 3)} | {number(chosen['npv'], 3)} "
            f"| {number(metrics['brier_score'], 3)} | {number(metrics['expected_calibration_error'], 3)} |"
        )
    return "\n".join([header, *rows])


def reference_threshold_table(results: Results) -> str:
    """Markdown table of every model's test metrics and confusion counts at the reference
    threshold."""
    header = "| Model | Sensitivity | Specificity | F1 | Accuracy | TP | FP | FN | TN |\n|---|---|---|---|---|---|---|---|---|"
    rows = []
    for name, metrics in results["metrics"].items():
        m = metrics["at_reference_threshold"]
        rows.append(
            f"| {DISPLAY_NAMES[name]} | {number(m['sensitivity'], 3)} | {number(m['specificity'], 3)} "
            f"| {number(m['f1_score'], 3)} | {number(m['accuracy'], 3)} | {m['true_positives']} "
            f"| {m['false_positives']} | {m['false_negatives']} | {m['true_negatives']} |"
        )
    return "\n".join([header, *rows])


def calibration_table(results: Results) -> str:
    """Markdown table: each model's test Brier score and ECE before and after recalibration."""
    header = (
        "| Model | Brier | Brier, recalibrated | ECE | ECE, recalibrated |\n|---|---|---|---|---|"
    )
    rows = []
    for name, metrics in results["metrics"].items():
        recalibrated = metrics["recalibrated"]
        after = recalibrated.get("test")
        rows.append(
            f"| {DISPLAY_NAMES[name]} | {number(metrics['brier_score'], 3)} "
            f"| {number(after['brier_after'], 3) if after else 'not fitted'} "
            f"| {number(metrics['expected_calibration_error'], 3)} "
            f"| {number(after['ece_after'], 3) if after else 'not fitted'} |"
        )
    return "\n".join([header, *rows])


def added_value_paragraph(results: Results) -> str:
    """ΔBrier and IDI on recalibrated probabilities, against vital-only and against the
    shuffled-notes network, with the raw-output values as a secondary line."""
    added = results["added_value"]
    brier, idi = added["delta_brier"], added["idi"]
    over_seeds = "averaged over seeds, " if added["seeds"] > 1 else ""
    lines = [
        f"On {brier['probabilities']}, {over_seeds}the change in Brier score (multimodal minus "
        f"vital-only; below zero favours the multimodal model) was {signed(brier['value'])} "
        f"(95% CI {interval(brier['ci'])}) and the integrated discrimination improvement (IDI; "
        f"Pencina et al. 2008) {signed(idi['value'])} (95% CI {interval(idi['ci'])})."
    ]
    notes = results["comparisons"]["pairs"]["multimodal_minus_notes_shuffled"]
    suffix = "_recalibrated" if "brier_recalibrated" in notes else ""
    lines.append(
        f"Against the same network trained on shuffled notes: ΔBrier "
        f"{signed(notes['brier' + suffix]['estimate'])} (95% CI "
        f"{interval(notes['brier' + suffix]['ci'])}), IDI "
        f"{signed(notes['idi' + suffix]['estimate'])} (95% CI "
        f"{interval(notes['idi' + suffix]['ci'])})."
    )
    raw_brier, raw_idi = added["delta_brier_raw"], added["idi_raw"]
    lines.append(
        "Secondary, on the raw outputs of the class-weighted networks (miscalibrated by design, "
        f"so not to be read as added value): ΔBrier {signed(raw_brier['value'])} (95% CI "
        f"{interval(raw_brier['ci'])}), IDI {signed(raw_idi['value'])} (95% CI "
        f"{interval(raw_idi['ci'])}) against vital-only."
    )
    return " ".join(lines)


def decision_curve_paragraph(results: Results) -> str:
    """Where on the threshold scale each model beats the default strategies and the other."""
    curve = results["decision_curve"]
    useful = curve["useful_thresholds"]
    return (
        f"Using {curve['probabilities']}, the multimodal model had a higher net "
        f"benefit than treating all or no patients at threshold probabilities of "
        f"{useful['multimodal']}, and the vital-only model at {useful['vital_only']}. The "
        f"multimodal model's net benefit exceeded the vital-only model's at "
        f"{curve['multimodal_better_thresholds']} and fell below it at "
        f"{curve['vital_only_better_thresholds']}. These are point estimates on the test split, "
        "without confidence bands; a threshold range matters only where it holds the thresholds "
        "at which clinicians would act."
    )


def seeds_section(results: Results) -> str:
    """Test AUROC per seed with mean and SD, or how to measure it when one seed was run."""
    seeds = results["seeds"]
    if len(seeds["seeds"]) < MIN_SEEDS_FOR_SPREAD:
        return (
            "Only one seed was run, so the variation due to initialisation is unknown and the "
            "intervals above ignore it; run with the default five seeds (`--seeds 42 43 44 45 "
            "46`) to include it."
        )
    header = (
        "| Model | "
        + " | ".join(f"seed {s}" for s in seeds["seeds"])
        + " | mean ± SD |\n|---|"
        + "---|" * (len(seeds["seeds"]) + 1)
    )

    def cell(seed: int, name: str) -> str:
        value = seeds["test_auroc"][str(seed)].get(name)
        return "–" if value is None else number(value)

    def spread(name: str) -> str:
        sd = seeds["sd_test_auroc"][name]
        mean = number(seeds["mean_test_auroc"][name])
        return f"{mean} ± {number(sd)}" if sd is not None else f"{mean} (main seed only)"

    rows = [
        f"| {DISPLAY_NAMES[name]} | "
        + " | ".join(cell(s, name) for s in seeds["seeds"])
        + f" | {spread(name)} |"
        for name in seeds["mean_test_auroc"]
    ]
    return "Test AUROC per seed:\n\n" + "\n".join([header, *rows])


def resplits_section(results: ResultsFile) -> str:
    """The spread over redrawn splits, kept apart from the fixed-split result above it."""
    spread = results.get("resplits")
    if spread is None:
        return (
            "The models were trained on one fixed split; run with `--resplits 5` to see how much "
            "the difference depends on which samples fell in the test split."
        )
    rows = [
        f"| {entry['split']} | {entry['test_samples']:,} | {number(entry['multimodal_auroc'])} "
        f"| {number(entry['vital_only_auroc'])} | {signed(entry['difference'])} |"
        for entry in spread["per_split"]
    ]
    mean, sd = spread["mean"], spread["sd"]
    low, high = spread["difference_range"]
    reused = sum(entry.get("notes_in_several_splits") or 0 for entry in spread["per_split"])
    lines = [
        f"{spread['note']} Each redraw reuses training seed {spread['training_seed']}, so the "
        "spread is that of the split, not of the initialisation.",
        "",
        "| Redraw | Test samples | Multimodal AUROC | Vital-only AUROC | Difference |\n|---|---|---|---|---|",
        *rows,
        f"| mean ± SD | | {number(mean['multimodal'])} ± {number(sd['multimodal'])} "
        f"| {number(mean['vital_only'])} ± {number(sd['vital_only'])} "
        f"| {signed(mean['difference'])} ± {number(sd['difference'])} |",
        "",
        f"The multimodal model was better on {spread['splits_multimodal_better']} of "
        f"{spread['k']} redraws; the difference ranged from {signed(low)} to {signed(high)}.",
    ]
    if reused:
        lines.append(
            f"In the redraws, {reused:,} note(s) in total were shared by samples that fell in "
            "different splits (notes reused across samples); pairing never sees the labels, "
            "but the same text then appears in training and test."
        )
    return "\n".join(lines)


def controls_section(results: Results) -> str:
    """Table of the negative controls with their seed-aware CIs and their reading."""
    controls = results["controls"]
    if not controls.get("ran"):
        return (
            "Besides the shuffled-notes network that the verdict reads, the negative controls "
            "were not run (`--ablations off`, or `auto` on a large run); run with `--ablations "
            "on` to test whether a notes gain is patient-specific or a leak."
        )
    lines = [
        "Each control's AUROC (averaged over the seeds it was trained with), its gain over "
        "vital-only and the fused model's lead over it, with 95% CIs over seeds and test rows "
        "(text-only: the main seed's test rows only), and the share of the notes' gain that the "
        "within-class shuffle keeps (computed only when the notes' gain is established):",
        "",
        "| Control | Seeds | AUROC | Gain vs vital-only (95% CI) | Fused minus control (95% CI) | Share of the notes' gain kept |\n|---|---|---|---|---|---|",
    ]
    for name in CONTROL_ORDER:
        entry = controls.get(name)
        if entry is None:
            continue
        lines.append(
            f"| {DISPLAY_NAMES[name]} | {entry['seeds']} | {number(entry['auroc'])} "
            f"| {signed(entry['gain_vs_vital_only'])} ({interval(entry['gain_vs_vital_only_ci'])}) "
            f"| {signed(entry['fused_minus_control'])} ({interval(entry['fused_minus_control_ci'])}) "
            f"| {share_of_gain(entry['retained_fraction'])} |"
        )
    lines.append("")
    lines.append(controls_interpretation(controls, results["pairing"]))
    return "\n".join(lines)


CONTROL_ORDER = (
    "notes_shuffled",
    "notes_shuffled_within_class",
    "text_only",
    "notes_zeroed_at_test",
)


def share_of_gain(fraction: float | None) -> str:
    """A control that scores below the shuffled-notes network keeps none of the gain, not a
    negative share."""
    if fraction is None:
        return "n/a"
    return "none" if fraction <= 0 else f"{fraction:.0%}"


def controls_interpretation(controls: ControlsRun, pairing: PairingSummary) -> str:
    """What the controls say, read from seed-aware confidence intervals and the pairing method.

    ``pairing`` is ``results["pairing"]``. Point estimates alone are never interpreted, and the
    leak test is made only on an established notes gain.
    """
    notes = f"{signed(controls['notes_gain_auroc'])} (95% CI {interval(controls['notes_gain_ci'])})"
    caveat = (
        "A within-class shuffle keeps any class-level signal, genuine or leaked, and at test time "
        "assigns notes by the true label; it can expose a leak but cannot prove its absence."
    )
    if pairing.get("method") in ("random", "sequential"):
        return (
            f"Notes were paired {pairing_phrase(pairing)}, not by patient, so each note describes "
            "someone other than the patient whose vitals it is paired with: the controls cannot "
            f"speak to clinical information. The notes' gain, {notes}, can only come from the "
            "notes' general content or chance; link notes to samples by id to ask the clinical "
            "question."
        )
    if not controls["notes_gain_established"]:
        return (
            f"The notes' gain over the same network on shuffled notes, {notes}, is not "
            "distinguishable from zero, so there is no notes gain for the controls to explain: "
            "no share of it is computed and no leak test is made; the controls are listed for "
            "completeness."
        )
    within = controls["notes_shuffled_within_class"]
    sentences = [f"The notes' gain over the same network on shuffled notes is {notes}."]
    if controls["label_leak_suspected"]:
        sentences.append(
            f"**Warning: shuffling the notes within each class keeps "
            f"{share_of_gain(within['retained_fraction'])} of that gain (at least "
            f"{LEAK_RETAINED_FRACTION:.0%}; fused minus this control "
            f"{signed(within['fused_minus_control'])}, 95% CI "
            f"{interval(within['fused_minus_control_ci'])}).** The notes' value is class-level, "
            "not patient-specific: they may be standing in for the label (a pairing or labelling "
            "leak, e.g. notes chosen by outcome or written after it). Rule this out before "
            "reporting the gain."
        )
    else:
        sentences.append(
            lead_sentence(
                within,
                "Shuffling the notes within each class",
                "so part of the gain is patient-specific, beyond what the notes say about the "
                "class as a whole",
                "the gain cannot be told apart from what the notes say about the class as a "
                "whole; read it with care",
            )
        )
    sentences.append(caveat)
    return " ".join(sentences)


def lead_sentence(control: ControlReading, action: str, if_lower: str, if_not: str) -> str:
    """One control read by the CI of the fused model's AUROC minus the control's."""
    lead_ci = control["fused_minus_control_ci"]
    kept = f"; it keeps {share_of_gain(control['retained_fraction'])} of the notes' gain"
    if lead_ci[0] > 0:
        return (
            f"{action} lowers the AUROC by {number(control['fused_minus_control'])} (95% CI "
            f"{interval(lead_ci)}){kept}, {if_lower}."
        )
    return (
        f"{action} does not measurably lower the AUROC (fused minus control "
        f"{signed(control['fused_minus_control'])}, 95% CI {interval(lead_ci)}){kept}: {if_not}."
    )
