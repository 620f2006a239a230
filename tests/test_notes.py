import numpy as np
import pandas as pd
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.timestamps import parse_times, require_comparable
from multimodal_deterioration.preparation.notes import load_notes, open_notes

from helpers import (
    MISSING_TIME_SPELLINGS,
    chart_times_as_written,
    note_records,
    write_jsonl,
    write_notes_as,
)


def test_local_jsonl_loads_in_file_order_with_all_columns(notes_file):
    notes = load_notes(notes_file=notes_file)
    assert len(notes) == 30
    assert list(notes.table.columns) == [
        "idx",
        "note",
        "full_note",
        "conversation",
        "summary",
        "patient_id",
    ]
    assert notes.table["idx"].tolist() == list(range(30))


def test_split_slice_applies_to_local_file(notes_file):
    notes = load_notes(notes_file=notes_file, split="train[:25]")
    assert len(notes) == 25
    assert notes.table["idx"].tolist() == list(range(25))
    assert len(load_notes(notes_file=notes_file, split="train[10:12]")) == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_csv_parquet_and_json_go_through_the_same_loader(tmp_path, suffix):
    frame = pd.DataFrame(note_records(12))
    path = tmp_path / f"notes{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    notes = load_notes(notes_file=path, split="train[:5]", id_column="patient_id")
    assert notes.ids == [f"P{i:03d}" for i in range(5)]
    assert notes.texts == frame["note"].fillna("").tolist()[:5]


def test_missing_text_values_become_empty_strings(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [{"note": "fever"}, {"note": None}])
    assert load_notes(notes_file=path).texts == ["fever", ""]


def test_summaries_are_exposed_when_the_column_exists(notes_file, tmp_path):
    assert len(load_notes(notes_file=notes_file).summaries) == 30
    bare = write_jsonl(tmp_path / "bare.jsonl", [{"note": "fever"}])
    assert load_notes(notes_file=bare).summaries is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text_column": "text"}, "no text column 'text'"),
        ({"id_column": "stay_id"}, "no id column 'stay_id'"),
        ({"split": "test"}, "split 'test'"),
        ({"split": "train[:x]"}, "split 'train[:x]'"),
    ],
)
def test_user_mistakes_raise_one_clear_error(notes_file, kwargs, message):
    with pytest.raises(PipelineError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_notes(notes_file=notes_file, **kwargs)


def test_missing_unsupported_and_corrupt_files_are_explained(tmp_path):
    with pytest.raises(PipelineError, match="not found"):
        load_notes(notes_file=tmp_path / "absent.jsonl")
    (tmp_path / "notes.txt").write_text("fever")
    with pytest.raises(PipelineError, match="unsupported type"):
        load_notes(notes_file=tmp_path / "notes.txt")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(PipelineError, match="cannot read notes file"):
        load_notes(notes_file=tmp_path / "bad.jsonl")


def test_empty_notes_source_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [{"note": "fever"}])
    with pytest.raises(PipelineError, match="contains no notes"):
        load_notes(notes_file=path, split="train[5:]")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(PipelineError, match="is empty"):
        load_notes(notes_file=tmp_path / "empty.jsonl")
    (tmp_path / "header_only.csv").write_text("note\n")
    with pytest.raises(PipelineError, match="contains no notes"):
        load_notes(notes_file=tmp_path / "header_only.csv")


