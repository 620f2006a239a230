"""The declared shape of ``multimodal_results.json``, as TypedDicts.

The results stay plain JSON-ready dicts; these classes only name their keys and types, so a
reader (or a type checker) can see what a key holds without running the pipeline. Shown with a
real example in ``docs/results.md``.

Conventions for every key below:

- Every metric is computed on the **test split** unless its description names another split.
- AUROC, AUPRC, sensitivity, specificity, PPV, NPV, accuracy, F1, Brier score, ECE and
  probabilities are fractions in [0, 1] (a difference of two lies in [-1, 1], and a net benefit
  in [-1, 1] over the thresholds used); a key ending in ``_percent`` is a percentage; counts are
  ints.
- ``None`` (JSON ``null``) means undefined, never zero: a ratio whose denominator is zero (PPV
  when no sample is predicted positive), an SD over one seed, a share of a gain that is not
  established.
- An :data:`Interval` is a 95% percentile bootstrap interval ``[low, high]``.
- Keys named by a model (``metrics``, ``confidence_intervals``, ``seeds``, ...) use the variant
  names of :mod:`multimodal_deterioration.learning.experiment`: ``multimodal``, ``vital_only``,
  ``notes_shuffled`` and, when the further controls ran, ``text_only``,
  ``notes_shuffled_within_class`` and ``notes_zeroed_at_test``.
- ``metrics``, ``confidence_intervals``, ``statistics``, ``decision_curve`` and ``training``
  describe the main seed's fitted models; ``comparisons``, ``added_value``, ``controls`` and
  ``seeds`` include every seed (:mod:`multimodal_deterioration.evidence.comparisons`).

:class:`Results` is what :func:`multimodal_deterioration.evidence.results.build_results` returns;
:class:`ResultsFile` is what ``train_multimodal_lstm.py`` writes, the same dict with the run
record, the data file's ``meta``, the output paths and, with ``--resplits``, the repeated splits
(added in :mod:`multimodal_deterioration.evidence.study`).
"""

# No ``from __future__ import annotations``: on Python 3.11 it hides ``NotRequired`` from
# ``TypedDict``, which then lists every key in ``__required_keys__``.
from typing import Any, Literal, NotRequired, TypedDict

Interval = list[float]
"""A 95% percentile bootstrap interval, ``[low, high]``."""

GainVerdict = Literal[
    "worse",
    "meaningful_gain",
    "gain_below_min",
    "gain_size_unclear",
    "no_meaningful_gain",
    "inconclusive",
]
"""The keys of :data:`multimodal_deterioration.evidence.verdict.GAIN_VERDICTS`."""

Attribution = Literal[
    "notes_content", "notes_content_not_over_vitals", "network_not_notes", "no_gain"
]
"""The keys of :data:`multimodal_deterioration.evidence.verdict.ATTRIBUTIONS`."""


class SplitCounts(TypedDict):
    """A count per split of the data file."""

    train: int
    val: int
    test: int


class DataSummary(TypedDict):
    """``data``: the shape of the data the models were trained and tested on.

    - ``samples``, ``positives``: samples and positive labels per split.
    - ``timesteps``, ``vital_features``: the vital-sign sequence length and features per step.
    - ``feature_names``: the vital feature names, None when the data file has none.
    - ``text_dimension``: the length of each note embedding (384 for MiniLM).
    - ``has_sample_ids``: every split carries sample (patient or stay) ids.
    - ``samples_without_text``: samples per split whose note vector is all zeros (no note).
    """

    samples: SplitCounts
    positives: SplitCounts
    timesteps: int
    vital_features: int
    feature_names: list[str] | None
    text_dimension: int
    has_sample_ids: bool
    samples_without_text: SplitCounts


class PairingSummary(TypedDict):
    """``pairing``: how notes were paired with samples, read from the data file's meta.

    - ``method``: ``"id"``, ``"random"`` or ``"sequential"``; None when the file does not say.
    - ``seed``: the seed of a random pairing, else None.
    - ``clinically_linked``: True only for pairing by id (a note describes that patient).
    - ``timing_checked``: whether an id pairing used only notes charted at or before each
      sample's prediction time; None when not recorded (pairings other than by id).
    - ``description``: the linkage rule and its counts in words (id pairing), else None.
    - ``warnings``: the preparation step's warnings, one sentence each.
    """

    method: str | None
    seed: int | None
    clinically_linked: bool
    timing_checked: bool | None
    description: str | None
    warnings: list[str]


