"""Train the fused model, its baselines and its controls with one routine, on one split.

Every variant sees the same standardised vitals, the same split and the same seed, so their test
predictions can be compared pairwise. Variants:

- ``multimodal``: vitals + the paired note embeddings (the reference model);
- ``vital_only``: the same vital pathway alone (the in-run baseline);
- controls (``ablations=True``): ``text_only`` (the text pathway alone); ``notes_shuffled``
  (notes permuted across all samples of each split: any real text gain should vanish);
  ``notes_shuffled_within_class`` (notes permuted among samples of the same label in each split:
  it keeps only class-level information, so if it matches the fused model the notes are standing
  in for the label rather than describing the patient); ``notes_zeroed_at_test`` (the trained
  fused model with every note set to zero at test time: what the fused model gets from vitals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .model import ModelConfig, build_model
from .multimodal_data import MultimodalData
from .settings import SettingError, check_settings, setting
from .training import (
    TrainingConfig,
    TrainingResult,
    VitalStandardizer,
    predict_proba,
    seed_everything,
    train_model,
)

MAIN_MODEL = "multimodal"
BASELINE_MODEL = "vital_only"
CONTROL_MODELS = (
    "text_only",
    "notes_shuffled",
    "notes_shuffled_within_class",
    "notes_zeroed_at_test",
)

# Which network each trained variant uses, and how its note embeddings are altered.
TRAINED_VARIANTS = {
    "multimodal": ("multimodal", "paired"),
    "vital_only": ("vital_only", "paired"),
    "text_only": ("text_only", "paired"),
    "notes_shuffled": ("multimodal", "shuffled"),
    "notes_shuffled_within_class": ("multimodal", "shuffled_within_class"),
}


@dataclass(frozen=True)
class ExperimentConfig:
    """What one experiment trains: the optimisation settings, the model's dropout, whether vitals
    are standardised, the seeds (the first is the main one) and whether the controls run."""

    training: TrainingConfig = field(default_factory=TrainingConfig)
    dropout: float = setting(
        0.3, "dropout after each hidden layer and between LSTM layers", minimum=0, below=1
    )
    standardize: bool = setting(
        True,
        "feed raw vitals (default: standardise with training-split statistics)",
        flag="--no-standardize",
    )
    seeds: tuple[int, ...] = (TrainingConfig.seed,)  # the first is the declared main seed
    ablations: bool = False

    def __post_init__(self) -> None:
        check_settings(self)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise SettingError("seeds", "must be one or more distinct seeds", self.seeds)

    @property
    def main_seed(self) -> int:
        return self.seeds[0]

    @property
    def variants(self) -> tuple[str, ...]:
        return (MAIN_MODEL, BASELINE_MODEL) + (CONTROL_MODELS if self.ablations else ())


@dataclass
class TrainedModel:
    """One variant after training: its config, training record (None for a variant evaluated
    without training of its own) and its validation and test probabilities."""

    name: str
    model_config: ModelConfig
    training: TrainingResult | None  # None for a variant evaluated without its own training
    val_prob: np.ndarray
    test_prob: np.ndarray


@dataclass
class Experiment:
    """Every variant of one experiment; ``models`` are the main seed's, and
    ``test_prob_by_seed`` holds each seed's test probabilities per variant."""

    config: ExperimentConfig
    standardizer: VitalStandardizer | None
    models: dict[str, TrainedModel]  # the main seed's models
    test_prob_by_seed: dict[int, dict[str, np.ndarray]]
    device: str


def permute_text(text: np.ndarray, how: str, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Notes as paired, shuffled across the split, or shuffled among samples of one label."""
    if how == "paired":
        return text
    if how == "shuffled":
        return text[rng.permutation(len(text))]
    order = np.arange(len(text))
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        order[members] = rng.permutation(members)
    return text[order]


def run_experiment(
    data: MultimodalData,
    config: ExperimentConfig,
    device: torch.device,
    log: Callable[[str], None] | None = print,
    progress: bool = True,
) -> Experiment:
    """Train the fused model, vital-only and (with ``config.ablations``) the controls, per seed.

    Args:
        data: the three splits; the vital standardiser is fitted on ``data.splits["train"]`` only.
        config: what to train (see :class:`ExperimentConfig`).
        device: where to train; CPU runs are bit-reproducible for a seed.
        log: receives per-epoch lines; ``None`` for silence. progress: show tqdm bars.

    Returns:
        An :class:`Experiment` whose every model was trained on the same split and standardised
        vitals, with the same seed, so their test predictions can be compared pairwise.

    Example::

        experiment = run_experiment(data, ExperimentConfig(ablations=True), torch.device("cpu"))
        experiment.models["multimodal"].test_prob
    """
    splits = data.splits
    standardizer = VitalStandardizer.fit(splits["train"].X_vital) if config.standardize else None
    vitals = {
        name: standardizer.transform(split.X_vital) if standardizer else split.X_vital
        for name, split in splits.items()
    }
    n_features = vitals["train"].shape[2]
    text_dim = splits["train"].X_text.shape[1]

    by_seed: dict[int, dict[str, TrainedModel]] = {}
    for seed in config.seeds:
        training = replace(config.training, seed=seed)
        trained: dict[str, TrainedModel] = {}
        for variant in config.variants:
            if variant == "notes_zeroed_at_test":
                continue
            kind, notes = TRAINED_VARIANTS[variant]
            rng = np.random.default_rng([seed, list(TRAINED_VARIANTS).index(variant)])
            text = {
                name: permute_text(split.X_text, notes, split.y, rng)
                for name, split in splits.items()
            }
            model_config = ModelConfig(kind, n_features, text_dim, dropout=config.dropout)
            seed_everything(seed)  # the initial weights depend on the seed, not on run order
            model = build_model(model_config)
            result = train_model(
                model,
                (vitals["train"], text["train"], splits["train"].y),
                (vitals["val"], text["val"], splits["val"].y),
                training,
                device,
                description=f"{variant} (seed {seed})",
                log=log,
                progress=progress,
            )
            trained[variant] = TrainedModel(
                variant,
                model_config,
                result,
                predict_proba(model, vitals["val"], text["val"], device),
                predict_proba(model, vitals["test"], text["test"], device),
            )
            if variant == MAIN_MODEL and "notes_zeroed_at_test" in config.variants:
                trained["notes_zeroed_at_test"] = TrainedModel(
                    "notes_zeroed_at_test",
                    model_config,
                    None,
                    predict_proba(model, vitals["val"], np.zeros_like(text["val"]), device),
                    predict_proba(model, vitals["test"], np.zeros_like(text["test"]), device),
                )
        by_seed[seed] = {name: trained[name] for name in config.variants}

    return Experiment(
        config=config,
        standardizer=standardizer,
        models=by_seed[config.main_seed],
        test_prob_by_seed={
            seed: {name: model.test_prob for name, model in models.items()}
            for seed, models in by_seed.items()
        },
        device=str(device),
    )
