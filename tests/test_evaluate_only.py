"""Evaluation as its own step: training saves every model's predictions, and
``train_multimodal_lstm.py --evaluate-only DIR`` rebuilds every output from them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from multimodal_deterioration.contract.multimodal_data import save_multimodal_data
from multimodal_deterioration.evidence.verdict import gain_verdict
from multimodal_deterioration.learning.checkpoint import load_checkpoint
from multimodal_deterioration.learning.predictions import (
    PREDICTIONS_FILE,
    load_predictions,
    predictions_frame,
    save_predictions,
)

from helpers import fake_data, fake_experiment, fake_predictions, run_script

TRAINING = ("--epochs", "2", "--seeds", "42", "43", "--ablations", "on", "--bootstrap", "100")
# What may differ between a run and an evaluation of its saved predictions: when each was
# made, how long it took, and the paths of the files each wrote.
VOLATILE = {("run", "created_utc"), ("run", "seconds"), ("files",)}


def succeed(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def without_volatile(results: dict) -> dict:
    kept = {key: value for key, value in results.items() if (key,) not in VOLATILE}
    kept["run"] = {
        key: value for key, value in results["run"].items() if ("run", key) not in VOLATILE
    }
    return kept


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "multimodal_data.npz"
    save_multimodal_data(path, fake_data(ids=True, meta={"pairing": {"method": "id"}}))
    return path


@pytest.fixture(scope="module")
def run_dir(data_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--data",
            str(data_file),
            "--out-dir",
            str(out),
            *TRAINING,
            "--quiet",
        )
    )
    return out


def evaluate(run_dir, out_dir, *flags):
    return run_script(
        "train_multimodal_lstm.py",
        "--evaluate-only",
        str(run_dir),
        "--out-dir",
        str(out_dir),
        "--bootstrap",
        "100",
        "--quiet",
        *flags,
    )


def read_results(folder) -> dict:
    return json.loads((folder / "multimodal_results.json").read_text())


def test_training_saves_validation_and_test_predictions_of_every_model_and_seed(run_dir):
    saved = pd.read_parquet(run_dir / PREDICTIONS_FILE)
    results = read_results(run_dir)
    trained = results["seeds"]["trained_seeds"]
    expected = {
        (model, seed, split)
        for model, seeds in trained.items()
        for seed in seeds
        for split in ("val", "test")
    }
    assert set(saved.groupby(["model", "seed", "split"]).groups) == expected
    test = saved.query("model == 'multimodal' and seed == 42 and split == 'test'")
    exported = pd.read_csv(run_dir / "test_predictions.csv")
    np.testing.assert_array_equal(test["probability"], exported["p_multimodal"])
    np.testing.assert_array_equal(test["y_true"], exported["y_true"])
    assert (test["sample_id"].to_numpy() == exported["sample_id"].astype(str).to_numpy()).all()


def test_evaluating_the_saved_predictions_reproduces_the_full_run(run_dir, tmp_path):
    result = succeed(evaluate(run_dir, tmp_path))
    assert "Training" not in result.stdout
    assert without_volatile(read_results(tmp_path)) == without_volatile(read_results(run_dir))
    for name in ("multimodal_report.md", "multimodal_results_table.csv", "test_predictions.csv"):
        assert (tmp_path / name).read_text() == (run_dir / name).read_text(), name


def test_evaluation_settings_change_the_evaluation_not_the_predictions(run_dir, tmp_path):
    succeed(evaluate(run_dir, tmp_path, "--min-gain", "0.4", "--recalibration", "isotonic"))
    before, after = read_results(run_dir), read_results(tmp_path)
    assert after["added_value"]["min_gain_auroc"] == 0.4
    assert after["added_value"]["gain_auroc_ci"] == before["added_value"]["gain_auroc_ci"]
    expected = gain_verdict(before["added_value"]["gain_auroc_ci"], 0.4)
    assert after["added_value"]["verdict"] == expected["verdict"] != "meaningful_gain"
    assert after["metrics"]["multimodal"]["recalibrated"]["method"] == "isotonic"
    assert after["seeds"]["test_auroc"] == before["seeds"]["test_auroc"]
    assert after["run"]["trained_utc"] == before["run"]["trained_utc"]
    assert after["run"]["config"]["recalibration"] == "isotonic"
    original = load_checkpoint(run_dir / "best_multimodal_model.pt")
    rewritten = load_checkpoint(tmp_path / "best_multimodal_model.pt")
    assert rewritten.calibrator.method == "isotonic" != original.calibrator.method
    X_vital, X_text = np.ones((3, 4, 3), np.float32), np.ones((3, 8), np.float32)
    np.testing.assert_array_equal(
        rewritten.predict(X_vital, X_text), original.predict(X_vital, X_text)
    )


def test_without_out_dir_the_run_folder_is_rewritten_in_place(run_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in run_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--evaluate-only",
            str(copy),
            "--bootstrap",
            "100",
            "--min-gain",
            "0.3",
            "--quiet",
        )
    )
    assert read_results(copy)["added_value"]["min_gain_auroc"] == 0.3
    assert (copy / PREDICTIONS_FILE).read_bytes() == (run_dir / PREDICTIONS_FILE).read_bytes()


@pytest.mark.parametrize("flag", [("--epochs", "3"), ("--seeds", "1", "2"), ("--ablations", "off")])
def test_a_setting_that_needs_retraining_is_refused(run_dir, tmp_path, flag):
    result = evaluate(run_dir, tmp_path, *flag)
    assert result.returncode == 2
    assert flag[0] in result.stderr and "trains nothing" in result.stderr
    assert not (tmp_path / "multimodal_results.json").exists()


def test_predictions_from_another_data_file_are_refused(run_dir, tmp_path):
    other = tmp_path / "other.npz"
    save_multimodal_data(other, fake_data(seed=1, ids=True))
    result = evaluate(run_dir, tmp_path / "out", "--data", str(other))
    assert result.returncode == 2
    assert "not the one the saved models were trained on" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_folder_without_saved_predictions_gets_one_line(tmp_path):
    result = evaluate(tmp_path, tmp_path / "out")
    assert result.returncode == 2
    assert PREDICTIONS_FILE in result.stderr and result.stderr.count("\n") == 1


def test_saved_predictions_read_back_exactly(tmp_path):
    data = fake_data(ids=True)
    val, test = fake_predictions(data, "val", True), fake_predictions(data, "test", True)
    experiment = fake_experiment(data, val, test, ablations=True, seeds=(42, 43))
    settings = {"training": {}, "experiment": {"seeds": [42, 43], "ablations": True}}
    record = {"settings": settings, "device": "cpu"}
    path = save_predictions(tmp_path / PREDICTIONS_FILE, experiment, data, record)
    loaded = load_predictions(path)
    assert list(loaded.experiment.runs) == [42, 43]
    for seed, models in experiment.runs.items():
        assert list(loaded.experiment.runs[seed]) == list(models)
        for name, model in models.items():
            back = loaded.experiment.runs[seed][name]
            np.testing.assert_array_equal(back.val_prob, model.val_prob)
            np.testing.assert_array_equal(back.test_prob, model.test_prob)
            assert back.model_config == model.model_config
    frame = predictions_frame(experiment, data)
    assert len(frame) == sum(
        len(data.splits[s])
        for models in experiment.runs.values()
        for _ in models
        for s in ("val", "test")
    )
