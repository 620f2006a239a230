"""Present a finished run: the figures and ``multimodal_report.md``, both from the results dict.

Every number in the report is formatted from ``multimodal_results.json`` by the helpers below,
so the report and the JSON cannot disagree. Sentences are chosen by the numbers (a confidence
interval that includes zero is reported as no evidence of a difference), and the limitations
follow from the run's own facts: how notes were paired, how high the quoted baseline is, whether
the data were synthetic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..base.artifacts import save_text
from ..preparation.linkage import describe_linkage
from . import plots
from .results import DISPLAY_NAMES
from .results_schema import (
    ControlReading,
    ControlsRun,
    DataSummary,
    PairingSummary,
    Results,
    ResultsFile,
)
from .verdict import LEAK_RETAINED_FRACTION

# The quoted baseline above which "little room to improve" is stated as a limitation.
CEILING_AUROC = 0.99
# p-values are shown to three decimals, as clinical journals usually ask; a smaller p would print
# as 0.000, so it is stated as lying below this floor instead.
P_VALUE_FLOOR = 0.001
# A spread across seeds is a sample SD, which needs two seeds; with fewer the report says how
# to measure the variation due to initialisation instead of showing a table.
MIN_SEEDS_FOR_SPREAD = 2
# The reliability diagram shows the two models being compared; six overlapping curves are unreadable.
RELIABILITY_MODELS = ("multimodal", "vital_only")
FIGURE_STEMS = {
    "roc": "multimodal_roc_curves",
    "pr": "multimodal_pr_curves",
    "reliability": "multimodal_reliability_diagram",
    "reliability_recalibrated": "multimodal_reliability_recalibrated",
    "decision_curve": "multimodal_decision_curve",
    "curves": "multimodal_training_curves",
}
FIGURE_CAPTIONS = {
    "roc": "ROC curves of every model on the test split; the legend gives each AUROC with its 95% bootstrap CI.",
    "pr": "Precision-recall curves on the test split; the dashed line is the positive rate (a random model's precision).",
    "reliability": "Reliability diagram (10 equal-width bins) of the multimodal and vital-only models on the test split, with the samples per bin below.",
    "reliability_recalibrated": "Reliability diagram of the same two models after recalibration fitted on the validation split (method in the JSON), on the test split.",
    "decision_curve": "Decision curve on the test split: net benefit of the multimodal and vital-only models (recalibrated probabilities) against treating all or no patients, over threshold probabilities of 1-50%.",
    "curves": "Training loss, validation loss and validation AUROC per epoch, one line per trained model; stars mark the epoch each model was selected at, the dashed line the quoted (not re-measured) baseline.",
}


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` decimals; "n/a" for None (undefined in the results)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval(bounds: Sequence[float] | None, digits: int = 4) -> str:
    """A ``[low, high]`` interval as "low to high"; "n/a" for None."""
    return "n/a" if bounds is None else f"{bounds[0]:.{digits}f} to {bounds[1]:.{digits}f}"


def signed(value: float, digits: int = 4) -> str:
    """``value`` with its sign always shown, for differences (e.g. "+0.0120")."""
    return f"{value:+.{digits}f}"


def p_value(p: float) -> str:
    """ "p = 0.123", or "p < 0.001" below :data:`P_VALUE_FLOOR`."""
    return f"p < {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else f"p = {p:.3f}"


def with_ci(results: Results, model: str, metric: str) -> str:
    """A model's test metric with its bootstrap 95% CI, e.g. "0.8120 (0.7710 to 0.8500)"."""
    value = results["metrics"][model][metric]
    return f"{number(value)} ({interval(results['confidence_intervals'][model][metric])})"


def legend_label(results: Results, model: str, metric: str) -> str:
    """A figure legend entry: the model's display name, AUROC or AUPRC and its CI, 3 decimals."""
    name = "AUROC" if metric == "auroc" else "AUPRC"
    low, high = results["confidence_intervals"][model][metric]
    return f"{DISPLAY_NAMES[model]}: {name} {results['metrics'][model][metric]:.3f} [{low:.3f}, {high:.3f}]"


# --------------------------------------------------------------------------- figures


