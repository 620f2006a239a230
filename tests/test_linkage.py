"""Which linked notes a sample may use: id, chart time, window, category; and how they combine.

Every expectation here is written out by hand or recomputed by brute force over all
note-sample pairs, independently of the sorted-key search that ``link_by_id`` uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.timestamps import parse_times
from multimodal_deterioration.preparation.assembly import aggregate_embeddings
from multimodal_deterioration.preparation.linkage import LinkageRule, describe_linkage, link_by_id
from multimodal_deterioration.preparation.pairing import pair_by_id

PREDICTION = "2130-01-02 08:00:00"
ONE_SPLIT_EMPTY = {"val": np.array(["nobody-v"]), "test": np.array(["nobody-t"])}


def link(sample_ids, sample_times, note_ids, note_times, rule=None, categories=None):
    """``link_by_id`` on plain lists; ``sample_*`` are per split, ``note_*`` one per note."""
    rule = rule or LinkageRule(time_column="charttime")
    return link_by_id(
        {split: np.array(ids) for split, ids in sample_ids.items()},
        np.array(note_ids, dtype=object),
        rule,
        {split: parse_times(times, split) for split, times in sample_times.items()}
        if sample_times is not None
        else None,
        lambda rows: parse_times([note_times[r] for r in rows], "charttime"),
        lambda rows: [categories[r] for r in rows],
    )


def three_splits(train_ids, train_times, note_ids):
    """A train split as given; val and test hold one sample each, linked to a note of its own."""
    sample_ids = {"train": train_ids, "val": ["v"], "test": ["t"]}
    sample_times = {"train": train_times, "val": [PREDICTION], "test": [PREDICTION]}
    return sample_ids, sample_times, [*note_ids, "v", "t"]


def eligible_rows(linkage, split="train"):
    notes = linkage.notes[split]
    return [notes.rows[notes.indptr[i] : notes.indptr[i + 1]].tolist() for i in range(len(notes))]


def test_a_note_at_exactly_the_prediction_time_is_eligible_and_one_second_later_is_not():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a", "a"])
    note_times = ["2130-01-02 07:59:59", PREDICTION, "2130-01-02 08:00:01", PREDICTION, PREDICTION]
    linkage = link(ids, times, note_ids, note_times)
    assert eligible_rows(linkage) == [[0, 1]]
    assert linkage.counts["train"].notes_after_prediction_time == 1
    assert linkage.counts["train"].candidate_links == 3


def test_the_window_keeps_notes_up_to_exactly_h_hours_before_the_prediction():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a", "a"])
    note_times = [
        "2130-01-01 07:59:59",
        "2130-01-01 08:00:00",
        "2130-01-02 07:00:00",
        PREDICTION,
        PREDICTION,
    ]
    rule = LinkageRule(time_column="charttime", window_hours=24)
    linkage = link(ids, times, note_ids, note_times, rule)
    assert eligible_rows(linkage) == [[1, 2]]
    assert linkage.counts["train"].notes_outside_window == 1
    assert linkage.summary()["window_hours"] == 24


def test_numeric_times_and_windows_are_in_the_same_unit():
    ids, times, note_ids = three_splits(["a", "b"], [24.0, 48.0], ["a", "a", "b", "b"])
    note_times = [1.0, 30.0, 23.5, 47.0, 0.0, 0.0]
    rule = LinkageRule(time_column="hours", window_hours=12)
    linkage = link(ids, {**times, "val": [1.0], "test": [1.0]}, note_ids, note_times, rule)
    assert eligible_rows(linkage) == [[], [3]]
    counts = linkage.counts["train"]
    assert (counts.notes_after_prediction_time, counts.notes_outside_window) == (1, 2)
    assert counts.samples_without_eligible_note == 1


def test_notes_without_a_time_are_never_eligible_and_are_counted():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a", "a"])
    note_times = [None, "", "2130-01-01 00:00:00", PREDICTION, PREDICTION]
    linkage = link(ids, times, note_ids, note_times)
    assert eligible_rows(linkage) == [[2]]
    assert linkage.counts["train"].notes_without_time == 2


def test_excluded_categories_match_case_and_padding_insensitively_and_are_counted_by_name():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a", "a", "a"])
    note_times = ["2130-01-01 00:00:00"] * 4 + [PREDICTION, PREDICTION]
    categories = [
        "Discharge summary ",
        "DISCHARGE SUMMARY",
        "Nursing",
        "Echo",
        "Nursing",
        "Nursing",
    ]
    rule = LinkageRule(
        time_column="charttime",
        category_column="category",
        exclude_categories=("discharge summary", "echo"),
    )
    linkage = link(ids, times, note_ids, note_times, rule, categories)
    assert eligible_rows(linkage) == [[2]]
    assert linkage.counts["train"].notes_excluded_by_category == {"discharge summary": 2, "echo": 1}
    assert linkage.summary()["notes_excluded_by_category"]["val"] == {
        "discharge summary": 0,
        "echo": 0,
    }


def test_each_excluded_link_is_counted_once_under_the_first_rule_that_excludes_it():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a"])
    note_times = ["2130-01-03 00:00:00", None, PREDICTION, PREDICTION]  # after, and untimed
    categories = ["Discharge summary", "Discharge summary", "Nursing", "Nursing"]
    rule = LinkageRule(
        time_column="t", category_column="c", exclude_categories=("Discharge summary",)
    )
    counts = link(ids, times, note_ids, note_times, rule, categories).counts["train"]
    assert counts.notes_excluded_by_category == {"Discharge summary": 2}
    assert counts.notes_after_prediction_time == counts.notes_without_time == 0
    assert counts.candidate_links == 2 and counts.eligible_links == 0


def test_repeated_sample_ids_each_get_the_notes_charted_before_their_own_time():
    """Two prediction windows of one stay: the later window also sees the later note."""
    ids, times, note_ids = three_splits(
        ["stay", "stay"], ["2130-01-01 12:00:00", "2130-01-02 12:00:00"], ["stay", "stay"]
    )
    note_times = ["2130-01-02 06:00:00", "2130-01-01 06:00:00", PREDICTION, PREDICTION]
    linkage = link(ids, times, note_ids, note_times)
    assert eligible_rows(linkage) == [[1], [1, 0]]  # oldest first
    assert linkage.notes["train"].most_recent().tolist() == [1, 0]
    assert linkage.counts["train"].notes_after_prediction_time == 1


def test_notes_charted_at_the_same_time_are_ordered_by_file_position():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a", "a"])
    note_times = [
        "2130-01-01 00:00:00",
        "2130-01-01 00:00:00",
        "2129-12-31 00:00:00",
        PREDICTION,
        PREDICTION,
    ]
    assert eligible_rows(link(ids, times, note_ids, note_times)) == [[2, 0, 1]]


def test_several_untimed_notes_per_id_are_refused_unless_explicitly_allowed():
    sample_ids = {"train": np.array(["a", "b"]), "val": np.array(["c"]), "test": np.array(["d"])}
    note_ids = np.array(["a", "a", "b", "c", "d"], dtype=object)
    with pytest.raises(PipelineError, match="leak it into the prediction.*--time-column") as error:
        link_by_id(sample_ids, note_ids, LinkageRule())
    assert "1 sample(s) are linked to several notes" in str(error.value)
    linkage = link_by_id(sample_ids, note_ids, LinkageRule(allow_untimed_notes=True))
    assert eligible_rows(linkage) == [[0, 1], [2]]  # file order: the last is "most recent"
    assert linkage.summary()["timing_checked"] is False
    assert any("timing was not checked" in warning for warning in linkage.warnings)
    assert "NOT checked" in describe_linkage({"method": "id", **linkage.summary()})


def test_excluding_the_extra_categories_clears_the_refusal():
    sample_ids = {"train": np.array(["a"]), "val": np.array(["c"]), "test": np.array(["d"])}
    note_ids = np.array(["a", "a", "c", "d"], dtype=object)
    categories = ["Nursing", "Discharge summary", "Nursing", "Nursing"]
    rule = LinkageRule(category_column="c", exclude_categories=("discharge summary",))
    linkage = link_by_id(
        sample_ids, note_ids, rule, note_categories_of=lambda r: [categories[i] for i in r]
    )
    assert eligible_rows(linkage) == [[0]]


def test_datetime_notes_cannot_be_compared_with_numeric_prediction_times():
    ids, _, note_ids = three_splits(["a"], None, ["a"])
    numbers = {"train": [24.0], "val": [24.0], "test": [24.0]}
    note_times = ["2130-01-01 00:00:00"] * 3
    with pytest.raises(
        PipelineError, match="holds datetimes but the vitals' times_\\* hold numbers"
    ):
        link(ids, numbers, note_ids, note_times)


def test_zone_aware_chart_times_cannot_be_compared_with_naive_prediction_times():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a"])
    note_times = ["2130-01-01T00:00:00Z"] * 3
    with pytest.raises(PipelineError, match="carry a time zone"):
        link(ids, times, note_ids, note_times)


def test_a_time_column_without_prediction_times_in_the_vitals_is_refused():
    with pytest.raises(PipelineError, match="add times_train, times_val and times_test"):
        link({"train": ["a"], "val": ["b"], "test": ["c"]}, None, ["a", "b", "c"], [PREDICTION] * 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"aggregation": "median"}, "unknown note aggregation 'median'"),
        ({"time_column": "t", "window_hours": 0}, "positive number of hours"),
        ({"window_hours": 6}, "needs the notes' chart times: pass --time-column"),
        ({"exclude_categories": ("x",)}, "pass --category-column"),
    ],
)
def test_inconsistent_linkage_options_are_refused(kwargs, message):
    with pytest.raises(PipelineError, match=message):
        LinkageRule(**kwargs)


def test_mean_and_last_aggregate_exactly_the_eligible_notes():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(5, 8)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    ids, times, note_ids = three_splits(["a", "b"], [PREDICTION, PREDICTION], ["a", "a", "a"])
    note_times = [
        "2130-01-01 00:00:00",
        "2130-01-02 00:00:00",
        "2130-01-03 00:00:00",
        PREDICTION,
        PREDICTION,
    ]
    sample_notes = link(ids, times, note_ids, note_times).notes["train"]

    mean = aggregate_embeddings(embeddings, sample_notes, "mean")
    expected = embeddings[[0, 1]].mean(axis=0)
    np.testing.assert_allclose(mean[0], expected / np.linalg.norm(expected), rtol=1e-6)
    assert not mean[1].any()  # no note for "b": a zero vector
    last = aggregate_embeddings(embeddings, sample_notes, "last")
    np.testing.assert_array_equal(last[0], embeddings[1])
    assert not last[1].any()


# --------------------------------------------------------------------------- property


@st.composite
def linked_cohorts(draw):
    n_ids = draw(st.integers(1, 4))
    hours = st.integers(0, 60)
    samples = draw(st.lists(st.tuples(st.integers(0, n_ids - 1), hours), min_size=1, max_size=8))
    notes = draw(
        st.lists(
            st.tuples(st.integers(0, n_ids), st.one_of(st.none(), hours)), min_size=1, max_size=20
        )
    )
    window = draw(st.one_of(st.none(), st.integers(1, 30)))
    return samples, notes, window


@settings(max_examples=150, deadline=None)
@given(linked_cohorts())
def test_no_sample_ever_uses_a_note_written_after_its_prediction_time(cohort):
    samples, notes, window = cohort
    base = np.datetime64("2130-01-01T00:00:00")
    to_time = lambda h: None if h is None else str(base + np.timedelta64(h, "h"))  # noqa: E731
    sample_ids = [f"id{i}" for i, _ in samples] + ["v", "t"]
    note_ids = [f"id{i}" for i, _ in notes] + ["v", "t"]
    sample_hours = [h for _, h in samples]
    note_hours = [h for _, h in notes] + [0, 0]
    rule = LinkageRule(time_column="charttime", window_hours=window)
    try:
        linkage = link(
            {"train": sample_ids[:-2], "val": ["v"], "test": ["t"]},
            {
                "train": [to_time(h) for h in sample_hours],
                "val": [to_time(0)],
                "test": [to_time(0)],
            },
            note_ids,
            [to_time(h) for h in note_hours],
            rule,
        )
    except PipelineError as error:  # only when no note id matches any sample
        assert "no sample id matches" in str(error)
        return

    def brute_force(sample):
        sample_id, predicted = sample_ids[sample], sample_hours[sample]
        keep = [
            row
            for row, (note_id, charted) in enumerate(zip(note_ids, note_hours))
            if note_id == sample_id
            and charted is not None
            and charted <= predicted
            and (window is None or predicted - charted <= window)
        ]
        return sorted(keep, key=lambda row: (note_hours[row], row))

    assert eligible_rows(linkage) == [brute_force(i) for i in range(len(samples))]
    # The hours from the most recent eligible note to the prediction time, NaN without one.
    expected_hours = [
        float(sample_hours[i] - note_hours[brute_force(i)[-1]]) if brute_force(i) else np.nan
        for i in range(len(samples))
    ]
    np.testing.assert_array_equal(linkage.note_hours["train"], expected_hours)

    # Changing every post-prediction note's embedding changes no sample's vector.
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(len(note_ids), 4)).astype(np.float32)
    before = aggregate_embeddings(embeddings, linkage.notes["train"], "mean")
    for sample, (_, predicted) in enumerate(samples):
        late = [r for r, h in enumerate(note_hours) if h is not None and h > predicted]
        altered = embeddings.copy()
        altered[late] = rng.normal(size=(len(late), 4))
        after = aggregate_embeddings(altered, linkage.notes["train"], "mean")
        np.testing.assert_array_equal(after[sample], before[sample])


def test_pairing_by_id_carries_the_linkage_counts_and_settings_into_its_summary():
    sample_ids = {"train": np.array(["a"]), "val": np.array(["b"]), "test": np.array(["c"])}
    times = {s: parse_times([PREDICTION], s) for s in sample_ids}
    note_times = [PREDICTION, "2130-01-05 00:00:00", PREDICTION, PREDICTION]
    pairing = pair_by_id(
        sample_ids,
        ["a", "a", "b", "c"],
        LinkageRule(time_column="charttime", aggregation="last"),
        times,
        lambda rows: parse_times([note_times[r] for r in rows], "charttime"),
    )
    summary = pairing.summary()
    assert summary["notes_after_prediction_time"] == {"train": 1, "val": 0, "test": 0}
    assert summary["samples_without_eligible_note"] == {"train": 0, "val": 0, "test": 0}
    assert (summary["time_column"], summary["aggregation"], summary["timing_checked"]) == (
        "charttime",
        "last",
        True,
    )
    assert pairing.note_count["train"].tolist() == [1]
    text = describe_linkage(summary)
    assert "at or before the sample's prediction time" in text
    assert "1 charted after the prediction time" in text


def test_no_eligible_note_at_all_is_an_error_that_gives_the_counts():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a"])
    note_times = ["2131-01-01 00:00:00"] * 4  # a year after every prediction time
    with pytest.raises(PipelineError, match=r"no note is eligible.*4 after the prediction time"):
        link(ids, times, note_ids, note_times)


@pytest.mark.parametrize("year", [1600, 1850, 2300])
def test_dates_centuries_from_today_link_on_both_sides(year):
    """De-identified data shift dates by centuries (MIMIC into 2100-2200, some birth dates 300
    years more), past the years 1677-2262 that nanoseconds since 1970 can hold."""
    prediction = f"{year}-01-02 08:00:00"
    ids, _, note_ids = three_splits(["a"], None, ["a", "a", "a"])
    note_times = [f"{year}-01-01 07:59:59", prediction, f"{year}-01-02 08:00:01", *[prediction] * 2]
    for sample_times in (
        [prediction],
        np.array([prediction.replace(" ", "T")], dtype="datetime64[s]"),
    ):
        times = {"train": sample_times, "val": [prediction], "test": [prediction]}
        rule = LinkageRule(time_column="charttime", window_hours=24)
        linkage = link(ids, times, note_ids, note_times, rule)
        assert eligible_rows(linkage) == [[1]]
        counts = linkage.counts["train"]
        assert (counts.notes_outside_window, counts.notes_after_prediction_time) == (1, 1)


def test_a_new_york_chart_time_is_compared_as_the_utc_instant_it_names():
    """09:30-04:00 is 13:30Z: eligible for a 13:45Z prediction within one hour, while 10:00-04:00
    (14:00Z) is after it. Read as wall-clock times, the first would be 4 h 15 min earlier (outside
    the window) and the second before the prediction."""
    prediction = "2130-05-03T13:45:00Z"
    ids, times, note_ids = three_splits(["a"], [prediction], ["a", "a"])
    times = {split: [prediction] for split in times}
    note_times = ["2130-05-03T09:30:00-04:00", "2130-05-03T10:00:00-04:00", prediction, prediction]
    linkage = link(
        ids, times, note_ids, note_times, LinkageRule(time_column="charttime", window_hours=1)
    )
    assert eligible_rows(linkage) == [[0]]
    assert linkage.counts["train"].notes_after_prediction_time == 1


def test_missing_times_however_spelled_are_counted_as_without_time():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a"] * 6)
    note_times = ["NaT", " nan ", "None", "NULL", "", "2130-01-01 00:00:00", PREDICTION, PREDICTION]
    linkage = link(ids, times, note_ids, note_times)
    assert eligible_rows(linkage) == [[5]]
    assert linkage.counts["train"].notes_without_time == 5


def test_notes_that_all_lack_a_time_are_reported_as_untimed_not_as_numbers():
    ids, times, note_ids = three_splits(["a"], [PREDICTION], ["a", "a"])
    with pytest.raises(PipelineError, match=r"no note is eligible.*\(4 without a chart time\)"):
        link(ids, times, note_ids, ["NaT", "", "null", None])