class ThresholdMetrics(TypedDict):
    """Test-split metrics with samples predicted positive when ``probability >= threshold``.

    - ``threshold``: the probability cut-off used.
    - ``sensitivity``, ``specificity``, ``f1_score``, ``accuracy``, ``ppv``, ``npv``: ratios in
      [0, 1]; None when the denominator is zero (e.g. ``ppv`` when nothing is predicted
      positive).
    - ``true_positives``, ``false_positives``, ``false_negatives``, ``true_negatives``: counts.
    """

    threshold: float
    sensitivity: float | None
    specificity: float | None
    f1_score: float | None
    accuracy: float | None
    ppv: float | None
    npv: float | None
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int


class CalibrationChange(TypedDict):
    """Test-split calibration of the raw probabilities (before) and recalibrated ones (after):
    Brier score and 10-bin expected calibration error."""

    brier_before: float
    brier_after: float
    ece_before: float
    ece_after: float


class RecalibratedMetrics(TypedDict):
    """``metrics.<model>.recalibrated``: a calibrator fitted on the validation split.

    - ``method``: ``"platt"`` or ``"isotonic"`` (``--recalibration``).
    - ``fitted_on``: always ``"validation"``.
    - ``parameters``: the fitted map; Platt: ``slope`` and ``intercept`` on the logit;
      isotonic: the knots ``x_thresholds`` and ``y_thresholds``.
    - ``test``: calibration on the test split before and after applying it.
    - ``not_fitted``: instead of ``parameters`` and ``test`` when no calibrator could be fitted
      (e.g. validation scores that separate the classes perfectly): the reason.
    """

    method: str
    fitted_on: Literal["validation"]
    parameters: NotRequired[dict[str, float | list[float]]]
    test: NotRequired[CalibrationChange]
    not_fitted: NotRequired[str]


class ModelMetrics(TypedDict):
    """``metrics.<model>``: one model's test-split metrics (main seed).

    - ``auroc``, ``auprc``: threshold-free discrimination.
    - ``positive_rate``: the share of positive test labels (the same for every model).
    - ``brier_score``: mean squared error of the raw probabilities.
    - ``expected_calibration_error``: 10 equal-width bins, raw probabilities.
    - ``at_reference_threshold``: at the fixed threshold 0.5 of the reference output.
    - ``at_validation_threshold``: at this model's threshold chosen on the validation split by
      Youden's J and applied unchanged to test.
    - ``recalibrated``: the validation-fitted recalibration and its effect on test.
    """

    auroc: float
    auprc: float
    positive_rate: float
    brier_score: float
    expected_calibration_error: float
    at_reference_threshold: ThresholdMetrics
    at_validation_threshold: ThresholdMetrics
    recalibrated: RecalibratedMetrics


class ModelIntervals(TypedDict):
    """``confidence_intervals.<model>``: 95% bootstrap intervals of one model's test metrics.

    ``sensitivity`` and ``specificity`` are at the model's validation-chosen threshold;
    ``brier`` is the Brier score and ``discrimination_slope`` Yates' slope (mean probability of
    the positives minus that of the negatives).
    """

    auroc: Interval
    auprc: Interval
    sensitivity: Interval
    specificity: Interval
    brier: Interval
    discrimination_slope: Interval


class DifferenceIntervals(TypedDict):
    """``confidence_intervals.<a>_minus_<b>``: 95% intervals of model a's metric minus model
    b's on the same (paired) resamples; the ``discrimination_slope`` difference is the IDI."""

    auroc: Interval
    auprc: Interval
    brier: Interval
    discrimination_slope: Interval


