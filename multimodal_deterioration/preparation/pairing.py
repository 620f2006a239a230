"""Pair notes with vital-sign samples: by id, by a seeded random assignment, or in order.

The rules (DESIGN.md, "Honest pairing" and "Linked notes"):
- with ids on both sides, pair by id: a sample gets every eligible note with its id (``linkage``
  says which are eligible: chart time, window, category); samples without one get none and are
  counted;
- without ids, a seeded random assignment (default) or in order (``sequential``, the reference
  behaviour);
- notes are first divided into disjoint train/val/test pools, so no note is seen in two splits;
  when a pool is smaller than its split, its notes are reused and the reuse is counted;
- pairing never sees labels: no function here takes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..base.errors import PipelineError
from ..base.timestamps import Timestamps, parse_times
from .linkage import Linkage, LinkageRule, SampleNotes, link_by_id, notes_in_several_splits
from .notes import Notes, NotesSource
from .vitals import Vitals

PAIRING_METHODS = ("auto", "id", "random", "sequential")
DEFAULT_PAIRING_SEED = 42
NO_NOTE = -1


@dataclass(frozen=True)
class Pairing:
    """Which notes each sample of each split gets (rows of the notes table)."""

    method: str
    seed: int | None
    notes: dict[str, SampleNotes]
    reused_samples: dict[str, int]
    warnings: tuple[str, ...] = field(default=())
    linkage: Linkage | None = None

    @property
    def samples_without_note(self) -> dict[str, int]:
        return {split: int((notes.counts == 0).sum()) for split, notes in self.notes.items()}

    @property
    def notes_in_several_splits(self) -> int:
        """Notes used in more than one split (never for the disjoint random/sequential pools)."""
        return notes_in_several_splits(self.notes)

    @property
    def note_index(self) -> dict[str, np.ndarray]:
        """Per split, each sample's note (the most recent when it has several), ``NO_NOTE``
        where none."""
        return {split: notes.most_recent(NO_NOTE) for split, notes in self.notes.items()}

    @property
    def note_count(self) -> dict[str, np.ndarray]:
        """Per split, how many notes make each sample's text vector."""
        return {split: notes.counts for split, notes in self.notes.items()}

    @property
    def note_hours(self) -> dict[str, np.ndarray] | None:
        """Per split, hours from each sample's most recent note to its prediction time (NaN
        where it has none); None unless notes are linked by id with chart times."""
        return self.linkage.note_hours if self.linkage is not None else None

    @property
    def aggregation(self) -> str:
        return self.linkage.rule.aggregation if self.linkage is not None else "mean"

    def used_notes_only(self) -> tuple[Pairing, np.ndarray]:
        """The same pairing over only the notes some sample uses, and those notes' old rows."""
        kept = np.unique(np.concatenate([notes.rows for notes in self.notes.values()]))
        renumbered = {
            split: SampleNotes(notes.indptr, np.searchsorted(kept, notes.rows))
            for split, notes in self.notes.items()
        }
        return replace(self, notes=renumbered), kept

    def summary(self) -> dict:
        """The plain-data record that goes into ``meta`` and the results."""
        summary = {
            "method": self.method,
            "seed": self.seed,
            "samples": {split: int(len(notes)) for split, notes in self.notes.items()},
            "unique_notes_used": {
                split: int(len(np.unique(notes.rows))) for split, notes in self.notes.items()
            },
            "reused_samples": dict(self.reused_samples),
            "samples_without_note": dict(self.samples_without_note),
            "notes_in_several_splits": self.notes_in_several_splits,
            "clinically_linked": self.method == "id",
            "warnings": list(self.warnings),
        }
        if self.linkage is not None:
            summary.update(self.linkage.summary())
        return summary


def resolve_method(method: str, samples_have_ids: bool, notes_have_ids: bool) -> str:
    if method not in PAIRING_METHODS:
        raise PipelineError(
            f"unknown pairing {method!r}; choose one of {', '.join(PAIRING_METHODS)}"
        )
    if method == "auto":
        return "id" if samples_have_ids and notes_have_ids else "random"
    if method == "id" and not (samples_have_ids and notes_have_ids):
        missing = (
            "the vitals file has no ids_train/ids_val/ids_test"
            if not samples_have_ids
            else ("the notes have no id column (pass --id-column)")
        )
        raise PipelineError(f"--pairing id needs ids on both sides, but {missing}")
    return method


def pair(
    split_sizes: dict[str, int],
    n_notes: int,
    method: str = "auto",
    seed: int = DEFAULT_PAIRING_SEED,
    sample_ids: dict[str, np.ndarray] | None = None,
    note_ids: list[str] | None = None,
    rule: LinkageRule = LinkageRule(),
    sample_times: dict[str, Timestamps] | None = None,
    note_times_of=None,
    note_categories_of=None,
) -> Pairing:
    """Pair ``n_notes`` notes with the samples of each split by the chosen method.

    Linking by id follows ``rule`` (times, window, categories; see ``linkage``); the other
    methods give each sample one note and refuse the linked-notes options.
    """
    resolved = resolve_method(method, sample_ids is not None, note_ids is not None)
    if resolved == "id":
        return pair_by_id(
            sample_ids, note_ids, rule, sample_times, note_times_of, note_categories_of
        )
    if not rule.is_default:
        raise PipelineError(
            "--time-column, --note-window-hours, --exclude-category, --note-aggregation and "
            "--allow-untimed-notes apply only to notes linked to samples by id, but the pairing "
            f"is {resolved!r}; give the vitals ids_* and the notes --id-column, or drop those options"
        )
    if resolved == "random":
        return pair_randomly(split_sizes, n_notes, seed)
    return pair_sequentially(split_sizes, n_notes)


