"""Pair notes with vital-sign samples: by id, by a seeded random assignment, or in order.

The rules (DESIGN.md, "Honest pairing"):
- with ids on both sides, pair by id; samples without a note get no note (-1) and are counted;
- without ids, a seeded random assignment (default) or in order (``sequential``, the reference
  behaviour);
- notes are first divided into disjoint train/val/test pools, so no note is seen in two splits;
  when a pool is smaller than its split, its notes are reused and the reuse is counted;
- pairing never sees labels: no function here takes them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .errors import PipelineError

PAIRING_METHODS = ("auto", "id", "random", "sequential")
NO_NOTE = -1


@dataclass(frozen=True)
class Pairing:
    """Which note row each sample of each split gets (``NO_NOTE`` where none)."""

    method: str
    seed: int | None
    note_index: dict[str, np.ndarray]
    reused_samples: dict[str, int]
    samples_without_note: dict[str, int]
    notes_in_several_splits: int = 0
    duplicate_note_ids: int = 0
    warnings: tuple[str, ...] = field(default=())

    def summary(self) -> dict:
        """The plain-data record that goes into ``meta`` and the results."""
        return {
            "method": self.method,
            "seed": self.seed,
            "samples": {split: int(len(index)) for split, index in self.note_index.items()},
            "unique_notes_used": {
                split: int(len(np.unique(index[index != NO_NOTE])))
                for split, index in self.note_index.items()
            },
            "reused_samples": dict(self.reused_samples),
            "samples_without_note": dict(self.samples_without_note),
            "notes_in_several_splits": self.notes_in_several_splits,
            "duplicate_note_ids": self.duplicate_note_ids,
            "clinically_linked": self.method == "id",
            "warnings": list(self.warnings),
        }


def resolve_method(method: str, samples_have_ids: bool, notes_have_ids: bool) -> str:
    if method not in PAIRING_METHODS:
        raise PipelineError(f"unknown pairing {method!r}; choose one of {', '.join(PAIRING_METHODS)}")
    if method == "auto":
        return "id" if samples_have_ids and notes_have_ids else "random"
    if method == "id" and not (samples_have_ids and notes_have_ids):
        missing = "the vitals file has no ids_train/ids_val/ids_test" if not samples_have_ids else (
            "the notes have no id column (pass --id-column)"
        )
        raise PipelineError(f"--pairing id needs ids on both sides, but {missing}")
    return method


def pair(
    split_sizes: dict[str, int],
    n_notes: int,
    method: str = "auto",
    seed: int = 42,
    sample_ids: dict[str, np.ndarray] | None = None,
    note_ids: list[str] | None = None,
) -> Pairing:
    """Pair ``n_notes`` notes with the samples of each split by the chosen method."""
    resolved = resolve_method(method, sample_ids is not None, note_ids is not None)
    if resolved == "id":
        return pair_by_id(sample_ids, note_ids)
    if resolved == "random":
        return pair_randomly(split_sizes, n_notes, seed)
    return pair_sequentially(split_sizes, n_notes)


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
    by_remainder = sorted(quotas, key=lambda split: quotas[split] - int(quotas[split]), reverse=True)
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


def _fill_from_pool(pool: np.ndarray, n_samples: int, rng: np.random.Generator | None) -> np.ndarray:
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


def pair_by_id(sample_ids: dict[str, np.ndarray], note_ids: list[str]) -> Pairing:
    """Each sample gets the first note with its id; samples with no such note get ``NO_NOTE``."""
    first_row: dict[str, int] = {}
    for row, note_id in enumerate(note_ids):
        first_row.setdefault(str(note_id), row)
    duplicates = len(note_ids) - len(first_row)
    note_index = {
        split: np.array([first_row.get(str(i), NO_NOTE) for i in ids], dtype=np.int64)
        for split, ids in sample_ids.items()
    }
    if all((index == NO_NOTE).all() for index in note_index.values()):
        example_sample = str(next(iter(next(iter(sample_ids.values()))), "?"))
        example_note = note_ids[0] if note_ids else "?"
        raise PipelineError(
            f"no sample id matches a note id (e.g. sample {example_sample!r}, note "
            f"{example_note!r}); check --id-column and that both use the same id format"
        )
    splits_of_note = Counter()
    for index in note_index.values():
        splits_of_note.update(set(index[index != NO_NOTE].tolist()))
    shared = sum(1 for count in splits_of_note.values() if count > 1)
    warnings = []
    if shared:
        warnings.append(
            f"{shared} note(s) are linked to samples in more than one split: the same patient is "
            "in several splits, so test results are optimistic; split your data by patient"
        )
    if duplicates:
        warnings.append(f"{duplicates} note(s) repeat an earlier note's id; the first one is used")
    return _pairing("id", None, note_index, shared, duplicates, tuple(warnings))


def _pairing(method, seed, note_index, shared=0, duplicates=0, warnings=()) -> Pairing:
    reused = {split: _reuse_count(index) for split, index in note_index.items()}
    without = {split: int((index == NO_NOTE).sum()) for split, index in note_index.items()}
    warnings = list(warnings)
    if any(reused.values()):
        warnings.append(
            "fewer notes than samples: notes are reused within a split "
            f"({', '.join(f'{s}: {n}' for s, n in reused.items())} samples share a note)"
        )
    return Pairing(method, seed, note_index, reused, without, shared, duplicates, tuple(warnings))
