"""Read chart times and prediction times into one comparable form.

Times come either as datetimes (numpy ``datetime64``, Arrow/pandas timestamps, or ISO-8601
strings such as ``2130-05-03 14:00:00``) or as plain numbers (e.g. hours since admission). A
column is one kind or the other; the notes' chart times and the samples' prediction times must be
the same kind, or comparing them would be meaningless. Datetimes become int64 microseconds since
1970 (exact to the microsecond, so a note charted at the very second of the prediction compares
equal, and any date a ``datetime`` can hold fits: de-identified data such as MIMIC shift dates
centuries away, beyond the years 1677-2262 that nanoseconds reach); finer digits are dropped.
Numbers become float64. Time-zone-aware datetimes are converted to UTC, so different offsets
compare as instants; naive ones are taken as they are, so mixing the two is refused rather than
guessed. A missing time, however spelled (see ``MISSING_SPELLINGS``), means "no time".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import PipelineError

DATETIME = "datetime"
NUMERIC = "numeric"
MICROSECONDS_PER_HOUR = 3_600 * 10**6
# How tables and exports write an absent time (pandas, numpy, SQL, JSON), compared after
# stripping spaces and ignoring case; an empty cell too.
MISSING_SPELLINGS = frozenset({"", "nat", "nan", "none", "null"})
# An ISO-8601 time of day followed by "Z" or a UTC offset: the text names its time zone.
_TIME_ZONE_SUFFIX = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
# Fractional seconds past the sixth digit. pandas parses text with them in nanoseconds, which
# cannot hold years outside 1677-2262, so they are cut (the time is rounded down).
_BELOW_MICROSECONDS = r"(\.\d{6})\d+"


@dataclass(frozen=True)
class Timestamps:
    """Times of one column: ``values`` (int64 microseconds or float64) and where one is missing."""

    kind: str  # DATETIME or NUMERIC
    values: np.ndarray
    missing: np.ndarray  # bool, True where the source had no time
    timezone_aware: bool = False

    def __len__(self) -> int:
        return len(self.values)

    def hours(self, hours: float) -> int | float:
        """``hours`` in this column's units (numbers are taken to be in hours already)."""
        return int(round(hours * MICROSECONDS_PER_HOUR)) if self.kind == DATETIME else float(hours)


def parse_times(values, what: str) -> Timestamps:
    """Parse a column of times; ``what`` names it in messages (e.g. "times_test in data.npz").

    >>> parse_times(["2130-01-01 08:00", None], "t").kind
    'datetime'
    >>> parse_times([1.5, 26.0], "t").values.tolist()
    [1.5, 26.0]
    """
    series = (
        pd.Series(values) if not isinstance(values, pd.Series) else values.reset_index(drop=True)
    )
    try:
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return _datetimes(series.dt.tz_convert("UTC").dt.tz_localize(None), True)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            return _datetimes(series, False)
    except pd.errors.OutOfBoundsDatetime as error:
        raise PipelineError(
            f"{what} holds a time too far from 1970 to compare to the microsecond ({error}); "
            "check that the column holds dates, written in their own unit"
        ) from error
    if pd.api.types.is_bool_dtype(series.dtype):
        raise PipelineError(f"{what} holds true/false values, not times")
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return Timestamps(NUMERIC, numbers, ~np.isfinite(numbers))
    return _parse_text(series, what)


def _datetimes(series: pd.Series, timezone_aware: bool) -> Timestamps:
    as_us = series.astype("datetime64[us]")
    missing = as_us.isna().to_numpy()
    values = as_us.to_numpy().astype(np.int64)
    values[missing] = 0
    return Timestamps(DATETIME, values, missing, timezone_aware)


def _parse_text(series: pd.Series, what: str) -> Timestamps:
    text = series.astype("string").str.strip()
    missing = (text.isna() | text.str.casefold().isin(MISSING_SPELLINGS)).to_numpy(dtype=bool)
    present = text[~missing]
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        values = np.full(len(series), np.nan)
        values[~missing] = numbers.to_numpy(dtype=np.float64)
        return Timestamps(NUMERIC, values, missing)
    zoned = present.str.contains(_TIME_ZONE_SUFFIX, regex=True).to_numpy(dtype=bool)
    if zoned.any() and not zoned.all():
        raise PipelineError(
            f"{what} mixes times with a time zone (e.g. {present[zoned].iloc[0]!r}) and without "
            f"(e.g. {present[~zoned].iloc[0]!r}); write all of them in one form"
        )
    to_microseconds = present.str.replace(_BELOW_MICROSECONDS, r"\1", regex=True)
    parsed = pd.to_datetime(to_microseconds, format="ISO8601", utc=True, errors="coerce")
    if parsed.isna().any():
        raise PipelineError(
            f"{what} holds {present[parsed.isna()].iloc[0]!r}, which is neither a number nor an "
            "ISO-8601 datetime (e.g. 2130-05-03 14:00:00); write every time in one of these forms"
        )
    values = np.zeros(len(series), dtype=np.int64)
    values[~missing] = _datetimes(parsed.dt.tz_localize(None), False).values
    return Timestamps(DATETIME, values, missing, bool(zoned.any()))


def require_comparable(note_times: Timestamps, sample_times: Timestamps, note_what: str) -> None:
    """Refuse to compare chart times with prediction times of another kind or time-zone form."""
    if note_times.missing.all():
        return  # no chart time to compare, whatever its form: every note counts as untimed
    if note_times.kind != sample_times.kind:
        raise PipelineError(
            f"{note_what} holds {_kind_words(note_times)} but the vitals' times_* hold "
            f"{_kind_words(sample_times)}; write both as datetimes or both as numbers in the same "
            "unit"
        )
    if note_times.kind == DATETIME and note_times.timezone_aware != sample_times.timezone_aware:
        aware, naive = ("chart times", "prediction times")
        if sample_times.timezone_aware:
            aware, naive = naive, aware
        raise PipelineError(
            f"the {aware} carry a time zone but the {naive} do not, so they cannot be compared "
            "safely; write both with a time zone (or both without)"
        )


def _kind_words(times: Timestamps) -> str:
    return "datetimes" if times.kind == DATETIME else "numbers"
