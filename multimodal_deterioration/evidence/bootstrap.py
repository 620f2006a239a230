"""Stratified, paired, percentile bootstrap confidence intervals for every model's metrics.

Rows (or whole groups, e.g. a patient's rows) are resampled within each class, every model is
scored on the same resamples so that a difference between two models is paired, and the values
of the resamples become percentile intervals. The conventions of
:mod:`multimodal_deterioration.evidence.evaluation` hold here too: 1 = deteriorated, a row is predicted
positive when ``prob >= threshold``, and errors a user can cause raise ``PipelineError``.

A resample is never materialised as rows: it is a vector of row weights (how often each row was
drawn), and each metric is a weighted sum over the rows of a model ranked once, so thousands of
resamples of several models take seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..base.errors import PipelineError
from .evaluation import _as_labels, _as_scores, _group_codes

# Enough resamples for stable 2.5/97.5 percentiles (Efron & Tibshirani 1993, ch. 13 suggest
# 1,000 or more for percentile intervals).
DEFAULT_BOOTSTRAP_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_BOOTSTRAP_SEED = 0
# Resamples are scored in blocks of about this many (resample x row) cells, so memory stays
# near 16 MB per float64 matrix whatever the number of resamples.
BOOTSTRAP_BLOCK_CELLS = 2_000_000


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
    y = _as_labels(y_true)
    n_resamples = _positive_int(n_resamples, "n_resamples")
    group_of_row = np.arange(y.size) if groups is None else _group_codes(groups, y.size)
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


@dataclass(frozen=True)
class _RankedModel:
    """One model's score orderings (and probabilities), computed once and reused by every
    resample.

    Per-positive arrays follow the order of ``positive_rows`` in :func:`bootstrap_replicates`.
    """

    positives_ascending: np.ndarray  # row indices of positives, by increasing score
    negatives_ascending: np.ndarray  # row indices of negatives, by increasing score
    positives_below: np.ndarray  # per positive: positives scored strictly lower
    negatives_below: np.ndarray  # per positive: negatives scored strictly lower
    negatives_not_above: np.ndarray  # per positive: negatives scored lower or equal
    # Per-row values whose weighted sums give the remaining metrics, one row of the array per
    # value, so that each class needs a single matrix product per block:
    # positives: flagged (score >= threshold), and if probabilities, p and (1 - p)^2;
    # negatives: not flagged, and if probabilities, p and p^2.
    positive_values: np.ndarray
    negative_values: np.ndarray


def _rank_model(
    scores: np.ndarray,
    positive_rows: np.ndarray,
    negative_rows: np.ndarray,
    threshold: float,
    probabilities: bool,
) -> _RankedModel:
    positives_ascending = positive_rows[np.argsort(scores[positive_rows], kind="stable")]
    negatives_ascending = negative_rows[np.argsort(scores[negative_rows], kind="stable")]
    positive_scores = scores[positive_rows]
    negative_scores = scores[negative_rows]
    sorted_negatives = scores[negatives_ascending]
    positive_values = [positive_scores >= threshold]
    negative_values = [negative_scores < threshold]
    if probabilities:
        positive_values += [positive_scores, (1.0 - positive_scores) ** 2]
        negative_values += [negative_scores, negative_scores**2]
    return _RankedModel(
        positives_ascending=positives_ascending,
        negatives_ascending=negatives_ascending,
        positives_below=np.searchsorted(scores[positives_ascending], positive_scores, "left"),
        negatives_below=np.searchsorted(sorted_negatives, positive_scores, "left"),
        negatives_not_above=np.searchsorted(sorted_negatives, positive_scores, "right"),
        positive_values=np.vstack(positive_values).astype(np.float64),
        negative_values=np.vstack(negative_values).astype(np.float64),
    )


@dataclass(frozen=True)
class _ResampleBlock:
    """A block of resamples, split by class once and shared by every model."""

    weights: np.ndarray  # rows x resamples: how often each row was drawn
    positive_weights: np.ndarray  # weights[positive_rows]
    negative_weights: np.ndarray  # weights[negative_rows]
    positive_total: np.ndarray  # per resample: positives drawn
    negative_total: np.ndarray  # per resample: negatives drawn


def _resample_block(
    chunk: Sequence[np.ndarray], n_rows: int, positive_rows: np.ndarray, negative_rows: np.ndarray
) -> _ResampleBlock:
    # Rows x resamples, so gathering rows in score order copies contiguous memory and
    # cumulative sums run down the rows.
    weights = np.column_stack([np.bincount(rows, minlength=n_rows) for rows in chunk]).astype(
        np.float64
    )
    positive_weights = weights[positive_rows]
    negative_weights = weights[negative_rows]
    return _ResampleBlock(
        weights=weights,
        positive_weights=positive_weights,
        negative_weights=negative_weights,
        positive_total=positive_weights.sum(axis=0),
        negative_total=negative_weights.sum(axis=0),
    )


def _cumulative_weights(weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Row k: total weight of the first k of ``rows`` (so row 0 is zero), per resample."""
    cumulative = np.zeros((rows.size + 1, weights.shape[1]))
    np.cumsum(weights[rows], axis=0, out=cumulative[1:])
    return cumulative


