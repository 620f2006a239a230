"""The sections of ``multimodal_results.json`` that describe the main seed's fitted models.

Part of :mod:`multimodal_deterioration.evidence.results_schema` (its conventions hold here, and
every class is importable from there): the data and the pairing they came with, and the main
seed's ``metrics``, ``confidence_intervals``, ``bootstrap``, ``statistics``, ``decision_curve``,
``training`` and ``architecture``. The sections read over every seed are in
:mod:`multimodal_deterioration.evidence.schema_over_seeds`.
"""

# No ``from __future__ import annotations``: on Python 3.11 it hides ``NotRequired`` from
# ``TypedDict``, which then lists every key in ``__required_keys__``.
from typing import Literal, NotRequired, TypedDict

Interval = list[float]
"""A 95% percentile bootstrap interval, ``[low, high]``."""


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
    - ``reused_samples``: samples that share their note with another sample of their split
      (a pool with fewer notes than samples).
    """

    method: str | None
    seed: int | None
    clinically_linked: bool
    timing_checked: bool | None
    description: str | None
    warnings: list[str]
    reused_samples: int


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
