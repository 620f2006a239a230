"""The preparation script on linked, timed notes in the MIMIC-III NOTEEVENTS shape.

Which notes each sample may use is recomputed here by brute force from the CSV the test wrote,
and each sample's text vector is recomputed from the rows of ``clinical_embeddings.npy``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import chart_times_as_written, run_script, write_notes_as

# Each test runs a script end to end as a subprocess: deselect with -m 'not slow'.
pytestmark = pytest.mark.slow

SCRIPT = "download_and_prepare_clinical_notes.py"
SPLIT_SIZES = {"train": 16, "val": 6, "test": 6}
START = np.datetime64("2130-01-01T00:00:00")
TEXTS = (
    "Patient short of breath, started on oxygen.",
    "Febrile overnight, blood cultures sent.",
    "Confused and agitated, reviewed by the doctor.",
    "Comfortable, eating and drinking, mobilising.",
)
LINKED = ["--id-column", "HADM_ID", "--text-column", "TEXT"]


def make_cohort(directory, numeric_times=False):
    """Vitals with HADM_ID ids and prediction times; 0-5 timed nursing notes per stay, some
    after the prediction time, a discharge summary after it for every other stay, an untimed
    note now and then, two windows of one stay, and notes of stays that are not in the vitals."""
    rng = np.random.default_rng(1)
    arrays, notes, stay = {}, [], 100
    for split, n in SPLIT_SIZES.items():
        ids, times = [], []
        for i in range(n):
            stay += 1
            admitted = START + np.timedelta64(int(rng.integers(0, 5000)), "h")
            predicted = admitted + np.timedelta64(24, "h")
            ids.append(stay)
            times.append(predicted)
            for _ in range(int(rng.integers(0, 6))):
                charted = admitted + np.timedelta64(int(rng.integers(0, 40 * 60)), "m")
                notes.append((stay, charted, "Nursing/other ", TEXTS[int(rng.integers(0, 4))]))
            if i % 2:
                discharge = predicted + np.timedelta64(48, "h")
                notes.append((stay, discharge, "Discharge summary", "The patient died."))
            if i % 5 == 0:
                notes.append((stay, None, "Nursing/other", "Untimed nursing note."))
            notes.append((stay, predicted, "Nursing/other", "Charted at the prediction time."))
        if split == "train":  # a second window of the first train stay, 12 h later
            ids.append(ids[0])
            times.append(times[0] + np.timedelta64(12, "h"))
        arrays[f"X_{split}"] = rng.normal(size=(len(ids), 4, 6)).astype(np.float32)
        arrays[f"y_{split}"] = np.arange(len(ids)) % 2
        arrays[f"ids_{split}"] = np.array(ids)
        arrays[f"times_{split}"] = np.array(times, dtype="datetime64[s]")
        if numeric_times:
            arrays[f"times_{split}"] = np.arange(len(ids), dtype=float)
    for other in range(200):
        notes.append((5000 + other, START, "Radiology", "Chest film clear."))
    order = rng.permutation(len(notes))
    table = pd.DataFrame(
        [
            {
                "ROW_ID": row_id,
                "SUBJECT_ID": notes[i][0] * 7,
                "HADM_ID": notes[i][0],
                "CHARTTIME": "" if notes[i][1] is None else str(notes[i][1]).replace("T", " "),
                "CATEGORY": notes[i][2],
                "TEXT": notes[i][3],
            }
            for row_id, i in enumerate(order)
        ]
    )
    vitals_path, notes_path = directory / "processed_data.npz", directory / "NOTEEVENTS.csv"
    np.savez(vitals_path, **arrays)
    table.to_csv(notes_path, index=False)
    return vitals_path, notes_path, arrays, table


def eligible_notes(table, stay, predicted, exclude=("discharge summary",)):
    """Brute force: the stay's notes that the rules allow, oldest first, with chart times t."""
    mine = table[table["HADM_ID"] == stay]
    mine = mine[~mine["CATEGORY"].str.strip().str.lower().isin(exclude)]
    mine = mine[mine["CHARTTIME"] != ""]
    charted = pd.to_datetime(mine["CHARTTIME"])
    mine = mine[charted <= pd.Timestamp(predicted)].assign(t=charted)
    return mine.sort_values(["t", "ROW_ID"])


def eligible_row_ids(table, stay, predicted, exclude=("discharge summary",)):
    """Brute force: ROW_IDs of the stay's notes that the rules allow, oldest first."""
    return eligible_notes(table, stay, predicted, exclude)["ROW_ID"].tolist()


