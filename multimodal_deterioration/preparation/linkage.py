"""Which notes may describe which sample: the id, time and category rules of linked notes.

Linked EHR notes (MIMIC ``NOTEEVENTS``, MIMIC-IV-Note, eICU, a hospital export) come many per
patient or stay, and some are written after the outcome they would be used to predict (a
discharge summary that says the patient died). A note is a *candidate* for a sample when its id
equals the sample's id; a candidate is *eligible* unless, checked in this order,

1. its category is excluded (``exclude_categories``, matched case-insensitively);
2. times are in use and it has no chart time;
3. it was charted after the sample's prediction time (a note at exactly that time is eligible);
4. it was charted more than ``window_hours`` before the prediction time.

Each excluded link is counted once, under the first rule that excludes it. Counts are of
note-sample *links*: a note that matches two samples of a split (two windows of one stay) counts
twice. Eligible notes are ordered by chart time, file order breaking ties (without times, file
order alone), so the last one is the most recent. With times, each sample also gets the hours
from its most recent eligible note to its prediction time (``Linkage.note_hours``).

The work is done on integer codes and sorted arrays, never row by row, and only notes whose id
occurs among the samples are looked at, so a notes file of millions of rows costs one pass over
its id column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..base.errors import PipelineError
from ..base.settings import setting
from ..base.timestamps import Timestamps, require_comparable

AGGREGATIONS = ("mean", "last")


@dataclass(frozen=True)
class LinkageRule:
    """The user's choices for linked notes (defaults: no time check, no exclusions, mean)."""

    time_column: str | None = setting(
        None,
        "note column with the chart time (datetime or number); a note is used for a sample "
        "only if charted at or before its prediction time, times_{split} in the vitals",
    )
    window_hours: float | None = setting(
        None,
        "also drop notes charted more than H hours before the prediction time (numeric times: "
        "H in their unit)",
        flag="--note-window-hours",
        metavar="H",
        kind=float,
    )
    category_column: str | None = setting(
        None, "note column with the note category, for --exclude-category"
    )
    exclude_categories: tuple[str, ...] = ()
    aggregation: str = setting(
        "mean",
        "a sample's text vector: the L2-normalised mean of its eligible notes' embeddings, or "
        "the most recent note's",
        flag="--note-aggregation",
        choices=AGGREGATIONS,
    )
    allow_untimed_notes: bool = setting(
        False,
        "link several notes per id without chart times; only if every note was written before "
        "the prediction time (outputs then say timing was not checked)",
    )

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise PipelineError(
                f"unknown note aggregation {self.aggregation!r}; choose one of "
                f"{', '.join(AGGREGATIONS)}"
            )
        if self.window_hours is not None and not self.window_hours > 0:
            raise PipelineError(
                f"--note-window-hours must be a positive number of hours, got {self.window_hours}"
            )
        if self.window_hours is not None and self.time_column is None:
            raise PipelineError(
                "--note-window-hours needs the notes' chart times: pass --time-column"
            )
        if self.exclude_categories and self.category_column is None:
            raise PipelineError(
                "--exclude-category needs the column that holds each note's category: pass "
                "--category-column"
            )

    @property
    def uses_times(self) -> bool:
        return self.time_column is not None

    @property
    def is_default(self) -> bool:
        return self == LinkageRule()

    def settings(self) -> dict:
        return {
            "time_column": self.time_column,
            "window_hours": self.window_hours,
            "category_column": self.category_column,
            "excluded_categories": list(self.exclude_categories),
            "aggregation": self.aggregation,
            "allow_untimed_notes": self.allow_untimed_notes,
            "timing_checked": self.uses_times,
        }


