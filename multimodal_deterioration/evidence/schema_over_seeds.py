"""The sections of ``multimodal_results.json`` read over every training seed.

Part of :mod:`multimodal_deterioration.evidence.results_schema` (its conventions hold here, and
every class is importable from there): the seed-aware ``comparisons``, the verdict in
``added_value``, the per-seed ``seeds`` and the negative ``controls``
(:mod:`multimodal_deterioration.evidence.comparisons`). The main seed's sections are in
:mod:`multimodal_deterioration.evidence.schema_main_seed`.
"""

# No ``from __future__ import annotations``: on Python 3.11 it hides ``NotRequired`` from
# ``TypedDict``, which then lists every key in ``__required_keys__``.
from typing import Literal, NotRequired, TypedDict

from .schema_main_seed import Interval

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


class SubgroupResult(TypedDict):
    """``subgroups.by.<way>.<subgroup>``: one subgroup of the test split
    (:mod:`multimodal_deterioration.evidence.subgroups`).

    - ``samples``, ``positives``: its size and positives.
    - ``status``: ``"estimated"``; ``"too_small"`` (fewer than ``min_per_class`` samples of a
      class: counts only); ``"empty"``; or ``"not_estimable"`` with the ``reason``.
    - ``auroc`` (when estimated): the fused, vital-only and shuffled-notes models' AUROC on the
      subgroup, averaged over seeds, with two-level intervals.
    - ``differences`` (when estimated): ``multimodal_minus_vital_only`` and
      ``multimodal_minus_notes_shuffled`` on the subgroup, as in ``comparisons``.
    """

    samples: int
    positives: int
    status: Literal["estimated", "too_small", "empty", "not_estimable"]
    reason: NotRequired[str]
    auroc: NotRequired[dict[str, SeedAveragedMetric]]
    differences: NotRequired[dict[str, ComparedMetric]]


class Subgroups(TypedDict):
    """``subgroups``: results by note availability and recency on the test split.

    ``by`` has ``availability`` (``"with a note"``, ``"without a note"``), ``note_count``
    (``"1 note"``, ``"2-3 notes"``, ``"4+ notes"``; when note counts are known) and ``recency``
    (hours from the most recent note to the prediction time: ``"< 6 h"``, ``"6-24 h"``,
    ``"> 24 h"``; when times are known). Subgroups are not randomised: a difference between
    them is not an effect of the notes.
    """

    min_per_class: int
    by: dict[str, dict[str, SubgroupResult]]
