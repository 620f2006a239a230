"""One run of the study: train every variant, save their predictions, evaluate, write every output.

``train_multimodal_lstm.py`` parses the settings and calls :func:`run_study` (or, with
``--evaluate-only DIR``, :func:`evaluate_saved_run`), then prints the summary. The order is the
data flow: data file -> experiment (every model variant and control, every seed) -> saved
predictions (``predictions.parquet``) -> results (metrics, intervals, tests, recalibration,
decision curve) -> checkpoint, figures, tables, ``multimodal_results.json`` and the report.
Evaluation reads only what training saved, so it can run again from the saved predictions with
other evaluation settings, without training.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch

from ..base import artifacts
from ..base.cli import StageLog
from ..base.settings import as_record, check_settings, setting
from ..contract.multimodal_data import MultimodalData, load_multimodal_data
from ..learning.checkpoint import recalibrated_checkpoint, save_checkpoint
from ..learning.experiment import MAIN_MODEL, Experiment, ExperimentConfig, run_experiment
from ..learning.predictions import (
    PREDICTIONS_FILE,
    SavedRun,
    check_matches_data,
    load_predictions,
    save_predictions,
)
from . import plots, report
from .resplits import run_resplits
from .results import EvaluationSettings, build_results, predictions_table, recalibrate_models
from .tables import write_results_tables

OUTPUT_FILES = {
    "checkpoint": "best_multimodal_model.pt",
    "results": "multimodal_results.json",
    "predictions": "test_predictions.csv",
    "saved_predictions": PREDICTIONS_FILE,
    "report": "multimodal_report.md",
}
ABLATION_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class StudyConfig:
    """What the training script reads and which extra analyses it runs."""

    data_file: str = setting("multimodal_data.npz", "multimodal data file", flag="--data")
    vitals_file: str | None = setting(
        None,
        "processed_data.npz holding y_* for a data file in the reference layout "
        "(X_vital_*/X_text_* without labels)",
        flag="--vitals",
        metavar="FILE",
    )
    ablations_setting: str = setting(
        "auto",
        "the negative controls besides the shuffled-notes network (which always trains): "
        "within-class shuffle (and the leak test), notes zeroed at test, text-only; auto = on "
        "when training samples x seeds <= --ablations-auto-limit",
        flag="--ablations",
        choices=ABLATION_SETTINGS,
    )
    # "auto" runs the controls while training samples x seeds stays at or under this, where they
    # cost minutes on a laptop rather than hours.
    ablations_auto_limit: int = setting(
        20_000,
        "the training samples x seeds up to which --ablations auto runs the controls",
        minimum=1,
    )
    resplits: int | None = setting(
        None,
        "also pool train+val+test, redraw K stratified splits grouped by id with the original "
        "proportions, retrain the multimodal and vital-only models on each and report the "
        "spread, apart from the fixed-split result (default: off; K >= 2)",
        minimum=2,
        metavar="K",
        kind=int,
    )

    def __post_init__(self) -> None:
        check_settings(self)

    def runs_controls(self, n_train: int, n_seeds: int) -> bool:
        return self.ablations_setting == "on" or (
            self.ablations_setting == "auto" and n_train * n_seeds <= self.ablations_auto_limit
        )


# The study settings that describe the files read, not what was trained: an evaluation of
# saved predictions may find the same files under other paths.
FILE_SETTINGS = ("data_file", "vitals_file")


@dataclass
class StudyOutcome:
    """The results dict as written, the data it was computed on, and every file written."""

    results: dict
    data: MultimodalData
    written: list[Path]


def run_study(
    study: StudyConfig,
    experiment_config: ExperimentConfig,
    evaluation: EvaluationSettings,
    out_dir: Path,
    device: torch.device,
    log: StageLog,
) -> StudyOutcome:
    """Train, save the predictions, evaluate and write every output of one run.

    ``experiment_config.ablations`` is decided here from ``study`` and the training-split size.
    """
    started = time.perf_counter()
    data = load_data(study, log, f"; device {device}")
    n_train, n_seeds = len(data.splits["train"]), len(experiment_config.seeds)
    config = dataclasses.replace(experiment_config, ablations=study.runs_controls(n_train, n_seeds))
    experiment = train(data, config, device, log)
    resplits = None
    if study.resplits is not None:
        with log.stage(f"Repeated splits: {study.resplits} redraws x 2 models"):
            quiet = not log.enabled
            resplits = run_resplits(
                data,
                config,
                study.resplits,
                device,
                seed=config.main_seed,
                log=None if quiet else print,
                progress=not quiet,
            )
    record = {
        "settings": {
            "training": as_record(config.training),
            "experiment": as_record(config),
            "study": as_record(study),
        },
        **fingerprints(study),
        "device": str(device),
        "trained_utc": utc_now(),
        "training_seconds": round(time.perf_counter() - started, 1),
        "resplits": resplits,
    }
    save_predictions(out_dir / PREDICTIONS_FILE, experiment, data, record)
    return evaluate_and_write(SavedRun(experiment, record), data, evaluation, study, out_dir, log)


def evaluate_saved_run(
    run_dir: Path,
    files: dict[str, str | None],
    evaluation: EvaluationSettings,
    out_dir: Path,
    log: StageLog,
) -> StudyOutcome:
    """Rebuild every output of a run from its saved predictions, without training.

    ``files`` may name the data file (``data_file``) and labels file (``vitals_file``) where
    they are now; by default the paths the run recorded. They must be the files the models were
    trained on (checked by sha256); every training setting comes from the saved run. The
    checkpoint in ``run_dir`` is copied to ``out_dir`` with the calibrator refitted under
    ``evaluation.recalibration``.
    """
    saved = load_predictions(run_dir / PREDICTIONS_FILE)
    study = dataclasses.replace(StudyConfig(**saved.record["settings"]["study"]), **files)
    data = load_data(study, log, f"; predictions saved in {run_dir}, no training")
    check_matches_data(saved, fingerprints(study), run_dir / PREDICTIONS_FILE)
    return evaluate_and_write(saved, data, evaluation, study, out_dir, log, checkpoint_from=run_dir)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def fingerprints(study: StudyConfig) -> dict[str, str]:
    """The sha256 of the data file and, when labels come from one, of the vitals file."""
    found = {"data_sha256": artifacts.sha256_of_file(study.data_file)}
    if study.vitals_file is not None:
        found["vitals_sha256"] = artifacts.sha256_of_file(study.vitals_file)
    return found


def load_data(study: StudyConfig, log: StageLog, detail: str) -> MultimodalData:
    with log.stage("Data: loading and checking"):
        data = load_multimodal_data(study.data_file, study.vitals_file)
        data.require_both_classes()
        log.say(
            f"{study.data_file}: "
            + ", ".join(f"{name} {len(split)}" for name, split in data.splits.items())
            + detail
        )
        if data.meta.get("demo"):
            log.say("SYNTHETIC DEMO DATA - the numbers below are not clinical evidence.")
    return data


def train(
    data: MultimodalData, config: ExperimentConfig, device: torch.device, log: StageLog
) -> Experiment:
    title = (
        f"Training {len(config.trainings())} models ({len(config.variants)} variants, "
        f"{len(config.seeds)} seed(s))"
    )
    quiet = not log.enabled
    with log.stage(title):
        return run_experiment(
            data, config, device, log=None if quiet else print, progress=not quiet
        )


def evaluate_and_write(
    saved: SavedRun,
    data: MultimodalData,
    evaluation: EvaluationSettings,
    study: StudyConfig,
    out_dir: Path,
    log: StageLog,
    checkpoint_from: Path | None = None,
) -> StudyOutcome:
    """Evaluate the saved run on ``data`` and write every output (see :func:`write_outputs`)."""
    started = time.perf_counter()
    experiment = saved.experiment
    with log.stage("Evaluating on the test split"):
        recalibrations = recalibrate_models(experiment, data, evaluation.recalibration)
        results = build_results(experiment, data, evaluation, recalibrations)
        results["run"] = run_record(saved.record, study, evaluation)
        results["meta"] = data.meta
        if saved.record["resplits"] is not None:
            results["resplits"] = saved.record["resplits"]
    with log.stage("Writing outputs"):
        written = write_outputs(
            results, saved, data, recalibrations, out_dir, checkpoint_from, log, started
        )
    return StudyOutcome(results, data, written)


def write_outputs(
    results: dict,
    saved: SavedRun,
    data: MultimodalData,
    recalibrations: dict,
    out_dir: Path,
    checkpoint_from: Path | None,
    log: StageLog,
    started: float,
) -> list[Path]:
    """The checkpoint (saved from the trained networks, or copied from ``checkpoint_from`` with
    this evaluation's calibrator), the test predictions, figures, tables, results and report."""
    experiment = saved.experiment
    paths = {key: out_dir / name for key, name in OUTPUT_FILES.items()}
    fitted = recalibrations[MAIN_MODEL]
    calibrator = None if isinstance(fitted, str) else fitted.calibrator
    if checkpoint_from is None:
        write_checkpoint(paths["checkpoint"], experiment, results, data, calibrator)
    else:
        copy_saved_run(checkpoint_from, paths, calibrator, log)
    predictions = predictions_table(experiment, data)
    artifacts.write_atomically(
        paths["predictions"], lambda tmp: predictions.to_csv(tmp, index=False)
    )
    figures = draw_figures(results, experiment, data, recalibrations, out_dir)
    tables = write_results_tables(results, out_dir)
    results["files"] = {key: str(path) for key, path in paths.items()} | {
        "tables": [str(path) for path in tables],
        "figures": {key: [str(path) for path in drawn] for key, drawn in figures.items()},
    }
    results["run"]["seconds"] = {
        "training": saved.record["training_seconds"],
        "evaluation": round(time.perf_counter() - started, 1),
    }
    artifacts.save_json(paths["results"], results)
    report.write_report(paths["report"], results, figures)
    return [*paths.values(), *tables, *(path for drawn in figures.values() for path in drawn)]


def copy_saved_run(run_dir: Path, paths: dict[str, Path], calibrator, log: StageLog) -> None:
    """The earlier run's checkpoint with this evaluation's calibrator, and its saved
    predictions when writing elsewhere, so the new folder can be evaluated again too."""
    source = run_dir / OUTPUT_FILES["checkpoint"]
    if source.exists():
        recalibrated_checkpoint(source, paths["checkpoint"], calibrator)
    else:
        log.say(f"{source} not found: no checkpoint written")
        del paths["checkpoint"]
    saved_predictions = run_dir / PREDICTIONS_FILE
    if saved_predictions.resolve() != paths["saved_predictions"].resolve():
        artifacts.write_atomically(
            paths["saved_predictions"], lambda tmp: shutil.copyfile(saved_predictions, tmp)
        )


def run_record(record: dict, study: StudyConfig, evaluation: EvaluationSettings) -> dict:
    """``run``: every setting once (training's as trained, the files as read now, evaluation's
    as evaluated), the fingerprints, the device, the times and the versions."""
    settings = record["settings"]
    study_settings = {**settings["study"], **{name: getattr(study, name) for name in FILE_SETTINGS}}
    return {
        "config": {
            **settings["training"],
            **settings["experiment"],
            **as_record(evaluation),
            **study_settings,
        },
        "created_utc": utc_now(),
        "trained_utc": record["trained_utc"],
        "device": record["device"],
        "data_sha256": record["data_sha256"],
        "vitals_sha256": record.get("vitals_sha256"),
        "versions": artifacts.package_versions(),
    }


def write_checkpoint(
    path: Path, experiment: Experiment, results: dict, data: MultimodalData, calibrator
) -> None:
    """The main seed's fused model, with its threshold and calibrator, as a checkpoint."""
    main_model = experiment.models[MAIN_MODEL]
    save_checkpoint(
        path,
        main_model.model_config,
        main_model.training,
        experiment.standardizer,
        results["metrics"][MAIN_MODEL]["at_validation_threshold"]["threshold"],
        experiment.config.training,
        extra={
            "seed": main_model.seed,
            "data_sha256": results["run"]["data_sha256"],
            "feature_names": data.feature_names,
        },
        calibrator=calibrator,
    )


def draw_figures(results, experiment, data, recalibrations, out_dir) -> dict[str, list[Path]]:
    """Every figure, from the main seed's predictions and training histories."""
    trained = {
        name: model.training
        for name, model in experiment.models.items()
        if model.training is not None
    }
    return plots.write_figures(
        results,
        data.splits["test"].y,
        {name: model.test_prob for name, model in experiment.models.items()},
        {name: [asdict(epoch) for epoch in training.history] for name, training in trained.items()},
        {name: training.best_epoch for name, training in trained.items()},
        out_dir,
        {
            name: recalibration.test_prob
            for name, recalibration in recalibrations.items()
            if not isinstance(recalibration, str)
        },
    )
