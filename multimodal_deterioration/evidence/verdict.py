"""The verdict a user copies: do the notes add value, to whom is a gain credited, is it a leak?

Three rules, each read from seed-aware intervals (:mod:`multimodal_deterioration.evidence.comparisons`):

1. :func:`gain_verdict` reads a 95% CI of an AUROC difference against zero and against the
   smallest gain of interest (``--min-gain``, above zero, so "includes zero" and "a gain" never
   describe the same interval).
2. :func:`attribute_gain` credits a gain to the notes only when the fused model beats the same
   network trained on notes shuffled within each split (same architecture, seeds and training,
   uninformative notes): the fused network can beat the vital-only one on noise alone, from its
   extra capacity or regularisation.
3. :func:`leak_suspected`: a within-class shuffle keeps only what the notes say about the label
   as a class; when it keeps most of an established notes gain, the notes may be standing in
   for the label. It is tested only on an established gain: a share of noise is noise.
"""

from __future__ import annotations

from collections.abc import Sequence

# The verdict of one interval, with the sentence that states it. "Claims a gain" means the
# whole interval lies above zero.
GAIN_VERDICTS = {
    "worse": "the whole interval lies below zero: worse than the comparator",
    "meaningful_gain": "the whole interval lies at or above the smallest gain of interest: a gain "
    "that matters",
    "gain_below_min": "the interval lies above zero but below the smallest gain of interest: a "
    "real gain too small to matter",
    "gain_size_unclear": "the interval lies above zero and includes the smallest gain of "
    "interest: a gain, possibly smaller than one that matters",
    "no_meaningful_gain": "the interval includes zero and lies below the smallest gain of "
    "interest: evidence of no meaningful gain",
    "inconclusive": "the interval includes both zero and the smallest gain of interest: "
    "inconclusive; more test samples or seeds are needed",
}
CLAIMS_A_GAIN = ("meaningful_gain", "gain_below_min", "gain_size_unclear")

# Who gets the credit, from the two comparisons' intervals (each "established" when its whole
# 95% CI lies above zero).
ATTRIBUTIONS = {
    "notes_content": "The fused model beats both the same network trained on shuffled notes and "
    "the vital-only model: the gain can be credited to what the notes say about each sample.",
    "notes_content_not_over_vitals": "The fused model beats the same network trained on shuffled "
    "notes, but its lead over the vital-only model is not established: the notes' content helps "
    "this network, without a demonstrated gain over the vitals alone.",
    "network_not_notes": "The fused model beats the vital-only model, but not the same network "
    "trained on shuffled notes: the gain over vital-only cannot be credited to the notes; it can "
    "come from the network (its extra capacity, regularisation or training) rather than from "
    "what the notes say.",
    "no_gain": "The fused model beats neither the same network trained on shuffled notes nor the "
    "vital-only model: there is no gain to credit to the notes.",
}

# A within-class note shuffle keeps only what the notes say about the label as a class. When it
# still holds this share of the notes' gain, the notes' value is not patient-specific.
LEAK_RETAINED_FRACTION = 0.75
LEAK_RULE = (
    "flagged when the notes' gain (fused model minus the same network on notes shuffled within "
    "split, averaged over seeds) has a 95% CI above zero and notes shuffled within each class "
    f"keep >= {LEAK_RETAINED_FRACTION:.0%} of it (seed-averaged AUROCs)"
)


def gain_verdict(difference_ci: Sequence[float], min_gain: float) -> dict[str, str]:
    """Read the 95% CI of an AUROC difference against zero and the smallest gain of interest.

    An interval that includes zero is not evidence of no gain; one that also lies wholly below
    ``min_gain`` is (as in an equivalence test), which gives a null result a student can defend.

    >>> gain_verdict([0.02, 0.05], 0.01)["verdict"]
    'meaningful_gain'
    >>> gain_verdict([0.0, 0.05], 0.01)["verdict"]  # the interval includes zero
    'inconclusive'

    Returns ``{"verdict": key of GAIN_VERDICTS, "statement": its sentence}``.
    """
    if not min_gain > 0:
        raise ValueError(f"the smallest gain of interest must be above zero, got {min_gain}")
    low, high = difference_ci
    if high < 0:
        verdict = "worse"
    elif low >= min_gain:
        verdict = "meaningful_gain"
    elif low > 0:
        verdict = "gain_below_min" if high < min_gain else "gain_size_unclear"
    else:
        verdict = "no_meaningful_gain" if high < min_gain else "inconclusive"
    return {"verdict": verdict, "statement": GAIN_VERDICTS[verdict]}


def established(difference_ci: Sequence[float]) -> bool:
    """A gain is established when its whole interval lies above zero."""
    return difference_ci[0] > 0


def attribute_gain(notes_ci: Sequence[float], vital_only_ci: Sequence[float]) -> dict[str, str]:
    """Credit a gain from the CIs of fused minus shuffled-notes and fused minus vital-only.

    >>> attribute_gain([-0.01, 0.02], [0.01, 0.04])["attribution"]
    'network_not_notes'

    Returns ``{"attribution": key of ATTRIBUTIONS, "statement": its sentence}``.
    """
    over_notes, over_vitals = established(notes_ci), established(vital_only_ci)
    if over_notes:
        key = "notes_content" if over_vitals else "notes_content_not_over_vitals"
    else:
        key = "network_not_notes" if over_vitals else "no_gain"
    return {"attribution": key, "statement": ATTRIBUTIONS[key]}


def retained_fraction(control_minus_shuffled: float, notes_gain: float) -> float:
    """Share of the notes' gain (fused minus shuffled) that a control keeps."""
    return control_minus_shuffled / notes_gain


def leak_suspected(notes_ci: Sequence[float], within_class_fraction: float | None) -> bool:
    """The within-class shuffle keeps at least :data:`LEAK_RETAINED_FRACTION` of an
    established notes gain.

    >>> leak_suspected([0.01, 0.05], 0.9), leak_suspected([-0.01, 0.05], 0.9)
    (True, False)
    """
    return (
        established(notes_ci)
        and within_class_fraction is not None
        and within_class_fraction >= LEAK_RETAINED_FRACTION
    )
