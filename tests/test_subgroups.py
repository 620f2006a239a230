"""Results by note availability and recency (evidence/subgroups.py, report_subgroups.py)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from multimodal_deterioration.evidence.comparisons import compare_over_seeds
from multimodal_deterioration.evidence.report_subgroups import (
    subgroup_claims,
    subgroup_frame,
    subgroup_table,
    subgroups_section,
)
from multimodal_deterioration.evidence.subgroups import (
    MIN_PER_CLASS,
    SUBGROUP_PAIRS,
    subgroup_masks,
    subgroup_results,
)
from multimodal_deterioration.learning.experiment import ExperimentConfig

from helpers import fake_data, fake_experiment, informative_probabilities

SEEDS = (42, 43)
SIZES = {"train": 120, "val": 120, "test": 600}


def with_notes(data, seed: int = 0):
    """Every split with note counts 0-6 and hours 0-48 before prediction (NaN without a note)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name, split in data.splits.items():
        count = rng.integers(0, 7, size=len(split))
        hours = np.where(count > 0, rng.uniform(0, 48, size=len(split)), np.nan)
        hours[:3] = [6.0, 24.0, 0.0]  # the bin edges belong to the middle bin, 0 to the first
        count[:3] = 1
        splits[name] = dataclasses.replace(split, note_count=count, note_hours=hours)
    return dataclasses.replace(data, splits=splits)


@pytest.fixture(scope="module")
def data():
    return with_notes(fake_data(SIZES, ids=True))


@pytest.fixture(scope="module")
def experiment(data):
    config = ExperimentConfig(seeds=SEEDS)
    probabilities = {}
    for split in ("val", "test"):
        y = data.splits[split].y
        probabilities[split] = {
            name: {
                seed: informative_probabilities(y, 1.0 + (name == "multimodal"), seed + index)
                for seed in SEEDS
            }
            for index, name in enumerate(config.variants)
        }
    return fake_experiment(data, probabilities["val"], probabilities["test"], seeds=SEEDS)


def test_membership_follows_note_counts_and_hours(data):
    test = data.splits["test"]
    masks = subgroup_masks(test)
    count, hours = test.note_count, test.note_hours
    np.testing.assert_array_equal(masks["availability"]["with a note"], count > 0)
    np.testing.assert_array_equal(masks["availability"]["without a note"], count == 0)
    for label, members in {"1 note": [1], "2-3 notes": [2, 3], "4+ notes": [4, 5, 6]}.items():
        np.testing.assert_array_equal(masks["note_count"][label], np.isin(count, members))
    expected = {
        "< 6 h": [count[i] > 0 and hours[i] < 6 for i in range(len(count))],
        "6-24 h": [count[i] > 0 and 6 <= hours[i] <= 24 for i in range(len(count))],
        "> 24 h": [count[i] > 0 and hours[i] > 24 for i in range(len(count))],
    }
    for label, members in expected.items():
        np.testing.assert_array_equal(masks["recency"][label], members)
    recency = sum(masks["recency"].values())
    np.testing.assert_array_equal(recency, count > 0)  # every sample with a note in one bin


def test_without_times_or_counts_only_what_is_known_is_cut(data):
    test = dataclasses.replace(data.splits["test"], note_hours=None)
    assert set(subgroup_masks(test)) == {"availability", "note_count"}
    test = dataclasses.replace(test, note_count=None)
    masks = subgroup_masks(test)
    assert set(masks) == {"availability"}
    np.testing.assert_array_equal(masks["availability"]["with a note"], test.note_index >= 0)


def test_a_subgroup_interval_is_the_bootstrap_restricted_to_its_rows(data, experiment):
    results = subgroup_results(experiment, data.splits["test"], n_resamples=300, seed=7)
    test = data.splits["test"]
    mask = subgroup_masks(test)["availability"]["with a note"]
    restricted = {
        name: {s: model.test_prob[mask] for s, model in experiment.by_seed(name).items()}
        for name in ("multimodal", "vital_only", "notes_shuffled")
    }
    direct = compare_over_seeds(
        test.y[mask], restricted, SUBGROUP_PAIRS, n_resamples=300, seed=7, groups=test.ids[mask]
    )
    entry = results["by"]["availability"]["with a note"]
    assert entry["status"] == "estimated"
    assert entry["samples"] == int(mask.sum()) and entry["positives"] == int(test.y[mask].sum())
    for key, pair in direct["pairs"].items():
        assert entry["differences"][key] == pair["auroc"]
    assert entry["auroc"]["vital_only"] == direct["models"]["vital_only"]["auroc"]