def test_unreachable_hub_offers_local_file_and_demo(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(PipelineError, match="--notes FILE.jsonl.*--demo"):
        load_notes("AGBonnet/augmented-clinical-notes", split="train[:10]")


def test_open_notes_reads_only_the_rows_taken_and_keeps_them_in_file_order(notes_file):
    source = open_notes(notes_file=notes_file, id_column="patient_id")
    assert len(source) == 30
    assert source.ids()[:3].tolist() == ["P000", "P001", "P002"]
    notes = source.take(np.array([3, 7, 21]))
    assert notes.table["idx"].tolist() == [3, 7, 21]
    assert notes.ids == ["P003", "P007", "P021"]
    assert (notes.loaded, len(notes)) == (30, 3)


def test_csv_columns_are_read_as_text_so_ids_with_blanks_keep_their_spelling(tmp_path):
    """pandas would read an id column with a blank as floats in that chunk only; as text, the
    ids stay as written, and a float-looking "123.0" is the id "123"."""
    path = tmp_path / "NOTEEVENTS.csv"
    path.write_text(
        "ROW_ID,HADM_ID,CHARTTIME,TEXT\n1,00123,2130-01-01 10:00:00,fever\n2,,,cough\n3,456.0,,x\n"
    )
    source = open_notes(notes_file=path, id_column="HADM_ID", text_column="TEXT")
    assert source.ids().tolist() == ["00123", None, "456"]
    assert source.column("CHARTTIME").tolist()[0] == "2130-01-01 10:00:00"


def test_a_missing_linkage_column_names_its_flag(notes_file):
    with pytest.raises(PipelineError, match="no column 'CHARTTIME'.*check --time-column"):
        open_notes(notes_file=notes_file, other_columns=[("CHARTTIME", "--time-column")])


# --------------------------------------------------------------------------- chart times

NOTE_FORMATS = (".csv", ".jsonl", ".json", ".parquet")
# Chart times centuries from today (de-identified shifts), two of them missing.
CHART_INSTANTS = np.array(
    ["2300-05-03T13:30:00", "2300-05-03T14:00:00", "NaT", "1850-01-01T00:00:00", "NaT"],
    dtype="datetime64[s]",
)


def timed_notes(path, zoned, missing=(None,)):
    """Notes whose CHARTTIME holds ``CHART_INSTANTS`` as ``path``'s format holds times.

    Missing times are null by default: a JSON column of ISO text and nulls alone is the one
    that JSON's own reader would turn into zone-less timestamps.
    """
    typed = path.suffix == ".parquet"
    times = chart_times_as_written(CHART_INSTANTS, zoned, typed, missing)
    table = pd.DataFrame(note_records(len(CHART_INSTANTS))).assign(CHARTTIME=times)
    return write_notes_as(path, table)


def chart_times(path):
    source = open_notes(notes_file=path, other_columns=[("CHARTTIME", "--time-column")])
    return parse_times(source.column("CHARTTIME"), str(path))


@pytest.mark.parametrize("missing", [(None,), MISSING_TIME_SPELLINGS], ids=["null", "spelled"])
@pytest.mark.parametrize("zoned", [True, False], ids=["zoned", "zone-less"])
def test_chart_times_read_as_the_same_instants_from_every_format(tmp_path, zoned, missing):
    """The notes' loader keeps a JSON file's time text (JSON's own reader would make ISO text
    zone-less timestamps), so a zone stays a zone and different offsets in one column are
    compared as instants, in every format."""
    present = ~np.isnat(CHART_INSTANTS)
    expected = CHART_INSTANTS.astype("datetime64[us]").astype(np.int64)[present].tolist()
    for suffix in NOTE_FORMATS:
        times = chart_times(timed_notes(tmp_path / f"notes{suffix}", zoned, missing))
        assert times.timezone_aware == zoned, suffix
        assert times.missing.tolist() == (~present).tolist(), suffix
        assert times.values[present].tolist() == expected, suffix


@pytest.mark.parametrize("suffix", NOTE_FORMATS)
def test_zoned_and_zone_less_times_are_refused_together_in_every_format(tmp_path, suffix):
    zoned_predictions = parse_times(["2300-05-03T12:00:00Z"], "times_test")
    naive_predictions = parse_times(np.array(["2300-05-03T12:00"], "datetime64[s]"), "times_test")
    for zoned, predictions in ((True, naive_predictions), (False, zoned_predictions)):
        notes = chart_times(timed_notes(tmp_path / f"{zoned}{suffix}", zoned))
        with pytest.raises(PipelineError, match="carry a time zone but the .* do not"):
            require_comparable(notes, predictions, "--time-column CHARTTIME")


def test_a_json_time_column_keeps_its_text_and_the_other_columns_their_types(tmp_path):
    path = timed_notes(tmp_path / "notes.jsonl", zoned=True)
    written = pd.read_json(path, lines=True, dtype=False)
    source = open_notes(
        notes_file=path, id_column="patient_id", other_columns=[("CHARTTIME", "--time-column")]
    )
    table = source.take().table
    kept, written = table["CHARTTIME"], written["CHARTTIME"]
    assert kept.isna().tolist() == written.isna().tolist()
    assert kept.dropna().tolist() == written.dropna().tolist()
    assert table["idx"].tolist() == list(range(len(CHART_INSTANTS)))
    assert source.ids().tolist() == [f"P{i:03d}" for i in range(len(CHART_INSTANTS))]
