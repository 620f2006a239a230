import numpy as np
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.preparation.pairing import NO_NOTE, pair, pair_by_id, pool_sizes

SIZES = {"train": 70, "val": 15, "test": 15}


def all_indices(pairing):
    return {
        split: set(index[index != NO_NOTE].tolist()) for split, index in pairing.note_index.items()
    }


def assert_no_note_in_two_splits(pairing):
    used = all_indices(pairing)
    assert not used["train"] & used["val"]
    assert not used["train"] & used["test"]
    assert not used["val"] & used["test"]


@pytest.mark.parametrize("method", ["random", "sequential"])
@pytest.mark.parametrize("n_notes", [3, 17, 100, 1000])
def test_no_note_index_appears_in_two_splits(method, n_notes):
    pairing = pair(SIZES, n_notes, method, seed=3)
    assert_no_note_in_two_splits(pairing)
    for split, size in SIZES.items():
        index = pairing.note_index[split]
        assert len(index) == size and index.min() >= 0 and index.max() < n_notes


def test_with_enough_notes_nothing_is_reused():
    pairing = pair(SIZES, 1000, "random", seed=0)
    assert pairing.reused_samples == {"train": 0, "val": 0, "test": 0}
    assert not pairing.warnings


def test_with_few_notes_reuse_is_even_and_counted():
    pairing = pair(SIZES, 20, "random", seed=0)
    sizes = pool_sizes(20, SIZES)
    assert sum(sizes.values()) == 20
    for split, n_samples in SIZES.items():
        counts = np.bincount(pairing.note_index[split])
        counts = counts[counts > 0]
        assert len(counts) == sizes[split]
        assert counts.max() - counts.min() <= 1  # each note used as evenly as possible
        assert pairing.reused_samples[split] == n_samples - sizes[split]
    assert any("reused" in warning for warning in pairing.warnings)


def test_pool_sizes_are_proportional_and_cover_every_split():
    assert pool_sizes(1000, SIZES) == SIZES
    assert pool_sizes(20, SIZES) == {"train": 14, "val": 3, "test": 3}
    assert pool_sizes(3, SIZES) == {"train": 1, "val": 1, "test": 1}
    with pytest.raises(PipelineError, match="cannot be divided into 3 disjoint pools"):
        pool_sizes(2, SIZES)


def test_sequential_pairing_takes_notes_in_file_order():
    pairing = pair(SIZES, 1000, "sequential")
    assert pairing.note_index["train"].tolist() == list(range(70))
    assert pairing.note_index["val"].tolist() == list(range(70, 85))
    assert pairing.note_index["test"].tolist() == list(range(85, 100))


def test_random_pairing_is_seeded():
    a, b, c = (pair(SIZES, 500, "random", seed=s) for s in (1, 1, 2))
    for split in SIZES:
        assert np.array_equal(a.note_index[split], b.note_index[split])
    assert not all(np.array_equal(a.note_index[s], c.note_index[s]) for s in SIZES)


def test_pairing_by_id_links_each_sample_to_its_own_note():
    sample_ids = {
        "train": np.array(["a", "b", "c"]),
        "val": np.array(["d"]),
        "test": np.array(["e", "zz"]),
    }
    note_ids = ["e", "d", "c", "b", "a", "unused"]
    pairing = pair_by_id(sample_ids, note_ids)
    assert pairing.note_index["train"].tolist() == [4, 3, 2]
    assert pairing.note_index["val"].tolist() == [1]
    assert pairing.note_index["test"].tolist() == [0, NO_NOTE]
    assert pairing.samples_without_note == {"train": 0, "val": 0, "test": 1}
    assert pairing.summary()["clinically_linked"] is True


def test_auto_pairs_by_id_only_when_both_sides_have_ids():
    sample_ids = {split: np.array([f"P{split}{i}" for i in range(n)]) for split, n in SIZES.items()}
    note_ids = [i for ids in sample_ids.values() for i in ids][::-1]
    assert pair(SIZES, len(note_ids), "auto", 0, sample_ids, note_ids).method == "id"
    assert pair(SIZES, len(note_ids), "auto", 0, sample_ids, None).method == "random"
    assert pair(SIZES, len(note_ids), "auto", 0, None, note_ids).method == "random"
    with pytest.raises(PipelineError, match="needs ids on both sides.*--id-column"):
        pair(SIZES, len(note_ids), "id", 0, sample_ids, None)


def test_id_pairing_reports_patients_shared_between_splits():
    sample_ids = {"train": np.array(["a", "b"]), "val": np.array(["b"]), "test": np.array(["c"])}
    pairing = pair_by_id(sample_ids, ["a", "b", "c"])
    assert pairing.notes_in_several_splits == 1
    assert any("split your data by patient" in warning for warning in pairing.warnings)
    assert pairing.summary()["warnings"] == list(pairing.warnings)


def test_a_repeated_note_id_without_times_is_refused_not_silently_reduced_to_one_note():
    sample_ids = {"train": np.array(["a", "b"]), "val": np.array(["c"]), "test": np.array(["d"])}
    with pytest.raises(
        PipelineError, match="--time-column.*--exclude-category.*--allow-untimed-notes"
    ):
        pair_by_id(sample_ids, ["a", "b", "c", "d", "a"])


def test_one_note_methods_refuse_the_linked_notes_options():
    from multimodal_deterioration.preparation.linkage import LinkageRule

    with pytest.raises(PipelineError, match="only to notes linked to samples by id.*'random'"):
        pair(SIZES, 100, "random", rule=LinkageRule(aggregation="last"))


def test_id_pairing_with_no_match_is_an_error_that_shows_both_formats():
    with pytest.raises(PipelineError, match=r"sample '1'.*note 'P1'"):
        pair_by_id(
            {"train": np.array(["1"]), "val": np.array(["2"]), "test": np.array(["3"])}, ["P1"]
        )


def test_pairing_never_sees_labels_so_permuting_them_changes_nothing(tmp_path):
    from multimodal_deterioration.preparation.vitals import load_vitals

    from helpers import make_vitals

    arrays = make_vitals(ids=False)
    permuted = dict(arrays)
    rng = np.random.default_rng(0)
    for split in SIZES:
        permuted[f"y_{split}"] = rng.permutation(1 - arrays[f"y_{split}"])
    results = []
    for name, payload in (("a.npz", arrays), ("b.npz", permuted)):
        np.savez(tmp_path / name, **payload)
        vitals = load_vitals(tmp_path / name)
        sizes = {split: len(s) for split, s in vitals.splits.items()}
        results.append(pair(sizes, 25, "random", seed=7))
    for split in SIZES:
        assert np.array_equal(results[0].note_index[split], results[1].note_index[split])