def hours_since_latest(table, stay, predicted) -> float:
    """Brute force: hours from the stay's most recent eligible note to ``predicted``."""
    notes = eligible_notes(table, stay, predicted)
    if notes.empty:
        return np.nan
    return (pd.Timestamp(predicted) - notes["t"].iloc[-1]) / pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    directory = tmp_path_factory.mktemp("linked")
    return (directory, *make_cohort(directory))


def prepare(cohort, out, *extra):
    directory, vitals_path, notes_path, _, _ = cohort
    return run_script(
        SCRIPT,
        "--notes",
        str(notes_path),
        "--vitals",
        str(vitals_path),
        *LINKED,
        "--out-dir",
        str(directory / out),
        "--quiet",
        *extra,
    )


@pytest.fixture(scope="module")
def timed_run(cohort):
    result = prepare(
        cohort,
        "timed",
        "--time-column",
        "CHARTTIME",
        "--category-column",
        "CATEGORY",
        "--exclude-category",
        "Discharge summary",
    )
    assert result.returncode == 0, result.stderr
    return cohort[0] / "timed", result


def test_each_sample_gets_the_mean_of_exactly_its_eligible_notes(cohort, timed_run):
    out, _ = timed_run
    _, _, _, arrays, table = cohort
    raw = pd.read_parquet(out / "clinical_notes_raw.parquet")
    embeddings = np.load(out / "clinical_embeddings.npy")
    row_of = {int(row_id): i for i, row_id in enumerate(raw["ROW_ID"])}
    data = np.load(out / "multimodal_data.npz")
    for split in SPLIT_SIZES:
        for sample, (stay, predicted) in enumerate(
            zip(arrays[f"ids_{split}"], arrays[f"times_{split}"])
        ):
            rows = [row_of[r] for r in eligible_row_ids(table, stay, predicted)]
            assert data[f"note_count_{split}"][sample] == len(rows)
            np.testing.assert_array_equal(
                data[f"note_hours_{split}"][sample], hours_since_latest(table, stay, predicted)
            )
            text = data[f"X_text_{split}"][sample]
            if not rows:
                assert not text.any() and data[f"note_index_{split}"][sample] == -1
                continue
            mean = embeddings[rows].astype(np.float64).mean(axis=0)
            np.testing.assert_allclose(text, mean / np.linalg.norm(mean), atol=1e-6)
            assert data[f"note_index_{split}"][sample] == rows[-1]  # the most recent


def test_only_eligible_notes_are_kept_featurised_and_embedded(cohort, timed_run):
    out, _ = timed_run
    _, _, _, arrays, table = cohort
    eligible = {
        row_id
        for split in SPLIT_SIZES
        for stay, predicted in zip(arrays[f"ids_{split}"], arrays[f"times_{split}"])
        for row_id in eligible_row_ids(table, stay, predicted)
    }
    raw = pd.read_parquet(out / "clinical_notes_raw.parquet")
    assert set(raw["ROW_ID"].astype(int)) == eligible
    assert raw["ROW_ID"].astype(int).is_monotonic_increasing  # file order (ROW_ID = file row)
    assert len(pd.read_csv(out / "clinical_features.csv")) == len(raw)
    assert np.load(out / "clinical_embeddings.npy").shape == (len(raw), 384)
    assert not raw["TEXT"].str.contains("died").any()
    meta = json.loads(str(np.load(out / "multimodal_data.npz")["meta"]))
    assert (meta["notes"]["loaded"], meta["notes"]["kept"]) == (len(table), len(raw))


