"""Specification of the synthetic demo cohort (multimodal_deterioration.demo).

The demo must be a faithful stand-in for a user's inputs (the processed_data.npz contract and
the AGBonnet/augmented-clinical-notes schema), reproducible, free of words that name the outcome,
and built so that the notes add patient-specific value to the vitals. The last property is
checked cheaply with logistic regressions on hand-made summaries, not with the LSTM or MiniLM.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from multimodal_deterioration import demo
from multimodal_deterioration.errors import PipelineError
from multimodal_deterioration.features import extract_features
from multimodal_deterioration.vitals import load_vitals

SMALL_COHORT = 200
SIGNAL_COHORT = 2000  # the default demo size, where the module's design numbers were tuned
NOTE_SCHEMA = ("idx", "note", "full_note", "conversation", "summary")
EXPECTED_FEATURE_NAMES = (
    "heart_rate",
    "respiratory_rate",
    "spo2",
    "systolic_bp",
    "temperature",
    "diastolic_bp",
)
# What the note says when a patient's abnormal vitals have a risk-free cause (demo.EXPLANATIONS).
EXPLANATION = re.compile(r"explain|attribut|due to anxiety")


def all_splits(arrays: dict, prefix: str) -> np.ndarray:
    return np.concatenate([arrays[f"{prefix}_{name}"] for name in demo.SPLIT_NAMES])


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
        "from multimodal_deterioration import demo\n"
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


def test_each_id_has_exactly_one_note_and_each_note_one_patient(cohort):
    sample_ids = sorted(all_splits(cohort.vitals, "ids").tolist())
    note_ids = sorted(record[demo.DEMO_NOTES_ID_COLUMN] for record in cohort.notes)
    assert note_ids == sample_ids


def test_note_idx_is_a_row_number_0_to_n_minus_1(cohort):
    assert [record["idx"] for record in cohort.notes] == list(range(SMALL_COHORT))


def test_notes_are_not_in_patient_order(cohort):
    """Pairing by position must not work by accident: rows are shuffled relative to ids."""
    note_ids = [record[demo.DEMO_NOTES_ID_COLUMN] for record in cohort.notes]
    assert note_ids != sorted(note_ids)


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
    for record in cohort.notes:
        assert tuple(record) == (*NOTE_SCHEMA, demo.DEMO_NOTES_ID_COLUMN)
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
    records = cohort.notes[:50]
    features = extract_features([r["note"] for r in records], [r["summary"] for r in records])
    assert features["summary_symptom_count"].notna().all()
    assert (features["summary_treatment_count"] >= 1).all()


def test_the_leak_check_catches_outcome_words():
    """Guards the check below: it must be able to fail."""
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


def test_no_note_text_names_the_outcome():
    cohort = demo.make_demo_cohort(n_patients=SIGNAL_COHORT, seed=0)
    found = {}
    for record in cohort.notes:
        texts = [record["note"], record["full_note"], record["conversation"]]
        texts += json_values(json.loads(record["summary"]))
        for text in texts:
            for term in leak_terms_in(text):
                found.setdefault(term, text)
    assert found == {}


def test_pertinent_negatives_are_written(cohort):
    """Negation matters in the demo: notes contain negated mentions of bedside concepts."""
    fixed = [s for concept in demo.BEDSIDE_CONCEPTS for s in concept.negated if "{" not in s]
    with_negative = sum(any(s in r["note"] for s in fixed) for r in cohort.notes)
    assert with_negative > SMALL_COHORT // 4


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


@pytest.fixture(scope="module")
def signal():
    """Vital summaries and keyword features; fitted on train+val, scored on test (seed 0)."""
    cohort = demo.make_demo_cohort(n_patients=SIGNAL_COHORT, seed=0)
    arrays = cohort.vitals
    notes = {record[demo.DEMO_NOTES_ID_COLUMN]: record for record in cohort.notes}

    def note_features(ids):
        rows = [notes[i] for i in ids]
        table = extract_features([r["note"] for r in rows], [r["summary"] for r in rows])
        return table.drop(columns="note_id").to_numpy(dtype=float)

    fit_ids = np.concatenate([arrays["ids_train"], arrays["ids_val"]])
    data = {
        "vitals_fit": vital_summaries(np.concatenate([arrays["X_train"], arrays["X_val"]])),
        "vitals_test": vital_summaries(arrays["X_test"]),
        "notes_fit": note_features(fit_ids),
        "notes_test": note_features(arrays["ids_test"]),
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


def test_explained_abnormalities_look_like_risk_in_vitals_but_carry_none(signal):
    """Patients whose note explains their abnormal vitals have a larger heart-rate rise than
    the others, yet the same event rate: only the note tells them apart."""
    arrays = signal["cohort"].vitals
    notes = {r[demo.DEMO_NOTES_ID_COLUMN]: r["note"] for r in signal["cohort"].notes}
    ids, y, X = (all_splits(arrays, key) for key in ("ids", "y", "X"))
    explained = np.array([bool(EXPLANATION.search(notes[i])) for i in ids])
    assert abs(explained.mean() - demo.EXPLAINED_ABNORMALITY_RATE) < 0.05
    heart_rate = demo.DEMO_FEATURE_NAMES.index("heart_rate")
    rise = X[:, -1, heart_rate] - X[:, 0, heart_rate]
    assert rise[explained].mean() > rise[~explained].mean() + 5.0
    assert abs(y[explained].mean() - y[~explained].mean()) < 0.05