def test_a_subgroup_too_small_or_of_one_class_is_counted_not_estimated(data, experiment):
    test = data.splits["test"]
    y = test.y.copy()
    few = np.flatnonzero(test.note_count >= 6)
    y[few] = 0
    y[few[: MIN_PER_CLASS - 1]] = 1
    results = subgroup_results(experiment, dataclasses.replace(test, y=y), n_resamples=100, seed=0)
    entry = results["by"]["note_count"]["4+ notes"]
    assert entry["status"] == "estimated"  # counts 4 and 5 keep it large enough
    narrow = dataclasses.replace(test, y=y, note_count=np.where(test.note_count >= 6, 4, 1))
    entry = subgroup_results(experiment, narrow, n_resamples=100, seed=0)["by"]["note_count"][
        "4+ notes"
    ]
    assert entry == {"samples": len(few), "positives": MIN_PER_CLASS - 1, "status": "too_small"}
    empty = subgroup_results(
        experiment, dataclasses.replace(test, note_count=np.ones_like(y)), n_resamples=100, seed=0
    )["by"]["availability"]["without a note"]
    assert empty == {"samples": 0, "positives": 0, "status": "empty"}


def fake_results(subgroups: dict, method: str = "id") -> dict:
    return {"subgroups": subgroups, "pairing": {"method": method}}


def difference(estimate: float, low: float, high: float) -> dict:
    return {"estimate": estimate, "ci": [low, high], "per_seed": {}, "sd_over_seeds": None}


def estimated(fused_vs_vitals: dict, notes_gain: dict) -> dict:
    auroc = {"estimate": 0.8, "ci": [0.7, 0.9]}
    return {
        "samples": 200,
        "positives": 60,
        "status": "estimated",
        "auroc": {name: auroc for name in ("multimodal", "vital_only", "notes_shuffled")},
        "differences": {
            "multimodal_minus_vital_only": fused_vs_vitals,
            "multimodal_minus_notes_shuffled": notes_gain,
        },
    }


def test_the_report_never_claims_a_subgroup_gain_whose_interval_includes_zero():
    subgroups = {
        "min_per_class": MIN_PER_CLASS,
        "by": {
            "availability": {
                "with a note": estimated(
                    difference(0.05, 0.01, 0.09), difference(0.04, -0.01, 0.09)
                ),
                "without a note": estimated(
                    difference(0.00, -0.05, 0.05), difference(-0.06, -0.10, -0.01)
                ),
            }
        },
    }
    results = fake_results(subgroups)
    claims = subgroup_claims(results)
    assert len(claims) == 2
    assert "in samples with a note, the fused model beats the vital-only model" in claims[0]
    assert "falls below the shuffled-notes network" in claims[1]
    section = subgroups_section(results)
    assert "+0.0400" in section  # in the table, but never in a claim
    assert all("+0.0400" not in claim for claim in claims)
    nothing = copy.deepcopy(subgroups)
    nothing["by"]["availability"]["with a note"]["differences"]["multimodal_minus_vital_only"] = (
        difference(0.05, -0.01, 0.09)
    )
    nothing["by"]["availability"]["without a note"] = {
        "samples": 12,
        "positives": 2,
        "status": "too_small",
    }
    text = subgroups_section(fake_results(nothing))
    assert "none is claimed" in text and "too few of a class" in text


def test_random_pairing_says_the_subgroups_describe_the_pairing():
    subgroups = {"min_per_class": MIN_PER_CLASS, "by": {"availability": {}}}
    assert "say nothing about the patients' own notes" in subgroups_section(
        fake_results(subgroups, "random")
    )
    assert "patients' own notes" not in subgroups_section(fake_results(subgroups, "id"))


def test_the_table_and_csv_hold_the_json_numbers(data, experiment):
    results = {"subgroups": subgroup_results(experiment, data.splits["test"], 200, 0)}
    frame = subgroup_frame(results)
    row = frame[(frame["by"] == "availability") & (frame["subgroup"] == "with a note")].iloc[0]
    entry = results["subgroups"]["by"]["availability"]["with a note"]
    key = "multimodal_minus_vital_only"
    assert row[key] == entry["differences"][key]["estimate"]
    assert row[f"{key}_ci_low"] == entry["differences"][key]["ci"][0]
    assert f"{entry['samples']} ({entry['positives']})" in subgroup_table(results)
