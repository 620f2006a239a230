"""Builders shared by several test modules (imported, never collected: no test_ prefix)."""

from __future__ import annotations

import numpy as np

from multimodal_deterioration.experiment import (
    BASELINE_MODEL,
    CONTROL_MODELS,
    MAIN_MODEL,
    TRAINED_VARIANTS,
    Experiment,
    ExperimentConfig,
    TrainedModel,
)
from multimodal_deterioration.model import ModelConfig
from multimodal_deterioration.multimodal_data import MultimodalData, MultimodalSplit

SPLIT_SIZES = {"train": 120, "val": 80, "test": 100}


def fake_data(
    sizes: dict[str, int] = SPLIT_SIZES,
    seed: int = 0,
    ids: bool = False,
    meta: dict | None = None,
    timesteps: int = 4,
    features: int = 3,
    text_dim: int = 8,
) -> MultimodalData:
    """Random multimodal data with about 30% positives per split (at least two of each class)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in sizes.items():
        y = (rng.random(n) < 0.3).astype(np.int64)
        y[:2], y[2:4] = 1, 0
        splits[name] = MultimodalSplit(
            X_vital=rng.normal(size=(n, timesteps, features)).astype(np.float32),
            X_text=rng.normal(size=(n, text_dim)).astype(np.float32),
            y=y,
            note_index=np.arange(n, dtype=np.int64),
            ids=np.array([f"{name}-{i // 2}" for i in range(n)]) if ids else None,
        )
    return MultimodalData(splits=splits, meta=dict(meta or {}))


def fake_experiment(
    data: MultimodalData,
    val_prob: dict[str, np.ndarray],
    test_prob: dict[str, np.ndarray],
    ablations: bool = False,
) -> Experiment:
    """An experiment whose models "predicted" the given probabilities, without any training.

    Lets the results be built from chosen predictions, so a test can make the validation and
    test splits disagree on purpose (e.g. about the best threshold).
    """
    config = ExperimentConfig(ablations=ablations)
    features = data.splits["train"].X_vital.shape[2]
    text_dim = data.splits["train"].X_text.shape[1]
    models = {}
    for name in config.variants:
        kind = TRAINED_VARIANTS.get(name, ("multimodal",))[0]
        models[name] = TrainedModel(
            name, ModelConfig(kind, features, text_dim), None, val_prob[name], test_prob[name]
        )
    return Experiment(
        config=config,
        standardizer=None,
        models=models,
        test_prob_by_seed={config.main_seed: dict(test_prob)},
        device="cpu",
    )


def informative_probabilities(
    y: np.ndarray, strength: float, seed: int
) -> np.ndarray:
    """Probabilities that rank positives higher by ``strength`` standard deviations."""
    rng = np.random.default_rng(seed)
    logits = strength * (y - 0.5) + rng.normal(size=y.size)
    return 1.0 / (1.0 + np.exp(-logits))


def fake_predictions(data: MultimodalData, split: str, ablations: bool, seed: int = 0):
    """Every variant's probabilities on one split; the fused model is the most informative."""
    y = data.splits[split].y
    names = (MAIN_MODEL, BASELINE_MODEL) + (CONTROL_MODELS if ablations else ())
    strengths = {MAIN_MODEL: 3.0, BASELINE_MODEL: 1.5}
    return {
        name: informative_probabilities(y, strengths.get(name, 1.0), seed + index)
        for index, name in enumerate(names)
    }
