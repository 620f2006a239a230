"""How old each sample's most recent note is at its prediction time (``note_hours_{split}``).

Linked by id with chart times, every sample gets the hours from its most recent eligible note to
its prediction time, NaN where it has no eligible note, whichever the aggregation; without
times (random or sequential pairing, untimed notes) there are none and the data file has no
``note_hours_*`` key. Expectations are worked out by hand from the chart times.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from multimodal_deterioration.base.timestamps import parse_times
from multimodal_deterioration.contract.multimodal_data import (
    load_multimodal_data,
    save_multimodal_data,
)
from multimodal_deterioration.preparation.assembly import assemble
from multimodal_deterioration.preparation.linkage import LinkageRule
from multimodal_deterioration.preparation.pairing import pair, pair_by_id
from multimodal_deterioration.preparation.vitals import Vitals, VitalSplit

SPLITS = ("train", "val", "test")
# Per split: (sample id, prediction time); a stay may have several windows ("a" twice).
SAMPLES = {
    "train": [
        ("a", "2130-01-02 08:00:00"),
        ("a", "2130-01-03 08:00:00"),
        ("b", "2130-01-02 08:00:00"),
    ],
    "val": [("c", "2130-01-02 08:00:00"), ("d", "2130-01-02 08:00:00")],
    "test": [("e", "2130-01-05 20:30:00"), ("f", "2130-01-02 08:00:00")],
}
# (note id, chart time, category)
NOTES = [
    ("a", "2130-01-01 10:00:00", "Nursing"),
    ("a", "2130-01-02 06:30:00", "Nursing"),  # a's most recent before its first window: 1.5 h
    ("a", "2130-01-02 20:00:00", "Physician"),  # before a's second window only: 12 h
    ("a", "2130-01-03 07:00:00", "Discharge summary"),  # excluded by category
    ("b", "2130-01-02 09:00:00", "Nursing"),  # after b's prediction time: b has no note
    ("c", "2130-01-02 08:00:00", "Nursing"),  # exactly at the prediction time: 0 h
    ("c", "2130-01-01 08:00:00", "Nursing"),
    ("d", "2129-12-30 08:00:00", "Nursing"),  # 72 h
    ("e", "2130-01-02 08:15:00", "Nursing"),  # 84.25 h
    ("f", None, "Nursing"),  # untimed: f has no eligible note
]
EXPECTED_HOURS = {
    "train": [1.5, 12.0, np.nan],
    "val": [0.0, 72.0],
    "test": [84.25, np.nan],
}
EXPECTED_COUNTS = {"train": [2, 3, 0], "val": [2, 1], "test": [1, 0]}
TIMED = dict(time_column="charttime", category_column="category")


def linked_pairing(rule: LinkageRule, times: bool = True):
    sample_ids = {s: np.array([i for i, _ in SAMPLES[s]]) for s in SPLITS}
    sample_times = {s: parse_times([t for _, t in SAMPLES[s]], s) for s in SPLITS}
    return pair_by_id(
        sample_ids,
        [note_id for note_id, _, _ in NOTES],
        rule,
        sample_times if times else None,
        lambda rows: parse_times([NOTES[r][1] for r in rows], "charttime"),
        lambda rows: [NOTES[r][2] for r in rows],
    )


def vitals_of_samples() -> Vitals:
    splits = {}
    for s in SPLITS:
        n = len(SAMPLES[s])
        splits[s] = VitalSplit(
            X=np.arange(n * 2 * 3, dtype=np.float32).reshape(n, 2, 3),
            y=np.arange(n) % 2,
            ids=np.array([i for i, _ in SAMPLES[s]]),
            times=parse_times([t for _, t in SAMPLES[s]], s),
        )
    return Vitals(splits, ("hr", "rr", "spo2"), Path("vitals.npz"))


@pytest.mark.parametrize("aggregation", ["mean", "last"])
def test_hours_are_the_age_of_the_most_recent_eligible_note_and_nan_without_one(aggregation):
    rule = LinkageRule(**TIMED, exclude_categories=("discharge summary",), aggregation=aggregation)
    pairing = linked_pairing(rule)
    for s in SPLITS:
        np.testing.assert_array_equal(pairing.note_count[s], EXPECTED_COUNTS[s])
        hours = pairing.note_hours[s]
        assert hours.dtype == np.float64
        np.testing.assert_array_equal(hours, EXPECTED_HOURS[s])  # NaN where equal NaN
        assert np.array_equal(np.isnan(hours), pairing.note_count[s] == 0)


def test_hours_follow_the_window_and_the_categories():
    """Excluding nothing lets a's discharge summary (1 h before its second window) in; a 24-hour
    window leaves d's 72-hour-old note out."""
    pairing = linked_pairing(LinkageRule(**TIMED, window_hours=24))
    assert pairing.note_hours["train"][1] == 1.0
    assert np.isnan(pairing.note_hours["val"][1])