def write_figures(
    results: Results,
    y_test: np.ndarray,
    test_probabilities: Mapping[str, np.ndarray],
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    best_epochs: Mapping[str, int],
    out_dir: str | os.PathLike,
    recalibrated_probabilities: Mapping[str, np.ndarray] | None = None,
) -> dict[str, list[Path]]:
    """Every figure of the run, PNG + PDF each; returns {figure key: paths}.

    ``recalibrated_probabilities``: test probabilities after the validation-fitted calibrator,
    for the recalibrated reliability diagram (left out when a model has none).
    """
    out_dir = Path(out_dir)
    models = list(test_probabilities)
    figures = {
        "roc": plots.plot_roc_curves(
            y_test,
            {legend_label(results, m, "auroc"): test_probabilities[m] for m in models},
            out_dir / FIGURE_STEMS["roc"],
        ),
        "pr": plots.plot_pr_curves(
            y_test,
            {legend_label(results, m, "auprc"): test_probabilities[m] for m in models},
            out_dir / FIGURE_STEMS["pr"],
        ),
        "reliability": plots.plot_reliability_diagram(
            y_test,
            {
                f"{DISPLAY_NAMES[m]} (ECE {results['metrics'][m]['expected_calibration_error']:.3f})": test_probabilities[
                    m
                ]
                for m in RELIABILITY_MODELS
            },
            out_dir / FIGURE_STEMS["reliability"],
        ),
        "curves": plots.plot_training_curves(
            {DISPLAY_NAMES[m]: records for m, records in histories.items()},
            out_dir / FIGURE_STEMS["curves"],
            results["reported_baseline_auroc"],
            {DISPLAY_NAMES[m]: epoch for m, epoch in best_epochs.items()},
        ),
    }
    recalibrated = recalibrated_probabilities or {}
    if all(m in recalibrated for m in RELIABILITY_MODELS):
        figures["reliability_recalibrated"] = plots.plot_reliability_diagram(
            y_test,
            {
                f"{DISPLAY_NAMES[m]} (ECE {results['metrics'][m]['recalibrated']['test']['ece_after']:.3f})": recalibrated[
                    m
                ]
                for m in RELIABILITY_MODELS
            },
            out_dir / FIGURE_STEMS["reliability_recalibrated"],
            title="Reliability diagram after recalibration, test split",
        )
    curve = results["decision_curve"]
    figures["decision_curve"] = plots.plot_decision_curve(
        curve["thresholds"],
        {DISPLAY_NAMES[m]: curve["net_benefit"][m] for m in RELIABILITY_MODELS},
        out_dir / FIGURE_STEMS["decision_curve"],
        curve["net_benefit"]["treat_all"],
    )
    return figures


# --------------------------------------------------------------------------- report text


def methods_paragraph(results: ResultsFile) -> str:
    """The Methods section: data, notes and pairing, models, training, evaluation, in prose."""
    data, meta, config = results["data"], results.get("meta") or {}, results["run"]["config"]
    samples = data["samples"]
    features = (
        ", ".join(data["feature_names"])
        if data["feature_names"]
        else f"{data['vital_features']} features"
    )
    embedding = meta.get("embedding_model") or {}
    pairing = meta.get("pairing") or {}
    notes = meta.get("notes") or {}
    seeds = config["seeds"]
    parts = [
        f"Vital-sign sequences of {data['timesteps']} time steps ({features}) were split into "
        f"{samples['train']:,} training, {samples['val']:,} validation and {samples['test']:,} "
        f"test samples (positive rate {rate(data, 'train')}, {rate(data, 'val')} and "
        f"{rate(data, 'test')}).",
        (
            "Vitals were standardised with the training split's per-feature mean and standard deviation."
            if config["standardize"]
            else "Vitals were used without standardisation."
        ),
        notes_sentence(notes, embedding, meta.get("text_strategy"), pairing, data),
        truncation_sentence(meta.get("embedding_truncation")),
        f"The multimodal model (MultiModalLSTM, {results['model_parameters']['multimodal']:,} "
        "trainable parameters) encodes the vitals with a two-layer LSTM (hidden size 128), takes "
        "the last time step through dense layers 128-64-32, projects the note embedding through "
        f"{data['text_dimension']}-64-32, and classifies the concatenation through 64-32-16-1, "
        f"with ReLU and dropout {config['dropout']} after each hidden layer and between the LSTM "
        "layers. The vital-only baseline "
        f"({results['model_parameters']['vital_only']:,} parameters) uses the same vital pathway "
        "with a 32-16-1 head and was trained in the same run, on the same split, with the same "
        "procedure and seed.",
        f"Both were trained with binary cross-entropy weighted by the training split's "
        f"negative-to-positive ratio, Adam (learning rate {config['learning_rate']:g}), batch size "
        f"{config['batch_size']} and gradient-norm clipping at {config['grad_clip']:g}, for at most "
        f"{config['epochs']} epochs, stopping after {config['patience']} epochs without a better "
        "validation AUROC and keeping the weights of the best validation epoch.",
        seeds_sentence(seeds),
        f"On the test split we report AUROC and AUPRC with 95% confidence intervals from a "
        f"stratified bootstrap ({results['bootstrap']['resamples']:,} resamples, resampled by "
        f"{results['bootstrap']['resampled_by']}, the same resamples for every model), the Brier "
        "score, the expected calibration error (10 bins), and sensitivity, specificity, PPV and "
        "NPV at a threshold chosen on the validation split by Youden's J (and at "
        f"{results['reference_threshold']:g} for "
        f"comparison with earlier work).",
        comparison_method_sentence(results),
        f"{delong_sentence(results)} Added value beyond AUROC is given as the change in Brier "
        "score and the integrated discrimination improvement on the recalibrated probabilities, "
        "with intervals from the same resamples.",
        recalibration_sentence(results),
        f"The smallest AUROC gain of interest was set to "
        f"{number(results['added_value']['min_gain_auroc'], 3)} in advance (`--min-gain`); the "
        "verdict reads the CI of the notes' gain against zero and against it.",
    ]
    return " ".join(part for part in parts if part)


