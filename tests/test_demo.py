"""Specification of the synthetic demo cohort (multimodal_deterioration.preparation.demo).

The demo must be a faithful stand-in for a user's inputs (the processed_data.npz contract with
prediction times, and the AGBonnet/augmented-clinical-notes schema with chart times and
categories), reproducible, and built so that the notes charted before the prediction time are
free of words that name the outcome yet add patient-specific value to the vitals, while the
discharge summaries charted after it state the outcome (a leak the pipeline must keep out). The
signal is checked cheaply with logistic regressions on hand-made summaries, not with the LSTM
or MiniLM.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.timestamps import parse_times
from multimodal_deterioration.preparation import demo
from multimodal_deterioration.preparation.demo.documentation import LATE_FIRST_NOTE_DELAY_HOURS
from multimodal_deterioration.preparation.features import extract_features
from multimodal_deterioration.preparation.linkage import LinkageRule
from multimodal_deterioration.preparation.pairing import pair_by_id
from multimodal_deterioration.preparation.vitals import load_vitals

from helpers import REPO_ROOT

SMALL_COHORT = 200
SIGNAL_COHORT = 2000  # the default demo size, where the module's design numbers were tuned
NOTE_SCHEMA = ("idx", "note", "full_note", "conversation", "summary")
NOTE_CATEGORIES = ("Admission note", "Progress note", "Discharge summary")
EXPECTED_FEATURE_NAMES = (
    "heart_rate",
    "respiratory_rate",
    "spo2",
    "systolic_bp",
    "temperature",
    "diastolic_bp",
)
# What the note says when a patient's abnormal vitals have a risk-free cause
# (demo.phrases.EXPLANATIONS).
EXPLANATION = re.compile(r"explain|attribut|due to anxiety")


# What a discharge summary of a patient who did not deteriorate says
# (demo.phrases.RECOVERY_OUTCOMES).
RECOVERY = re.compile(r"recover|discharged home|went home")


def all_splits(arrays: dict, prefix: str) -> np.ndarray:
    return np.concatenate([arrays[f"{prefix}_{name}"] for name in demo.SPLIT_NAMES])


def charted(record: dict) -> datetime:
    return datetime.fromisoformat(record[demo.DEMO_TIME_COLUMN])


def prediction_times(arrays: dict) -> dict[str, datetime]:
    """Each sample's prediction time, by id (the demo has one sample per patient)."""
    ids, times = all_splits(arrays, "ids"), all_splits(arrays, "times")
    return {str(i): t.item() for i, t in zip(ids, times)}


def notes_by_patient(cohort: demo.DemoCohort) -> tuple[dict, dict]:
    """(notes charted at or before each patient's prediction time, notes charted after it), by
    id, each list in chart-time order; a patient without such notes gets an empty list."""
    predicted = prediction_times(cohort.vitals)
    before, after = defaultdict(list), defaultdict(list)
    for record in sorted(cohort.notes, key=lambda r: (charted(r), r["idx"])):
        patient_id = record[demo.DEMO_NOTES_ID_COLUMN]
        (before if charted(record) <= predicted[patient_id] else after)[patient_id].append(record)
    return before, after


def is_discharge(record: dict) -> bool:
    return record[demo.DEMO_CATEGORY_COLUMN] == demo.DISCHARGE_CATEGORY


def ward_notes_by_patient(cohort: demo.DemoCohort) -> dict[str, list[dict]]:
    """Each patient's admission and progress notes, whenever charted, in chart-time order."""
    ward = defaultdict(list)
    for record in sorted(cohort.notes, key=lambda r: (charted(r), r["idx"])):
        if not is_discharge(record):
            ward[record[demo.DEMO_NOTES_ID_COLUMN]].append(record)
    return ward


def discharge_summaries(cohort: demo.DemoCohort) -> dict[str, list[dict]]:
    found = defaultdict(list)
    for record in cohort.notes:
        if is_discharge(record):
            found[record[demo.DEMO_NOTES_ID_COLUMN]].append(record)
    return found


def patient_row(patient_id: str) -> int:
    """The row of a patient in ``DemoCohort.documentation`` (ids count from DEMO-00001)."""
    return int(patient_id.removeprefix(demo.DEMO_ID_PREFIX)) - 1


