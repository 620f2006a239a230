"""Results by note availability and recency: on which test samples the notes' effect lies.

A sample without an eligible note gets a zero text vector, so the overall comparison averages the
notes' effect over samples that had nothing to contribute (MedFuse reports the paired and the
full population apart for this reason). The test split is cut three ways, from the data file:

- ``availability``: samples with at least one eligible note, and samples with none;
- ``note_count``: samples with 1, 2-3 and 4 or more eligible notes (when ``note_count_*`` is
  known);
- ``recency``: hours from the most recent eligible note to the prediction time, < 6 h, 6-24 h
  and > 24 h (when ``note_hours_*`` is known, i.e. chart and prediction times were).

Each subgroup gets the fused and vital-only AUROC, the fused model's lead over vital-only and
over the shuffled-notes network, by the same two-level bootstrap as the main comparison (seeds,
then the subgroup's test rows, by id when ids are known, with the same bootstrap seed), and its
counts. A subgroup with fewer than :data:`MIN_PER_CLASS` samples of either class gets its counts
and a status instead of numbers. Subgroups are defined by what was charted, not randomised:
samples with notes may be sicker, so a difference between subgroups is not an effect of notes.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import PipelineError, first_line
from ..contract.multimodal_data import MultimodalSplit, has_eligible_note
from ..learning.experiment import BASELINE_MODEL, MAIN_MODEL, SHUFFLED_CONTROL, Experiment
from .comparisons import compare_over_seeds

# Below 10 samples of a class an AUROC moves by 0.05 or more when one sample changes class
# rank, and its bootstrap interval is unreliable: such a subgroup is counted, not estimated.
MIN_PER_CLASS = 10
RECENCY_EDGES_HOURS = (6.0, 24.0)
SUBGROUP_PAIRS = ((MAIN_MODEL, BASELINE_MODEL), (MAIN_MODEL, SHUFFLED_CONTROL))


def subgroup_masks(split: MultimodalSplit) -> dict[str, dict[str, np.ndarray]]:
    """Each way of cutting the split -> subgroup label -> boolean row mask.

    >>> import numpy as np
    >>> split = MultimodalSplit(np.zeros((4, 1, 1)), np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                         None, None, note_count=np.array([0, 1, 3, 5]),
    ...                         note_hours=np.array([np.nan, 2.0, 6.0, 30.0]))
    >>> {label: mask.tolist() for label, mask in subgroup_masks(split)["recency"].items()}
    {'< 6 h': [False, True, False, False], '6-24 h': [False, False, True, False], '> 24 h': [False, False, False, True]}
    """
    with_note = has_eligible_note(split)
    masks = {"availability": {"with a note": with_note, "without a note": ~with_note}}
    if split.note_count is not None:
        count = split.note_count
        masks["note_count"] = {
            "1 note": count == 1,
            "2-3 notes": (count >= 2) & (count <= 3),
            "4+ notes": count >= 4,
        }
    if split.note_hours is not None:
        hours = np.where(with_note, split.note_hours, np.nan)
        low, high = RECENCY_EDGES_HOURS
        masks["recency"] = {
            f"< {low:g} h": hours < low,
            f"{low:g}-{high:g} h": (hours >= low) & (hours <= high),
            f"> {high:g} h": hours > high,
        }
    return masks


def subgroup_results(
    experiment: Experiment,
    test: MultimodalSplit,
    n_resamples: int,
    seed: int,
) -> dict:
    """``subgroups``: every subgroup of :func:`subgroup_masks` on the test split, estimated or
    with the reason it is not (see the module docstring)."""
    names = [name for pair in SUBGROUP_PAIRS for name in pair]
    predictions = {
        name: {s: model.test_prob for s, model in experiment.by_seed(name).items()}
        for name in dict.fromkeys(names)
    }
    return {
        "min_per_class": MIN_PER_CLASS,
        "by": {
            way: {
                label: one_subgroup(test, mask, predictions, n_resamples, seed)
                for label, mask in masks.items()
            }
            for way, masks in subgroup_masks(test).items()
        },
    }


def one_subgroup(
    test: MultimodalSplit, mask: np.ndarray, predictions: dict, n_resamples: int, seed: int
) -> dict:
    """Counts, and the comparisons restricted to ``mask``'s rows when both classes are large
    enough."""
    y = test.y[mask]
    positives = int(y.sum())
    entry: dict = {"samples": int(mask.sum()), "positives": positives}
    smaller_class = min(positives, len(y) - positives)
    if smaller_class < MIN_PER_CLASS:
        entry["status"] = "empty" if len(y) == 0 else "too_small"
        return entry
    restricted = {
        name: {s: prob[mask] for s, prob in by_seed.items()}
        for name, by_seed in predictions.items()
    }
    groups = test.ids[mask] if test.ids is not None else None
    try:
        compared = compare_over_seeds(
            y, restricted, SUBGROUP_PAIRS, n_resamples=n_resamples, seed=seed, groups=groups
        )
    except PipelineError as error:
        return {**entry, "status": "not_estimable", "reason": first_line(error)}
    return {
        **entry,
        "status": "estimated",
        "auroc": {name: compared["models"][name]["auroc"] for name in restricted},
        "differences": {key: pair["auroc"] for key, pair in compared["pairs"].items()},
    }