class BootstrapSettings(TypedDict):
    """``bootstrap``: how the confidence intervals were drawn.

    - ``resamples``, ``seed``: ``--bootstrap`` and the resampling seed.
    - ``stratified``: positives and negatives resampled separately (always True).
    - ``resampled_by``: ``"sample id"`` (whole test ids drawn, when the test split has ids) or
      ``"sample"``.
    - ``interval``, ``thresholds``: in words, the interval type and the thresholds used for
      sensitivity and specificity.
    """

    resamples: int
    seed: int
    stratified: bool
    resampled_by: Literal["sample id", "sample"]
    interval: str
    thresholds: str


class DeLongSummary(TypedDict):
    """DeLong's test of the multimodal against the vital-only test AUROC.

    - ``auc_difference``: multimodal minus vital-only AUROC.
    - ``z``, ``p_value``: the two-sided test statistic and p-value.
    - ``method``: ``"DeLong"``, or ``"DeLong, clustered (Obuchowski 1997)"`` when test ids repeat.
    - ``clusters``: the number of test ids for the clustered test, else None.
    """

    auc_difference: float
    z: float
    p_value: float
    method: str
    clusters: int | None


class Statistics(TypedDict):
    """``statistics``: hypothesis tests on the test split."""

    delong_multimodal_vs_vital_only: DeLongSummary


class SeedAveragedChange(TypedDict):
    """Multimodal minus vital-only, averaged over seeds, with its two-level interval (seeds,
    then test rows), the SD of the per-seed values (None for one seed) and its definition."""

    value: float
    ci: Interval
    sd_over_seeds: float | None
    definition: str
    probabilities: NotRequired[str]


class OverVitalOnly(TypedDict):
    """``added_value.over_vital_only``: multimodal minus vital-only AUROC, the comparison the
    study design asks for, read by the same rule as the verdict (part of a gain here can come
    from the network rather than the notes)."""

    verdict: "GainVerdict"
    statement: str
    gain_auroc: float
    gain_auroc_ci: Interval
    probability_of_outperforming: float


class AddedValue(TypedDict):
    """``added_value``: do the notes add value? Read from seed-aware intervals.

    - ``min_gain_auroc``: ``--min-gain``, the smallest AUROC gain that would matter (above 0).
    - ``compared_with``: ``"notes_shuffled"``, the same network trained with notes shuffled
      within each split, the comparator that credits a gain to the notes' content.
    - ``verdict``, ``statement``: the CI of the notes' gain read against zero and
      ``min_gain_auroc`` (a key of ``GAIN_VERDICTS`` and its sentence).
    - ``gain_auroc`` (+ ``_ci``): multimodal minus notes_shuffled AUROC, mean over seeds, with
      the two-level 95% CI; ``probability_of_outperforming``: share of (seed, test resample)
      pairs in which the multimodal model was better (ties half).
    - ``attribution``, ``attribution_statement``: who gets the credit (a key of
      ``ATTRIBUTIONS`` and its sentence), from this CI and the vital-only comparison's.
    - ``over_vital_only``: the comparison with the vital-only model.
    - ``seeds``: training seeds behind the intervals; ``includes_training_randomness``: more
      than one (with one, the intervals reflect test sampling only).
    - ``delta_brier``, ``idi``: Brier(multimodal) - Brier(vital-only) and the integrated
      discrimination improvement, on validation-recalibrated probabilities (``probabilities``
      says which were used); ``delta_brier_raw``, ``idi_raw``: the same on the raw outputs,
      miscalibrated by the class-weighted loss (secondary).
    """

    min_gain_auroc: float
    compared_with: str
    verdict: GainVerdict
    statement: str
    gain_auroc: float
    gain_auroc_ci: Interval
    probability_of_outperforming: float
    attribution: Attribution
    attribution_statement: str
    over_vital_only: OverVitalOnly
    seeds: int
    includes_training_randomness: bool
    delta_brier: SeedAveragedChange
    idi: SeedAveragedChange
    delta_brier_raw: SeedAveragedChange
    idi_raw: SeedAveragedChange


