"""Every setting is declared once: the config dataclasses hold the defaults and ranges, and the
scripts' constants, flags, --help and checks all come from them."""

from __future__ import annotations

import dataclasses
from types import ModuleType

import pytest

from multimodal_deterioration.base.cli import flag_of
from multimodal_deterioration.base.settings import SettingError, as_record, default_of
from multimodal_deterioration.evidence.results import EvaluationSettings
from multimodal_deterioration.evidence.study import StudyConfig
from multimodal_deterioration.learning.experiment import ExperimentConfig
from multimodal_deterioration.learning.training import TrainingConfig
from multimodal_deterioration.preparation.linkage import LinkageRule
from multimodal_deterioration.preparation.run import PreparationConfig

from helpers import REPO_ROOT, load_module

SCRIPT_SETTINGS = {
    "train_multimodal_lstm.py": (TrainingConfig, ExperimentConfig, EvaluationSettings, StudyConfig),
    "download_and_prepare_clinical_notes.py": (PreparationConfig, LinkageRule),
}


def load_script(name: str) -> ModuleType:
    return load_module(REPO_ROOT / name)


def declared(config_class: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(config_class) if "help" in f.metadata]


def test_the_training_script_without_flags_runs_the_declared_defaults():
    _, study, experiment, evaluation = load_script("train_multimodal_lstm.py").parse_args([])
    assert study == StudyConfig()
    assert experiment == ExperimentConfig()
    assert evaluation == EvaluationSettings(progress=True)


def test_the_preparation_script_without_flags_runs_the_declared_defaults():
    _, config = load_script("download_and_prepare_clinical_notes.py").parse_args([])
    assert config == PreparationConfig()


@pytest.mark.parametrize("script", SCRIPT_SETTINGS)
def test_every_declared_setting_has_a_flag_whose_help_shows_its_default(
    script, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "10000")  # one line per flag: no wrapping inside a default
    with pytest.raises(SystemExit):
        load_script(script).parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for config_class in SCRIPT_SETTINGS[script]:
        for field in declared(config_class):
            flag = flag_of(config_class, field.name)
            assert f"{flag} " in help_text or help_text.endswith(flag), flag
            if field.default not in (None, False, True):
                assert f"(default: {field.default})" in help_text, flag


def test_a_constant_edited_at_the_top_of_a_script_changes_the_run():
    script = load_script("train_multimodal_lstm.py")
    script.EPOCHS = 5
    script.MIN_GAIN = 0.02
    _, _, experiment, evaluation = script.parse_args([])
    assert experiment.training.epochs == 5 and evaluation.min_gain == 0.02


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--dropout", "1"], "--dropout must be below 1"),
        (["--learning-rate", "0"], "--learning-rate must be greater than 0"),
        (["--min-gain", "0"], "--min-gain must be greater than 0"),
        (["--resplits", "1"], "--resplits must be at least 2"),
        (["--baseline-auroc", "1.2"], "--baseline-auroc must be at most 1"),
    ],
)
def test_a_flag_out_of_its_declared_range_is_refused_under_its_own_name(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script("train_multimodal_lstm.py").parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_package_api_applies_the_same_ranges_as_the_flags():
    with pytest.raises(SettingError, match="epochs must be at least 1"):
        TrainingConfig(epochs=0)
    with pytest.raises(SettingError, match="batch_size must be at least 1"):
        PreparationConfig(batch_size=0)


def test_the_training_seeds_are_one_setting_of_the_experiment():
    seed_settings = [
        (config_class.__name__, field.name)
        for config_class in SCRIPT_SETTINGS["train_multimodal_lstm.py"]
        for field in dataclasses.fields(config_class)
        if field.name in ("seed", "seeds")
    ]
    assert seed_settings == [("ExperimentConfig", "seeds")]
    script = load_script("train_multimodal_lstm.py")
    assert script.parse_args(["--seed", "7"])[2].seeds == (7,)
    assert script.parse_args(["--seeds", "7", "8"])[2].seeds == (7, 8)


def test_the_run_record_holds_the_parsed_settings_as_declared():
    _, study, experiment, evaluation = load_script("train_multimodal_lstm.py").parse_args(
        ["--epochs", "3", "--min-gain", "0.02"]
    )
    record = {**as_record(experiment.training), **as_record(experiment)}
    record |= as_record(evaluation) | as_record(study)
    assert record["epochs"] == 3 and record["min_gain"] == 0.02
    assert "progress" not in record
    assert record["bootstrap_resamples"] == default_of(EvaluationSettings, "bootstrap_resamples")
