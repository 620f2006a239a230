"""One run of the study, end to end: load the data, train every variant, evaluate, write every output.

``train_multimodal_lstm.py`` parses the settings and calls :func:`run_study`, then
:func:`print_summary`. The order is the data flow: data file -> experiment (every model variant
and control) -> results (metrics, intervals, tests, recalibration, decision curve) -> optional
repeated splits -> checkpoint, predictions, figures, tables, ``multimodal_results.json`` and
the report.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch

from ..base import artifacts
from ..base.cli import StageLog
from ..base.settings import as_record, check_settings, setting
from ..contract.multimodal_data import MultimodalData, load_multimodal_data
from ..learning.checkpoint import save_checkpoint
from ..learning.experiment import MAIN_MODEL, ExperimentConfig, run_experiment
from . import report
from .resplits import run_resplits
from .results import EvaluationSettings, build_results, predictions_table, recalibrate_models
from .tables import write_results_tables

OUTPUT_FILES = {
    "checkpoint": "best_multimodal_model.pt",
    "results": "multimodal_results.json",
    "predictions": "test_predictions.csv",
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
    """Train, evaluate and write every output of one run; see the module docstring.

    ``experiment_config.ablations`` is decided here from ``study`` and the training-split size.
    """
    started = time.perf_counter()
    quiet = not log.enabled
    with log.stage("Data: loading and checking"):
        data = load_multimodal_data(study.data_file, study.vitals_file)
        data.require_both_classes()
        controls = study.runs_controls(len(data.splits["train"]), len(experiment_config.seeds))
        config = dataclasses.replace(experiment_config, ablations=controls)
        log.say(
            f"{study.data_file}: "
            + ", ".join(f"{name} {len(split)}" for name, split in data.splits.items())
            + f"; device {device}"
        )
        if data.meta.get("demo"):
            log.say("SYNTHETIC DEMO DATA - the numbers below are not clinical evidence.")

    with log.stage(
        f"Training {len(config.trainings())} models ({len(config.variants)} variants, "
        f"{len(config.seeds)} seed(s))"
    ):
        experiment = run_experiment(
            data, config, device, log=None if quiet else print, progress=not quiet
        )

    with log.stage("Evaluating on the test split"):
        recalibrations = recalibrate_models(experiment, data, evaluation.recalibration)
        results = build_results(experiment, data, evaluation, recalibrations)
        results["run"] = {
            "config": {
                **as_record(config.training),
                **as_record(config),
                **as_record(evaluation),
                **as_record(study),
            },
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": config.main_seed,
            "device": str(device),
            "data_file": str(study.data_file),
            "data_sha256": artifacts.sha256_of_file(study.data_file),
            "vitals_file": study.vitals_file,
            "versions": artifacts.package_versions(),
            "seconds": round(time.perf_counter() - started, 1),
        }
        results["meta"] = data.meta

    if study.resplits is not None:
        with log.stage(f"Repeated splits: {study.resplits} redraws x 2 models"):
            results["resplits"] = run_resplits(
                data,
                config,
                study.resplits,
                device,
                seed=config.main_seed,
                log=None if quiet else print,
                progress=not quiet,
            )

    with log.stage("Writing outputs"):
        paths = {key: out_dir / name for key, name in OUTPUT_FILES.items()}
        main_model = experiment.models[MAIN_MODEL]
        threshold = results["metrics"][MAIN_MODEL]["at_validation_threshold"]["threshold"]
        save_checkpoint(
            paths["checkpoint"],
            main_model.model_config,
            main_model.training,
            experiment.standardizer,
            threshold,
            config.training,
            extra={
                "data_sha256": results["run"]["data_sha256"],
                "feature_names": data.feature_names,
            },
            calibrator=(
                None
                if isinstance(recalibrations[MAIN_MODEL], str)
                else recalibrations[MAIN_MODEL].calibrator
            ),
        )
        predictions = predictions_table(experiment, data)
        artifacts.write_atomically(
            paths["predictions"], lambda tmp: predictions.to_csv(tmp, index=False)
        )
        trained = {
            name: model.training
            for name, model in experiment.models.items()
            if model.training is not None
        }
        figures = report.write_figures(
            results,
            data.splits["test"].y,
            {name: model.test_prob for name, model in experiment.models.items()},
            {
                name: [asdict(record) for record in training.history]
                for name, training in trained.items()
            },
            {name: training.best_epoch for name, training in trained.items()},
            out_dir,
            {
                name: recalibration.test_prob
                for name, recalibration in recalibrations.items()
                if not isinstance(recalibration, str)
            },
        )
        tables = write_results_tables(results, out_dir)
        results["files"] = {key: str(path) for key, path in paths.items()} | {
            "tables": [str(path) for path in tables],
            "figures": {
                key: [str(p) for p in figure_paths] for key, figure_paths in figures.items()
            },
        }
        artifacts.save_json(paths["results"], results)
        report.write_report(paths["report"], results, figures)

    written = [
        *paths.values(),
        *tables,
        *(path for figure_paths in figures.values() for path in figure_paths),
    ]
    return StudyOutcome(results, data, written)


def print_summary(results: dict) -> None:
    """The closing summary: every model's test AUROC with its CI, the comparison, the verdict,
    the controls and the pairing; warnings that must not be missed go to stderr."""
    ci = results["confidence_intervals"]
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    meta = results["meta"]
    banner = "SYNTHETIC DEMO DATA - not clinical evidence.\n" if meta.get("demo") else ""
    pairing = results["pairing"]
    seeds = results["seeds"]
    print(
        f"\n== Summary\n{banner}Test samples: {results['test_samples']}; per-model lines are "
        f"the main seed's ({seeds['main_seed']})"
    )
    for name, metrics in results["metrics"].items():
        low, high = ci[name]["auroc"]
        spread = ""
        if seeds["sd_test_auroc"][name] is not None:
            spread = (
                f"; over seeds {seeds['mean_test_auroc'][name]:.4f} +/- "
                f"{seeds['sd_test_auroc'][name]:.4f}"
            )
        print(
            f"  {name:<28} test AUROC {metrics['auroc']:.4f} (95% CI {low:.4f}-{high:.4f}){spread}"
        )
    added = results["added_value"]
    over = (
        f"{added['seeds']} seeds and test rows"
        if added["includes_training_randomness"]
        else "test rows of one seed only"
    )
    for label, entry in (
        ("notes' gain (vs notes_shuffled)", added),
        ("multimodal - vital_only", added["over_vital_only"]),
    ):
        low, high = entry["gain_auroc_ci"]
        print(
            f"  {label:<32} {entry['gain_auroc']:+.4f} (95% CI {low:+.4f} to {high:+.4f}, over "
            f"{over}; multimodal better in {entry['probability_of_outperforming']:.0%})"
        )
    print(f"  verdict (--min-gain {added['min_gain_auroc']:g}): {added['statement']}")
    print(
        textwrap.fill(
            added["attribution_statement"], width=100, initial_indent="  ", subsequent_indent="  "
        )
    )
    low, high = ci["multimodal_minus_vital_only"]["auroc"]
    print(
        f"  main seed only (fitted models held fixed): multimodal - vital_only "
        f"{delong['auc_difference']:+.4f} (95% CI {low:+.4f} to {high:+.4f}), "
        f"DeLong p = {delong['p_value']:.3g}"
    )
    print(
        f"  reported baseline {results['reported_baseline_auroc']:.4f} (quoted, not "
        f"re-measured): {results['improvement_vs_reported_percent']:+.2f}%"
    )
    if "resplits" in results:
        spread = results["resplits"]
        print(
            f"  over {spread['k']} redrawn splits: multimodal - vital_only "
            f"{spread['mean']['difference']:+.4f} +/- {spread['sd']['difference']:.4f} (SD), "
            f"range {spread['difference_range'][0]:+.4f} to {spread['difference_range'][1]:+.4f}"
        )
    controls = results["controls"]
    config = results["run"]["config"]
    setting_name = config["ablations_setting"]
    if not controls["ran"]:
        why = (
            "--ablations off"
            if setting_name == "off"
            else "--ablations auto skips them above "
            f"{config['ablations_auto_limit']:,} training samples x seeds"
        )
        print(f"  negative controls: not run ({why}; --ablations on runs them)")
    else:
        print(f"  negative controls: run (--ablations {setting_name}); see multimodal_report.md")
    if controls["ran"] and controls["label_leak_suspected"]:
        kept = controls["notes_shuffled_within_class"]["retained_fraction"]
        print(
            f"  WARNING: notes shuffled within each class keep {kept:.0%} of the notes' gain: the "
            "notes may be standing in for the label (pairing or labelling leak); see "
            "multimodal_report.md",
            file=sys.stderr,
        )
    if pairing["method"] is not None and not pairing["clinically_linked"]:
        print(
            f"  notes were paired {pairing['method']}ly, not by patient: a difference cannot "
            "be attributed to clinical information"
        )
    if pairing["description"]:
        print(
            textwrap.fill(
                pairing["description"],
                width=100,
                initial_indent="  ",
                subsequent_indent="  ",
            )
        )
    for warning in pairing["warnings"]:
        print(f"  pairing warning: {warning}")
