"""The report's Methods section, written from the results: the data and how notes were
paired (from the data file's ``meta``), the networks (from ``results["architecture"]``), the
training settings (``run.config``) and how the models were evaluated and compared.
"""

from __future__ import annotations

from collections.abc import Sequence

from .results_schema import DataSummary, Results, ResultsFile
from .wording import number, pairing_phrase

# Layer counts below ten are written as words ("a two-layer LSTM"), larger ones as digits.
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# What the vital-only baseline must share with the fused model to have "the same vital pathway".
VITAL_PATHWAY_KEYS = ("lstm_hidden", "lstm_layers", "dropout", "vital_projection")


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
    pairing = results["pairing"]
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
        notes_sentence(
            notes,
            embedding,
            meta.get("text_strategy"),
            pairing,
            data,
            pairing["description"],
        ),
        truncation_sentence(meta.get("embedding_truncation")),
        models_sentence(results),
        note_indicator_sentence(results),
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


def models_sentence(results: Results) -> str:
    """The multimodal network and the vital-only baseline, from ``results["architecture"]``
    (each model's configuration and layer widths) and ``results["model_parameters"]``.

    Example:
        >>> fused = {"kind": "multimodal", "lstm_hidden": 64, "lstm_layers": 1, "dropout": 0.2,
        ...          "vital_projection": [64, 64, 32], "text_projection": [384, 64, 32],
        ...          "head": [64, 32, 16, 1]}
        >>> vitals = dict(fused, kind="vital_only", text_projection=None, head=[32, 16, 1])
        >>> print(models_sentence({"model": "MultiModalLSTM",  # doctest: +NORMALIZE_WHITESPACE
        ...     "architecture": {"multimodal": fused, "vital_only": vitals},
        ...     "model_parameters": {"multimodal": 61000, "vital_only": 52000}}))
        The multimodal model (MultiModalLSTM, 61,000 trainable parameters) encodes the vitals
        with a one-layer LSTM (hidden size 64), takes the last time step through dense layers
        64-64-32, projects the note embedding through 384-64-32, and classifies the
        concatenation through 64-32-16-1, with ReLU and dropout 0.2 after each hidden layer.
        The vital-only baseline (52,000 parameters) uses the same vital pathway with a 32-16-1
        head and was trained in the same run, on the same split, with the same procedure and
        seed.
    """
    fused = results["architecture"]["multimodal"]
    vitals = results["architecture"]["vital_only"]
    parameters = results["model_parameters"]
    between_lstm_layers = " and between the LSTM layers" if fused["lstm_layers"] > 1 else ""
    vital_pathway = (
        "the same vital pathway"
        if all(vitals[key] == fused[key] for key in VITAL_PATHWAY_KEYS)
        else f"{lstm_phrase(vitals)} and dense layers {widths(vitals['vital_projection'])}"
    )
    return (
        f"The multimodal model ({results['model']}, {parameters['multimodal']:,} trainable "
        f"parameters) encodes the vitals with {lstm_phrase(fused)}, takes the last time step "
        f"through dense layers {widths(fused['vital_projection'])}, projects the note embedding "
        f"through {widths(fused['text_projection'])}, and classifies the concatenation through "
        f"{widths(fused['head'])}, with ReLU and dropout {fused['dropout']} after each hidden "
        f"layer{between_lstm_layers}. The vital-only baseline ({parameters['vital_only']:,} "
        f"parameters) uses {vital_pathway} with a {widths(vitals['head'])} head and was trained "
        "in the same run, on the same split, with the same procedure and seed."
    )


def note_indicator_sentence(results: Results) -> str:
    """What ``--note-indicator`` added to the text input; empty when it was off."""
    if not results["run"]["config"].get("note_indicator"):
        return ""
    added = results["architecture"]["multimodal"]["text_dim"] - results["data"]["text_dimension"]
    hours = (
        " and the hours from its most recent eligible note to the prediction time, scaled as "
        "log(1 + min(h, 168)) / log(1 + 168) (0 without a note)"
        if added == 2
        else ""
    )
    return (
        f"The text input also carried a 0/1 flag for whether the sample had an eligible note"
        f"{hours} (`--note-indicator`), so that a missing note was not left to be inferred from "
        "an all-zero embedding; the shuffled-notes controls moved these columns with the notes, "
        "and the notes-zeroed control zeroed them."
    )


def lstm_phrase(architecture: dict) -> str:
    """ "a two-layer LSTM (hidden size 128)" for a model's LSTM."""
    layers = architecture["lstm_layers"]
    count = NUMBER_WORDS[layers] if layers < len(NUMBER_WORDS) else str(layers)
    return f"a {count}-layer LSTM (hidden size {architecture['lstm_hidden']})"


def widths(layers: list[int]) -> str:
    """Layer widths as "128-64-32"."""
    return "-".join(str(width) for width in layers)


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


def rate(data: DataSummary, split: str) -> str:
    """The positive rate of one split, 3 decimals."""
    return f"{data['positives'][split] / data['samples'][split]:.3f}"


def notes_sentence(
    notes: dict,
    embedding: dict,
    strategy: str | None,
    pairing: dict,
    data: DataSummary,
    linkage: str | None = None,
) -> str:
    """Which notes were embedded, how, and how they were paired, from the data file's meta.

    ``notes`` and ``embedding`` are ``meta``'s sections of those names, ``pairing`` the
    results' pairing summary, and
    ``linkage`` the linkage rule and its counts in words (``results["pairing"]["description"]``,
    absent for pairings other than by id and for data files that predate it); without an
    embedding record the sentence says the data file does not record its notes.
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
        + (f" {linkage}" if linkage else "")
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