def eligible_notes(cohort: demo.DemoCohort) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per split, brute force from the records: each sample's label, its number of notes
    charted at or before its prediction time (discharge summaries never are) and the hours from
    the most recent of them to the prediction time (NaN without one)."""
    before, _ = notes_by_patient(cohort)
    found = {}
    for name in demo.SPLIT_NAMES:
        ids, times = cohort.vitals[f"ids_{name}"], cohort.vitals[f"times_{name}"]
        counts = np.array([len(before[i]) for i in ids])
        hours = np.array(
            [
                (t.item() - charted(before[i][-1])).total_seconds() / 3600 if before[i] else np.nan
                for i, t in zip(ids, times)
            ]
        )
        found[name] = (cohort.vitals[f"y_{name}"], counts, hours)
    return found


# LABEL_LEAK_TERMS at the start of a word ("icu" in "ICU", not in "difficulty"). The terms are
# word stems ("deteriorat", "escalat"), so only the start is anchored.
LEAK_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(term) for term in demo.LABEL_LEAK_TERMS) + ")", re.IGNORECASE
)


def leak_terms_in(text: str) -> set[str]:
    return {match.lower() for match in LEAK_PATTERN.findall(text)}


def json_values(value) -> list[str]:
    """Every string value (not key) inside a parsed summary."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in json_values(item)]
    if isinstance(value, list):
        return [text for item in value for text in json_values(item)]
    return [value] if isinstance(value, str) else []


@pytest.fixture(scope="module")
def cohort() -> demo.DemoCohort:
    return demo.make_demo_cohort(n_patients=SMALL_COHORT, seed=7)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> demo.DemoInputs:
    return demo.write_demo_inputs(tmp_path_factory.mktemp("demo"), n_patients=SMALL_COHORT, seed=7)


# --- reproducibility ---------------------------------------------------------------------------


def test_same_arguments_write_byte_identical_notes_and_identical_arrays(tmp_path):
    first = demo.write_demo_inputs(tmp_path / "a", n_patients=SMALL_COHORT, seed=3)
    second = demo.write_demo_inputs(tmp_path / "b", n_patients=SMALL_COHORT, seed=3)
    assert first.notes_path.read_bytes() == second.notes_path.read_bytes()
    with np.load(first.vitals_path) as a, np.load(second.vitals_path) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_notes_are_identical_across_processes_and_hash_seeds(tmp_path):
    """No set or hash order leaks into the cohort: a fresh interpreter writes the same bytes."""
    expected = demo.write_demo_inputs(tmp_path / "here", n_patients=demo.MIN_PATIENTS, seed=5)
    script = (
        "import hashlib, sys\n"
        "from multimodal_deterioration.preparation import demo\n"
        f"inputs = demo.write_demo_inputs(sys.argv[1], n_patients={demo.MIN_PATIENTS}, seed=5)\n"
        "print(hashlib.sha256(inputs.notes_path.read_bytes()).hexdigest())\n"
    )
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(REPO_ROOT))
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / hash_seed)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert out.stdout.strip() == hashlib.sha256(expected.notes_path.read_bytes()).hexdigest()


def test_a_different_seed_gives_a_different_cohort():
    one = demo.make_demo_cohort(n_patients=SMALL_COHORT, seed=1)
    two = demo.make_demo_cohort(n_patients=SMALL_COHORT, seed=2)
    assert not np.array_equal(one.vitals["X_train"], two.vitals["X_train"])
    assert [r["note"] for r in one.notes] != [r["note"] for r in two.notes]


def test_written_files_hold_exactly_the_in_memory_cohort(written):
    cohort = demo.make_demo_cohort(n_patients=written.n_patients, seed=written.seed)
    lines = written.notes_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == cohort.notes
    with np.load(written.vitals_path) as npz:
        assert sorted(npz.files) == sorted(cohort.vitals)
        for key in npz.files:
            np.testing.assert_array_equal(npz[key], cohort.vitals[key], err_msg=key)


def test_write_demo_inputs_reports_where_and_how_it_wrote(written):
    assert written.vitals_path.name == demo.DEMO_VITALS_FILENAME
    assert written.notes_path.name == demo.DEMO_NOTES_FILENAME
    assert (written.n_patients, written.seed) == (SMALL_COHORT, 7)
    leftovers = {p.name for p in written.vitals_path.parent.iterdir()}
    assert leftovers == {demo.DEMO_VITALS_FILENAME, demo.DEMO_NOTES_FILENAME}, "no temp files"


# --- ids and linkage ---------------------------------------------------------------------------


def test_every_sample_has_a_unique_synthetic_id(cohort):
    ids = all_splits(cohort.vitals, "ids")
    assert ids.size == SMALL_COHORT
    assert len(set(ids.tolist())) == SMALL_COHORT
    # The demo marks its patients as synthetic through the id prefix.
    assert all(patient_id.startswith(demo.DEMO_ID_PREFIX) for patient_id in ids)
    for name in demo.SPLIT_NAMES:
        assert (
            len(cohort.vitals[f"ids_{name}"])
            == len(cohort.vitals[f"y_{name}"])
            == len(cohort.vitals[f"X_{name}"])
        )


