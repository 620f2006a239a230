"""Load clinical notes: a Hugging Face dataset id + split, or a local file through the same code.

Local ``.jsonl/.json/.csv/.parquet`` files go through the ``datasets`` json/csv/parquet builders,
so the split slice syntax (``train[:25]``) means the same thing for a local file as for the Hub.
The linkage columns reach ``timestamps.parse_times`` as the file holds them: CSV columns as text,
a JSON file's time and category columns as the values written (text, number or null), parquet
columns with their own types.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.artifacts import require_readable_file
from ..base.errors import PipelineError, first_line
from ..base.identifiers import ids_as_text

# The reference notes: ~30,000 published case reports with structured summaries.
DEFAULT_DATASET = "AGBonnet/augmented-clinical-notes"
DEFAULT_TEXT_COLUMN = "note"
SUMMARY_COLUMN = "summary"

# File suffix -> the `datasets` builder that reads it.
LOCAL_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class Notes:
    """Notes as loaded into memory, plus the columns the later stages read from them."""

    table: pd.DataFrame
    source: str
    split: str
    text_column: str
    id_column: str | None
    loaded: int | None = None  # rows in the source, when only some of them were kept
    note_ids: tuple[str | None, ...] | None = None

    @property
    def texts(self) -> list[str]:
        return [text if isinstance(text, str) else "" for text in self.table[self.text_column]]

    @property
    def summaries(self) -> list[str | None] | None:
        if SUMMARY_COLUMN not in self.table.columns:
            return None
        return list(self.table[SUMMARY_COLUMN])

    @property
    def ids(self) -> list[str | None] | None:
        return None if self.note_ids is None else list(self.note_ids)

    def __len__(self) -> int:
        return len(self.table)


@dataclass(frozen=True)
class NotesSource:
    """Notes still on disk (a memory-mapped Arrow table from ``datasets``), not yet in memory.

    Linked notes files can hold millions of rows; the linkage reads only the id, time and
    category columns from here, and ``take`` loads just the rows it keeps.
    """

    dataset: object  # datasets.Dataset
    source: str
    split: str
    text_column: str
    id_column: str | None

    def __len__(self) -> int:
        return self.dataset.num_rows

    def column(self, name: str, rows: np.ndarray | None = None) -> pd.Series:
        """One column (of the given rows, else all), read from the Arrow table."""
        from datasets import Json

        table = self.dataset.select_columns([name])
        if rows is not None:
            table = table.select(rows)
        if isinstance(self.dataset.features[name], Json):  # stored as JSON text: decode it
            return pd.Series(table[:][name], dtype=object)
        return table.with_format("arrow")[:][name].to_pandas()

    def ids(self, rows: np.ndarray | None = None) -> np.ndarray | None:
        """Note ids as text, None where missing (``identifiers.ids_as_text``)."""
        if self.id_column is None:
            return None
        return ids_as_text(self.column(self.id_column, rows))

    def take(self, rows: np.ndarray | None = None) -> Notes:
        """Load the given rows (all by default) into memory, in file order."""
        dataset = self.dataset if rows is None else self.dataset.select(rows)
        ids = self.ids(rows)
        return Notes(
            dataset.to_pandas().reset_index(drop=True),
            self.source,
            self.split,
            self.text_column,
            self.id_column,
            loaded=len(self),
            note_ids=None if ids is None else tuple(ids.tolist()),
        )


def load_notes(
    dataset_id: str = DEFAULT_DATASET,
    split: str = "train",
    text_column: str = DEFAULT_TEXT_COLUMN,
    id_column: str | None = None,
    notes_file: str | os.PathLike | None = None,
) -> Notes:
    """Load every note of ``notes_file`` when given, else of the Hub dataset ``dataset_id``.

    ``split`` may be a slice such as ``train[:25]``; a local file has the one split ``train``.
    """
    return open_notes(dataset_id, split, text_column, id_column, notes_file).take()


def open_notes(
    dataset_id: str = DEFAULT_DATASET,
    split: str = "train",
    text_column: str = DEFAULT_TEXT_COLUMN,
    id_column: str | None = None,
    notes_file: str | os.PathLike | None = None,
    other_columns: Sequence[tuple[str, str]] = (),
) -> NotesSource:
    """Open the notes without reading them into memory; check that the named columns exist.

    ``other_columns`` lists further (column, flag) pairs that must exist, e.g.
    ``[("CHARTTIME", "--time-column")]``; a JSON file's values in them are kept as written.
    """
    if notes_file is not None:
        source = str(notes_file)
        dataset = _load_local(source, split, [column for column, _ in other_columns])
    else:
        source = dataset_id
        dataset = _load_hub(dataset_id, split)
    _check_columns(dataset.column_names, source, text_column, id_column, other_columns)
    if dataset.num_rows == 0:
        raise PipelineError(
            f"{source} (split {split!r}) contains no notes; check the file or widen --split"
        )
    return NotesSource(dataset, source, split, text_column, id_column)


def _load_local(path: str, split: str, verbatim_columns: Sequence[str]):
    from datasets import load_dataset
    from pyarrow import ArrowException

    file_path = Path(path)
    builder = LOCAL_BUILDERS.get(file_path.suffix.lower())
    if builder is None:
        raise PipelineError(
            f"notes file {path} has an unsupported type; use .jsonl, .json, .csv or .parquet"
        )
    require_readable_file(file_path, "notes file", "check the path given to --notes")
    if file_path.stat().st_size == 0:
        raise PipelineError(f"notes file {path} is empty; it needs one note per row or line")
    try:
        with _datasets_silenced():
            features = _features(file_path, builder, verbatim_columns)
    except Exception as error:  # the parsers' errors: the file is not valid CSV or JSON
        raise _invalid_notes_file(file_path, error) from error
    try:
        with _datasets_silenced():
            return load_dataset(builder, data_files=str(file_path), split=split, features=features)
    except ArrowException as error:  # a ValueError too, but a broken file, not a bad split
        raise _invalid_notes_file(file_path, error) from error
    except ValueError as error:
        if "corresponds to no data" in str(error):
            raise PipelineError(
                f"split {split!r} of {path} contains no notes; check the file or widen --split"
            ) from error
        # A local file is one split named "train"; anything else is a user's typo.
        raise PipelineError(
            f"cannot take split {split!r} of {path}: {first_line(error)}; a local file has one "
            "split, 'train', which can be sliced, e.g. --split 'train[:25]'"
        ) from error
    except Exception as error:  # datasets wraps parser errors in several library-specific types
        raise _invalid_notes_file(file_path, error) from error


def _features(file_path: Path, builder: str, verbatim_columns: Sequence[str]):
    """The column types to load with; None leaves them to the builder (parquet: the file's)."""
    if builder == "csv":
        return _all_text_features(file_path)
    if builder == "json" and verbatim_columns:
        return _json_features(file_path, verbatim_columns)
    return None


def _json_features(file_path: Path, verbatim_columns: Sequence[str]):
    """The types ``datasets`` infers, except that ``verbatim_columns`` keep the values written.

    Left to infer, the JSON reader (Arrow's) turns ISO-8601 text into zone-less timestamps:
    "2130-05-03T10:30:00+01:00" becomes 09:30 with no zone, so zoned chart times would pass for
    naive ones (accepted with naive prediction times, refused with zoned ones). Typed ``Json``,
    a value is stored as written (text, number or null) and times are parsed later by the one
    rule of every format (``timestamps.parse_times``). Streaming infers the other types from the
    file's first block only, as the full load would, so the file is not converted twice.
    """
    from datasets import Features, Json, load_dataset

    data_files = str(file_path)
    inferred = load_dataset("json", data_files=data_files, split="train", streaming=True).features
    if inferred is None:  # a top-level JSON array: datasets types it only by reading all of it
        inferred = load_dataset("json", data_files=data_files, split="train").features
    return Features(
        {name: Json() if name in verbatim_columns else kind for name, kind in inferred.items()}
    )


def _all_text_features(file_path: Path):
    """Read every CSV column as text.

    Typed by pandas' guess, an id column loses leading zeros ("00123") and, with a blank in it,
    becomes floats; as text, ids keep their exact spelling, and times are parsed later, by one
    rule for the whole column (``timestamps.parse_times``).
    """
    from datasets import Features, Value

    header = pd.read_csv(file_path, nrows=0).columns
    return Features({str(name): Value("string") for name in header})


def _invalid_notes_file(file_path: Path, error: Exception) -> PipelineError:
    # datasets wraps the parser's error in a generic one; the innermost cause says what is wrong.
    while error.__cause__ is not None:
        error = error.__cause__
    return PipelineError(
        f"cannot read notes file {file_path} as {file_path.suffix} ({first_line(error)}); "
        "check that it is valid and matches its extension"
    )


@contextlib.contextmanager
def _datasets_silenced() -> Iterator[None]:
    """Hide datasets' progress bar and error log while a local file loads.

    The file loads in a moment, and a failure is reported once, by our own message.
    """
    import datasets

    verbosity = datasets.logging.get_verbosity()
    bars_were_disabled = datasets.are_progress_bars_disabled()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.logging.set_verbosity(verbosity)
        if not bars_were_disabled:
            datasets.enable_progress_bars()


@contextlib.contextmanager
def _hub_retries_quiet() -> Iterator[None]:
    """Keep the download progress bars but drop huggingface_hub's log line per retry.

    Offline, the Hub client retries five times and logs each attempt; the user needs the one
    message that follows, which offers --notes and --demo.
    """
    import logging

    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hub_logger.setLevel(level)


def _load_hub(dataset_id: str, split: str):
    from datasets import load_dataset
    from datasets.exceptions import DatasetNotFoundError

    offline_fix = (
        "check your connection, or use a local copy with --notes FILE.jsonl, "
        "or try the pipeline with --demo"
    )
    try:
        with _hub_retries_quiet():
            return load_dataset(dataset_id, split=split)
    except DatasetNotFoundError as error:
        raise PipelineError(
            f"dataset {dataset_id!r} was not found on the Hugging Face Hub; check the name, "
            f"or {offline_fix}"
        ) from error
    except ConnectionError as error:
        raise PipelineError(
            f"cannot reach the Hugging Face Hub to download {dataset_id!r}; {offline_fix}"
        ) from error
    except ValueError as error:
        raise PipelineError(
            f"cannot take split {split!r} of {dataset_id}: {first_line(error)}; "
            "use e.g. --split train or --split 'train[:1000]'"
        ) from error


def _check_columns(
    columns: Sequence[str],
    source: str,
    text_column: str,
    id_column: str | None,
    other_columns: Sequence[tuple[str, str]] = (),
) -> None:
    found = ", ".join(map(str, columns))
    if text_column not in columns:
        raise PipelineError(
            f"notes in {source} have no text column {text_column!r} (columns: {found}); "
            "choose one with --text-column"
        )
    if id_column is not None and id_column not in columns:
        raise PipelineError(
            f"notes in {source} have no id column {id_column!r} (columns: {found}); "
            "choose one with --id-column or leave it out"
        )
    for column, flag in other_columns:
        if column not in columns:
            raise PipelineError(
                f"notes in {source} have no column {column!r} (columns: {found}); check {flag}"
            )
