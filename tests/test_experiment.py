"""Seeds and variants of one experiment; parallel training gives the sequential results."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from multimodal_deterioration.base.cli import INTERRUPTED_EXIT_STATUS
from multimodal_deterioration.contract.multimodal_data import save_multimodal_data
from multimodal_deterioration.learning import experiment as experiment_module
from multimodal_deterioration.learning.experiment import (
    DEFAULT_SEEDS,
    SEEDED_VARIANTS,
    ExperimentConfig,
    run_experiment,
)
from multimodal_deterioration.learning.training import TrainingConfig

from helpers import REPO_ROOT, fake_data


def small_config(workers: int, ablations: bool = True) -> ExperimentConfig:
    return ExperimentConfig(
        training=TrainingConfig(epochs=2, batch_size=16),
        seeds=(3, 4),
        ablations=ablations,
        train_workers=workers,
    )


def small_experiment(workers: int, ablations: bool = True, log=None):
    config = small_config(workers, ablations)
    return run_experiment(fake_data(), config, torch.device("cpu"), log=log, progress=False)


def test_training_in_worker_processes_gives_the_sequential_results_exactly():
    sequential, parallel = small_experiment(1), small_experiment(2)
    assert list(sequential.runs) == list(parallel.runs) == [3, 4]
    for seed, models in sequential.runs.items():
        assert list(models) == list(parallel.runs[seed])
        for name, model in models.items():
            twin = parallel.runs[seed][name]
            np.testing.assert_array_equal(model.val_prob, twin.val_prob)
            np.testing.assert_array_equal(model.test_prob, twin.test_prob)
            if model.training is not None:
                assert model.training.history == twin.training.history
                for key, tensor in model.training.best_state_dict.items():
                    assert torch.equal(tensor, twin.training.best_state_dict[key])


def test_the_verdicts_variants_train_with_every_seed_and_text_only_with_the_main_one():
    experiment = small_experiment(1)
    for name in SEEDED_VARIANTS:
        assert list(experiment.by_seed(name)) == [3, 4]
    assert list(experiment.by_seed("text_only")) == [3]
    assert experiment.models is experiment.runs[3]


def test_each_training_is_given_its_seed_by_the_experiment(monkeypatch):
    given = []
    real_train_model = experiment_module.train_model

    def recording(*args, seed, **kwargs):
        given.append(seed)
        return real_train_model(*args, seed=seed, **kwargs)

    monkeypatch.setattr(experiment_module, "train_model", recording)
    small_experiment(1, ablations=False)
    assert given == [seed for _, seed in small_config(1, ablations=False).trainings()]
    assert ExperimentConfig().seeds == DEFAULT_SEEDS == (42, 43, 44, 45, 46)


def test_trainings_log_one_line_per_epoch_or_one_per_training_in_workers():
    trainings = len(small_config(1, ablations=False).trainings())
    lines: list[str] = []
    small_experiment(1, ablations=False, log=lines.append)
    assert sum(" epoch   " in line for line in lines) == trainings * 2  # "epoch   1/2"
    assert sum("restored epoch" in line for line in lines) == trainings
    lines.clear()
    small_experiment(2, ablations=False, log=lines.append)
    assert len(lines) == trainings and all("restored epoch" in line for line in lines)


def test_the_shuffled_notes_network_is_trained_even_without_the_other_controls():
    experiment = small_experiment(1, ablations=False)
    assert list(experiment.models) == ["multimodal", "vital_only", "notes_shuffled"]


def test_a_seed_gives_the_fused_and_shuffled_networks_the_same_start_and_differs_between_seeds():
    experiment = small_experiment(1, ablations=False)
    fused, shuffled = experiment.runs[3]["multimodal"], experiment.runs[3]["notes_shuffled"]
    assert fused.model_config == shuffled.model_config
    assert not np.array_equal(
        experiment.runs[3]["vital_only"].test_prob, experiment.runs[4]["vital_only"].test_prob
    )


def test_where_fork_is_not_used_spawned_workers_give_the_same_results(monkeypatch):
    """macOS and Windows start workers by spawn, which pickles the inputs to each worker."""
    forked = small_experiment(2, ablations=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    spawned = small_experiment(2, ablations=False)
    for seed, models in forked.runs.items():
        for name, model in models.items():
            np.testing.assert_array_equal(model.test_prob, spawned.runs[seed][name].test_prob)


@pytest.mark.slow
def test_ctrl_c_during_parallel_training_stops_every_worker_at_once(tmp_path):
    """Ctrl-C reaches the whole process group: the run ends with status 130 and one line, within
    seconds (queued trainings are not run), and no worker process is left behind."""
    data_file = save_multimodal_data(tmp_path / "data.npz", fake_data())
    command = [sys.executable, str(REPO_ROOT / "train_multimodal_lstm.py"), "--data"]
    command += [str(data_file), "--out-dir", str(tmp_path), "--epochs", "300", "--patience", "300"]
    log = tmp_path / "stdout"
    with open(log, "w") as stdout:
        process = subprocess.Popen(
            [*command, "--train-workers", "2"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while "== Training" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(1.0)
            os.killpg(process.pid, signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == INTERRUPTED_EXIT_STATUS
    assert "Traceback" not in stderr and "interrupted:" in stderr
    assert not (tmp_path / "multimodal_results.json").exists()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no process of the run is left