def test_numeric_times_give_the_difference_in_their_own_unit():
    sample_ids = {"train": np.array(["a", "b"]), "val": np.array(["c"]), "test": np.array(["d"])}
    times = {"train": [30.0, 10.0], "val": [5.0], "test": [7.5]}
    note_times = [2.0, 29.5, 11.0, 5.0, 0.25]
    pairing = pair_by_id(
        sample_ids,
        ["a", "a", "b", "c", "d"],
        LinkageRule(time_column="hours"),
        {s: parse_times(t, s) for s, t in times.items()},
        lambda rows: parse_times([note_times[r] for r in rows], "hours"),
    )
    np.testing.assert_array_equal(pairing.note_hours["train"], [0.5, np.nan])
    assert pairing.note_hours["val"].tolist() == [0.0]
    assert pairing.note_hours["test"].tolist() == [7.25]


def test_untimed_linkage_and_the_one_note_pairings_have_no_hours():
    rule = LinkageRule(category_column="category", allow_untimed_notes=True)
    assert linked_pairing(rule, times=False).note_hours is None
    assert linked_pairing(rule, times=True).note_hours is None  # times in the vitals, not used
    sizes = {s: len(SAMPLES[s]) for s in SPLITS}
    for method in ("random", "sequential"):
        assert pair(sizes, 20, method, seed=1).note_hours is None


def test_assembled_hours_survive_the_npz_round_trip(tmp_path):
    rule = LinkageRule(**TIMED, exclude_categories=("discharge summary",), aggregation="last")
    pairing = linked_pairing(rule)
    embeddings = np.eye(len(NOTES), 4, dtype=np.float32)
    data = assemble(vitals_of_samples(), embeddings, pairing, {"pairing": pairing.summary()})
    path = save_multimodal_data(tmp_path / "data.npz", data)
    with np.load(path) as npz:
        assert npz["note_hours_train"].dtype == np.float64
    loaded = load_multimodal_data(path)
    for s in SPLITS:
        np.testing.assert_array_equal(data.splits[s].note_hours, EXPECTED_HOURS[s])
        np.testing.assert_array_equal(loaded.splits[s].note_hours, EXPECTED_HOURS[s])
        np.testing.assert_array_equal(loaded.splits[s].note_count, EXPECTED_COUNTS[s])


def test_without_times_the_data_file_has_no_hours_key(tmp_path):
    pairing = pair({s: len(SAMPLES[s]) for s in SPLITS}, 20, "random", seed=1)
    embeddings = np.ones((20, 4), dtype=np.float32)
    data = assemble(vitals_of_samples(), embeddings, pairing, {})
    assert all(split.note_hours is None for split in data.splits.values())
    path = save_multimodal_data(tmp_path / "data.npz", data)
    with np.load(path) as npz:
        assert not [key for key in npz.files if key.startswith("note_hours")]
    assert all(split.note_hours is None for split in load_multimodal_data(path).splits.values())