def test_each_documented_patient_has_one_to_four_ward_notes_admission_note_first(cohort):
    ward = ward_notes_by_patient(cohort)
    sample_ids = set(all_splits(cohort.vitals, "ids").tolist())
    documented = {
        f"{demo.DEMO_ID_PREFIX}{row + 1:05d}"
        for row in np.flatnonzero(cohort.documentation.documented)
    }
    assert set(ward) == documented < sample_ids, "every note is of a sample; some have none"
    counts = [len(records) for records in ward.values()]
    assert (min(counts), max(counts)) == demo.NOTES_PER_PATIENT == (1, 4)
    assert set(counts) == {1, 2, 3, 4}, "every count occurs in a cohort of 200"
    for records in ward.values():
        categories = [record[demo.DEMO_CATEGORY_COLUMN] for record in records]
        assert categories[0] == demo.ADMISSION_CATEGORY
        assert set(categories[1:]) <= {demo.PROGRESS_CATEGORY}


def test_the_notes_before_the_prediction_time_are_the_first_of_the_ward_notes(cohort):
    """Before the prediction time a sample sees 0-4 notes: all its ward notes, or, when the
    first note is late, the ones charted by then (none on the first day of the stay)."""
    before, _ = notes_by_patient(cohort)
    ward = ward_notes_by_patient(cohort)
    documentation = cohort.documentation
    for patient_id in all_splits(cohort.vitals, "ids"):
        records, row = ward.get(patient_id, []), patient_row(patient_id)
        assert before[patient_id] == records[: len(before[patient_id])]
        on_time = documentation.late_first_note_minutes[row] < 0
        if on_time and documentation.documented[row]:
            assert before[patient_id] == records, "on time, every ward note is before"
        if not on_time and documentation.window_day[row] == 0:
            assert before[patient_id] == [], "late on the first day: after the prediction time"


def test_discharge_summaries_come_after_the_prediction_time_at_most_one_each(cohort):
    predicted = prediction_times(cohort.vitals)
    found = discharge_summaries(cohort)
    for patient_id, records in found.items():
        assert len(records) == 1
        delay = charted(records[0]) - predicted[patient_id]
        low, high = (timedelta(days=days) for days in demo.DISCHARGE_DELAY_DAYS)
        assert low <= delay <= high
    share = len(found) / SMALL_COHORT
    assert abs(share - demo.DISCHARGE_SUMMARY_SHARE) < 0.12


def test_discharge_summaries_are_drawn_independently_of_the_label(signal):
    cohort = signal["cohort"]
    found = discharge_summaries(cohort)
    ids, y = all_splits(cohort.vitals, "ids"), all_splits(cohort.vitals, "y")
    has_discharge = np.array([i in found for i in ids])
    assert abs(has_discharge.mean() - demo.DISCHARGE_SUMMARY_SHARE) < 0.04
    assert abs(y[has_discharge].mean() - y[~has_discharge].mean()) < 0.04


# --- samples without notes, and how old the notes are ----------------------------------------

# What the evidence reports by (README, "Samples without notes"): eligible notes per sample, and
# hours from the most recent one to the prediction time.
COUNT_BINS = {
    "1": lambda counts: counts == 1,
    "2-3": lambda counts: (counts >= 2) & (counts <= 3),
    "4+": lambda counts: counts >= 4,
}
HOUR_BINS = {  # NaN (no note) is in none
    "< 6 h": lambda hours: hours < 6,
    "6-24 h": lambda hours: (hours >= 6) & (hours <= 24),
    "> 24 h": lambda hours: hours > 24,
}
# A subgroup worth reporting holds a few dozen test samples, a handful of them positive.
MIN_BIN_SAMPLES, MIN_BIN_POSITIVES = 36, 8


def test_about_a_fifth_of_every_split_has_no_note_before_the_prediction_time(signal):
    for name, (y, counts, _) in eligible_notes(signal["cohort"]).items():
        without = counts == 0
        assert 0.15 <= without.mean() <= 0.25, (name, without.mean())
        # In both classes, and only mildly less often in the deteriorating one.
        shares = [without[y == label].mean() for label in (0, 1)]
        assert min(shares) >= 0.10 and abs(shares[0] - shares[1]) <= 0.10, (name, shares)


def test_having_a_note_is_at_most_a_weak_hint_of_the_label(signal):
    found = eligible_notes(signal["cohort"]).values()
    y = np.concatenate([y for y, _, _ in found])
    has_note = np.concatenate([counts > 0 for _, counts, _ in found])
    assert 0.45 <= roc_auc_score(y, has_note) <= 0.56


