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


def make_scores(n: int, seed: int, prevalence: float = 0.3, decimals: int | None = None):
    """Labels and two correlated probability vectors; rounding creates many ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:2] = [0, 1]
    signal = rng.normal(size=n)
    logit_a = 1.2 * y + signal + rng.normal(scale=0.8, size=n)
    logit_b = 0.7 * y + signal + rng.normal(scale=0.8, size=n)
    prob_a = 1.0 / (1.0 + np.exp(-logit_a))
    prob_b = 1.0 / (1.0 + np.exp(-logit_b))
    if decimals is not None:
        prob_a, prob_b = np.round(prob_a, decimals), np.round(prob_b, decimals)
    return y, prob_a, prob_b


def naive_delong(y, prob_a, prob_b):
    """DeLong et al. (1988) written from the paper with explicit pair loops.

    psi(X, Y) = 1 if X > Y, 1/2 if X = Y, 0 otherwise (X a positive's score, Y a negative's).
    V10(X_i) = mean_j psi(X_i, Y_j); V01(Y_j) = mean_i psi(X_i, Y_j).
    S10, S01 = sample covariance matrices (m-1, n-1 denominators); S = S10/m + S01/n.
    z = (theta_a - theta_b) / sqrt(L S L'), L = (1, -1).
    """
    from scipy.stats import norm

    def psi(x, t):
        return 1.0 if x > t else 0.5 if x == t else 0.0

    components = []
    for prob in (prob_a, prob_b):
        positives = [p for p, label in zip(prob, y) if label == 1]
        negatives = [p for p, label in zip(prob, y) if label == 0]
        v10 = [sum(psi(x, t) for t in negatives) / len(negatives) for x in positives]
        v01 = [sum(psi(x, t) for x in positives) / len(positives) for t in negatives]
        components.append((np.array(v10), np.array(v01)))
    (a10, a01), (b10, b01) = components
    m, n = len(a10), len(a01)
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    s = s10 / m + s01 / n
    theta_a, theta_b = a10.mean(), b10.mean()
    variance_a = s[0, 0]
    variance_difference = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (theta_a - theta_b) / np.sqrt(variance_difference)
    return theta_a, theta_b, variance_a, variance_difference, z, 2 * norm.sf(abs(z))
