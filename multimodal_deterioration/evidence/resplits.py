"""Repeated splits: how much the fused model's gain over vital-only depends on one split.

The fixed split gives one test AUROC per model. ``run_resplits`` pools train, validation and
test, redraws the three splits K times with the original proportions, retrains the fused model
and the vital-only baseline on each redraw, and summarises the test AUROCs across redraws. It
answers a different question from the main result (variation over splits, not uncertainty on one
test set), so its output is kept apart from the fixed-split numbers.

Conventions of a redraw (``resplit``):

- grouped: every row of a sample id lands in one split (without ids, each row is a group), so a
  patient never straddles train and test;
- stratified: groups with a positive row and groups without are allocated separately, each to
  the original split proportions, so every split keeps the pooled positive rate as nearly as the
  grouping allows;
- proportions by rows: each split's row count is within one group of its original share. The
  positive groups are placed by their positive rows, then the negative groups fill each split's
  remaining rows. (scikit-learn's ``StratifiedGroupKFold`` gives equal folds and
  ``GroupShuffleSplit`` does not stratify, hence this allocation.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from ..base.errors import PipelineError, first_line
from ..contract.arrays import SPLITS
from ..contract.multimodal_data import MultimodalData, MultimodalSplit
from ..learning.experiment import BASELINE_MODEL, MAIN_MODEL, ExperimentConfig, run_experiment
from . import evaluation

# A single redraw gives no spread to report.
MIN_RESPLITS = 2
# The per-row arrays of a split, moved together by a redraw.
ROW_FIELDS = ("X_vital", "X_text", "y", "note_index", "ids", "note_count", "note_hours")


def resplit(data: MultimodalData, seed: int) -> MultimodalData:
    """Pool every split and draw a new train/val/test assignment (see the module docstring).

    Args:
        data: the data with its fixed split; its split sizes set the proportions.
        seed: seeds the draw; the same seed gives the same splits.

    Returns:
        A ``MultimodalData`` with the same rows, ``meta``, ``feature_names`` and ``labels_path``;
        within each new split the rows keep their pooled order (train, then val, then test).

    Raises:
        PipelineError: when the draw leaves a split without the classes the evaluation needs.
    """
    pooled = _pool(data)
    y = pooled["y"]
    if data.has_ids:
        _, group = np.unique(pooled["ids"], return_inverse=True)
    else:
        group = np.arange(len(y))
    group_rows = np.bincount(group)
    group_positives = np.bincount(group, weights=y)
    positive_group = group_positives > 0
    shares = np.array([len(data.splits[name]) for name in SPLITS], dtype=np.float64) / len(y)

    rng = np.random.default_rng(seed)
    split_of_group = np.empty(len(group_rows), dtype=np.int64)
    positive_groups = rng.permutation(np.flatnonzero(positive_group))
    split_of_group[positive_groups] = _allocate(
        group_positives[positive_groups], shares * group_positives.sum()
    )
    rows_placed = np.bincount(
        split_of_group[positive_groups], weights=group_rows[positive_groups], minlength=len(SPLITS)
    )
    negative_groups = rng.permutation(np.flatnonzero(~positive_group))
    remaining = np.clip(shares * len(y) - rows_placed, 0.0, None)
    if negative_groups.size:
        remaining *= group_rows[negative_groups].sum() / remaining.sum()
        split_of_group[negative_groups] = _allocate(group_rows[negative_groups], remaining)

    split_of_row = split_of_group[group]
    splits = {
        name: MultimodalSplit(
            **{
                field: None if values is None else values[split_of_row == index]
                for field, values in pooled.items()
            }
        )
        for index, name in enumerate(SPLITS)
    }
    redrawn = replace(data, splits=splits)
    try:
        redrawn.require_both_classes()
    except PipelineError as error:
        raise PipelineError(
            f"resplit with seed {seed} cannot give every split the classes the evaluation needs "
            f"({first_line(error)}); use more data or fewer resplits"
        ) from error
    return redrawn


def run_resplits(
    data: MultimodalData,
    config: ExperimentConfig,
    k: int,
    device: torch.device,
    seed: int = 0,
    log: Callable[[str], None] | None = print,
    progress: bool = True,
) -> dict:
    """Retrain the fused model and vital-only on K redrawn splits; summarise their test AUROCs.

    Redraw ``i`` (0-based) is ``resplit(data, seed + i)``. Each runs ``run_experiment`` with the
    controls off and only the main seed, so the spread comes from the split (and how it meets
    that one initialisation), not from extra seeds. The vital standardiser is refitted on each
    redraw's training split inside ``run_experiment``. Every redraw is drawn, and checked, before
    any training, so a data set too small for K redraws fails at once.

    Args:
        data: the data with its fixed split.
        config: the experiment settings of the main run; ``ablations`` and extra seeds are dropped.
        k: the number of redraws, at least 2.
        device: where to train.
        seed: the first redraw's seed.
        log, progress: passed to ``run_experiment``; ``log`` also gets one header per redraw.

    Returns:
        A JSON-ready dict: ``k``, ``seed``, ``training_seed``, ``grouped_by`` ("sample id" or
        "sample"), ``per_split`` (one dict per redraw: ``split`` (1-based), ``seed``,
        ``test_samples``, ``test_positives``, ``multimodal_auroc``, ``vital_only_auroc``,
        ``difference`` = multimodal - vital-only, ``notes_in_several_splits``: notes reused
        within an original split that this redraw spreads over several, None without
        ``note_index``), ``mean`` and ``sd`` (sample SD, ddof=1) with keys ``multimodal``,
        ``vital_only``, ``difference``; ``difference_range`` ([min, max]),
        ``splits_multimodal_better`` (redraws with a positive difference) and ``note``.
    """
    _check_resplits(k)
    seeds = [seed + i for i in range(int(k))]
    for draw_seed in seeds:
        resplit(data, draw_seed)
    single = replace(config, ablations=False, seeds=(config.main_seed,))
    per_split = [
        _train_on_redraw(
            resplit(data, draw_seed), single, index, draw_seed, k, device, log, progress
        )
        for index, draw_seed in enumerate(seeds, start=1)
    ]
    grouped_by = "sample id" if data.has_ids else "sample"
    return {
        "k": int(k),
        "seed": seed,
        "training_seed": config.main_seed,
        "grouped_by": grouped_by,
        "per_split": per_split,
        **_spread(per_split),
        "note": (
            f"These {k} splits are redrawn from the pooled train, validation and test data "
            f"(stratified by label, grouped by {grouped_by}, original proportions) with both "
            "models retrained on each; the main result above is from the fixed split."
        ),
    }


def _check_resplits(k) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < MIN_RESPLITS:
        raise PipelineError(
            f"--resplits must be an integer of at least {MIN_RESPLITS} (got {k!r}): one redraw "
            "says nothing about how the result varies between splits; pass --resplits 5 or "
            "more, or leave it off"
        )


def _train_on_redraw(
    redrawn: MultimodalData,
    config: ExperimentConfig,
    index: int,
    draw_seed: int,
    k: int,
    device: torch.device,
    log: Callable[[str], None] | None,
    progress: bool,
) -> dict:
    """Train the fused model and vital-only on one redraw; its row of ``per_split``."""
    test = redrawn.splits["test"]
    if log:
        log(
            f"Resplit {index}/{k} (seed {draw_seed}): "
            + ", ".join(f"{name} {len(redrawn.splits[name])}" for name in SPLITS)
            + f" samples, {int(test.y.sum())} test positives"
        )
    experiment = run_experiment(
        redrawn, config, device, log=log, progress=progress, variants=(MAIN_MODEL, BASELINE_MODEL)
    )
    fused = evaluation.auroc(test.y, experiment.models[MAIN_MODEL].test_prob)
    vital = evaluation.auroc(test.y, experiment.models[BASELINE_MODEL].test_prob)
    return {
        "split": index,
        "seed": draw_seed,
        "test_samples": int(len(test)),
        "test_positives": int(test.y.sum()),
        "multimodal_auroc": fused,
        "vital_only_auroc": vital,
        "difference": fused - vital,
        "notes_in_several_splits": _notes_in_several_splits(redrawn),
    }


def _spread(per_split: list[dict]) -> dict:
    """Mean, SD (ddof=1) and range of the redraws' AUROCs and differences, and how many
    redraws favoured the fused model."""
    values = {
        "multimodal": np.array([row["multimodal_auroc"] for row in per_split]),
        "vital_only": np.array([row["vital_only_auroc"] for row in per_split]),
        "difference": np.array([row["difference"] for row in per_split]),
    }
    return {
        "mean": {name: float(v.mean()) for name, v in values.items()},
        "sd": {name: float(v.std(ddof=1)) for name, v in values.items()},
        "difference_range": [float(values["difference"].min()), float(values["difference"].max())],
        "splits_multimodal_better": int((values["difference"] > 0).sum()),
    }


def _pool(data: MultimodalData) -> dict[str, np.ndarray | None]:
    """Each per-row array over all splits in train, val, test order; None unless every split has it."""
    pooled = {}
    for field in ROW_FIELDS:
        parts = [getattr(data.splits[name], field) for name in SPLITS]
        pooled[field] = None if any(part is None for part in parts) else np.concatenate(parts)
    return pooled


def _notes_in_several_splits(data: MultimodalData) -> int | None:
    """Paired notes (by ``note_index``) whose samples fall in more than one split.

    Preparation keeps each note in one split, but a note reused within a split follows its
    samples, and a redraw grouped by id can part samples without ids in common.
    """
    if any(split.note_index is None for split in data.splits.values()):
        return None
    per_split = [np.unique(s.note_index[s.note_index >= 0]) for s in data.splits.values()]
    _, counts = np.unique(np.concatenate(per_split), return_counts=True)
    return int((counts > 1).sum())


def _allocate(weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The split of each group, in the given order, so each split's total weight nears its target.

    Groups are laid end to end and cut where the running total crosses each split's cumulative
    target, a group going to the split holding its midpoint: every cut is within half a group of
    its target, so every split's total is within one group of its target.
    """
    midpoints = np.cumsum(weights) - weights / 2
    return np.searchsorted(np.cumsum(targets)[:-1], midpoints, side="right")