def test_samples_without_notes_are_late_first_notes_and_patients_without_any(signal):
    """Real reasons: the first note charted after the prediction time (excluded by time, so the
    pipeline counts it), or no ward note at all, some of those with only a discharge summary."""
    cohort = signal["cohort"]
    documentation, ward = cohort.documentation, ward_notes_by_patient(cohort)
    before, _ = notes_by_patient(cohort)
    without = [i for i in all_splits(cohort.vitals, "ids") if not before[i]]
    rows = np.array([patient_row(i) for i in without])
    late = documentation.late_first_note_minutes[rows] >= 0
    undocumented = ~documentation.documented[rows]
    assert (late | undocumented).all()
    assert late.sum() > 2 * undocumented.sum() > 0
    assert all(ward[i] for i, is_late in zip(without, late & ~undocumented) if is_late)
    only_discharge = [
        i for i in np.array(without)[undocumented] if i in discharge_summaries(cohort)
    ]
    assert 0 < len(only_discharge) < undocumented.sum()


def test_the_test_split_fills_every_count_and_recency_bin_with_both_classes(signal):
    y, counts, hours = eligible_notes(signal["cohort"])["test"]
    by_count = {name: member(counts) for name, member in COUNT_BINS.items()}
    by_hours = {name: member(hours) for name, member in HOUR_BINS.items()}
    for name, members in {**by_count, **by_hours}.items():
        assert members.sum() >= MIN_BIN_SAMPLES, (name, members.sum())
        assert MIN_BIN_POSITIVES <= y[members].sum() < members.sum(), (name, y[members].sum())
    assert sum(m.sum() for m in by_hours.values()) == (counts > 0).sum()


def test_the_pipelines_linkage_finds_the_same_notes_and_hours_as_brute_force(cohort):
    """note_count_* and note_hours_* of the demo: the linkage on chart times agrees with
    counting the records by hand."""
    vitals = cohort.vitals
    notes = cohort.notes
    pairing = pair_by_id(
        {name: vitals[f"ids_{name}"] for name in demo.SPLIT_NAMES},
        [record[demo.DEMO_NOTES_ID_COLUMN] for record in notes],
        LinkageRule(time_column=demo.DEMO_TIME_COLUMN),
        {name: parse_times(vitals[f"times_{name}"], name) for name in demo.SPLIT_NAMES},
        lambda rows: parse_times([notes[r][demo.DEMO_TIME_COLUMN] for r in rows], "charttime"),
    )
    for name, (_, counts, hours) in eligible_notes(cohort).items():
        np.testing.assert_array_equal(pairing.note_count[name], counts, err_msg=name)
        np.testing.assert_allclose(pairing.note_hours[name], hours, rtol=0, atol=1e-9)


def test_categories_and_chart_times_are_well_formed(cohort):
    assert (
        demo.ADMISSION_CATEGORY,
        demo.PROGRESS_CATEGORY,
        demo.DISCHARGE_CATEGORY,
    ) == NOTE_CATEGORIES
    assert {r[demo.DEMO_CATEGORY_COLUMN] for r in cohort.notes} == set(NOTE_CATEGORIES)
    iso = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
    for record in cohort.notes:
        assert iso.fullmatch(record[demo.DEMO_TIME_COLUMN]), record[demo.DEMO_TIME_COLUMN]
        assert charted(record).year in (2131, 2132)  # MIMIC-style shifted dates
    hours = {charted(r).hour for r in cohort.notes}
    assert len(hours) == 24, "notes are charted at every hour of the day"


def admission_time(cohort: demo.DemoCohort, patient_id: str, n_timesteps: int) -> datetime:
    """Admission = the window's start, ``window_day`` whole days before (the window keeps the
    clock time of admission)."""
    window_day = int(cohort.documentation.window_day[patient_row(patient_id)])
    predicted = prediction_times(cohort.vitals)[patient_id]
    return predicted - timedelta(hours=n_timesteps) - timedelta(days=window_day)