class ComparedMetric(TypedDict):
    """One metric of a seed-aware comparison (a minus b).

    - ``estimate``: mean over the seeds of the per-seed difference on the whole test split.
    - ``ci``: 95% percentile interval of the seed-averaged difference over the two-level
      resamples (seeds, then test rows).
    - ``per_seed``: ``{seed (as a string): difference}``; ``sd_over_seeds``: their sample SD
      (None for one seed).
    - ``probability_of_outperforming`` (AUROC only): share of (seed, test resample) pairs in
      which a beat b, ties counting half (Bouthillier et al. 2021).
    """

    estimate: float
    ci: Interval
    per_seed: dict[str, float]
    sd_over_seeds: float | None
    probability_of_outperforming: NotRequired[float]


class Comparison(TypedDict):
    """``comparisons.pairs.<a>_minus_<b>``: model a against model b, paired by seed.

    - ``model``, ``comparator``: a and b; ``seeds``: the seeds both were trained with.
    - ``auroc``: the AUROC difference.
    - The two headline pairs (``multimodal_minus_notes_shuffled``, which the verdict reads, and
      ``multimodal_minus_vital_only``) also carry ``brier`` and ``idi`` (raw outputs),
      ``brier_recalibrated`` and ``idi_recalibrated`` (each seed's model recalibrated on its own
      validation predictions; absent when a calibrator could not be fitted),
      ``recalibration`` (how, or why not), and ``verdict`` and ``statement``.
    """

    model: str
    comparator: str
    seeds: list[int]
    auroc: ComparedMetric
    brier: NotRequired[ComparedMetric]
    idi: NotRequired[ComparedMetric]
    brier_recalibrated: NotRequired[ComparedMetric]
    idi_recalibrated: NotRequired[ComparedMetric]
    recalibration: NotRequired[str]
    verdict: NotRequired[GainVerdict]
    statement: NotRequired[str]


class SeedAveragedMetric(TypedDict):
    """A model's metric averaged over its seeds, with the two-level 95% interval."""

    estimate: float
    ci: Interval


class ModelOverSeeds(TypedDict):
    """``comparisons.models.<model>``: the seeds a compared model was trained with and its
    seed-averaged test AUROC."""

    seeds: list[int]
    auroc: SeedAveragedMetric


class Comparisons(TypedDict):
    """``comparisons``: seed-aware comparisons (:mod:`multimodal_deterioration.evidence.comparisons`).

    - ``pairs``: every compared pair; the headline two, the shuffled-notes network against
      vital-only (what the network gains on uninformative notes), and, when the controls ran,
      each control against the fused model and vital-only, and the within-class shuffle against
      the shuffled-notes network (the leak rule's share).
    - ``models``: every compared model's seed-averaged AUROC.
    - ``method``: the resampling in words.
    """

    pairs: dict[str, Comparison]
    models: dict[str, ModelOverSeeds]
    method: str


class NetBenefit(TypedDict):
    """Net benefit at each threshold of ``decision_curve.thresholds``, per strategy."""

    multimodal: list[float]
    vital_only: list[float]
    treat_all: list[float]
    treat_none: list[float]


class ComparedCurves(TypedDict):
    """A list of floats for each of the two compared models."""

    multimodal: list[float]
    vital_only: list[float]


class ComparedRanges(TypedDict):
    """Threshold ranges in words (e.g. ``"2%, 6%-10%"``, or ``"no threshold"``) per model."""

    multimodal: str
    vital_only: str


class DecisionCurve(TypedDict):
    """``decision_curve``: net benefit of the multimodal and vital-only models on test.

    - ``thresholds``: threshold probabilities 0.01 to 0.50.
    - ``net_benefit``: per strategy at each threshold, from the probabilities named in
      ``probabilities`` (validation-recalibrated when both models have a calibrator).
    - ``prevalence``: the test split's positive rate.
    - ``definition``: the net-benefit formula in words (Vickers & Elkin 2006).
    - ``net_benefit_uncalibrated``: the same curves from the raw model outputs.
    - ``useful_thresholds``: where each model beats both treating all and treating none.
    - ``multimodal_better_thresholds``, ``vital_only_better_thresholds``: where one model's net
      benefit is above the other's (point estimates, no confidence band).
    """

    thresholds: list[float]
    net_benefit: NetBenefit
    prevalence: float
    definition: str
    probabilities: str
    net_benefit_uncalibrated: ComparedCurves
    useful_thresholds: ComparedRanges
    multimodal_better_thresholds: str
    vital_only_better_thresholds: str


