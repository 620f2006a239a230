"""The verdict, the attribution of a gain and the leak rule at every edge."""

from pathlib import Path

import pytest
import torch

from multimodal_deterioration.base.cli import StageLog
from multimodal_deterioration.base.settings import SettingError
from multimodal_deterioration.contract.multimodal_data import save_multimodal_data
from multimodal_deterioration.evidence.results import EvaluationSettings
from multimodal_deterioration.evidence.study import StudyConfig, run_study
from multimodal_deterioration.evidence.verdict import (
    ATTRIBUTIONS,
    CLAIMS_A_GAIN,
    GAIN_VERDICTS,
    LEAK_RETAINED_FRACTION,
    attribute_gain,
    gain_verdict,
    leak_suspected,
)
from multimodal_deterioration.learning.experiment import ExperimentConfig
from multimodal_deterioration.learning.training import TrainingConfig

from helpers import null_notes_data

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ([-0.05, -0.01], "worse"),
        ([-0.05, 0.0], "no_meaningful_gain"),  # a closed interval that reaches zero includes it
        ([0.012, 0.05], "meaningful_gain"),
        ([0.01, 0.05], "meaningful_gain"),
        ([0.002, 0.008], "gain_below_min"),
        ([0.002, 0.03], "gain_size_unclear"),
        ([-0.004, 0.009], "no_meaningful_gain"),
        ([-0.02, 0.04], "inconclusive"),
        ([0.0, 0.05], "inconclusive"),  # from zero: includes zero, never "a gain"
    ],
)
def test_the_gain_verdict_reads_the_interval_against_zero_and_the_smallest_gain_of_interest(
    interval, verdict
):
    result = gain_verdict(interval, 0.01)
    assert result["verdict"] == verdict
    assert result["statement"] == GAIN_VERDICTS[verdict]
    # a verdict claims a gain exactly when the whole interval lies above zero
    assert (verdict in CLAIMS_A_GAIN) is (interval[0] > 0)


def test_no_verdict_sentence_contradicts_its_interval():
    for interval in ([0.0, 0.05], [-0.01, 0.0], [0.0, 0.0]):
        statement = gain_verdict(interval, 0.01)["statement"]
        assert "includes zero" in statement or "includes both zero" in statement


def test_a_smallest_gain_of_zero_is_refused_so_includes_zero_and_a_gain_never_meet():
    with pytest.raises(SettingError, match="min_gain must be greater than 0"):
        EvaluationSettings(min_gain=0.0)
    with pytest.raises(ValueError):
        gain_verdict([0.0, 0.05], 0.0)


@pytest.mark.parametrize(
    "notes_ci, vitals_ci, attribution",
    [
        ([0.01, 0.05], [0.02, 0.06], "notes_content"),
        ([0.01, 0.05], [0.0, 0.06], "notes_content_not_over_vitals"),
        ([0.0, 0.05], [0.001, 0.06], "network_not_notes"),
        ([-0.02, 0.03], [-0.01, 0.04], "no_gain"),
    ],
)
def test_a_gain_is_credited_to_the_notes_only_when_they_beat_the_shuffled_notes_network(
    notes_ci, vitals_ci, attribution
):
    assert attribute_gain(notes_ci, vitals_ci) == {
        "attribution": attribution,
        "statement": ATTRIBUTIONS[attribution],
    }


@pytest.mark.parametrize(
    "notes_ci, kept, suspected",
    [
        ([0.01, 0.05], LEAK_RETAINED_FRACTION, True),
        ([0.01, 0.05], LEAK_RETAINED_FRACTION - 1e-9, False),
        ([0.0, 0.05], 0.99, False),  # the notes' gain is not established
        ([-0.01, 0.05], 0.99, False),
        ([0.01, 0.05], None, False),  # no share computed
    ],
)
def test_the_leak_warning_fires_only_on_an_established_notes_gain_kept_by_the_within_class_shuffle(
    notes_ci, kept, suspected
):
    assert leak_suspected(notes_ci, kept) is suspected


def test_the_readme_lists_every_verdict_and_attribution_with_its_sentence():
    readme = README.read_text(encoding="utf-8")
    for key, sentence in {**GAIN_VERDICTS, **ATTRIBUTIONS}.items():
        assert f"`{key}`" in readme, key
        assert sentence in readme, key


def test_a_null_data_set_gets_no_gain_claim_and_no_leak_warning_end_to_end(tmp_path):
    """Notes of pure noise, trained with the default five seeds and every control: the verdict,
    the attribution, the leak flag and the report agree that the notes added nothing."""
    data = null_notes_data(seed=0)
    path = tmp_path / "null.npz"
    save_multimodal_data(path, data)
    study = StudyConfig(data_file=str(path), ablations_setting="on")
    experiment = ExperimentConfig(training=TrainingConfig(epochs=8, patience=3))
    outcome = run_study(
        study,
        experiment,
        EvaluationSettings(bootstrap_resamples=500),
        tmp_path,
        torch.device("cpu"),
        StageLog(enabled=False),
    )
    added, controls = outcome.results["added_value"], outcome.results["controls"]
    assert added["seeds"] == 5 and added["includes_training_randomness"] is True
    assert added["verdict"] not in CLAIMS_A_GAIN
    assert added["attribution"] in ("no_gain", "network_not_notes")
    assert controls["label_leak_suspected"] is False
    report = (tmp_path / "multimodal_report.md").read_text(encoding="utf-8")
    assert added["statement"] in report
    assert ATTRIBUTIONS["notes_content"] not in report
    assert "**Warning" not in report