def test_prediction_times_end_a_window_on_some_day_of_the_stay(cohort):
    ward = ward_notes_by_patient(cohort)
    predicted = prediction_times(cohort.vitals)
    for name in demo.SPLIT_NAMES:
        times = cohort.vitals[f"times_{name}"]
        assert times.dtype == np.dtype("datetime64[s]")
        assert times.shape == cohort.vitals[f"y_{name}"].shape
    earliest, latest = (timedelta(hours=h) for h in demo.ADMISSION_NOTE_DELAY_HOURS)
    late_low, late_high = (timedelta(hours=h) for h in LATE_FIRST_NOTE_DELAY_HOURS)
    window = timedelta(hours=demo.DEFAULT_N_TIMESTEPS)
    for patient_id, records in ward.items():
        admitted = admission_time(cohort, patient_id, demo.DEFAULT_N_TIMESTEPS)
        delay = charted(records[0]) - admitted
        if cohort.documentation.late_first_note_minutes[patient_row(patient_id)] < 0:
            # On time: in the first hours after admission; every later note before the prediction.
            assert earliest <= delay <= latest
            assert all(
                charted(records[0]) < charted(r) < predicted[patient_id] for r in records[1:]
            )
        else:  # late: 1-36 hours after the end of the first day's window
            assert window + late_low <= delay <= window + late_high
    days = {t.date() for t in predicted.values()}
    assert len(days) > SMALL_COHORT // 2, "admissions are spread over the year"
    window_days = cohort.documentation.window_day
    assert set(window_days.tolist()) == set(range(len(demo.WINDOW_DAY_SHARES)))


def test_short_windows_keep_every_on_time_note_inside_the_stay():
    n_timesteps = 2
    cohort = demo.make_demo_cohort(n_patients=demo.MIN_PATIENTS, n_timesteps=n_timesteps, seed=4)
    ward = ward_notes_by_patient(cohort)
    predicted = prediction_times(cohort.vitals)
    for patient_id, records in ward.items():
        if cohort.documentation.late_first_note_minutes[patient_row(patient_id)] >= 0:
            continue
        start = admission_time(cohort, patient_id, n_timesteps)
        assert all(start < charted(r) <= predicted[patient_id] for r in records)
    assert max(len(records) for records in ward.values()) == 4


def test_note_idx_is_a_row_number_0_to_n_minus_1(cohort):
    assert [record["idx"] for record in cohort.notes] == list(range(len(cohort.notes)))


def test_notes_are_not_in_patient_or_time_order(cohort):
    """Pairing by position must not work by accident: rows are shuffled relative to ids, and
    a patient's notes are not adjacent or in chart-time order."""
    note_ids = [record[demo.DEMO_NOTES_ID_COLUMN] for record in cohort.notes]
    assert note_ids != sorted(note_ids)
    times = [record[demo.DEMO_TIME_COLUMN] for record in cohort.notes]
    assert times != sorted(times)


# --- vitals contract ---------------------------------------------------------------------------


def test_vitals_have_six_named_features_over_the_default_24_hours(cohort):
    assert tuple(cohort.vitals["feature_names"].tolist()) == EXPECTED_FEATURE_NAMES
    assert demo.DEMO_FEATURE_NAMES == EXPECTED_FEATURE_NAMES
    for name in demo.SPLIT_NAMES:
        X = cohort.vitals[f"X_{name}"]
        assert X.ndim == 3 and X.shape[1:] == (demo.DEFAULT_N_TIMESTEPS, 6)
        assert X.dtype == np.float32
        assert np.isfinite(X).all()


def test_vitals_stay_within_charted_ranges(cohort):
    X = all_splits(cohort.vitals, "X")
    for f, vital in enumerate(demo.VITAL_SIGNS):
        assert X[:, :, f].min() >= vital.lower, vital.name
        assert X[:, :, f].max() <= vital.upper, vital.name
    # Rough plausibility of the means (adult ward norms).
    means = dict(zip(demo.DEMO_FEATURE_NAMES, X.mean(axis=(0, 1))))
    assert 70 < means["heart_rate"] < 100
    assert 93 < means["spo2"] < 99
    assert 36.0 < means["temperature"] < 37.8


def test_n_timesteps_is_respected():
    cohort = demo.make_demo_cohort(n_patients=demo.MIN_PATIENTS, n_timesteps=5, seed=0)
    assert cohort.vitals["X_test"].shape[1:] == (5, 6)


def test_split_sizes_follow_the_split_fractions(cohort):
    sizes = np.array([len(cohort.vitals[f"y_{name}"]) for name in demo.SPLIT_NAMES])
    assert sizes.sum() == SMALL_COHORT
    np.testing.assert_allclose(sizes / SMALL_COHORT, demo.SPLIT_FRACTIONS, atol=0.02)


@pytest.mark.parametrize("n_patients", [demo.MIN_PATIENTS, SMALL_COHORT, SIGNAL_COHORT])
def test_both_classes_are_present_in_every_split(n_patients):
    cohort = demo.make_demo_cohort(n_patients=n_patients, seed=0)
    for name in demo.SPLIT_NAMES:
        y = cohort.vitals[f"y_{name}"]
        assert set(np.unique(y).tolist()) == {0, 1}, name
        assert y.dtype.kind in "iu"


def test_prevalence_is_near_the_target():
    y = all_splits(demo.make_demo_cohort(n_patients=SIGNAL_COHORT, seed=0).vitals, "y")
    assert abs(y.mean() - demo.TARGET_PREVALENCE) < 0.03