class SeedSummary(TypedDict):
    """``seeds``: test AUROC of every model for every training seed.

    - ``main_seed``: the declared seed whose models every other section reports.
    - ``seeds``: every seed trained, main seed first.
    - ``test_auroc``: ``{seed (as a string): {model: AUROC}}``.
    - ``trained_seeds``: per model, the seeds it was trained with (text-only: the main seed).
    - ``mean_test_auroc``, ``sd_test_auroc``: per model over its seeds; the SD is the sample SD
      (ddof=1), None for a single seed.
    - ``mean_test_auroc_ci``: per compared model, the two-level 95% CI of its seed-averaged
      AUROC (seeds, then test rows).
    """

    main_seed: int
    seeds: list[int]
    trained_seeds: dict[str, list[int]]
    test_auroc: dict[str, dict[str, float]]
    mean_test_auroc: dict[str, float]
    sd_test_auroc: dict[str, float | None]
    mean_test_auroc_ci: dict[str, Interval]


class ControlReading(TypedDict):
    """``controls.<control>``: one negative control against vital-only and the fused model,
    averaged over the seeds it was trained with (two-level CIs; text-only: the main seed).

    - ``auroc``: the control's seed-averaged test AUROC; ``seeds``: how many seeds.
    - ``gain_vs_vital_only`` (+ ``_ci``): control minus vital-only AUROC.
    - ``fused_minus_control`` (+ ``_ci``): multimodal minus control AUROC.
    - ``retained_fraction`` (within-class shuffle only, else None): (control - notes_shuffled) /
      (multimodal - notes_shuffled), the share of the notes' gain it keeps; None unless that
      gain's CI lies above zero.
    """

    auroc: float
    seeds: int
    gain_vs_vital_only: float
    gain_vs_vital_only_ci: Interval
    fused_minus_control: float
    fused_minus_control_ci: Interval
    retained_fraction: float | None


class ControlsNotRun(TypedDict):
    """``controls`` when ``--ablations`` left the negative controls out."""

    ran: Literal[False]


class ControlsRun(TypedDict):
    """``controls`` when the negative controls ran.

    - ``fused_gain_auroc`` (+ ``_ci``): multimodal minus vital-only AUROC (seed-averaged).
    - ``fused_gain_established``: the lower end of that CI lies above zero.
    - ``notes_gain_auroc`` (+ ``_ci``, ``_established``): the same for multimodal minus
      notes_shuffled, the gain the leak rule reads.
    - ``clinically_linked``: notes were paired by patient id (as ``pairing``).
    - ``text_only``, ``notes_shuffled``, ``notes_shuffled_within_class``,
      ``notes_zeroed_at_test``: each control's reading.
    - ``label_leak_suspected``, ``label_leak_rule``: whether the within-class shuffle keeps
      enough of an established gain to suspect a label leak, and the rule in words.
    """

    ran: Literal[True]
    fused_gain_auroc: float
    fused_gain_ci: Interval
    fused_gain_established: bool
    notes_gain_auroc: float
    notes_gain_ci: Interval
    notes_gain_established: bool
    clinically_linked: bool
    text_only: ControlReading
    notes_shuffled: ControlReading
    notes_shuffled_within_class: ControlReading
    notes_zeroed_at_test: ControlReading
    label_leak_suspected: bool
    label_leak_rule: str


class TrainingOutcome(TypedDict):
    """``training.<model>``: early stopping of one trained model (main seed).

    ``best_epoch`` is 1-based and ``best_val_auroc`` is on the validation split; the
    ``notes_zeroed_at_test`` control reuses the fused model's weights and has no entry.
    """

    best_epoch: int
    best_val_auroc: float
    epochs_run: int
    stopped_early: bool