def test_the_exclusions_are_counted_in_meta_and_stated_in_the_summary(cohort, timed_run):
    out, result = timed_run
    pairing = json.loads(str(np.load(out / "multimodal_data.npz")["meta"]))["pairing"]
    # Every other stay (odd i) has a discharge summary; the second train window is of stay i = 0.
    discharges = {s: n // 2 for s, n in SPLIT_SIZES.items()}
    assert {
        s: v["Discharge summary"] for s, v in pairing["notes_excluded_by_category"].items()
    } == discharges
    assert pairing["notes_without_time"]["val"] == 2  # i = 0 and 5 of the val stays
    assert pairing["timing_checked"] is True and pairing["time_column"] == "CHARTTIME"
    assert sum(pairing["notes_after_prediction_time"].values()) > 0
    assert pairing["aggregation"] == "mean" and pairing["clinically_linked"] is True
    assert "at or before the sample's prediction time" in result.stdout
    assert "charted after the prediction time" in result.stdout


def test_last_aggregation_takes_the_most_recent_eligible_note(cohort, timed_run):
    result = prepare(
        cohort,
        "last",
        "--time-column",
        "CHARTTIME",
        "--note-aggregation",
        "last",
        "--category-column",
        "CATEGORY",
        "--exclude-category",
        "discharge SUMMARY",
    )
    assert result.returncode == 0, result.stderr
    out = cohort[0] / "last"
    data = np.load(out / "multimodal_data.npz")
    embeddings = np.load(out / "clinical_embeddings.npy")
    timed = np.load(cohort[0] / "timed" / "multimodal_data.npz")
    for split in SPLIT_SIZES:
        index, text = data[f"note_index_{split}"], data[f"X_text_{split}"]
        np.testing.assert_array_equal(text[index >= 0], embeddings[index[index >= 0]])
        assert (data[f"note_count_{split}"] > 1).any()
        # The age of the most recent note does not depend on the aggregation.
        np.testing.assert_array_equal(data[f"note_hours_{split}"], timed[f"note_hours_{split}"])


def test_several_untimed_notes_per_id_exit_2_with_the_explanation_and_write_nothing(cohort):
    result = prepare(cohort, "refused")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for words in ("leak", "--time-column", "--exclude-category", "--allow-untimed-notes"):
        assert words in lines[0]
    assert not (cohort[0] / "refused" / "multimodal_data.npz").exists()


def test_allow_untimed_notes_goes_on_and_says_timing_was_not_checked(cohort):
    result = prepare(cohort, "untimed", "--allow-untimed-notes")
    assert result.returncode == 0, result.stderr
    data = np.load(cohort[0] / "untimed" / "multimodal_data.npz")
    meta = json.loads(str(data["meta"]))
    assert meta["pairing"]["timing_checked"] is False
    assert not [key for key in data.files if key.startswith("note_hours")], "no times, no hours"
    assert meta["pairing"]["allow_untimed_notes"] is True
    assert "NOT checked" in result.stdout
    assert "timing was not checked" in result.stderr


def test_numeric_prediction_times_with_datetime_chart_times_exit_2(tmp_path):
    vitals_path, notes_path, _, _ = make_cohort(tmp_path, numeric_times=True)
    result = run_script(
        SCRIPT,
        "--notes",
        str(notes_path),
        "--vitals",
        str(vitals_path),
        *LINKED,
        "--time-column",
        "CHARTTIME",
        "--out-dir",
        str(tmp_path / "out"),
        "--quiet",
    )
    assert result.returncode == 2
    assert "holds datetimes but the vitals' times_* hold numbers" in result.stderr


def test_linked_notes_options_without_ids_exit_2(tmp_path):
    vitals_path, notes_path, arrays, _ = make_cohort(tmp_path)
    np.savez(vitals_path, **{k: v for k, v in arrays.items() if not k.startswith("ids_")})
    result = run_script(
        SCRIPT,
        "--notes",
        str(notes_path),
        "--vitals",
        str(vitals_path),
        "--text-column",
        "TEXT",
        "--time-column",
        "CHARTTIME",
        "--out-dir",
        str(tmp_path / "out"),
        "--quiet",
    )
    assert result.returncode == 2
    assert "apply only to notes linked to samples by id" in result.stderr


def test_the_untimed_demo_uses_the_post_outcome_discharge_summaries(tmp_path):
    """The README's leak comparison: with --allow-untimed-notes every discharge summary, each
    written after the prediction time and stating the outcome, goes into the text vectors."""
    out = tmp_path / "leak"
    result = run_script(
        SCRIPT,
        "--demo",
        "--demo-patients",
        "200",
        "--allow-untimed-notes",
        "--out-dir",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    written = pd.read_json(out / "demo_inputs" / "demo_notes.jsonl", lines=True, dtype=False)
    raw = pd.read_parquet(out / "clinical_notes_raw.parquet")
    assert len(raw) == len(written)
    assert (
        (raw["category"] == "Discharge summary").sum()
        == (written["category"] == "Discharge summary").sum()
        > 0
    )
    with np.load(out / "multimodal_data.npz") as npz:
        pairing = json.loads(str(npz["meta"]))["pairing"]
        counts = np.concatenate([npz[f"note_count_{s}"] for s in SPLIT_SIZES])
    assert counts.sum() == len(written)
    assert pairing["timing_checked"] is False
    assert sum(pairing["notes_after_prediction_time"].values()) == 0
    assert "NOT checked" in result.stdout


# --------------------------------------------------------------------------- chart-time forms

FORMAT_STAYS = 4  # per split: labels 0, 1, 0, 1
# Shifted dates past 2262, the last year that nanoseconds since 1970 hold.
FORMAT_START = np.datetime64("2300-05-03T12:00:00")
# Each stay's timed notes, in minutes from its prediction time: two before it (eligible within
# a one-hour window) and one after it. Zoned, the file writes them in New York, Central European
# or UTC time; read as wall-clock times, each non-UTC one would land on the wrong side of the
# prediction time or of the window.
NOTE_MINUTES = (-15, 15, -30)


def make_format_cohort(directory, suffix, zoned):
    """Vitals and notes of ``FORMAT_STAYS`` stays per split, the notes written as ``suffix``
    holds times (typed in parquet, ISO text otherwise), zoned or not, always the same instants;
    every other stay also has an untimed note (null: a JSON column of ISO text and nulls is the
    one JSON's own reader would make zone-less timestamps)."""
    arrays, rows, stay = {}, [], 0
    for split in SPLIT_SIZES:
        predicted = FORMAT_START + np.arange(stay, stay + FORMAT_STAYS) * np.timedelta64(7, "h")
        arrays[f"X_{split}"] = np.random.default_rng(stay).normal(size=(FORMAT_STAYS, 4, 6))
        arrays[f"y_{split}"] = np.arange(FORMAT_STAYS) % 2
        arrays[f"ids_{split}"] = np.arange(stay, stay + FORMAT_STAYS)
        arrays[f"times_{split}"] = (
            chart_times_as_written(predicted, zoned=True, typed=False).to_numpy(dtype=str)
            if zoned
            else predicted.astype("datetime64[s]")
        )
        for i, when in zip(arrays[f"ids_{split}"], predicted):
            charted = [when + np.timedelta64(m, "m") for m in NOTE_MINUTES]
            rows += [(i, t, TEXTS[len(rows) % len(TEXTS)]) for t in charted]
            if i % 2 == 0:
                rows.append((i, np.datetime64("NaT"), "Untimed nursing note."))
        stay += FORMAT_STAYS
    instants = np.array([t for _, t, _ in rows], dtype="datetime64[s]")
    table = pd.DataFrame(
        {
            "HADM_ID": [i for i, _, _ in rows],
            "CHARTTIME": chart_times_as_written(instants, zoned, suffix == ".parquet", [None]),
            "TEXT": [text for _, _, text in rows],
        }
    )
    vitals_path = directory / "processed_data.npz"
    np.savez(vitals_path, **arrays)
    return vitals_path, write_notes_as(directory / f"NOTEEVENTS{suffix}", table)


COUNTED = {  # summed over the splits
    "eligible_links": 2 * 3 * FORMAT_STAYS,
    "notes_after_prediction_time": 3 * FORMAT_STAYS,
    "notes_outside_window": 0,
    "notes_without_time": 3 * FORMAT_STAYS // 2,
}


def prepare_timed(notes_path, vitals_path, out):
    return run_script(
        SCRIPT,
        "--notes",
        str(notes_path),
        "--vitals",
        str(vitals_path),
        *LINKED,
        "--time-column",
        "CHARTTIME",
        "--note-window-hours",
        "1",
        "--out-dir",
        str(out),
        "--quiet",
    )


def test_csv_jsonl_and_parquet_notes_zoned_or_not_give_identical_data(tmp_path):
    """The same instants, written zoned (different offsets in one column) or zone-less, as CSV
    text, JSON text or parquet timestamps, give the same arrays and the designed counts."""
    arrays = {}
    for zoned in (False, True):
        for suffix in (".csv", ".jsonl", ".parquet"):
            directory = tmp_path / f"{suffix[1:]}-{'zoned' if zoned else 'naive'}"
            directory.mkdir()
            vitals_path, notes_path = make_format_cohort(directory, suffix, zoned)
            result = prepare_timed(notes_path, vitals_path, directory / "out")
            assert result.returncode == 0, f"{directory.name}: {result.stderr}"
            with np.load(directory / "out" / "multimodal_data.npz") as data:
                arrays[directory.name] = {key: data[key] for key in data.files}
            pairing = json.loads(str(arrays[directory.name]["meta"]))["pairing"]
            assert {key: sum(pairing[key].values()) for key in COUNTED} == COUNTED
    reference = arrays.pop("csv-naive")
    for split in SPLIT_SIZES:
        assert (reference[f"note_count_{split}"] == 2).all()
    for name, data in arrays.items():
        assert data.keys() == reference.keys(), name
        for key in reference.keys() - {"meta"}:
            np.testing.assert_array_equal(data[key], reference[key], err_msg=f"{name}: {key}")


def test_zoned_json_chart_times_with_zone_less_prediction_times_exit_2(tmp_path):
    """JSON's own reader would have made the zoned text zone-less timestamps, and accepted it."""
    (tmp_path / "zoned").mkdir(), (tmp_path / "naive").mkdir()
    _, notes_path = make_format_cohort(tmp_path / "zoned", ".jsonl", zoned=True)
    vitals_path, _ = make_format_cohort(tmp_path / "naive", ".jsonl", zoned=False)
    result = prepare_timed(notes_path, vitals_path, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error: the chart times carry a time zone but the prediction times do not"
    )
    assert len(result.stderr.strip().splitlines()) == 1
