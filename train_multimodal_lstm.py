#!/usr/bin/env python3
"""Train the reference MultiModalLSTM and, in the same run, a vital-only baseline; compare them.

Reads ``multimodal_data.npz`` from download_and_prepare_clinical_notes.py. Edit the constants
below or override them on the command line (``--help`` lists every flag).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from dataclasses import asdict
from datetime import datetime, timezone

# ---- Defaults: the reference setup. Edit here, or override with the flag named beside each. ----
DATA_FILE = "multimodal_data.npz"  # --data
VITALS_FILE = None  # --vitals: labels for a reference-layout data file without y_*
OUT_DIR = "."  # --out-dir
EPOCHS = 30  # --epochs
PATIENCE = 7  # --patience: epochs without a better validation AUROC before stopping
BATCH_SIZE = 32  # --batch-size
LEARNING_RATE = 1e-3  # --learning-rate
GRAD_CLIP = 1.0  # --grad-clip
DROPOUT = 0.3  # --dropout
SEEDS = (42,)  # --seeds: one run per seed; the first is the declared main seed
DEVICE = "auto"  # --device: auto | cpu | cuda
CUDA_GRAPH = True  # --no-cuda-graph: on CUDA, train with eager steps instead of one captured graph
BASELINE_AUROC = 0.9941  # --baseline-auroc: quoted from earlier work, not re-measured
STANDARDIZE = True  # --no-standardize
BOOTSTRAP = 2000  # --bootstrap: resamples for the confidence intervals
MIN_GAIN = 0.01  # --min-gain: the smallest AUROC gain from the notes that would matter
RECALIBRATION = "platt"  # --recalibration: platt | isotonic, fitted on the validation split
RESPLITS = None  # --resplits K: also retrain both models on K redrawn splits (off by default)
ABLATIONS = "auto"  # --ablations: auto | on | off
# --ablations-auto-limit: "auto" runs the controls while training samples x seeds stays at or
# under this, where they cost minutes on a laptop rather than hours.
ABLATIONS_AUTO_LIMIT = 20_000

OUTPUT_FILES = {
    "checkpoint": "best_multimodal_model.pt",
    "results": "multimodal_results.json",
    "predictions": "test_predictions.csv",
    "report": "multimodal_report.md",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", default=DATA_FILE, help="multimodal data file (default: %(default)s)"
    )
    parser.add_argument(
        "--vitals",
        default=VITALS_FILE,
        metavar="FILE",
        help="processed_data.npz holding y_* for a data file in the reference layout (X_vital_*/X_text_* without labels)",
    )
    parser.add_argument(
        "--out-dir",
        default=OUT_DIR,
        help="where every output is written (default: current directory)",
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="maximum epochs per model (default: %(default)s)"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=PATIENCE,
        help="stop after this many epochs without a better validation AUROC (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="training batch size (default: %(default)s)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=LEARNING_RATE,
        help="Adam learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--grad-clip",
        type=float,
        default=GRAD_CLIP,
        help="gradient norm clipping (default: %(default)s)",
    )
    parser.add_argument(
        "--dropout",
        type=float,
        default=DROPOUT,
        help="dropout after each hidden layer and between LSTM layers (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"a single seed (default: {SEEDS[0]}); same as --seeds SEED",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="train every model once per seed, e.g. --seeds 0 1 2 3 4; the first is the main seed",
    )
    parser.add_argument(
        "--device",
        default=DEVICE,
        choices=("auto", "cpu", "cuda"),
        help="auto uses CUDA when available (default: %(default)s)",
    )
    parser.add_argument(
        "--no-cuda-graph",
        dest="cuda_graph",
        action="store_false",
        default=CUDA_GRAPH,
        help="on CUDA, run every training step eagerly (with fused Adam) instead of replaying "
        "one captured CUDA graph per batch; no effect on CPU",
    )
    parser.add_argument(
        "--baseline-auroc",
        type=float,
        default=BASELINE_AUROC,
        help="a vital-only AUROC quoted from earlier work, reported beside (not instead of) the in-run baseline (default: %(default)s)",
    )
    parser.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        help="feed raw vitals (default: standardise with training-split statistics)",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=BOOTSTRAP,
        help="bootstrap resamples for 95%% confidence intervals (default: %(default)s)",
    )
    parser.add_argument(
        "--min-gain",
        type=float,
        default=MIN_GAIN,
        help="the smallest AUROC gain (multimodal minus vital-only) that would matter; the "
        "verdict says whether the difference's 95%% CI excludes it (default: %(default)s)",
    )
    parser.add_argument(
        "--recalibration",
        default=RECALIBRATION,
        choices=("platt", "isotonic"),
        help="how probabilities are recalibrated on the validation split for the calibrated "
        "metrics, the decision curve and the checkpoint's calibrated predictions "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--resplits",
        type=int,
        default=RESPLITS,
        metavar="K",
        help="also pool train+val+test, redraw K stratified splits grouped by id with the "
        "original proportions, retrain the multimodal and vital-only models on each and report "
        "the spread, apart from the fixed-split result (default: off; K >= 2)",
    )
    parser.add_argument(
        "--ablations",
        default=ABLATIONS,
        choices=("auto", "on", "off"),
        help="negative controls and ablations; auto = on when training samples x seeds "
        "<= --ablations-auto-limit (default: %(default)s)",
    )
    parser.add_argument(
        "--ablations-auto-limit",
        type=int,
        default=ABLATIONS_AUTO_LIMIT,
        help="the training samples x seeds up to which --ablations auto runs the controls "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars or per-epoch lines; errors and the summary only",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    args = parser.parse_args(argv)
    if args.seed is not None and args.seeds is not None:
        parser.error("give --seed or --seeds, not both")
    args.seeds = tuple(args.seeds or ([args.seed] if args.seed is not None else SEEDS))
    if len(set(args.seeds)) != len(args.seeds):
        parser.error("--seeds must not repeat a seed")
    for flag, value in (
        ("--epochs", args.epochs),
        ("--patience", args.patience),
        ("--batch-size", args.batch_size),
        ("--bootstrap", args.bootstrap),
    ):
        if value < 1:
            parser.error(f"{flag} must be at least 1")
    if not 0 <= args.dropout < 1:
        parser.error("--dropout must be in [0, 1)")
    if args.resplits is not None and args.resplits < 2:
        parser.error("--resplits needs at least 2 redraws (one says nothing about the spread)")
    if not 0 <= args.min_gain < 1:
        parser.error("--min-gain must be an AUROC difference in [0, 1), e.g. 0.01")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from multimodal_deterioration import artifacts, report
    from multimodal_deterioration.checkpoint import save_checkpoint
    from multimodal_deterioration.cli import StageLog
    from multimodal_deterioration.devices import resolve_device
    from multimodal_deterioration.experiment import MAIN_MODEL, ExperimentConfig, run_experiment
    from multimodal_deterioration.multimodal_data import load_multimodal_data
    from multimodal_deterioration.resplits import run_resplits
    from multimodal_deterioration.tables import write_results_tables
    from multimodal_deterioration.results import (
        EvaluationSettings,
        build_results,
        predictions_table,
        recalibrate_models,
    )
    from multimodal_deterioration.training import TrainingConfig

    started = time.perf_counter()
    log = StageLog(enabled=not args.quiet)
    out_dir = artifacts.ensure_output_dir(args.out_dir)
    device = resolve_device(args.device)

    with log.stage("Data: loading and checking"):
        data = load_multimodal_data(args.data, args.vitals)
        data.require_both_classes()
        n_train = len(data.splits["train"])
        ablations = args.ablations == "on" or (
            args.ablations == "auto" and n_train * len(args.seeds) <= args.ablations_auto_limit
        )
        log.say(
            f"{args.data}: "
            + ", ".join(f"{name} {len(split)}" for name, split in data.splits.items())
            + f"; device {device}"
        )
        if data.meta.get("demo"):
            log.say("SYNTHETIC DEMO DATA - the numbers below are not clinical evidence.")

    training = TrainingConfig(
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        grad_clip=args.grad_clip,
        seed=args.seeds[0],
        cuda_graph=args.cuda_graph,
    )
    config = ExperimentConfig(training, args.dropout, args.standardize, args.seeds, ablations)
    with log.stage(f"Training {len(config.variants)} model variants x {len(args.seeds)} seed(s)"):
        experiment = run_experiment(
            data, config, device, log=None if args.quiet else print, progress=not args.quiet
        )

    with log.stage("Evaluating on the test split"):
        settings = EvaluationSettings(
            args.baseline_auroc,
            args.bootstrap,
            progress=not args.quiet,
            min_gain=args.min_gain,
            recalibration=args.recalibration,
        )
        recalibrations = recalibrate_models(experiment, data, settings.recalibration)
        results = build_results(experiment, data, settings, recalibrations)
        results["run"] = {
            "config": {
                **config.training.to_dict(),
                "dropout": args.dropout,
                "standardize": args.standardize,
                "seeds": list(args.seeds),
                "ablations": ablations,
                "ablations_setting": args.ablations,
                "ablations_auto_limit": args.ablations_auto_limit,
                "min_gain": args.min_gain,
                "recalibration": args.recalibration,
                "resplits": args.resplits,
            },
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seed": config.main_seed,
            "device": str(device),
            "data_file": str(args.data),
            "data_sha256": artifacts.sha256_of_file(args.data),
            "vitals_file": args.vitals,
            "versions": artifacts.package_versions(),
            "seconds": round(time.perf_counter() - started, 1),
        }
        results["meta"] = data.meta

    if args.resplits is not None:
        with log.stage(f"Repeated splits: {args.resplits} redraws x 2 models"):
            results["resplits"] = run_resplits(
                data,
                config,
                args.resplits,
                device,
                seed=config.main_seed,
                log=None if args.quiet else print,
                progress=not args.quiet,
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
            calibrator=getattr(recalibrations[MAIN_MODEL], "calibrator", None),
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

    print_summary(results, data, figures, [*paths.values(), *tables], log, time.perf_counter() - started)
    return 0


def print_summary(results, data, figures, paths, log, seconds) -> None:
    ci = results["confidence_intervals"]
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    banner = "SYNTHETIC DEMO DATA - not clinical evidence.\n" if data.meta.get("demo") else ""
    pairing = data.meta.get("pairing", {})
    seeds = results["seeds"]
    print(
        f"\n== Summary\n{banner}Test samples: {results['test_samples']} (seed {seeds['main_seed']})"
    )
    for name, metrics in results["metrics"].items():
        low, high = ci[name]["auroc"]
        spread = ""
        if len(seeds["seeds"]) > 1:
            spread = f"; over seeds {seeds['mean_test_auroc'][name]:.4f} +/- {seeds['sd_test_auroc'][name]:.4f}"
        print(
            f"  {name:<28} test AUROC {metrics['auroc']:.4f} (95% CI {low:.4f}-{high:.4f}){spread}"
        )
    low, high = ci["multimodal_minus_vital_only"]["auroc"]
    print(
        f"  multimodal - vital_only     {delong['auc_difference']:+.4f} (95% CI {low:+.4f} to {high:+.4f}), DeLong p = {delong['p_value']:.3g}"
    )
    added = results["added_value"]
    print(f"  against --min-gain {added['min_gain_auroc']:g}: {added['statement']}")
    print(
        f"  reported baseline {results['reported_baseline_auroc']:.4f} (quoted, not re-measured): {results['improvement_vs_reported_percent']:+.2f}%"
    )
    if "resplits" in results:
        spread = results["resplits"]
        print(
            f"  over {spread['k']} redrawn splits: multimodal - vital_only "
            f"{spread['mean']['difference']:+.4f} +/- {spread['sd']['difference']:.4f} (SD), "
            f"range {spread['difference_range'][0]:+.4f} to {spread['difference_range'][1]:+.4f}"
        )
    controls = results["controls"]
    setting = results["run"]["config"]["ablations_setting"]
    if not controls["ran"]:
        why = (
            "--ablations off"
            if setting == "off"
            else "--ablations auto skips them above "
            f"{results['run']['config']['ablations_auto_limit']:,} training samples x seeds"
        )
        print(f"  negative controls: not run ({why}; --ablations on runs them)")
    else:
        print(f"  negative controls: run (--ablations {setting}); see multimodal_report.md")
    if controls["ran"] and controls["label_leak_suspected"]:
        print(
            "  WARNING: notes shuffled within each class keep "
            f"{controls['notes_shuffled_within_class']['retained_fraction']:.0%} of the text gain: the notes may be "
            "standing in for the label (pairing or labelling leak); see multimodal_report.md",
            file=sys.stderr,
        )
    if pairing and not pairing.get("clinically_linked", False):
        print(
            f"  notes were paired {pairing.get('method')}ly, not by patient: a difference cannot be attributed to clinical information"
        )
    if results["pairing"]["description"]:
        print(textwrap.fill(results["pairing"]["description"], width=100, initial_indent="  ", subsequent_indent="  "))
    for warning in results["pairing"]["warnings"]:
        print(f"  pairing warning: {warning}")
    print("Time per stage:")
    print("\n".join(log.timing_lines()))
    print(f"  {'total':<34} {seconds:7.1f} s")
    print("Wrote:")
    for path in [*paths, *(p for figure_paths in figures.values() for p in figure_paths)]:
        print(f"  {path}")


if __name__ == "__main__":
    from multimodal_deterioration.cli import run_cli

    sys.exit(
        run_cli(
            main, None, "outputs of the last complete run are untouched; run the same command again"
        )
    )
