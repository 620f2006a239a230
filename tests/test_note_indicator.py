"""The note-availability indicator (``--note-indicator``): the columns it appends to the text
input, how the notes controls treat them, the checkpoint that rebuilds them, and the default
(off) that leaves the reference setup untouched."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.settings import as_record
from multimodal_deterioration.contract.multimodal_data import (
    MultimodalData,
    has_eligible_note,
    save_multimodal_data,
)
from multimodal_deterioration.learning import experiment as experiment_module
from multimodal_deterioration.learning.checkpoint import load_checkpoint, save_checkpoint
from multimodal_deterioration.learning.experiment import ExperimentConfig, run_experiment
from multimodal_deterioration.learning.model import ModelConfig, build_model, describe_architecture
from multimodal_deterioration.learning.note_indicator import (
    HAS_NOTE,
    HOURS_SINCE_NOTE,
    NOTE_HOURS_SCALE,
    NoteIndicator,
    indicator_for,
    split_text_input,
)
from multimodal_deterioration.learning.predictions import load_predictions, save_predictions
from multimodal_deterioration.learning.training import TrainingConfig, predict_proba

from helpers import REPO_ROOT, fake_data, load_module, run_script

QUICK = TrainingConfig(epochs=1, batch_size=16)
CPU = torch.device("cpu")
TEXT_DIM = 8  # fake_data's note vectors


def data_with_notes(hours: bool = True, seed: int = 0) -> MultimodalData:
    """fake_data where about 40% of the samples have no note (zero vector, note_index -1,
    note_count 0, NaN hours) and the others 1-3 notes, the most recent 0-300 hours old."""
    data = fake_data(seed=seed)
    rng = np.random.default_rng(seed + 100)
    splits = {}
    for name, split in data.splits.items():
        n = len(split)
        has = rng.random(n) < 0.6
        has[:2] = [True, False]
        splits[name] = replace(
            split,
            X_text=np.where(has[:, None], split.X_text, 0).astype(np.float32),
            note_index=np.where(has, np.arange(n), -1).astype(np.int64),
            note_count=np.where(has, rng.integers(1, 4, n), 0).astype(np.int64),
            note_hours=np.where(has, rng.uniform(0, 300, n), np.nan) if hours else None,
        )
    return replace(data, splits=splits)


def expected_columns(split, hours: bool) -> np.ndarray:
    """The indicator written out directly: flag, and log1p(min(h, 168)) / log1p(168)."""
    flag = (split.note_count > 0).astype(np.float64)
    if not hours:
        return flag[:, None]
    age = np.where(flag == 1, np.log1p(np.minimum(split.note_hours, 168)) / np.log1p(168), 0)
    return np.stack([flag, age], axis=1)


def quick_experiment(data: MultimodalData, ablations: bool = False, **settings):
    config = ExperimentConfig(QUICK, seeds=(3,), ablations=ablations, train_workers=1, **settings)
    return run_experiment(data, config, CPU, log=None, progress=False)


# ---- the columns ----------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [True, False], ids=["flag and hours", "flag only"])
def test_the_indicator_columns_are_the_flag_and_the_log_scaled_hours(hours):
    data = data_with_notes(hours=hours)
    indicator = indicator_for(data.splits.values())
    assert indicator.columns == ((HAS_NOTE, HOURS_SINCE_NOTE) if hours else (HAS_NOTE,))
    for split in data.splits.values():
        text = split_text_input(split, indicator)
        assert text.dtype == np.float32 and text.shape == (len(split), TEXT_DIM + 1 + hours)
        np.testing.assert_array_equal(text[:, :TEXT_DIM], split.X_text)
        np.testing.assert_allclose(text[:, TEXT_DIM:], expected_columns(split, hours), atol=1e-7)
    assert NOTE_HOURS_SCALE == 168.0


def test_the_hours_column_needs_note_times_in_every_split():
    data = data_with_notes()
    data.splits["val"] = replace(data.splits["val"], note_hours=None)
    assert indicator_for(data.splits.values()).columns == (HAS_NOTE,)


def test_has_a_note_reads_the_count_else_the_note_index_else_a_nonzero_vector():
    split = data_with_notes().splits["train"]
    expected = split.note_count > 0
    np.testing.assert_array_equal(has_eligible_note(split), expected)
    # The count wins: a sample whose notes were all excluded keeps its index here.
    counted = replace(split, note_count=np.zeros(len(split), np.int64))
    assert not has_eligible_note(counted).any()
    np.testing.assert_array_equal(has_eligible_note(replace(split, note_count=None)), expected)
    bare = replace(split, note_count=None, note_index=None)
    np.testing.assert_array_equal(has_eligible_note(bare), expected)


def test_a_sample_with_a_note_but_no_hours_is_refused():
    split = data_with_notes().splits["test"]
    hours = split.note_hours.copy()
    hours[0] = np.nan  # sample 0 has a note
    indicator = NoteIndicator((HAS_NOTE, HOURS_SINCE_NOTE), NOTE_HOURS_SCALE)
    with pytest.raises(PipelineError, match="note_hours is NaN for 1 sample"):
        split_text_input(replace(split, note_hours=hours), indicator)


# ---- the experiment -------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [True, False], ids=["flag and hours", "flag only"])
def test_the_indicator_widens_every_variants_text_input_and_model(hours):
    experiment = quick_experiment(data_with_notes(hours=hours), note_indicator=True)
    width = TEXT_DIM + 1 + hours
    for model in experiment.models.values():
        assert model.model_config.text_dim == width
        assert model.model_config.note_indicator == indicator_for(
            data_with_notes(hours).splits.values()
        )
    fused = build_model(experiment.models["multimodal"].model_config)
    assert fused.text_encoder.projection[0].in_features == width


def recorded_training_text(monkeypatch) -> dict[str, np.ndarray]:
    """Each variant's training text input, as the experiment hands it to train_model."""
    seen = {}
    real_train_model = experiment_module.train_model

    def recording(model, train, val, *args, description, **kwargs):
        seen[description.split(" ")[0]] = np.array(train[1])
        return real_train_model(model, train, val, *args, description=description, **kwargs)

    monkeypatch.setattr(experiment_module, "train_model", recording)
    return seen