@dataclass(frozen=True)
class SampleNotes:
    """Each sample's notes in one split, in compressed rows: sample i has
    ``rows[indptr[i]:indptr[i + 1]]``, oldest first, so the last is the most recent."""

    indptr: np.ndarray  # (N + 1,) int64
    rows: np.ndarray  # (links,) int64, rows of the notes table

    @classmethod
    def one_each(cls, note_index: np.ndarray, no_note: int = -1) -> SampleNotes:
        """At most one note per sample, ``no_note`` where a sample has none."""
        has_note = note_index != no_note
        indptr = np.concatenate([[0], np.cumsum(has_note)]).astype(np.int64)
        return cls(indptr, note_index[has_note].astype(np.int64))

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def most_recent(self, no_note: int = -1) -> np.ndarray:
        counts = self.counts
        latest = np.full(len(self), no_note, dtype=np.int64)
        latest[counts > 0] = self.rows[self.indptr[1:][counts > 0] - 1]
        return latest


@dataclass(frozen=True)
class LinkCounts:
    """What happened to one split's note-sample links (see the module docstring)."""

    candidate_links: int
    eligible_links: int
    notes_excluded_by_category: dict[str, int]
    notes_without_time: int
    notes_after_prediction_time: int
    notes_outside_window: int
    samples_without_eligible_note: int
    samples_with_several_notes: int


@dataclass(frozen=True)
class Linkage:
    """Eligible notes per sample per split, with the counts that explain the exclusions."""

    notes: dict[str, SampleNotes]
    counts: dict[str, LinkCounts]
    rule: LinkageRule
    warnings: tuple[str, ...] = field(default=())
    # Per split, hours from each sample's most recent eligible note to its prediction time (NaN
    # without one; numeric times are taken to be hours, as for the window); None without times.
    note_hours: dict[str, np.ndarray] | None = None

    def summary(self) -> dict:
        per_split = {name: vars(counts) for name, counts in self.counts.items()}
        keys = next(iter(per_split.values())).keys()
        return {
            **self.rule.settings(),
            **{key: {name: per_split[name][key] for name in per_split} for key in keys},
        }


def normalise_category(category) -> str:
    """Categories match case-insensitively and ignore surrounding spaces (MIMIC pads some)."""
    return str(category).strip().casefold()


def link_by_id(
    sample_ids: dict[str, np.ndarray],
    note_ids: np.ndarray,
    rule: LinkageRule = LinkageRule(),
    sample_times: dict[str, Timestamps] | None = None,
    note_times_of=None,
    note_categories_of=None,
) -> Linkage:
    """Link every sample to the eligible notes with its id.

    Args:
        sample_ids: per split, each sample's id (str).
        note_ids: each note's id (str, or None where a note has none).
        rule: time, window, category and aggregation choices.
        sample_times: per split, each sample's prediction time; needed when ``rule`` uses times.
        note_times_of: ``rows -> Timestamps``, the chart times of the given note rows; called
            once, with the rows of the candidate notes only (a large file is parsed only there).
        note_categories_of: ``rows -> sequence of categories`` for the given rows; likewise.

    Returns:
        A ``Linkage`` whose ``SampleNotes`` rows index ``note_ids``.

    Raises:
        PipelineError: no sample id matches a note id; several notes for an id without times
            (unless ``rule.allow_untimed_notes``); times of different kinds.
    """
    if rule.uses_times and sample_times is None:
        raise PipelineError(
            f"--time-column {rule.time_column} needs each sample's prediction time: add "
            "times_train, times_val and times_test (the end of each observation window) to the "
            "vital-sign file"
        )
    splits = list(sample_ids)
    sample_codes, candidates, codes, n_codes = _code_ids(sample_ids, note_ids)
    keep, excluded_by_category = _exclude_categories(
        candidates, codes, n_codes, rule, note_categories_of
    )
    rows, codes, times, untimed_per_code, window, query_times = _candidate_times(
        candidates[keep], codes[keep], n_codes, rule, sample_codes, sample_times, note_times_of
    )
    lower_bounds = {s: query_times[s] - window for s in splits} if window is not None else {}
    links = _SortedLinks.of(rows, codes, times, [*query_times.values(), *lower_bounds.values()])
    notes, counts, elapsed = {}, {}, {}
    for split in splits:
        notes[split], counts[split], elapsed[split] = links.eligible_for(
            sample_codes[split].astype(np.int64),
            query_times[split],
            lower_bounds.get(split),
            excluded_by_category,
            untimed_per_code,
        )
    _refuse_when_no_note_is_eligible(counts)
    _refuse_several_untimed_notes(counts, rule)
    note_hours = None
    if rule.uses_times:  # elapsed is in the times' unit: microseconds or the numbers' own
        per_hour = next(iter(sample_times.values())).hours(1.0)
        note_hours = {split: elapsed[split] / per_hour for split in splits}
    return Linkage(notes, counts, rule, tuple(_warnings(notes, counts, rule)), note_hours)


