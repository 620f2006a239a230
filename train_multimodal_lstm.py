#!/usr/bin/env python3
"""Train the reference MultiModalLSTM and, in the same run, a vital-only baseline; compare them.

Reads ``multimodal_data.npz`` from download_and_prepare_clinical_notes.py. Edit the constants
below or override them on the command line (``--help`` lists every flag with its default).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields

from multimodal_deterioration.base.settings import default_of
from multimodal_deterioration.evidence.results import EvaluationSettings
from multimodal_deterioration.evidence.study import FILE_SETTINGS, StudyConfig
from multimodal_deterioration.learning.experiment import ExperimentConfig
from multimodal_deterioration.learning.training import TrainingConfig

# ---- Defaults: the reference setup, declared once in the config dataclasses (--help prints ----
# ---- the values). Assign a value here to change a default, e.g. EPOCHS = 5 for a quick test. --
DATA_FILE = default_of(StudyConfig, "data_file")  # --data
VITALS_FILE = default_of(StudyConfig, "vitals_file")  # --vitals: labels for a reference layout
OUT_DIR = "."  # --out-dir
EPOCHS = default_of(TrainingConfig, "epochs")  # --epochs
PATIENCE = default_of(TrainingConfig, "patience")  # --patience: early stopping
BATCH_SIZE = default_of(TrainingConfig, "batch_size")  # --batch-size
LEARNING_RATE = default_of(TrainingConfig, "learning_rate")  # --learning-rate
GRAD_CLIP = default_of(TrainingConfig, "grad_clip")  # --grad-clip
DROPOUT = default_of(ExperimentConfig, "dropout")  # --dropout
SEEDS = default_of(ExperimentConfig, "seeds")  # --seeds: the first is the declared main seed
TRAIN_WORKERS = default_of(ExperimentConfig, "train_workers")  # --train-workers: CPU processes
DEVICE = "auto"  # --device: auto | cpu | cuda
CUDA_GRAPH = default_of(TrainingConfig, "cuda_graph")  # --no-cuda-graph
BASELINE_AUROC = default_of(EvaluationSettings, "reported_baseline_auroc")  # --baseline-auroc
STANDARDIZE = default_of(ExperimentConfig, "standardize")  # --no-standardize
NOTE_INDICATOR = default_of(ExperimentConfig, "note_indicator")  # --note-indicator
BOOTSTRAP = default_of(EvaluationSettings, "bootstrap_resamples")  # --bootstrap
MIN_GAIN = default_of(EvaluationSettings, "min_gain")  # --min-gain: smallest gain that matters
RECALIBRATION = default_of(EvaluationSettings, "recalibration")  # --recalibration
RESPLITS = default_of(StudyConfig, "resplits")  # --resplits K: off unless set
ABLATIONS = default_of(StudyConfig, "ablations_setting")  # --ablations: auto | on | off
ABLATIONS_AUTO_LIMIT = default_of(StudyConfig, "ablations_auto_limit")  # --ablations-auto-limit


def build_parser() -> argparse.ArgumentParser:
    from multimodal_deterioration.base.cli import add_common_flags, add_setting_flags

    parser = argparse.ArgumentParser(description=__doc__)
    add_setting_flags(
        parser,
        StudyConfig,
        {"data_file": DATA_FILE, "vitals_file": VITALS_FILE},
        ["data_file", "vitals_file"],
    )
    add_common_flags(parser, OUT_DIR, DEVICE)
    training_flags = {
        "epochs": EPOCHS,
        "patience": PATIENCE,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "grad_clip": GRAD_CLIP,
        "cuda_graph": CUDA_GRAPH,
    }
    add_setting_flags(parser, TrainingConfig, training_flags, list(training_flags))
    experiment_flags = {
        "dropout": DROPOUT,
        "standardize": STANDARDIZE,
        "train_workers": TRAIN_WORKERS,
        "note_indicator": NOTE_INDICATOR,
    }
    add_setting_flags(parser, ExperimentConfig, experiment_flags, list(experiment_flags))
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"a single seed, the main one (same as --seeds SEED): a fifth of the trainings, "
        f"but the verdict's intervals then ignore training randomness (default: --seeds {' '.join(map(str, SEEDS))})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="train the fused model, vital-only and the notes controls once per seed (text-only "
        "with the first, the main seed, only); the verdict's intervals resample seeds and test "
        f"rows (default: {' '.join(map(str, SEEDS))})",
    )
    evaluation_flags = {
        "reported_baseline_auroc": BASELINE_AUROC,
        "bootstrap_resamples": BOOTSTRAP,
        "min_gain": MIN_GAIN,
        "recalibration": RECALIBRATION,
    }
    add_setting_flags(parser, EvaluationSettings, evaluation_flags, list(evaluation_flags))
    study_flags = {
        "resplits": RESPLITS,
        "ablations_setting": ABLATIONS,
        "ablations_auto_limit": ABLATIONS_AUTO_LIMIT,
    }
    add_setting_flags(parser, StudyConfig, study_flags, list(study_flags))
    parser.add_argument(
        "--evaluate-only",
        metavar="DIR",
        default=None,
        help="train nothing: rebuild the results, report, tables and figures from the "
        "predictions a previous run saved in DIR (predictions.parquet) with this command's "
        "evaluation settings (--bootstrap, --min-gain, --recalibration, --baseline-auroc); "
        "writes into DIR unless --out-dir is given; the data file must be the one trained on",
    )
    return parser


def parse_args(
    argv,
) -> tuple[argparse.Namespace, StudyConfig, ExperimentConfig, EvaluationSettings]:
    from multimodal_deterioration.base.cli import build_settings

    parser = build_parser()
    args = parser.parse_args(argv)
    args.given = flags_given(argv)
    if args.evaluate_only is not None:
        refused = sorted(args.given - evaluate_only_flags())
        if refused:
            parser.error(
                f"{', '.join(refused)}: changes what is trained, and --evaluate-only trains "
                "nothing; drop it to evaluate the saved run, or train again without --evaluate-only"
            )
    if args.seed is not None and args.seeds is not None:
        parser.error("give --seed or --seeds, not both")
    seeds = tuple(args.seeds or ([args.seed] if args.seed is not None else SEEDS))
    training = build_settings(parser, TrainingConfig, args)
    experiment = build_settings(parser, ExperimentConfig, args, training=training, seeds=seeds)
    evaluation = build_settings(parser, EvaluationSettings, args, progress=not args.quiet)
    return args, build_settings(parser, StudyConfig, args), experiment, evaluation


def evaluate_only_flags() -> set[str]:
    """What --evaluate-only accepts: the evaluation settings, where the files are, how to run."""
    from multimodal_deterioration.base.cli import flag_of

    evaluation = {flag_of(EvaluationSettings, field.name) for field in fields(EvaluationSettings)}
    files = {flag_of(StudyConfig, name) for name in FILE_SETTINGS}
    running = {"--evaluate-only", "--out-dir", "--device", "--quiet", "--debug"}
    return evaluation | files | running | {flag_of(ExperimentConfig, "train_workers")}


def flags_given(argv) -> set[str]:
    """The flags written on the command line (not taken from their defaults), by their first
    long name; abbreviations count as the flag they stand for."""
    probe = build_parser()
    flags = {}
    # argparse has no public list of a parser's actions; _actions is the documented-by-use one.
    for action in probe._actions:
        if action.option_strings and action.dest != "help":
            flags[action.dest] = action.option_strings[-1]
            action.default = argparse.SUPPRESS
    given = probe.parse_args(sys.argv[1:] if argv is None else argv)
    return {flags[dest] for dest in vars(given)}


def main(argv=None) -> int:
    args, study, experiment, evaluation = parse_args(argv)
    from pathlib import Path

    from multimodal_deterioration.base import artifacts
    from multimodal_deterioration.base.cli import StageLog, flag_of, print_footer
    from multimodal_deterioration.base.devices import resolve_device
    from multimodal_deterioration.evidence.study import evaluate_saved_run, run_study
    from multimodal_deterioration.evidence.summary import print_summary

    started = time.perf_counter()
    log = StageLog(enabled=not args.quiet)
    if args.evaluate_only is None:
        out_dir = artifacts.ensure_output_dir(args.out_dir)
        device = resolve_device(args.device)
        outcome = run_study(study, experiment, evaluation, out_dir, device, log)
    else:
        run_dir = Path(args.evaluate_only)
        out_dir = artifacts.ensure_output_dir(
            args.out_dir if "--out-dir" in args.given else run_dir
        )
        files = {
            name: getattr(study, name)
            for name in FILE_SETTINGS
            if flag_of(StudyConfig, name) in args.given
        }
        outcome = evaluate_saved_run(run_dir, files, evaluation, out_dir, log)
    print_summary(outcome.results)
    print_footer(log, time.perf_counter() - started, outcome.written)
    return 0


if __name__ == "__main__":
    from multimodal_deterioration.base.cli import run_cli

    sys.exit(
        run_cli(
            main, None, "outputs of the last complete run are untouched; run the same command again"
        )
    )
