"""A model's bootstrap metrics on a block of resamples at once, as weighted sums over its rows.

A resample is never materialised as rows: it is a vector of row weights (how often each row was
drawn), and each metric is a weighted sum over the rows of a model ranked once, so thousands of
resamples of several models take seconds. :func:`rank_model` orders a model's scores once,
:func:`resample_block` turns a block of resampled row indices into weights, and
:func:`score_block` gives every metric of one model for every resample of the block; each value
equals the metric computed on the resampled rows
(:mod:`multimodal_deterioration.evidence.bootstrap` draws the resamples and reads the values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankedModel:
    """One model's score orderings (and probabilities), computed once and reused by every
    resample.

    Per-positive arrays follow the order of ``positive_rows`` given to :func:`rank_model`.
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


def rank_model(
    scores: np.ndarray,
    positive_rows: np.ndarray,
    negative_rows: np.ndarray,
    threshold: float,
    probabilities: bool,
) -> RankedModel:
    """Order one model's ``scores`` once for every resample; sensitivity and specificity at
    ``threshold``, and the Brier score and discrimination slope only with ``probabilities``."""
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
    return RankedModel(
        positives_ascending=positives_ascending,
        negatives_ascending=negatives_ascending,
        positives_below=np.searchsorted(scores[positives_ascending], positive_scores, "left"),
        negatives_below=np.searchsorted(sorted_negatives, positive_scores, "left"),
        negatives_not_above=np.searchsorted(sorted_negatives, positive_scores, "right"),
        positive_values=np.vstack(positive_values).astype(np.float64),
        negative_values=np.vstack(negative_values).astype(np.float64),
    )


@dataclass(frozen=True)
class ResampleBlock:
    """A block of resamples, split by class once and shared by every model."""

    weights: np.ndarray  # rows x resamples: how often each row was drawn
    positive_weights: np.ndarray  # weights[positive_rows]
    negative_weights: np.ndarray  # weights[negative_rows]
    positive_total: np.ndarray  # per resample: positives drawn
    negative_total: np.ndarray  # per resample: negatives drawn


def resample_block(
    chunk: Sequence[np.ndarray], n_rows: int, positive_rows: np.ndarray, negative_rows: np.ndarray
) -> ResampleBlock:
    """The resamples of ``chunk`` (each an array of drawn row indices) as row weights."""
    # Rows x resamples, so gathering rows in score order copies contiguous memory and
    # cumulative sums run down the rows.
    weights = np.column_stack([np.bincount(rows, minlength=n_rows) for rows in chunk]).astype(
        np.float64
    )
    positive_weights = weights[positive_rows]
    negative_weights = weights[negative_rows]
    return ResampleBlock(
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
    model: RankedModel, block: ResampleBlock
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


def score_block(model: RankedModel, block: ResampleBlock) -> dict[str, np.ndarray]:
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
