"""Every trained model's predictions, saved so the evaluation can run again without training.

``predictions.parquet`` holds, in long form, one row per (model, seed, split, sample) for the
validation and test splits: ``model``, ``seed``, ``split``, ``row`` (the sample's row in its
split), ``sample_id`` (empty without ids), ``y_true`` and ``probability`` (the network's output,
exactly as evaluated). Its schema metadata (key ``multimodal_deterioration``) records what the
evaluation needs besides: each training's record (epochs, best epoch, validation AUROC), the
model configurations, the training settings, the fingerprint of the data file, and the
redrawn-split summary when one ran. The file is a plain table for a user's own analysis too::

    import pandas as pd
    predictions = pd.read_parquet("predictions.parquet")
    predictions.query("split == 'test' and model == 'multimodal'")
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..base.artifacts import require_readable_file, write_atomically
from ..base.errors import PipelineError, first_line
from ..contract.multimodal_data import MultimodalData
from .experiment import Experiment, ExperimentConfig, TrainedModel
from .model import ModelConfig
from .training import EpochRecord, TrainingConfig, TrainingResult

PREDICTIONS_FILE = "predictions.parquet"
PREDICTIONS_FORMAT = 1
METADATA_KEY = b"multimodal_deterioration"
EVALUATED_SPLITS = ("val", "test")
COLUMNS = ("model", "seed", "split", "row", "sample_id", "y_true", "probability")


@dataclass
class SavedRun:
    """What training hands to the evaluation: the experiment (with every model's validation and
    test probabilities and training record, but no network weights) and the run's record.

    ``record`` keys: ``settings`` (``training``, ``experiment`` and ``study``: the settings
    that decide what was trained, as recorded in ``run.config``), ``data_sha256`` (and
    ``vitals_sha256`` when labels came from a vitals file), ``device``, ``trained_utc``,
    ``training_seconds`` and ``resplits`` (the redrawn-split summary, or None).
    """

    experiment: Experiment
    record: dict


def predictions_frame(experiment: Experiment, data: MultimodalData) -> pd.DataFrame:
    """Every model's validation and test probabilities, one row per (model, seed, split, row)."""
    parts = []
    for seed, models in experiment.runs.items():
        for name, model in models.items():
            for split_name, probability in (("val", model.val_prob), ("test", model.test_prob)):
                split = data.splits[split_name]
                parts.append(
                    pd.DataFrame(
                        {
                            "model": name,
                            "seed": seed,
                            "split": split_name,
                            "row": np.arange(len(split), dtype=np.int64),
                            "sample_id": split.ids if split.ids is not None else None,
                            "y_true": split.y.astype(np.int8),
                            "probability": np.asarray(probability, dtype=np.float64),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def training_records(experiment: Experiment) -> list[dict]:
    """Each (model, seed)'s configuration and training record, in the experiment's order."""
    return [
        {
            "model": name,
            "seed": seed,
            "model_config": model.model_config.to_dict(),
            "training": None
            if model.training is None
            else {
                "best_epoch": model.training.best_epoch,
                "best_val_auroc": model.training.best_val_auroc,
                "stopped_early": model.training.stopped_early,
                "history": [asdict(epoch) for epoch in model.training.history],
            },
        }
        for seed, models in experiment.runs.items()
        for name, model in models.items()
    ]


def save_predictions(
    path: str | os.PathLike, experiment: Experiment, data: MultimodalData, record: dict
) -> Path:
    """Write ``predictions.parquet`` (see the module docstring) atomically."""
    metadata = {
        "format": PREDICTIONS_FORMAT,
        "record": record,
        "models": training_records(experiment),
    }
    table = pa.Table.from_pandas(predictions_frame(experiment, data), preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(metadata).encode()}
    )
    return write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def load_predictions(path: str | os.PathLike) -> SavedRun:
    """Read ``predictions.parquet`` back into an :class:`Experiment` without networks."""
    path = Path(path)
    require_readable_file(
        path,
        "saved predictions",
        "train with train_multimodal_lstm.py first (it writes predictions.parquet beside "
        "multimodal_results.json), then pass that folder to --evaluate-only",
    )
    try:
        table = pq.read_table(path)
        metadata = json.loads((table.schema.metadata or {})[METADATA_KEY])
        frame = table.to_pandas()
    except (OSError, KeyError, ValueError, pa.ArrowException) as error:
        raise PipelineError(
            f"{path} is not a predictions file written by train_multimodal_lstm.py "
            f"({type(error).__name__}: {first_line(error)}); train again to write one"
        ) from error
    if metadata.get("format") != PREDICTIONS_FORMAT or set(COLUMNS) - set(frame.columns):
        raise PipelineError(
            f"{path} was written by an incompatible version (format {metadata.get('format')}, "
            f"this version reads {PREDICTIONS_FORMAT}); train again to write a new one"
        )
    record = metadata["record"]
    config = experiment_config(record["settings"], path)
    runs: dict[int, dict[str, TrainedModel]] = {seed: {} for seed in config.seeds}
    grouped = dict(tuple(frame.groupby(["model", "seed", "split"], sort=False)))
    for entry in metadata["models"]:
        runs[entry["seed"]][entry["model"]] = trained_model(entry, grouped, path)
    experiment = Experiment(config, None, runs, record["device"])
    return SavedRun(experiment, record)


def experiment_config(settings: dict, path: Path) -> ExperimentConfig:
    """The :class:`ExperimentConfig` the saved models were trained with."""
    try:
        training = TrainingConfig(**settings["training"])
        experiment = dict(settings["experiment"], seeds=tuple(settings["experiment"]["seeds"]))
        return ExperimentConfig(training=training, **experiment)
    except (TypeError, KeyError) as error:
        raise PipelineError(
            f"{path} records settings this version does not know ({first_line(error)}); "
            "train again to write a new predictions file"
        ) from error


def trained_model(entry: dict, grouped: dict, path: Path) -> TrainedModel:
    """One saved (model, seed): its probabilities in row order and its training record."""
    name, seed = entry["model"], entry["seed"]
    probabilities = {}
    for split in EVALUATED_SPLITS:
        rows = grouped.get((name, seed, split))
        if rows is None:
            raise PipelineError(
                f"{path} has no {split} predictions for {name} (seed {seed}); the file is "
                "incomplete: train again"
            )
        probabilities[split] = rows.sort_values("row")["probability"].to_numpy(np.float64)
    record = entry["training"]
    training = None
    if record is not None:
        training = TrainingResult(
            best_state_dict={},
            best_epoch=record["best_epoch"],
            best_val_auroc=record["best_val_auroc"],
            history=[EpochRecord(**epoch) for epoch in record["history"]],
            stopped_early=record["stopped_early"],
        )
    config = ModelConfig.from_dict(entry["model_config"])
    return TrainedModel(name, config, training, probabilities["val"], probabilities["test"], seed)


def check_matches_data(saved: SavedRun, fingerprints: dict[str, str], path: Path) -> None:
    """Refuse predictions made on other data: each file's sha256 (``data_sha256``, and
    ``vitals_sha256`` when the labels come from a vitals file) must be the recorded one."""
    for key, value in fingerprints.items():
        recorded = saved.record.get(key)
        if recorded != value:
            what = "labels file (--vitals)" if key.startswith("vitals") else "data file (--data)"
            raise PipelineError(
                f"the {what} is not the one the saved models were trained on (sha256 "
                f"{value[:12]}... here, {str(recorded)[:12]}... recorded in {path}); pass the "
                "file they were trained on, or train again"
            )
