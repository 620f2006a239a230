"""Comparisons of trained models that include training randomness: a two-level paired bootstrap.

A test-set bootstrap treats two fitted networks as fixed and answers "is this fitted network
better than that one on this population?". Whether adding the notes helps *the model* is another
question: initialisation, batch order and dropout move a test AUROC on a few hundred samples by
as much as the gains at stake (Bouthillier et al. 2021, "Accounting for variance in machine
learning benchmarks"). Each model is therefore trained with several seeds, and a comparison is
read from the seed-averaged metric:

- estimate: the mean over seeds of ``metric(a, seed) - metric(b, seed)`` on the whole test split;
- interval: resample the seeds (with replacement), then the test rows (stratified, grouped by id
  when given, the same rows for every model and seed), and take percentiles of the seed-averaged
  difference over the resamples;
- probability of outperforming: the share of (seed, row resample) pairs in which one training of
  ``a`` beats the same seed's training of ``b`` (ties count half), Bouthillier et al.'s P(A > B).

Models are paired by seed: a seed gives both the same initial weights and batch order. With one
seed the interval is the ordinary paired bootstrap and ignores training randomness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..base.errors import PipelineError
from . import evaluation
from .bootstrap import (
    DEFAULT_BOOTSTRAP_RESAMPLES,
    DEFAULT_BOOTSTRAP_SEED,
    bootstrap_replicates,
    percentile_interval,
)

# Metrics a comparison can read, by their name in bootstrap_replicates, with the metric on the
# whole test split. A difference of discrimination slopes is the IDI (Pencina et al. 2008).
METRICS = {
    "auroc": evaluation.auroc,
    "brier": evaluation.brier_score,
    "discrimination_slope": evaluation.discrimination_slope,
}
# Added to the bootstrap seed so the seed draws are a stream of their own, independent of the
# row resamples drawn with the bootstrap seed itself.
SEED_DRAW_STREAM = 1


def seed_draw_weights(n_seeds: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n_seeds)`` weights: how often each seed was drawn in each resample,
    divided by ``n_seeds``, so a weighted sum over seeds is the resample's seed mean.

    >>> seed_draw_weights(3, 2, seed=0).sum(axis=1)
    array([1., 1.])
    """
    rng = np.random.default_rng([seed, SEED_DRAW_STREAM, n_seeds])
    drawn = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    counts = np.stack([np.bincount(row, minlength=n_seeds) for row in drawn])
    return counts / n_seeds


def compare_over_seeds(
    y_true,
    predictions: Mapping[str, Mapping[int, np.ndarray]],
    pairs: Sequence[tuple[str, str]],
    *,
    metrics: Sequence[str] = ("auroc",),
    n_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    groups: np.ndarray | None = None,
    confidence: float = 0.95,
) -> dict:
    """Seed-aware comparisons of model pairs, and each compared model's seed-averaged metrics.

    Args:
        y_true: 0/1 test labels.
        predictions: model -> {seed: test probabilities}. Two compared models are paired on the
            seeds they share (a model trained with the main seed only is compared on it alone).
        pairs: ``(a, b)`` model pairs; each difference is a - b.
        metrics: names of :data:`METRICS` to compare.
        n_resamples, seed, groups: the row resampling, as in
            :func:`~multimodal_deterioration.evidence.bootstrap.bootstrap_replicates` (the same seed gives
            the same rows for every model); the seed draws use :func:`seed_draw_weights`.
        confidence: coverage of the percentile intervals.

    Returns:
        ``{"pairs": {"<a>_minus_<b>": {"model": a, "comparator": b, "seeds": [...], <metric>:
        {"estimate", "ci", "per_seed", "sd_over_seeds"} (AUROC also
        "probability_of_outperforming")}}, "models": {model: {"seeds": [...], <metric>:
        {"estimate", "ci"}}}}``.
    """
    y = np.asarray(y_true).ravel()
    for metric in metrics:
        if metric not in METRICS:
            raise PipelineError(f"unknown comparison metric {metric!r}; use one of {list(METRICS)}")
    shared = {pair: _shared_seeds(predictions, *pair) for pair in pairs}
    used = sorted({(model, s) for pair, seeds in shared.items() for model in pair for s in seeds})
    flat = {f"{model}@{s}": predictions[model][s] for model, s in used}
    replicates = bootstrap_replicates(
        y, flat, n_resamples=n_resamples, seed=seed, groups=groups, thresholds=0.5
    )
    resampled = _Resampled(
        replicates=replicates,
        whole={key: {m: METRICS[m](y, prob) for m in metrics} for key, prob in flat.items()},
        # One set of seed draws per number of seeds, shared by every pair and model with that
        # many: the pairing over seeds, and drawn once rather than per pair and metric.
        draws={
            n: seed_draw_weights(n, n_resamples, seed) for n in {len(s) for s in shared.values()}
        },
        confidence=confidence,
    )
    results: dict = {"pairs": {}, "models": {}}
    for (a, b), seeds in shared.items():
        results["pairs"][f"{a}_minus_{b}"] = _pair_entry(resampled, a, b, seeds, metrics)
        for model in (a, b):
            if model not in results["models"] or len(seeds) > len(
                results["models"][model]["seeds"]
            ):
                results["models"][model] = _model_entry(resampled, model, seeds, metrics)
    return results