class Architecture(TypedDict):
    """``architecture.<model>``: the network's configuration (``kind``, ``n_vital_features``,
    ``text_dim``, ``lstm_hidden``, ``lstm_layers``, ``dropout``) and its layer widths:
    ``vital_projection`` (LSTM output to the vital features, None without vitals),
    ``text_projection`` (note embedding to the text features, None without text) and ``head``
    (the features entering the classifier down to the one logit)."""

    kind: str
    n_vital_features: int
    text_dim: int
    lstm_hidden: int
    lstm_layers: int
    dropout: float
    vital_projection: list[int] | None
    text_projection: list[int] | None
    head: list[int]


class Results(TypedDict):
    """What :func:`multimodal_deterioration.evidence.results.build_results` returns.

    The reference keys, first and unchanged in meaning, describe the multimodal model on the
    test split: ``model`` (``"MultiModalLSTM"``), ``vital_only_auroc`` and ``multimodal_auroc``
    (the baseline trained in this run and the fused model), ``improvement_percent`` (relative
    AUROC change, percent), and at the fixed threshold 0.5 ``sensitivity``, ``specificity``,
    ``f1_score``, ``accuracy`` (None when undefined), ``test_samples`` and the four confusion
    counts.

    Then: ``reported_baseline_auroc`` (``--baseline-auroc``, quoted from earlier work, NOT
    re-measured), ``improvement_vs_reported_percent`` (relative to it, percent),
    ``reported_baseline_note``, ``reference_threshold`` (0.5) and
    ``validation_threshold_method`` (in words); then one section per key, each described by its
    own class: ``data``, ``pairing``, ``metrics`` (per model), ``decision_curve``,
    ``confidence_intervals`` (per model and per ``<a>_minus_<b>`` difference), ``bootstrap``,
    ``statistics``, ``comparisons``, ``added_value``, ``seeds``, ``controls``, ``model_parameters`` (trainable
    parameters per model), ``architecture`` (per model: its :class:`ModelConfig` fields and
    layer widths, from which the report's methods paragraph is written) and ``training`` (per
    trained model).
    """

    model: str
    vital_only_auroc: float
    multimodal_auroc: float
    improvement_percent: float
    sensitivity: float | None
    specificity: float | None
    f1_score: float | None
    accuracy: float | None
    test_samples: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    reported_baseline_auroc: float
    improvement_vs_reported_percent: float
    reported_baseline_note: str
    reference_threshold: float
    validation_threshold_method: str
    data: DataSummary
    pairing: PairingSummary
    metrics: dict[str, ModelMetrics]
    decision_curve: DecisionCurve
    confidence_intervals: dict[str, ModelIntervals | DifferenceIntervals]
    bootstrap: BootstrapSettings
    statistics: Statistics
    comparisons: Comparisons
    added_value: AddedValue
    seeds: SeedSummary
    controls: ControlsRun | ControlsNotRun
    model_parameters: dict[str, int]
    architecture: dict[str, Architecture]
    training: dict[str, TrainingOutcome]


class RunConfig(TypedDict):
    """``run.config``: every setting of the run, one key per field of the config dataclasses.

    In order: ``TrainingConfig`` (``epochs``, ``patience``, ``batch_size``, ``learning_rate``,
    ``grad_clip``, ``seed``, ``cuda_graph``); ``ExperimentConfig`` (``dropout``,
    ``standardize``, ``seeds``, ``ablations``: whether the controls ran, and ``train_workers``:
    ``--train-workers``, None for one per core);
    ``EvaluationSettings`` (``reported_baseline_auroc``, ``bootstrap_resamples``,
    ``bootstrap_seed``, ``min_gain``, ``recalibration``); ``StudyConfig`` (``data_file``,
    ``vitals_file``, ``ablations_setting``: the ``--ablations`` flag, ``ablations_auto_limit``:
    the training samples x seeds up to which ``auto`` runs the controls, ``resplits``: None when
    off). Each field's meaning is declared with the field.
    """

    epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    grad_clip: float
    seed: int
    cuda_graph: bool
    dropout: float
    standardize: bool
    seeds: list[int]
    ablations: bool
    train_workers: int | None
    reported_baseline_auroc: float
    bootstrap_resamples: int
    bootstrap_seed: int
    min_gain: float
    recalibration: str
    data_file: str
    vitals_file: str | None
    ablations_setting: Literal["auto", "on", "off"]
    ablations_auto_limit: int
    resplits: int | None