def _code_ids(
    sample_ids: dict[str, np.ndarray], note_ids: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int]:
    """Integer codes of the sample ids: each split's codes, the rows of the notes whose id is a
    sample's (the candidates), their codes, and how many codes there are."""
    splits = list(sample_ids)
    id_index = pd.Index(pd.unique(np.concatenate([sample_ids[s] for s in splits])))
    sample_codes = {split: id_index.get_indexer(sample_ids[split]) for split in splits}
    note_codes = id_index.get_indexer(pd.Index(note_ids, dtype=object))
    candidates = np.flatnonzero(note_codes >= 0)
    if len(candidates) == 0:
        example_sample = str(next(iter(sample_ids[splits[0]]), "?"))
        example_note = next((str(i) for i in note_ids if i is not None), "?")
        raise PipelineError(
            f"no sample id matches a note id (e.g. sample {example_sample!r}, note "
            f"{example_note!r}); check --id-column and that both use the same id format"
        )
    return sample_codes, candidates, note_codes[candidates], len(id_index)


def _exclude_categories(
    candidates: np.ndarray, codes: np.ndarray, n_codes: int, rule: LinkageRule, categories_of
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which candidates rule 1 keeps, and per excluded category the notes it drops per code."""
    excluded_by_category: dict[str, np.ndarray] = {}
    keep = np.ones(len(candidates), dtype=bool)
    if rule.exclude_categories:
        categories = np.array([normalise_category(c) for c in categories_of(candidates)])
        for name in rule.exclude_categories:
            hit = keep & (categories == normalise_category(name))
            excluded_by_category[name] = np.bincount(codes[hit], minlength=n_codes)
            keep &= ~hit
    return keep, excluded_by_category


def _candidate_times(
    rows: np.ndarray,
    codes: np.ndarray,
    n_codes: int,
    rule: LinkageRule,
    sample_codes: dict[str, np.ndarray],
    sample_times: dict[str, Timestamps] | None,
    note_times_of,
):
    """Rule 2: the candidates with a chart time (rows, codes, times), the untimed notes per
    code, the window in the times' unit (None without one) and each split's prediction times.
    Without times in use, every note and every sample has time 0."""
    if not rule.uses_times:
        query_times = {
            split: np.zeros(len(codes_of_split), dtype=np.int64)
            for split, codes_of_split in sample_codes.items()
        }
        no_times = np.zeros(len(rows), dtype=np.int64)
        return rows, codes, no_times, np.zeros(n_codes, dtype=np.int64), None, query_times
    note_times = note_times_of(rows)
    require_comparable(
        note_times, next(iter(sample_times.values())), f"--time-column {rule.time_column}"
    )
    untimed_per_code = np.bincount(codes[note_times.missing], minlength=n_codes)
    timed = ~note_times.missing
    window = note_times.hours(rule.window_hours) if rule.window_hours is not None else None
    query_times = {split: sample_times[split].values for split in sample_codes}
    times = note_times.values[timed]
    return rows[timed], codes[timed], times, untimed_per_code, window, query_times


@dataclass(frozen=True)
class _SortedLinks:
    """The candidate notes sorted by (id code, chart time, row), each packed into one int64
    key: ``code * stride + rank of its time``, so one ``searchsorted`` finds the notes of an id
    up to a time (rules 3 and 4)."""

    keys: np.ndarray  # sorted
    rows: np.ndarray  # the note row of each key
    times: np.ndarray  # the chart time of each key
    universe: np.ndarray  # every time in play, sorted: a time's rank is its position here
    stride: int

    @classmethod
    def of(
        cls, rows: np.ndarray, codes: np.ndarray, times: np.ndarray, query_times: list
    ) -> _SortedLinks:
        universe = np.unique(np.concatenate([times, *query_times]))
        stride = len(universe) + 1
        order = np.lexsort((rows, times, codes))
        keys = codes[order].astype(np.int64) * stride + np.searchsorted(universe, times[order])
        return cls(keys, rows[order], times[order], universe, stride)

    def position(self, code: np.ndarray, times: np.ndarray, side: str) -> np.ndarray:
        return np.searchsorted(
            self.keys, code * self.stride + np.searchsorted(self.universe, times), side
        )

    def eligible_for(
        self,
        code: np.ndarray,
        prediction_times: np.ndarray,
        lower_bounds: np.ndarray | None,
        excluded_by_category: dict[str, np.ndarray],
        untimed_per_code: np.ndarray,
    ) -> tuple[SampleNotes, LinkCounts, np.ndarray]:
        """One split's eligible notes per sample (id ``code``), the counts of its links, and
        the time from each sample's most recent eligible note to its prediction time (float64,
        in the times' unit; NaN where it has none)."""
        group_start = np.searchsorted(self.keys, code * self.stride, side="left")
        group_end = np.searchsorted(self.keys, (code + 1) * self.stride, side="left")
        end = self.position(code, prediction_times, "right")
        start = group_start if lower_bounds is None else self.position(code, lower_bounds, "left")
        eligible = end - start
        indptr = np.concatenate([[0], np.cumsum(eligible)]).astype(np.int64)
        offsets = np.repeat(start - indptr[:-1], eligible) + np.arange(indptr[-1])
        by_category = {
            name: int(per_code[code].sum()) for name, per_code in excluded_by_category.items()
        }
        after = int((group_end - end).sum())
        outside = int((start - group_start).sum())
        untimed = int(untimed_per_code[code].sum())
        counts = LinkCounts(
            candidate_links=int(eligible.sum())
            + after
            + outside
            + untimed
            + sum(by_category.values()),
            eligible_links=int(eligible.sum()),
            notes_excluded_by_category=by_category,
            notes_without_time=untimed,
            notes_after_prediction_time=after,
            notes_outside_window=outside,
            samples_without_eligible_note=int((eligible == 0).sum()),
            samples_with_several_notes=int((eligible > 1).sum()),
        )
        elapsed = np.full(len(code), np.nan)
        has_note = eligible > 0
        elapsed[has_note] = prediction_times[has_note] - self.times[end[has_note] - 1]
        return SampleNotes(indptr, self.rows[offsets].astype(np.int64)), counts, elapsed


def _refuse_when_no_note_is_eligible(counts: dict[str, LinkCounts]) -> None:
    if any(c.eligible_links for c in counts.values()):
        return
    excluded = {
        "after the prediction time": sum(c.notes_after_prediction_time for c in counts.values()),
        "outside the window": sum(c.notes_outside_window for c in counts.values()),
        "without a chart time": sum(c.notes_without_time for c in counts.values()),
        "by category": sum(sum(c.notes_excluded_by_category.values()) for c in counts.values()),
    }
    reasons = ", ".join(f"{n} {why}" for why, n in excluded.items() if n)
    raise PipelineError(
        f"no note is eligible for any sample: every note-sample link by id was excluded "
        f"({reasons}); check that --time-column and times_train/val/test hold the same "
        "clock (e.g. both in MIMIC's shifted dates), --note-window-hours and "
        "--exclude-category"
    )


def _refuse_several_untimed_notes(counts: dict[str, LinkCounts], rule: LinkageRule) -> None:
    several = sum(c.samples_with_several_notes for c in counts.values())
    if several and not rule.uses_times and not rule.allow_untimed_notes:
        raise PipelineError(
            f"{several} sample(s) are linked to several notes and the notes have no chart times: "
            "notes written after the outcome (discharge summaries, death notes) may state it and "
            "leak it into the prediction; pass --time-column COL (with times_train/val/test in the "
            "vitals) to keep only notes charted before each prediction, drop post-outcome notes "
            "with --category-column COL --exclude-category NAME, or, if every note was written "
            "before the prediction time, --allow-untimed-notes"
        )


def notes_in_several_splits(notes: dict[str, SampleNotes]) -> int:
    """How many notes are used by samples of more than one split (a patient in two splits)."""
    used = np.concatenate([np.unique(sample_notes.rows) for sample_notes in notes.values()])
    _, splits_per_note = np.unique(used, return_counts=True)
    return int((splits_per_note > 1).sum())


def _warnings(notes: dict[str, SampleNotes], counts: dict[str, LinkCounts], rule: LinkageRule):
    shared = notes_in_several_splits(notes)
    if shared:
        yield (
            f"{shared} note(s) are linked to samples in more than one split: the same patient is "
            "in several splits, so test results are optimistic; split your data by patient"
        )
    without = {s: c.samples_without_eligible_note for s, c in counts.items()}
    if any(without.values()):
        listed = ", ".join(f"{s}: {n}" for s, n in without.items())
        yield (
            f"samples without an eligible note get a zero text vector ({listed}); the "
            "multimodal model sees no text for them"
        )
    if not rule.uses_times:
        yield (
            "note timing was not checked (no --time-column): a note written after a sample's "
            "prediction time may be used for it"
        )


def describe_linkage(pairing: dict) -> str:
    """The linkage rule and its counts in words, from ``meta["pairing"]`` of an id pairing.

    Shared by both scripts' summaries and the report, so all three say the same thing.
    """
    if pairing.get("method") != "id" or "eligible_links" not in pairing:
        return ""
    total = lambda key: sum(pairing[key].values())  # noqa: E731 - a per-split sum, read below
    if pairing["timing_checked"]:
        window = (
            f" and at most {pairing['window_hours']:g} h before it"
            if pairing.get("window_hours") is not None
            else ""
        )
        rule = (
            f"a note was used for a sample only if charted (column {pairing['time_column']!r}) at "
            f"or before the sample's prediction time{window}"
        )
    else:
        rule = (
            "note timing was NOT checked (no chart times"
            + (", --allow-untimed-notes" if pairing["allow_untimed_notes"] else "")
            + "): a note written after the outcome may have been used"
        )
    categories = pairing.get("excluded_categories") or []
    excluded = (
        f"; notes of categories {', '.join(categories)} were never used" if categories else ""
    )
    combine = (
        "the L2-normalised mean of their embeddings"
        if pairing["aggregation"] == "mean"
        else "the embedding of the most recent one"
    )
    by_category = {}
    for per_split in pairing["notes_excluded_by_category"].values():
        for name, n in per_split.items():
            by_category[name] = by_category.get(name, 0) + n
    reasons = [
        (total("notes_after_prediction_time"), "charted after the prediction time"),
        (total("notes_outside_window"), "charted before the window"),
        (total("notes_without_time"), "without a chart time"),
        *((n, f"of category {name}") for name, n in by_category.items()),
    ]
    shown = "; ".join(f"{n:,} {why}" for n, why in reasons if n) or "none"
    return (
        f"Notes were linked to samples by id; {rule}{excluded}. A sample with several eligible "
        f"notes got {combine}. Of {total('candidate_links'):,} note-sample links by id, "
        f"{total('eligible_links'):,} were used; excluded: {shown}. "
        f"{total('samples_without_eligible_note'):,} sample(s) had no eligible note (zero text "
        "vector)."
    )