@dataclass(frozen=True)
class _Resampled:
    """What every comparison reads: each ``"<model>@<seed>"``'s metrics per row resample
    (``replicates``) and on the whole test split (``whole``), the seed draws per number of
    seeds (``draws``, from :func:`seed_draw_weights`) and the intervals' coverage."""

    replicates: dict[str, dict[str, np.ndarray]]
    whole: dict[str, dict[str, float]]
    draws: dict[int, np.ndarray]
    confidence: float

    def seed_mean(self, model: str, seeds: tuple[int, ...], metric: str) -> np.ndarray:
        """The model's metric averaged over the drawn seeds, one value per resample."""
        stacked = np.stack([self.replicates[f"{model}@{s}"][metric] for s in seeds])
        return np.einsum("rs,sr->r", self.draws[len(seeds)], stacked)

    def interval(self, values: np.ndarray) -> list[float]:
        return percentile_interval(values, self.confidence)


def _pair_entry(
    resampled: _Resampled, a: str, b: str, seeds: tuple[int, ...], metrics: Sequence[str]
) -> dict:
    """``pairs.<a>_minus_<b>``: per metric the seed-averaged difference, its two-level
    interval, the per-seed differences and their SD (AUROC: also P(a beats b))."""
    whole, replicates = resampled.whole, resampled.replicates
    entry: dict = {"model": a, "comparator": b, "seeds": list(seeds)}
    for metric in metrics:
        per_seed = {s: whole[f"{a}@{s}"][metric] - whole[f"{b}@{s}"][metric] for s in seeds}
        values = np.array(list(per_seed.values()))
        difference = resampled.seed_mean(a, seeds, metric) - resampled.seed_mean(b, seeds, metric)
        entry[metric] = {
            "estimate": float(values.mean()),
            "ci": resampled.interval(difference),
            "per_seed": {str(s): float(v) for s, v in per_seed.items()},
            "sd_over_seeds": float(values.std(ddof=1)) if len(seeds) > 1 else None,
        }
        if metric == "auroc":
            entry[metric]["probability_of_outperforming"] = _probability_of_outperforming(
                [replicates[f"{a}@{s}"][metric] for s in seeds],
                [replicates[f"{b}@{s}"][metric] for s in seeds],
            )
    return entry


def _model_entry(
    resampled: _Resampled, model: str, seeds: tuple[int, ...], metrics: Sequence[str]
) -> dict:
    """``models.<model>``: the seeds and, per metric, the seed-averaged value and interval."""
    return {
        "seeds": list(seeds),
        **{
            metric: {
                "estimate": float(
                    np.mean([resampled.whole[f"{model}@{s}"][metric] for s in seeds])
                ),
                "ci": resampled.interval(resampled.seed_mean(model, seeds, metric)),
            }
            for metric in metrics
        },
    }


def _shared_seeds(
    predictions: Mapping[str, Mapping[int, np.ndarray]], a: str, b: str
) -> tuple[int, ...]:
    for name in (a, b):
        if name not in predictions:
            raise PipelineError(
                f"comparison names model {name}, which has no predictions "
                f"({', '.join(predictions)}); fix the name"
            )
    seeds = tuple(s for s in predictions[a] if s in predictions[b])
    if not seeds:
        raise PipelineError(
            f"models {a} and {b} share no training seed, so they cannot be compared seed by seed"
        )
    return seeds


def _probability_of_outperforming(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Share of (seed, resample) pairs where a beats b; ties count half."""
    a_values, b_values = np.stack(a), np.stack(b)
    return float(np.mean((a_values > b_values) + 0.5 * (a_values == b_values)))