def test_written_vitals_load_through_the_user_loader(written):
    vitals = load_vitals(written.vitals_path)
    assert vitals.has_ids
    assert vitals.feature_names == EXPECTED_FEATURE_NAMES
    assert (vitals.n_timesteps, vitals.n_features) == (demo.DEFAULT_N_TIMESTEPS, 6)
    assert sum(len(split) for split in vitals.splits.values()) == SMALL_COHORT
    for split in vitals.splits.values():
        assert set(np.unique(split.y).tolist()) == {0, 1}


@pytest.mark.parametrize(
    "kwargs", [{"n_patients": demo.MIN_PATIENTS - 1}, {"n_patients": 500, "n_timesteps": 1}]
)
def test_too_small_a_cohort_is_refused_with_a_pipeline_error(kwargs):
    with pytest.raises(PipelineError, match="at least"):
        demo.make_demo_cohort(**kwargs)


# --- notes schema and content ------------------------------------------------------------------


def test_note_records_follow_the_augmented_clinical_notes_schema(cohort):
    assert (demo.DEMO_TIME_COLUMN, demo.DEMO_CATEGORY_COLUMN) == ("charttime", "category")
    for record in cohort.notes:
        assert tuple(record) == (
            *NOTE_SCHEMA,
            demo.DEMO_NOTES_ID_COLUMN,
            demo.DEMO_TIME_COLUMN,
            demo.DEMO_CATEGORY_COLUMN,
        )
        assert isinstance(record["idx"], int)
        for column in ("note", "full_note", "conversation", "summary"):
            assert isinstance(record[column], str) and record[column].strip(), column
        assert record["full_note"].startswith(record["note"])
        assert len(record["full_note"]) > len(record["note"])
        assert record["conversation"].startswith("Doctor:")


def test_summary_parses_as_json_with_the_dataset_sections(cohort):
    for record in cohort.notes:
        summary = json.loads(record["summary"])
        assert isinstance(summary, dict)
        for key in ("visit motivation", "patient information", "symptoms", "treatments"):
            assert key in summary
        assert summary["patient information"]["sex"] in ("Male", "Female")
        assert all(entry["name of symptom"] for entry in summary["symptoms"])
        assert all(entry["name"] for entry in summary["treatments"])


def test_summary_counts_are_readable_by_the_feature_extractor(cohort):
    records = cohort.notes[:100]
    assert {r[demo.DEMO_CATEGORY_COLUMN] for r in records} == set(NOTE_CATEGORIES)
    features = extract_features([r["note"] for r in records], [r["summary"] for r in records])
    assert features["summary_symptom_count"].notna().all()
    assert (features["summary_treatment_count"] >= 1).all()


def test_discharge_summaries_record_the_outcome_in_the_summary_json(cohort):
    for record in cohort.notes:
        discharge = json.loads(record["summary"])["discharge"]
        if record[demo.DEMO_CATEGORY_COLUMN] == demo.DISCHARGE_CATEGORY:
            assert discharge["discharge summary"] in record["note"]
        else:
            assert set(discharge.values()) == {demo.SUMMARY_UNKNOWN}


def test_the_leak_check_catches_outcome_words():
    """Guards the checks below: they must be able to fail."""
    assert leak_terms_in("He was transferred to ICU after a rapid response call.") == {
        "icu",
        "transferred",
        "rapid response",
    }
    assert leak_terms_in("She Deteriorated overnight; escalation to HDU.") == {
        "deteriorat",
        "escalat",
        "hdu",
    }
    assert leak_terms_in("No difficulty eating; the situation is stable.") == set()
    assert RECOVERY.search("She recovered uneventfully and was discharged home on day 4.")
    assert not RECOVERY.search("He had a cardiac arrest; resuscitation was unsuccessful.")


def record_texts(record: dict) -> list[str]:
    texts = [record["note"], record["full_note"], record["conversation"]]
    return texts + json_values(json.loads(record["summary"]))


def test_no_ward_note_names_the_outcome_even_one_charted_late(signal):
    """Admission and progress notes describe the patient when written, before or (when late)
    after the prediction time: only discharge summaries state the outcome."""
    found = {}
    for records in ward_notes_by_patient(signal["cohort"]).values():
        for record in records:
            for text in record_texts(record):
                for term in leak_terms_in(text):
                    found.setdefault(term, text)
    assert found == {}


