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

This module declares the top level (:class:`Results`, :class:`ResultsFile`) and what the run
adds; the sections are declared in :mod:`multimodal_deterioration.evidence.schema_main_seed`
(the main seed's fitted models) and :mod:`multimodal_deterioration.evidence.schema_over_seeds`
(read over every seed), and every class is importable from here.
"""

# No ``from __future__ import annotations``: on Python 3.11 it hides ``NotRequired`` from
# ``TypedDict``, which then lists every key in ``__required_keys__``.
from typing import Any, Literal, NotRequired, TypedDict

from .schema_main_seed import (
    Architecture,
    BootstrapSettings,
    CalibrationChange,
    ComparedCurves,
    ComparedRanges,
    DataSummary,
    DecisionCurve,
    DeLongSummary,
    DifferenceIntervals,
    Interval,
    ModelIntervals,
    ModelMetrics,
    NetBenefit,
    PairingSummary,
    RecalibratedMetrics,
    SplitCounts,
    Statistics,
    ThresholdMetrics,
    TrainingOutcome,
)
from .schema_over_seeds import (
    AddedValue,
    Attribution,
    ComparedMetric,
    Comparison,
    Comparisons,
    ControlReading,
    ControlsNotRun,
    ControlsRun,
    GainVerdict,
    ModelOverSeeds,
    OverVitalOnly,
    SeedAveragedChange,
    SeedAveragedMetric,
    SeedSummary,
    SubgroupResult,
    Subgroups,
)

# Every class of the schema, its sections included, so a reader imports them from here.
__all__ = [
    "SubgroupResult",
    "Subgroups",
    "Interval",
    "SplitCounts",
    "DataSummary",
    "PairingSummary",
    "ThresholdMetrics",
    "CalibrationChange",
    "RecalibratedMetrics",
    "ModelMetrics",
    "ModelIntervals",
    "DifferenceIntervals",
    "BootstrapSettings",
    "DeLongSummary",
    "Statistics",
    "NetBenefit",
    "ComparedCurves",
    "ComparedRanges",
    "DecisionCurve",
    "TrainingOutcome",
    "Architecture",
    "GainVerdict",
    "Attribution",
    "SeedAveragedChange",
    "OverVitalOnly",
    "AddedValue",
    "ComparedMetric",
    "Comparison",
    "SeedAveragedMetric",
    "ModelOverSeeds",
    "Comparisons",
    "SeedSummary",
    "ControlReading",
    "ControlsNotRun",
    "ControlsRun",
    "Results",
    "RunConfig",
    "RunSeconds",
    "RunRecord",
    "DataMeta",
    "FigureFiles",
    "OutputFiles",
    "ResplitRow",
    "ResplitMoments",
    "ResplitSummary",
    "ResultsFile",
]


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
    ``statistics``, ``comparisons``, ``added_value``, ``seeds``, ``controls``, ``subgroups``
    (by note availability and recency), ``model_parameters`` (trainable
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
    subgroups: Subgroups
    model_parameters: dict[str, int]
    architecture: dict[str, Architecture]
    training: dict[str, TrainingOutcome]


class RunConfig(TypedDict):
    """``run.config``: every setting of the run, one key per field of the config dataclasses.

    In order: ``TrainingConfig`` (``epochs``, ``patience``, ``batch_size``, ``learning_rate``,
    ``grad_clip``, ``cuda_graph``); ``ExperimentConfig`` (``dropout``, ``standardize``,
    ``seeds``: the training seeds, the first the main seed, ``ablations``: whether the controls
    ran, ``train_workers``: ``--train-workers``, None for one per core, and ``note_indicator``:
    whether the text input carried the note-availability columns);
    ``EvaluationSettings`` (``reported_baseline_auroc``, ``bootstrap_resamples``,
    ``bootstrap_seed``, ``min_gain``, ``recalibration``); ``StudyConfig`` (``data_file``,
    ``vitals_file``, ``ablations_setting``: the ``--ablations`` flag, ``ablations_auto_limit``:
    the training samples x seeds up to which ``auto`` runs the controls, ``resplits``: None when
    off). Training's settings are those the models were trained with, ``data_file`` and
    ``vitals_file`` the files read by this evaluation, and evaluation's those it used. Each
    field's meaning is declared with the field.
    """

    epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    grad_clip: float
    cuda_graph: bool
    dropout: float
    standardize: bool
    seeds: list[int]
    ablations: bool
    train_workers: int | None
    note_indicator: bool
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


class RunSeconds(TypedDict):
    """``run.seconds``: wall time of training (as saved with the predictions) and of this
    evaluation."""

    training: float
    evaluation: float


class RunRecord(TypedDict):
    """``run``: what produced these results (:func:`multimodal_deterioration.evidence.study.
    run_record`).

    ``config`` holds every setting once; ``created_utc`` is when these results were made and
    ``trained_utc`` when the models were trained (ISO 8601 times; they differ when saved
    predictions were evaluated again), ``device`` where training ran, ``data_sha256`` the hash
    of the data file (``run.config.data_file``) and ``vitals_sha256`` that of the ``--vitals``
    file (None unless given), ``versions`` the Python and package versions and ``seconds`` the
    wall times.
    """

    config: RunConfig
    created_utc: str
    trained_utc: str
    device: str
    data_sha256: str
    vitals_sha256: str | None
    versions: dict[str, str]
    seconds: RunSeconds


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
    """``files``: the paths the run wrote, as given by ``--out-dir``: ``predictions`` the test
    predictions (CSV), ``saved_predictions`` every model's and seed's validation and test
    predictions (``predictions.parquet``, what ``--evaluate-only`` reads); ``checkpoint`` is
    absent when an evaluation of saved predictions found no checkpoint to copy."""

    checkpoint: NotRequired[str]
    results: str
    predictions: str
    saved_predictions: str
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
