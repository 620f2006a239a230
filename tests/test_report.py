"""The control summary's leak flag and the report's wording follow the numbers they are given."""

import pytest

from multimodal_deterioration.report import controls_interpretation, main_finding
from multimodal_deterioration.results import LEAK_RETAINED_FRACTION, control_summary

CONTROL_NAMES = [
    "multimodal",
    "vital_only",
    "text_only",
    "notes_shuffled",
    "notes_shuffled_within_class",
    "notes_zeroed_at_test",
]


def results_with(aurocs: dict) -> dict:
    return {
        "multimodal_auroc": aurocs["multimodal"],
        "vital_only_auroc": aurocs["vital_only"],
        "metrics": {name: {"auroc": value} for name, value in aurocs.items()},
    }


def aurocs(within_class: float, shuffled: float = 0.80) -> dict:
    return {
        "multimodal": 0.90,
        "vital_only": 0.80,
        "text_only": 0.70,
        "notes_shuffled": shuffled,
        "notes_shuffled_within_class": within_class,
        "notes_zeroed_at_test": 0.79,
    }


@pytest.mark.parametrize(
    "within_class, flagged",
    [
        (0.80 + 0.10 * LEAK_RETAINED_FRACTION + 0.001, True),
        (0.80 + 0.10 * LEAK_RETAINED_FRACTION - 0.001, False),
        (0.89, True),
        (0.81, False),
    ],
)
def test_the_leak_flag_fires_when_a_within_class_shuffle_keeps_most_of_the_gain(
    within_class, flagged
):
    summary = control_summary(results_with(aurocs(within_class)), CONTROL_NAMES)
    assert summary["fused_gain_auroc"] == pytest.approx(0.10)
    assert summary["notes_shuffled_within_class"]["retained_fraction"] == pytest.approx(
        (within_class - 0.80) / 0.10
    )
    assert summary["label_leak_suspected"] is flagged
    text = controls_interpretation(summary)
    assert ("**Warning" in text) is flagged


def test_no_gain_means_no_fractions_and_no_flag():
    values = aurocs(0.85) | {"multimodal": 0.79}
    summary = control_summary(results_with(values), CONTROL_NAMES)
    assert summary["notes_shuffled"]["retained_fraction"] is None
    assert summary["label_leak_suspected"] is False
    assert "gained nothing" in controls_interpretation(summary)


def test_controls_not_run_are_reported_as_such():
    assert control_summary(results_with(aurocs(0.8)), ["multimodal", "vital_only"]) == {
        "ran": False
    }


@pytest.mark.parametrize(
    "interval, verdict",
    [([0.01, 0.05], "improved"), ([-0.02, 0.04], "no evidence"), ([-0.06, -0.01], "worse")],
)
def test_the_main_finding_reads_the_confidence_interval_of_the_difference(interval, verdict):
    results = {
        "test_samples": 300,
        "metrics": {
            "multimodal": {"auroc": 0.83, "positive_rate": 0.2},
            "vital_only": {"auroc": 0.80},
        },
        "confidence_intervals": {
            "multimodal": {"auroc": [0.78, 0.88]},
            "vital_only": {"auroc": [0.75, 0.85]},
            "multimodal_minus_vital_only": {"auroc": interval},
        },
        "statistics": {
            "delong_multimodal_vs_vital_only": {"auc_difference": 0.03, "z": 1.5, "p_value": 0.13}
        },
        "reported_baseline_auroc": 0.9941,
        "improvement_vs_reported_percent": -16.5,
    }
    text = main_finding(results)
    assert verdict in text
    assert "0.8300 (0.7800 to 0.8800)" in text and "p = 0.130" in text and "not re-measured" in text