def test_every_discharge_summary_states_the_outcome_of_its_patient(signal):
    cohort = signal["cohort"]
    labels = dict(zip(all_splits(cohort.vitals, "ids"), all_splits(cohort.vitals, "y")))
    seen = defaultdict(set)
    for patient_id, (record,) in discharge_summaries(cohort).items():
        note = record["note"]
        if labels[patient_id] == 1:
            assert leak_terms_in(note) and not RECOVERY.search(note), note
        else:
            assert RECOVERY.search(note) and not leak_terms_in(note), note
        seen[int(labels[patient_id])].add(json.loads(record["summary"])["discharge"]["reason"])
    # Several outcomes per class: deterioration is an ICU transfer, a cardiac arrest or a death.
    assert seen[1] == {"transferred to intensive care", "cardiac arrest", "died"}
    assert seen[0] == {"discharged home"}


def test_an_explained_abnormality_is_written_in_every_note_of_the_patient(cohort):
    """A known cause of abnormal vitals is charted again at each review, so a sample that may
    read only its first notes (the later ones charted after its prediction time) still has it."""
    explained = 0
    for records in ward_notes_by_patient(cohort).values():
        says = [bool(EXPLANATION.search(record["note"])) for record in records]
        assert all(says) or not any(says), says
        explained += all(says)
    assert explained > SMALL_COHORT // 5


def test_pertinent_negatives_are_written(cohort):
    """Negation matters in the demo: notes contain negated mentions of bedside concepts."""
    fixed = [s for concept in demo.BEDSIDE_CONCEPTS for s in concept.negated if "{" not in s]
    before, _ = notes_by_patient(cohort)
    texts = [" ".join(r["note"] for r in records) for records in before.values()]
    with_negative = sum(any(s in text for s in fixed) for text in texts)
    assert with_negative > SMALL_COHORT // 4


def test_progress_notes_are_short_and_text_per_patient_stays_that_of_one_note(signal):
    """Embedding time grows with the text per patient: splitting one note into several timed
    notes must not add much (one note per patient was about 150 words)."""
    ward = ward_notes_by_patient(signal["cohort"])
    per_patient = [sum(len(r["note"].split()) for r in records) for records in ward.values()]
    assert np.mean(per_patient) < 160
    progress = [
        len(r["note"].split())
        for records in ward.values()
        for r in records
        if r[demo.DEMO_CATEGORY_COLUMN] == demo.PROGRESS_CATEGORY
    ]
    assert np.mean(progress) < 40
    discharges = discharge_summaries(signal["cohort"]).values()
    assert np.mean([len(r["note"].split()) for (r,) in discharges]) < 40


# --- designed signal, checked with logistic regressions ----------------------------------------


def vital_summaries(X: np.ndarray) -> np.ndarray:
    """Per vital: last value, mean, and least-squares slope over time (18 columns for 6 vitals)."""
    hours = np.arange(X.shape[1], dtype=float)
    centred = hours - hours.mean()
    slope = np.einsum("ntf,t->nf", X, centred) / np.sum(centred**2)
    return np.hstack([X[:, -1, :], X.mean(axis=1), slope])


def test_vital_summaries_recover_the_slope_of_a_linear_trend():
    X = (2.0 + 0.5 * np.arange(24, dtype=float))[None, :, None] * np.ones((1, 1, 6))
    summaries = vital_summaries(X)
    np.testing.assert_allclose(summaries[0, 12:], 0.5)
    np.testing.assert_allclose(summaries[0, :6], 2.0 + 0.5 * 23)


def fitted_auroc(train_X, train_y, test_X, test_y) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train_X, train_y)
    return float(roc_auc_score(test_y, model.predict_proba(test_X)[:, 1]))