def pair_notes_with_vitals(
    vitals: Vitals, source: NotesSource, method: str, seed: int, rule: LinkageRule
) -> tuple[Pairing, Notes]:
    """Pair the notes of ``source`` with the samples of ``vitals`` and load the notes it uses.

    Linked by id, only the notes eligible for some sample are read into memory (and so later
    featurised and embedded): the pairing's rows index those notes, in file order. Otherwise
    every note is loaded, as the random and sequential pools draw on all of them.
    """
    sizes = {name: len(split) for name, split in vitals.splits.items()}
    resolved = resolve_method(method, vitals.has_ids, source.id_column is not None)
    if resolved != "id":
        return pair(sizes, len(source), resolved, seed, rule=rule), source.take()
    time_column = f"--time-column {rule.time_column!r} of {source.source}"
    pairing = pair_by_id(
        {name: split.ids for name, split in vitals.splits.items()},
        source.ids(),
        rule,
        {name: split.times for name, split in vitals.splits.items()} if vitals.has_times else None,
        lambda rows: parse_times(source.column(rule.time_column, rows), time_column),
        lambda rows: source.column(rule.category_column, rows).tolist(),
    )
    pairing, kept = pairing.used_notes_only()
    return pairing, source.take(kept)


def pool_sizes(n_notes: int, split_sizes: dict[str, int]) -> dict[str, int]:
    """How many notes each split's pool gets.

    With enough notes every split gets as many notes as it has samples (no reuse; the rest are
    unused). With fewer, notes are shared out in proportion to split size by largest remainder,
    each pool keeping at least one note.
    """
    n_splits = len(split_sizes)
    if n_notes < n_splits:
        raise PipelineError(
            f"{n_notes} note(s) cannot be divided into {n_splits} disjoint pools (train/val/test); "
            f"load at least {n_splits} notes, e.g. widen --split"
        )
    total = sum(split_sizes.values())
    if n_notes >= total:
        return dict(split_sizes)
    quotas = {split: n_notes * size / total for split, size in split_sizes.items()}
    sizes = {split: max(1, int(quota)) for split, quota in quotas.items()}
    by_remainder = sorted(
        quotas, key=lambda split: quotas[split] - int(quotas[split]), reverse=True
    )
    for split in by_remainder:
        if sum(sizes.values()) >= n_notes:
            break
        sizes[split] += 1
    while sum(sizes.values()) > n_notes:  # the max(1, ...) floor can overshoot by a note or two
        largest = max(sizes, key=sizes.get)
        sizes[largest] -= 1
    return sizes


def _cut_into_pools(order: np.ndarray, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    pools, start = {}, 0
    for split, size in sizes.items():
        pools[split] = order[start : start + size]
        start += size
    return pools


def _fill_from_pool(
    pool: np.ndarray, n_samples: int, rng: np.random.Generator | None
) -> np.ndarray:
    """Give ``n_samples`` samples notes from ``pool``, each note used as evenly as possible."""
    repeats = -(-n_samples // len(pool))
    if rng is None:
        return np.tile(pool, repeats)[:n_samples]
    rounds = [rng.permutation(pool) for _ in range(repeats)]
    return np.concatenate(rounds)[:n_samples]


def _reuse_count(index: np.ndarray) -> int:
    used = index[index != NO_NOTE]
    return int(len(used) - len(np.unique(used)))


def pair_randomly(split_sizes: dict[str, int], n_notes: int, seed: int) -> Pairing:
    """Seeded random pools, then a seeded random assignment within each pool."""
    rng = np.random.default_rng(seed)
    pools = _cut_into_pools(rng.permutation(n_notes), pool_sizes(n_notes, split_sizes))
    note_index = {
        split: _fill_from_pool(pools[split], size, rng).astype(np.int64)
        for split, size in split_sizes.items()
    }
    return _pairing("random", seed, note_index)


def pair_sequentially(split_sizes: dict[str, int], n_notes: int) -> Pairing:
    """Notes in file order: train takes the first pool, then val, then test (the reference)."""
    pools = _cut_into_pools(np.arange(n_notes), pool_sizes(n_notes, split_sizes))
    note_index = {
        split: _fill_from_pool(pools[split], size, None).astype(np.int64)
        for split, size in split_sizes.items()
    }
    return _pairing("sequential", None, note_index)


def pair_by_id(
    sample_ids: dict[str, np.ndarray],
    note_ids,
    rule: LinkageRule = LinkageRule(),
    sample_times: dict[str, Timestamps] | None = None,
    note_times_of=None,
    note_categories_of=None,
) -> Pairing:
    """Each sample gets every eligible note with its id (``linkage.link_by_id``), none if none."""
    linkage = link_by_id(
        sample_ids,
        np.asarray(note_ids, dtype=object),
        rule,
        sample_times,
        note_times_of,
        note_categories_of,
    )
    return Pairing(
        "id", None, linkage.notes, {split: 0 for split in linkage.notes}, linkage.warnings, linkage
    )


def _pairing(method: str, seed: int | None, note_index: dict[str, np.ndarray]) -> Pairing:
    reused = {split: _reuse_count(index) for split, index in note_index.items()}
    warnings = []
    if any(reused.values()):
        warnings.append(
            "fewer notes than samples: notes are reused within a split "
            f"({', '.join(f'{s}: {n}' for s, n in reused.items())} samples share a note)"
        )
    notes = {split: SampleNotes.one_each(index, NO_NOTE) for split, index in note_index.items()}
    return Pairing(method, seed, notes, reused, tuple(warnings))
