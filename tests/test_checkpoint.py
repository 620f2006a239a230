"""The checkpoint rebuilds the trained model from the file alone, refuses data of another layout
or a file that is not a checkpoint, and predicts calibrated risks with its saved calibrator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.evidence.recalibration import fit_calibrator
from multimodal_deterioration.learning.checkpoint import load_checkpoint, save_checkpoint
from multimodal_deterioration.learning.experiment import ExperimentConfig, run_experiment
from multimodal_deterioration.learning.model import ModelConfig, build_model
from multimodal_deterioration.learning.training import (
    TrainingConfig,
    TrainingResult,
    VitalStandardizer,
)

from helpers import fake_data, tiny_data, with_non_finite

TINY = tiny_data()


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint of an untrained fused model for 2 vital features and 4-d text."""
    config = ModelConfig("multimodal", n_vital_features=2, text_dim=4)
    network = build_model(config)
    result = TrainingResult(network.state_dict(), 1, 0.5, [], False)
    standardizer = VitalStandardizer.fit(TINY["X_vital_train"])
    path = tmp_path / "best_multimodal_model.pt"
    save_checkpoint(path, config, result, standardizer, 0.5, TrainingConfig())
    return path


def test_a_checkpoint_predicts_on_data_of_its_own_layout(checkpoint):
    probabilities = load_checkpoint(checkpoint).predict(TINY["X_vital_test"], TINY["X_text_test"])
    assert probabilities.shape == (6,) and np.isfinite(probabilities).all()


@pytest.mark.parametrize(
    "X_vital, X_text, message",
    [
        (
            TINY["X_vital_test"][:, :, :1],
            TINY["X_text_test"],
            r"expects vitals of shape \(N, T >= 1, 2\), got \(6, 3, 1\)",
        ),
        (
            np.zeros((6, 3, 5)),
            TINY["X_text_test"],
            r"expects vitals of shape \(N, T >= 1, 2\), got \(6, 3, 5\)",
        ),
        (TINY["X_vital_test"][:, :0], TINY["X_text_test"], r"got \(6, 0, 2\)"),
        (
            TINY["X_vital_test"],
            np.zeros((6, 384)),
            r"expects note embeddings of shape \(6, 4\), got \(6, 384\)",
        ),
        (
            TINY["X_vital_test"],
            TINY["X_text_test"][:5],
            r"expects note embeddings of shape \(6, 4\), got \(5, 4\)",
        ),
        (
            with_non_finite(TINY["X_vital_test"], 1, 1),
            TINY["X_text_test"],
            r"2 NaN or infinite values",
        ),
    ],
    ids=[
        "fewer features",
        "more features",
        "no time steps",
        "other text dimension",
        "fewer text rows",
        "non-finite vitals",
    ],
)
def test_a_checkpoint_refuses_data_that_does_not_match_it(checkpoint, X_vital, X_text, message):
    with pytest.raises(PipelineError, match=message):
        load_checkpoint(checkpoint).predict(X_vital, X_text)


@pytest.mark.parametrize(
    "payload",
    [b"not a checkpoint", {"weights": torch.zeros(2)}, {"model_config": {"kind": "multimodal"}}],
    ids=["bytes", "no model config", "incomplete model config"],
)
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, payload):
    path = tmp_path / "model.pt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    with pytest.raises(
        PipelineError, match="is not a checkpoint written by train_multimodal_lstm.py"
    ):
        load_checkpoint(path)


def test_the_checkpoint_predicts_calibrated_probabilities_with_its_saved_calibrator(tmp_path):
    data = fake_data(sizes={"train": 60, "val": 40, "test": 40})
    config = ExperimentConfig(TrainingConfig(epochs=1, batch_size=16), seeds=(3,))
    experiment = run_experiment(data, config, torch.device("cpu"), log=None, progress=False)
    model = experiment.models["multimodal"]
    calibrator = fit_calibrator(data.splits["val"].y, model.val_prob, "isotonic")
    arguments = (model.model_config, model.training, experiment.standardizer, 0.5, config.training)
    test = data.splits["test"]

    loaded = load_checkpoint(save_checkpoint(tmp_path / "a.pt", *arguments, calibrator=calibrator))
    raw = loaded.predict(test.X_vital, test.X_text)
    np.testing.assert_allclose(
        loaded.predict(test.X_vital, test.X_text, calibrated=True), calibrator.transform(raw)
    )
    without = load_checkpoint(save_checkpoint(tmp_path / "b.pt", *arguments))
    with pytest.raises(PipelineError, match="holds no calibrator"):
        without.predict(test.X_vital, test.X_text, calibrated=True)
