"""Train the fused model, its baselines and its controls with one routine, on one split.

Every variant sees the same standardised vitals and the same split, and each seed gives every
variant the same initial weights and batch order, so their test predictions can be compared
pairwise, seed by seed. Variants:

- ``multimodal``: vitals + the paired note embeddings (the reference model);
- ``vital_only``: the same vital pathway alone (the in-run baseline);
- ``notes_shuffled``: the fused network with its notes permuted across all samples of each split.
  It has the fused model's architecture, capacity and training but notes that say nothing about
  the sample beside them, so it is the fair comparator for "the notes' content helps": the fused
  network can beat vital-only on noise alone;
- controls (``ablations=True``): ``text_only`` (the text pathway alone);
  ``notes_shuffled_within_class`` (notes permuted among samples of the same label in each split:
  it keeps only class-level information, so if it matches the fused model the notes are standing
  in for the label rather than describing the patient); ``notes_zeroed_at_test`` (the trained
  fused model with every note set to zero at test time: what the fused model gets from vitals).

With ``note_indicator`` the text input of every variant is the note vector followed by the
note-availability columns (:mod:`multimodal_deterioration.learning.note_indicator`). They are
part of the text input, so the notes controls treat them as part of the note: the shuffled
controls permute whole rows of the text input (a note's indicator moves with it), the zeroed
control zeroes them with the note (flag 0, hours 0: what a sample without a note carries), and
the text-only control sees them. Left off, the inputs and the networks are the reference ones.

Training randomness (initialisation, batch order, dropout, the shuffles) moves a test AUROC as
much as the gains at stake, so every variant the verdict reads is trained once per seed
(:data:`SEEDED_VARIANTS`); ``text_only`` only with the main seed. On a CPU the trainings run in
worker processes, one thread each, with the same results as one after another.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..base.progress import line_writer, progress_bar
from ..base.settings import SettingError, check_settings, setting
from ..base.workers import available_cores
from ..contract.multimodal_data import MultimodalData
from .model import ModelConfig, build_model
from .note_indicator import NoteIndicator, indicator_for, split_text_input
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
SHUFFLED_CONTROL = "notes_shuffled"
CONTROL_MODELS = (
    "text_only",
    "notes_shuffled",
    "notes_shuffled_within_class",
    "notes_zeroed_at_test",
)
# Trained once per seed: the variants the verdict and the leak rule read (the zeroed control
# comes free with each fused model). text_only is trained with the main seed only.
SEEDED_VARIANTS = (
    MAIN_MODEL,
    BASELINE_MODEL,
    SHUFFLED_CONTROL,
    "notes_shuffled_within_class",
    "notes_zeroed_at_test",
)
# Five seeds: with S seeds the resampled seed means spread by sqrt((S - 1) / S) of a t
# interval's width, so a gain claimed on noise alone stays under 5% from S = 5 on (t with 4
# degrees of freedom exceeds 1.96 / sqrt(0.8) in 4.7% of runs; with 3 seeds, 7%). The
# calibration benchmark measures it.
DEFAULT_SEEDS = (42, 43, 44, 45, 46)

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
    are standardised, the seeds (the first is the main one), whether the controls run, how
    many worker processes train on a CPU, and whether the text input carries the note
    indicator."""

    training: TrainingConfig = field(default_factory=TrainingConfig)
    dropout: float = setting(
        0.3, "dropout after each hidden layer and between LSTM layers", minimum=0, below=1
    )
    standardize: bool = setting(
        True,
        "feed raw vitals (default: standardise with training-split statistics)",
        flag="--no-standardize",
    )
    seeds: tuple[int, ...] = DEFAULT_SEEDS  # the first is the declared main seed
    ablations: bool = False
    train_workers: int | None = setting(
        None,
        "worker processes that train models in parallel on a CPU, one thread each (default: "
        "one per available core; the results are identical for any number); CUDA trains one "
        "model at a time",
        minimum=1,
        metavar="N",
        kind=int,
    )
    note_indicator: bool = setting(
        False,
        "append to the text input a 0/1 flag 'has an eligible note' and, when every split "
        "records note times, the hours since the most recent note (log-scaled, capped at one "
        "week), so the network need not infer a missing note from an all-zero vector; the "
        "notes controls permute and zero them with the notes (default: off, the reference "
        "architecture)",
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise SettingError("seeds", "must be one or more distinct seeds", self.seeds)

    @property
    def main_seed(self) -> int:
        return self.seeds[0]

    @property
    def variants(self) -> tuple[str, ...]:
        controls = CONTROL_MODELS if self.ablations else (SHUFFLED_CONTROL,)
        return (MAIN_MODEL, BASELINE_MODEL, *controls)

    def seeds_of(self, variant: str) -> tuple[int, ...]:
        """The seeds ``variant`` is trained with: every seed, or the main one only."""
        return self.seeds if variant in SEEDED_VARIANTS else (self.main_seed,)

    def trainings(self, variants: Sequence[str] | None = None) -> list[tuple[str, int]]:
        """Every (variant, seed) that trains a network, seed by seed in variant order; the
        notes-zeroed control reuses the fused model's and trains none."""
        return [
            (variant, seed)
            for seed in self.seeds
            for variant in (variants or self.variants)
            if variant in TRAINED_VARIANTS and seed in self.seeds_of(variant)
        ]


@dataclass
class TrainedModel:
    """One variant after training with one seed: its config, training record (None for a
    variant evaluated without training of its own) and its validation and test probabilities."""

    name: str
    model_config: ModelConfig
    training: TrainingResult | None  # None for a variant evaluated without its own training
    val_prob: np.ndarray
    test_prob: np.ndarray
    seed: int


@dataclass
class Experiment:
    """Every variant of one experiment, for every seed it was trained with."""

    config: ExperimentConfig
    standardizer: VitalStandardizer | None
    runs: dict[int, dict[str, TrainedModel]]  # seed -> variant -> model
    device: str

    @property
    def models(self) -> dict[str, TrainedModel]:
        """The main seed's models, in variant order."""
        return self.runs[self.config.main_seed]

    def by_seed(self, variant: str) -> dict[int, TrainedModel]:
        """``variant`` for each seed it was trained with, in seed order."""
        return {seed: models[variant] for seed, models in self.runs.items() if variant in models}


def permute_text(text: np.ndarray, how: str, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Notes as paired, shuffled across the split, or shuffled among samples of one label.

    Whole rows move, so columns appended to the note vector (the note indicator) stay with it.
    """
    if how == "paired":
        return text
    if how == "shuffled":
        return text[rng.permutation(len(text))]
    order = np.arange(len(text))
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        order[members] = rng.permutation(members)
    return text[order]


@dataclass(frozen=True)
class _Inputs:
    """What every training needs: standardised vitals, text inputs (note vectors, with the note
    indicator when it is on) and labels per split."""

    vitals: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    # vital features, text input width, dropout, the note indicator (None when off)
    model_settings: tuple[int, int, float, NoteIndicator | None]
    zeroed_seeds: tuple[int, ...]  # seeds whose fused model is also scored with notes zeroed


def _train_variant(
    inputs: _Inputs,
    variant: str,
    seed: int,
    training: TrainingConfig,
    device: torch.device,
    log: Callable[[str], None] | None,
    progress: bool,
) -> list[TrainedModel]:
    """Train one variant with one seed; the fused model also yields its notes-zeroed twin.

    Everything random is fixed by ``seed`` and the variant, not by the order of the trainings,
    so any schedule (sequential or in worker processes) gives the same models.
    """
    kind, notes = TRAINED_VARIANTS[variant]
    rng = np.random.default_rng([seed, list(TRAINED_VARIANTS).index(variant)])
    text = {
        name: permute_text(inputs.text[name], notes, inputs.y[name], rng) for name in inputs.text
    }
    n_features, text_dim, dropout, indicator = inputs.model_settings
    model_config = ModelConfig(
        kind, n_features, text_dim, dropout=dropout, note_indicator=indicator
    )
    seed_everything(seed)  # the initial weights depend on the seed, not on run order
    model = build_model(model_config)
    result = train_model(
        model,
        (inputs.vitals["train"], text["train"], inputs.y["train"]),
        (inputs.vitals["val"], text["val"], inputs.y["val"]),
        training,
        device,
        seed=seed,
        description=f"{variant} (seed {seed})",
        log=log,
        progress=progress,
    )
    trained = [
        TrainedModel(
            variant,
            model_config,
            result,
            predict_proba(model, inputs.vitals["val"], text["val"], device),
            predict_proba(model, inputs.vitals["test"], text["test"], device),
            seed,
        )
    ]
    if variant == MAIN_MODEL and seed in inputs.zeroed_seeds:
        # Zeroing the whole text input zeroes the note indicator with the note: flag 0, hours 0.
        trained.append(
            TrainedModel(
                "notes_zeroed_at_test",
                model_config,
                None,
                predict_proba(model, inputs.vitals["val"], np.zeros_like(text["val"]), device),
                predict_proba(model, inputs.vitals["test"], np.zeros_like(text["test"]), device),
                seed,
            )
        )
    return trained


# Set once in each worker process by its initializer.
_worker_inputs: _Inputs | None = None


def _start_worker(inputs: _Inputs) -> None:
    global _worker_inputs
    # One thread per worker: the workers already fill the cores, and threads of several
    # processes contending for two cores made an epoch up to 8x slower.
    torch.set_num_threads(1)
    # Ctrl-C reaches every process of the terminal's group; the main process alone handles it
    # (by terminating the workers), so the user sees one line, not a traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_inputs = inputs


def _train_in_worker(task: tuple[str, int, TrainingConfig]) -> list[TrainedModel]:
    variant, seed, training = task
    return _train_variant(_worker_inputs, variant, seed, training, torch.device("cpu"), None, False)


def run_experiment(
    data: MultimodalData,
    config: ExperimentConfig,
    device: torch.device,
    log: Callable[[str], None] | None = print,
    progress: bool = True,
    variants: Sequence[str] | None = None,
) -> Experiment:
    """Train the fused model, vital-only, the shuffled-notes control and (with
    ``config.ablations``) the other controls, each for the seeds of ``config.seeds_of``.

    Args:
        data: the three splits; the vital standardiser is fitted on ``data.splits["train"]`` only.
        config: what to train (see :class:`ExperimentConfig`).
        device: where to train; CPU runs are bit-reproducible for a seed, whatever the number
            of worker processes.
        log: receives per-epoch lines (one line per finished training when workers train in
            parallel); ``None`` for silence. progress: show progress bars where they can be
            drawn (at a terminal or in a notebook; not into a log file).
        variants: train only these (e.g. the fused and vital-only models for redrawn splits);
            default ``config.variants``.

    Returns:
        An :class:`Experiment` whose every model was trained on the same split and standardised
        vitals, so their test predictions can be compared pairwise, seed by seed.

    Example::

        experiment = run_experiment(data, ExperimentConfig(ablations=True), torch.device("cpu"))
        experiment.models["multimodal"].test_prob  # the main seed's
        experiment.by_seed("multimodal")  # every seed's
    """
    variants = tuple(variants or config.variants)
    train_vitals = data.splits["train"].X_vital
    standardizer = VitalStandardizer.fit(train_vitals) if config.standardize else None
    zeroed = "notes_zeroed_at_test"  # scored with the fused models of its seeds, not trained
    zeroed_seeds = config.seeds_of(zeroed) if zeroed in variants else ()
    indicator = indicator_for(data.splits.values()) if config.note_indicator else None
    inputs = _training_inputs(data, standardizer, config.dropout, zeroed_seeds, indicator)
    # The fused model first in each seed: it usually trains longest, so parallel workers finish
    # together; the order changes no result.
    trained = _train_all(inputs, config.trainings(variants), config, device, log, progress)
    runs = _runs_by_seed(trained, config.seeds, variants)
    return Experiment(config=config, standardizer=standardizer, runs=runs, device=str(device))


def _training_inputs(
    data: MultimodalData,
    standardizer: VitalStandardizer | None,
    dropout: float,
    zeroed_seeds: tuple[int, ...],
    indicator: NoteIndicator | None = None,
) -> _Inputs:
    """Every split's vitals (standardised when ``standardizer`` is given), text inputs (the note
    vectors, followed by ``indicator``'s columns when given) and labels, with the network's
    sizes."""
    splits = data.splits
    text = {name: split_text_input(split, indicator) for name, split in splits.items()}
    return _Inputs(
        vitals={
            name: standardizer.transform(split.X_vital) if standardizer else split.X_vital
            for name, split in splits.items()
        },
        text=text,
        y={name: split.y for name, split in splits.items()},
        model_settings=(
            splits["train"].X_vital.shape[2],
            text["train"].shape[1],
            dropout,
            indicator,
        ),
        zeroed_seeds=zeroed_seeds,
    )


def _train_all(
    inputs: _Inputs,
    jobs: list[tuple[str, int]],
    config: ExperimentConfig,
    device: torch.device,
    log: Callable[[str], None] | None,
    progress: bool,
) -> list[TrainedModel]:
    """Every (variant, seed) of ``jobs``: in worker processes on a CPU with several cores, else
    one after another in this process."""
    workers = _worker_count(config, device, len(jobs))
    if workers > 1:
        return _train_in_parallel(inputs, jobs, config.training, workers, log, progress)
    return [
        model
        for variant, seed in jobs
        for model in _train_variant(inputs, variant, seed, config.training, device, log, progress)
    ]


def _runs_by_seed(
    trained: list[TrainedModel], seeds: tuple[int, ...], variants: tuple[str, ...]
) -> dict[int, dict[str, TrainedModel]]:
    """seed -> variant -> model, in seed and variant order, whatever order they finished in."""
    found = {(model.seed, model.name): model for model in trained}
    return {
        seed: {variant: found[(seed, variant)] for variant in variants if (seed, variant) in found}
        for seed in seeds
    }


def _worker_count(config: ExperimentConfig, device: torch.device, jobs: int) -> int:
    if device.type != "cpu":
        return 1
    wanted = config.train_workers if config.train_workers is not None else available_cores()
    return max(1, min(wanted, jobs))


def _train_in_parallel(
    inputs: _Inputs,
    jobs: list[tuple[str, int]],
    training: TrainingConfig,
    workers: int,
    log: Callable[[str], None] | None,
    progress: bool,
) -> list[TrainedModel]:
    """Each (variant, seed) in a worker process; one summary line per finished training."""
    # fork shares the inputs without copying them; elsewhere (macOS, Windows) fork is unsafe or
    # missing, and spawn pickles the inputs once per worker through the initializer.
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    trained: list[TrainedModel] = []
    # Leaving the pool terminates its workers, so Ctrl-C or a failed training stops every
    # training at once instead of letting the queued ones run to the end.
    with (
        context.Pool(workers, initializer=_start_worker, initargs=(inputs,)) as pool,
        progress_bar(total=len(jobs), enabled=progress, desc="training", unit="model") as bar,
    ):
        tasks = [(variant, seed, training) for variant, seed in jobs]
        emit = line_writer(log)
        for models in pool.imap_unordered(_train_in_worker, tasks):
            trained.extend(models)
            bar.update()
            if emit is not None:
                emit(_finished(models[0], training.epochs))
    return trained


def _finished(model: TrainedModel, epochs: int) -> str:
    """One line for a training that finished in a worker process."""
    record = model.training
    reason = "stopped early" if record.stopped_early else f"ran all {epochs} epochs"
    return (
        f"{model.name} (seed {model.seed}): {reason}; restored epoch {record.best_epoch} "
        f"(val AUROC {record.best_val_auroc:.4f})"
    )