def comparison_method_sentence(results: Results) -> str:
    """How models were compared over training seeds and test rows, and why the notes are judged
    against the same network trained on shuffled notes."""
    n_seeds = results["added_value"]["seeds"]
    fair = (
        "Whether the notes add value was judged against the same network trained on notes "
        "shuffled within each split (same architecture, seeds and training; notes that say "
        "nothing about the sample beside them), because the fused network can beat the "
        "vital-only one on uninformative notes alone; the comparison with the vital-only model "
        "is reported as well."
    )
    if n_seeds == 1:
        return (
            f"{fair} Differences were read from paired bootstrap intervals over the test rows of "
            "one training seed; they ignore training randomness."
        )
    return (
        f"{fair} Each comparison is the mean over the {n_seeds} seeds of the paired AUROC "
        "difference (models of one seed share initial weights and batch order), with a 95% CI "
        "from a two-level paired bootstrap that resamples the seeds and then the test rows (the "
        "same rows for every model), so the interval includes training randomness as well as "
        "test sampling; the probability that one model beats the other is the share of (seed, "
        "test resample) pairs in which it did (Bouthillier et al. 2021)."
    )


def delong_sentence(results: Results) -> str:
    """How the main seed's two AUROCs were compared: DeLong's test, clustered when ids repeat."""
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    conditional = (
        f"The main seed's ({results['seeds']['main_seed']}) multimodal and vital-only AUROCs were "
        "also compared with DeLong's paired test, which treats those two fitted networks as "
        "fixed"
    )
    if delong.get("clusters"):
        return (
            f"{conditional}, with the clustered variance of Obuchowski (1997) because the "
            f"{delong['clusters']:,} test ids have several samples each."
        )
    return f"{conditional}."


def recalibration_sentence(results: Results) -> str:
    """Why and how the probabilities were recalibrated on the validation split."""
    recalibrated = results["metrics"]["multimodal"]["recalibrated"]
    method = {
        "platt": "Platt scaling (logistic regression on the logit)",
        "isotonic": "isotonic regression",
    }
    return (
        f"Because the class-weighted loss inflates the predicted probabilities, each model was "
        f"also recalibrated by {method.get(recalibrated['method'], recalibrated['method'])} "
        "fitted on the validation split and applied unchanged to the test split; the decision "
        "curve (net benefit over threshold probabilities of 1-50%, Vickers & Elkin 2006) uses "
        "the recalibrated probabilities."
    )


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


def rate(data: DataSummary, split: str) -> str:
    """The positive rate of one split, 3 decimals."""
    return f"{data['positives'][split] / data['samples'][split]:.3f}"