def shuffled_within_class(features: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shuffled = features.copy()
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        shuffled[rows] = features[rng.permutation(rows)]
    return shuffled


def merged_summary(records: list[dict]) -> str:
    """One summary for several notes: every note's symptoms, and its treatments once each."""
    summaries = [json.loads(r["summary"]) for r in records]
    treatments = {t["name"]: t for s in summaries for t in s["treatments"]}
    symptoms = [entry for s in summaries for entry in s["symptoms"]]
    return json.dumps({"symptoms": symptoms, "treatments": list(treatments.values())})


def patient_note_features(notes: dict[str, list[dict]], ids) -> np.ndarray:
    """Keyword features of each patient's notes read as one document: the texts concatenated in
    chart-time order (paragraph breaks between notes) with their summaries merged."""
    texts = ["\n\n".join(r["note"] for r in notes[i]) for i in ids]
    summaries = [merged_summary(notes[i]) for i in ids]
    table = extract_features(texts, summaries)
    return table.drop(columns="note_id").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def signal():
    """Vital summaries and keyword features; fitted on train+val, scored on test (seed 0).

    A patient's note features come from ALL of its notes charted at or before its prediction
    time, concatenated (``patient_note_features``). The "leaked" scores add the discharge
    summaries charted after it, as a pipeline that ignored chart times would."""
    cohort = demo.make_demo_cohort(n_patients=SIGNAL_COHORT, seed=0)
    arrays = cohort.vitals
    before, after = notes_by_patient(cohort)
    leaked = {i: before[i] + after[i] for i in all_splits(arrays, "ids")}

    def note_features(ids):
        return patient_note_features(before, ids)

    fit_ids = np.concatenate([arrays["ids_train"], arrays["ids_val"]])
    data = {
        "vitals_fit": vital_summaries(np.concatenate([arrays["X_train"], arrays["X_val"]])),
        "vitals_test": vital_summaries(arrays["X_test"]),
        "notes_fit": note_features(fit_ids),
        "notes_test": note_features(arrays["ids_test"]),
        "leaked_fit": patient_note_features(leaked, fit_ids),
        "leaked_test": patient_note_features(leaked, arrays["ids_test"]),
        "y_fit": np.concatenate([arrays["y_train"], arrays["y_val"]]),
        "y_test": arrays["y_test"],
    }
    d = data
    scores = {
        "vitals": fitted_auroc(d["vitals_fit"], d["y_fit"], d["vitals_test"], d["y_test"]),
        "notes": fitted_auroc(d["notes_fit"], d["y_fit"], d["notes_test"], d["y_test"]),
        "fused": fitted_auroc(
            np.hstack([d["vitals_fit"], d["notes_fit"]]),
            d["y_fit"],
            np.hstack([d["vitals_test"], d["notes_test"]]),
            d["y_test"],
        ),
        "fused_within_class_shuffle": fitted_auroc(
            np.hstack([d["vitals_fit"], shuffled_within_class(d["notes_fit"], d["y_fit"], 1)]),
            d["y_fit"],
            np.hstack([d["vitals_test"], shuffled_within_class(d["notes_test"], d["y_test"], 2)]),
            d["y_test"],
        ),
        "leaked_notes": fitted_auroc(d["leaked_fit"], d["y_fit"], d["leaked_test"], d["y_test"]),
        "leaked_fused": fitted_auroc(
            np.hstack([d["vitals_fit"], d["leaked_fit"]]),
            d["y_fit"],
            np.hstack([d["vitals_test"], d["leaked_test"]]),
            d["y_test"],
        ),
    }
    return {"scores": scores, "cohort": cohort}


def test_vital_summaries_predict_moderately_well(signal):
    assert 0.70 <= signal["scores"]["vitals"] <= 0.95, signal["scores"]


def test_notes_alone_are_weak_but_informative(signal):
    assert 0.55 <= signal["scores"]["notes"] <= 0.80, signal["scores"]


def test_notes_add_signal_to_the_vitals(signal):
    scores = signal["scores"]
    assert scores["fused"] >= scores["vitals"] + 0.03, scores


def test_shuffling_notes_within_class_loses_part_of_the_gain(signal):
    """The notes' value is partly patient-specific: a within-class shuffle keeps only the
    class-level part, so it scores below the linked notes (but need not fall to vitals-only)."""
    scores = signal["scores"]
    assert scores["fused_within_class_shuffle"] <= scores["fused"] - 0.02, scores


def test_discharge_summaries_leak_the_label_when_chart_times_are_ignored(signal):
    """Half the patients have a discharge summary that states the outcome: reading it lifts the
    same keyword model far above the honest notes, which is what a leak check must catch."""
    scores = signal["scores"]
    assert scores["leaked_notes"] >= scores["notes"] + 0.15, scores
    assert scores["leaked_fused"] >= scores["fused"] + 0.05, scores


def test_explained_abnormalities_look_like_risk_in_vitals_but_carry_none(signal):
    """Patients whose note explains their abnormal vitals have a larger heart-rate rise than
    the others, yet the same event rate: only the note tells them apart."""
    arrays = signal["cohort"].vitals
    ward = ward_notes_by_patient(signal["cohort"])
    ids, y, X = (all_splits(arrays, key) for key in ("ids", "y", "X"))
    with_notes = np.array([i in ward for i in ids])  # the patients whose notes can say so
    ids, y, X = ids[with_notes], y[with_notes], X[with_notes]
    explained = np.array([any(EXPLANATION.search(r["note"]) for r in ward[i]) for i in ids])
    assert abs(explained.mean() - demo.EXPLAINED_ABNORMALITY_RATE) < 0.05
    heart_rate = demo.DEMO_FEATURE_NAMES.index("heart_rate")
    rise = X[:, -1, heart_rate] - X[:, 0, heart_rate]
    assert rise[explained].mean() > rise[~explained].mean() + 5.0
    assert abs(y[explained].mean() - y[~explained].mean()) < 0.05
