"""Chart and prediction times: one reading for every form, any date a datetime holds, and
missing times however they are spelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.timestamps import DATETIME, parse_times, require_comparable

MICROSECONDS = 10**6


def microseconds_since_1970(text: str) -> int:
    """The instant ``text`` names, worked out with the standard library alone."""
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(text)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return round((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * MICROSECONDS)


@pytest.mark.parametrize("year", [1600, 1850, 2300])
def test_dates_centuries_from_today_are_read_exactly_as_datetime64_and_text(year):
    first, second = f"{year}-03-01T08:00:00", f"{year}-03-01T09:00:01"
    expected = [microseconds_since_1970(first), microseconds_since_1970(second)]
    for values in (
        np.array([first, second], dtype="datetime64[s]"),
        np.array([first, second], dtype="datetime64[us]"),
        [first.replace("T", " "), second],
        pd.Series(pd.to_datetime([first, second]).as_unit("s")),
    ):
        times = parse_times(values, "t")
        assert times.kind == DATETIME and not times.timezone_aware
        assert times.values.tolist() == expected
    assert times.values[1] - times.values[0] == times.hours(1) + MICROSECONDS


def test_zoned_dates_centuries_from_today_convert_to_utc():
    times = parse_times(
        ["2300-01-01T00:30:00+01:00", "1850-06-30T20:00:00-04:00", "1600-01-01T00:00:00Z"], "t"
    )
    assert times.timezone_aware
    assert times.values.tolist() == [
        microseconds_since_1970("2299-12-31T23:30:00"),
        microseconds_since_1970("1850-07-01T00:00:00"),
        microseconds_since_1970("1600-01-01T00:00:00"),
    ]


def test_zoned_times_with_different_offsets_in_one_column_compare_as_instants():
    times = parse_times(
        ["2130-05-03T09:30:00-04:00", "2130-05-03T13:30:00Z", "2130-05-03T14:30:00+01:00"], "t"
    )
    assert times.timezone_aware and len(set(times.values.tolist())) == 1
    typed = pd.Series(pd.to_datetime(["2130-05-03 09:30"]).tz_localize("America/New_York"))
    assert parse_times(typed, "t").values.tolist() == times.values[:1].tolist()


def test_digits_below_the_microsecond_are_dropped_alike_from_text_and_datetime64():
    text = parse_times(["2130-05-03T09:30:00.1234569", "2300-05-03T09:30:00.1234561"], "t")
    assert text.values.tolist() == [
        microseconds_since_1970("2130-05-03T09:30:00.123456"),
        microseconds_since_1970("2300-05-03T09:30:00.123456"),
    ]
    typed = parse_times(np.array(["2130-05-03T09:30:00.123456900"], dtype="datetime64[ns]"), "t")
    assert typed.values.tolist() == text.values[:1].tolist()


def test_a_datetime_beyond_what_microseconds_hold_is_one_clear_error():
    with pytest.raises(PipelineError, match="times_test holds a time too far from 1970") as error:
        parse_times(np.array([300_000], dtype="datetime64[Y]"), "times_test")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "spelling",
    ["", "   ", "NaT", "nat", " NaN ", "nan", "None", "NONE", "null", " Null", None],
    ids=repr,
)
def test_every_spelling_of_a_missing_time_means_no_time(spelling):
    times = parse_times(["2130-05-03 09:30:00", spelling], "t")
    assert times.kind == DATETIME and times.missing.tolist() == [False, True]
    numbers = parse_times(["1.5", spelling], "t")
    assert numbers.missing.tolist() == [False, True]
    assert parse_times(np.array(["2130-05-03T09:30", str(spelling)], dtype=object), "t").missing[1]


def test_a_present_but_unreadable_time_still_stops_with_its_value():
    with pytest.raises(PipelineError, match="holds 'nan hours', which is neither a number"):
        parse_times(["2130-05-03 09:30:00", "NaT", "nan hours"], "t")


def test_zoned_and_naive_times_are_refused_within_a_column_and_across_the_two_sides():
    with pytest.raises(PipelineError, match="mixes times with a time zone"):
        parse_times(["2130-05-03T09:30:00Z", "2130-05-03 09:30:00"], "t")
    zoned = parse_times(["2130-05-03T09:30:00-04:00"], "charttime")
    naive = parse_times(np.array(["2130-05-03T09:30"], dtype="datetime64[s]"), "times_test")
    with pytest.raises(PipelineError, match="the chart times carry a time zone but the predict"):
        require_comparable(zoned, naive, "--time-column charttime")
    with pytest.raises(PipelineError, match="the prediction times carry a time zone but the ch"):
        require_comparable(naive, zoned, "--time-column charttime")
    require_comparable(zoned, zoned, "--time-column charttime")


def test_chart_times_that_are_all_missing_compare_with_any_prediction_times():
    """No time is there to be of the wrong kind: the notes are counted as untimed instead."""
    untimed = parse_times(["", "NaT", None], "charttime")
    for prediction in (["2130-05-03T09:30:00Z"], ["2130-05-03 09:30"], [24.0]):
        require_comparable(untimed, parse_times(prediction, "times_test"), "--time-column t")