def notes_sentence(
    notes: dict, embedding: dict, strategy: str | None, pairing: dict, data: DataSummary
) -> str:
    """Which notes were embedded, how, and how they were paired, from the data file's meta.

    ``notes``, ``embedding`` and ``pairing`` are ``meta``'s sections of those names; without
    an embedding record the sentence says the data file does not record its notes.
    """
    if not embedding:
        return (
            f"Each sample carried a {data['text_dimension']}-dimensional note embedding; the data "
            "file does not record which notes, embedding model or pairing rule produced it."
        )
    strategy_text = {
        "key-sentences": "up to 10 sentences containing clinical keywords (else the first 10), as many as fit the model's input length",
        "chunk-mean": "the whole note in model-length chunks, mean-pooled",
    }.get(strategy, strategy or "an unrecorded text strategy")
    revision = (
        f", weights sha256 {embedding['weights_sha256'][:12]}"
        if embedding.get("weights_sha256")
        else ""
    )
    return (
        f"Clinical notes ({notes.get('count', 0):,}{kept_of(notes)} from {notes.get('source', 'an unrecorded source')}"
        f"{', split ' + notes['split'] if notes.get('split') else ''}) were embedded with "
        f"{embedding.get('name')} ({embedding.get('dimension')} dimensions{revision}; text: "
        f"{strategy_text}; L2-normalised) and paired with the samples {pairing_phrase(pairing)}."
        + (f" {describe_linkage(pairing)}" if describe_linkage(pairing) else "")
    )


def truncation_sentence(truncation: dict | None) -> str:
    """How much note text the model's input length cut off; empty for files that predate it."""
    if not truncation:
        return ""
    cut = truncation["notes_truncated"]
    limit = f"the model's {truncation['token_budget']}-token input"
    if not cut:
        return f"No note lost text to {limit}."
    return (
        f"{cut:,} of {truncation['notes']:,} notes ({truncation['share_truncated']:.1%}) lost "
        f"text to {limit} ({truncation['tokens_cut_total']:,} tokens in all, at most "
        f"{truncation['tokens_cut_max']:,} from one note)."
    )


def kept_of(notes: dict) -> str:
    """ " of the N loaded" when only the notes some sample could use were kept."""
    loaded = notes.get("loaded")
    if loaded is None or loaded == notes.get("count"):
        return ""
    return f" used of the {loaded:,} loaded"


def pairing_phrase(pairing: dict) -> str:
    """How notes were paired, as a phrase to follow "paired with the samples"."""
    method = pairing.get("method")
    if method == "id":
        return "by shared patient/stay id"
    if method == "random":
        return f"at random (seed {pairing.get('seed')}), within disjoint per-split note pools"
    if method == "sequential":
        return "in file order (sequentially), within disjoint per-split note pools"
    return "by an unrecorded rule"


