"""The control summary's leak flag and the report's wording follow the numbers they are given."""

import pytest

from multimodal_deterioration.report import controls_interpretation, main_finding
from multimodal_deterioration.results import (
    LEAK_RETAINED_FRACTION,
    control_summary,
    gain_verdict,
)

CONTROL_NAMES = [
    "multimodal",
    "vital_only",
    "text_only",
    "notes_shuffled",
    "notes_shuffled_within_class",
    "notes_zeroed_at_test",
]


LINKED = {"method": "id", "clinically_linked": True}
RANDOM = {"method": "random", "seed": 3, "clinically_linked": False}


def results_with(aurocs: dict, gain_ci=(0.05, 0.15), lead_ci=(0.02, 0.2), pairing=LINKED) -> dict:
    """A results dict holding what the control summary reads: AUROCs, the paired difference
    CIs (the fused gain's, and one CI for the fused model's lead over every control)."""
    intervals = {"multimodal_minus_vital_only": {"auroc": list(gain_ci)}}
    for name, value in aurocs.items():
        if name in ("multimodal", "vital_only"):
            continue
        intervals[f"{name}_minus_vital_only"] = {"auroc": [value - 0.85, value - 0.75]}
        intervals[f"multimodal_minus_{name}"] = {"auroc": list(lead_ci)}
    return {
        "multimodal_auroc": aurocs["multimodal"],
        "vital_only_auroc": aurocs["vital_only"],
        "metrics": {name: {"auroc": value} for name, value in aurocs.items()},
        "confidence_intervals": intervals,
        "pairing": pairing,
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
def test_the_leak_flag_fires_when_a_within_class_shuffle_keeps_most_of_an_established_gain(
    within_class, flagged
):
    results = results_with(aurocs(within_class))
    summary = control_summary(results, CONTROL_NAMES)
    assert summary["fused_gain_auroc"] == pytest.approx(0.10)
    assert summary["fused_gain_established"] is True
    assert summary["notes_shuffled_within_class"]["retained_fraction"] == pytest.approx(
        (within_class - 0.80) / 0.10
    )
    assert summary["label_leak_suspected"] is flagged
    text = controls_interpretation(summary, results["pairing"])
    assert ("**Warning" in text) is flagged


def test_a_gain_whose_interval_includes_zero_gets_no_shares_and_no_leak_flag():
    """The audit's case: +0.003 (CI -0.031 to 0.037) with a within-class control 0.0026 above
    vital-only once set the flag (a 87% "share" of noise) and printed the bold warning."""
    values = aurocs(0.8026) | {"multimodal": 0.803}
    results = results_with(values, gain_ci=(-0.031, 0.037), lead_ci=(-0.03, 0.03))
    summary = control_summary(results, CONTROL_NAMES)
    assert summary["fused_gain_established"] is False
    for name in ("text_only", "notes_shuffled", "notes_shuffled_within_class"):
        assert summary[name]["retained_fraction"] is None
    assert summary["label_leak_suspected"] is False
    text = controls_interpretation(summary, results["pairing"])
    assert "not distinguishable from zero" in text
    assert "Warning" not in text and "patient-specific" not in text


def test_with_random_pairing_the_controls_are_not_read_as_clinical_evidence():
    results = results_with(aurocs(0.81), gain_ci=(0.01, 0.19), pairing=RANDOM)
    summary = control_summary(results, CONTROL_NAMES)
    text = controls_interpretation(summary, results["pairing"])
    assert "cannot speak to clinical information" in text
    assert "at random (seed 3)" in text
    assert "which note goes with which sample" not in text
    assert "patient-specific" not in text


@pytest.mark.parametrize(
    "lead_ci, reading",
    [
        ((0.02, 0.2), "so the gain depends on which note goes with which sample"),
        ((-0.01, 0.2), "does not measurably lower the AUROC"),
    ],
)
def test_a_control_is_said_to_lower_the_auroc_only_when_the_lead_interval_excludes_zero(
    lead_ci, reading
):
    results = results_with(aurocs(0.81, shuffled=0.82), lead_ci=lead_ci)
    text = controls_interpretation(control_summary(results, CONTROL_NAMES), results["pairing"])
    assert reading in text


def test_the_summary_carries_each_controls_difference_intervals():
    results = results_with(aurocs(0.81))
    summary = control_summary(results, CONTROL_NAMES)
    entry = summary["notes_shuffled"]
    assert (
        entry["gain_vs_vital_only_ci"]
        == results["confidence_intervals"]["notes_shuffled_minus_vital_only"]["auroc"]
    )
    assert entry["fused_minus_control"] == pytest.approx(0.10)
    assert entry["fused_minus_control_ci"] == [0.02, 0.2]


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
        "added_value": {"min_gain_auroc": 0.01, **gain_verdict(interval, 0.01)},
    }
    text = main_finding(results)
    assert verdict in text
    assert "0.8300 (0.7800 to 0.8800)" in text and "p = 0.130" in text and "not re-measured" in text