def test_the_shuffled_controls_move_each_indicator_row_with_its_note(monkeypatch):
    data = data_with_notes()
    seen = recorded_training_text(monkeypatch)
    quick_experiment(data, ablations=True, note_indicator=True)
    train = data.splits["train"]
    paired = split_text_input(train, indicator_for(data.splits.values()))
    np.testing.assert_array_equal(seen["multimodal"], paired)
    np.testing.assert_array_equal(seen["text_only"], paired)
    for control in ("notes_shuffled", "notes_shuffled_within_class"):
        shuffled = seen[control]
        assert not np.array_equal(shuffled, paired)
        for row in shuffled:
            # Every row of the control is a row of the paired input: note and indicator together.
            matches = np.flatnonzero((paired == row).all(axis=1))
            assert matches.size, f"{control}: a note moved without its indicator"
        # The same multiset of rows: a permutation, not a resampling.
        assert sorted(map(tuple, shuffled)) == sorted(map(tuple, paired))


def test_zeroing_the_notes_at_test_zeroes_the_indicator_too():
    data = data_with_notes()
    experiment = quick_experiment(data, ablations=True, note_indicator=True)
    fused = experiment.models["multimodal"]
    network = build_model(fused.model_config)
    network.load_state_dict(fused.training.best_state_dict)
    test = data.splits["test"]
    vitals = experiment.standardizer.transform(test.X_vital)
    no_note = np.zeros((len(test), TEXT_DIM + 2), np.float32)  # flag 0, hours 0
    zeroed = experiment.models["notes_zeroed_at_test"]
    np.testing.assert_array_equal(zeroed.test_prob, predict_proba(network, vitals, no_note, CPU))
    with_flag = no_note.copy()
    with_flag[:, TEXT_DIM] = 1.0
    assert not np.array_equal(zeroed.test_prob, predict_proba(network, vitals, with_flag, CPU))


# ---- the default --------------------------------------------------------------------------