def seeds_sentence(seeds: Sequence[int]) -> str:
    """The training seeds in words; the first is the declared main seed."""
    if len(seeds) == 1:
        return f"Every model was trained once, with seed {seeds[0]}."
    return (
        f"The multimodal model, the vital-only model and the notes controls were each trained "
        f"once per seed ({', '.join(map(str, seeds))}); the text-only control only with the "
        f"main seed {seeds[0]}, whose models give the per-model tables, thresholds, figures and "
        "the saved checkpoint."
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


def limitations(results: ResultsFile) -> str:
    """The Limitations list, each item following from this run's facts (synthetic data, the
    pairing and its warnings, the quoted baseline's ceiling, calibration, one split or several).
    """
    meta = results.get("meta") or {}
    pairing = meta.get("pairing") or {}
    items = []
    if meta.get("demo") or meta.get("synthetic"):
        items.append(
            "**These data are synthetic** (the project's demo cohort): the numbers show that the "
            "pipeline works, not anything about patients."
        )
    method = pairing.get("method")
    if method in ("random", "sequential"):
        items.append(
            f"Notes were paired with vital-sign samples {pairing_phrase(pairing)}, not by patient. "
            "A note therefore describes a different person than the vitals it is paired with, and "
            "any difference between the multimodal and vital-only models cannot be attributed to "
            "clinical information in the notes."
        )
    elif method == "id" and pairing.get("timing_checked"):
        items.append(
            "Notes were linked to samples by id, and only notes charted at or before each "
            "sample's prediction time were used; the result holds only if those ids identify the "
            "same patient and admission and if a note's chart time is when its content was known "
            "(in some records, e.g. MIMIC, a note is stored hours after the time it is charted "
            "at, so a note charted just before the prediction may not yet have existed then)."
        )
    elif method == "id":
        items.append(
            "**Note timing was not checked**: notes were linked to samples by id without chart "
            "times, so a note written after the outcome (a discharge summary, a death note) may "
            "have been used to predict it, which inflates the multimodal result. The result holds "
            "only if every note was written before the prediction time."
        )
    else:
        items.append(
            "The data file does not record how notes were paired with samples; unless they were "
            "linked by patient, a difference cannot be attributed to clinical information."
        )
    items.extend(f"Pairing warning: {warning}." for warning in pairing.get("warnings") or [])
    reused = sum((pairing.get("reused_samples") or {}).values())
    if reused:
        items.append(
            f"{reused:,} samples share a note with another sample of the same split (too few notes for the samples)."
        )
    quoted = results["reported_baseline_auroc"]
    if quoted > CEILING_AUROC:
        items.append(
            f"The quoted vital-only baseline of {number(quoted)} leaves at most "
            f"{number(1 - quoted)} AUROC to gain, well inside a typical confidence interval; "
            "published gains from adding notes to vitals are about 0.01-0.03 AUROC, so a ceiling "
            "this high leaves little room to show any."
        )
    worst_ece = max(results["metrics"][m]["expected_calibration_error"] for m in RELIABILITY_MODELS)
    items.append(
        "Training weights the positive class by the negative-to-positive ratio, which pushes "
        f"the raw predicted probabilities upwards (expected calibration error up to "
        f"{number(worst_ece, 3)} here). The recalibrated probabilities (fitted on the validation "
        "split, saved in the checkpoint) are the ones to read as risks; the recalibration was "
        "checked on this test split only."
    )
    sources = (
        "test-set sampling and training randomness (seeds)"
        if results["added_value"]["includes_training_randomness"]
        else "test-set sampling only (one training seed)"
    )
    if results.get("resplits") is None:
        items.append(
            f"All results come from a single train/validation/test split; the confidence "
            f"intervals reflect {sources}, not the variation between splits or sites."
        )
    else:
        items.append(
            f"The confidence intervals reflect {sources}; the repeated splits show the "
            "variation between splits of these data, not between sites."
        )
    return "\n".join(f"- {item}" for item in items)


def figures_section(figures: Mapping[str, Sequence[Path]], report_dir: Path) -> str:
    """Each figure's PNG embedded with its caption and a link to its PDF, relative paths."""
    lines = []
    for key, paths in figures.items():
        png = next(p for p in paths if p.suffix == ".png")
        pdf = next(p for p in paths if p.suffix == ".pdf")
        lines.append(
            f"![{FIGURE_CAPTIONS[key]}]({os.path.relpath(png, report_dir)})\n\n"
            f"*{FIGURE_CAPTIONS[key]}* (vector version: `{os.path.relpath(pdf, report_dir)}`)\n"
        )
    return "\n".join(lines)


def render_report(
    results: ResultsFile, figures: Mapping[str, Sequence[Path]], report_dir: Path
) -> str:
    """The whole ``multimodal_report.md`` text; figure links are relative to ``report_dir``."""
    meta = results.get("meta") or {}
    banner = (
        "> **SYNTHETIC DEMO DATA.** Every number below comes from the project's synthetic cohort; "
        "none is clinical evidence.\n\n"
        if meta.get("demo") or meta.get("synthetic")
        else ""
    )
    run = results["run"]
    return f"""# Do clinical notes add predictive value to vital signs?

{banner}Generated by `train_multimodal_lstm.py` from `{run["data_file"]}` (sha256 `{run["data_sha256"][:16]}`) on device `{run["device"]}`. Every number here is copied from `multimodal_results.json`.

## Methods

{methods_paragraph(results)}

## Results

{main_finding(results)}

Test-split metrics of every model (sensitivity, specificity, PPV and NPV at each model's validation-chosen threshold):

{results_table(results)}

At the reference threshold of {results["reference_threshold"]:g}:

{reference_threshold_table(results)}

### Calibration

Brier score and expected calibration error on the test split, before and after recalibration on the validation split:

{calibration_table(results)}

### Added value beyond AUROC

{added_value_paragraph(results)}

### Decision curve

{decision_curve_paragraph(results)}

### Seeds

{seeds_section(results)}

### Repeated splits

{resplits_section(results)}

### Negative controls and ablations

{controls_section(results)}

## Limitations

{limitations(results)}

## Figures

{figures_section(figures, report_dir)}"""


def write_report(
    path: str | os.PathLike, results: ResultsFile, figures: Mapping[str, Sequence[Path]]
) -> Path:
    """Render the report and write it to ``path`` atomically; returns the path."""
    path = Path(path)
    text = render_report(results, figures, path.parent)
    return save_text(path, text)