def linked_pairing(timing_checked: bool, warnings=()) -> dict:
    """``meta["pairing"]`` of an id pairing as the preparation script writes it."""
    per_split = lambda n: {"train": n, "val": 0, "test": 0}  # noqa: E731
    return {
        "method": "id",
        "clinically_linked": True,
        "warnings": list(warnings),
        "reused_samples": per_split(0),
        "time_column": "CHARTTIME" if timing_checked else None,
        "window_hours": 48.0 if timing_checked else None,
        "category_column": "CATEGORY",
        "excluded_categories": ["Discharge summary"],
        "aggregation": "mean",
        "allow_untimed_notes": not timing_checked,
        "timing_checked": timing_checked,
        "candidate_links": per_split(100),
        "eligible_links": per_split(60),
        "notes_excluded_by_category": {
            s: {"Discharge summary": n} for s, n in per_split(10).items()
        },
        "notes_without_time": per_split(5),
        "notes_after_prediction_time": per_split(20),
        "notes_outside_window": per_split(5),
        "samples_without_eligible_note": per_split(3),
    }


def report_inputs(pairing: dict) -> dict:
    return {
        "meta": {"pairing": pairing},
        "reported_baseline_auroc": 0.85,
        "metrics": {
            name: {"expected_calibration_error": 0.1} for name in ("multimodal", "vital_only")
        },
    }


def test_the_limitations_say_timing_was_checked_only_when_it_was():
    from multimodal_deterioration.report import limitations

    checked = limitations(report_inputs(linked_pairing(True)))
    assert "only notes charted at or before each sample's prediction time" in checked
    assert "not checked" not in checked
    unchecked = limitations(report_inputs(linked_pairing(False)))
    assert "**Note timing was not checked**" in unchecked


def test_pairing_warnings_reach_the_results_and_the_report():
    from multimodal_deterioration.report import limitations
    from multimodal_deterioration.results import describe_pairing

    warning = "3 note(s) are linked to samples in more than one split"
    pairing = linked_pairing(True, [warning])
    described = describe_pairing({"pairing": pairing})
    assert described["warnings"] == [warning]
    assert described["timing_checked"] is True
    assert "20 charted after the prediction time" in described["description"]
    assert "5 charted before the window" in described["description"]
    assert "10 of category Discharge summary" in described["description"]
    assert "Of 100 note-sample links by id, 60 were used" in described["description"]
    assert f"Pairing warning: {warning}." in limitations(report_inputs(pairing))


def test_random_pairing_has_no_linkage_description():
    from multimodal_deterioration.results import describe_pairing

    described = describe_pairing({"pairing": {"method": "random", "seed": 1, "warnings": []}})
    assert described["description"] is None and described["clinically_linked"] is False


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ([-0.05, -0.01], "worse"),
        ([0.012, 0.05], "meaningful_gain"),
        ([0.01, 0.05], "meaningful_gain"),
        ([0.002, 0.008], "gain_below_min"),
        ([0.002, 0.03], "gain_size_unclear"),
        ([-0.004, 0.009], "no_meaningful_gain"),
        ([-0.02, 0.04], "inconclusive"),
    ],
)
def test_the_gain_verdict_reads_the_interval_against_zero_and_the_smallest_gain_of_interest(
    interval, verdict
):
    assert gain_verdict(interval, 0.01)["verdict"] == verdict


def test_a_null_result_is_stated_as_evidence_of_no_meaningful_gain_only_when_it_is():
    no_gain = gain_verdict([-0.004, 0.009], 0.01)["statement"]
    assert "evidence of no meaningful gain" in no_gain
    wide = gain_verdict([-0.004, 0.03], 0.01)["statement"]
    assert "inconclusive" in wide and "evidence of no" not in wide


def test_the_methods_state_how_much_note_text_the_model_input_cut():
    from multimodal_deterioration.report import truncation_sentence

    truncation = {
        "strategy": "key-sentences",
        "token_budget": 254,
        "notes": 4000,
        "notes_truncated": 124,
        "share_truncated": 0.031,
        "tokens_cut_total": 9876,
        "tokens_cut_max": 310,
    }
    assert truncation_sentence(truncation) == (
        "124 of 4,000 notes (3.1%) lost text to the model's 254-token input (9,876 tokens in "
        "all, at most 310 from one note)."
    )
    assert truncation_sentence(truncation | {"notes_truncated": 0}) == (
        "No note lost text to the model's 254-token input."
    )
    assert truncation_sentence(None) == ""