# Each variant's first test probabilities for data_with_notes() at QUICK, seed 3, with the
# controls, computed by the code before the indicator existed (commit 70b4cf6); the code after
# it gives the same numbers bit for bit on one machine (the tolerance covers other CPUs).
BEFORE_THE_INDICATOR = {
    "multimodal": [0.49128430, 0.49034111, 0.48846064, 0.49182277],
    "vital_only": [0.48834735, 0.48821049, 0.48821311, 0.48818751],
    "text_only": [0.47653812, 0.48584087, 0.47872375, 0.49253128],
    "notes_shuffled": [0.49176346, 0.48945279, 0.49177386, 0.49175100],
    "notes_shuffled_within_class": [0.48997120, 0.49369494, 0.49123998, 0.49122942],
    "notes_zeroed_at_test": [0.49032770, 0.49034111, 0.49038406, 0.49035783],
}


def test_left_off_the_indicator_changes_nothing():
    data = data_with_notes()
    experiment = quick_experiment(data, ablations=True)
    assert ExperimentConfig().note_indicator is False
    assert list(experiment.models) == list(BEFORE_THE_INDICATOR)
    for name, expected in BEFORE_THE_INDICATOR.items():
        model = experiment.models[name]
        assert model.model_config.text_dim == TEXT_DIM and model.model_config.note_indicator is None
        np.testing.assert_allclose(model.test_prob[: len(expected)], expected, rtol=0, atol=1e-6)
    config = experiment.models["multimodal"].model_config
    assert "note_indicator" not in config.to_dict()
    assert "note_indicator" not in describe_architecture(config)


# ---- the checkpoint and the saved predictions ----------------------------------------------


@pytest.fixture(scope="module")
def indicator_run(tmp_path_factory):
    """A fused model trained with the indicator (flag and hours), saved as a checkpoint."""
    data = data_with_notes()
    experiment = quick_experiment(data, note_indicator=True)
    fused = experiment.models["multimodal"]
    path = tmp_path_factory.mktemp("checkpoint") / "best_multimodal_model.pt"
    arguments = (fused.model_config, fused.training, experiment.standardizer, 0.5, QUICK)
    save_checkpoint(path, *arguments)
    return data, experiment, path


def test_a_checkpoint_with_the_indicator_reproduces_the_experiment_given_the_notes(indicator_run):
    data, experiment, path = indicator_run
    test = data.splits["test"]
    model = load_checkpoint(path)
    probabilities = model.predict(
        test.X_vital, test.X_text, note_count=test.note_count, note_hours=test.note_hours
    )
    np.testing.assert_allclose(
        probabilities, experiment.models["multimodal"].test_prob, rtol=0, atol=1e-7
    )
    payload = torch.load(path, weights_only=True)
    recorded = {"columns": [HAS_NOTE, HOURS_SINCE_NOTE], "hours_scale": NOTE_HOURS_SCALE}
    assert payload["note_indicator"] == payload["model_config"]["note_indicator"] == recorded
    assert model.config.text_dim == TEXT_DIM + 2 and model.config.note_dim == TEXT_DIM


@pytest.mark.parametrize(
    "given, missing",
    [
        ({}, "note_count"),
        ({"note_hours": "hours"}, "note_count"),
        ({"note_count": "count"}, "note_hours"),
    ],
    ids=["nothing", "hours only", "count only"],
)
def test_a_checkpoint_with_the_indicator_names_the_note_argument_it_lacks(
    indicator_run, given, missing
):
    data, _, path = indicator_run
    test = data.splits["test"]
    values = {"count": test.note_count, "hours": test.note_hours}
    arguments = {name: values[value] for name, value in given.items()}
    with pytest.raises(PipelineError, match=rf"--note-indicator .*pass {missing}= to predict"):
        load_checkpoint(path).predict(test.X_vital, test.X_text, **arguments)


def checkpoint_of(experiment, path):
    fused = experiment.models["multimodal"]
    save_checkpoint(path, fused.model_config, fused.training, experiment.standardizer, 0.5, QUICK)
    return load_checkpoint(path), fused.test_prob