def _weighted_ranking_metrics(
    model: _RankedModel, block: _ResampleBlock
) -> tuple[np.ndarray, np.ndarray]:
    """AUROC and average precision per resample; ``block.weights[i, r]`` is how often row i
    was drawn in resample r.

    They equal roc_auc_score and average_precision_score on the resampled rows:
    AUROC = mean over drawn (positive, negative) pairs of [positive above] + 1/2 [tie];
    AP = mean over drawn positives of the precision at that positive's score used as the
    threshold (tied positives share one threshold, as in scikit-learn's step-wise sum).
    """
    positive_weights = block.positive_weights
    positive_total, negative_total = block.positive_total, block.negative_total
    below_negatives = _cumulative_weights(block.weights, model.negatives_ascending)
    below_positives = _cumulative_weights(block.weights, model.positives_ascending)

    wins = below_negatives[model.negatives_below] + below_negatives[model.negatives_not_above]
    auroc_values = (
        0.5 * np.einsum("ir,ir->r", positive_weights, wins) / (positive_total * negative_total)
    )

    true_pos = positive_total - below_positives[model.positives_below]
    flagged = true_pos + negative_total - below_negatives[model.negatives_below]
    # A positive not drawn in a resample has weight 0, so its 0/0 precision is never used.
    precision = np.divide(true_pos, flagged, out=np.zeros_like(true_pos), where=flagged > 0)
    average_precision = np.einsum("ir,ir->r", positive_weights, precision) / positive_total
    return auroc_values, average_precision