class RunRecord(TypedDict):
    """``run``: what produced these results.

    ``created_utc`` is an ISO 8601 time, ``seed`` the main seed, ``device`` where training ran,
    ``data_file`` and ``data_sha256`` the data file read and its hash, ``vitals_file`` the
    ``--vitals`` file (None unless given), ``versions`` the Python and package versions, and
    ``seconds`` the wall time up to evaluation.
    """

    config: RunConfig
    created_utc: str
    seed: int
    device: str
    data_file: str
    data_sha256: str
    vitals_file: str | None
    versions: dict[str, str]
    seconds: float


class DataMeta(TypedDict, total=False):
    """``meta``: a copy of the data file's ``meta``, as the preparation script wrote it.

    Empty for a data file without meta, so every key is optional. Its sections are the
    preparation step's own records and are typed here only at the top level: ``notes`` (source,
    split, counts, columns), ``embedding_model`` (name, dimension, weight hashes),
    ``embedding_truncation`` (notes that lost text to the token budget), ``pairing`` (the full
    pairing summary with per-split counts, and the linkage settings of an id pairing) and
    ``versions``. ``demo`` and ``synthetic`` mark the synthetic demo cohort.
    """

    demo: bool
    synthetic: bool
    created_utc: str
    notes: dict[str, Any]
    vitals_file: str
    vitals_sha256: str
    embedding_model: dict[str, Any]
    text_strategy: str
    embedding_truncation: dict[str, Any]
    pairing: dict[str, Any]
    seed: int
    versions: dict[str, str]


class FigureFiles(TypedDict):
    """``files.figures``: each figure's paths (PNG and PDF); ``reliability_recalibrated`` only
    when both compared models could be recalibrated."""

    roc: list[str]
    pr: list[str]
    reliability: list[str]
    curves: list[str]
    reliability_recalibrated: NotRequired[list[str]]
    decision_curve: list[str]


class OutputFiles(TypedDict):
    """``files``: the paths the run wrote, as given by ``--out-dir``."""

    checkpoint: str
    results: str
    predictions: str
    report: str
    tables: list[str]
    figures: FigureFiles


class ResplitRow(TypedDict):
    """``resplits.per_split[i]``: one redraw (see :func:`multimodal_deterioration.evidence.resplits.
    run_resplits`); AUROCs on that redraw's test split, ``notes_in_several_splits`` None when
    the data have no note indices."""

    split: int
    seed: int
    test_samples: int
    test_positives: int
    multimodal_auroc: float
    vital_only_auroc: float
    difference: float
    notes_in_several_splits: int | None


class ResplitMoments(TypedDict):
    """Mean or sample SD (ddof=1) of the test AUROCs over redraws."""

    multimodal: float
    vital_only: float
    difference: float


class ResplitSummary(TypedDict):
    """``resplits`` (only with ``--resplits K``): both models retrained on K redrawn splits.

    ``k`` redraws with seeds ``seed``, ``seed + 1``, ..., each trained with ``training_seed``,
    grouped by ``grouped_by``; ``difference_range`` is [min, max] of multimodal minus
    vital-only, ``splits_multimodal_better`` the redraws where it is positive, ``note`` the
    design in words. Variation over splits, not a confidence interval on the fixed split.
    """

    k: int
    seed: int
    training_seed: int
    grouped_by: Literal["sample id", "sample"]
    per_split: list[ResplitRow]
    mean: ResplitMoments
    sd: ResplitMoments
    difference_range: list[float]
    splits_multimodal_better: int
    note: str


class ResultsFile(Results):
    """``multimodal_results.json``: :class:`Results` plus what the training run adds
    (:func:`multimodal_deterioration.evidence.study.run_study`): ``run``, ``meta``, ``files`` and, with
    ``--resplits``, ``resplits``."""

    run: RunRecord
    meta: DataMeta
    files: OutputFiles
    resplits: NotRequired[ResplitSummary]