def test_a_flag_only_checkpoint_needs_the_count_but_not_the_hours(tmp_path):
    data = data_with_notes(hours=False)
    model, expected = checkpoint_of(quick_experiment(data, note_indicator=True), tmp_path / "f.pt")
    test = data.splits["test"]
    given = model.predict(test.X_vital, test.X_text, note_count=test.note_count)
    np.testing.assert_allclose(given, expected, rtol=0, atol=1e-7)
    with pytest.raises(PipelineError, match="pass note_count="):
        model.predict(test.X_vital, test.X_text)


def test_a_checkpoint_without_the_indicator_needs_no_note_information(tmp_path):
    data = data_with_notes()
    model, expected = checkpoint_of(quick_experiment(data), tmp_path / "plain.pt")
    test = data.splits["test"]
    plain = model.predict(test.X_vital, test.X_text)
    np.testing.assert_allclose(plain, expected, rtol=0, atol=1e-7)
    given = model.predict(
        test.X_vital, test.X_text, note_count=test.note_count, note_hours=test.note_hours
    )
    np.testing.assert_array_equal(given, plain)
    assert "note_indicator" not in torch.load(tmp_path / "plain.pt", weights_only=True)


def test_the_saved_predictions_keep_the_setting_and_the_model_configs(indicator_run, tmp_path):
    data, experiment, _ = indicator_run
    config = experiment.config
    settings = {"training": as_record(config.training), "experiment": as_record(config)}
    record = {"settings": json.loads(json.dumps(settings)), "device": "cpu"}
    loaded = load_predictions(save_predictions(tmp_path / "p.parquet", experiment, data, record))
    assert loaded.experiment.config == config and loaded.experiment.config.note_indicator
    for name, model in experiment.models.items():
        assert loaded.experiment.models[name].model_config == model.model_config


def test_model_configs_with_the_indicator_round_trip_through_json():
    indicator = NoteIndicator((HAS_NOTE, HOURS_SINCE_NOTE), NOTE_HOURS_SCALE)
    config = ModelConfig("text_only", 6, 386, note_indicator=indicator)
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(PipelineError, match="no room for the note vector"):
        ModelConfig("multimodal", 6, 2, note_indicator=indicator)
    with pytest.raises(PipelineError, match="unknown note indicator columns"):
        NoteIndicator.from_dict({"columns": ["hours_since_note"], "hours_scale": 168.0})


# ---- the script ---------------------------------------------------------------------------


def test_evaluate_only_refuses_the_indicator(capsys):
    script = load_module(REPO_ROOT / "train_multimodal_lstm.py")
    assert script.NOTE_INDICATOR is False
    assert script.parse_args(["--note-indicator"])[2].note_indicator is True
    with pytest.raises(SystemExit) as exit_info:
        script.parse_args(["--evaluate-only", "run", "--note-indicator"])
    assert exit_info.value.code == 2
    assert "--note-indicator: changes what is trained" in capsys.readouterr().err


@pytest.mark.slow
def test_the_script_trains_with_the_indicator_and_records_it(tmp_path):
    data = data_with_notes()
    data_file = save_multimodal_data(tmp_path / "multimodal_data.npz", data)
    result = run_script(
        "train_multimodal_lstm.py",
        *("--data", str(data_file), "--out-dir", str(tmp_path), "--quiet"),
        *("--epochs", "1", "--seeds", "42", "--bootstrap", "50", "--ablations", "off"),
        "--note-indicator",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "multimodal_results.json").read_text())
    assert results["run"]["config"]["note_indicator"] is True
    assert results["architecture"]["multimodal"]["text_dim"] == TEXT_DIM + 2
    report = (tmp_path / "multimodal_report.md").read_text()
    assert "a 0/1 flag for whether the sample had an eligible note and the hours" in report
    checkpoint = tmp_path / "best_multimodal_model.pt"
    payload = torch.load(checkpoint, weights_only=True)
    assert payload["note_indicator"]["columns"] == [HAS_NOTE, HOURS_SINCE_NOTE]
    test = data.splits["test"]
    probabilities = load_checkpoint(checkpoint).predict(
        test.X_vital, test.X_text, note_count=test.note_count, note_hours=test.note_hours
    )
    written = pd.read_csv(tmp_path / "test_predictions.csv")["p_multimodal"]
    np.testing.assert_allclose(probabilities, written, atol=1e-6)