def _score_block(model: _RankedModel, block: _ResampleBlock) -> dict[str, np.ndarray]:
    """Every bootstrap metric of one model for a block of resamples (columns of weights)."""
    auroc_values, average_precision = _weighted_ranking_metrics(model, block)
    # einsum, not @: OpenBLAS threads made these small products 10-60x slower whenever other
    # work kept the cores busy (2-core machine); on idle cores a whole run takes as long.
    positive_sums = np.einsum("ki,ir->kr", model.positive_values, block.positive_weights)
    negative_sums = np.einsum("ki,ir->kr", model.negative_values, block.negative_weights)
    values = {
        "auroc": auroc_values,
        "auprc": average_precision,
        "sensitivity": positive_sums[0] / block.positive_total,
        "specificity": negative_sums[0] / block.negative_total,
    }
    if len(positive_sums) > 1:  # the probability rows of positive_values are present
        values["brier"] = (positive_sums[2] + negative_sums[2]) / (
            block.positive_total + block.negative_total
        )
        values["discrimination_slope"] = (
            positive_sums[1] / block.positive_total - negative_sums[1] / block.negative_total
        )
    return values


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
    """The metric of every resample, each an array of length ``n_resamples``::

        {model: {"auroc", "auprc", "sensitivity", "specificity",
                 "brier", "discrimination_slope"},
         "<a>_minus_<b>": {"auroc", "auprc", "brier", "discrimination_slope"}}

    Every model is scored on the same resamples (paired), drawn by
    :func:`stratified_bootstrap_indices`, and a difference is model a's value minus model
    b's in the same resample. ``brier`` is the mean squared error of the probability (so a
    negative Brier difference favours a); ``discrimination_slope`` is Yates' slope, the mean
    probability of the positives minus that of the negatives, and its difference is the
    integrated discrimination improvement (IDI) of Pencina et al. (2008) of a over b. Both
    need probabilities: they are present only when every model's scores lie in [0, 1], and
    left out (for every model and difference) otherwise. Each value equals the metric
    computed on the resampled rows. :func:`bootstrap_confidence_intervals` turns these into
    percentile intervals; they are exposed for histograms and further tests.

    Args:
        y_true: 0/1 labels, both classes present.
        predictions: model name -> one score per row (probabilities for every metric,
            any scores for AUROC, AUPRC, sensitivity and specificity).
        thresholds: model name -> threshold for sensitivity and specificity (e.g. each
            model's :func:`~multimodal_deterioration.evidence.evaluation.youden_threshold` on
            validation data), or one float for every model.
        n_resamples: number of resamples.
        seed: seed of the resampling; the same seed gives the same values.
        groups: optional id per row; whole groups are resampled (see
            :func:`stratified_bootstrap_indices`).
        paired_differences: ``(a, b)`` name pairs whose differences a - b are wanted.
        progress: show a tqdm bar.

    Returns:
        The nested dict above, each leaf a float array of length ``n_resamples``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = (rng.random(300) < 0.3).astype(int)
        >>> fused = 1 / (1 + np.exp(-(2 * y + rng.normal(size=300) - 1)))
        >>> vitals = 1 / (1 + np.exp(-(y + rng.normal(size=300) - 0.5)))
        >>> values = bootstrap_replicates(
        ...     y, {"fused": fused, "vitals": vitals}, n_resamples=500,
        ...     paired_differences=[("fused", "vitals")],
        ... )
        >>> values["fused"]["auroc"].shape
        (500,)
        >>> # bootstrap standard error of the AUROC gain
        >>> round(float(np.std(values["fused_minus_vitals"]["auroc"], ddof=1)), 2)
        0.03
    """
    y = _as_labels(y_true)
    if not predictions:
        raise PipelineError("no predictions to bootstrap; pass at least one model's scores")
    names = list(predictions)
    scores = {
        name: _as_scores(predictions[name], y.size, f"predictions of {name}") for name in names
    }
    model_thresholds = _resolve_thresholds(thresholds, names)
    pairs = [(str(a), str(b)) for a, b in paired_differences]
    for name_a, name_b in pairs:
        for name in (name_a, name_b):
            if name not in scores:
                raise PipelineError(
                    f"paired difference names model {name}, which is not among the "
                    f"predictions ({', '.join(names)}); fix the name"
                )
        if _difference_key(name_a, name_b) in scores:
            raise PipelineError(
                f"model name {_difference_key(name_a, name_b)} clashes with a paired "
                "difference key; rename the model"
            )

    indices = stratified_bootstrap_indices(y, n_resamples, seed, groups)
    positive_rows = np.flatnonzero(y == 1)
    negative_rows = np.flatnonzero(y == 0)
    probabilities = all(s.min() >= 0.0 and s.max() <= 1.0 for s in scores.values())
    probability_metrics = ("brier", "discrimination_slope") if probabilities else ()
    ranked = {
        name: _rank_model(
            scores[name], positive_rows, negative_rows, model_thresholds[name], probabilities
        )
        for name in names
    }
    metrics = ("auroc", "auprc", "sensitivity", "specificity", *probability_metrics)
    values = {name: {metric: np.empty(n_resamples) for metric in metrics} for name in names}

    block = max(1, BOOTSTRAP_BLOCK_CELLS // y.size)
    done = 0
    with tqdm(total=n_resamples, desc="bootstrap", unit="resample", disable=not progress) as bar:
        while done < n_resamples:
            chunk = list(itertools.islice(indices, block))
            resamples = _resample_block(chunk, y.size, positive_rows, negative_rows)
            span = slice(done, done + len(chunk))
            for name, model in ranked.items():
                block_values = _score_block(model, resamples)
                for metric, metric_values in block_values.items():
                    values[name][metric][span] = metric_values
            done += len(chunk)
            bar.update(len(chunk))

    for name_a, name_b in pairs:
        values[_difference_key(name_a, name_b)] = {
            metric: values[name_a][metric] - values[name_b][metric]
            for metric in ("auroc", "auprc", *probability_metrics)
        }
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
    """Stratified, paired, percentile bootstrap intervals.

    Returns ``{model: {"auroc": [lo, hi], "auprc": [...], "sensitivity": [...],
    "specificity": [...], "brier": [...], "discrimination_slope": [...]},
    "<a>_minus_<b>": {"auroc": [lo, hi], "auprc": [...], "brier": [...],
    "discrimination_slope": [...]}}``, the metrics of :func:`bootstrap_replicates`: ``brier``
    and ``discrimination_slope`` only when every model's scores are probabilities in [0, 1];
    the difference's ``discrimination_slope`` is the IDI of a over b (Pencina et al. 2008).
    Sensitivity and specificity use each model's threshold (a dict per model, or one float).
    Every model sees the same resamples, so a difference interval reflects the pairing. See
    :func:`stratified_bootstrap_indices` for the resampling and ``groups``. Interval ends are
    numpy's linearly interpolated percentiles of the resample values.

    Args:
        y_true, predictions, thresholds, n_resamples, seed, groups, paired_differences,
            progress: as for :func:`bootstrap_replicates`.
        confidence: coverage of each interval, strictly between 0 and 1 (0.95: the 2.5th and
            97.5th percentiles).

    Returns:
        The nested dict above, each leaf a ``[low, high]`` list of two floats (JSON-ready).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = (rng.random(300) < 0.3).astype(int)
        >>> fused = 1 / (1 + np.exp(-(2 * y + rng.normal(size=300) - 1)))
        >>> vitals = 1 / (1 + np.exp(-(y + rng.normal(size=300) - 0.5)))
        >>> intervals = bootstrap_confidence_intervals(
        ...     y, {"fused": fused, "vitals": vitals}, n_resamples=500,
        ...     paired_differences=[("fused", "vitals")],
        ... )
        >>> sorted(intervals)
        ['fused', 'fused_minus_vitals', 'vitals']
        >>> # the AUROC gain's interval excludes 0
        >>> [round(end, 2) for end in intervals["fused_minus_vitals"]["auroc"]]
        [0.12, 0.24]
    """
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise PipelineError(f"confidence must lie strictly between 0 and 1, got {confidence}")
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
    tail = 100.0 * (1.0 - confidence) / 2.0
    return {
        key: {
            metric: [float(v) for v in np.percentile(samples, [tail, 100.0 - tail])]
            for metric, samples in by_metric.items()
        }
        for key, by_metric in replicates.items()
    }
