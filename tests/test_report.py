"""The control summary's leak flag and the report's wording follow the numbers they are given."""

import pytest

from multimodal_deterioration.evidence.report_findings import controls_interpretation, main_finding
from multimodal_deterioration.evidence.results import control_summary
from multimodal_deterioration.evidence.verdict import (
    ATTRIBUTIONS,
    LEAK_RETAINED_FRACTION,
    attribute_gain,
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


def comparison(a: float, b: float, ci=None, seeds=5) -> dict:
    """A seed-aware comparison entry of AUROC ``a`` minus ``b`` with the given CI."""
    difference = a - b
    ci = list(ci) if ci is not None else [difference - 0.05, difference + 0.05]
    return {
        "model": "a",
        "comparator": "b",
        "seeds": list(range(seeds)),
        "auroc": {
            "estimate": difference,
            "ci": ci,
            "per_seed": {},
            "sd_over_seeds": 0.01,
            "probability_of_outperforming": 0.5,
        },
    }


def results_with(aurocs: dict, notes_ci=(0.05, 0.15), lead_ci=(0.02, 0.2), pairing=LINKED) -> dict:
    """A results dict holding what the control summary reads: seed-averaged AUROCs and the
    seed-aware comparisons (the notes' gain's CI, and one CI for the fused model's lead over
    every other control)."""
    fused, vitals, shuffled = aurocs["multimodal"], aurocs["vital_only"], aurocs["notes_shuffled"]
    comparisons = {
        "multimodal_minus_notes_shuffled": comparison(fused, shuffled, notes_ci),
        "multimodal_minus_vital_only": comparison(fused, vitals),
    }
    for name, value in aurocs.items():
        if name in ("multimodal", "vital_only"):
            continue
        comparisons[f"{name}_minus_vital_only"] = comparison(value, vitals)
        if name != "notes_shuffled":
            comparisons[f"multimodal_minus_{name}"] = comparison(fused, value, lead_ci)
    within = aurocs["notes_shuffled_within_class"]
    comparisons["notes_shuffled_within_class_minus_notes_shuffled"] = comparison(within, shuffled)
    models = {name: {"auroc": {"estimate": value}} for name, value in aurocs.items()}
    return {"comparisons": {"pairs": comparisons, "models": models}, "pairing": pairing}


def aurocs(within_class: float, shuffled: float = 0.80) -> dict:
    return {
        "multimodal": 0.90,
        "vital_only": 0.79,
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
def test_the_leak_flag_fires_when_a_within_class_shuffle_keeps_most_of_an_established_notes_gain(
    within_class, flagged
):
    results = results_with(aurocs(within_class))
    summary = control_summary(results, CONTROL_NAMES)
    assert summary["notes_gain_auroc"] == pytest.approx(0.10)
    assert summary["notes_gain_established"] is True
    # the share is of the notes' gain over the shuffled-notes network, not over vital-only
    assert summary["notes_shuffled_within_class"]["retained_fraction"] == pytest.approx(
        (within_class - 0.80) / 0.10
    )
    assert summary["label_leak_suspected"] is flagged
    text = controls_interpretation(summary, results["pairing"])
    assert ("**Warning" in text) is flagged


def test_a_network_gain_over_vital_only_on_noise_raises_no_leak_flag():
    """The audit's null run: the fused network beat vital-only (+0.016, CI above zero) on
    permuted notes and the within-class control kept 94% of that, but the fused model did not
    beat the same network on shuffled notes: no notes gain, so no share and no warning."""
    values = aurocs(0.7305, shuffled=0.731) | {"multimodal": 0.732, "vital_only": 0.716}
    results = results_with(values, notes_ci=(-0.009, 0.011), lead_ci=(-0.01, 0.012))
    summary = control_summary(results, CONTROL_NAMES)
    assert summary["fused_gain_auroc"] == pytest.approx(0.016)
    assert summary["notes_gain_established"] is False
    for name in ("text_only", "notes_shuffled", "notes_shuffled_within_class"):
        assert summary[name]["retained_fraction"] is None
    assert summary["label_leak_suspected"] is False
    text = controls_interpretation(summary, results["pairing"])
    assert "not distinguishable from zero" in text
    assert "Warning" not in text and "patient-specific" not in text


def test_with_random_pairing_the_controls_are_not_read_as_clinical_evidence():
    results = results_with(aurocs(0.81), notes_ci=(0.01, 0.19), pairing=RANDOM)
    summary = control_summary(results, CONTROL_NAMES)
    text = controls_interpretation(summary, results["pairing"])
    assert "cannot speak to clinical information" in text
    assert "at random (seed 3)" in text
    assert "patient-specific" not in text


@pytest.mark.parametrize(
    "lead_ci, reading",
    [
        ((0.02, 0.2), "so part of the gain is patient-specific"),
        ((-0.01, 0.2), "does not measurably lower the AUROC"),
    ],
)
def test_a_control_is_said_to_lower_the_auroc_only_when_the_lead_interval_excludes_zero(
    lead_ci, reading
):
    results = results_with(aurocs(0.81), lead_ci=lead_ci)
    text = controls_interpretation(control_summary(results, CONTROL_NAMES), results["pairing"])
    assert reading in text


def test_the_summary_carries_each_controls_difference_intervals():
    results = results_with(aurocs(0.81))
    summary = control_summary(results, CONTROL_NAMES)
    entry = summary["notes_shuffled_within_class"]
    comparisons = results["comparisons"]["pairs"]
    assert (
        entry["gain_vs_vital_only_ci"]
        == comparisons["notes_shuffled_within_class_minus_vital_only"]["auroc"]["ci"]
    )
    assert entry["fused_minus_control"] == pytest.approx(0.09)
    assert entry["fused_minus_control_ci"] == [0.02, 0.2]
    assert summary["notes_shuffled"]["fused_minus_control_ci"] == [0.05, 0.15]


def test_controls_not_run_are_reported_as_such():
    assert control_summary(
        results_with(aurocs(0.8)), ["multimodal", "vital_only", "notes_shuffled"]
    ) == {"ran": False}


def headline_results(notes_ci, vitals_ci, seeds=5) -> dict:
    """What the main finding reads, with the two headline comparisons' CIs chosen."""
    notes, vitals = gain_verdict(notes_ci, 0.01), gain_verdict(vitals_ci, 0.01)
    model = {"auroc": {"estimate": 0.8, "ci": [0.75, 0.85]}}
    return {
        "test_samples": 300,
        "seeds": {"main_seed": 42},
        "metrics": {
            "multimodal": {"auroc": 0.83, "positive_rate": 0.2},
            "vital_only": {"auroc": 0.80},
        },
        "confidence_intervals": {
            "multimodal": {"auroc": [0.78, 0.88]},
            "vital_only": {"auroc": [0.75, 0.85]},
            "multimodal_minus_vital_only": {"auroc": [-0.0001, 0.0201]},
        },
        "statistics": {
            "delong_multimodal_vs_vital_only": {"auc_difference": 0.03, "z": 1.97, "p_value": 0.049}
        },
        "comparisons": {
            "models": {name: model for name in ("multimodal", "vital_only", "notes_shuffled")},
            "pairs": {"notes_shuffled_minus_vital_only": comparison(0.81, 0.80)},
        },
        "reported_baseline_auroc": 0.9941,
        "improvement_vs_reported_percent": -16.5,
        "added_value": {
            "min_gain_auroc": 0.01,
            **notes,
            "gain_auroc": sum(notes_ci) / 2,
            "gain_auroc_ci": list(notes_ci),
            "probability_of_outperforming": 0.6,
            "over_vital_only": {
                **vitals,
                "gain_auroc": sum(vitals_ci) / 2,
                "gain_auroc_ci": list(vitals_ci),
                "probability_of_outperforming": 0.7,
            },
            **{
                ("attribution_statement" if key == "statement" else key): value
                for key, value in attribute_gain(notes_ci, vitals_ci).items()
            },
            "seeds": seeds,
            "includes_training_randomness": seeds > 1,
        },
    }


@pytest.mark.parametrize(
    "notes_ci, vitals_ci, attribution",
    [
        ([0.02, 0.05], [0.03, 0.06], "notes_content"),
        ([0.02, 0.05], [-0.01, 0.06], "notes_content_not_over_vitals"),
        ([-0.01, 0.02], [0.001, 0.03], "network_not_notes"),
        ([-0.01, 0.02], [-0.01, 0.03], "no_gain"),
    ],
)
def test_the_main_finding_credits_the_notes_only_when_they_beat_the_shuffled_notes_network(
    notes_ci, vitals_ci, attribution
):
    text = main_finding(headline_results(notes_ci, vitals_ci))
    assert ATTRIBUTIONS[attribution] in text
    assert gain_verdict(notes_ci, 0.01)["statement"] in text
    assert "beats the vital-only model, but not the same network" in text or attribution != (
        "network_not_notes"
    )


def test_the_main_seeds_delong_test_is_labelled_conditional_so_it_cannot_contradict_the_verdict():
    """The audit's line: a CI from -0.0001 with DeLong p = 0.049 beside "no evidence" and no
    word on why the two disagree."""
    text = main_finding(headline_results([-0.01, 0.02], [-0.004, 0.03]))
    assert "p = 0.049" in text
    assert "Conditional on the main seed's (42) two fitted networks" in text
    assert "can disagree with the verdict above" in text
    assert "improved discrimination" not in text


def test_a_single_seed_verdict_says_it_ignores_training_randomness():
    assert "ignore training randomness" in main_finding(
        headline_results([0.02, 0.05], [0.03, 0.06], seeds=1)
    )
    assert "ignore training randomness" not in main_finding(
        headline_results([0.02, 0.05], [0.03, 0.06], seeds=5)
    )


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
        # The linkage rule in words; the preparation writes it (describe_linkage) beside the counts.
        "description": "Notes were linked to samples by id; 60 of 100 links were used.",
    }


def report_inputs(pairing: dict) -> dict:
    """What the limitations read: the data's meta and the pairing summarised from it."""
    from multimodal_deterioration.evidence.results import describe_pairing

    return {
        "meta": {"pairing": pairing},
        "pairing": describe_pairing({"pairing": pairing}),
        "reported_baseline_auroc": 0.85,
        "added_value": {"includes_training_randomness": True},
        "metrics": {
            name: {"expected_calibration_error": 0.1} for name in ("multimodal", "vital_only")
        },
    }


def test_the_limitations_say_timing_was_checked_only_when_it_was():
    from multimodal_deterioration.evidence.report import limitations

    checked = limitations(report_inputs(linked_pairing(True)))
    assert "only notes charted at or before each sample's prediction time" in checked
    assert "not checked" not in checked
    unchecked = limitations(report_inputs(linked_pairing(False)))
    assert "**Note timing was not checked**" in unchecked


def test_pairing_warnings_and_description_reach_the_results_and_the_report():
    from multimodal_deterioration.evidence.report import limitations
    from multimodal_deterioration.evidence.results import describe_pairing

    warning = "3 note(s) are linked to samples in more than one split"
    pairing = linked_pairing(True, [warning])
    described = describe_pairing({"pairing": pairing})
    assert described["warnings"] == [warning]
    assert described["timing_checked"] is True
    assert described["description"] == pairing["description"]
    assert f"Pairing warning: {warning}." in limitations(report_inputs(pairing))


def test_random_pairing_has_no_linkage_description():
    from multimodal_deterioration.evidence.results import describe_pairing

    described = describe_pairing({"pairing": {"method": "random", "seed": 1, "warnings": []}})
    assert described["description"] is None and described["clinically_linked"] is False


def test_the_methods_state_how_much_note_text_the_model_input_cut():
    from multimodal_deterioration.evidence.report_methods import truncation_sentence

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


EMBEDDING = {"name": "sentence-transformers/all-MiniLM-L6-v2", "dimension": 384}


def test_the_methods_quote_the_linkage_description_from_the_results_when_there_is_one():
    from multimodal_deterioration.evidence.report_methods import notes_sentence

    notes, data = {"count": 10, "source": "notes.jsonl"}, {"text_dimension": 384}
    pairing = {"method": "id"}
    described = "Notes were linked to samples by id; 60 of 100 links were used."
    with_rule = notes_sentence(notes, EMBEDDING, "key-sentences", pairing, data, described)
    assert with_rule.endswith(f"paired with the samples by shared patient/stay id. {described}")
    without = notes_sentence(notes, EMBEDDING, "key-sentences", pairing, data, None)
    assert without.endswith("paired with the samples by shared patient/stay id.")


# The sentence the reference networks (ModelConfig's defaults, MiniLM's 384-dimensional notes)
# have always been described by.
REFERENCE_MODELS_SENTENCE = (
    "The multimodal model (MultiModalLSTM, 215,809 trainable parameters) encodes the vitals with "
    "a two-layer LSTM (hidden size 128), takes the last time step through dense layers "
    "128-64-32, projects the note embedding through 384-64-32, and classifies the concatenation "
    "through 64-32-16-1, with ReLU and dropout 0.3 after each hidden layer and between the LSTM "
    "layers. The vital-only baseline (211,073 parameters) uses the same vital pathway with a "
    "32-16-1 head and was trained in the same run, on the same split, with the same procedure "
    "and seed."
)


def architecture_results(vital_only: dict | None = None, **fused) -> dict:
    """What the methods' models sentence reads: each network's ``describe_architecture``."""
    from multimodal_deterioration.learning.model import ModelConfig, describe_architecture

    configs = {"multimodal": fused, "vital_only": fused if vital_only is None else vital_only}
    return {
        "model": "MultiModalLSTM",
        "architecture": {
            name: describe_architecture(ModelConfig(name, 6, 384, **config))
            for name, config in configs.items()
        },
        "model_parameters": {"multimodal": 215_809, "vital_only": 211_073},
    }


def test_the_methods_describe_the_reference_networks_in_the_usual_sentence():
    from multimodal_deterioration.evidence.report_methods import models_sentence

    assert models_sentence(architecture_results()) == REFERENCE_MODELS_SENTENCE


def test_the_methods_describe_the_networks_the_results_record():
    from multimodal_deterioration.evidence.report_methods import models_sentence

    smaller = models_sentence(architecture_results(lstm_hidden=64, lstm_layers=1, dropout=0.2))
    assert "with a one-layer LSTM (hidden size 64)" in smaller
    assert "through dense layers 64-64-32" in smaller
    assert "dropout 0.2 after each hidden layer." in smaller  # no dropout between LSTM layers
    assert "uses the same vital pathway with a 32-16-1 head" in smaller
    other_baseline = models_sentence(architecture_results(vital_only={"lstm_layers": 3}))
    assert (
        "uses a three-layer LSTM (hidden size 128) and dense layers 128-64-32 with a 32-16-1 head"
        in other_baseline
    )
