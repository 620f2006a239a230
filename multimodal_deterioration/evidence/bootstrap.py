"""Stratified, paired, percentile bootstrap confidence intervals for every model's metrics.

Rows (or whole groups, e.g. a patient's rows) are resampled within each class, every model is
scored on the same resamples so that a difference between two models is paired, and the values
of the resamples become percentile intervals. The conventions of
:mod:`multimodal_deterioration.evidence.evaluation` hold here too: 1 = deteriorated, a row is predicted
positive when ``prob >= threshold``, and errors a user can cause raise ``PipelineError``.

The metrics, for each model and resample: ``auroc``, ``auprc`` (average precision),
``sensitivity`` and ``specificity`` at the model's threshold, ``brier`` (the mean squared error
of the probability, so a negative Brier difference favours model a) and
``discrimination_slope`` (Yates' slope: the mean probability of the positives minus that of the
negatives; its difference a - b is the integrated discrimination improvement, IDI, of Pencina
et al. 2008). The last two need probabilities: they are present only when every model's scores
lie in [0, 1], and left out (for every model and difference) otherwise.

A resample is never materialised as rows: it is a vector of row weights (how often each row was
drawn), and each metric is a weighted sum over the rows of a model ranked once
(:mod:`multimodal_deterioration.evidence.resample_scoring`), so thousands of resamples of
several models take seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from ..base.errors import PipelineError
from ..base.inputs import as_labels, as_scores, group_codes
from ..base.progress import progress_bar
from .resample_scoring import rank_model, resample_block, score_block

# Enough resamples for stable 2.5/97.5 percentiles (Efron & Tibshirani 1993, ch. 13 suggest
# 1,000 or more for percentile intervals).
DEFAULT_BOOTSTRAP_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_BOOTSTRAP_SEED = 0
# Resamples are scored in blocks of about this many (resample x row) cells, so memory stays
# near 16 MB per float64 matrix whatever the number of resamples.
BOOTSTRAP_BLOCK_CELLS = 2_000_000
# Each model's metrics, those of a paired difference, and those that need probabilities.
MODEL_METRICS = ("auroc", "auprc", "sensitivity", "specificity", "brier", "discrimination_slope")
DIFFERENCE_METRICS = ("auroc", "auprc", "brier", "discrimination_slope")
PROBABILITY_METRICS = ("brier", "discrimination_slope")


def stratified_bootstrap_indices(
    y_true, n_resamples: int, seed: int, groups=None
) -> Iterator[np.ndarray]:
    """Yield ``n_resamples`` arrays of row indices, each a stratified bootstrap resample.

    Without ``groups``: positives and negatives are drawn separately with replacement, each
    keeping its count, so every resample has both classes in the original numbers. With
    ``groups`` (one id per row, e.g. the patient): whole groups are drawn instead, so a
    patient's rows always move together; groups are stratified by whether they contain any
    positive row, and each stratum keeps its number of groups. Each yielded array lists the
    drawn positives (or positive groups' rows) first. The first k resamples are the same
    whatever ``n_resamples`` is, so asking for more only extends the sequence.

    Args:
        y_true: 0/1 labels; at least one row (or group) with a positive and one without.
        n_resamples: how many resamples to yield, a positive integer.
        seed: seed of numpy's default generator; the same seed gives the same resamples.
        groups: optional id per row (e.g. ``ids_test``, the patient or stay): numbers or
            strings, in any order, not necessarily 0..G-1.

    Returns:
        An iterator of ``n_resamples`` int arrays, each as long as the rows drawn (N without
        groups; with groups, the rows of the drawn groups, which may differ from N).

    Example:
        >>> y = np.array([0, 0, 0, 1, 1, 0, 0, 1])
        >>> [int(y[rows].sum()) for rows in stratified_bootstrap_indices(y, 3, seed=0)]
        [3, 3, 3]
        >>> # patients 8, 9, 10 have a positive row: each resample draws three of them (with
        >>> # replacement) and one patient without, and takes both rows of every drawn patient
        >>> patient = np.array([7, 7, 8, 8, 9, 9, 10, 10])
        >>> next(stratified_bootstrap_indices(y, 1, seed=0, groups=patient))
        array([6, 7, 4, 5, 4, 5, 0, 1])
    """
    y = as_labels(y_true)
    n_resamples = _positive_int(n_resamples, "n_resamples")
    group_of_row = np.arange(y.size) if groups is None else group_codes(groups, y.size)
    group_sizes = np.bincount(group_of_row)
    group_has_positive = np.bincount(group_of_row, weights=y) > 0
    positive_groups = np.flatnonzero(group_has_positive)
    negative_groups = np.flatnonzero(~group_has_positive)
    if positive_groups.size == 0 or negative_groups.size == 0:
        unit = "row" if groups is None else "group"
        raise PipelineError(
            f"the stratified bootstrap needs at least one {unit} with a positive and one "
            f"without, got {positive_groups.size} and {negative_groups.size}; evaluate on a "
            "split that contains both outcomes"
        )
    rows_by_group = np.argsort(group_of_row, kind="stable")
    group_starts = np.cumsum(group_sizes) - group_sizes
    return _draw_resamples(
        np.random.default_rng(seed),
        n_resamples,
        positive_groups,
        negative_groups,
        rows_by_group,
        group_starts,
        group_sizes,
    )


def _draw_resamples(
    rng: np.random.Generator,
    n_resamples: int,
    positive_groups: np.ndarray,
    negative_groups: np.ndarray,
    rows_by_group: np.ndarray,
    group_starts: np.ndarray,
    group_sizes: np.ndarray,
) -> Iterator[np.ndarray]:
    for _ in range(n_resamples):
        drawn = np.concatenate(
            [
                positive_groups[rng.integers(0, positive_groups.size, positive_groups.size)],
                negative_groups[rng.integers(0, negative_groups.size, negative_groups.size)],
            ]
        )
        lengths = group_sizes[drawn]
        # Position of every drawn row inside rows_by_group: its group's start plus 0..size-1.
        first_slot = np.cumsum(lengths) - lengths
        positions = np.repeat(group_starts[drawn] - first_slot, lengths) + np.arange(lengths.sum())
        yield rows_by_group[positions]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise PipelineError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _difference_key(name_a: str, name_b: str) -> str:
    return f"{name_a}_minus_{name_b}"


def _resolve_thresholds(
    thresholds: Mapping[str, float] | float, names: Sequence[str]
) -> dict[str, float]:
    if isinstance(thresholds, Mapping):
        missing = [name for name in names if name not in thresholds]
        if missing:
            raise PipelineError(
                f"no threshold given for model(s) {', '.join(missing)}; pass one threshold per "
                "model (e.g. each model's youden_threshold on validation data) or one float"
            )
        resolved = {name: float(thresholds[name]) for name in names}
    else:
        resolved = {name: float(thresholds) for name in names}
    for name, value in resolved.items():
        if np.isnan(value):
            raise PipelineError(f"the threshold for model {name} is NaN; choose a number")
    return resolved


def bootstrap_replicates(
    y_true,
    predictions: Mapping[str, np.ndarray],
    *,
    thresholds: Mapping[str, float] | float = 0.5,
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    groups: np.ndarray | None = None,
    paired_differences: Sequence[tuple[str, str]] = (),
    progress: bool = False,
) -> dict[str, dict[str, np.ndarray]]:
    """Every model's metrics in every resample (defined in the module docstring)::

        {model: {"auroc", "auprc", "sensitivity", "specificity",
                 "brier", "discrimination_slope"},
         "<a>_minus_<b>": {"auroc", "auprc", "brier", "discrimination_slope"}}

    Every model is scored on the same resamples of :func:`stratified_bootstrap_indices`
    (paired), a difference is model a's value minus model b's in the same resample, and each
    value equals the metric computed on the resampled rows. :func:`bootstrap_confidence_intervals`
    turns them into percentile intervals; these are for histograms and further tests.

    Args:
        y_true: 0/1 labels, both classes present.
        predictions: model name -> one score per row (probabilities for every metric,
            any scores for AUROC, AUPRC, sensitivity and specificity).
        thresholds: model name -> threshold for sensitivity and specificity (e.g. each
            model's ``youden_threshold`` on validation data), or one float for every model.
        n_resamples, seed, groups: as for :func:`stratified_bootstrap_indices` (the same seed
            gives the same values; with groups, whole groups are resampled).
        paired_differences: ``(a, b)`` name pairs whose differences a - b are wanted.
        progress: show a progress bar where one can be drawn (at a terminal).

    Returns:
        The nested dict above, each leaf a float array of length ``n_resamples``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = (rng.random(300) < 0.3).astype(int)
        >>> fused = 1 / (1 + np.exp(-(2 * y + rng.normal(size=300) - 1)))
        >>> vitals = 1 / (1 + np.exp(-(y + rng.normal(size=300) - 0.5)))
        >>> values = bootstrap_replicates(y, {"fused": fused, "vitals": vitals},
        ...     n_resamples=500, paired_differences=[("fused", "vitals")])
        >>> values["fused"]["auroc"].shape
        (500,)
        >>> # bootstrap standard error of the AUROC gain
        >>> round(float(np.std(values["fused_minus_vitals"]["auroc"], ddof=1)), 2)
        0.03
    """
    y = as_labels(y_true)
    scores = _model_scores(predictions, y.size)
    model_thresholds = _resolve_thresholds(thresholds, list(scores))
    pairs = _checked_pairs(paired_differences, scores)
    indices = stratified_bootstrap_indices(y, n_resamples, seed, groups)
    probabilities = all(s.min() >= 0.0 and s.max() <= 1.0 for s in scores.values())
    values = _score_resamples(
        scores, model_thresholds, probabilities, y, indices, n_resamples, progress
    )
    return values | _paired_differences(values, pairs, probabilities)


def _paired_differences(
    values: Mapping[str, Mapping[str, np.ndarray]],
    pairs: Sequence[tuple[str, str]],
    probabilities: bool,
) -> dict[str, dict[str, np.ndarray]]:
    """``{"<a>_minus_<b>": {metric: a's values - b's}}`` for the metrics of a difference."""
    metrics = _metrics_of(DIFFERENCE_METRICS, probabilities)
    return {
        _difference_key(a, b): {metric: values[a][metric] - values[b][metric] for metric in metrics}
        for a, b in pairs
    }


def _metrics_of(metrics: Sequence[str], probabilities: bool) -> tuple[str, ...]:
    """``metrics`` without those of :data:`PROBABILITY_METRICS` unless ``probabilities``."""
    return tuple(m for m in metrics if probabilities or m not in PROBABILITY_METRICS)


def _model_scores(predictions: Mapping[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    """Every model's scores, checked: one finite score per row."""
    if not predictions:
        raise PipelineError("no predictions to bootstrap; pass at least one model's scores")
    return {
        name: as_scores(predictions[name], n_rows, f"predictions of {name}") for name in predictions
    }


def _checked_pairs(
    paired_differences: Sequence[tuple[str, str]], scores: Mapping[str, np.ndarray]
) -> list[tuple[str, str]]:
    """The ``(a, b)`` pairs as names, each naming two models and no difference key clashing
    with a model's name."""
    pairs = [(str(a), str(b)) for a, b in paired_differences]
    for name_a, name_b in pairs:
        for name in (name_a, name_b):
            if name not in scores:
                raise PipelineError(
                    f"paired difference names model {name}, which is not among the "
                    f"predictions ({', '.join(scores)}); fix the name"
                )
        if _difference_key(name_a, name_b) in scores:
            raise PipelineError(
                f"model name {_difference_key(name_a, name_b)} clashes with a paired "
                "difference key; rename the model"
            )
    return pairs


def _score_resamples(
    scores: Mapping[str, np.ndarray],
    thresholds: Mapping[str, float],
    probabilities: bool,
    y: np.ndarray,
    indices: Iterator[np.ndarray],
    n_resamples: int,
    progress: bool,
) -> dict[str, dict[str, np.ndarray]]:
    """``{model: {metric: value per resample}}``: each model ranked once, then the resamples
    drawn from ``indices`` scored in blocks of about :data:`BOOTSTRAP_BLOCK_CELLS` cells."""
    positive_rows = np.flatnonzero(y == 1)
    negative_rows = np.flatnonzero(y == 0)
    ranked = {
        name: rank_model(
            scores[name], positive_rows, negative_rows, thresholds[name], probabilities
        )
        for name in scores
    }
    metrics = _metrics_of(MODEL_METRICS, probabilities)
    values = {name: {metric: np.empty(n_resamples) for metric in metrics} for name in ranked}
    block = max(1, BOOTSTRAP_BLOCK_CELLS // y.size)
    done = 0
    with progress_bar(
        total=n_resamples, enabled=progress, desc="bootstrap", unit="resample"
    ) as bar:
        while done < n_resamples:
            chunk = list(itertools.islice(indices, block))
            resamples = resample_block(chunk, y.size, positive_rows, negative_rows)
            span = slice(done, done + len(chunk))
            for name, model in ranked.items():
                for metric, metric_values in score_block(model, resamples).items():
                    values[name][metric][span] = metric_values
            done += len(chunk)
            bar.update(len(chunk))
    return values


def bootstrap_confidence_intervals(
    y_true,
    predictions: Mapping[str, np.ndarray],
    *,
    thresholds: Mapping[str, float] | float = 0.5,
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    groups: np.ndarray | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    paired_differences: Sequence[tuple[str, str]] = (),
    progress: bool = False,
) -> dict:
    """Stratified, paired, percentile bootstrap intervals of the metrics of
    :func:`bootstrap_replicates` (defined in the module docstring), sensitivity and specificity
    at each model's threshold. Every model sees the same resamples, so a difference interval
    reflects the pairing; :func:`percentile_interval` gives the interval ends.

    Args:
        y_true, predictions, thresholds, n_resamples, seed, groups, paired_differences,
            progress: as for :func:`bootstrap_replicates`.
        confidence: coverage of each interval, strictly between 0 and 1 (0.95: the 2.5th and
            97.5th percentiles).

    Returns:
        ``{model or "<a>_minus_<b>": {metric: [low, high]}}`` for the models, differences and
        metrics of :func:`bootstrap_replicates`, each interval two floats (JSON-ready).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = (rng.random(300) < 0.3).astype(int)
        >>> fused = 1 / (1 + np.exp(-(2 * y + rng.normal(size=300) - 1)))
        >>> vitals = 1 / (1 + np.exp(-(y + rng.normal(size=300) - 0.5)))
        >>> intervals = bootstrap_confidence_intervals(y, {"fused": fused, "vitals": vitals},
        ...     n_resamples=500, paired_differences=[("fused", "vitals")])
        >>> sorted(intervals)
        ['fused', 'fused_minus_vitals', 'vitals']
        >>> # the AUROC gain's interval excludes 0
        >>> [round(end, 2) for end in intervals["fused_minus_vitals"]["auroc"]]
        [0.12, 0.24]
    """
    confidence = _checked_confidence(confidence)
    replicates = bootstrap_replicates(
        y_true,
        predictions,
        thresholds=thresholds,
        n_resamples=n_resamples,
        seed=seed,
        groups=groups,
        paired_differences=paired_differences,
        progress=progress,
    )
    return {
        key: {
            metric: percentile_interval(samples, confidence)
            for metric, samples in by_metric.items()
        }
        for key, by_metric in replicates.items()
    }


def _checked_confidence(confidence) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise PipelineError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return confidence


def percentile_interval(values: np.ndarray, confidence: float) -> list[float]:
    """The central ``confidence`` interval of ``values``: numpy's linearly interpolated
    percentiles, as ``[low, high]`` floats (JSON-ready).

    >>> percentile_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.5)  # 25th and 75th
    [2.0, 4.0]
    """
    tail = 100.0 * (1.0 - confidence) / 2.0
    return [float(v) for v in np.percentile(values, [tail, 100.0 - tail])]
